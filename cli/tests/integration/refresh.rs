//! Refresh in-process and across processes: single-flight, rotation stored before use.

use crate::harness::Lab;
use patchbay_core::Connections;
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::Arc;

/// A new lab with an Aspire sandbox connection (as [`connect_aspire`]).
pub async fn aspire_lab() -> (Lab, Arc<Connections>, String) {
    let lab = Lab::new().await;
    let (connections, id) = connect_aspire(&lab).await;
    (lab, connections, id)
}

pub async fn connect_aspire(lab: &Lab) -> (Arc<Connections>, String) {
    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    let connections = lab.connections();
    let status = lab
        .connect_in_process(&connections, "aspire", "sandbox", (&id, &secret))
        .await
        .expect("aspire connects");
    (Arc::new(connections), status.record.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn many_callers_in_two_instances_and_the_cli_cause_one_refresh() {
    let lab = Lab::new().await;
    // Tokens that are already inside the refresh margin when issued...
    lab.settings(json!({"provider": "aspire", "access_token_ttl_secs": 5}))
        .await;
    let (connections, id) = connect_aspire(&lab).await;
    // ...and a refreshed one that is comfortably valid.
    lab.settings(json!({"provider": "aspire", "access_token_ttl_secs": 3600}))
        .await;
    // A second, independent instance over the same files and keychain: what a second app
    // window (another process) would be; it shares no in-process lock with the first.
    let other = Arc::new(lab.connections());
    let before = lab.stats().await["aspire"]["refresh"].as_u64().unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = if i % 2 == 0 {
            connections.clone()
        } else {
            other.clone()
        };
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            c.access_token(&id, false)
                .await
                .map(|t| t.expose_secret().to_string())
        }));
    }
    let cli = lab.run_async(&["token", "aspire", "--env", "sandbox"], "");
    let cli2 = lab.run_async(&["token", "aspire", "--env", "sandbox"], "");
    let (a, b) = tokio::join!(cli, cli2);
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap().expect("token"));
    }
    for out in [a, b] {
        out.exits(0);
        tokens.insert(out.stdout.trim().to_string());
    }
    let after = lab.stats().await["aspire"]["refresh"].as_u64().unwrap();
    assert_eq!(
        after - before,
        1,
        "42 callers in two independent instances and two CLI processes, exactly one refresh at the vendor"
    );
    assert_eq!(tokens.len(), 1, "everyone got the refreshed token");
}

#[tokio::test(flavor = "multi_thread")]
async fn rotated_refresh_token_is_stored_and_the_next_refresh_uses_it() {
    let (lab, connections, id) = aspire_lab().await;
    let rt0 = stored_refresh_token(&lab, &id);
    connections.access_token(&id, true).await.unwrap();
    let rt1 = stored_refresh_token(&lab, &id);
    assert_ne!(
        rt0, rt1,
        "the vendor rotated the refresh token and it was stored"
    );
    // The old one is dead at the vendor; a second refresh only works with the stored new one.
    connections
        .access_token(&id, true)
        .await
        .expect("second refresh with the rotated token");
    let stats = lab.stats().await;
    assert_eq!(stats["aspire"]["refresh"], 2, "{stats}");
    assert_eq!(
        stats["aspire"]["token"], 1,
        "no fallback to the client credentials: {stats}"
    );
}

/// The real keychain, which refuses every write while `refusing` is set (locked, as a keychain
/// can be at any moment).
#[derive(Debug)]
struct Refusing {
    inner: patchbay_core::store::Keychain,
    refusing: std::sync::atomic::AtomicBool,
    refused: std::sync::atomic::AtomicUsize,
}

impl patchbay_core::store::SecretStore for Refusing {
    fn get(&self, account: &str) -> patchbay_core::Result<Option<zeroize::Zeroizing<String>>> {
        self.inner.get(account)
    }
    fn set(&self, account: &str, value: &str) -> patchbay_core::Result<()> {
        if self.refusing.load(std::sync::atomic::Ordering::SeqCst) {
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(patchbay_core::Error::keychain(
                "The keychain is locked (test).",
            ));
        }
        self.inner.set(account, value)
    }
    fn delete(&self, account: &str) -> patchbay_core::Result<()> {
        self.inner.delete(account)
    }
    fn location(&self) -> &'static str {
        self.inner.location()
    }
}

/// The vendor rotates the refresh token, then the keychain refuses to store the new one: the
/// renewed sign-in is held in memory, the next refresh uses it (the old one is dead at the
/// vendor), and it reaches the keychain as soon as the keychain takes writes again, for another
/// process to use. Each system with rotation on.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_survives_a_keychain_that_refuses_to_store_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let lab = Lab::new().await;
    // QuickBooks Online rotates after a day; here at once.
    lab.settings(json!({"provider": "quickbooks-online", "rotate_refresh": "always"}))
        .await;
    for (system, env) in [
        ("quickbooks-time", "production"),
        ("aspire", "sandbox"),
        ("quickbooks-online", "sandbox"),
    ] {
        let (client_id, secret) = lab.app_for(system, env).await;
        let store = Arc::new(Refusing {
            inner: lab.keychain(),
            refusing: false.into(),
            refused: 0.into(),
        });
        let connections = lab.connections_with(store.clone());
        let id = lab
            .connect_in_process(&connections, system, env, (&client_id, &secret))
            .await
            .unwrap_or_else(|e| panic!("{system} connects: {e}"))
            .record
            .id;
        let first = stored_refresh_token(&lab, &id);
        let refreshes = lab.calls(system, "refresh").await;
        let token_calls = lab.calls(system, "token").await;

        store.refusing.store(true, SeqCst);
        let t1 = connections
            .access_token(&id, true)
            .await
            .unwrap_or_else(|e| {
                panic!("{system}: the refresh works though the keychain refuses: {e}")
            });
        assert!(
            store.refused.load(SeqCst) > 0,
            "{system}: the keychain was asked"
        );
        assert_eq!(
            stored_refresh_token(&lab, &id),
            first,
            "{system}: the keychain still has the old one"
        );

        // Still refusing: the next refresh must use the rotated token held in memory.
        let t2 = connections
            .access_token(&id, true)
            .await
            .unwrap_or_else(|e| panic!("{system}: refresh with the token held in memory: {e}"));
        assert_ne!(t1.expose_secret(), t2.expose_secret());

        // The keychain takes writes again: the renewed sign-in is stored at the next use.
        store.refusing.store(false, SeqCst);
        connections.access_token(&id, false).await.unwrap();
        assert!(connections.unsaved().is_empty(), "{system}: stored now");
        assert_ne!(
            stored_refresh_token(&lab, &id),
            first,
            "{system}: the rotated token is in the keychain"
        );
        let out = lab.run_async(&["refresh", system, "--env", env], "").await;
        assert_eq!(
            out.code, 0,
            "{system}: another process refreshes with it: {out:?}"
        );

        assert_eq!(
            lab.calls(system, "refresh").await - refreshes,
            3,
            "{system}: two refreshes here, one by the CLI"
        );
        assert_eq!(
            lab.calls(system, "token").await,
            token_calls,
            "{system}: never a fresh sign-in (no fallback to client credentials)"
        );
    }
}

/// After a disconnect and a new connect by another instance (or process), a token this one
/// refreshed for the old connection is never handed out again.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_refreshed_for_a_disconnected_grant_is_never_handed_out_again() {
    let (lab, connections, id) = aspire_lab().await;
    let old = connections.access_token(&id, true).await.unwrap();
    let other = lab.connections();
    other.disconnect(&id, false).await.unwrap();
    let client_id = connect_with_new_keys(&lab, &other).await;
    let now = connections.access_token(&id, true).await.unwrap();
    assert_ne!(
        now.expose_secret(),
        old.expose_secret(),
        "the old connection's token"
    );
    assert_eq!(
        stored_client_id(&lab, &id),
        client_id,
        "the new connection's keys are the ones stored"
    );
}

/// A reconnect (new keys) while another process is renewing the old connection: the renewal
/// finishes first and the reconnect's grant is the one left in the keychain, never the old
/// company's renewed one written over it.
#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_during_a_renewal_elsewhere_keeps_the_new_connection() {
    let (lab, connections, id) = aspire_lab().await;
    let refreshes = lab.calls("aspire", "refresh").await;
    // The vendor takes 1.5 s to answer the other process's renewal.
    lab.admin(
        "faults",
        json!({"provider": "aspire", "endpoint": "refresh", "fault": "slow", "delay_ms": 1500, "count": 1}),
    )
    .await;
    let renewal =
        crate::harness::Running::start(lab.command(&["refresh", "aspire", "--env", "sandbox"]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while lab.calls("aspire", "refresh").await == refreshes {
        assert!(
            std::time::Instant::now() < deadline,
            "the renewal never reached the vendor"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Meanwhile the admin reconnects with a new API connection.
    let client_id = connect_with_new_keys(&lab, &connections).await;
    let out = tokio::task::spawn_blocking(move || renewal.finish())
        .await
        .unwrap();
    assert_eq!(out.code, 0, "the renewal finished: {out:?}");
    assert_eq!(
        stored_client_id(&lab, &id),
        client_id,
        "the reconnect's keys are the ones kept"
    );
}

/// Aspire connected (again) through `connections` with a new API connection; its client id.
async fn connect_with_new_keys(lab: &Lab, connections: &Connections) -> String {
    let (client_id, secret) = lab.app_for("aspire", "sandbox").await;
    lab.connect_in_process(connections, "aspire", "sandbox", (&client_id, &secret))
        .await
        .unwrap();
    client_id
}

/// The client id of the grant the keychain holds for `id`.
/// The grant the keychain holds for connection `id`.
fn stored_grant(lab: &Lab, id: &str) -> patchbay_core::store::Grant {
    patchbay_core::store::Vault::new(Arc::new(lab.keychain()))
        .load(id)
        .unwrap()
        .unwrap()
}

fn stored_client_id(lab: &Lab, id: &str) -> String {
    stored_grant(lab, id).client_id
}

fn stored_refresh_token(lab: &Lab, id: &str) -> String {
    stored_grant(lab, id)
        .refresh_token
        .unwrap()
        .expose_secret()
        .to_string()
}
