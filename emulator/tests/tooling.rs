//! Admin API, fault switches, the state file and the fake browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use patchbay_emulator::{Emulator, EmulatorConfig};
use patchbay_test_support::Answer as _;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn admin_apps_console_and_stats() {
    let (em, c, base) = started().await;
    assert!(base.starts_with("http://127.0.0.1:"));
    assert_eq!(em.practice_apps().len(), 5);
    let apps: Vec<Value> = c.get(format!("{base}/_emulator/apps")).answer().await;
    assert_eq!(apps.len(), 5);

    let r = admin(
        &c,
        &base,
        "apps",
        json!({"provider": "aspire", "environment": "sandbox", "redirect_uris": []}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let app: Value = r.json().await.unwrap();
    let id = app["client_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let secret = app["client_secret"].as_str().unwrap();
    assert!(secret.len() == 32 && secret.chars().all(|ch| ch.is_ascii_alphanumeric()));
    let r = aspire_auth(&c, &base, "cloudsandbox-api.youraspire.com", id, secret).await;
    assert_eq!(r.status(), 200);

    // A taken client id, an environment the vendor does not have, an unknown vendor.
    for (app, want) in [
        (
            json!({"provider": "quickbooks-time", "environment": "production", "client_id": QBT_ID}),
            409,
        ),
        (
            json!({"provider": "quickbooks-time", "environment": "sandbox"}),
            400,
        ),
        (
            json!({"provider": "nope", "environment": "production"}),
            400,
        ),
    ] {
        let r = admin(&c, &base, "apps", app.clone()).await;
        assert_eq!(r.status(), want, "{app}");
    }

    let page = get(&c, format!("{base}/_emulator/"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(QBT_ID) && page.contains(QBT_SECRET) && page.contains(id));
    let r = console_app(
        &c,
        &base,
        &[
            ("app_type", "quickbooks-online/sandbox"),
            ("name", "My app"),
            ("redirect_uris", "http://localhost:9000/cb\n"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let apps: Vec<Value> = c.get(format!("{base}/_emulator/apps")).answer().await;
    let made = apps
        .iter()
        .find(|a| a["redirect_uris"] == json!(["http://localhost:9000/cb"]))
        .unwrap();
    assert_eq!(made["environment"], "sandbox");
    assert!(made["client_id"].as_str().unwrap().starts_with("AB"));

    let s = stats(&c, &base).await;
    for p in ["quickbooks-time", "aspire", "quickbooks-online"] {
        for k in [
            "authorize",
            "token",
            "refresh",
            "revoke",
            "api",
            "rate_limited",
        ] {
            assert!(s[p][k].is_u64(), "{p}.{k}");
        }
    }
    assert_eq!(s["aspire"]["token"], 1);
    assert_eq!(admin_delete(&c, &base, "stats").await.status(), 204);
    assert_eq!(stats(&c, &base).await["aspire"]["token"], 0);
}

#[tokio::test]
async fn emulator_without_practice_apps() {
    let em = Emulator::start(EmulatorConfig {
        seed_practice_apps: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert!(em.practice_apps().is_empty());
    let apps: Vec<Value> = client()
        .get(format!("{}/_emulator/apps", em.base_url()))
        .answer()
        .await;
    assert!(apps.is_empty());
}

#[tokio::test]
async fn fault_switches() {
    let (_em, c, base) = started().await;
    let t = qbt_tokens(&c, &base).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let me = format!("{base}/rest.tsheets.com/api/v1/current_user");
    let get_me = || {
        let (c, me, access) = (c.clone(), me.clone(), access.clone());
        async move { c.get(me).bearer_auth(access).send().await }
    };

    // status_500 with a count of 1, then normal again.
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "api", "fault": "status_500", "count": 1})).await;
    let r = get_me().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], 500);
    assert_eq!(get_me().await.unwrap().status(), 200);

    // payment_required: the API add-on is missing.
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "api", "fault": "payment_required", "count": 1})).await;
    let r = get_me().await.unwrap();
    assert_eq!(r.status(), 402);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"code": 402, "message": "Payment Required"}})
    );

    // rate_limit with and without Retry-After.
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "api", "fault": "rate_limit", "count": 1, "retry_after": 7})).await;
    let r = get_me().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "any", "fault": "rate_limit", "count": 1})).await;
    let r = get_me().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());

    // reset: the connection closes without an answer.
    fault(
        &c,
        &base,
        json!({"provider": "quickbooks-time", "endpoint": "api", "fault": "reset", "count": 1}),
    )
    .await;
    assert!(get_me().await.is_err());
    assert_eq!(get_me().await.unwrap().status(), 200);

    // slow.
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "api", "fault": "slow", "delay_ms": 300, "count": 1})).await;
    let t0 = Instant::now();
    assert_eq!(get_me().await.unwrap().status(), 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));

    // malformed_json on QBO's API (200 with a body that does not parse).
    let (realm, qt) = qbo_tokens(&c, &base).await;
    fault(&c, &base, json!({"provider": "quickbooks-online", "endpoint": "api", "fault": "malformed_json", "count": 1})).await;
    let r = bearer_get_json(&c, format!("{base}/sandbox-quickbooks.api.intuit.com/v3/company/{realm}/query?query=select * from Customer"), qt["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("intuit_tid"));
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    // invalid_grant on QBO refresh; status_503 on the QBO token endpoint.
    fault(&c, &base, json!({"provider": "quickbooks-online", "endpoint": "refresh", "fault": "invalid_grant", "count": 1})).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", qt["refresh_token"].as_str().unwrap()),
    ];
    let r = qbo_token(&c, &base, QBO_DEV_ID, QBO_DEV_SECRET, &form).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "invalid_grant"})
    );
    fault(&c, &base, json!({"provider": "quickbooks-online", "endpoint": "token", "fault": "status_503", "count": 1})).await;
    // (a refresh is not a "token" request)
    assert_eq!(
        qbo_token(&c, &base, QBO_DEV_ID, QBO_DEV_SECRET, &form)
            .await
            .status(),
        200
    );
    let r = qbo_exchange(&c, &base, (QBO_DEV_ID, QBO_DEV_SECRET), "x", CALLBACK).await;
    assert_eq!(r.status(), 503);

    // html_body on Aspire's token endpoint (default 502, or 200 when asked).
    let prod = "cloud-api.youraspire.com";
    fault(
        &c,
        &base,
        json!({"provider": "aspire", "endpoint": "token", "fault": "html_body", "count": 1}),
    )
    .await;
    let r = aspire_auth(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    assert_eq!(r.status(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    fault(&c, &base, json!({"provider": "aspire", "endpoint": "token", "fault": "html_body", "count": 1, "status": 200})).await;
    let r = aspire_auth(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<html"));
    // status_502 on Aspire's API.
    let at = aspire_tokens(&c, &base, prod, ASPIRE_PROD_ID, ASPIRE_PROD_SECRET).await;
    fault(
        &c,
        &base,
        json!({"provider": "aspire", "endpoint": "api", "fault": "status_502"}),
    )
    .await;
    let api = Api::new(&c, format!("{base}/{prod}/"), at["Token"].as_str().unwrap());
    for _ in 0..2 {
        assert_eq!(api.status("Users").await, 502);
    }
    assert_eq!(admin_delete(&c, &base, "faults").await.status(), 204);
    assert_eq!(api.status("Users").await, 200);

    // deny_consent: Allow acts as Deny.
    fault(&c, &base, json!({"provider": "quickbooks-online", "endpoint": "authorize", "fault": "deny_consent", "count": 1})).await;
    let r = get(
        &c,
        qbo_authorize_url(
            &base,
            QBO_DEV_ID,
            &[
                ("scope", "com.intuit.quickbooks.accounting"),
                ("state", "d"),
            ],
        ),
    )
    .await;
    let q = query_of(&decide(&c, &base, &r.text().await.unwrap(), "allow").await);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "d");

    // status_500 on an authorize page is an HTML page.
    fault(&c, &base, json!({"provider": "quickbooks-time", "endpoint": "authorize", "fault": "status_500", "count": 1})).await;
    let r = get(&c, qbt_authorize_url(&base, &[("state", "s")])).await;
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("<html"));

    // Faulted requests are still counted.
    let counts = json!({
        "quickbooks-time": {"authorize": 2},
        "aspire": {"api": 3},
        "quickbooks-online": {"refresh": 2},
    });
    assert_stats(&c, &base, counts).await;
}

#[tokio::test]
async fn state_file_is_shared_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emulator-state.json");
    let config = EmulatorConfig {
        state_file: Some(file.clone()),
        ..EmulatorConfig::default()
    };
    let c = client();

    let em1 = Emulator::start(config.clone()).await.unwrap();
    let t = qbt_tokens(&c, &em1.base_url()).await;
    assert!(file.exists());
    // A second emulator running at the same time sees the token issued by the first.
    let em2 = Emulator::start(config.clone()).await.unwrap();
    let me = |base: String, token: String| {
        let c = c.clone();
        async move { qbt_me(&c, &base, &token).await.status() }
    };
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(em2.base_url(), access.clone()).await, 200);
    // A refresh in the second is visible to the first.
    let r = qbt_refresh(&c, &em2.base_url(), t["refresh_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.unwrap();
    let access2 = t2["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(em1.base_url(), access2.clone()).await, 200);
    em1.shutdown().await;
    em2.shutdown().await;

    // A restart keeps tokens, apps and settings.
    let base = client();
    let em3 = Emulator::start(config).await.unwrap();
    assert_eq!(me(em3.base_url(), access2).await, 200);
    let apps: Vec<Value> = base
        .get(format!("{}/_emulator/apps", em3.base_url()))
        .answer()
        .await;
    assert_eq!(apps.len(), 5);
    // No temp files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

/// A one-shot-per-connection HTTP listener that records request lines (the app's callback).
async fn callback_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            log.lock()
                .unwrap()
                .push(text.lines().next().unwrap_or("").to_string());
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
        }
    });
    (port, seen)
}

async fn run_fake_browser(url: &str, decision: &str, log: &std::path::Path) -> i32 {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-browser"))
        .arg(url)
        .env("FAKE_BROWSER_DECISION", decision)
        .env("FAKE_BROWSER_LOG", log)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(out.stdout.is_empty());
    out.status.code().unwrap()
}

#[tokio::test]
async fn fake_browser_walks_the_flow() {
    let (_em, c, base) = started().await;
    let (port, seen) = callback_server().await;
    let redirect = format!("http://localhost:{port}/callback");
    let r = admin(&c, &base, "apps", json!({"provider": "quickbooks-time", "environment": "production", "redirect_uris": [redirect]})).await;
    let app: Value = r.json().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let url = |state: &str| {
        let mut u = url::Url::parse(&format!("{base}/rest.tsheets.com/api/v1/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", app["client_id"].as_str().unwrap())
            .append_pair("redirect_uri", &redirect)
            .append_pair("state", state);
        u.to_string()
    };

    assert_eq!(
        run_fake_browser(&url("secret-state-1"), "allow", &log).await,
        0
    );
    let line = seen.lock().unwrap().last().cloned().unwrap();
    assert!(line.starts_with("GET /callback?code="), "{line}");
    assert!(line.contains("state=secret-state-1"));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("state=REDACTED") && logged.contains("code=REDACTED"),
        "{logged}"
    );
    assert!(!logged.contains("secret-state-1"));
    assert!(
        logged
            .lines()
            .any(|l| l.starts_with(&format!("http://127.0.0.1:{port}/callback")))
    );

    assert_eq!(run_fake_browser(&url("s2"), "deny", &log).await, 0);
    assert!(
        seen.lock()
            .unwrap()
            .last()
            .unwrap()
            .contains("error=access_denied")
    );

    let before = seen.lock().unwrap().len();
    assert_eq!(run_fake_browser(&url("s3"), "ignore", &log).await, 0);
    assert_eq!(seen.lock().unwrap().len(), before);

    // An error page (unknown client) exits 3.
    let bad = url("s4").replace(app["client_id"].as_str().unwrap(), "unknown-client");
    assert_eq!(run_fake_browser(&bad, "allow", &log).await, 3);
}
