//! The history of checks: one line per connection per sweep or check, in `history.jsonl` in
//! Patchbay's data folder, the newest last, bounded. Home reads when the scheduled job last ran
//! and what it found; the support report lists the last checks, so "it stopped working last
//! Tuesday" can be answered. No secret is ever written here: only ids, names, kinds and the
//! messages the admin sees.

use crate::error::ErrorKind;
use crate::settings::Paths;
use crate::upkeep::Outcome;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::PathBuf;

/// This many lines are kept when the file is trimmed (a year of daily checks of a few
/// connections).
pub const KEEP: usize = 1000;
/// The file is trimmed to [`KEEP`] lines when it grows past this size (a line is ~250 bytes).
const TRIM_ABOVE_BYTES: u64 = 512 * 1024;

/// Who ran the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The daily job the OS runs.
    Scheduled,
    /// `patchbay refresh --all` / `check --all` by hand.
    Command,
    /// The app.
    App,
}

impl Trigger {
    pub fn words(self) -> &'static str {
        match self {
            Trigger::Scheduled => "daily job",
            Trigger::Command => "command line",
            Trigger::App => "app",
        }
    }
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: i64,
    /// The sweep (or single check) this line belongs to: when it started.
    #[serde(default)]
    pub run: i64,
    pub trigger: Trigger,
    pub connection: String,
    pub system: String,
    pub environment: String,
    pub refreshed: bool,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub needs_admin: bool,
}

impl Entry {
    pub fn of(o: &Outcome, trigger: Trigger, run: i64) -> Entry {
        Entry {
            at: crate::oauth::now(),
            run,
            trigger,
            connection: o.connection.clone(),
            system: o.system.clone(),
            environment: o.environment.clone(),
            refreshed: o.refreshed,
            ok: o.ok,
            kind: o.kind,
            message: o.message.clone(),
            needs_admin: o.needs_admin,
        }
    }
}

impl Entry {
    /// What the admin does about this line's problem, in a sentence (see [`crate::upkeep::step`]).
    pub fn step(&self) -> String {
        crate::upkeep::step(self.kind.unwrap_or(ErrorKind::Reconnect), &self.system)
    }
}

/// The history file of one Patchbay home.
#[derive(Debug, Clone)]
pub struct History {
    file: PathBuf,
}

impl History {
    pub fn new(paths: &Paths) -> History {
        History {
            file: paths.data_dir.join("history.jsonl"),
        }
    }

    /// Adds a line (best effort: a history that cannot be written never stops a check), then
    /// trims the file to the newest [`KEEP`] lines once it is past [`TRIM_ABOVE_BYTES`].
    pub fn append(&self, entry: &Entry) {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.file.parent() {
                crate::settings::private_dir(dir)?;
            }
            let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
            line.push('\n');
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)?;
            f.write_all(line.as_bytes())?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "could not write the check history");
            return;
        }
        let grown = std::fs::metadata(&self.file).is_ok_and(|m| m.len() > TRIM_ABOVE_BYTES);
        let all = if grown { self.read_all() } else { Vec::new() };
        if all.len() > KEEP {
            let kept: String = all[all.len() - KEEP..]
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .map(|l| l + "\n")
                .collect();
            if let Err(e) = crate::settings::write_atomically(&self.file, kept.as_bytes()) {
                tracing::warn!(error = %e.detailed(), "could not trim the check history");
            }
        }
    }

    /// Every line, oldest first (lines that cannot be read are skipped).
    pub fn read_all(&self) -> Vec<Entry> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The newest `n` lines, newest first.
    pub fn last(&self, n: usize) -> Vec<Entry> {
        let mut all = self.read_all();
        all.reverse();
        all.truncate(n);
        all
    }

    /// The scheduled job's last run: when it started, and its lines (one per connection).
    pub fn last_scheduled_run(&self) -> Option<(i64, Vec<Entry>)> {
        let all = self.read_all();
        let last = all
            .iter()
            .rev()
            .find(|e| e.trigger == Trigger::Scheduled)?
            .run;
        let run: Vec<Entry> = all
            .into_iter()
            .filter(|e| e.trigger == Trigger::Scheduled && e.run == last)
            .collect();
        Some((last, run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, ok: bool) -> Outcome {
        Outcome {
            connection: id.into(),
            system: "QuickBooks Online".into(),
            environment: "Production".into(),
            refreshed: ok,
            ok,
            kind: (!ok).then_some(ErrorKind::Reconnect),
            message: (!ok).then(|| "Reconnect QuickBooks Online.".to_string()),
            needs_admin: !ok,
        }
    }

    #[test]
    fn lines_are_kept_in_order_bounded_and_the_scheduled_run_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(&Paths::under(dir.path()));
        assert!(h.last(5).is_empty() && h.last_scheduled_run().is_none());
        // An earlier run, then the last one (two connections), then a check by hand.
        h.append(&Entry::of(&outcome("a", false), Trigger::Scheduled, 100));
        h.append(&Entry::of(&outcome("a", true), Trigger::Scheduled, 200));
        h.append(&Entry::of(&outcome("b", false), Trigger::Scheduled, 200));
        h.append(&Entry::of(&outcome("a", true), Trigger::Command, 300));
        let last = h.last(2);
        assert_eq!(last[0].trigger, Trigger::Command);
        assert_eq!(last[1].connection, "b");
        let (at, run) = h.last_scheduled_run().unwrap();
        assert_eq!((at, run.len()), (200, 2), "the last run alone");
        assert!(
            run.iter()
                .any(|e| e.needs_admin && e.kind == Some(ErrorKind::Reconnect))
        );
        let entry = Entry::of(&outcome("a", true), Trigger::App, 400);
        let line = serde_json::to_string(&entry).unwrap().len() + 1;
        let past_the_limit = TRIM_ABOVE_BYTES as usize / line + 10;
        for _ in 0..past_the_limit {
            h.append(&entry);
        }
        let kept = h.read_all().len();
        assert!(kept < past_the_limit && kept >= KEEP, "{kept} lines kept");
        // A damaged line is skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("data/history.jsonl"))
            .unwrap()
            .write_all(b"{not json\n")
            .unwrap();
        assert!(!h.last(3).is_empty());
    }
}
