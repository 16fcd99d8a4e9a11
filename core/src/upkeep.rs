//! Keeping connections alive without the admin: `patchbay refresh --all` / `check --all` (run
//! daily by the scheduled job, or by hand). Each connection is renewed when due (its access
//! token would lapse before the next daily run, or its refresh token's own lifetime is running
//! out: QuickBooks Online's lapses after 100 days unused) and then verified with its real API
//! call. Renewals go through the token source, so the app and any other caller renewing at the
//! same time never make the vendor renew twice. Every outcome goes to the history
//! ([`crate::history`]) for Home and the support report.

use crate::connections::{ConnectionStatus, Connections};
use crate::error::{Error, ErrorKind};
use crate::history::{Entry, History, Trigger};
use serde::Serialize;

/// Renew an access token that would lapse within this long: the job runs daily, so a token that
/// would lapse before the next run is renewed now (with an hour to spare).
pub const RENEW_AHEAD_SECS: i64 = 25 * 60 * 60;
/// Renew when the refresh token itself has less than this left.
pub const REFRESH_TOKEN_AHEAD_SECS: i64 = 30 * 24 * 60 * 60;

/// What the sweep does to each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sweep {
    /// Renew what is due, then verify.
    Refresh,
    /// Verify only (renewing only what has lapsed, as any use does).
    Check,
}

/// One connection's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub connection: String,
    pub system: String,
    pub environment: String,
    /// Renewed by this sweep.
    pub refreshed: bool,
    /// Verified with a real API call.
    pub ok: bool,
    /// What went wrong, as the error kinds the CLI and the report use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ErrorKind>,
    /// In plain words, with the step to take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Only the admin can fix it (reconnect, the vendor's add-on, new keys); otherwise it is
    /// passing (the vendor down, the network) and the next run tries again.
    pub needs_admin: bool,
}

/// A whole sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// When the sweep started (Unix seconds).
    pub at: i64,
    pub outcomes: Vec<Outcome>,
}

impl Outcome {
    fn of(status: &ConnectionStatus, refreshed: bool, error: Option<&Error>) -> Outcome {
        Outcome {
            connection: status.record.id.clone(),
            system: status.system.clone(),
            environment: status.environment_label.clone(),
            refreshed,
            ok: error.is_none(),
            kind: error.map(Error::kind),
            message: error.map(|e| e.message().to_string()),
            needs_admin: error.is_some_and(|e| needs_admin(e.kind())),
        }
    }
}

/// One connection checked now (the app's Check, `patchbay verify`): the same verify call, and
/// its outcome in the history like the sweep's.
pub async fn check_one(
    connections: &Connections,
    id: &str,
    trigger: Trigger,
) -> crate::Result<ConnectionStatus> {
    let result = connections.check(id).await;
    if let Ok(status) = connections.status(id).await {
        let outcome = Outcome::of(&status, false, result.as_ref().err());
        History::new(connections.settings().paths()).append(&Entry::of(
            &outcome,
            trigger,
            crate::oauth::now(),
        ));
    }
    result
}

/// What the admin does about a connection only they can fix, in a sentence.
pub fn step(kind: ErrorKind, system: &str) -> String {
    match kind {
        ErrorKind::ApiNotEnabled => format!(
            "Ask {system} to turn the API add-on back on for your account, then click Check now in Patchbay."
        ),
        ErrorKind::ScopeMissing => format!(
            "Give the {system} API key access to every list Patchbay needs (Patchbay's guide shows which), then click Check now."
        ),
        ErrorKind::Keychain => {
            "Unlock this computer's keychain, then click Check now in Patchbay.".to_string()
        }
        ErrorKind::InvalidClient => format!(
            "The app keys were changed or removed: click Reconnect on {system} in Patchbay and give the current keys."
        ),
        _ => format!("Click Reconnect on {system} in Patchbay."),
    }
}

/// Kinds only the admin can fix.
pub fn needs_admin(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::Network
            | ErrorKind::ProviderDown
            | ErrorKind::RateLimited
            | ErrorKind::Timeout
            | ErrorKind::Cancelled
    )
}

impl Summary {
    pub fn needs_admin(&self) -> bool {
        self.outcomes.iter().any(|o| o.needs_admin)
    }

    /// 0 all verified; 8 some connection needs the admin; 6 only passing trouble (try later).
    pub fn exit_code(&self) -> i32 {
        if self.needs_admin() {
            ErrorKind::Reconnect.exit_code()
        } else if self.outcomes.iter().any(|o| !o.ok) {
            ErrorKind::Network.exit_code()
        } else {
            0
        }
    }
}

/// Renews (for [`Sweep::Refresh`]) and verifies every connection of this mode (practice or
/// real), one after the other (vendors limit requests per company), and writes each outcome to
/// the history.
pub async fn sweep(
    connections: &Connections,
    what: Sweep,
    trigger: Trigger,
) -> crate::Result<Summary> {
    let history = History::new(connections.settings().paths());
    let started = crate::oauth::now();
    let mut outcomes = Vec::new();
    // The connections of this mode: practice ones with practice mode on, real ones without.
    let practice = connections.practice_available();
    for status in connections.list().await? {
        if status.record.practice != practice {
            continue;
        }
        let id = status.record.id.clone();
        let mut refreshed = false;
        let checked = async {
            if what == Sweep::Refresh {
                refreshed = connections
                    .renew_if_due(&id, RENEW_AHEAD_SECS, REFRESH_TOKEN_AHEAD_SECS)
                    .await?;
            }
            connections.check(&id).await.map(|_| ())
        }
        .await;
        let outcome = Outcome::of(&status, refreshed, checked.as_ref().err());
        history.append(&Entry::of(&outcome, trigger, started));
        outcomes.push(outcome);
    }
    Ok(Summary {
        at: started,
        outcomes,
    })
}
