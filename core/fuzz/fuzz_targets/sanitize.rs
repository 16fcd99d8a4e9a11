//! The paste sanitizer and field check, on anything a clipboard can hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::sanitize::{Format, check, clean};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let cleaned = clean(&text);
    // Cleaning never adds characters and never leaves whitespace behind.
    assert!(cleaned.value.len() <= text.len());
    assert!(!cleaned.value.chars().any(char::is_whitespace));
    // Idempotent: a cleaned value is already clean.
    assert_eq!(clean(&cleaned.value).value, cleaned.value);
    let format = Format::new("^[A-Za-z0-9]{32}$", "32 letters and digits").ok();
    let (_, field) = check("Client Secret", &text, format.as_ref());
    assert!(field.problem.is_none_or(|p| p.len() < 400));
});
