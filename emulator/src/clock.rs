//! The vendors' clock: now (possibly skewed, `POST /_emulator/clock`) and the timestamp formats
//! their answers use.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::macros::format_description;

/// How far the vendors' clock is off from this computer's, in seconds (`POST /_emulator/clock`).
/// Process-wide: every emulator in this process shares one clock, like one vendor's servers.
static CLOCK_SKEW_SECS: AtomicI64 = AtomicI64::new(0);

pub(crate) fn set_clock_skew(secs: i64) {
    CLOCK_SKEW_SECS.store(secs, Ordering::SeqCst);
}

pub(crate) fn clock_skew() -> i64 {
    CLOCK_SKEW_SECS.load(Ordering::SeqCst)
}

/// Seconds since the Unix epoch, by the vendors' (possibly skewed) clock.
pub(crate) fn now() -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    real.saturating_add_signed(clock_skew())
}

pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn datetime(secs: i64, offset_hours: i8) -> OffsetDateTime {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(off)
}

/// `2025-01-06T07:00:00-07:00` (QuickBooks Time and QuickBooks Online entity timestamps).
pub(crate) fn iso_offset(secs: i64, offset_hours: i8) -> String {
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    datetime(secs, offset_hours).format(&f).unwrap_or_default()
}

/// `2025-01-06T07:00:00Z` (Aspire date-times).
pub(crate) fn iso_z(secs: i64) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    datetime(secs, 0).format(&f).unwrap_or_default()
}

/// `2025-01-06` in the given offset.
pub(crate) fn date(secs: i64, offset_hours: i8) -> String {
    let f = format_description!("[year]-[month]-[day]");
    datetime(secs, offset_hours).format(&f).unwrap_or_default()
}

/// QuickBooks Online's `"time"` member: `2015-07-10T09:38:58.155-07:00`.
/// Assumption: the emulator always reports Pacific daylight time (-07:00), as Intuit's samples do.
pub(crate) fn qbo_time() -> String {
    let millis = now_millis();
    let secs = (millis / 1000) as i64;
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory]:[offset_minute]"
    );
    let dt = datetime(secs, -7)
        .replace_millisecond((millis % 1000) as u16)
        .unwrap_or_else(|_| datetime(secs, -7));
    dt.format(&f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(iso_offset(1_736_172_000, -7), "2025-01-06T07:00:00-07:00");
        assert_eq!(iso_z(1_736_172_000), "2025-01-06T14:00:00Z");
        assert_eq!(date(1_736_172_000, -7), "2025-01-06");
        assert!(qbo_time().ends_with("-07:00"));
    }
}
