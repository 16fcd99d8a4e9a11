//! "Paste the address your browser ended on": whatever the clipboard held.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::callback::{Expectation, parse_pasted_address};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let exp = Expectation::listener("/callback", 8765, "st", &["realmId".into()]);
    if let Err(e) = parse_pasted_address("QuickBooks Online", &text, &exp) {
        // Messages are for people: bounded, and never the pasted text itself.
        assert!(e.message().len() < 400);
    }
});
