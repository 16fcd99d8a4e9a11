//! The catalog file parser and validator (an admin's own catalog file is outside input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::Catalog;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Catalog::parse(text, "fuzz.toml");
    }
});
