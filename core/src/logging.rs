//! Logs, for the app and the command line alike: readable lines on stderr, and structured JSON
//! lines in the platform's log folder ([`Paths::log_dir`]), one file per program, rotated by
//! size so the folder never grows past [`MAX_FILE_BYTES`] x ([`KEEP_OLD_FILES`] + 1) per program.
//!
//! Secrets are redacted by type, not by pattern: every secret travels as a `SecretString` or a
//! type holding one, whose `Debug` prints `[REDACTED]`, and no secret is ever a log field. The
//! leak tests run every command at `trace` and scan these files for sentinel secrets.
//!
//! `PATCHBAY_LOG` (an `EnvFilter`, e.g. `debug` or `patchbay_core=trace`) sets both outputs; by
//! default the file gets `info` and stderr the program's own default.

use crate::settings::Paths;
use file_rotate::{ContentLimit, FileRotate, compression::Compression, suffix::AppendCount};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// A log file is rotated once it passes this size.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
/// Rotated files kept per program (`name.log.1` is the newest); older ones are deleted.
pub const KEEP_OLD_FILES: usize = 4;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_env("PATCHBAY_LOG").unwrap_or_else(|_| EnvFilter::new(default))
}

/// A size-rotated log file `<dir>/<program>.log`.
pub fn rotating_file(
    dir: &std::path::Path,
    program: &str,
    max_bytes: usize,
    keep: usize,
) -> FileRotate<AppendCount> {
    FileRotate::new(
        file_of(dir, program),
        AppendCount::new(keep),
        ContentLimit::BytesSurpassed(max_bytes),
        Compression::None,
        own_file_options(),
    )
}

/// How a log file is opened: readable by this user only. On Unix that is the file's mode; on
/// Windows a file in the user's own profile (where the log folder is) is private to them by the
/// folder's permissions.
#[cfg(unix)]
fn own_file_options() -> Option<std::fs::OpenOptions> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.read(true).create(true).append(true).mode(0o600);
    Some(o)
}

#[cfg(not(unix))]
fn own_file_options() -> Option<std::fs::OpenOptions> {
    None
}

/// The desktop app's log file name (`patchbay-app.log`).
pub const APP: &str = "patchbay-app";
/// The command line's log file name (`patchbay.log`).
pub const CLI: &str = "patchbay";

/// The log file of `program` ([`APP`], [`CLI`]) in `dir`.
pub fn file_of(dir: &Path, program: &str) -> PathBuf {
    dir.join(format!("{program}.log"))
}

/// Install the logger for `program` ([`APP`], [`CLI`]). `stderr_default` is the stderr level
/// when `PATCHBAY_LOG` is not set. When the log folder cannot be made the program still runs,
/// logging to stderr only.
pub fn init(program: &str, stderr_default: &str) {
    let dir = Paths::from_env()
        .ok()
        .map(|p| p.log_dir)
        .filter(|d| crate::settings::private_dir(d).is_ok());
    let file = dir.as_ref().map(|d| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_ansi(false)
            .with_writer(Mutex::new(rotating_file(
                d,
                program,
                MAX_FILE_BYTES,
                KEEP_OLD_FILES,
            )))
            .with_filter(filter("info"))
    });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_filter(filter(stderr_default));
    // A second call (tests run several programs in one process) keeps the first logger.
    if tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init()
        .is_ok()
    {
        log_panics();
    }
}

/// Colour on a terminal only, and never with `NO_COLOR` set to anything but empty
/// (https://no-color.org).
pub fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// A panic is written to the log (then handled as before), so "it just closed" leaves a trace.
fn log_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%place, what = %crate::sanitize::vendor_text(&what, 300), "Patchbay stopped on an internal error");
        previous(info);
    }));
}

/// The programs whose log files the support report reads.
const PROGRAMS: [&str; 2] = [APP, CLI];

/// The newest warnings and errors of the app's and the command line's log files (the current and
/// the last rotated file of each), oldest first, one line each: the time, the program, the
/// message and its fields (error kinds, the vendor's codes and request ids such as `intuit_tid`).
/// Log lines hold no secret (see the module docs), so neither do these.
pub fn recent_problems(dir: &Path, max: usize) -> Vec<String> {
    let mut found: Vec<(String, String)> = Vec::new();
    for program in PROGRAMS {
        for suffix in ["", ".1"] {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("{program}.log{suffix}")))
            else {
                continue;
            };
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let level = v["level"].as_str().unwrap_or_default();
                if level != "WARN" && level != "ERROR" {
                    continue;
                }
                let at = v["timestamp"].as_str().unwrap_or_default().to_string();
                let mut fields = v["fields"].as_object().cloned().unwrap_or_default();
                let message = fields
                    .remove("message")
                    .and_then(|m| m.as_str().map(str::to_string))
                    .unwrap_or_default();
                let mut shown = format!("{at} {program} {level} {message}");
                for (k, v) in fields {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    shown.push_str(&format!(" {k}={v}"));
                }
                found.push((at, shown));
            }
        }
    }
    found.sort();
    let skip = found.len().saturating_sub(max);
    found.into_iter().skip(skip).map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A writer into shared memory, for reading what was logged.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panic_is_written_to_the_log() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        log_panics();
        tracing::subscriber::with_default(subscriber, || {
            let _ = std::panic::catch_unwind(|| panic!("boom \u{1b}[2J at the refresh"));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("Patchbay stopped on an internal error")
                && text.contains("boom [2J at the refresh")
                && text.contains("logging.rs"),
            "{text}"
        );
        assert!(
            !text.contains('\u{1b}'),
            "no escape sequence reaches the log: {text}"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        use std::ffi::OsStr;
        assert!(super::colour(true, None));
        assert!(!super::colour(false, None), "redirected: no escapes");
        assert!(!super::colour(true, Some(OsStr::new("1"))));
        assert!(
            super::colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR is unset"
        );
    }

    #[test]
    fn the_newest_warnings_and_errors_of_both_programs_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let line = |at: &str, level: &str, msg: &str| {
            format!(
                r#"{{"timestamp":"{at}","level":"{level}","fields":{{"message":"{msg}","kind":"invalid_client","error":"HTTP 401 intuit_tid=1-abc"}},"target":"t"}}"#
            )
        };
        std::fs::write(
            dir.path().join("patchbay-app.log"),
            [
                line("2026-11-29T10:00:02Z", "INFO", "first screen painted"),
                line("2026-11-29T10:00:03Z", "WARN", "connect failed"),
                "not json".into(),
            ]
            .join("\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("patchbay.log.1"),
            [
                line("2026-11-29T10:00:01Z", "ERROR", "old"),
                line("2026-11-29T10:00:04Z", "WARN", "refresh failed"),
            ]
            .join("\n"),
        )
        .unwrap();
        let all = recent_problems(dir.path(), 10);
        assert_eq!(all.len(), 3, "{all:#?}");
        assert!(all[0].starts_with("2026-11-29T10:00:01Z patchbay ERROR old"));
        assert!(all[1].contains("patchbay-app WARN connect failed"));
        assert!(all[1].contains("kind=invalid_client") && all[1].contains("intuit_tid=1-abc"));
        assert_eq!(recent_problems(dir.path(), 1).len(), 1);
        assert!(recent_problems(dir.path(), 1)[0].contains("refresh failed"));
        assert!(recent_problems(&dir.path().join("none"), 5).is_empty());
    }

    #[test]
    fn a_log_file_rotates_by_size_and_keeps_only_so_many() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = rotating_file(dir.path(), "patchbay", 1000, 2);
        let line = format!("{}\n", "x".repeat(99));
        for _ in 0..100 {
            log.write_all(line.as_bytes()).unwrap();
        }
        log.flush().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["patchbay.log", "patchbay.log.1", "patchbay.log.2"]);
        for n in &names {
            let meta = std::fs::metadata(dir.path().join(n)).unwrap();
            let len = meta.len();
            assert!(len <= 1000 + line.len() as u64, "{n} is {len} bytes");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(
                    meta.permissions().mode() & 0o777,
                    0o600,
                    "{n}: this user only"
                );
            }
        }
        // 10 kB written, 3 files of about 1 kB kept: the oldest lines are gone.
        let total: u64 = names
            .iter()
            .map(|n| std::fs::metadata(dir.path().join(n)).unwrap().len())
            .sum();
        assert!(total < 3500, "{total} bytes kept");
    }
}
