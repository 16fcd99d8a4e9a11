//! The JWT `exp`/`iat` reader (Aspire's tokens carry their lifetime only there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay_core::exchange::{jwt_expires_at, jwt_expiry};

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = jwt_expiry(token);
        // Extreme claims and clocks must not overflow.
        for now in [0, 1_800_000_000, i64::MAX, i64::MIN] {
            let _ = jwt_expires_at(token, now);
        }
    }
});
