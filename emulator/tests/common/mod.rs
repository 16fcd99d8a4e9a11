#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patchbay_emulator::{Emulator, EmulatorConfig};
use patchbay_test_support::Answer as _;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

pub const QBT_ID: &str = "practice-qbt-client";
pub const QBT_SECRET: &str = "practice-qbt-secret-0000000000000";
pub const QBO_DEV_ID: &str = "practice-qbo-dev-client";
pub const QBO_DEV_SECRET: &str = "practice-qbo-dev-secret";
pub const QBO_PROD_ID: &str = "practice-qbo-prod-client";
pub const QBO_PROD_SECRET: &str = "practice-qbo-prod-secret";
pub const ASPIRE_PROD_ID: &str = "3f2a91c6-0000-4000-8000-6d5e8a2b7c34";
pub const ASPIRE_PROD_SECRET: &str = "7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa";
pub const ASPIRE_SANDBOX_ID: &str = "9b1d2e3f-0000-4000-8000-1a2b3c4d5e6f";
pub const ASPIRE_SANDBOX_SECRET: &str = "S4ndb0xS3cretAAAAbbbbCCCCdddd123";
pub const CALLBACK: &str = "http://localhost:8765/callback";
/// The practice QuickBooks Online production app's redirect: Intuit production takes https only.
#[allow(unused_imports)] // not every test binary goes to Intuit production
pub use patchbay_emulator::PRACTICE_RELAY_URL;

/// Form-encoded, as a redirect_uri appears in a query.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.unwrap()
}

/// An emulator with the practice apps, a client that does not follow redirects, and its base URL.
pub async fn started() -> (Emulator, Client, String) {
    let em = start().await;
    let base = em.base_url();
    (em, client(), base)
}

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn admin(c: &Client, base: &str, path: &str, body: Value) -> Response {
    c.post(format!("{base}/_emulator/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `DELETE` on the admin API (clears the stats or the faults).
pub async fn admin_delete(c: &Client, base: &str, path: &str) -> Response {
    c.delete(format!("{base}/_emulator/{path}"))
        .send()
        .await
        .unwrap()
}

/// A plain `GET` (redirects not followed).
pub async fn get(c: &Client, url: impl reqwest::IntoUrl) -> Response {
    c.get(url).send().await.unwrap()
}

/// A form `POST`.
pub async fn post_form(c: &Client, url: String, form: &[(&str, &str)]) -> Response {
    c.post(url).form(form).send().await.unwrap()
}

/// A JSON `POST`.
pub async fn post_json(c: &Client, url: String, body: &Value) -> Response {
    c.post(url).json(body).send().await.unwrap()
}

/// The console's "new app" form.
pub async fn console_app(c: &Client, base: &str, form: &[(&str, &str)]) -> Response {
    post_form(c, format!("{base}/_emulator/console/apps"), form).await
}

/// `GET` with a bearer token, as the vendor's API is called.
pub async fn bearer_get(
    c: &Client,
    url: impl reqwest::IntoUrl,
    token: impl std::fmt::Display,
) -> Response {
    c.get(url).bearer_auth(token).send().await.unwrap()
}

/// One bearer token's `GET`s under a vendor API's `root` (ending where the paths start).
pub struct Api {
    c: Client,
    root: String,
    token: String,
}

impl Api {
    pub fn new(c: &Client, root: String, token: &str) -> Api {
        let (c, token) = (c.clone(), token.to_string());
        Api { c, root, token }
    }

    /// `GET root+path`: (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.send(path).await;
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// `GET root+path`: only its status (the body need not be JSON).
    pub async fn status(&self, path: &str) -> u16 {
        self.send(path).await.status().as_u16()
    }

    async fn send(&self, path: &str) -> Response {
        bearer_get(&self.c, format!("{}{path}", self.root), &self.token).await
    }
}

/// The same, asking for JSON (QuickBooks Online answers XML otherwise).
pub async fn bearer_get_json(
    c: &Client,
    url: impl reqwest::IntoUrl,
    token: impl std::fmt::Display,
) -> Response {
    c.get(url)
        .bearer_auth(token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

pub async fn settings(c: &Client, base: &str, body: Value) {
    let r = admin(c, base, "settings", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

pub async fn fault(c: &Client, base: &str, body: Value) {
    let r = admin(c, base, "faults", body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

pub async fn stats(c: &Client, base: &str) -> Value {
    c.get(format!("{base}/_emulator/stats")).answer().await
}

/// The emulator's request counts include `want` (`{vendor: {kind: n}}`).
pub async fn assert_stats(c: &Client, base: &str, want: Value) {
    let s = stats(c, base).await;
    for (vendor, kinds) in want.as_object().unwrap() {
        for (kind, n) in kinds.as_object().unwrap() {
            assert_eq!(&s[vendor][kind], n, "{vendor} {kind}: {s}");
        }
    }
}

/// QuickBooks Time's `current_user` with `token`.
pub async fn qbt_me(c: &Client, base: &str, token: &str) -> Response {
    bearer_get(
        c,
        format!("{base}/rest.tsheets.com/api/v1/current_user"),
        token,
    )
    .await
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn attr_after(html: &str, marker: &str, attr: &str) -> String {
    let rest = &html[html.find(marker).unwrap()..];
    let tag = &rest[..rest.find('>').unwrap()];
    let key = format!("{attr}=\"");
    let v = &tag[tag.find(&key).unwrap() + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

/// Submits the consent page's form; returns the redirect Location.
pub async fn decide(c: &Client, base: &str, page: &str, decision: &str) -> String {
    assert!(page.contains("data-testid=\"consent-allow\""), "{page}");
    assert!(page.contains("data-testid=\"consent-deny\""));
    let action = attr_after(page, "<form", "action");
    let txn = attr_after(page, "name=\"txn\"", "value");
    let r = c
        .post(format!("{base}{action}"))
        .form(&[("txn", txn.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    location(&r)
}

pub fn qbt_authorize_url(base: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{base}/rest.tsheets.com/api/v1/authorize")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", QBT_ID)
            .append_pair("redirect_uri", CALLBACK);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

pub fn qbo_authorize_url(base: &str, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{base}/appcenter.intuit.com/connect/oauth2")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", CALLBACK);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// Authorize + Allow at QuickBooks Time; returns the callback query.
pub async fn qbt_code(c: &Client, base: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut params = vec![("state", "st-1")];
    params.extend_from_slice(extra);
    let r = c
        .get(qbt_authorize_url(base, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let loc = decide(c, base, &r.text().await.unwrap(), "allow").await;
    assert!(loc.starts_with(CALLBACK), "{loc}");
    query_of(&loc)
}

pub async fn qbt_grant(c: &Client, base: &str, form: &[(&str, &str)]) -> Response {
    post_form(c, format!("{base}/rest.tsheets.com/api/v1/grant"), form).await
}

/// The practice QuickBooks Time app redeems `code` (with `extra` members, e.g. the verifier).
pub async fn qbt_exchange(c: &Client, base: &str, code: &str, extra: &[(&str, &str)]) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", QBT_ID),
        ("client_secret", QBT_SECRET),
        ("code", code),
        ("redirect_uri", CALLBACK),
    ];
    form.extend_from_slice(extra);
    qbt_grant(c, base, &form).await
}

/// The practice QuickBooks Time app renews with `refresh_token`.
pub async fn qbt_refresh(c: &Client, base: &str, refresh_token: &str) -> Response {
    qbt_grant(
        c,
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", QBT_ID),
            ("client_secret", QBT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A full QuickBooks Time connection: returns the token response.
pub async fn qbt_tokens(c: &Client, base: &str) -> Value {
    let q = qbt_code(c, base, &[]).await;
    let r = qbt_exchange(c, base, &q["code"], &[]).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A full QuickBooks Time connection: its API (`.../api/v1/`) with the new access token.
pub async fn qbt_api(c: &Client, base: &str) -> Api {
    let t = qbt_tokens(c, base).await;
    let access = t["access_token"].as_str().unwrap();
    Api::new(c, format!("{base}/rest.tsheets.com/api/v1/"), access)
}

pub async fn qbo_code(
    c: &Client,
    base: &str,
    client_id: &str,
    scope: &str,
) -> HashMap<String, String> {
    let r = c
        .get(qbo_authorize_url(
            base,
            client_id,
            &[("scope", scope), ("state", "qs")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let loc = decide(c, base, &r.text().await.unwrap(), "allow").await;
    query_of(&loc)
}

pub async fn qbo_token(
    c: &Client,
    base: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Response {
    c.post(format!(
        "{base}/oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    ))
    .basic_auth(id, Some(secret))
    .header("accept", "application/json")
    .form(form)
    .send()
    .await
    .unwrap()
}

/// An app's `(id, secret)` redeems `code` at Intuit (the keys in the Basic header).
pub async fn qbo_exchange(
    c: &Client,
    base: &str,
    (id, secret): (&str, &str),
    code: &str,
    redirect_uri: &str,
) -> Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    qbo_token(c, base, id, secret, &form).await
}

/// A full QuickBooks Online sandbox connection: (realmId, token response).
pub async fn qbo_tokens(c: &Client, base: &str) -> (String, Value) {
    let q = qbo_code(c, base, QBO_DEV_ID, "com.intuit.quickbooks.accounting").await;
    let keys = (QBO_DEV_ID, QBO_DEV_SECRET);
    let r = qbo_exchange(c, base, keys, &q["code"], CALLBACK).await;
    assert_eq!(r.status(), 200);
    (q["realmId"].clone(), r.json().await.unwrap())
}

pub async fn aspire_auth(c: &Client, base: &str, host: &str, id: &str, secret: &str) -> Response {
    let body = json!({"ClientId": id, "Secret": secret});
    post_json(c, format!("{base}/{host}/Authorization"), &body).await
}

/// A successful Aspire authorization at `host`: the token response (`Token`, `RefreshToken`).
pub async fn aspire_tokens(c: &Client, base: &str, host: &str, id: &str, secret: &str) -> Value {
    let r = aspire_auth(c, base, host, id, secret).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Aspire's `Authorization/RefreshToken` at `host`.
pub async fn aspire_refresh(c: &Client, base: &str, host: &str, refresh_token: &str) -> Response {
    let body = json!({"RefreshToken": refresh_token});
    post_json(
        c,
        format!("{base}/{host}/Authorization/RefreshToken"),
        &body,
    )
    .await
}

pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
