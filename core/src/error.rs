//! Errors grouped by what the admin (or the caller) can do next.
//!
//! Every error carries one stable [`ErrorKind`] that the wizard's checklist and the CLI's exit
//! codes switch on, and a message written for an office admin. Causes are kept as `#[source]`
//! for the log, never shown raw. No variant holds a secret.

use serde::Serialize;
use std::fmt;

/// The stable, machine-readable kind of an error. The UI and the checklist switch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The redirect (callback) URL registered at the vendor is not the one we use.
    RedirectMismatch,
    /// The vendor rejected the client ID or secret.
    InvalidClient,
    /// The admin clicked Deny (or the vendor refused consent).
    Denied,
    /// Nothing came back before the deadline.
    Timeout,
    /// The system browser could not be opened.
    BrowserLaunch,
    /// The callback port is taken by another program.
    PortInUse,
    /// The vendor's API add-on is missing or its billing is not current (QuickBooks Time 402).
    ApiNotEnabled,
    /// The keys work but do not reach every list Patchbay needs (Aspire's per-key Scope).
    ScopeMissing,
    /// The credentials belong to the other environment (sandbox vs production).
    WrongEnvironment,
    /// The vendor asked us to slow down and kept doing so.
    RateLimited,
    /// The vendor could not be reached at all.
    Network,
    /// The vendor answered with a server error or something unreadable.
    ProviderDown,
    /// The OS keychain cannot be used.
    Keychain,
    /// The stored grant is no longer accepted: connect again.
    Reconnect,
    /// The admin cancelled.
    Cancelled,
    /// Something the admin typed or pasted cannot be used as is.
    InvalidInput,
    /// There is no such connection (or system) yet.
    NotFound,
    /// A catalog file is not valid.
    Catalog,
    /// Patchbay's own files on this computer (settings, lock, exports, report, logs) could not
    /// be read or written.
    Storage,
    /// Something inside Patchbay went wrong (a bug, or the clipboard refusing): not the admin's.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 20] = [
        ErrorKind::RedirectMismatch,
        ErrorKind::InvalidClient,
        ErrorKind::Denied,
        ErrorKind::Timeout,
        ErrorKind::BrowserLaunch,
        ErrorKind::PortInUse,
        ErrorKind::ApiNotEnabled,
        ErrorKind::ScopeMissing,
        ErrorKind::WrongEnvironment,
        ErrorKind::RateLimited,
        ErrorKind::Network,
        ErrorKind::ProviderDown,
        ErrorKind::Keychain,
        ErrorKind::Reconnect,
        ErrorKind::Cancelled,
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::Catalog,
        ErrorKind::Storage,
        ErrorKind::Internal,
    ];

    /// The snake_case name used in JSON, the catalog and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RedirectMismatch => "redirect_mismatch",
            ErrorKind::InvalidClient => "invalid_client",
            ErrorKind::Denied => "denied",
            ErrorKind::Timeout => "timeout",
            ErrorKind::BrowserLaunch => "browser_launch",
            ErrorKind::PortInUse => "port_in_use",
            ErrorKind::ApiNotEnabled => "api_not_enabled",
            ErrorKind::ScopeMissing => "scope_missing",
            ErrorKind::WrongEnvironment => "wrong_environment",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Network => "network",
            ErrorKind::ProviderDown => "provider_down",
            ErrorKind::Keychain => "keychain",
            ErrorKind::Reconnect => "reconnect",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Catalog => "catalog",
            ErrorKind::Storage => "storage",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Process exit code for the CLI: stable, grouped by what to do next.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::Catalog => 2,
            ErrorKind::RedirectMismatch
            | ErrorKind::InvalidClient
            | ErrorKind::WrongEnvironment
            | ErrorKind::ApiNotEnabled
            | ErrorKind::ScopeMissing => 3,
            ErrorKind::Denied | ErrorKind::Cancelled | ErrorKind::Timeout => 4,
            ErrorKind::BrowserLaunch | ErrorKind::PortInUse => 5,
            ErrorKind::Network | ErrorKind::ProviderDown | ErrorKind::RateLimited => 6,
            ErrorKind::Keychain => 7,
            ErrorKind::Reconnect => 8,
            ErrorKind::Storage => 9,
            ErrorKind::Internal => 10,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error with a kind, a message for the admin, and optional details for support.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// What the vendor said, for support (error code, request id); never a secret.
    provider_detail: Option<String>,
    #[source]
    source: Option<Cause>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            provider_detail: None,
            source: None,
        }
    }

    pub fn with_source(mut self, source: impl Into<Cause>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn with_provider_detail(mut self, detail: impl Into<String>) -> Self {
        self.provider_detail = Some(detail.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn provider_detail(&self) -> Option<&str> {
        self.provider_detail.as_deref()
    }

    /// Message plus the cause chain, for logs and the support report (never secrets: causes are
    /// our own errors, I/O and HTTP errors, none of which carry a token).
    pub fn detailed(&self) -> String {
        let mut out = self.message.clone();
        if let Some(d) = &self.provider_detail {
            out.push_str(&format!(" [{d}]"));
        }
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(&format!(": {c}"));
            cause = c.source();
        }
        out
    }

    // Constructors for the common cases, so every call site words them the same way.

    pub fn keychain(what: impl Into<String>) -> Self {
        Error::new(ErrorKind::Keychain, what)
    }

    pub fn invalid_input(what: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, what)
    }

    /// A file of Patchbay's own on this computer could not be read or written.
    pub fn storage(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::new(ErrorKind::Storage, what).with_source(source)
    }

    /// Not the admin's doing: said plainly, with the way to report it.
    pub fn internal(what: impl Into<String>) -> Self {
        Error::new(
            ErrorKind::Internal,
            format!(
                "{} This is a problem in Patchbay, not in what you entered: try again, and if it keeps happening, save the support report (Home, Save report…) and send it to whoever supports Patchbay.",
                what.into()
            ),
        )
    }

    pub fn reconnect(system: &str) -> Self {
        Error::new(
            ErrorKind::Reconnect,
            format!(
                "{system} no longer accepts the saved connection (it was disconnected, expired or \
                 replaced). Connect again to continue."
            ),
        )
    }

    pub fn network(system: &str, source: impl Into<Cause>) -> Self {
        Error::new(
            ErrorKind::Network,
            format!(
                "Patchbay could not reach {system}. Check that this computer is online, then try again."
            ),
        )
        .with_source(source)
    }

    pub fn provider_down(system: &str, status: Option<u16>) -> Self {
        let what = match status {
            Some(s) => format!("answered with a server error ({s})"),
            None => "sent an answer Patchbay could not read".to_string(),
        };
        Error::new(
            ErrorKind::ProviderDown,
            format!("{system} {what}. This is on their side; wait a few minutes and try again."),
        )
    }

    pub fn rate_limited(system: &str, retry_after_secs: Option<u64>) -> Self {
        let wait = match retry_after_secs {
            Some(s) if s > 0 => format!("about {} and try again", human_duration(s)),
            _ => "a few minutes and try again".to_string(),
        };
        Error::new(
            ErrorKind::RateLimited,
            format!("{system} asked Patchbay to slow down (too many requests). Wait {wait}."),
        )
    }

    pub fn cancelled() -> Self {
        Error::new(
            ErrorKind::Cancelled,
            "Connecting was cancelled. Nothing was changed.",
        )
    }
}

/// "2 minutes", "45 seconds": for messages.
pub fn human_duration(secs: u64) -> String {
    match secs {
        0..=89 => format!("{secs} second{}", if secs == 1 { "" } else { "s" }),
        90..=5399 => format!("{} minutes", (secs + 30) / 60),
        _ => format!("{} hours", secs.saturating_add(1800) / 3600),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally_and_never_overflow() {
        for (secs, words) in [
            (1, "1 second"),
            (30, "30 seconds"),
            (45, "45 seconds"),
            (120, "2 minutes"),
            (300, "5 minutes"),
            (7200, "2 hours"),
        ] {
            assert_eq!(human_duration(secs), words);
        }
        assert!(human_duration(u64::MAX).ends_with("hours"));
    }

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", kind.as_str()),
                "serde and as_str must agree"
            );
        }
    }

    #[test]
    fn detailed_includes_cause_chain() {
        let io = std::io::Error::other("boom");
        let e = Error::network("Aspire", io).with_provider_detail("intuit_tid=abc");
        let d = e.detailed();
        assert!(d.contains("could not reach Aspire"), "{d}");
        assert!(d.contains("intuit_tid=abc"), "{d}");
        assert!(d.ends_with(": boom"), "{d}");
    }
}
