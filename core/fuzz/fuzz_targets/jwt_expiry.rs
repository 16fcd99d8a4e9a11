//! The JWT `exp` reader (Aspire's tokens carry their lifetime only there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::exchange::jwt_expiry;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = jwt_expiry(token);
    }
});
