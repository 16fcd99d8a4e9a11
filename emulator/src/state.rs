//! Durable emulator state (apps, codes, grants, settings) and its optional state file.

use crate::AppInfo;
use crate::clock::now;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

pub(crate) const QBT: &str = "quickbooks-time";
pub(crate) const ASPIRE: &str = "aspire";
pub(crate) const QBO: &str = "quickbooks-online";
pub(crate) const PROVIDERS: [&str; 3] = [QBT, ASPIRE, QBO];

pub(crate) fn environments(provider: &str) -> &'static [&'static str] {
    match provider {
        QBT => &["production"],
        ASPIRE | QBO => &["production", "sandbox"],
        _ => &[],
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct App {
    #[serde(flatten)]
    pub info: AppInfo,
    /// The app's display name on consent pages ("Name" in the QuickBooks Time form).
    #[serde(default = "default_app_name")]
    pub name: String,
}

fn default_app_name() -> String {
    "Patchbay".to_string()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Issued {
    pub token: String,
    pub expires_at: u64,
}

/// The app a consent request, a code or a grant is for (its members stay at the top level of the
/// state file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppRef {
    pub provider: String,
    pub environment: String,
    pub client_id: String,
}

/// One authorization (a user's consent, or an Aspire credential exchange) and its tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub id: String,
    #[serde(flatten)]
    pub app: AppRef,
    pub realm_id: Option<String>,
    #[serde(default)]
    pub scope: String,
    pub created_at: u64,
    /// Access tokens still remembered (older ones stay valid until they expire).
    pub access: Vec<Issued>,
    pub refresh: String,
    pub refresh_issued_at: u64,
    pub refresh_expires_at: Option<u64>,
    /// Replaced refresh tokens, accepted until `expires_at` (the grace period).
    #[serde(default)]
    pub old_refresh: Vec<Issued>,
    #[serde(default)]
    pub revoked: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Code {
    pub code: String,
    #[serde(flatten)]
    pub app: AppRef,
    pub redirect_uri: String,
    pub scope: String,
    pub expires_at: u64,
    pub used: bool,
    pub challenge: Option<String>,
    pub realm_id: Option<String>,
    /// The PKCE verifier the code was redeemed with (for the leak tests).
    pub verifier: Option<String>,
}

/// An authorize request waiting for the user's Allow/Deny on the consent page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub txn: String,
    #[serde(flatten)]
    pub app: AppRef,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: String,
    pub challenge: Option<String>,
    pub created_at: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Rotate {
    Always,
    Never,
    AfterSecs,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub access_token_ttl_secs: u64,
    pub code_ttl_secs: u64,
    pub rotate_refresh: Rotate,
    pub rotate_after_secs: u64,
    pub old_refresh_grace_secs: u64,
    /// `None`: the vendor's own limit (Aspire: 60/min sandbox, 1200/min production).
    pub rate_limit_per_window: Option<u32>,
    pub rate_window_secs: u64,
    /// `None`: refresh tokens never expire (lifetime UNCONFIRMED for QuickBooks Time and Aspire).
    pub refresh_token_ttl_secs: Option<u64>,
    /// QuickBooks Online: concurrent requests per app and realm.
    pub max_concurrent: Option<u32>,
    /// Sent as `Retry-After` on the emulator's own 429s; vendors' use of it is UNCONFIRMED.
    pub retry_after_secs: Option<u64>,
    /// QuickBooks Time: accept only https redirect URIs that are not localhost or an IP, at
    /// registration and at /authorize. Its docs call the redirect "The HTTPS url" (reference
    /// 1.2/1.6) but whether loopback works is UNCONFIRMED, so both rules are tested. Intuit's
    /// rules for QuickBooks Online are documented and always enforced (see `oauth::refusal`).
    #[serde(default)]
    pub https_redirects_only: bool,
    /// The consent page approves itself on load (a headless browser clicks nothing). A test
    /// setting: no vendor does this.
    #[serde(default)]
    pub consent_auto_allow: bool,
    /// QuickBooks Time: the longest `/timesheets` date range in days before a 417; `None`: 365
    /// (`qbt::DEFAULT_MAX_DATE_RANGE_DAYS`). The limit itself is UNCONFIRMED (no source).
    pub max_date_range_days: Option<u64>,
}

impl Settings {
    pub(crate) fn defaults(provider: &str) -> Settings {
        // What the vendors share besides their token lifetime. Assumptions (UNCONFIRMED): codes
        // live 10 min and a replaced refresh token dies at once (no grace).
        let shared = |access_token_ttl_secs| Settings {
            access_token_ttl_secs,
            code_ttl_secs: 600,
            rotate_refresh: Rotate::Always,
            rotate_after_secs: 0,
            old_refresh_grace_secs: 0,
            rate_limit_per_window: None,
            rate_window_secs: 60,
            refresh_token_ttl_secs: None,
            max_concurrent: None,
            retry_after_secs: None,
            https_redirects_only: false,
            consent_auto_allow: false,
            max_date_range_days: None,
        };
        match provider {
            // Reference 1.3/1.4/1.10: 10-day tokens, rotation on refresh, 300 calls per 5 min.
            QBT => Settings {
                rate_limit_per_window: Some(300),
                rate_window_secs: 300,
                ..shared(864_000)
            },
            // Reference 2.5 (third parties: 24 h tokens), 2.8 (limits per minute).
            // Assumption (UNCONFIRMED): refresh rotates.
            ASPIRE => shared(86_400),
            // Reference 3.4-3.6, 3.11: 1 h tokens, 101-day rolling refresh tokens whose value
            // changes every ~24 h, 500 req/min per realm, 10 concurrent.
            _ => Settings {
                rotate_refresh: Rotate::AfterSecs,
                rotate_after_secs: 86_400,
                rate_limit_per_window: Some(500),
                refresh_token_ttl_secs: Some(8_726_400),
                max_concurrent: Some(10),
                ..shared(3600)
            },
        }
    }

    /// The request limit per window for one environment.
    pub(crate) fn rate_limit(&self, provider: &str, environment: &str) -> u32 {
        match (self.rate_limit_per_window, provider, environment) {
            (Some(n), _, _) => n,
            (None, ASPIRE, "sandbox") => 60,
            (None, ASPIRE, _) => 1200,
            (None, _, _) => u32::MAX,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub apps: Vec<App>,
    pub grants: Vec<Grant>,
    pub codes: Vec<Code>,
    pub pending: Vec<Pending>,
    pub settings: BTreeMap<String, Settings>,
    /// Key for the HS256 signatures of Aspire tokens and QuickBooks Online id_tokens.
    pub signing_key: String,
}

impl State {
    pub(crate) fn settings(&self, provider: &str) -> Settings {
        self.settings
            .get(provider)
            .cloned()
            .unwrap_or_else(|| Settings::defaults(provider))
    }

    pub(crate) fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.info.client_id == client_id)
    }

    pub(crate) fn app_of(&self, provider: &str, client_id: &str) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.info.provider == provider && a.info.client_id == client_id)
    }

    /// Drops expired codes, stale consent transactions and dead access tokens.
    pub(crate) fn prune(&mut self) {
        let t = now();
        self.codes.retain(|c| c.expires_at + 3600 > t);
        self.pending.retain(|p| p.created_at + 3600 > t);
        for g in &mut self.grants {
            g.access.retain(|a| a.expires_at + 86_400 > t);
            g.old_refresh.retain(|a| a.expires_at > t);
        }
    }
}

/// The state behind a mutex, mirrored to the state file when one is configured.
#[derive(Debug)]
pub(crate) struct Store {
    inner: Mutex<StoreInner>,
}

#[derive(Debug)]
struct StoreInner {
    state: State,
    file: Option<PathBuf>,
    /// Modification time and length of the file as last read or written by this process.
    seen: Option<(SystemTime, u64)>,
}

fn meta(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn load(path: &Path) -> io::Result<State> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl Store {
    /// Loads the state file if it exists; otherwise starts empty.
    pub(crate) fn open(file: Option<PathBuf>) -> io::Result<Store> {
        let mut state = State::default();
        let mut seen = None;
        if let Some(path) = &file
            && path.exists()
        {
            state = load(path)?;
            seen = meta(path);
        }
        if state.signing_key.is_empty() {
            state.signing_key = crate::tokens::random_alnum(48);
        }
        for p in PROVIDERS {
            state
                .settings
                .entry(p.to_string())
                .or_insert_with(|| Settings::defaults(p));
        }
        Ok(Store {
            inner: Mutex::new(StoreInner { state, file, seen }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, StoreInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Another process sharing the state file may have written it: pick up its version.
    /// Assumption: modification time + length detect a change (good enough for practice mode).
    fn refresh_from_file(inner: &mut StoreInner) {
        let Some(path) = inner.file.clone() else {
            return;
        };
        let current = meta(&path);
        if current.is_some() && current != inner.seen {
            match load(&path) {
                Ok(s) => {
                    inner.state = s;
                    inner.seen = current;
                }
                Err(e) => eprintln!(
                    "patchbay-emulator: could not reload {}: {e}",
                    path.display()
                ),
            }
        }
    }

    fn save(inner: &mut StoreInner) {
        let Some(path) = inner.file.clone() else {
            return;
        };
        let result = (|| -> io::Result<()> {
            let bytes = serde_json::to_vec_pretty(&inner.state).map_err(io::Error::other)?;
            let mut tmp = path.clone().into_os_string();
            tmp.push(format!(
                ".tmp-{}-{}",
                std::process::id(),
                crate::tokens::random_hex(8)
            ));
            let tmp = PathBuf::from(tmp);
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        })();
        match result {
            Ok(()) => inner.seen = meta(&path),
            Err(e) => eprintln!("patchbay-emulator: could not save {}: {e}", path.display()),
        }
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        let mut inner = self.lock();
        Self::refresh_from_file(&mut inner);
        f(&inner.state)
    }

    /// Runs `f` on the state and saves the state file afterwards.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut inner = self.lock();
        Self::refresh_from_file(&mut inner);
        inner.state.prune();
        let r = f(&mut inner.state);
        Self::save(&mut inner);
        r
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A state file whose grants, codes and consent requests name their app at the top level and
    /// whose records lack every optional member still loads, and is written back with the app at
    /// the top level.
    #[test]
    fn state_file_format() {
        let app = r#""provider": "quickbooks-time", "environment": "production", "client_id": "c""#;
        let text = format!(
            r#"{{
            "apps": [], "signing_key": "k",
            "settings": {{"quickbooks-time": {{"access_token_ttl_secs": 60, "code_ttl_secs": 60,
                "rotate_refresh": "never", "rotate_after_secs": 0, "old_refresh_grace_secs": 0,
                "rate_window_secs": 60}}}},
            "grants": [{{"id": "g", {app}, "created_at": 1, "access": [], "refresh": "r", "refresh_issued_at": 1}}],
            "codes": [{{"code": "x", {app}, "redirect_uri": "u", "scope": "", "expires_at": 2, "used": false}}],
            "pending": [{{"txn": "t", {app}, "redirect_uri": "u", "scope": "", "created_at": 3}}]
        }}"#
        );
        let state: State = serde_json::from_str(&text).unwrap();
        let settings = state.settings(QBT);
        assert_eq!(settings.rotate_refresh, Rotate::Never);
        assert_eq!(settings.rate_limit_per_window, None);
        assert_eq!(settings.max_date_range_days, None);
        assert!(!settings.https_redirects_only && !settings.consent_auto_allow);
        let (grant, code, pending) = (&state.grants[0], &state.codes[0], &state.pending[0]);
        assert!(grant.realm_id.is_none() && grant.refresh_expires_at.is_none());
        assert!(grant.scope.is_empty() && grant.old_refresh.is_empty() && !grant.revoked);
        assert!(code.challenge.is_none() && code.realm_id.is_none() && code.verifier.is_none());
        assert!(pending.state.is_none() && pending.challenge.is_none());
        assert_eq!(pending.app, code.app);
        assert_eq!(grant.app, code.app);
        assert_eq!(pending.app.client_id, "c");
        let saved = serde_json::to_value(&state).unwrap();
        for list in ["grants", "codes", "pending"] {
            let record = &saved[list][0];
            assert_eq!(record["provider"], "quickbooks-time", "{list}");
            assert_eq!(record["environment"], "production", "{list}");
            assert_eq!(record["client_id"], "c", "{list}");
            assert!(record.get("app").is_none(), "{list}");
        }
    }
}
