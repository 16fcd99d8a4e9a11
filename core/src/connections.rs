//! Connections: the facade the app and the CLI use. It resolves a connection (its record, system,
//! environment and route) and hands the work to the job's own module: the connect flow
//! ([`crate::connect`]), the token source ([`crate::token_source`]: single-flight renewal), the
//! vendor calls ([`crate::endpoint`]). Here: status, check, disconnect, and the state Home shows.

use crate::catalog::{Catalog, EnvironmentSpec, ProviderSpec};
use crate::distribution::Distribution;
use crate::endpoint::{Endpoint, Keys, Pending, timed};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Route;
use crate::oauth::{TokenSet, now};
use crate::redirect::RedirectPlan;
use crate::settings::{ConnectionRecord, LastError, Paths, Settings};
use crate::store::{Grant, SecretStore, Vault};
use crate::token_source::{Renew, TokenSource};
use secrecy::SecretString;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

pub use crate::connect::{Browser, ConnectHooks, ConnectRequest, DEFAULT_DEADLINE};
pub use crate::token_source::LOCK_WAIT;

/// The practice emulator runs on this computer: plain http is accepted only there, so an
/// emulator address can never send practice (or any) credentials over the network.
pub fn check_emulator_url(url: &Url) -> Result<()> {
    if crate::catalog::is_loopback(url) && matches!(url.scheme(), "http" | "https") {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "The practice emulator's address must be on this computer (localhost, 127.0.0.1 or [::1]), not {}.",
            crate::sanitize::vendor_text(url.as_str(), 100)
        )))
    }
}

/// A connection's live state, as Home shows it. No secrets.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionStatus {
    #[serde(flatten)]
    pub record: ConnectionRecord,
    pub system: String,
    pub environment_label: String,
    pub state: ConnectionState,
    /// Where the credentials are kept ("the macOS Keychain").
    pub stored_in: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Access token valid.
    Connected,
    /// Access token expired or near expiry; the next use refreshes it.
    NeedsRefresh,
    /// The vendor no longer accepts the grant, or it is gone from the keychain.
    NeedsReconnect,
    /// The keychain cannot be read right now (locked, or its service is not running): the
    /// connection itself may be fine. The status's `last_error` says why.
    KeychainUnavailable,
}

impl ConnectionState {
    /// In words, for the command line and the support report.
    pub fn words(self) -> &'static str {
        match self {
            ConnectionState::Connected => "connected",
            ConnectionState::NeedsRefresh => "refresh due",
            ConnectionState::NeedsReconnect => "needs reconnect",
            ConnectionState::KeychainUnavailable => "keychain unavailable",
        }
    }
}

/// What disconnect did at the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "revocation", content = "message")]
pub enum Revocation {
    /// The vendor revoked the grant.
    Revoked,
    /// The vendor offers no revocation; only the local copy was removed.
    NotOffered,
    /// Revocation failed; the local copy was still removed. The message says what to do.
    Failed(String),
}

/// The connections of this computer.
#[derive(Debug)]
pub struct Connections {
    catalog: Catalog,
    tokens: TokenSource,
    settings: Settings,
    http: reqwest::Client,
    practice: Option<Url>,
    /// The distributor's apps and relays, for real connections.
    distribution: Distribution,
    /// Practice mode's own "distributor" (the emulator's apps and relay), for practice ones.
    practice_distribution: Distribution,
}

/// A connection as one operation sees it: its record, system and environment, resolved once.
struct Resolved<'c> {
    record: ConnectionRecord,
    p: &'c ProviderSpec,
    env: &'c EnvironmentSpec,
}

/// The vendor's renewal of one connection's grant (the token source calls it when due).
struct VendorRenew<'c> {
    connections: &'c Connections,
    p: &'c ProviderSpec,
    env: &'c EnvironmentSpec,
    practice: bool,
}

impl Renew for VendorRenew<'_> {
    fn renew<'a>(&'a self, grant: &'a Grant) -> Pending<'a, TokenSet> {
        Box::pin(async move {
            let route = self.connections.route(self.practice)?;
            let keys = Keys::of(grant);
            self.connections
                .endpoint(self.p, self.env, &route, &keys)
                .refresh(grant)
                .await
        })
    }
}

impl Connections {
    /// `practice`: the bundled emulator's base URL when practice mode is available.
    pub fn new(
        catalog: Catalog,
        store: Arc<dyn SecretStore>,
        paths: Paths,
        practice: Option<Url>,
    ) -> Result<Connections> {
        if let Some(url) = &practice {
            check_emulator_url(url)?;
        }
        let settings = Settings::new(paths);
        Ok(Connections {
            catalog,
            tokens: TokenSource::new(Vault::new(store), settings.clone()),
            settings,
            http: crate::http::client()?,
            practice,
            distribution: Distribution::default(),
            practice_distribution: Distribution::default(),
        })
    }

    /// Use the distributor's app keys and relays (`distribution.toml`) for real connections.
    pub fn with_distribution(mut self, distribution: Distribution) -> Connections {
        self.distribution = distribution;
        self
    }

    /// Practice mode's distribution: the emulator's published apps and relay, so a practice
    /// connection takes the path an admin of a distributor takes.
    pub fn with_practice_distribution(mut self, distribution: Distribution) -> Connections {
        self.practice_distribution = distribution;
        self
    }

    pub(crate) fn distribution(&self, practice: bool) -> &Distribution {
        if practice {
            &self.practice_distribution
        } else {
            &self.distribution
        }
    }

    /// How the vendor's answer comes back and which steps the admin sees, for one system and
    /// environment (the wizard's redirect step and the CLI's connect both start from this).
    pub fn plan(
        &self,
        provider: &str,
        environment: Option<&str>,
        practice: bool,
        redirect_page: Option<&str>,
    ) -> Result<RedirectPlan> {
        let (p, env) = self.resolve(provider, environment)?;
        RedirectPlan::choose(p, env, self.distribution(practice), redirect_page)
    }

    /// Give every vendor request this timeout instead of [`crate::http::REQUEST_TIMEOUT`].
    pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Result<Connections> {
        self.http = crate::http::client_with_timeout(timeout)?;
        Ok(self)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Where the credentials are kept, in the admin's words.
    pub fn location(&self) -> &'static str {
        self.tokens.location()
    }

    /// The connections whose renewed sign-in is held in memory only (the keychain refused it).
    pub fn unsaved(&self) -> Vec<String> {
        self.tokens.unsaved()
    }

    /// Try once more to store every renewed sign-in held in memory (before a process ends).
    /// Returns the connections still not stored.
    pub async fn flush_unsaved(&self) -> Vec<String> {
        self.tokens.flush_unsaved().await
    }

    /// The id a connection is stored under: one per system, environment and mode.
    pub fn connection_id(provider: &str, environment: &str, practice: bool) -> String {
        format!(
            "{}{provider}:{environment}",
            if practice { "practice:" } else { "" }
        )
    }

    pub(crate) fn route(&self, practice: bool) -> Result<Route> {
        match (practice, &self.practice) {
            (false, _) => Ok(Route::Vendor),
            (true, Some(base)) => Ok(Route::Emulator(base.clone())),
            (true, None) => Err(Error::new(
                ErrorKind::NotFound,
                "Practice mode is not running, so practice connections cannot be used right now. Start Patchbay in practice mode.",
            )),
        }
    }

    pub(crate) fn resolve(
        &self,
        provider: &str,
        environment: Option<&str>,
    ) -> Result<(&ProviderSpec, &EnvironmentSpec)> {
        let p = self.catalog.provider(provider)?;
        let env = p.environment(environment.unwrap_or(&p.default_environment))?;
        Ok((p, env))
    }

    pub(crate) fn endpoint<'a>(
        &'a self,
        p: &'a ProviderSpec,
        env: &'a EnvironmentSpec,
        route: &'a Route,
        keys: &'a Keys,
    ) -> Endpoint<'a> {
        Endpoint {
            http: &self.http,
            provider: p,
            env,
            route,
            keys,
        }
    }

    fn connection(&self, id: &str) -> Result<Resolved<'_>> {
        let record = self.settings.connection(id)?.ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("There is no connection \"{id}\". Run `patchbay status` to see them."),
            )
        })?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        Ok(Resolved { record, p, env })
    }

    fn renewer<'c>(&'c self, c: &Resolved<'c>) -> VendorRenew<'c> {
        VendorRenew {
            connections: self,
            p: c.p,
            env: c.env,
            practice: c.record.practice,
        }
    }

    /// A connection's status as Home shows it, from what the caller already knows.
    pub(crate) fn project(
        &self,
        record: ConnectionRecord,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        state: ConnectionState,
    ) -> ConnectionStatus {
        ConnectionStatus {
            system: p.name.clone(),
            environment_label: env.label.clone(),
            state,
            stored_in: self.location().to_string(),
            record,
        }
    }

    /// The state of one connection, from the settings and the keychain (no network).
    pub async fn status(&self, id: &str) -> Result<ConnectionStatus> {
        let Resolved { mut record, p, env } = self.connection(id)?;
        let state = match self.tokens.load(id).await {
            // Listed all the same (Home, the report), with the keychain as its problem.
            Err(e) if e.kind() == ErrorKind::Keychain => {
                record.last_error = Some(LastError::of(&e));
                ConnectionState::KeychainUnavailable
            }
            Err(e) => return Err(e),
            Ok(None) => {
                if record.needs_reconnect.is_none() {
                    record.needs_reconnect = Some(self.tokens.missing(p).message().to_string());
                }
                ConnectionState::NeedsReconnect
            }
            Ok(Some(g)) => {
                record.expires_at = g.expires_at;
                if record.needs_reconnect.is_some() {
                    ConnectionState::NeedsReconnect
                } else if g.fresh(now(), p.auth.mechanism().refresh_margin()) {
                    ConnectionState::Connected
                } else {
                    ConnectionState::NeedsRefresh
                }
            }
        };
        Ok(self.project(record, p, env, state))
    }

    /// Every connection, in the order they were made.
    pub async fn list(&self) -> Result<Vec<ConnectionStatus>> {
        let mut out = Vec::new();
        for r in self.settings.connections()? {
            out.push(self.status(&r.id).await?);
        }
        Ok(out)
    }

    /// A valid access token, renewed first if it expires within the margin (or if `force`),
    /// once however many tasks and processes ask (see [`crate::token_source`]).
    pub async fn access_token(&self, id: &str, force: bool) -> Result<SecretString> {
        let c = self.connection(id)?;
        let grant = self.tokens.grant(id, c.p).await?;
        self.tokens
            .token(id, c.p, &grant, force, &self.renewer(&c))
            .await
    }

    /// Whether practice connections can be used (practice mode is on).
    pub fn practice_available(&self) -> bool {
        self.practice.is_some()
    }

    /// Renews the connection's access token if it would lapse within `ahead` seconds, or if
    /// the refresh token's own lifetime ends within `refresh_ahead` (a renewal rolls it on).
    /// Whether it was due; a renewal another process or task made meanwhile counts as done
    /// (the token source never renews twice for one need).
    pub async fn renew_if_due(&self, id: &str, ahead: i64, refresh_ahead: i64) -> Result<bool> {
        let c = self.connection(id)?;
        let grant = self.tokens.grant(id, c.p).await?;
        let t = now();
        let lapses = |at: Option<i64>, within: i64| at.is_some_and(|at| at - t < within);
        let due = grant.access_token.is_none()
            || lapses(grant.expires_at, ahead)
            || (grant.refresh_token.is_some() && lapses(grant.refresh_expires_at, refresh_ahead));
        if due {
            self.tokens
                .token(id, c.p, &grant, true, &self.renewer(&c))
                .await?;
        }
        Ok(due)
    }

    /// What a preview import of a connection needs, with one keychain read when the stored
    /// access token is still fresh (a renewal goes through the token source's single flight).
    pub async fn preview_target(&self, id: &str) -> Result<PreviewTarget> {
        let c = self.connection(id)?;
        let route = self.route(c.record.practice)?;
        let grant = self.tokens.grant(id, c.p).await?;
        let token = self
            .tokens
            .token(id, c.p, &grant, false, &self.renewer(&c))
            .await?;
        Ok(PreviewTarget {
            provider: c.p.clone(),
            environment: c.env.clone(),
            route,
            params: grant.params,
            token,
            http: self.http.clone(),
        })
    }

    /// Renew if needed and make the verify call: proves the connection works right now.
    pub async fn check(&self, id: &str) -> Result<ConnectionStatus> {
        let c = self.connection(id)?;
        let p = c.p;
        let result = async {
            let route = self.route(c.record.practice)?;
            let grant = self.tokens.grant(id, p).await?;
            let renew = self.renewer(&c);
            let keys = Keys::of(&grant);
            let ep = self.endpoint(p, c.env, &route, &keys);
            let token = self.tokens.token(id, p, &grant, false, &renew).await?;
            let (first, ms) = timed(ep.verify(&token, &grant.params)).await;
            match first {
                // The access token alone may have been revoked or expired early: one renewal
                // tells that apart from a grant that is gone.
                Err(e) if e.kind() == ErrorKind::Reconnect && grant.refresh_token.is_some() => {
                    tracing::info!(system = %p.name, error = %e.detailed(), "verify refused the access token; refreshing once");
                    let token = self.tokens.token(id, p, &grant, true, &renew).await?;
                    let (again, ms) = timed(ep.verify(&token, &grant.params)).await;
                    again.map(|identity| (identity, ms))
                }
                r => r.map(|identity| (identity, ms)),
            }
        }
        .await;
        match result {
            Ok((identity, verify_ms)) => {
                let t = now();
                tracing::info!(system = %p.name, verify_ms, "verified");
                let mut record = c.record.clone();
                self.settings.update(id, |r| {
                    r.map(|mut r| {
                        r.identity = Some(identity);
                        r.verified_at = Some(t);
                        r.timings.verify_ms = Some(verify_ms);
                        r.last_error = None;
                        r.needs_reconnect = None;
                        record = r.clone();
                        r
                    })
                })?;
                Ok(self.project(record, p, c.env, ConnectionState::Connected))
            }
            Err(e) => {
                tracing::warn!(system = %p.name, kind = %e.kind(), error = %e.detailed(), "check failed");
                self.settings.note_error(id, &e);
                Err(e)
            }
        }
    }

    /// Revoke where the vendor offers it, then delete the keychain entries and the record.
    /// `keep_settings`: the mappings are kept for the next connect (never deleted unasked).
    pub async fn disconnect(&self, id: &str, keep_settings: bool) -> Result<Revocation> {
        let c = self.connection(id)?;
        let (p, env) = (c.p, c.env);
        let grant = self.tokens.load(id).await?;
        let revocation = match (&grant, env.revoke_url.is_some()) {
            (_, false) => Revocation::NotOffered,
            (None, true) => Revocation::Failed(
                "The saved credentials were already gone, so nothing could be revoked.".into(),
            ),
            (Some(g), true) => match g.refresh_token.as_ref().or(g.access_token.as_ref()) {
                None => Revocation::NotOffered,
                Some(t) => {
                    let route = self.route(c.record.practice)?;
                    let keys = Keys::of(g);
                    match self.endpoint(p, env, &route, &keys).revoke(t).await {
                        Ok(true) => Revocation::Revoked,
                        Ok(false) => Revocation::NotOffered,
                        Err(e) => Revocation::Failed(format!(
                            "{} You can also remove Patchbay from {}'s own list of connected apps.",
                            e.message(),
                            p.name
                        )),
                    }
                }
            },
        };
        self.tokens.remove(id).await?;
        self.settings.remove(id, keep_settings)?;
        tracing::info!(system = %p.name, ?revocation, "disconnected");
        Ok(revocation)
    }
}

/// A connection ready for a preview import: where to send requests and with what.
#[derive(Debug)]
pub struct PreviewTarget {
    pub provider: ProviderSpec,
    pub environment: EnvironmentSpec,
    pub route: Route,
    /// Values the API paths need (e.g. QuickBooks Online's `realmId`).
    pub params: BTreeMap<String, String>,
    pub token: SecretString,
    /// The connections' shared client, so its connection pool is reused between imports.
    pub http: reqwest::Client,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Unavailable};

    const ID: &str = "aspire:production";

    /// Connections on the in-memory store with one Aspire connection on record.
    fn on_record(store: Arc<dyn SecretStore>) -> (tempfile::TempDir, Connections) {
        let dir = tempfile::tempdir().unwrap();
        let c = Connections::new(
            Catalog::builtin().unwrap(),
            store,
            Paths::under(dir.path()),
            None,
        )
        .unwrap();
        let record = ConnectionRecord::for_tests(ID, "aspire", "production");
        c.settings().update(ID, |_| Some(record)).unwrap();
        (dir, c)
    }

    fn grant(expires_in: i64) -> Grant {
        Grant::for_tests(1, "access", now() + expires_in)
    }

    #[tokio::test]
    async fn home_shows_each_state_from_the_record_and_the_keychain() {
        let store = Arc::new(MemoryStore::default());
        let (_dir, c) = on_record(store.clone());
        // On record, but nothing in the keychain: reconnect, saying why.
        let s = c.status(ID).await.unwrap();
        assert_eq!(s.state, ConnectionState::NeedsReconnect);
        let why = s.record.needs_reconnect.unwrap_or_default();
        assert!(why.contains("no longer in"), "{why}");
        // Aspire renews 10 minutes early: an hour left is connected, five minutes is due.
        let vault = Vault::new(store);
        vault.save(ID, &grant(3600)).unwrap();
        assert_eq!(
            c.status(ID).await.unwrap().state,
            ConnectionState::Connected
        );
        vault.save(ID, &grant(300)).unwrap();
        assert_eq!(
            c.list().await.unwrap()[0].state,
            ConnectionState::NeedsRefresh
        );
        // A keychain that cannot be read: the connection is listed all the same, with why.
        let dead = Error::keychain("The keyring is locked.");
        let (_dir, c) = on_record(Arc::new(Unavailable::new(&dead)));
        let s = c.status(ID).await.unwrap();
        assert_eq!(s.state, ConnectionState::KeychainUnavailable);
        assert_eq!(s.record.last_error.unwrap().kind, ErrorKind::Keychain);
    }

    #[tokio::test]
    async fn disconnecting_a_system_without_revocation_forgets_it_here() {
        let store = Arc::new(MemoryStore::default());
        let (_dir, c) = on_record(store.clone());
        Vault::new(store.clone()).save(ID, &grant(3600)).unwrap();
        // Aspire offers no revocation: nothing is asked of the vendor (no route is needed).
        assert_eq!(
            c.disconnect(ID, false).await.unwrap(),
            Revocation::NotOffered
        );
        assert!(
            Vault::new(store).load(ID).unwrap().is_none(),
            "keychain entry deleted"
        );
        assert!(c.list().await.unwrap().is_empty(), "record removed");
        let e = c.status(ID).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn a_practice_connection_needs_practice_mode() {
        let store = Arc::new(MemoryStore::default());
        let (_dir, c) = on_record(store);
        assert_eq!(c.route(false).unwrap(), Route::Vendor);
        let e = c.route(true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.message().contains("Start Patchbay in practice mode"));
    }

    #[test]
    fn the_emulator_address_is_on_this_computer_only() {
        for ok in [
            "http://127.0.0.1:9000",
            "http://localhost:1/",
            "http://[::1]:8/",
            "http://127.5.6.7/",
        ] {
            assert!(check_emulator_url(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5:9000",
            "http://emulator.example.com",
            "http://127.0.0.1.nip.io/",
            "file:///tmp/x",
        ] {
            let e = check_emulator_url(&Url::parse(bad).unwrap()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }
}
