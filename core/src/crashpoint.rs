//! Named points inside multi-step writes where the crash-safety tests stop the process dead.
//!
//! With `PATCHBAY_PAUSE_AT=<point>` in its environment, a process that reaches that point says
//! `patchbay: paused at <point>` on stderr and waits forever, so a test can `SIGKILL` it exactly
//! there (before a refresh request, after the vendor's answer, between the two keychain writes).
//! Without the variable nothing happens. Nothing is written or skipped because of it. Release
//! builds ignore the variable (the install tests check the shipped binary does).

#[cfg(debug_assertions)]
use std::sync::OnceLock;
#[cfg(debug_assertions)]
use std::time::Duration;

/// Before the refresh request is sent (the refresh is marked as started).
pub const REFRESH_BEFORE_REQUEST: &str = "refresh-before-request";
/// The vendor has answered with new tokens; nothing is stored yet.
pub const REFRESH_AFTER_RESPONSE: &str = "refresh-after-response";
/// The keychain holds the new credentials entry but not yet the new access-token entry.
pub const KEYCHAIN_BETWEEN_WRITES: &str = "keychain-between-writes";
/// The new grant is stored; the settings file does not know yet.
pub const REFRESH_AFTER_WRITE: &str = "refresh-after-write";

pub const ALL: [&str; 4] = [
    REFRESH_BEFORE_REQUEST,
    REFRESH_AFTER_RESPONSE,
    KEYCHAIN_BETWEEN_WRITES,
    REFRESH_AFTER_WRITE,
];

/// Pause here forever if the environment asks for this point. Only in debug builds (the ones the
/// tests run): a release build has no such switch, whatever its environment says.
#[cfg(not(debug_assertions))]
pub fn reached(_point: &str) {}

/// Pause here forever if the environment asks for this point (debug builds only).
#[cfg(debug_assertions)]
pub fn reached(point: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("PATCHBAY_PAUSE_AT").ok());
    if at.as_deref() == Some(point) {
        eprintln!("patchbay: paused at {point}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}
