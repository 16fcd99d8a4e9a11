//! Connections: connect (both mechanisms), keep fresh (single-flight refresh), verify,
//! disconnect, and the state Home shows. Everything the app and the CLI do goes through here.

use crate::callback::{CallbackListener, CallbackParams, Expectation, parse_pasted_address};
use crate::catalog::{Catalog, EnvironmentSpec, Mechanism, ProviderSpec, Signal};
use crate::checklist::Event;
use crate::crashpoint;
use crate::distribution::Distribution;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Route;
use crate::oauth::{self, TokenSet, now};
use crate::redirect::{RedirectPlan, Via};
use crate::settings::{ConnectionRecord, LastError, Paths, RefreshMark, Settings, Timings};
use crate::store::{Grant, SecretStore, Vault};
use crate::{exchange, verify};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How long the Allow step waits for the browser by default.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// The generation of a newly connected grant: past the old one's, and for a connection made
/// anew (after a disconnect, maybe by another process) the clock in milliseconds, so it is past
/// any generation a process may still remember from the disconnected one.
fn next_generation(old: Option<u64>) -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    old.map_or(ms, |g| g.saturating_add(1).max(ms))
}

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

/// How long a refresh waits for another process's refresh of the same connection: far longer
/// than a refresh takes, so only a hung holder reaches it. Debug builds (the tests) may shorten
/// it with `PATCHBAY_LOCK_WAIT_SECS`.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

fn lock_wait() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var("PATCHBAY_LOCK_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return Duration::from_secs(secs);
    }
    LOCK_WAIT
}

/// Take the cross-process lock in `path`, waiting at most `wait` for another holder; `None` when
/// the holder kept it all that time.
fn lock_within(path: &std::path::Path, wait: Duration) -> std::io::Result<Option<std::fs::File>> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let until = Instant::now() + wait;
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// Opens a URL in the admin's browser. Two real implementations: the OS launcher (the app's
/// opener plugin, the CLI's `webbrowser`), and whatever `BROWSER` points at in tests.
pub trait Browser: Send + Sync {
    fn open(&self, url: &str) -> std::result::Result<(), String>;
}

/// What the admin asked for.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    pub provider: String,
    /// `None`: the system's default environment.
    pub environment: Option<String>,
    pub practice: bool,
    /// Raw pasted values by field id ("client_id", "client_secret"); cleaned here.
    pub fields: BTreeMap<String, SecretString>,
    /// The admin's catalog file the system comes from, if it is not built in.
    pub catalog_file: Option<std::path::PathBuf>,
    /// An https page of the admin's own registered as the redirect URI, where the vendor
    /// refuses loopback and the distribution has no relay (see [`crate::redirect`]).
    pub redirect_page: Option<String>,
}

/// Everything the Allow step needs besides the request.
pub struct ConnectHooks<'a> {
    pub browser: &'a dyn Browser,
    pub events: &'a (dyn Fn(Event) + Send + Sync),
    pub cancel: CancellationToken,
    /// Addresses the admin pastes ("paste the address your browser ended on").
    pub pasted: Option<mpsc::Receiver<String>>,
    pub deadline: Duration,
}

impl std::fmt::Debug for ConnectHooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectHooks")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
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
    vault: Vault,
    settings: Settings,
    http: reqwest::Client,
    practice: Option<Url>,
    /// The distributor's apps and relays, for real connections.
    distribution: Distribution,
    /// Practice mode's own "distributor" (the emulator's apps and relay), for practice ones.
    practice_distribution: Distribution,
    /// One refresh at a time per connection in this process; the slot holds the token the last
    /// refresh here got, so the callers that waited for it need not read the keychain again.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Refreshed>>>>>,
    /// Renewed grants the keychain would not store (locked, failing): kept in memory only, used
    /// instead of the keychain's older one and written again at every use, so a refresh token
    /// the vendor rotated is never lost while this process runs.
    unsaved: Mutex<HashMap<String, Grant>>,
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
        Ok(Connections {
            catalog,
            vault: Vault::new(store),
            settings: Settings::new(paths),
            http: crate::http::client()?,
            practice,
            distribution: Distribution::default(),
            practice_distribution: Distribution::default(),
            flights: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(HashMap::new()),
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

    fn distribution(&self, practice: bool) -> &Distribution {
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

    /// The Client ID and secret: the distributor's where the distribution supplies them (pasted
    /// fields are then not expected), else the admin's cleaned fields.
    fn app_keys(
        &self,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        req: &ConnectRequest,
    ) -> Result<(String, SecretString)> {
        match self
            .distribution(req.practice)
            .system(&p.id, &env.id)
            .and_then(|d| Some((d.client_id.clone()?, d.client_secret.clone()?)))
        {
            Some(keys) => Ok(keys),
            None => clean_fields(p, &req.fields),
        }
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

    pub fn stored_in(&self) -> &'static str {
        self.vault.location()
    }

    /// The id a connection is stored under: one per system, environment and mode.
    pub fn connection_id(provider: &str, environment: &str, practice: bool) -> String {
        format!(
            "{}{provider}:{environment}",
            if practice { "practice:" } else { "" }
        )
    }

    fn route(&self, practice: bool) -> Result<Route> {
        match (practice, &self.practice) {
            (false, _) => Ok(Route::Vendor),
            (true, Some(base)) => Ok(Route::Emulator(base.clone())),
            (true, None) => Err(Error::new(
                ErrorKind::NotFound,
                "Practice mode is not running, so practice connections cannot be used right now. Start Patchbay in practice mode.",
            )),
        }
    }

    fn resolve(
        &self,
        provider: &str,
        environment: Option<&str>,
    ) -> Result<(&ProviderSpec, &EnvironmentSpec)> {
        let p = self.catalog.provider(provider)?;
        let env = p.environment(environment.unwrap_or(&p.default_environment))?;
        Ok((p, env))
    }

    /// Connect a system: clean the fields, run its mechanism, verify, store. Emits every step
    /// as an [`Event`] for the checklist; the result is also returned.
    pub async fn connect(
        &self,
        req: ConnectRequest,
        hooks: ConnectHooks<'_>,
    ) -> Result<ConnectionStatus> {
        let events = hooks.events;
        let result = self.connect_inner(&req, hooks).await;
        if let Err(e) = &result {
            events(Event::failed(e));
            tracing::warn!(system = %req.provider, kind = %e.kind(), error = %e.detailed(), "connect failed");
            if let Ok((p, env)) = self.resolve(&req.provider, req.environment.as_deref()) {
                let id = Self::connection_id(&p.id, &env.id, req.practice);
                self.note_error(&id, e);
            }
        }
        result
    }

    async fn connect_inner(
        &self,
        req: &ConnectRequest,
        hooks: ConnectHooks<'_>,
    ) -> Result<ConnectionStatus> {
        let started = Instant::now();
        let (p, env) = self.resolve(&req.provider, req.environment.as_deref())?;
        let route = self.route(req.practice)?;
        let events = hooks.events;
        let (client_id, secret) = self.app_keys(p, env, req)?;
        let plan = RedirectPlan::choose(
            p,
            env,
            self.distribution(req.practice),
            req.redirect_page.as_deref(),
        )?;
        let id = Self::connection_id(&p.id, &env.id, req.practice);
        // Read the keychain first: if it cannot be used, say so before anything is asked of the vendor.
        let old = self.load_grant(&id).await?;
        events(Event::Ok {
            signal: Signal::FieldsClean,
        });
        let (tokens, params, token_ms) = match p.mechanism {
            Mechanism::AuthorizationCode => {
                self.authorize(p, env, &route, &plan, (&client_id, &secret), hooks)
                    .await?
            }
            Mechanism::TokenExchange => {
                let (tokens, ms) = timed(exchange::authenticate(
                    &self.http, p, env, &route, &client_id, &secret,
                ))
                .await;
                let tokens = match tokens {
                    Err(e) if e.kind() == ErrorKind::InvalidClient => {
                        return Err(self
                            .other_environment_exchange(p, env, &route, &client_id, &secret)
                            .await
                            .unwrap_or(e));
                    }
                    r => r?,
                };
                (tokens, BTreeMap::new(), ms)
            }
        };
        events(Event::Ok {
            signal: Signal::TokenIssued,
        });
        let (verified, verify_ms) = timed(verify::verify(
            &self.http,
            p,
            env,
            &route,
            &tokens.access_token,
            &params,
        ))
        .await;
        let identity = match verified {
            Err(e) if e.kind() == ErrorKind::Reconnect => {
                return Err(self
                    .other_environment_verify(p, env, &route, &tokens.access_token, &params)
                    .await
                    .unwrap_or(e));
            }
            r => r?,
        };
        crate::preview::read_one_of_each(&self.http, p, env, &route, &tokens.access_token, &params)
            .await?;
        events(Event::Ok {
            signal: Signal::Verified,
        });
        // The new grant replaces the old one only now, once it has been proven to work, under
        // the refresh locks: a refresh of the old grant running now (here or in another process)
        // finishes first and cannot overwrite it afterwards.
        let flight = self.flight(&id)?;
        let mut slot = flight.lock().await;
        let _cross_process = self.lock_file(&id).await?;
        let latest = self.load_grant(&id).await.ok().flatten().or(old);
        let grant = Grant {
            client_id,
            client_secret: secret,
            refresh_token: tokens.refresh_token.clone(),
            refresh_expires_at: tokens.refresh_expires_at,
            params,
            access_token: Some(tokens.access_token.clone()),
            expires_at: tokens.expires_at,
            generation: next_generation(latest.as_ref().map(|g| g.generation)),
        };
        self.save_grant(&id, grant.clone()).await?;
        self.forget_unsaved(&id);
        // A token refreshed here for the old grant is nobody's any more.
        *slot = None;
        drop(slot);
        events(Event::Ok {
            signal: Signal::Stored,
        });
        let t = now();
        let label = p.display_name(env);
        // A connection made again after a disconnect that kept its settings starts from them.
        let kept = self.settings.kept_mappings(&id)?;
        let timings = Timings {
            connect_ms: Some(elapsed_ms(started)),
            token_ms: Some(token_ms),
            verify_ms: Some(verify_ms),
        };
        self.settings.update(&id, |r| {
            let created_at = r.as_ref().map_or(t, |r| r.created_at);
            Some(ConnectionRecord {
                id: id.clone(),
                provider: p.id.clone(),
                environment: env.id.clone(),
                practice: req.practice,
                label: label.clone(),
                created_at,
                identity: Some(identity.clone()),
                verified_at: Some(t),
                expires_at: grant.expires_at,
                refreshed_at: Some(t),
                needs_reconnect: None,
                last_error: None,
                refresh_started: None,
                catalog_file: req
                    .catalog_file
                    .clone()
                    .or(r.as_ref().and_then(|r| r.catalog_file.clone())),
                mappings: r.map(|r| r.mappings).unwrap_or(kept),
                timings,
            })
        })?;
        // The old grant is not revoked on reconnect: at Intuit, revoking any token disconnects the
        // app from the company, which would also end the connection just made.
        tracing::info!(
            system = %p.name,
            environment = %env.id,
            connect_ms = timings.connect_ms,
            token_ms,
            verify_ms,
            "connected"
        );
        self.status(&id).await
    }

    async fn authorize(
        &self,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        route: &Route,
        plan: &RedirectPlan,
        (client_id, secret): (&str, &SecretString),
        hooks: ConnectHooks<'_>,
    ) -> Result<(TokenSet, BTreeMap<String, String>, u64)> {
        let o = oauth::spec(p)?;
        let callback_url = match (plan.via, &plan.redirect_uri) {
            (Via::NeedsPage, _) | (_, None) => {
                return Err(Error::new(
                    ErrorKind::RedirectMismatch,
                    plan.advice.clone().unwrap_or_else(|| {
                        format!("{} needs an https address to send you back to.", p.name)
                    }),
                ));
            }
            (_, Some(uri)) => uri.clone(),
        };
        // Through the admin's own page the answer is pasted, never sent here: no fixed port is
        // needed (a free one keeps the wait the same), and the checklist says "not needed".
        let listener = if plan.via == Via::OwnPage {
            CallbackListener::bind(0).await?
        } else {
            let listener = CallbackListener::bind(o.callback_port).await?;
            (hooks.events)(Event::Ok {
                signal: Signal::PortFree,
            });
            listener
        };
        let request = oauth::authorization_request(p, env, route, client_id, &callback_url)?;
        oauth::probe_authorize(&self.http, p, &request.url).await?;
        let exp = Expectation {
            path: o.callback_path.clone(),
            port: o.callback_port,
            state: request.state.secret().clone(),
            keep: o.keep_callback_params.clone(),
            // The relay's or the admin's page: the address the browser ends on when the answer
            // cannot be handed to the listener, pasted as it is.
            page: match plan.via {
                Via::Loopback => vec![],
                _ => [
                    Url::parse(&callback_url).ok(),
                    route.url(&callback_url).ok(),
                ]
                .into_iter()
                .flatten()
                .collect(),
            },
        };
        (hooks.events)(Event::Authorize {
            url: request.url.to_string(),
            callback_url: callback_url.clone(),
            deadline_secs: hooks.deadline.as_secs(),
        });
        match hooks.browser.open(request.url.as_str()) {
            Ok(()) => (hooks.events)(Event::Ok {
                signal: Signal::BrowserOpened,
            }),
            Err(why) => {
                // Not the end: the admin can copy the link or paste the address.
                let e = Error::new(
                    ErrorKind::BrowserLaunch,
                    "Patchbay could not open your web browser. Use \"Copy the link\", open it in your browser, and click Allow.",
                );
                // What the OS said is for the log, not for the admin.
                tracing::warn!(%why, "browser launch failed");
                (hooks.events)(Event::failed(&e));
            }
        }
        let (tx, rx) = mpsc::channel::<CallbackParams>(1);
        let forwarder = hooks.pasted.map(|mut pasted| {
            let exp = exp.clone();
            let name = p.name.clone();
            let events = hooks.events;
            async move {
                while let Some(addr) = pasted.recv().await {
                    match parse_pasted_address(&name, &addr, &exp) {
                        Ok(params) => {
                            let _ = tx.send(params).await;
                            return;
                        }
                        Err(e) if e.kind() == ErrorKind::InvalidInput => {
                            events(Event::PasteRejected {
                                message: e.message().to_string(),
                            })
                        }
                        Err(e) => events(Event::failed(&e)),
                    }
                }
                // The paste channel closed: keep waiting for the browser.
                std::future::pending::<()>().await
            }
        });
        let wait = listener.wait(&p.name, exp, hooks.deadline, hooks.cancel.clone(), rx);
        let params = match forwarder {
            Some(f) => {
                tokio::pin!(wait);
                tokio::pin!(f);
                tokio::select! { r = &mut wait => r?, _ = &mut f => wait.await? }
            }
            None => wait.await?,
        };
        (hooks.events)(Event::Ok {
            signal: Signal::Authorized,
        });
        let (tokens, ms) = timed(oauth::exchange_code(
            &self.http,
            p,
            env,
            route,
            client_id,
            secret,
            &callback_url,
            &params.code,
            request.pkce_verifier,
        ))
        .await;
        Ok((tokens?, params.params, ms))
    }

    /// Invalid credentials in one environment may be valid in another: say so precisely.
    async fn other_environment_exchange(
        &self,
        p: &ProviderSpec,
        chosen: &EnvironmentSpec,
        route: &Route,
        client_id: &str,
        secret: &SecretString,
    ) -> Option<Error> {
        for env in p.environments.iter().filter(|e| e.id != chosen.id) {
            if exchange::authenticate(&self.http, p, env, route, client_id, secret)
                .await
                .is_ok()
            {
                return Some(wrong_environment(p, chosen, env));
            }
        }
        None
    }

    async fn other_environment_verify(
        &self,
        p: &ProviderSpec,
        chosen: &EnvironmentSpec,
        route: &Route,
        token: &SecretString,
        params: &BTreeMap<String, String>,
    ) -> Option<Error> {
        for env in p.environments.iter().filter(|e| e.id != chosen.id) {
            if verify::verify(&self.http, p, env, route, token, params)
                .await
                .is_ok()
            {
                return Some(wrong_environment(p, chosen, env));
            }
        }
        None
    }

    /// The connection is on record but its keychain entry is gone (deleted by another program,
    /// a keychain reset, a profile copied to a new computer): a keychain matter, fixed by
    /// connecting again.
    fn missing_grant(&self, p: &ProviderSpec) -> Error {
        Error::keychain(format!(
            "The saved credentials for {} are no longer in {} (something removed them). Connect again to save new ones; your settings are kept.",
            p.name,
            self.vault.location()
        ))
    }

    /// The connection's grant: a renewed one the keychain has not taken yet (written again now),
    /// else the keychain's.
    async fn load_grant(&self, id: &str) -> Result<Option<Grant>> {
        let vault = self.vault.clone();
        let key = id.to_string();
        let stored = tokio::task::spawn_blocking(move || vault.load(&key))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))?;
        let Some(unsaved) = self.unsaved_grant(id) else {
            return stored;
        };
        match &stored {
            // Someone stored a newer one (another process): it wins.
            Ok(Some(g)) if g.generation >= unsaved.generation => {
                self.forget_unsaved(id);
                stored
            }
            _ => {
                if self.save_grant(id, unsaved.clone()).await.is_ok() {
                    self.forget_unsaved(id);
                    tracing::info!("a renewed sign-in the keychain had refused is now stored");
                }
                Ok(Some(unsaved))
            }
        }
    }

    fn unsaved_grant(&self, id: &str) -> Option<Grant> {
        self.unsaved.lock().ok().and_then(|m| m.get(id).cloned())
    }

    fn forget_unsaved(&self, id: &str) {
        if let Ok(mut m) = self.unsaved.lock() {
            m.remove(id);
        }
    }

    /// The in-process refresh slot of a connection (one refresh at a time).
    fn flight(&self, id: &str) -> Result<Arc<tokio::sync::Mutex<Option<Refreshed>>>> {
        let mut map = self
            .flights
            .lock()
            .map_err(|_| Error::internal("A lock inside Patchbay was broken."))?;
        Ok(map.entry(id.to_string()).or_default().clone())
    }

    /// Where the credentials are kept, in the admin's words.
    pub fn location(&self) -> &'static str {
        self.vault.location()
    }

    /// The connections whose renewed sign-in is held in memory only (the keychain refused it).
    pub fn unsaved(&self) -> Vec<String> {
        self.unsaved
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Try once more to store every renewed sign-in held in memory (before a process ends).
    /// Returns the connections still not stored.
    pub async fn flush_unsaved(&self) -> Vec<String> {
        for id in self.unsaved() {
            let _ = self.load_grant(&id).await;
        }
        self.unsaved()
    }

    async fn save_grant(&self, id: &str, grant: Grant) -> Result<()> {
        let vault = self.vault.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || vault.save(&id, &grant))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))?
    }

    /// Store a renewed grant, trying again briefly when the keychain refuses; when it still
    /// refuses, the grant is kept in memory (never on disk) and written at the next use, and the
    /// refresh still succeeds: the vendor may already have retired the old refresh token.
    async fn store_renewed(&self, id: &str, p: &ProviderSpec, grant: Grant) {
        let mut last = None;
        for pause in [0, 150, 600] {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            match self.save_grant(id, grant.clone()).await {
                Ok(()) => {
                    self.forget_unsaved(id);
                    return;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            tracing::error!(system = %p.name, error = %e.detailed(), "the keychain refused the renewed sign-in; kept in memory until it takes it");
            self.note_error(
                id,
                &Error::keychain(format!(
                    "Patchbay renewed the {} connection but {} would not save it. Patchbay keeps it while it is open and saves it as soon as it can: unlock the keychain and keep Patchbay open until the connection shows Connected. {}",
                    p.name,
                    self.vault.location(),
                    e.message()
                )),
            );
        }
        if let Ok(mut m) = self.unsaved.lock() {
            m.insert(id.to_string(), grant);
        }
    }

    fn note_error(&self, id: &str, e: &Error) {
        let last = last_error(e);
        let reconnect = (e.kind() == ErrorKind::Reconnect).then(|| e.message().to_string());
        let _ = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.last_error = Some(last);
                if reconnect.is_some() {
                    r.needs_reconnect = reconnect;
                }
                r
            })
        });
    }

    fn record(&self, id: &str) -> Result<ConnectionRecord> {
        self.settings.connection(id)?.ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("There is no connection \"{id}\". Run `patchbay status` to see them."),
            )
        })
    }

    /// The state of one connection, from the settings and the keychain (no network).
    pub async fn status(&self, id: &str) -> Result<ConnectionStatus> {
        let mut record = self.record(id)?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        let state = match self.load_grant(id).await {
            // Listed all the same (Home, the report), with the keychain as its problem.
            Err(e) if e.kind() == ErrorKind::Keychain => {
                record.last_error = Some(last_error(&e));
                ConnectionState::KeychainUnavailable
            }
            Err(e) => return Err(e),
            Ok(None) => {
                if record.needs_reconnect.is_none() {
                    record.needs_reconnect = Some(self.missing_grant(p).message().to_string());
                }
                ConnectionState::NeedsReconnect
            }
            Ok(Some(g)) => {
                record.expires_at = g.expires_at;
                if record.needs_reconnect.is_some() {
                    ConnectionState::NeedsReconnect
                } else if g.fresh(now(), refresh_margin(p)) {
                    ConnectionState::Connected
                } else {
                    ConnectionState::NeedsRefresh
                }
            }
        };
        Ok(ConnectionStatus {
            system: p.name.clone(),
            environment_label: env.label.clone(),
            state,
            stored_in: self.vault.location().to_string(),
            record,
        })
    }

    /// Every connection, in the order they were made.
    pub async fn list(&self) -> Result<Vec<ConnectionStatus>> {
        let mut out = Vec::new();
        for r in self.settings.connections()? {
            out.push(self.status(&r.id).await?);
        }
        Ok(out)
    }

    /// A valid access token, refreshed first if it expires within the margin (or if `force`).
    ///
    /// Single-flight: one refresh per connection however many tasks (an in-process lock) and
    /// processes (a lock file) ask; whoever waited re-reads the stored grant first and uses the
    /// token the winner stored. A rotated refresh token is stored before the access token is
    /// handed out; `invalid_grant` marks the connection "reconnect".
    pub async fn access_token(&self, id: &str, force: bool) -> Result<SecretString> {
        let record = self.record(id)?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        let margin = refresh_margin(p);
        let before = self
            .load_grant(id)
            .await?
            .ok_or_else(|| self.missing_grant(p))?;
        if !force
            && before.fresh(now(), margin)
            && let Some(t) = before.access_token
        {
            return Ok(t);
        }
        let flight = self.flight(id)?;
        let mut slot = flight.lock().await;
        if let Some(r) = slot.as_ref()
            && r.generation > before.generation
            && r.expires_at.is_none_or(|exp| exp > now())
        {
            // A refresh in this process finished while we waited: its token is the newest.
            return Ok(r.token.clone());
        }
        let _cross_process = self.lock_file(id).await?;
        let current = self
            .load_grant(id)
            .await?
            .ok_or_else(|| self.missing_grant(p))?;
        // Whoever refreshed while we waited got the vendor's newest token: use it while it is
        // valid at all, even inside the margin (refreshing again would get no better one).
        let someone_else_refreshed = current.generation != before.generation;
        let usable = if someone_else_refreshed {
            current.fresh(now(), 0)
        } else {
            !force && current.fresh(now(), margin)
        };
        if usable && let Some(t) = current.access_token {
            return Ok(t);
        }
        let generation = current.generation + 1;
        match self.refresh_locked(id, p, env, &record, current).await {
            Ok((token, expires_at)) => {
                *slot = Some(Refreshed {
                    generation,
                    token: token.clone(),
                    expires_at,
                });
                Ok(token)
            }
            Err(e) => {
                tracing::warn!(system = %p.name, kind = %e.kind(), error = %e.detailed(), "refresh failed");
                self.note_error(id, &e);
                Err(e)
            }
        }
    }

    async fn refresh_locked(
        &self,
        id: &str,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        record: &ConnectionRecord,
        current: Grant,
    ) -> Result<(SecretString, Option<i64>)> {
        let route = self.route(record.practice)?;
        // Mark the refresh as started from this generation (we hold the refresh lock). A mark
        // left from this same generation means the last refresh never finished: the vendor may
        // have rotated the refresh token without Patchbay storing the new one.
        let interrupted = self
            .record(id)?
            .refresh_started
            .filter(|m| m.generation == current.generation);
        let mark = RefreshMark {
            at: now(),
            generation: current.generation,
        };
        // Best effort: a settings file that cannot be written must not stop the refresh itself.
        if let Err(e) = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refresh_started = Some(mark);
                r
            })
        }) {
            tracing::warn!(error = %e.detailed(), "could not mark the refresh as started");
        }
        crashpoint::reached(crashpoint::REFRESH_BEFORE_REQUEST);
        let (tokens, token_ms) = timed(self.refresh_request(p, env, &route, &current)).await;
        let tokens = match tokens {
            Ok(t) => t,
            Err(e) => {
                let definitive =
                    matches!(e.kind(), ErrorKind::Reconnect | ErrorKind::InvalidClient);
                if definitive {
                    self.clear_refresh_mark(id);
                }
                return Err(match interrupted {
                    Some(m) if e.kind() == ErrorKind::Reconnect => Error::new(
                        ErrorKind::Reconnect,
                        format!(
                            "The renewal of this connection that started {} ago was interrupted (Patchbay was closed, or the network dropped) before Patchbay could save what {name} sent back, and {name} no longer accepts the previous sign-in. Connect again; your settings are kept.",
                            crate::error::human_duration(now().saturating_sub(m.at).max(1) as u64),
                            name = p.name
                        ),
                    ),
                    _ => e,
                });
            }
        };
        crashpoint::reached(crashpoint::REFRESH_AFTER_RESPONSE);
        let grant = Grant {
            refresh_token: tokens
                .refresh_token
                .clone()
                .or(current.refresh_token.clone()),
            refresh_expires_at: tokens.refresh_expires_at.or(current.refresh_expires_at),
            access_token: Some(tokens.access_token.clone()),
            expires_at: tokens.expires_at,
            generation: current.generation + 1,
            ..current
        };
        // Stored before use; if the keychain refuses, held in memory and stored at the next use
        // (the vendor may have retired the old refresh token: it must not be lost).
        self.store_renewed(id, p, grant).await;
        crashpoint::reached(crashpoint::REFRESH_AFTER_WRITE);
        let t = now();
        let _ = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refreshed_at = Some(t);
                r.expires_at = tokens.expires_at;
                r.needs_reconnect = None;
                r.refresh_started = None;
                r.timings.token_ms = Some(token_ms);
                r
            })
        });
        tracing::info!(system = %p.name, token_ms, "refreshed");
        Ok((tokens.access_token, tokens.expires_at))
    }

    fn clear_refresh_mark(&self, id: &str) {
        let _ = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refresh_started = None;
                r
            })
        });
    }

    /// The vendor call of a refresh: the refresh token, or for a token exchange whose refresh
    /// token is refused, the kept client credentials.
    async fn refresh_request(
        &self,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        route: &Route,
        current: &Grant,
    ) -> Result<TokenSet> {
        let no_refresh_token = || Error::reconnect(&p.name);
        match p.mechanism {
            Mechanism::AuthorizationCode => {
                let rt = current
                    .refresh_token
                    .as_ref()
                    .ok_or_else(no_refresh_token)?;
                oauth::refresh(
                    &self.http,
                    p,
                    env,
                    route,
                    &current.client_id,
                    &current.client_secret,
                    rt,
                )
                .await
            }
            Mechanism::TokenExchange => {
                let refreshed = match &current.refresh_token {
                    Some(rt) => exchange::refresh(&self.http, p, env, route, rt).await,
                    None => Err(no_refresh_token()),
                };
                match refreshed {
                    // The client credentials are kept, so a dead refresh token is not the end.
                    Err(e) if e.kind() == ErrorKind::Reconnect => exchange::authenticate(
                        &self.http,
                        p,
                        env,
                        route,
                        &current.client_id,
                        &current.client_secret,
                    )
                    .await
                    .map_err(|e| match e.kind() {
                        ErrorKind::InvalidClient => Error::reconnect(&p.name),
                        _ => e,
                    }),
                    r => r,
                }
            }
        }
    }

    async fn lock_file(&self, id: &str) -> Result<std::fs::File> {
        let dir = self.settings.paths().lock_dir.clone();
        let name = crate::settings::file_stem(id);
        let path = dir.join(format!("{name}.lock"));
        let shown = path.clone();
        let wait = lock_wait();
        tokio::task::spawn_blocking(move || {
            crate::settings::private_dir(&dir)?;
            lock_within(&path, wait)
        })
        .await
        .map_err(|e| Error::internal("Could not take the refresh lock.").with_source(e))?
        .map_err(|e| {
            Error::storage(
                format!(
                    "Patchbay could not use its lock file {} on this computer. Check that its folder can be written, then try again.",
                    shown.display()
                ),
                e,
            )
        })?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Storage,
                format!(
                    "Another Patchbay window or command has been renewing this connection for over {} and has not finished. Close the other Patchbay windows (or wait for the other command), then try again.",
                    crate::error::human_duration(wait.as_secs())
                ),
            )
        })
    }

    /// What a preview of this connection reads: the system, environment, route and kept params.
    /// What a preview import of a connection needs, with one keychain read when the stored
    /// access token is still fresh (a refresh goes through `access_token`'s single flight).
    pub async fn preview_target(&self, id: &str) -> Result<PreviewTarget> {
        let record = self.record(id)?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        let route = self.route(record.practice)?;
        let grant = self
            .load_grant(id)
            .await?
            .ok_or_else(|| self.missing_grant(p))?;
        let fresh = grant.fresh(now(), refresh_margin(p));
        let token = match grant.access_token {
            Some(t) if fresh => t,
            _ => self.access_token(id, false).await?,
        };
        Ok(PreviewTarget {
            provider: p.clone(),
            environment: env.clone(),
            route,
            params: grant.params,
            token,
            http: self.http.clone(),
        })
    }

    /// Refresh if needed and make the verify call: proves the connection works right now.
    pub async fn check(&self, id: &str) -> Result<ConnectionStatus> {
        let record = self.record(id)?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        let route = self.route(record.practice)?;
        let result = async {
            let token = self.access_token(id, false).await?;
            let grant = self
                .load_grant(id)
                .await?
                .ok_or_else(|| self.missing_grant(p))?;
            let (route, params) = (&route, &grant.params);
            let verify = |token: SecretString| async move {
                timed(verify::verify(&self.http, p, env, route, &token, params)).await
            };
            let (first, ms) = verify(token).await;
            match first {
                // The access token alone may have been revoked or expired early: one refresh
                // tells that apart from a grant that is gone.
                Err(e) if e.kind() == ErrorKind::Reconnect && grant.refresh_token.is_some() => {
                    tracing::info!(system = %p.name, error = %e.detailed(), "verify refused the access token; refreshing once");
                    let (again, ms) = verify(self.access_token(id, true).await?).await;
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
                self.settings.update(id, |r| {
                    r.map(|mut r| {
                        r.identity = Some(identity);
                        r.verified_at = Some(t);
                        r.timings.verify_ms = Some(verify_ms);
                        r.last_error = None;
                        r.needs_reconnect = None;
                        r
                    })
                })?;
                self.status(id).await
            }
            Err(e) => {
                tracing::warn!(system = %p.name, kind = %e.kind(), error = %e.detailed(), "check failed");
                self.note_error(id, &e);
                Err(e)
            }
        }
    }

    /// Revoke at the vendor where offered, then delete the keychain entries and the record.
    /// Revoke where the vendor offers it, then delete the keychain entries and the record.
    /// `keep_settings`: the mappings are kept for the next connect (never deleted unasked).
    pub async fn disconnect(&self, id: &str, keep_settings: bool) -> Result<Revocation> {
        let record = self.record(id)?;
        let (p, env) = self.resolve(&record.provider, Some(&record.environment))?;
        let grant = self.load_grant(id).await?;
        let revocation = match (&grant, env.revoke_url.is_some()) {
            (_, false) => Revocation::NotOffered,
            (None, true) => Revocation::Failed(
                "The saved credentials were already gone, so nothing could be revoked.".into(),
            ),
            (Some(g), true) => {
                let route = self.route(record.practice)?;
                let token = g.refresh_token.as_ref().or(g.access_token.as_ref());
                match token {
                    None => Revocation::NotOffered,
                    Some(t) => match oauth::revoke(
                        &self.http,
                        p,
                        env,
                        &route,
                        &g.client_id,
                        &g.client_secret,
                        t,
                    )
                    .await
                    {
                        Ok(_) => Revocation::Revoked,
                        Err(e) => Revocation::Failed(format!(
                            "{} You can also remove Patchbay from {}'s own list of connected apps.",
                            e.message(),
                            p.name
                        )),
                    },
                }
            }
        };
        let vault = self.vault.clone();
        let key = id.to_string();
        tokio::task::spawn_blocking(move || vault.delete(&key))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))??;
        self.settings.remove(id, keep_settings)?;
        self.forget_unsaved(id);
        // Forget the last refreshed token too: nobody may be handed it after a disconnect.
        if let Ok(mut flights) = self.flights.lock() {
            flights.remove(id);
        }
        tracing::info!(system = %p.name, ?revocation, "disconnected");
        Ok(revocation)
    }
}

/// The outcome of the last refresh of a connection in this process.
#[derive(Debug)]
struct Refreshed {
    generation: u64,
    token: SecretString,
    expires_at: Option<i64>,
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

fn refresh_margin(p: &ProviderSpec) -> u64 {
    p.oauth
        .as_ref()
        .map(|o| o.refresh_margin_secs)
        .or(p.exchange.as_ref().map(|x| x.refresh_margin_secs))
        .unwrap_or(300)
}

fn wrong_environment(
    p: &ProviderSpec,
    chosen: &EnvironmentSpec,
    actual: &EnvironmentSpec,
) -> Error {
    Error::new(
        ErrorKind::WrongEnvironment,
        format!(
            "These keys belong to {} {}, but you chose {}. Choose {} and connect again, or make keys in {}.",
            p.name, actual.label, chosen.label, actual.label, chosen.label
        ),
    )
}

/// Clean the pasted Client ID and secret; a value that is empty or in the wrong format stops
/// here with the field's own words.
/// An error as a connection's last error, seen now.
fn last_error(e: &Error) -> LastError {
    LastError {
        kind: e.kind(),
        message: e.message().to_string(),
        provider_detail: e.provider_detail().map(str::to_string),
        at: now(),
    }
}

/// Run `call` and tell how long it took, in milliseconds (for [`Timings`]).
async fn timed<T>(call: impl std::future::Future<Output = T>) -> (T, u64) {
    let started = Instant::now();
    let out = call.await;
    (out, elapsed_ms(started))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn clean_fields(
    p: &ProviderSpec,
    fields: &BTreeMap<String, SecretString>,
) -> Result<(String, SecretString)> {
    let mut out = BTreeMap::new();
    for f in &p.fields {
        let raw = fields.get(&f.id).map(|s| s.expose_secret()).unwrap_or("");
        let (cleaned, check) = f.check(raw);
        if let Some(problem) = check.problem {
            return Err(Error::invalid_input(problem));
        }
        if !check.removed.is_empty() {
            tracing::info!(field = %f.id, removed = %check.removed, "cleaned pasted value");
        }
        out.insert(f.id.clone(), cleaned.value);
    }
    let id = out.remove("client_id").unwrap_or_default();
    let secret = SecretString::from(out.remove("client_secret").unwrap_or_default());
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_hung_lock_holder_is_waited_for_a_bounded_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.lock");
        let holder = lock_within(&path, Duration::ZERO).unwrap().expect("free");
        let started = Instant::now();
        assert!(
            lock_within(&path, Duration::from_millis(300))
                .unwrap()
                .is_none(),
            "held by another"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        drop(holder);
        assert!(
            lock_within(&path, Duration::ZERO).unwrap().is_some(),
            "free once released"
        );
    }
}
