//! The full path per system: connect (real browser launch via BROWSER, callback listener) →
//! verify → refresh (rotation) → disconnect (revoke where offered), with the real keychain.

use crate::harness::{Lab, status_json};
use patchbay_core::store::{Os, SecretStore};
use patchbay_test_support::between;
use serde_json::json;

/// Register an app, then connect, check status, token, refresh, token again, disconnect;
/// returns the app's secret (the lab keeps the emulator's counters for system-specific checks).
async fn full_path(lab: &Lab, system: &str, env: &str) -> String {
    let (client_id, secret) = lab.app_for(system, env).await;
    let secret = secret.as_str();
    let connect = lab
        .run_async(
            &["connect", system, "--env", env],
            &format!("{client_id}\n {secret} \n"),
        )
        .await;
    connect
        .exits(0)
        .says("Connected")
        .says(&format!("kept in {}", Os::THIS.keychain()));

    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status.len(), 1);
    assert_eq!(status[0]["state"], "connected");
    assert_eq!(status[0]["environment"], env);
    let identity = &status[0]["identity"];
    let who = [
        identity["who"].as_str().unwrap_or(""),
        identity["company"].as_str().unwrap_or(""),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" at ");
    assert!(
        !who.is_empty(),
        "the verify call named the account: {status:?}"
    );
    assert!(
        connect.stdout.contains(&format!("as {who}.")),
        "identity {who:?} shown: {connect:?}"
    );
    let id = status[0]["id"].as_str().unwrap().to_string();

    // The secret was cleaned of the spaces around it before it reached the vendor, and it is
    // in the keychain, not in the settings file.
    let settings =
        std::fs::read_to_string(lab.home.path().join("config/connections.json")).unwrap();
    assert!(!settings.contains(secret), "no secret in the settings file");
    let entry = lab
        .keychain()
        .get(&id)
        .unwrap()
        .expect("grant in the keychain");
    assert!(
        entry.contains(secret) && !entry.contains(&format!(" {secret}")),
        "cleaned secret stored"
    );

    let t1 = lab.run_async(&["token", system, "--env", env], "").await;
    t1.exits(0);
    let token1 = t1.stdout.trim().to_string();
    assert!(token1.len() >= 20, "{t1:?}");

    let refresh = lab.run_async(&["refresh", system, "--env", env], "").await;
    refresh.exits(0);
    let t2 = lab.run_async(&["token", system, "--env", env], "").await;
    let token2 = t2.stdout.trim().to_string();
    assert_ne!(token1, token2, "refresh issued a new access token");

    // The refreshed token works: verify makes a real API call with it.
    let verify = lab.run_async(&["verify", system, "--env", env], "").await;
    verify.exits(0).says(&who);

    let disconnect = lab
        .run_async(&["disconnect", system, "--env", env, "--yes"], "")
        .await;
    disconnect.exits(0).says("Disconnected");
    assert!(
        lab.keychain().get(&id).unwrap().is_none(),
        "keychain entry deleted"
    );
    assert!(
        lab.keychain()
            .get(&format!("{id}#access"))
            .unwrap()
            .is_none(),
        "access entry deleted"
    );
    assert!(status_json(&lab.run_async(&["status", "--json"], "").await).is_empty());
    secret.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_time_connect_verify_refresh_disconnect() {
    let lab = Lab::new().await;
    let secret = full_path(&lab, "quickbooks-time", "production").await;
    let stats = lab.stats().await;
    assert_eq!(
        stats["quickbooks-time"]["token"], 1,
        "one code exchange: {stats}"
    );
    assert_eq!(
        stats["quickbooks-time"]["refresh"], 1,
        "one refresh: {stats}"
    );
    assert_eq!(
        stats["quickbooks-time"]["revoke"], 0,
        "no revocation offered"
    );
    let log = std::fs::read_to_string(&lab.browser_log)
        .expect("the browser was launched through BROWSER");
    assert!(log.contains("/rest.tsheets.com/api/v1/authorize"), "{log}");
    assert!(!log.contains(&secret), "the browser never sees the secret");
}

#[tokio::test(flavor = "multi_thread")]
async fn aspire_connect_verify_refresh_disconnect() {
    let lab = Lab::new().await;
    full_path(&lab, "aspire", "sandbox").await;
    let stats = lab.stats().await;
    assert_eq!(stats["aspire"]["refresh"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_online_connect_verify_refresh_disconnect_revokes() {
    let lab = Lab::new().await;
    lab.settings(json!({"provider": "quickbooks-online", "rotate_refresh": "always"}))
        .await;
    full_path(&lab, "quickbooks-online", "sandbox").await;
    let stats = lab.stats().await;
    assert_eq!(stats["quickbooks-online"]["refresh"], 1, "{stats}");
    assert_eq!(
        stats["quickbooks-online"]["revoke"], 1,
        "disconnect revoked at Intuit: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pasted_address_completes_the_flow_when_the_browser_cannot_reach_us() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("quickbooks-time", "production").await;
    let (mut run, url) = lab.connect_waiting(
        &["quickbooks-time"],
        (&id, &secret),
        "/rest.tsheets.com/api/v1/authorize",
    );
    use std::io::Write;
    // Be the admin's browser, but stop at the final address instead of loading it.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    let txn = between(&page, "name=\"txn\" value=\"", "\"")
        .expect("consent form")
        .to_string();
    let action = between(&page, "<form method=\"post\" action=\"", "\"")
        .expect("form action")
        .to_string();
    let action_url = reqwest::Url::parse(&url).unwrap().join(&action).unwrap();
    let resp = http
        .post(action_url)
        .form(&[("txn", txn.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("code="), "{location}");
    // A wrong address first: explained, and the flow keeps waiting.
    writeln!(
        run.stdin,
        "http://localhost:{}/callback?code=x&state=not-ours",
        lab.port
    )
    .unwrap();
    run.expect_line("earlier or different attempt");
    writeln!(run.stdin, "  {location}  ").unwrap();
    let out = tokio::task::spawn_blocking(move || run.finish())
        .await
        .unwrap();
    out.exits(0).says("Connected QuickBooks Time as ");
}

/// A system that exists only in an admin's catalog file, pointing at a standard OAuth 2 server
/// (the emulator's Intuit endpoints, with client credentials in the body this time), connects
/// with no code change.
#[tokio::test(flavor = "multi_thread")]
async fn a_system_from_a_catalog_file_connects_with_no_code_change() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("quickbooks-online", "sandbox").await;
    let catalog = custom_catalog(&lab);
    let path = catalog.to_str().unwrap();
    let out = lab
        .run_async(
            &["--catalog", path, "connect", "books-custom"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    out.exits(0).says("Connected Books Custom as ");
    // Later commands find the system through the connection record, without --catalog.
    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status[0]["provider"], "books-custom");
    assert!(
        !status[0]["identity"]["company"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{status:?}"
    );
    let refresh = lab.run_async(&["refresh", "books-custom"], "").await;
    refresh.exits(0);
}

/// A standard OAuth 2 server's system in an admin's catalog file (the emulator's Intuit
/// endpoints, client credentials in the body), with no vendor wording for its error pages.
fn custom_catalog(lab: &Lab) -> std::path::PathBuf {
    let catalog = lab.home.path().join("mine.toml");
    std::fs::write(&catalog, patchbay_test_support::CATALOG).unwrap();
    catalog
}

/// Any standard server's refused redirect is named before the browser opens, from the words of
/// its error page, although the catalog lists no vendor wording for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_systems_refused_redirect_is_named_before_the_browser_opens() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-online", "sandbox", "http://localhost:1/other")
        .await;
    let catalog = custom_catalog(&lab);
    let out = lab
        .run_async(
            &[
                "--catalog",
                catalog.to_str().unwrap(),
                "connect",
                "books-custom",
            ],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    out.exits(3)
        .warns("does not accept Patchbay's Callback URL");
    assert!(
        !lab.browser_log.exists(),
        "the browser was not sent to an error page"
    );
}

/// Behind a corporate proxy (here one that does not exist), practice mode still works: nothing
/// addressed to this computer goes through a proxy. The support report names the proxy vendor
/// requests would take.
#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_is_used_for_vendors_only_and_named_in_the_report() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    let proxied = |args: &[&str]| {
        let mut cmd = lab.command(args);
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
        ] {
            cmd.env(var, "http://proxy.corp.invalid:3128");
        }
        cmd.env_remove("NO_PROXY").env_remove("no_proxy");
        cmd
    };
    let out = lab.run_with(
        proxied(&["connect", "aspire", "--env", "sandbox"]),
        &format!("{id}\n{secret}\n"),
    );
    out.exits(0);
    let out = lab.run_with(proxied(&["report"]), "");
    out.exits(0);
    assert!(
        out.stdout
            .contains("\nnetwork: through the proxy http://proxy.corp.invalid:3128/"),
        "{}",
        out.stdout
    );
}
