//! Flow latency: Patchbay's own overhead on top of the HTTP round trips a flow needs.
//!
//! - Connect (QuickBooks Online, practice): `Connections::connect` from the authorize redirect to
//!   the keychain write, against a plain script making the same requests in the same run (the
//!   same fake browser walks the consent page for both; the script takes the callback on a bare
//!   TCP socket, exchanges the code and makes the verify call).
//! - Refresh: `Connections::access_token(force)` against one plain refresh-token POST.
//! - `patchbay token` when no refresh is needed, end to end (process start to exit), against
//!   `patchbay --version` (the same binary doing nothing).
//!
//! Run with `scripts/bench.sh flows` (release build, the real keychain).

// A benchmark reports a broken setup by panicking, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use harness::{FakeBrowser, Lab};
use patchbay_core::store::Vault;
use patchbay_core::{Browser, Connections};
use patchbay_test_support::Answer as _;
use patchbay_test_support::{docs, lab as harness};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const PROVIDER: &str = "quickbooks-online";
const ENV: &str = "sandbox";

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The connect flow written plainly: the browser to the authorize URL, the callback on a bare
/// socket, the code exchanged, the company read. Returns the access token.
async fn plain_connect(http: &reqwest::Client, lab: &Lab, id: &str, secret: &str) -> String {
    let (base, port) = (lab.base(), lab.port);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let redirect = format!("http://localhost:{port}/callback");
    let mut authorize =
        url::Url::parse(&format!("{base}/appcenter.intuit.com/connect/oauth2")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", id)
        .append_pair("response_type", "code")
        .append_pair("scope", "com.intuit.quickbooks.accounting")
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", "plain-state-0123456789");
    FakeBrowser {
        log: lab.browser_log.clone(),
    }
    .open(authorize.as_str())
    .unwrap();
    let request = tokio::task::spawn_blocking(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 8192];
        let mut got = 0;
        while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
            got += s.read(&mut buf[got..]).unwrap();
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        String::from_utf8_lossy(&buf[..got]).into_owned()
    })
    .await
    .unwrap();
    let target = request.split(' ').nth(1).unwrap();
    let url = url::Url::parse(&format!("http://localhost{target}")).unwrap();
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    let tokens: serde_json::Value = http
        .post(format!(
            "{base}/oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
        ))
        .basic_auth(id, Some(secret))
        .header("accept", "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", q["code"].as_str()),
            ("redirect_uri", redirect.as_str()),
        ])
        .answer()
        .await;
    let token = tokens["access_token"].as_str().unwrap().to_string();
    let realm = &q["realmId"];
    let company = http
        .get(format!(
            "{base}/sandbox-quickbooks.api.intuit.com/v3/company/{realm}/companyinfo/{realm}?minorversion=75"
        ))
        .bearer_auth(&token)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert!(company.status().is_success());
    company.bytes().await.unwrap();
    token
}

async fn patchbay_connect(lab: &Lab, connections: &Connections, id: &str, secret: &str) {
    lab.connect_in_process(connections, PROVIDER, ENV, (id, secret))
        .await
        .unwrap();
}

async fn plain_refresh(http: &reqwest::Client, base: &str, id: &str, secret: &str, rt: &str) {
    let r = http
        .post(format!(
            "{base}/oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
        ))
        .basic_auth(id, Some(secret))
        .header("accept", "application/json")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.bytes().await.unwrap();
}

fn run_cli(lab: &Lab, args: &[&str]) -> Duration {
    let mut cmd = lab.command(args);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let t = Instant::now();
    let status = cmd.status().unwrap();
    let took = t.elapsed();
    assert!(status.success(), "{args:?}");
    took
}

#[tokio::main]
async fn main() {
    let lab = Lab::new().await;
    lab.settings(serde_json::json!({"provider": PROVIDER, "rate_limit_per_window": 1_000_000, "access_token_ttl_secs": 864_000}))
        .await;
    let (id, secret) = lab.app(PROVIDER, ENV, &lab.callback()).await;
    let connections = lab.connections();
    let http = reqwest::Client::new();
    let base = lab.base();
    let conn = Connections::connection_id(PROVIDER, ENV, true);

    // Warm-up of both sides, then alternate.
    patchbay_connect(&lab, &connections, &id, &secret).await;
    plain_connect(&http, &lab, &id, &secret).await;
    let (mut pb, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        patchbay_connect(&lab, &connections, &id, &secret).await;
        pb.push(t.elapsed());
        let t = Instant::now();
        plain_connect(&http, &lab, &id, &secret).await;
        plain.push(t.elapsed());
    }
    let (c_pb, c_plain) = (median(&mut pb), median(&mut plain));

    let vault = Vault::new(Arc::new(lab.keychain()));
    let (mut rpb, mut rplain) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        connections.access_token(&conn, true).await.unwrap();
        rpb.push(t.elapsed());
        let rt = vault.load(&conn).unwrap().unwrap().refresh_token.unwrap();
        let t = Instant::now();
        plain_refresh(&http, &base, &id, &secret, rt.expose_secret()).await;
        rplain.push(t.elapsed());
    }
    let (r_pb, r_plain) = (median(&mut rpb), median(&mut rplain));

    // The CLI connects the same system so `patchbay token` has one that needs no refresh.
    let out = lab.connect(PROVIDER, ENV, &id, &secret).await;
    assert_eq!(out.code, 0, "{out:?}");
    let (mut tok, mut ver) = (Vec::new(), Vec::new());
    run_cli(&lab, &["token", PROVIDER, "--env", ENV]);
    for _ in 0..ROUNDS {
        tok.push(run_cli(&lab, &["token", PROVIDER, "--env", ENV]));
        ver.push(run_cli(&lab, &["--version"]));
    }
    let (t_tok, t_ver) = (median(&mut tok), median(&mut ver));

    let table = format!(
        "Medians of {ROUNDS} alternating rounds, release build, the real keychain, QuickBooks Online practice.\n\n\
         | Flow | Plain baseline | Patchbay | Patchbay's own time | Target |\n|---|---:|---:|---:|---:|\n\
         | Connect: authorize redirect, consent, callback, code exchange, verify, keychain write | {:.1} ms | {:.1} ms | {:+.1} ms | < 10 ms |\n\
         | Token refresh (stored before use) | {:.1} ms | {:.1} ms | {:+.1} ms | — |\n\
         | `patchbay token`, no refresh needed, process start to exit (baseline: `patchbay --version`) | {:.1} ms | {:.1} ms | {:+.1} ms | < 20 ms in all |\n",
        ms(c_plain),
        ms(c_pb),
        ms(c_pb) - ms(c_plain),
        ms(r_plain),
        ms(r_pb),
        ms(r_pb) - ms(r_plain),
        ms(t_ver),
        ms(t_tok),
        ms(t_tok) - ms(t_ver),
    );
    println!("{table}");
    docs::edit("PERFORMANCE.md", |d| {
        docs::replace_block(&d, "bench:flows", &table)
    });
}
