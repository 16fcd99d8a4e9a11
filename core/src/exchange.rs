//! The client-credentials token exchange (Aspire's `POST /Authorization`): the pasted Client ID
//! and secret are sent as JSON and exchanged for a bearer JWT and a refresh token. There is no
//! `expires_in`; the lifetime is the JWT's `exp` claim (RFC 7519 4.1.4), read without checking
//! the signature (we are the bearer, not the audience).

use crate::catalog::{ExchangeSpec, OAuthSpec};
use crate::endpoint::{Consent, Endpoint, Mechanism, Obtained, Pending, timed};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{api_error, transport_error};
use crate::oauth::TokenSet;
use crate::store::Grant;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;

impl Mechanism for ExchangeSpec {
    fn id(&self) -> &'static str {
        "token_exchange"
    }

    fn describe(&self) -> &'static str {
        "API key (Client ID + secret)"
    }

    fn browser(&self) -> Option<&OAuthSpec> {
        None
    }

    fn refresh_margin(&self) -> u64 {
        self.refresh_margin_secs
    }

    fn validate(&self, problem: &mut dyn FnMut(String)) {
        for (n, v) in [
            ("token_path", &self.token_path),
            ("refresh_path", &self.refresh_path),
        ] {
            if !v.starts_with('/') {
                problem(format!("auth {n} must start with /"));
            }
        }
    }

    fn set_callback_port(&mut self, _port: u16) {}

    fn obtain<'a>(&'a self, ep: &'a Endpoint<'a>, _: &'a dyn Consent) -> Pending<'a, Obtained> {
        Box::pin(async move {
            let (tokens, token_ms) = timed(authenticate(ep, self)).await;
            Ok(Obtained {
                tokens: tokens?,
                params: BTreeMap::new(),
                token_ms,
            })
        })
    }

    /// The refresh token; when it is refused, the kept client credentials (a dead refresh token
    /// is not the end of this mechanism's connection).
    fn refresh<'a>(&'a self, ep: &'a Endpoint<'a>, grant: &'a Grant) -> Pending<'a, TokenSet> {
        Box::pin(async move {
            let refreshed = match &grant.refresh_token {
                Some(rt) => refresh(ep, self, rt).await,
                None => Err(Error::reconnect(ep.name())),
            };
            match refreshed {
                Err(e) if e.kind() == ErrorKind::Reconnect => {
                    authenticate(ep, self).await.map_err(|e| match e.kind() {
                        ErrorKind::InvalidClient => Error::reconnect(ep.name()),
                        _ => e,
                    })
                }
                r => r,
            }
        })
    }

    fn revoke<'a>(&'a self, _: &'a Endpoint<'a>, _: &'a SecretString) -> Pending<'a, bool> {
        Box::pin(async { Ok(false) })
    }

    fn keys_accepted<'a>(&'a self, ep: &'a Endpoint<'a>) -> Pending<'a, bool> {
        Box::pin(async move { Ok(authenticate(ep, self).await.is_ok()) })
    }
}

/// The claims of a JWT, read without checking the signature; `None` when it is not one.
fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn seconds_claim(claims: &serde_json::Value, name: &str) -> Option<i64> {
    match claims.get(name)? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

/// The `exp` claim of a JWT, if the token is one and has it.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    seconds_claim(&jwt_claims(token)?, "exp")
}

/// When a JWT received `now` expires by this computer's clock. `exp` is the vendor's clock; when
/// the token also says when it was issued (`iat`), its lifetime `exp - iat` is counted from `now`,
/// so a vendor whose clock is off by hours neither makes every token look expired (a refresh on
/// every call) nor makes an expired one look valid.
pub fn jwt_expires_at(token: &str, now: i64) -> Option<i64> {
    let claims = jwt_claims(token)?;
    let exp = seconds_claim(&claims, "exp")?;
    match seconds_claim(&claims, "iat") {
        Some(iat) if exp >= iat => Some(
            exp.checked_sub(iat)
                .map_or(exp, |life| now.saturating_add(life)),
        ),
        _ => Some(exp),
    }
}

/// Overwrite every string in a JSON value (a request or answer that held a secret) before it
/// is dropped.
fn zeroize_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => zeroize::Zeroize::zeroize(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(zeroize_json),
        _ => {}
    }
}

async fn post(
    ep: &Endpoint<'_>,
    x: &ExchangeSpec,
    path: &str,
    mut body: serde_json::Value,
    invalid: impl Fn(u16) -> Option<Error>,
) -> Result<TokenSet> {
    let name = ep.name();
    let request = ep
        .http
        .post(ep.api_url(path)?)
        .header("accept", "application/json")
        .json(&body);
    // The request holds its own copy now; ours had the secret or refresh token.
    zeroize_json(&mut body);
    let resp = request.send().await.map_err(|e| transport_error(name, e))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.map_err(|e| transport_error(name, e))?;
    if status != 200 {
        if let Some(e) = invalid(status) {
            return Err(e.with_provider_detail(crate::http::provider_detail(
                &ep.provider.support,
                status,
                &headers,
                &bytes,
            )));
        }
        return Err(api_error(ep.provider, status, &headers, &bytes));
    }
    parse_tokens(x, &bytes).ok_or_else(|| Error::provider_down(name, None))
}

/// The tokens in a successful exchange answer (`{"Token": "...", "RefreshToken": "..."}`, keys
/// from the catalog); `None` when the body is not that (the caller says the vendor misbehaved,
/// without echoing the body, which may hold a token).
pub fn parse_tokens(x: &ExchangeSpec, body: &[u8]) -> Option<TokenSet> {
    let mut json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let tokens = tokens_in(x, &json);
    zeroize_json(&mut json);
    tokens
}

fn tokens_in(x: &ExchangeSpec, json: &serde_json::Value) -> Option<TokenSet> {
    let field = |k: &str| {
        json.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let token = field(&x.response_token_key)?;
    let refresh = field(&x.response_refresh_key);
    let now = crate::oauth::now();
    Some(TokenSet {
        expires_at: jwt_expires_at(&token, now),
        access_token: SecretString::from(token),
        refresh_expires_at: refresh.as_deref().and_then(|r| jwt_expires_at(r, now)),
        refresh_token: refresh.map(SecretString::from),
    })
}

/// Exchange the Client ID and secret for tokens.
async fn authenticate(ep: &Endpoint<'_>, x: &ExchangeSpec) -> Result<TokenSet> {
    let mut body = serde_json::Map::new();
    body.insert(x.client_id_key.clone(), ep.keys.client_id.as_str().into());
    body.insert(x.secret_key.clone(), ep.keys.secret.expose_secret().into());
    post(ep, x, &x.token_path, body.into(), |status| {
        x.invalid_credentials_statuses.contains(&status).then(|| {
            Error::new(
                ErrorKind::InvalidClient,
                format!(
                    "{} did not accept the Client ID and Client Secret ({}). Copy both again from the same API connection.",
                    ep.name(),
                    ep.env.label
                ),
            )
        })
    })
    .await
}

/// Use the refresh token. A rejected refresh token means the grant is gone (`reconnect`).
async fn refresh(
    ep: &Endpoint<'_>,
    x: &ExchangeSpec,
    refresh_token: &SecretString,
) -> Result<TokenSet> {
    let mut body = serde_json::Map::new();
    body.insert(
        x.refresh_token_key.clone(),
        refresh_token.expose_secret().into(),
    );
    post(ep, x, &x.refresh_path, body.into(), |status| {
        matches!(status, 400 | 401 | 403 | 404).then(|| Error::reconnect(ep.name()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"HS256"}"#),
            e.encode(payload)
        )
    }

    #[test]
    fn reads_exp_from_a_jwt() {
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp":1893456000,"sub":"x"}"#)),
            Some(1893456000)
        );
        assert_eq!(
            jwt_expiry(&jwt(r#"{"exp":1893456000.5}"#)),
            Some(1893456000)
        );
    }

    #[test]
    fn json_holding_secrets_is_wiped() {
        let mut v = serde_json::json!({"Secret": "s3cr3t", "n": [{"RefreshToken": "rt"}], "k": 1});
        zeroize_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"Secret": "", "n": [{"RefreshToken": ""}], "k": 1})
        );
    }

    #[test]
    fn a_skewed_vendor_clock_does_not_move_the_expiry() {
        let now = 1_800_000_000;
        // The vendor's clock is two hours behind: by its exp the token expired an hour ago.
        let behind = jwt(r#"{"iat":1799992800,"exp":1799996400}"#);
        assert_eq!(jwt_expires_at(&behind, now), Some(now + 3600));
        // Two hours ahead: by its exp the token would look valid for three hours.
        let ahead = jwt(r#"{"iat":1800007200,"exp":1800010800}"#);
        assert_eq!(jwt_expires_at(&ahead, now), Some(now + 3600));
        // No iat (or a nonsensical one): exp as given.
        assert_eq!(
            jwt_expires_at(&jwt(r#"{"exp":1800000600}"#), now),
            Some(1800000600)
        );
        assert_eq!(
            jwt_expires_at(&jwt(r#"{"iat":1800000900,"exp":1800000600}"#), now),
            Some(1800000600)
        );
        assert_eq!(jwt_expires_at("abc", now), None);
    }

    #[test]
    fn non_jwts_have_no_expiry() {
        for t in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            &jwt(r#"{"sub":"x"}"#),
            &jwt(r#"{"exp":"soon"}"#),
            &jwt("not json"),
            "a.!!!.c",
        ] {
            assert_eq!(jwt_expiry(t), None, "{t}");
        }
    }
}
