//! Refresh in-process and across processes: single-flight, rotation stored before use.

use crate::harness::Lab;
use patchbay_core::settings::Paths;
use patchbay_core::{Catalog, ConnectHooks, ConnectRequest, Connections};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

struct NoBrowser;
impl patchbay_core::Browser for NoBrowser {
    fn open(&self, _url: &str) -> Result<(), String> {
        Err("not used".into())
    }
}

pub async fn connect_aspire(lab: &Lab) -> (Arc<Connections>, String) {
    let (id, secret) = lab.app("aspire", "sandbox", "").await;
    let keychain = patchbay_core::store::Keychain::open(&lab.service).unwrap();
    let base = url::Url::parse(&lab.base()).unwrap();
    let connections = Connections::new(
        Catalog::builtin().unwrap(),
        Arc::new(keychain),
        Paths::under(lab.home.path()),
        Some(base),
    )
    .unwrap();
    let fields = BTreeMap::from([
        ("client_id".to_string(), SecretString::from(id)),
        ("client_secret".to_string(), SecretString::from(secret)),
    ]);
    let events = |_e| {};
    let hooks = ConnectHooks {
        browser: &NoBrowser,
        events: &events,
        cancel: Default::default(),
        pasted: None,
        deadline: std::time::Duration::from_secs(5),
    };
    let request = ConnectRequest {
        provider: "aspire".into(),
        environment: Some("sandbox".into()),
        practice: true,
        fields,
        catalog_file: None,
    };
    let status = connections
        .connect(request, hooks)
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
    let other = Arc::new(
        Connections::new(
            Catalog::builtin().unwrap(),
            Arc::new(lab.keychain()),
            Paths::under(lab.home.path()),
            Some(url::Url::parse(&lab.base()).unwrap()),
        )
        .unwrap(),
    );
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
