//! The vendors' redirect URI rules (reference 1.6, 3.8), enforced at registration and at
//! /authorize, and the HTTPS relay hosted at an https-looking host like every vendor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use patchbay_emulator::EmulatorConfig;
use serde_json::json;

const INTUIT_RULE: &str = "HTTP redirect URIs must be protected with TLS security. The Intuit OAuth 2.0 Server can only redirect to URIs beginning with https. IP addresses aren't allowed.";
const INTUIT_MISMATCH: &str = "The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section on your app's keys tab and matches it exactly.";

async fn register(
    c: &reqwest::Client,
    base: &str,
    provider: &str,
    env: &str,
    uri: &str,
) -> (u16, String) {
    let r = admin(
        c,
        base,
        "apps",
        json!({"provider": provider, "environment": env, "redirect_uris": [uri]}),
    )
    .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn intuit_production_refuses_to_register_localhost_http_or_an_ip_in_its_own_words() {
    let (em, c, base) = started().await;
    for uri in [
        "http://localhost:8765/callback",
        "https://localhost:8765/callback",
        "http://127.0.0.1:8765/callback",
        "https://127.0.0.1/callback",
        "https://[::1]/callback",
        "http://connect.example.com/patchbay/",
    ] {
        let (status, body) = register(&c, &base, "quickbooks-online", "production", uri).await;
        assert_eq!(
            status, 400,
            "{uri} must be refused for production keys: {body}"
        );
        assert!(body.contains(INTUIT_RULE), "{uri}: {body}");
    }
    let (_, body) = register(
        &c,
        &base,
        "quickbooks-online",
        "production",
        "http://localhost:8765/callback",
    )
    .await;
    assert!(body.contains("You can add localhost (no HTTPS) as a URI for sandbox environments."));
    // https on a real name is fine; the sandbox also takes http://localhost, never an IP.
    for (env, uri, want) in [
        ("production", "https://connect.example.com/patchbay/", 201),
        ("sandbox", "http://localhost:8765/callback", 201),
        ("sandbox", "http://127.0.0.1:8765/callback", 400),
    ] {
        let (status, body) = register(&c, &base, "quickbooks-online", env, uri).await;
        assert_eq!(status, want, "{env} {uri}: {body}");
    }
    // The console's form says the same.
    let r = console_app(
        &c,
        &base,
        &[
            ("app_type", "quickbooks-online/production"),
            ("redirect_uris", "http://localhost:8765/callback"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("can only redirect to URIs beginning with https")
    );
    em.shutdown().await;
}

#[tokio::test]
async fn intuit_production_refuses_a_localhost_redirect_at_authorize_with_its_error_page() {
    let (em, c, base) = started().await;
    // The practice production app has only the relay registered; asking for localhost gets
    // Intuit's error page and no redirect, whatever the app lists.
    let u = qbo_authorize_url(
        &base,
        QBO_PROD_ID,
        &[
            ("scope", "com.intuit.quickbooks.accounting"),
            ("state", "s"),
        ],
    );
    let r = get(&c, u).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains(INTUIT_MISMATCH));
    em.shutdown().await;
}

#[tokio::test]
async fn quickbooks_time_takes_loopback_by_default_and_only_https_when_set() {
    let (em, c, base) = started().await;
    let (status, _) = register(
        &c,
        &base,
        "quickbooks-time",
        "production",
        "http://localhost:9100/callback",
    )
    .await;
    assert_eq!(
        status, 201,
        "loopback is allowed by default (UNCONFIRMED either way)"
    );
    // The practice app's loopback redirect works today.
    let r = get(&c, qbt_authorize_url(&base, &[("state", "s")])).await;
    assert_eq!(r.status(), 200);

    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "https_redirects_only": true}),
    )
    .await;
    let (status, body) = register(
        &c,
        &base,
        "quickbooks-time",
        "production",
        "http://localhost:9101/callback",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("HTTPS url"), "{body}");
    // An app registered before the rule cannot use loopback at /authorize either.
    let r = get(&c, qbt_authorize_url(&base, &[("state", "s")])).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let (status, body) = register(
        &c,
        &base,
        "quickbooks-time",
        "production",
        "https://connect.example.com/qbt/",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    em.shutdown().await;
}

#[tokio::test]
async fn the_relay_is_hosted_with_its_headers_and_the_answer_is_sent_there() {
    let em = patchbay_emulator::Emulator::start(EmulatorConfig {
        relay_callback: "http://localhost:23456/callback".into(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let (c, base) = (client(), em.base_url());
    let relay = PRACTICE_RELAY_URL.replacen("https://", &format!("{base}/"), 1);
    let r = get(&c, &relay).await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"content="http://localhost:23456/callback""#),
        "the hosted page forwards where its host set it to"
    );
    assert!(
        !page.contains("<script>"),
        "no inline script under the relay's own CSP"
    );
    for asset in ["relay.js", "relay.css"] {
        let r = get(&c, format!("{relay}{asset}")).await;
        assert_eq!(r.status(), 200, "{asset}");
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("'none'")
        );
    }

    // Allow at Intuit production sends the browser to the relay: the Location is the relay as
    // this emulator serves it, with Intuit's code, state and realmId.
    let u = qbo_authorize_url(
        &base,
        QBO_PROD_ID,
        &[
            ("scope", "com.intuit.quickbooks.accounting"),
            ("state", "rs"),
        ],
    )
    .replace(&enc(CALLBACK), &enc(PRACTICE_RELAY_URL));
    let r = get(&c, u).await;
    assert_eq!(
        r.status(),
        200,
        "the relay is registered for the practice production app"
    );
    let loc = decide(&c, &base, &r.text().await.unwrap(), "allow").await;
    assert!(loc.starts_with(&relay), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q["state"], "rs");
    assert!(q.contains_key("code") && q.contains_key("realmId"));
    // The token request names the relay, exactly, as redirect_uri.
    let r = qbo_exchange(
        &c,
        &base,
        (QBO_PROD_ID, QBO_PROD_SECRET),
        &q["code"],
        PRACTICE_RELAY_URL,
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    em.shutdown().await;
}

#[tokio::test]
async fn the_consent_page_can_approve_itself_for_a_headless_browser() {
    let (em, c, base) = started().await;
    let consent_page = || async {
        get(&c, qbt_authorize_url(&base, &[("state", "s")]))
            .await
            .text()
            .await
            .unwrap()
    };
    let page = consent_page().await;
    assert!(
        !page.contains("<script>"),
        "a person clicks Allow by default"
    );
    settings(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "consent_auto_allow": true}),
    )
    .await;
    let page = consent_page().await;
    assert!(page.contains("consent-allow]').click()"), "{page}");
    em.shutdown().await;
}
