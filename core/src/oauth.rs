//! OAuth 2 authorization code grant for native apps: RFC 6749 (4.1, 6), RFC 7636 (PKCE S256),
//! RFC 8252 (loopback redirect), RFC 9700 (state always checked, no redirects followed on the
//! token endpoint), and revocation where the vendor offers it (RFC 7009, or Intuit's JSON form).
//!
//! Built on the `oauth2` crate; our HTTP adapter records the status and request id of each
//! token-endpoint answer, so an error gets the right kind and support gets the vendor's request
//! id. One cohesive thing: this mechanism ([`Mechanism`] for [`OAuthSpec`]), kept in one file.

use crate::catalog::{ClientAuth, OAuthSpec, ProviderSpec, RevokeBody};
use crate::endpoint::{Consent, Endpoint, Mechanism, Obtained, Pending, timed};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{provider_detail, retry_after, transport_error};
use crate::store::Grant;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// Vendor fields beyond RFC 6749's, kept when present.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VendorTokenFields {
    /// Intuit: refresh token lifetime in seconds (rolling).
    pub x_refresh_token_expires_in: Option<i64>,
}
impl ExtraTokenFields for VendorTokenFields {}

type VendorTokenResponse = StandardTokenResponse<VendorTokenFields, BasicTokenType>;
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    VendorTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Tokens from a token endpoint, with absolute expiry times (unix seconds).
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What the browser is sent to, and what the callback must carry back.
#[derive(Debug)]
pub struct AuthorizationRequest {
    pub url: url::Url,
    pub state: CsrfToken,
    pub pkce_verifier: Option<PkceCodeVerifier>,
    pub redirect_uri: String,
}

impl Mechanism for OAuthSpec {
    fn id(&self) -> &'static str {
        "authorization_code"
    }

    fn describe(&self) -> &'static str {
        "browser sign-in (OAuth 2)"
    }

    fn browser(&self) -> Option<&OAuthSpec> {
        Some(self)
    }

    fn refresh_margin(&self) -> u64 {
        self.refresh_margin_secs
    }

    fn validate(&self, problem: &mut dyn FnMut(String)) {
        if self.callback_port == 0 {
            problem("callback_port must be a fixed port (the vendor needs the exact URL)".into());
        }
        if !matches!(self.callback_host.as_str(), "localhost" | "127.0.0.1") {
            problem("callback_host must be localhost or 127.0.0.1".into());
        }
        if !self.callback_path.starts_with('/') {
            problem("callback_path must start with /".into());
        }
    }

    fn set_callback_port(&mut self, port: u16) {
        self.callback_port = port;
    }

    fn obtain<'a>(
        &'a self,
        ep: &'a Endpoint<'a>,
        consent: &'a dyn Consent,
    ) -> Pending<'a, Obtained> {
        Box::pin(async move {
            let c = consent.give(ep, self).await?;
            let (tokens, token_ms) = timed(exchange_code(
                ep,
                self,
                &c.redirect_uri,
                &c.code,
                c.verifier,
            ))
            .await;
            Ok(Obtained {
                tokens: tokens?,
                params: c.params,
                token_ms,
            })
        })
    }

    fn refresh<'a>(&'a self, ep: &'a Endpoint<'a>, grant: &'a Grant) -> Pending<'a, TokenSet> {
        Box::pin(async move {
            match &grant.refresh_token {
                Some(rt) => refresh(ep, self, rt).await,
                None => Err(Error::reconnect(ep.name())),
            }
        })
    }

    fn revoke<'a>(&'a self, ep: &'a Endpoint<'a>, token: &'a SecretString) -> Pending<'a, bool> {
        Box::pin(revoke(ep, self, token))
    }

    fn keys_accepted<'a>(&'a self, _: &'a Endpoint<'a>) -> Pending<'a, bool> {
        Box::pin(async { Ok(false) })
    }
}

fn client(
    ep: &Endpoint<'_>,
    o: &OAuthSpec,
    with_secret: bool,
    redirect_uri: &str,
) -> Result<OAuthClient> {
    let (env, route) = (ep.env, ep.route);
    let catalog_err = |what: &str| {
        Error::new(
            ErrorKind::Catalog,
            format!("{} has no valid {what}.", ep.name()),
        )
    };
    let auth = route.url(
        env.authorize_url
            .as_deref()
            .ok_or_else(|| catalog_err("authorize_url"))?,
    )?;
    let token = route.url(
        env.token_url
            .as_deref()
            .ok_or_else(|| catalog_err("token_url"))?,
    )?;
    let mut c = oauth2::Client::new(ClientId::new(ep.keys.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(auth))
        .set_token_uri(TokenUrl::from_url(token))
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string()).map_err(|_| {
            Error::invalid_input(format!("\"{redirect_uri}\" is not a valid callback URL."))
        })?)
        .set_auth_type(match o.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::RequestBody => AuthType::RequestBody,
        });
    if with_secret {
        c = c.set_client_secret(ClientSecret::new(
            ep.keys.secret.expose_secret().to_string(),
        ));
    }
    Ok(c)
}

/// Build the authorize URL with a fresh `state` and, unless the vendor rejects it, PKCE S256.
pub fn authorization_request(
    ep: &Endpoint<'_>,
    o: &OAuthSpec,
    redirect_uri: &str,
) -> Result<AuthorizationRequest> {
    let c = client(ep, o, false, redirect_uri)?;
    let mut req = c.authorize_url(CsrfToken::new_random);
    req = req.add_scopes(o.scopes.iter().map(|s| Scope::new(s.clone())));
    for (k, v) in &o.extra_authorize_params {
        req = req.add_extra_param(k.clone(), v.clone());
    }
    let mut verifier = None;
    if o.pkce {
        let (challenge, v) = PkceCodeChallenge::new_random_sha256();
        req = req.set_pkce_challenge(challenge);
        verifier = Some(v);
    }
    let (url, state) = req.url();
    Ok(AuthorizationRequest {
        url,
        state,
        pkce_verifier: verifier,
        redirect_uri: redirect_uri.to_string(),
    })
}

/// Words a standard authorization server's error page uses for a refused redirect URI or client
/// (RFC 6749 4.1.2.1: such errors are shown to the user, not redirected), checked after the
/// catalog's own markers for the vendor's wording.
const REDIRECT_MARKERS: [&str; 3] = ["redirect_uri", "redirect uri", "redirect url"];
const CLIENT_MARKERS: [&str; 2] = ["invalid_client", "unauthorized_client"];

/// Look at the authorize page before sending the admin there, so a wrong Client ID or redirect
/// URL is named precisely (vendors show an error page instead of redirecting in those cases).
pub async fn probe_authorize(ep: &Endpoint<'_>, o: &OAuthSpec, url: &url::Url) -> Result<()> {
    let provider = ep.provider;
    let resp = ep
        .http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| transport_error(&provider.name, e))?;
    let status = resp.status().as_u16();
    if status >= 500 {
        return Err(Error::provider_down(&provider.name, Some(status)));
    }
    if !(400..500).contains(&status) {
        return Ok(()); // a sign-in page or a redirect: nothing to tell yet
    }
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(64 * 1024).collect();
    let lower = body.to_ascii_lowercase();
    let says = |markers: &[String]| markers.iter().any(|m| body.contains(m.as_str()));
    let says_generic = |markers: &[&str]| markers.iter().any(|m| lower.contains(m));
    let redirect = || {
        Error::new(
            ErrorKind::RedirectMismatch,
            format!("{} does not accept Patchbay's Callback URL for this app: the redirect URL saved at {} must exactly match the one Patchbay shows.", provider.name, provider.name),
        )
        .with_provider_detail(format!("HTTP {status} on the authorize page"))
    };
    let client = || {
        Error::new(
            ErrorKind::InvalidClient,
            format!(
                "{} does not recognise this Client ID. Copy it again from the app you created.",
                provider.name
            ),
        )
        .with_provider_detail(format!("HTTP {status} on the authorize page"))
    };
    if says(&o.probe_redirect_mismatch) {
        return Err(redirect());
    }
    if says(&o.probe_invalid_client) || says_generic(&CLIENT_MARKERS) {
        return Err(client());
    }
    if says_generic(&REDIRECT_MARKERS) {
        return Err(redirect());
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum HttpError {
    #[error("request failed")]
    Transport(#[source] reqwest::Error),
    #[error("bad response")]
    Build(#[source] oauth2::http::Error),
}

#[derive(Debug, Default)]
struct LastResponse {
    status: u16,
    headers: HeaderMap,
}

/// The `oauth2` crate's HTTP hook: our shared client, recording what the vendor answered.
async fn send(
    http: reqwest::Client,
    seen: Arc<Mutex<LastResponse>>,
    req: oauth2::HttpRequest,
) -> std::result::Result<oauth2::HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let mut rb = http.request(parts.method, parts.uri.to_string()).body(body);
    for (k, v) in parts.headers.iter() {
        rb = rb.header(k, v);
    }
    let resp = rb
        .send()
        .await
        .map_err(|e| HttpError::Transport(e.without_url()))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    if let Ok(mut s) = seen.lock() {
        *s = LastResponse {
            status: status.as_u16(),
            headers: headers.clone(),
        };
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| HttpError::Transport(e.without_url()))?;
    let mut b = oauth2::http::Response::builder().status(status);
    for (k, v) in headers.iter() {
        b = b.header(k, v);
    }
    b.body(bytes.to_vec()).map_err(HttpError::Build)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Exchange,
    Refresh,
}

fn token_error(
    p: &ProviderSpec,
    step: Step,
    seen: &Mutex<LastResponse>,
    err: RequestTokenError<HttpError, BasicErrorResponse>,
) -> Error {
    let (status, headers) = seen
        .lock()
        .map(|s| (s.status, s.headers.clone()))
        .unwrap_or_default();
    let name = &p.name;
    match err {
        RequestTokenError::Request(HttpError::Transport(e)) => transport_error(name, e),
        RequestTokenError::Request(HttpError::Build(e)) => Error::provider_down(name, None).with_source(e),
        _ if status == 429 => Error::rate_limited(name, retry_after(&headers))
            .with_provider_detail(provider_detail(&p.support, status, &headers, b"")),
        _ if status >= 500 => Error::provider_down(name, Some(status)).with_provider_detail(provider_detail(&p.support, status, &headers, b"")),
        RequestTokenError::ServerResponse(r) => {
            let detail = format!(
                "{} error={}{}",
                provider_detail(&p.support, status, &headers, b""),
                r.error().as_ref(),
                r.error_description().map(|d| format!(" error_description={}", d.chars().take(200).collect::<String>())).unwrap_or_default()
            );
            let description = r.error_description().map(|d| d.to_ascii_lowercase()).unwrap_or_default();
            let e = match (r.error(), step) {
                (BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient, _) => Error::new(
                    ErrorKind::InvalidClient,
                    format!("{name} did not accept the Client ID and secret. Copy both again from the same app (check for a missing character), then connect again."),
                ),
                (BasicErrorResponseType::InvalidGrant, Step::Refresh) => Error::reconnect(name),
                (BasicErrorResponseType::InvalidGrant, Step::Exchange) if description.contains("redirect") => Error::new(
                    ErrorKind::RedirectMismatch,
                    format!("{name} says the redirect URL does not match the one saved for this app. Copy the Callback URL from Patchbay into {name} again, then connect again."),
                ),
                (BasicErrorResponseType::InvalidGrant, Step::Exchange) => Error::new(
                    ErrorKind::Timeout,
                    format!("{name} no longer accepts this sign-in answer (it expired or was already used). Click Connect again; it only takes a moment."),
                ),
                _ => Error::new(ErrorKind::ProviderDown, format!("{name} refused the request ({}).", r.error().as_ref())),
            };
            e.with_provider_detail(detail)
        }
        RequestTokenError::Other(_) if status == 401 => Error::new(
            ErrorKind::InvalidClient,
            format!("{name} did not accept the Client ID and secret. Copy both again, then connect again."),
        )
        .with_provider_detail(provider_detail(&p.support, status, &headers, b"")),
        // Parse errors hold the raw body, which may contain tokens: it is dropped here.
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => {
            Error::provider_down(name, None).with_provider_detail(provider_detail(&p.support, status, &headers, b""))
        }
    }
}

/// A token endpoint's successful answer, read exactly as the `oauth2` crate reads it for us
/// (`serde_json` into the same response type); the fuzz target for token responses uses this.
pub fn parse_token_response(body: &[u8]) -> Option<TokenSet> {
    serde_json::from_slice::<VendorTokenResponse>(body)
        .ok()
        .map(token_set)
}

/// An error answer from a token endpoint (RFC 6749 5.2), as the `oauth2` crate reads it.
pub fn parse_token_error(body: &[u8]) -> Option<(String, Option<String>)> {
    serde_json::from_slice::<BasicErrorResponse>(body)
        .ok()
        .map(|e| {
            (
                e.error().as_ref().to_string(),
                e.error_description().cloned(),
            )
        })
}

fn token_set(resp: VendorTokenResponse) -> TokenSet {
    token_set_at(resp, now())
}

/// The longest lifetime believed from a vendor (ten years): a larger one is a vendor's mistake,
/// never a reason to overflow.
pub const MAX_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// When a lifetime of `secs` given at `now` ends: a negative one has already ended, a huge one is
/// capped at [`MAX_LIFETIME_SECS`].
pub fn lifetime_end(now: i64, secs: i128) -> i64 {
    let secs = secs.clamp(0, i128::from(MAX_LIFETIME_SECS)) as i64;
    now.saturating_add(secs)
}

fn token_set_at(resp: VendorTokenResponse, now: i64) -> TokenSet {
    TokenSet {
        access_token: SecretString::from(resp.access_token().secret().clone()),
        refresh_token: resp
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone())),
        expires_at: resp
            .expires_in()
            .map(|d| lifetime_end(now, i128::from(d.as_secs()))),
        refresh_expires_at: resp
            .extra_fields()
            .x_refresh_token_expires_in
            .map(|s| lifetime_end(now, i128::from(s))),
    }
}

/// Exchange the code from the callback (RFC 6749 4.1.3), with the PKCE verifier.
async fn exchange_code(
    ep: &Endpoint<'_>,
    o: &OAuthSpec,
    redirect_uri: &str,
    code: &SecretString,
    verifier: Option<PkceCodeVerifier>,
) -> Result<TokenSet> {
    let c = client(ep, o, true, redirect_uri)?;
    let seen = Arc::new(Mutex::new(LastResponse::default()));
    let hook = |req| send(ep.http.clone(), seen.clone(), req);
    let mut req = c.exchange_code(AuthorizationCode::new(code.expose_secret().to_string()));
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(v);
    }
    req.request_async(&hook)
        .await
        .map(token_set)
        .map_err(|e| token_error(ep.provider, Step::Exchange, &seen, e))
}

/// Use the refresh token (RFC 6749 6). The answer may carry a new (rotated) refresh token.
async fn refresh(
    ep: &Endpoint<'_>,
    o: &OAuthSpec,
    refresh_token: &SecretString,
) -> Result<TokenSet> {
    let redirect = ep.provider.callback_url().unwrap_or_default();
    let c = client(ep, o, true, &redirect)?;
    let seen = Arc::new(Mutex::new(LastResponse::default()));
    let hook = |req| send(ep.http.clone(), seen.clone(), req);
    let rt = RefreshToken::new(refresh_token.expose_secret().to_string());
    c.exchange_refresh_token(&rt)
        .request_async(&hook)
        .await
        .map(token_set)
        .map_err(|e| token_error(ep.provider, Step::Refresh, &seen, e))
}

/// Revoke a token where the vendor offers it. `Ok(false)` when it does not.
async fn revoke(ep: &Endpoint<'_>, o: &OAuthSpec, token: &SecretString) -> Result<bool> {
    let Some(raw) = ep.env.revoke_url.as_deref() else {
        return Ok(false);
    };
    let (client_id, secret) = (ep.keys.client_id.as_str(), &ep.keys.secret);
    let mut rb = ep
        .http
        .post(ep.route.url(raw)?)
        .header("accept", "application/json");
    rb = match o.client_auth {
        ClientAuth::Basic => rb.basic_auth(client_id, Some(secret.expose_secret())),
        ClientAuth::RequestBody => rb,
    };
    rb = match (o.revoke_body, o.client_auth) {
        (RevokeBody::Json, _) => rb.json(&serde_json::json!({ "token": token.expose_secret() })),
        (RevokeBody::Form, ClientAuth::Basic) => rb.form(&[("token", token.expose_secret())]),
        (RevokeBody::Form, ClientAuth::RequestBody) => rb.form(&[
            ("token", token.expose_secret()),
            ("client_id", client_id),
            ("client_secret", secret.expose_secret()),
        ]),
    };
    let resp = rb.send().await.map_err(|e| transport_error(ep.name(), e))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return Ok(true);
    }
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap_or_default();
    Err(crate::http::api_error(ep.provider, status, &headers, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(
        extra: serde_json::Value,
    ) -> std::result::Result<VendorTokenResponse, serde_json::Error> {
        let mut body = serde_json::json!({"access_token": "a", "token_type": "bearer"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(body)
    }

    #[test]
    fn absurd_lifetimes_neither_overflow_nor_go_negative() {
        let now = 1_800_000_000;
        let huge = token_set_at(
            response(
                serde_json::json!({"expires_in": u64::MAX, "x_refresh_token_expires_in": i64::MAX}),
            )
            .unwrap(),
            now,
        );
        assert_eq!(huge.expires_at, Some(now + MAX_LIFETIME_SECS));
        assert_eq!(huge.refresh_expires_at, Some(now + MAX_LIFETIME_SECS));
        let negative = token_set_at(
            response(serde_json::json!({"x_refresh_token_expires_in": -1})).unwrap(),
            now,
        );
        assert_eq!(negative.refresh_expires_at, Some(now), "already over");
        // A negative expires_in is not a lifetime: the answer is refused as unreadable, never
        // turned into a date.
        match response(serde_json::json!({"expires_in": -1})) {
            Ok(r) => assert_eq!(token_set_at(r, now).expires_at, Some(now)),
            Err(e) => assert!(e.to_string().contains("expires_in") || e.is_data(), "{e}"),
        }
        assert_eq!(lifetime_end(i64::MAX - 1, 100), i64::MAX);
    }
}
