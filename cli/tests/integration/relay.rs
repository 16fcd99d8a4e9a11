//! The real vendors' redirect rules, end to end with Debian's headless Chromium as the admin's
//! browser: QuickBooks Online production through the distributor's HTTPS relay (served by the
//! emulator at its https host, as it serves the vendors), QuickBooks Time when it takes only
//! https, the relay's "paste this into Patchbay" when the answer cannot be handed over, and the
//! admin's own https page with the pasted address.

use crate::harness::*;
use patchbay_emulator::PRACTICE_RELAY_URL;
use patchbay_test_support::between;
use serde_json::json;
use std::time::Duration;

/// Distribution settings giving `provider`/`environment` the relay and, optionally, app keys.
fn distribution(
    provider: &str,
    environment: &str,
    keys: Option<(&str, &str)>,
    relay: &str,
) -> String {
    let keys = keys
        .map(|(id, secret)| format!("client_id = \"{id}\"\nclient_secret = \"{secret}\"\n"))
        .unwrap_or_default();
    format!(
        "[[system]]\nprovider = \"{provider}\"\nenvironment = \"{environment}\"\n{keys}relay_url = \"{relay}\"\n"
    )
}

/// A lab where the distributor registered its relay at Intuit production (localhost would be
/// refused) and ships the app's keys, so the admin pastes nothing; consent is given on load.
/// Returns the app's secret, to look for where it must not be.
async fn distributors_intuit_app() -> (Lab, String) {
    let lab = Lab::new().await;
    lab.settings(json!({"provider": "quickbooks-online", "consent_auto_allow": true}))
        .await;
    let (id, secret) = lab
        .app("quickbooks-online", "production", PRACTICE_RELAY_URL)
        .await;
    lab.distribution(&distribution(
        "quickbooks-online",
        "production",
        Some((&id, &secret)),
        PRACTICE_RELAY_URL,
    ));
    (lab, secret)
}

/// `patchbay connect quickbooks-online --env production` with headless Chromium as the browser.
fn connect_production(lab: &Lab, run_timers: bool) -> std::process::Command {
    let mut cmd = lab.command(&[
        "connect",
        "quickbooks-online",
        "--env",
        "production",
        "--timeout",
        "60",
    ]);
    cmd.env("BROWSER", lab.chromium(run_timers));
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_online_production_connects_through_the_relay_with_the_distributors_keys() {
    let (lab, secret) = distributors_intuit_app().await;
    let cmd = connect_production(&lab, true);
    let out = lab.run_with(cmd, "");
    out.exits(0)
        .warns("no keys to paste")
        .says("Connected QuickBooks Online");
    // Chromium went authorize → consent → relay → Patchbay's listener (the only way the code
    // could reach it: nothing was pasted).
    let log = std::fs::read_to_string(&lab.browser_log).unwrap();
    assert!(
        log.contains(&format!("redirect_uri={}", enc(PRACTICE_RELAY_URL))),
        "the authorize request names the relay as redirect_uri: {log}"
    );
    assert!(!log.contains(&secret));
    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status[0]["environment"], "production");
    assert_eq!(status[0]["state"], "connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_time_https_only_goes_through_the_relay_and_says_what_to_do_without_one() {
    let lab = Lab::new().await;
    lab.settings(json!({"provider": "quickbooks-time", "https_redirects_only": true, "consent_auto_allow": true}))
        .await;
    // Without a relay: Patchbay's own address is offered with what to do if QuickBooks Time
    // refuses it, and QuickBooks Time does refuse it.
    let r = lab
        .http
        .post(format!("{}/_emulator/apps", lab.base()))
        .json(&json!({"provider": "quickbooks-time", "environment": "production", "redirect_uris": [lab.callback()]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "QuickBooks Time (https only) refuses to save the loopback"
    );
    let out = lab
        .run_async(
            &[
                "connect",
                "quickbooks-time",
                "--no-browser",
                "--timeout",
                "2",
            ],
            "",
        )
        .await;
    assert!(
        out.stderr
            .contains("If QuickBooks Time will not save this address")
            && out.stderr.contains("sign-in relay address"),
        "{out:?}"
    );

    // With the distributor's relay (the admin still makes their own app and pastes its keys).
    let relay = "https://relay.patchbay.test/qbt/";
    let (id, secret) = lab.app("quickbooks-time", "production", relay).await;
    lab.distribution(&distribution("quickbooks-time", "production", None, relay));
    let mut cmd = lab.command(&["connect", "quickbooks-time", "--timeout", "60"]);
    cmd.env("BROWSER", lab.chromium(true));
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    out.exits(0);
    assert!(
        out.stderr.contains(relay),
        "the relay is the Callback URL to register: {out:?}"
    );
    out.says("Connected QuickBooks Time");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_shows_the_address_to_paste_when_patchbay_cannot_be_reached() {
    let (lab, _) = distributors_intuit_app().await;
    // The relay sends the browser to a port where something takes the connection and never
    // answers (Patchbay is on another computer, a stuck program): the hand-over never arrives.
    // The page shows the address to paste from the start; the browser is looked at as soon as
    // the relay has loaded.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = black_hole.local_addr().unwrap().port();
    lab.admin(
        "relay",
        json!({"callback": format!("http://localhost:{hole}/callback")}),
    )
    .await;
    let cmd = connect_production(&lab, false);
    let running = Running::start(cmd);
    running.expect_line("paste that address here");
    let dom = lab.chromium_dom();
    assert!(dom.contains("data-testid=\"relay-address\""), "{dom}");
    let address = relay_address(&dom);
    assert!(
        address.contains("code=") && address.contains("state="),
        "{address}"
    );
    if crate::docs::writing() {
        // The relay as a phone shows it (the admin may be finishing on another device).
        let shot = crate::docs::repo().join("docs/screenshots/47-relay-phone.png");
        let status = std::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .args([
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!(
                "--user-data-dir={}",
                lab.home.path().join("shot-profile").display()
            ))
            .arg("--window-size=360,740")
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&address)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    // The admin pastes what the relay shows.
    let mut running = running;
    use std::io::Write as _;
    writeln!(running.stdin, "{address}").unwrap();
    let out = running.finish();
    drop(black_hole);
    out.exits(0).says("Connected QuickBooks Online");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admins_own_https_page_works_with_the_pasted_address() {
    let lab = Lab::new().await;
    let page = "https://intranet.example.com/patchbay-return";
    let (id, secret) = lab.app("quickbooks-online", "production", page).await;
    // No relay and Intuit production: Patchbay says why it cannot use its own address.
    let out = lab
        .run_async(&["connect", "quickbooks-online", "--env", "production"], "")
        .await;
    out.exits(3)
        .warns("only accepts addresses that start with https");
    // A page that is not https is refused before anything is asked.
    let out = lab
        .run_async(
            &[
                "connect",
                "quickbooks-online",
                "--env",
                "production",
                "--redirect-page",
                "http://intranet.example.com/x",
            ],
            "",
        )
        .await;
    out.exits(2).warns("must start with https://");

    let args = [
        "quickbooks-online",
        "--env",
        "production",
        "--timeout",
        "60",
        "--redirect-page",
        page,
    ];
    let (mut running, link) = lab.connect_waiting(
        &args,
        (&id, &secret),
        "/appcenter.intuit.com/connect/oauth2",
    );
    let link = link.as_str();
    use std::io::Write as _;
    assert!(
        link.contains(&format!("redirect_uri={}", enc(page))),
        "{link}"
    );
    // The admin allows in their browser, which ends on their page (not reachable from here:
    // the address is what counts).
    let ended_on = allow_in_browser(&lab, link).await;
    assert!(ended_on.starts_with(page), "{ended_on}");
    writeln!(running.stdin, "{ended_on}").unwrap();
    let out = running.finish();
    out.exits(0);
}

/// What a person does on the consent page: load it and click Allow; returns where Intuit sends
/// the browser.
async fn allow_in_browser(lab: &Lab, link: &str) -> String {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c.get(link).send().await.unwrap().text().await.unwrap();
    let txn =
        between(&page, "name=\"txn\" value=\"", "\"").expect("consent page has its transaction");
    let r = c
        .post(format!(
            "{}/appcenter.intuit.com/connect/oauth2/authorize/decision",
            lab.base()
        ))
        .form(&[("txn", txn), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The address the relay page shows (its readonly field's text).
fn relay_address(dom: &str) -> String {
    let at = dom.find("data-testid=\"relay-address\"").unwrap();
    let rest = &dom[at..];
    let text = &rest[rest.find('>').unwrap() + 1..];
    let text = &text[..text.find('<').unwrap()];
    text.replace("&amp;", "&").trim().to_string()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A distributor's file with mistakes stops a connect with what is wrong and where, and loses
/// nothing: the existing connections are still listed.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_distribution_file_is_named_and_loses_nothing() {
    let lab = Lab::new().await;
    crate::refresh::connect_aspire(&lab).await;
    lab.distribution(
        "[[system]]\nprovider = \"quickbooks-online\"\nenvironment = \"production\"\nrelay_url = \"http://connect.example.com/patchbay/\"\n",
    );
    let out = lab
        .run_async(&["connect", "quickbooks-online", "--env", "production"], "")
        .await;
    out.exits(2);
    assert!(
        out.stderr.contains("distribution.toml")
            && out.stderr.contains("relay_url")
            && out.stderr.contains("must start with https://"),
        "{out:?}"
    );
    let status = lab.run_async(&["status", "--json"], "").await;
    status.warns("must start with https://");
    assert_eq!(
        status_json(&status).len(),
        1,
        "the Aspire connection is still there"
    );
}
