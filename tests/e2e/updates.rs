//! Updates end to end: the real app (a debug build, which takes its feed and key from
//! `PATCHBAY_UPDATE_FEED` and `PATCHBAY_UPDATE_PUBKEY`) against an update feed served here, in the
//! format Tauri's updater and the release workflow use (`latest.json`). Practice mode never
//! looks; a look happens at most once a day; the offer waits for the admin; a download not
//! signed with the app's key is never installed, and the admin is told so in plain words.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_e2e::harness::{App, Desk, WAIT, wait_in_file};
use patchbay_test_support::workspace_bin;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The key the app trusts (a throwaway pair made for this test; its private half was deleted).
const APP_KEY: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IDcxQzk5MDA5RDQzQkU1NEEKUldSSzVUdlVDWkRKY2RCSUFvSFFlNGlONGN1UGdFaEtOUEMxL0lBellQS0Job3NkbWVhT2JlTnkK";
/// What the feed offers for download, and its signature by ANOTHER key (`tauri signer sign
/// --app-version 99.0.0`): well formed, bound to the announced version, and not the app's.
const PAYLOAD: &[u8] = b"Patchbay 99.0.0, not a real installer\n";
const FOREIGN_SIGNATURE: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZSBmcm9tIHRhdXJpIHNlY3JldCBrZXkKUlVROTZTYmdSaW9iTysyWkFvVUlxQzlUSitvWkljQnVaQ3lJZ3h2VWFXN1lpTnlpbTlnSzRjQ3BCT0dOemlLenQ0enYwUTNYM3VPM0JRamp6WDRYK28wc0FlekxPVzhiMndnPQp0cnVzdGVkIGNvbW1lbnQ6IHRpbWVzdGFtcDoxNzk2MDMzMDU0CWZpbGU6cGF5bG9hZC5iaW4JdmVyc2lvbjo5OS4wLjAKVzU4UHpic2NDZzVVWnVEbE1WQjNmd0ZuRStwTS9EaWlOdDVVMFB4OXBLMWwyQ1FFNi9lV1o4Wm5RaGdodzQzT3hpZFRScUEzTHkyWVlPQzZ2MDhGQWc9PQo=";

/// A feed on this computer: `/latest.json` and `/download`, each request counted.
struct Feed {
    url: String,
    looks: Arc<AtomicUsize>,
    downloads: Arc<AtomicUsize>,
}

impl Feed {
    async fn start() -> Feed {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let manifest = json!({
            "version": "99.0.0",
            "notes": "Faster previews.\nClearer messages when a vendor is down.",
            "pub_date": "2026-11-30T09:00:00Z",
            "platforms": {
                "linux-x86_64": {"url": format!("{base}/download"), "signature": FOREIGN_SIGNATURE}
            }
        })
        .to_string();
        let (looks, downloads) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (l, d) = (looks.clone(), downloads.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut request = vec![0u8; 8192];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&request[..n]).into_owned();
                let (body, kind): (&[u8], &str) = if line.starts_with("GET /latest.json") {
                    l.fetch_add(1, Ordering::SeqCst);
                    (manifest.as_bytes(), "application/json")
                } else if line.starts_with("GET /download") {
                    d.fetch_add(1, Ordering::SeqCst);
                    (PAYLOAD, "application/octet-stream")
                } else {
                    (b"not here", "text/plain")
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
            }
        });
        Feed {
            url: format!("{base}/latest.json"),
            looks,
            downloads,
        }
    }

    fn looks(&self) -> usize {
        self.looks.load(Ordering::SeqCst)
    }
}

/// Launch the app with `env`, on the welcome, once its log says it decided about updates
/// (`decision`).
async fn launch_decided(desk: &Desk, env: &[(&str, &str)], decision: &str) -> App {
    let app = desk.launch(env).await;
    app.get("welcome").await;
    wait_in_file(&app.log, decision, WAIT, "the update decision").await;
    app
}

/// Whether the update offer is on screen.
async fn offered(app: &App) -> bool {
    app.shown("[data-testid=\"update-offer\"]").await
}

/// The app's remembered last look, moved back by `hours`.
fn last_look_hours_ago(desk: &Desk, hours: i64) {
    desk.edit_app_prefs(|v| {
        let at = v["update_checked_at"]
            .as_i64()
            .expect("the last look is remembered");
        v["update_checked_at"] = json!(at - hours * 3600);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_is_offered_at_most_daily_and_one_not_signed_by_patchbay_is_never_installed() {
    let desk = Desk::new().await;
    let feed = Feed::start().await;
    let keyed = [
        ("PATCHBAY_UPDATE_FEED", feed.url.as_str()),
        ("PATCHBAY_UPDATE_PUBKEY", APP_KEY),
    ];

    // Practice mode off (no emulator): one look, and the offer on the welcome with the release's notes.
    let real = [keyed[0], keyed[1], ("PATCHBAY_EMULATOR_URL", "")];
    let app = desk.launch(&real).await;
    let offer = app
        .wait_text("update-offer", "Patchbay 99.0.0 is available")
        .await;
    assert!(offer.contains("you have 0.1.0"), "{offer}");
    assert!(
        app.text("update-notes")
            .await
            .contains("Faster previews. Clearer messages"),
        "the notes, on one line"
    );
    assert_eq!(feed.looks(), 1);
    app.screenshot("update-offer").await;
    // Not now: gone for this run, also after going to Choose and back.
    app.click("later-update").await;
    assert!(!offered(&app).await);
    app.click("welcome-start").await;
    app.get("choose").await;
    app.click("back-home").await;
    app.get("welcome").await;
    assert!(!offered(&app).await);
    app.close().await;

    // Started again the same day: no second look, no offer.
    let app = launch_decided(&desk, &real, "less than a day ago").await;
    assert_eq!(feed.looks(), 1, "looked twice in a day");
    assert!(!offered(&app).await);
    app.close().await;

    // A day later: a look and the offer again. Install: the download is not signed with the
    // app's key, so nothing is installed and the admin is told so.
    last_look_hours_ago(&desk, 25);
    let binary = std::fs::read(workspace_bin("patchbay-app")).unwrap();
    let app = desk.launch(&real).await;
    app.wait_text("update-offer", "Patchbay 99.0.0").await;
    assert_eq!(feed.looks(), 2);
    app.click("install-update").await;
    let problem = app
        .wait_text("update-problem", "could not be verified")
        .await;
    assert!(problem.contains("nothing was installed"), "{problem}");
    assert_eq!(feed.downloads.load(Ordering::SeqCst), 1);
    assert!(
        std::fs::read(workspace_bin("patchbay-app")).unwrap() == binary,
        "the program changed"
    );
    // Patchbay keeps working: the welcome's Start still leads on.
    app.click("welcome-start").await;
    app.get("choose").await;
    app.close().await;

    // Practice mode (the desk's emulator), a look due: none all the same.
    last_look_hours_ago(&desk, 25);
    let app = launch_decided(&desk, &keyed, "practice mode is on").await;
    assert_eq!(feed.looks(), 2, "practice mode looked for an update");
    assert!(!offered(&app).await);
    app.close().await;
}
