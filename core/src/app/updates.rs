//! Updates: whether the window looks for a newer Patchbay now, and where. The window's shell does
//! the looking and the installing (Tauri's updater plugin, which checks the signature against
//! the key built into the app); this is the policy, so it is the same everywhere and tested:
//!
//! - only a build that carries an update key and a feed looks (a build from source does not);
//! - never in practice mode (practising needs no update, and a class of ten should not all ask);
//! - the distribution settings may turn it off or point it at the distributor's own HTTPS feed;
//! - at most once a day (the last look is remembered across runs);
//! - nothing is installed without the admin saying so, and never during a connect
//!   ([`super::App::busy`]).

use crate::distribution::UpdateSettings;
use serde::Serialize;
use url::Url;

/// How long after a look the next one is due.
pub const CHECK_EVERY_SECS: i64 = 24 * 60 * 60;

/// What this build was given: its feed and whether it carries the key updates are signed with.
#[derive(Debug, Clone, Default)]
pub struct BuiltIn {
    pub feed: Option<Url>,
    pub signed: bool,
}

/// Whether to look now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Look at this feed.
    Check(Url),
    /// Not now, and why (for the log and the support report).
    Skip(Skip),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A build without an update key (built from source): it cannot check what it would install.
    NotSigned,
    TurnedOff,
    Practice,
    /// Looked less than a day ago.
    NotDue,
}

impl Skip {
    pub fn reason(self) -> &'static str {
        match self {
            Skip::NotSigned => "this copy of Patchbay was not built to update itself",
            Skip::TurnedOff => "updates are turned off in the distribution settings",
            Skip::Practice => "practice mode is on",
            Skip::NotDue => "Patchbay looked for an update less than a day ago",
        }
    }
}

/// The decision. `last` and `now` are Unix seconds; a last look "in the future" (a clock moved
/// back) counts as long ago, so a wrong clock cannot stop updates for good.
pub fn plan(
    built_in: &BuiltIn,
    settings: Option<&UpdateSettings>,
    practice: bool,
    last: Option<i64>,
    now: i64,
) -> Plan {
    if !built_in.signed {
        return Plan::Skip(Skip::NotSigned);
    }
    if settings.is_some_and(|s| !s.check) {
        return Plan::Skip(Skip::TurnedOff);
    }
    let feed = match settings.and_then(|s| s.feed.as_deref()) {
        // Checked when the settings were read (HTTPS, a name, no password).
        Some(own) => match Url::parse(own.trim()) {
            Ok(u) => u,
            Err(_) => return Plan::Skip(Skip::TurnedOff),
        },
        None => match &built_in.feed {
            Some(u) => u.clone(),
            None => return Plan::Skip(Skip::NotSigned),
        },
    };
    if practice {
        return Plan::Skip(Skip::Practice);
    }
    if last.is_some_and(|l| l <= now && now - l < CHECK_EVERY_SECS) {
        return Plan::Skip(Skip::NotDue);
    }
    Plan::Check(feed)
}

/// A newer version the window offers to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateOffer {
    pub version: String,
    pub current: String,
    /// The release's notes, as published (plain text, shortened).
    pub notes: Option<String>,
}

impl UpdateOffer {
    pub fn new(version: &str, current: &str, notes: Option<&str>) -> UpdateOffer {
        let notes = notes
            .map(|n| crate::sanitize::printable(&n.trim().replace(['\r', '\n'], " ")).into_owned())
            .filter(|n| !n.is_empty())
            .map(|n| {
                if n.chars().count() > 600 {
                    format!("{}…", n.chars().take(600).collect::<String>())
                } else {
                    n
                }
            });
        UpdateOffer {
            version: crate::sanitize::printable(version).into_owned(),
            current: current.to_string(),
            notes,
        }
    }
}

/// What an update that could not be installed tells the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallProblem {
    /// The download's signature does not match the key built into the app.
    NotVerified,
    /// The feed or the download could not be reached.
    Unreachable,
    /// The system's installer failed or is not there.
    NotInstalled,
}

impl InstallProblem {
    pub fn message(self) -> &'static str {
        match self {
            InstallProblem::NotVerified => {
                "The update could not be verified as coming from Patchbay's makers, so nothing was installed. Patchbay keeps working as it is; if this happens again, tell whoever supports you."
            }
            InstallProblem::Unreachable => {
                "The update could not be downloaded. Check the internet connection and try again later; Patchbay keeps working as it is."
            }
            InstallProblem::NotInstalled => {
                "The update was downloaded but could not be installed. Patchbay keeps working as it is; download the new version from whoever supplies Patchbay."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    fn signed() -> BuiltIn {
        BuiltIn {
            feed: Some(Url::parse("https://example.com/releases/latest.json").unwrap()),
            signed: true,
        }
    }

    fn settings(check: bool, feed: Option<&str>) -> UpdateSettings {
        UpdateSettings {
            check,
            feed: feed.map(str::to_string),
        }
    }

    #[test]
    fn a_signed_build_looks_at_its_feed_at_most_once_a_day() {
        let feed = signed().feed.unwrap();
        assert_eq!(
            plan(&signed(), None, false, None, NOW),
            Plan::Check(feed.clone())
        );
        let an_hour_ago = Some(NOW - 3600);
        assert_eq!(
            plan(&signed(), None, false, an_hour_ago, NOW),
            Plan::Skip(Skip::NotDue)
        );
        let a_day_ago = Some(NOW - CHECK_EVERY_SECS);
        assert_eq!(
            plan(&signed(), None, false, a_day_ago, NOW),
            Plan::Check(feed.clone())
        );
        // A clock moved back does not stop updates.
        assert_eq!(
            plan(&signed(), None, false, Some(NOW + 86_400 * 30), NOW),
            Plan::Check(feed)
        );
    }

    #[test]
    fn practice_mode_and_unsigned_builds_never_look() {
        assert_eq!(
            plan(&signed(), None, true, None, NOW),
            Plan::Skip(Skip::Practice)
        );
        for unsigned in [
            BuiltIn::default(),
            BuiltIn {
                signed: false,
                ..signed()
            },
            BuiltIn {
                feed: None,
                signed: true,
            },
        ] {
            assert_eq!(
                plan(&unsigned, None, false, None, NOW),
                Plan::Skip(Skip::NotSigned)
            );
        }
    }

    #[test]
    fn the_distribution_turns_it_off_or_names_its_own_feed() {
        assert_eq!(
            plan(&signed(), Some(&settings(false, None)), false, None, NOW),
            Plan::Skip(Skip::TurnedOff)
        );
        let own = "https://updates.example.org/patchbay/latest.json";
        assert_eq!(
            plan(
                &signed(),
                Some(&settings(true, Some(own))),
                false,
                None,
                NOW
            ),
            Plan::Check(Url::parse(own).unwrap())
        );
        // Its own feed needs the built-in key all the same.
        let unsigned = BuiltIn {
            feed: None,
            signed: false,
        };
        assert_eq!(
            plan(
                &unsigned,
                Some(&settings(true, Some(own))),
                false,
                None,
                NOW
            ),
            Plan::Skip(Skip::NotSigned)
        );
        // A distributor's feed in practice mode: still not.
        assert_eq!(
            plan(&signed(), Some(&settings(true, Some(own))), true, None, NOW),
            Plan::Skip(Skip::Practice)
        );
    }

    #[test]
    fn a_distribution_feed_must_be_https_on_the_internet() {
        use crate::distribution::Distribution;
        let ok =
            Distribution::parse("[updates]\nfeed = \"https://updates.example.org/latest.json\"\n")
                .unwrap();
        assert_eq!(
            ok.updates.unwrap(),
            settings(true, Some("https://updates.example.org/latest.json"))
        );
        let off = Distribution::parse("[updates]\ncheck = false\n").unwrap();
        assert!(!off.updates.unwrap().check);
        for bad in [
            "http://updates.example.org/latest.json",
            "https://localhost/latest.json",
            "https://127.0.0.1/latest.json",
        ] {
            let e = Distribution::parse(&format!("[updates]\nfeed = \"{bad}\"\n")).unwrap_err();
            assert!(e.message().starts_with("[updates] feed"), "{e}");
        }
        assert!(Distribution::parse("[updates]\nchek = false\n").is_err());
    }

    #[test]
    fn an_offer_shows_printable_notes_of_a_readable_length() {
        let o = UpdateOffer::new("2.0.0", "0.1.0", Some("  Faster.\u{1b}[31m\n"));
        assert_eq!(o.version, "2.0.0");
        assert!(!o.notes.as_deref().unwrap().contains('\u{1b}'));
        let long = "x".repeat(5000);
        assert!(
            UpdateOffer::new("2.0.0", "0.1.0", Some(&long))
                .notes
                .unwrap()
                .chars()
                .count()
                <= 601
        );
        assert_eq!(UpdateOffer::new("2.0.0", "0.1.0", Some("   ")).notes, None);
    }

    #[test]
    fn each_install_problem_says_nothing_changed() {
        for p in [
            InstallProblem::NotVerified,
            InstallProblem::Unreachable,
            InstallProblem::NotInstalled,
        ] {
            assert!(
                p.message().contains("Patchbay keeps working as it is"),
                "{p:?}"
            );
        }
    }
}
