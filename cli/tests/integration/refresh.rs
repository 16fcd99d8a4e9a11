//! Refresh in-process and across processes: single-flight, rotation stored before use.

use crate::harness::Lab;
use patchbay_core::Connections;
use secrecy::ExposeSecret;
use serde_json::json;
use std::sync::Arc;

pub async fn connect_aspire(lab: &Lab) -> (Arc<Connections>, String) {
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
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
        assert_eq!(out.code, 0, "{out:?}");
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
    let lab = Lab::new().await;
    let (connections, id) = connect_aspire(&lab).await;
    let vault = patchbay_core::store::Vault::new(Arc::new(lab.keychain()));
    let rt0 = vault
        .load(&id)
        .unwrap()
        .unwrap()
        .refresh_token
        .unwrap()
        .expose_secret()
        .to_string();
    connections.access_token(&id, true).await.unwrap();
    let rt1 = vault
        .load(&id)
        .unwrap()
        .unwrap()
        .refresh_token
        .unwrap()
        .expose_secret()
        .to_string();
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
