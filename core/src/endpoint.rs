//! A vendor as one call sees it: [`Endpoint`] is built once per operation from the HTTP client,
//! the system, its environment, the route (vendor or practice emulator) and the app's keys, and
//! obtains, refreshes, revokes and verifies. What differs between the two ways systems hand out
//! credentials is [`Mechanism`], implemented by each [`Auth`](crate::catalog::Auth) variant's
//! settings (`oauth.rs`, `exchange.rs`).

use crate::catalog::{EnvironmentSpec, OAuthSpec, ProviderSpec};
use crate::error::Result;
use crate::http::Route;
use crate::oauth::TokenSet;
use crate::settings::Identity;
use crate::store::Grant;
use oauth2::PkceCodeVerifier;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// A vendor call in progress (the trait's methods are called through `dyn Mechanism`).
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// One way of handing out credentials. One implementation per [`crate::catalog::Auth`] variant.
pub trait Mechanism: Send + Sync + std::fmt::Debug {
    /// The catalog's name for it (`authorization_code`), also what the window's script reads.
    fn id(&self) -> &'static str;
    /// In the admin's words ("browser sign-in (OAuth 2)").
    fn describe(&self) -> &'static str;
    /// The browser step's settings, for a mechanism that has one.
    fn browser(&self) -> Option<&OAuthSpec>;
    /// Refresh this long before the access token expires.
    fn refresh_margin(&self) -> u64;
    /// The catalog's rules for these settings; each problem goes to `problem`.
    fn validate(&self, problem: &mut dyn FnMut(String));
    /// Use another fixed callback port (a mechanism without a browser step has none).
    fn set_callback_port(&mut self, port: u16);
    /// A first grant: the admin's consent where the mechanism needs it, then the vendor's tokens.
    fn obtain<'a>(
        &'a self,
        ep: &'a Endpoint<'a>,
        consent: &'a dyn Consent,
    ) -> Pending<'a, Obtained>;
    /// New tokens for a stored grant (its refresh token; or its kept keys, where the mechanism
    /// allows that when the refresh token is refused).
    fn refresh<'a>(&'a self, ep: &'a Endpoint<'a>, grant: &'a Grant) -> Pending<'a, TokenSet>;
    /// Revoke a token at the vendor; `false` when the vendor offers no revocation here.
    fn revoke<'a>(&'a self, ep: &'a Endpoint<'a>, token: &'a SecretString) -> Pending<'a, bool>;
    /// Whether the keys are accepted here, where that can be asked without the admin (a
    /// mechanism that needs the browser for it answers `false`).
    fn keys_accepted<'a>(&'a self, ep: &'a Endpoint<'a>) -> Pending<'a, bool>;
}

/// The admin's consent in the browser: the connect flow's browser/paste race.
pub trait Consent: Send + Sync {
    fn give<'a>(&'a self, ep: &'a Endpoint<'a>, o: &'a OAuthSpec) -> Pending<'a, Consented>;
}

/// What the admin's consent brought back.
#[derive(Debug)]
pub struct Consented {
    pub code: SecretString,
    pub verifier: Option<PkceCodeVerifier>,
    /// The redirect URI the authorize request carried (the token request repeats it).
    pub redirect_uri: String,
    /// Callback parameters kept for API calls (Intuit's `realmId`).
    pub params: BTreeMap<String, String>,
}

/// A first grant's tokens, with what the API calls need and how long the token request took.
#[derive(Debug)]
pub struct Obtained {
    pub tokens: TokenSet,
    pub params: BTreeMap<String, String>,
    pub token_ms: u64,
}

/// The app's keys at the vendor.
#[derive(Debug, Clone)]
pub struct Keys {
    pub client_id: String,
    pub secret: SecretString,
}

impl Keys {
    /// The keys a stored grant was made with.
    pub fn of(grant: &Grant) -> Keys {
        Keys {
            client_id: grant.client_id.clone(),
            secret: grant.client_secret.clone(),
        }
    }
}

/// One vendor, environment and route, with the app's keys: what every vendor call needs.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub http: &'a reqwest::Client,
    pub provider: &'a ProviderSpec,
    pub env: &'a EnvironmentSpec,
    pub route: &'a Route,
    pub keys: &'a Keys,
}

impl<'a> Endpoint<'a> {
    /// The system's name, for messages.
    pub fn name(&self) -> &'a str {
        &self.provider.name
    }

    pub fn mechanism(&self) -> &'a dyn Mechanism {
        self.provider.auth.mechanism()
    }

    /// The same call in another environment of the system (to tell a wrong one apart).
    pub fn in_environment(&self, env: &'a EnvironmentSpec) -> Endpoint<'a> {
        Endpoint { env, ..*self }
    }

    /// An API address: the environment's base and `path`, through the route.
    pub fn api_url(&self, path: &str) -> Result<url::Url> {
        api_url(self.env, self.route, path)
    }

    pub async fn obtain(&self, consent: &dyn Consent) -> Result<Obtained> {
        self.mechanism().obtain(self, consent).await
    }

    pub async fn refresh(&self, grant: &Grant) -> Result<TokenSet> {
        self.mechanism().refresh(self, grant).await
    }

    pub async fn revoke(&self, token: &SecretString) -> Result<bool> {
        self.mechanism().revoke(self, token).await
    }

    pub async fn keys_accepted(&self) -> bool {
        self.mechanism().keys_accepted(self).await.unwrap_or(false)
    }

    /// The verify call: proves the token works and says whose it is.
    pub async fn verify(
        &self,
        token: &SecretString,
        params: &BTreeMap<String, String>,
    ) -> Result<Identity> {
        crate::verify::verify(self, token, params).await
    }
}

/// An API address: the environment's base and `path`, through the route.
pub fn api_url(env: &EnvironmentSpec, route: &Route, path: &str) -> Result<url::Url> {
    route.url(&format!("{}{}", env.api_base.trim_end_matches('/'), path))
}

/// Run `call` and tell how long it took, in milliseconds.
pub async fn timed<T>(call: impl Future<Output = T>) -> (T, u64) {
    let started = std::time::Instant::now();
    let out = call.await;
    (out, elapsed_ms(started))
}

pub fn elapsed_ms(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
