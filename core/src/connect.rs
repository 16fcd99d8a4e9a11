//! The connect flow: clean the pasted keys, obtain a grant with the system's mechanism (for a
//! browser sign-in, the race between the loopback callback and an address the admin pastes),
//! verify it with a real API call, and only then store it. Every step is an [`Event`] for the
//! checklist.

use crate::callback::{CallbackListener, CallbackParams, Expectation, parse_pasted_address};
use crate::catalog::{EnvironmentSpec, OAuthSpec, ProviderSpec, Signal};
use crate::checklist::Event;
use crate::connections::{ConnectionState, ConnectionStatus, Connections};
use crate::endpoint::{Consent, Consented, Endpoint, Keys, Pending, elapsed_ms, timed};
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::{self, now};
use crate::redirect::{RedirectPlan, Via};
use crate::settings::{ConnectionRecord, Timings};
use crate::store::Grant;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How long the Allow step waits for the browser by default.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5 * 60);

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

impl Connections {
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
                self.settings().note_error(&id, e);
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
        let keys = self.app_keys(p, env, req)?;
        let plan = self.plan(
            &p.id,
            Some(&env.id),
            req.practice,
            req.redirect_page.as_deref(),
        )?;
        let id = Self::connection_id(&p.id, &env.id, req.practice);
        // Read the keychain first: if it cannot be used, say so before anything is asked of the vendor.
        let old = self.tokens().load(&id).await?;
        events(Event::Ok {
            signal: Signal::FieldsClean,
        });
        let ep = Endpoint {
            http: self.http(),
            provider: p,
            env,
            route: &route,
            keys: &keys,
        };
        let consent = BrowserConsent {
            plan: &plan,
            browser: hooks.browser,
            events,
            cancel: hooks.cancel,
            pasted: Mutex::new(hooks.pasted),
            deadline: hooks.deadline,
        };
        let obtained = match ep.obtain(&consent).await {
            Err(e) if e.kind() == ErrorKind::InvalidClient => {
                let elsewhere = elsewhere(&ep, |other| async move { other.keys_accepted().await });
                return Err(elsewhere.await.unwrap_or(e));
            }
            r => r?,
        };
        let tokens = obtained.tokens;
        let params = obtained.params;
        events(Event::Ok {
            signal: Signal::TokenIssued,
        });
        let (verified, verify_ms) = timed(ep.verify(&tokens.access_token, &params)).await;
        let identity = match verified {
            Err(e) if e.kind() == ErrorKind::Reconnect => {
                let (token, params) = (&tokens.access_token, &params);
                let elsewhere = elsewhere(&ep, |other| async move {
                    other.verify(token, params).await.is_ok()
                });
                return Err(elsewhere.await.unwrap_or(e));
            }
            r => r?,
        };
        crate::preview::read_one_of_each(&ep, &tokens.access_token, &params).await?;
        events(Event::Ok {
            signal: Signal::Verified,
        });
        // The new grant replaces the old one only now, once it has been proven to work.
        let grant = self
            .tokens()
            .replace(&id, old, |generation| Grant {
                client_id: keys.client_id.clone(),
                client_secret: keys.secret.clone(),
                refresh_token: tokens.refresh_token.clone(),
                refresh_expires_at: tokens.refresh_expires_at,
                params,
                access_token: Some(tokens.access_token.clone()),
                expires_at: tokens.expires_at,
                generation,
            })
            .await?;
        events(Event::Ok {
            signal: Signal::Stored,
        });
        let t = now();
        let label = p.display_name(env);
        // A connection made again after a disconnect that kept its settings starts from them.
        let kept = self.settings().kept_mappings(&id)?;
        let timings = Timings {
            connect_ms: Some(elapsed_ms(started)),
            token_ms: Some(obtained.token_ms),
            verify_ms: Some(verify_ms),
        };
        let mut record = None;
        self.settings().update(&id, |r| {
            let created_at = r.as_ref().map_or(t, |r| r.created_at);
            let new = ConnectionRecord {
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
            };
            record = Some(new.clone());
            Some(new)
        })?;
        // The old grant is not revoked on reconnect: at Intuit, revoking any token disconnects the
        // app from the company, which would also end the connection just made.
        tracing::info!(
            system = %p.name,
            environment = %env.id,
            connect_ms = timings.connect_ms,
            token_ms = obtained.token_ms,
            verify_ms,
            "connected"
        );
        match record {
            Some(record) => Ok(self.project(record, p, env, ConnectionState::Connected)),
            None => self.status(&id).await,
        }
    }

    /// The Client ID and secret: the distributor's where the distribution supplies them (pasted
    /// fields are then not expected), else the admin's cleaned fields.
    fn app_keys(
        &self,
        p: &ProviderSpec,
        env: &EnvironmentSpec,
        req: &ConnectRequest,
    ) -> Result<Keys> {
        match self
            .distribution(req.practice)
            .system(&p.id, &env.id)
            .and_then(|d| Some((d.client_id.clone()?, d.client_secret.clone()?)))
        {
            Some((client_id, secret)) => Ok(Keys { client_id, secret }),
            None => clean_fields(p, &req.fields),
        }
    }
}

/// Whether what failed in the chosen environment works in another one of the system: then the
/// admin chose the wrong one, said precisely.
async fn elsewhere<'e, F, Fut>(ep: &Endpoint<'e>, works: F) -> Option<Error>
where
    F: Fn(Endpoint<'e>) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let p = ep.provider;
    for env in p.environments.iter().filter(|e| e.id != ep.env.id) {
        if works(ep.in_environment(env)).await {
            return Some(Error::new(
                ErrorKind::WrongEnvironment,
                format!(
                    "These keys belong to {} {}, but you chose {}. Choose {} and connect again, or make keys in {}.",
                    p.name, env.label, ep.env.label, env.label, ep.env.label
                ),
            ));
        }
    }
    None
}

/// The admin's consent: the browser opened on the authorize page, then whichever comes first of
/// the vendor's callback on the loopback listener and an address the admin pastes.
struct BrowserConsent<'h> {
    plan: &'h RedirectPlan,
    browser: &'h dyn Browser,
    events: &'h (dyn Fn(Event) + Send + Sync),
    cancel: CancellationToken,
    pasted: Mutex<Option<mpsc::Receiver<String>>>,
    deadline: Duration,
}

impl Consent for BrowserConsent<'_> {
    fn give<'a>(&'a self, ep: &'a Endpoint<'a>, o: &'a OAuthSpec) -> Pending<'a, Consented> {
        Box::pin(self.race(ep, o))
    }
}

impl BrowserConsent<'_> {
    async fn race(&self, ep: &Endpoint<'_>, o: &OAuthSpec) -> Result<Consented> {
        let (plan, events) = (self.plan, self.events);
        let name = ep.name();
        let callback_url = match (plan.via, &plan.redirect_uri) {
            (Via::NeedsPage, _) | (_, None) => {
                return Err(Error::new(
                    ErrorKind::RedirectMismatch,
                    plan.advice.clone().unwrap_or_else(|| {
                        format!("{name} needs an https address to send you back to.")
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
            events(Event::Ok {
                signal: Signal::PortFree,
            });
            listener
        };
        let request = oauth::authorization_request(ep, o, &callback_url)?;
        oauth::probe_authorize(ep, o, &request.url).await?;
        let exp = Expectation {
            // The relay's or the admin's page: the address the browser ends on when the answer
            // cannot be handed to the listener, pasted as it is.
            page: match plan.via {
                Via::Loopback => vec![],
                _ => [
                    Url::parse(&callback_url).ok(),
                    ep.route.url(&callback_url).ok(),
                ]
                .into_iter()
                .flatten()
                .collect(),
            },
            ..Expectation::listener(
                &o.callback_path,
                o.callback_port,
                request.state.secret(),
                &o.keep_callback_params,
            )
        };
        events(Event::Authorize {
            url: request.url.to_string(),
            callback_url: callback_url.clone(),
            deadline_secs: self.deadline.as_secs(),
        });
        match self.browser.open(request.url.as_str()) {
            Ok(()) => events(Event::Ok {
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
                events(Event::failed(&e));
            }
        }
        let (tx, rx) = mpsc::channel::<CallbackParams>(1);
        let pasted = self.pasted.lock().ok().and_then(|mut p| p.take());
        let forwarder = pasted.map(|mut pasted| {
            let exp = exp.clone();
            async move {
                while let Some(addr) = pasted.recv().await {
                    match parse_pasted_address(name, &addr, &exp) {
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
        let wait = listener.wait(name, exp, self.deadline, self.cancel.clone(), rx);
        let params = match forwarder {
            Some(f) => {
                tokio::pin!(wait);
                tokio::pin!(f);
                tokio::select! { r = &mut wait => r?, _ = &mut f => wait.await? }
            }
            None => wait.await?,
        };
        events(Event::Ok {
            signal: Signal::Authorized,
        });
        Ok(Consented {
            code: params.code,
            verifier: request.pkce_verifier,
            redirect_uri: callback_url,
            params: params.params,
        })
    }
}

/// Clean the pasted Client ID and secret; a value that is empty or in the wrong format stops
/// here with the field's own words.
fn clean_fields(p: &ProviderSpec, fields: &BTreeMap<String, SecretString>) -> Result<Keys> {
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
    Ok(Keys {
        client_id: out.remove("client_id").unwrap_or_default(),
        secret: SecretString::from(out.remove("client_secret").unwrap_or_default()),
    })
}
