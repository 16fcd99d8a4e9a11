//! "Keep my connections fresh" as Home and `patchbay keep-fresh` see it: switching the daily job
//! on and off ([`crate::schedule`]), remembered in the preferences, taken off when the last
//! connection goes, and what the job last found ([`crate::history`]).

use super::App;
use crate::error::{Error, ErrorKind, Result};
use crate::history::History;
use crate::schedule::{self, Job, Places, Scheduler};
use serde::Serialize;
use std::path::Path;

/// Home's view of the daily job.
#[derive(Debug, Clone, Serialize)]
pub struct KeepFresh {
    pub on: bool,
    /// The command line the job runs is installed next to the app.
    pub available: bool,
    /// The system's scheduler, in the admin's words.
    pub scheduler: String,
    /// The job's last run, if it has run.
    pub last_run: Option<LastRun>,
}

/// What the daily job found the last time it ran.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    /// When (Unix seconds).
    pub at: i64,
    /// What it found, in plain words ("all 3 connections work").
    pub found: String,
    /// Connections it found needing the admin: the system and what to do.
    pub needs_you: Vec<String>,
}

/// A desktop notification about a connection only the admin can fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// Where the schedulers keep this user's jobs.
fn places(app: &App) -> Places {
    let base = directories::BaseDirs::new();
    let home = base
        .as_ref()
        .map(|b| b.home_dir().to_path_buf())
        .unwrap_or_default();
    Places {
        systemd_user_dir: base
            .as_ref()
            .map(|b| b.config_dir().join("systemd/user"))
            .unwrap_or_else(|| home.join(".config/systemd/user")),
        launch_agents_dir: home.join("Library/LaunchAgents"),
        work_dir: app.paths.data_dir.clone(),
        uid: uid(&home),
        today: crate::report::today(),
    }
}

/// The user's numeric id (launchd's `gui/<uid>`): the owner of their home folder.
#[cfg(unix)]
fn uid(home: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(home).map(|m| m.uid()).unwrap_or(0)
}

#[cfg(not(unix))]
fn uid(_: &Path) -> u32 {
    0
}

impl App {
    /// The daily job as Home shows it.
    pub fn keep_fresh(&self) -> KeepFresh {
        let job = Job::beside_this_program();
        let history = History::new(&self.paths);
        let last_run = history.last_scheduled_run().map(|(at, run)| {
            let ok = run.iter().filter(|e| e.ok).count();
            let needs_you: Vec<String> = run
                .iter()
                .filter(|e| e.needs_admin)
                .map(|e| format!("{} ({}): {}", e.system, e.environment, e.step()))
                .collect();
            let found = match (ok == run.len(), run.len()) {
                (true, 1) => "the connection works".to_string(),
                (true, n) => format!("all {n} connections work"),
                (false, 1) if !needs_you.is_empty() => "the connection needs you".to_string(),
                (false, 1) => {
                    "the connection could not be checked; it is tried again tomorrow".into()
                }
                (false, n) => format!("{ok} of {n} connections work"),
            };
            LastRun {
                at,
                found,
                needs_you,
            }
        });
        KeepFresh {
            on: self.preferences().keep_fresh,
            available: job.is_some(),
            scheduler: Scheduler::THIS.words().to_string(),
            last_run,
        }
    }

    /// Switches the daily job on or off with this system's scheduler.
    pub async fn set_keep_fresh(&self, on: bool) -> Result<KeepFresh> {
        let places = places(self);
        if on {
            let job = Job::beside_this_program().ok_or_else(|| {
                    Error::new(
                        ErrorKind::NotFound,
                        "The daily check needs the patchbay command line next to the app, and it is not there. Reinstall Patchbay, or run `patchbay refresh --all` now and then.",
                    )
                })?;
            tokio::task::spawn_blocking(move || {
                schedule::switch_on(Scheduler::THIS, &job, &places)
            })
            .await
            .map_err(|e| Error::internal("The scheduler did not answer.").with_source(e))??;
        } else {
            tokio::task::spawn_blocking(move || schedule::switch_off(Scheduler::THIS, &places))
                .await
                .map_err(|e| Error::internal("The scheduler did not answer.").with_source(e))??;
        }
        self.save_preferences(|p| p.keep_fresh = on);
        Ok(self.keep_fresh())
    }

    /// What the daily job found that only the admin can fix and nobody was told yet: one
    /// notice per connection, marked as told (the job shows them when it runs, the app when it
    /// starts, whichever comes first).
    pub fn take_notices(&self) -> Vec<Notice> {
        let told = self.preferences().notified_through.unwrap_or(0);
        let Some((at, run)) = History::new(&self.paths).last_scheduled_run() else {
            return Vec::new();
        };
        if at <= told {
            return Vec::new();
        }
        let notices: Vec<Notice> = run
            .iter()
            .filter(|e| e.needs_admin)
            .map(|e| Notice {
                title: format!("{} ({}) needs you", e.system, e.environment),
                body: e.step(),
            })
            .collect();
        self.save_preferences(|p| p.notified_through = Some(at));
        notices
    }

    /// Disconnects, then takes the daily job off when that was the last connection.
    pub async fn disconnect(
        &self,
        id: &str,
        keep_settings: bool,
    ) -> Result<crate::connections::Revocation> {
        let connections = self.connections().await;
        let revocation = connections.disconnect(id, keep_settings).await?;
        let none_left = connections
            .settings()
            .connections()
            .is_ok_and(|c| c.is_empty());
        if none_left
            && self.preferences().keep_fresh
            && let Err(e) = self.set_keep_fresh(false).await
        {
            tracing::warn!(error = %e.detailed(), "could not take the daily check off");
        }
        Ok(revocation)
    }
}
