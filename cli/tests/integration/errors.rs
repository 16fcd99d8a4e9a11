//! One test per error kind: the real CLI against the emulator's faults, asserting the exit code,
//! the admin's message, and the checklist item with its fix.

use crate::harness::{Lab, Running, free_port, status_json};
use patchbay_core::ErrorKind;
use serde_json::json;

fn code(kind: ErrorKind) -> i32 {
    kind.exit_code()
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_mismatch_is_named_before_the_browser_opens() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app(
            "quickbooks-time",
            "production",
            "https://platform.example.com/oauth/callback",
        )
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::RedirectMismatch), "{out:?}");
    assert!(
        out.stderr
            .contains("✗ Redirect URL matches the Callback URL"),
        "checklist item: {out:?}"
    );
    assert!(
        out.stderr
            .contains("must exactly match the Callback URL shown in Patchbay"),
        "fix: {out:?}"
    );
    assert!(
        !lab.browser_log.exists(),
        "the browser was not sent to an error page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_mismatch_at_intuit_uses_intuits_words() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app(
            "quickbooks-online",
            "sandbox",
            "https://other.example.com/cb",
        )
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-online", "--env", "sandbox"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::RedirectMismatch), "{out:?}");
    assert!(out.stderr.contains("Redirect URIs"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_invalid_client() {
    let lab = Lab::new().await;
    let (id, _) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\nwrongsecret123\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::InvalidClient), "{out:?}");
    assert!(
        out.stderr.contains("✗ Client ID and Secret Key accepted"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("same QuickBooks Time application"),
        "{out:?}"
    );
    assert!(
        status_json(&lab.run_async(&["status", "--json"], "").await).is_empty(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_client_id_is_caught_on_the_authorize_page() {
    let lab = Lab::new().await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            "nosuchclient1\nsecretsecret\n",
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::InvalidClient), "{out:?}");
    assert!(
        out.stderr.contains("does not recognise this Client ID"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deny_in_the_browser_is_denied() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-online", "sandbox", &lab.callback())
        .await;
    let mut cmd = lab.command(&["connect", "quickbooks-online", "--env", "sandbox"]);
    cmd.env("FAKE_BROWSER_DECISION", "deny");
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert_eq!(out.code, code(ErrorKind::Denied), "{out:?}");
    assert!(out.stderr.contains("Access was not allowed"), "{out:?}");
    assert!(
        out.stderr.contains("✗ Access given to Patchbay"),
        "checklist item: {out:?}"
    );
    assert!(
        !out.stderr.contains("✗ Intuit's sign-in page opened"),
        "a Deny is not a window that did not open: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_coming_back_times_out_and_frees_the_port() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let mut cmd = lab.command(&["connect", "quickbooks-time", "--timeout", "2"]);
    cmd.env("FAKE_BROWSER_DECISION", "ignore"); // the admin closed the tab
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert_eq!(out.code, code(ErrorKind::Timeout), "{out:?}");
    assert!(
        out.stderr
            .contains("No answer came back from QuickBooks Time within 2 seconds"),
        "{out:?}"
    );
    assert!(out.stderr.contains("✗ Approval page opened"), "{out:?}");
    std::net::TcpListener::bind(("127.0.0.1", lab.port)).expect("callback port released");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_that_cannot_be_launched_is_reported_and_the_link_offered() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let mut cmd = lab.command(&["connect", "quickbooks-time", "--timeout", "3"]);
    // No BROWSER that exists and no xdg-open/gio on PATH: like a machine with no browser.
    cmd.env("BROWSER", "/nonexistent/browser")
        .env("PATH", "/nonexistent");
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert!(
        out.stderr.contains("could not open your web browser"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("Open this link in your browser"),
        "the link is offered: {out:?}"
    );
    assert!(out.stderr.contains("✗ Approval page opened"), "{out:?}");
    assert_eq!(out.code, code(ErrorKind::Timeout), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_callback_port_is_explained() {
    let lab = Lab::new().await;
    let _taken = std::net::TcpListener::bind(("127.0.0.1", lab.port)).unwrap();
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::PortInUse), "{out:?}");
    assert!(
        out.stderr.contains(&format!("needs port {}", lab.port)),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("(process "),
        "names the program holding it: {out:?}"
    );
    assert!(
        out.stderr
            .contains("Patchbay can receive the answer on this computer"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_api_add_on_is_api_not_enabled() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    lab.fault("quickbooks-time", "api", "payment_required", json!({}))
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::ApiNotEnabled), "{out:?}");
    assert!(
        out.stderr
            .contains("✗ API add-on active in QuickBooks Time"),
        "{out:?}"
    );
    assert!(out.stderr.contains("Manage Add-ons"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sandbox_keys_used_for_production_are_wrong_environment() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
    let out = lab
        .run_async(
            &["connect", "aspire", "--env", "production"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::WrongEnvironment), "{out:?}");
    assert!(
        out.stderr
            .contains("These keys belong to Aspire Sandbox, but you chose Production"),
        "{out:?}"
    );
    assert!(out.stderr.contains("Right environment"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn intuit_development_keys_on_production_are_wrong_environment() {
    let lab = Lab::new().await;
    lab.settings(json!({"provider": "quickbooks-online", "consent_auto_allow": true}))
        .await;
    // Production needs an https redirect: the distributor's relay, which the admin also
    // registered for their Development keys.
    let relay = patchbay_emulator::PRACTICE_RELAY_URL;
    let a = lab
        .admin(
            "apps",
            json!({"provider": "quickbooks-online", "environment": "sandbox",
                   "redirect_uris": [lab.callback(), relay]}),
        )
        .await;
    let (id, secret) = (
        a["client_id"].as_str().unwrap(),
        a["client_secret"].as_str().unwrap(),
    );
    lab.distribution(&format!(
        "[[system]]\nprovider = \"quickbooks-online\"\nenvironment = \"production\"\nrelay_url = \"{relay}\"\n"
    ));
    let mut cmd = lab.command(&["connect", "quickbooks-online", "--env", "production"]);
    cmd.env("BROWSER", lab.chromium(true));
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert_eq!(out.code, code(ErrorKind::WrongEnvironment), "{out:?}");
    assert!(out.stderr.contains("QuickBooks Online Sandbox"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_at_the_token_endpoint_is_rate_limited() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
    lab.fault("aspire", "token", "rate_limit", json!({"retry_after": 120}))
        .await;
    let out = lab
        .run_async(
            &["connect", "aspire", "--env", "sandbox"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::RateLimited), "{out:?}");
    assert!(
        out.stderr.contains("slow down") && out.stderr.contains("2 minutes"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("Not slowed down by the vendor"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_vendor_is_network() {
    let lab = Lab::new().await;
    let mut cmd = lab.command(&["connect", "aspire", "--env", "sandbox"]);
    cmd.env(
        "PATCHBAY_EMULATOR_URL",
        format!("http://127.0.0.1:{}", free_port()),
    );
    let out = lab.run_with(
        cmd,
        "3f2a91c6-0000-4000-8000-6d5e8a2b7c34\n7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa\n",
    );
    assert_eq!(out.code, code(ErrorKind::Network), "{out:?}");
    assert!(out.stderr.contains("could not reach Aspire"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_500_is_provider_down() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
    lab.fault("aspire", "token", "status_500", json!({})).await;
    let out = lab
        .run_async(
            &["connect", "aspire", "--env", "sandbox"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::ProviderDown), "{out:?}");
    assert!(out.stderr.contains("server error (500)"), "{out:?}");
    assert!(
        out.stderr.contains("The vendor's service is answering"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_keychain_is_a_clear_keychain_error_and_nothing_is_written() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
    let mut cmd = lab.command(&["connect", "aspire", "--env", "sandbox"]);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert_eq!(out.code, code(ErrorKind::Keychain), "{out:?}");
    assert!(out.stderr.contains("No keyring is running"), "{out:?}");
    let mut found = Vec::new();
    for entry in walk(lab.home.path()) {
        if std::fs::read_to_string(&entry).is_ok_and(|t| t.contains(&secret)) {
            found.push(entry);
        }
    }
    assert!(found.is_empty(), "no plaintext fallback: {found:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_grant_on_refresh_asks_to_reconnect() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    lab.fault("quickbooks-time", "refresh", "invalid_grant", json!({}))
        .await;
    let out = lab.run_async(&["refresh", "quickbooks-time"], "").await;
    assert_eq!(out.code, code(ErrorKind::Reconnect), "{out:?}");
    assert!(out.stderr.contains("Connect again"), "{out:?}");
    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status[0]["state"], "needs_reconnect", "{status:?}");
    // Reconnect works and clears the state.
    let _ = lab
        .http
        .delete(format!("{}/_emulator/faults", lab.base()))
        .send()
        .await
        .unwrap();
    let out = lab
        .run_async(
            &["connect", "quickbooks-time"],
            &format!("{id}\n{secret}\n"),
        )
        .await;
    assert_eq!(out.code, 0, "{out:?}");
    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status[0]["state"], "connected", "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_cancels_and_frees_the_port() {
    let lab = Lab::new().await;
    let (id, secret) = lab
        .app("quickbooks-time", "production", &lab.callback())
        .await;
    let mut cmd = lab.command(&["connect", "quickbooks-time", "--no-browser"]);
    cmd.env_remove("BROWSER");
    let mut run = Running::start(cmd);
    use std::io::Write;
    writeln!(run.stdin, "{id}\n{secret}").unwrap();
    run.expect_line("/rest.tsheets.com/api/v1/authorize");
    let pid = run.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || run.finish())
        .await
        .unwrap();
    assert_eq!(out.code, code(ErrorKind::Cancelled), "{out:?}");
    assert!(out.stderr.contains("cancelled"), "{out:?}");
    std::net::TcpListener::bind(("127.0.0.1", lab.port)).expect("callback port released");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_aspire_client_id_is_invalid_input_before_any_request() {
    let lab = Lab::new().await;
    let out = lab
        .run_async(
            &["connect", "aspire", "--env", "sandbox"],
            "not-a-uuid\n7hLpQ2x9Vb4Nc8Rt1Yw5Kz3Md6Fj0nHa\n",
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::InvalidInput), "{out:?}");
    assert!(
        out.stderr.contains("should be 36 characters with dashes"),
        "{out:?}"
    );
    assert_eq!(lab.stats().await["aspire"]["token"], 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_system_and_bad_catalog_are_explained() {
    let lab = Lab::new().await;
    let out = lab.run_async(&["connect", "nosuch"], "").await;
    assert_eq!(out.code, code(ErrorKind::NotFound), "{out:?}");
    assert!(
        out.stderr
            .contains("Known systems: quickbooks-time, aspire, quickbooks-online"),
        "{out:?}"
    );
    let bad = lab.home.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[[provider]]\nid = \"x\"\n").unwrap();
    let out = lab
        .run_async(&["providers", "--catalog", bad.to_str().unwrap()], "")
        .await;
    assert_eq!(out.code, code(ErrorKind::Catalog), "{out:?}");
    assert!(out.stderr.contains("is not a valid catalog"), "{out:?}");
}

/// The guide's "Under Scope, click Select All ... If this is not selected, the connection will
/// not work": a key that reaches only some lists is named at connect time, with the guide's fix,
/// before the admin leaves the wizard, and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn an_aspire_key_without_select_all_fails_the_scope_item_at_connect() {
    let lab = Lab::new().await;
    let a = lab
        .admin(
            "apps",
            json!({"provider": "aspire", "environment": "sandbox", "scope": ["Users", "Contacts"]}),
        )
        .await;
    let out = lab
        .run_async(
            &["connect", "aspire", "--env", "sandbox"],
            &format!(
                "{}\n{}\n",
                a["client_id"].as_str().unwrap(),
                a["client_secret"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(out.code, code(ErrorKind::ScopeMissing), "{out:?}");
    assert!(
        out.stderr
            .contains("does not share Properties and Work tickets"),
        "{out:?}"
    );
    assert!(out.stderr.contains("✗ Scope: Select All"), "{out:?}");
    assert!(
        out.stderr
            .contains("make sure Select All is chosen under Scope"),
        "{out:?}"
    );
    assert!(
        status_json(&lab.run_async(&["status", "--json"], "").await).is_empty(),
        "nothing is kept from a connection that cannot work"
    );
}
