//! What the test binaries and benchmarks share, so no test setup is copied between them:
//!
//! - [`lab`]: the CLI lab: a private emulator, home and keychain service per test, and the real
//!   `patchbay` binary with the browser launch intercepted.
//! - [`chromium`]: Debian's headless Chromium as the admin's browser.
//! - [`docs`]: measured figures written into `docs/` (only when asked), and the repository.
//! - [`CATALOG`]: the one fixture catalog of a standard OAuth 2 server (an admin's own file).
//! - The workspace's binaries and free ports.

// Test support states a broken setup by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

pub mod chromium;
pub mod docs;
pub mod lab;

use std::future::Future;
use std::path::{Path, PathBuf};

/// An admin's own catalog file with one standard OAuth 2 system ("books-custom": the emulator's
/// Intuit endpoints, client credentials in the body, no vendor wording for its error pages).
/// The core's catalog tests read the same file.
pub const CATALOG: &str = include_str!("fixtures/catalog.toml");

/// A request a test builds, sent, with its JSON answer read (a failure is the test's panic).
pub trait Answer {
    fn answer<T: serde::de::DeserializeOwned>(self) -> impl Future<Output = T> + Send;
}

impl Answer for reqwest::RequestBuilder {
    async fn answer<T: serde::de::DeserializeOwned>(self) -> T {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// `POST {base}/_emulator/{path}` (the emulator's admin API, which sets up apps, faults and
/// settings): its JSON answer, after checking it succeeded.
pub async fn emulator_admin(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/_emulator/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "admin {path}: {}", r.status());
    r.json().await.unwrap_or(serde_json::Value::Null)
}

/// `text` says each of `words` (a failure names the missing one and shows the text).
#[track_caller]
pub fn assert_says(text: &str, words: &[&str]) {
    for word in words {
        assert!(text.contains(word), "{word:?} not in:\n{text}");
    }
}

/// The text after the first `start`, up to the next `end` (`None` without a `start`).
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    text.split(start).nth(1)?.split(end).next()
}

/// The number in the environment variable `name`, or `default` when it is unset or not one.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A binary built in this target directory (the CLI, the app, the fake browser).
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    // Tests and benchmarks run from `<target>/<profile>/deps`.
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port for a lab's OAuth callback listener: free now, and below Linux's ephemeral range
/// (32768–60999). A port from [`free_port`] comes from that range, where the outgoing
/// connections of the tests running alongside take their local ports, so one of them could be
/// holding it at the moment the listener binds (seen once in CI: "port in use" in the fault
/// matrix).
pub fn callback_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let seed = u64::from(std::process::id()) << 32 | u64::from(nanos);
    for i in 0..1_000u64 {
        let offset = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(i * 7_919)
            % 12_000;
        let port = 20_000 + u16::try_from(offset).unwrap_or_default();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}
