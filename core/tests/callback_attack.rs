//! The callback listener under attack, over real loopback sockets: wrong methods, paths and
//! Host headers (DNS rebinding), foreign or missing `state`, oversized requests, slow clients,
//! floods of connections and a second callback. None may complete a flow, block the real
//! callback, or keep the port.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_core::ErrorKind;
use patchbay_core::callback::{
    CallbackListener, CallbackParams, Expectation, HEADER_TIMEOUT, MAX_CONNECTIONS,
};
use secrecy::ExposeSecret;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const STATE: &str = "st4te-of-this-attempt";

struct Waiting {
    port: u16,
    result: JoinHandle<patchbay_core::Result<CallbackParams>>,
    _paste: mpsc::Sender<CallbackParams>,
}

async fn listen(deadline: Duration) -> Waiting {
    let listener = CallbackListener::bind(0).await.expect("bind");
    let port = listener.port();
    let exp = Expectation::listener("/callback", port, STATE, &["realmId".into()]);
    let (paste, rx) = mpsc::channel(1);
    let result = tokio::spawn(listener.wait("Test", exp, deadline, CancellationToken::new(), rx));
    Waiting {
        port,
        result,
        _paste: paste,
    }
}

/// The wait ended with the flow completed by the real callback (code "real").
async fn completed_with_the_real_code(w: Waiting) {
    let got = w.result.await.unwrap().unwrap();
    assert_eq!(got.code.expose_secret(), "real");
}

/// Send raw bytes, then read the answer until the server closes (bounded).
async fn raw(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn get(port: u16, target: &str, host: &str) -> Vec<u8> {
    let _ = port;
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn valid(port: u16, code: &str) -> String {
    raw(
        port,
        &get(
            port,
            &format!("/callback?code={code}&state={STATE}&realmId=9341"),
            &format!("localhost:{port}"),
        ),
    )
    .await
}

async fn port_is_released(port: u16) -> bool {
    for _ in 0..50 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_get_on_the_callback_path_with_our_host_and_state_completes() {
    let w = listen(Duration::from_secs(30)).await;
    let p = w.port;
    let host = format!("localhost:{p}");
    let q = format!("/callback?code=evil&state={STATE}");
    let hostile: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "POST",
            format!("POST {q} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n").into_bytes(),
            405,
        ),
        (
            "PUT",
            format!("PUT {q} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n").into_bytes(),
            405,
        ),
        (
            "other path",
            get(p, &format!("/admin?code=evil&state={STATE}"), &host),
            404,
        ),
        (
            "DNS rebinding",
            get(p, &q, &format!("evil.example:{p}")),
            421,
        ),
        (
            "rebinding look-alike",
            get(p, &q, &format!("localhost.evil.example:{p}")),
            421,
        ),
        ("other port", get(p, &q, "localhost:1"), 421),
        (
            "no Host",
            format!("GET {q} HTTP/1.0\r\n\r\n").into_bytes(),
            421,
        ),
        (
            "foreign state",
            get(p, "/callback?code=evil&state=other", &host),
            400,
        ),
        ("missing state", get(p, "/callback?code=evil", &host), 400),
        // Any page in the browser can send an error: without our state it ends nothing.
        (
            "error without state",
            get(p, "/callback?error=access_denied", &host),
            400,
        ),
        (
            "vendor error without state",
            get(
                p,
                "/callback?error=server_error&error_description=%1B%5D0%3Bx",
                &host,
            ),
            400,
        ),
        (
            "empty code",
            get(p, &format!("/callback?code=&state={STATE}"), &host),
            400,
        ),
        (
            "repeated code",
            get(p, &format!("/callback?code=a&code=b&state={STATE}"), &host),
            400,
        ),
        ("favicon", get(p, "/favicon.ico", &host), 404),
        (
            "garbage",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n".to_vec(),
            400,
        ),
    ];
    for (what, request, want) in &hostile {
        let answer = raw(p, request).await;
        assert_eq!(status_of(&answer), *want, "{what}: {answer}");
    }
    // None of them ended the wait: the same wait takes the real answer and completes with it
    // (a hostile request that had ended it would leave an error or its own code here).
    let answer = valid(p, "the-real-code").await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(answer.contains("You can close this tab"), "{answer}");
    let got = w.result.await.unwrap().expect("completes");
    assert_eq!(got.code.expose_secret(), "the-real-code");
    assert_eq!(got.params["realmId"], "9341");
    assert!(port_is_released(p).await, "port released");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_is_refused_and_the_real_one_still_completes() {
    let w = listen(Duration::from_secs(30)).await;
    let p = w.port;
    let huge = format!(
        "GET /callback?code=x&state={STATE}&pad={} HTTP/1.1\r\nHost: localhost:{p}\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(40_000),
        "b".repeat(200_000)
    );
    let started = Instant::now();
    let answer = raw(p, huge.as_bytes()).await;
    assert!(
        answer.is_empty() || matches!(status_of(&answer), 400 | 414 | 431),
        "oversized: {answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused at once"
    );
    assert!(!w.result.is_finished());
    assert_eq!(status_of(&valid(p, "real").await), 200);
    completed_with_the_real_code(w).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_is_cut_off_by_the_header_timeout_and_blocks_nobody() {
    let w = listen(Duration::from_secs(60)).await;
    let p = w.port;
    // Half a request, then silence (slowloris).
    let mut slow = TcpStream::connect(("127.0.0.1", p)).await.unwrap();
    slow.write_all(
        format!("GET /callback?code=slow&state={STATE} HTTP/1.1\r\nHost: local").as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let closed = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut out)).await;
        (
            started.elapsed(),
            String::from_utf8_lossy(&out).into_owned(),
        )
    });
    // Meanwhile another client is answered at once.
    let t = Instant::now();
    let stray = raw(p, &get(p, "/favicon.ico", &format!("localhost:{p}"))).await;
    assert_eq!(status_of(&stray), 404);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "not blocked by the slow client"
    );
    let (after, answer) = closed.await.unwrap();
    assert!(
        after >= HEADER_TIMEOUT - Duration::from_millis(500)
            && after < HEADER_TIMEOUT + Duration::from_secs(3),
        "slow client closed after {after:?} (header timeout {HEADER_TIMEOUT:?}): {answer}"
    );
    assert!(
        !w.result.is_finished(),
        "the slow request completed nothing"
    );
    assert_eq!(status_of(&valid(p, "real").await), 200);
    completed_with_the_real_code(w).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_idle_connections_does_not_block_the_real_callback() {
    const FLOOD: usize = 400;
    let w = listen(Duration::from_secs(60)).await;
    let p = w.port;
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        flood.push(
            TcpStream::connect(("127.0.0.1", p))
                .await
                .expect("flood connect"),
        );
    }
    // Wait until the listener has taken them all: by then the cap has closed every one older
    // than the newest MAX_CONNECTIONS (a listener that never got to them fails here).
    let older = FLOOD - MAX_CONNECTIONS;
    let mut closed = vec![false; older];
    let deadline = Instant::now() + Duration::from_secs(10);
    while closed.iter().any(|c| !c) {
        assert!(
            Instant::now() < deadline,
            "the cap closed {} of the {older} older flood connections",
            closed.iter().filter(|c| **c).count()
        );
        for (done, s) in closed.iter_mut().zip(&mut flood[..older]) {
            let mut b = [0u8; 1];
            if !*done
                && let Ok(Ok(0)) =
                    tokio::time::timeout(Duration::from_millis(1), s.read(&mut b)).await
            {
                *done = true;
            }
        }
    }
    let t = Instant::now();
    let answer = valid(p, "real").await;
    let took = t.elapsed();
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(
        took < Duration::from_secs(2),
        "real callback took {took:?} under a flood"
    );
    completed_with_the_real_code(w).await;
    assert!(port_is_released(p).await, "port released after a flood");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_callback_after_the_first_changes_nothing_and_the_port_is_freed() {
    let w = listen(Duration::from_secs(30)).await;
    let p = w.port;
    let first = valid(p, "first").await;
    assert_eq!(status_of(&first), 200);
    assert!(
        first.contains("You can close this tab"),
        "the tab got its page: {first}"
    );
    let got = w.result.await.unwrap().unwrap();
    assert_eq!(got.code.expose_secret(), "first");
    // A replay (or a second tab) after the first: nobody is listening any more.
    assert!(
        port_is_released(p).await,
        "port released after the first callback"
    );
    // And the port can be bound again right away (the next attempt).
    let again = CallbackListener::bind(p).await.expect("port reusable");
    drop(again);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_callbacks_at_once_complete_exactly_one_flow() {
    let w = listen(Duration::from_secs(30)).await;
    let p = w.port;
    let (a, b) = tokio::join!(valid(p, "a"), valid(p, "b"));
    let got = w.result.await.unwrap().unwrap();
    let code = got.code.expose_secret().to_string();
    assert!(code == "a" || code == "b", "{code}");
    // The winner's browser tab says Connected; the other's never does (it was not used): it
    // is told so, or cut off as the wait ended.
    let (won, lost) = if code == "a" { (a, b) } else { (b, a) };
    assert!(
        status_of(&won) == 200 && won.contains("<h1>Connected</h1>"),
        "{won}"
    );
    assert!(!lost.contains("Connected</h1>"), "{lost}");
    assert!(
        lost.is_empty() || (status_of(&lost) == 409 && lost.contains("was not used")),
        "{lost}"
    );
    assert!(port_is_released(p).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_and_cancel_end_the_wait_and_free_the_port() {
    let w = listen(Duration::from_millis(300)).await;
    let p = w.port;
    let err = w.result.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        port_is_released(p).await,
        "port released after the deadline"
    );

    let listener = CallbackListener::bind(0).await.unwrap();
    let p = listener.port();
    let cancel = CancellationToken::new();
    let (_paste, rx) = mpsc::channel(1);
    let exp = Expectation::listener("/callback", p, STATE, &[]);
    let task =
        tokio::spawn(listener.wait("Test", exp, Duration::from_secs(30), cancel.clone(), rx));
    // A connection in progress does not hold the cancel up.
    let _idle = TcpStream::connect(("127.0.0.1", p)).await.unwrap();
    cancel.cancel();
    let err = tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("cancel is prompt")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(port_is_released(p).await, "port released after cancel");
}
