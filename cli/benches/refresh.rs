//! Single flight under load: 100 concurrent callers that all need a refresh cause exactly one
//! refresh request at the vendor, for each system, over several rounds; the callers' latency
//! spread is reported next to a lone caller's refresh measured in the same run (the baseline).
//! Run with `scripts/bench.sh refresh` (release build, the real keychain).

// A benchmark reports a broken setup by panicking, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use harness::Lab;
use patchbay_core::Connections;
use patchbay_test_support::{docs, lab as harness};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLERS: usize = 100;
const ROUNDS: usize = 10;

const SYSTEMS: [(&str, &str, &str); 3] = [
    ("quickbooks-time", "production", "QuickBooks Time"),
    ("aspire", "production", "Aspire"),
    ("quickbooks-online", "sandbox", "QuickBooks Online"),
];

async fn ttl(lab: &Lab, provider: &str, secs: u64) {
    lab.settings(json!({"provider": provider, "access_token_ttl_secs": secs, "rate_limit_per_window": 1_000_000}))
        .await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let lab = Lab::new().await;
    let connections = Arc::new(lab.connections());
    let mut table = format!(
        "{CALLERS} callers at once, {ROUNDS} rounds per system, release build, the real keychain.\n\n\
         | System | Refreshes at the vendor per round | One caller alone (median) | {CALLERS} callers: median | p90 | slowest |\n\
         |---|---:|---:|---:|---:|---:|\n"
    );
    for (provider, env, name) in SYSTEMS {
        let redirect = if provider == "aspire" {
            String::new()
        } else {
            lab.callback()
        };
        let (id, secret) = lab.app(provider, env, &redirect).await;
        ttl(&lab, provider, 1).await; // issued inside every refresh margin
        let out = lab.connect(provider, env, &id, &secret).await;
        assert_eq!(out.code, 0, "{name} connects: {out:?}");
        let conn = Connections::connection_id(provider, env, true);
        let mut alone = Vec::new();
        let mut all = Vec::new();
        let mut per_round = Vec::new();
        for _ in 0..ROUNDS {
            // A lone caller that needs a refresh: the baseline.
            ttl(&lab, provider, 3600).await;
            let t = Instant::now();
            connections.access_token(&conn, true).await.unwrap();
            alone.push(t.elapsed());
            // Make the stored token need a refresh again, then let 100 callers at it at once.
            ttl(&lab, provider, 1).await;
            connections.access_token(&conn, true).await.unwrap();
            ttl(&lab, provider, 3600).await;
            let before = lab.stats().await[provider]["refresh"].as_u64().unwrap();
            let gate = Arc::new(tokio::sync::Barrier::new(CALLERS));
            let mut tasks = Vec::new();
            for _ in 0..CALLERS {
                let (c, id, gate) = (connections.clone(), conn.clone(), gate.clone());
                tasks.push(tokio::spawn(async move {
                    gate.wait().await;
                    let t = Instant::now();
                    c.access_token(&id, false).await.unwrap();
                    t.elapsed()
                }));
            }
            for t in tasks {
                all.push(t.await.unwrap());
            }
            let after = lab.stats().await[provider]["refresh"].as_u64().unwrap();
            per_round.push(after - before);
        }
        assert!(
            per_round.iter().all(|n| *n == 1),
            "{name}: refreshes per round {per_round:?}"
        );
        alone.sort();
        all.sort();
        table.push_str(&format!(
            "| {name} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            per_round[0],
            ms(alone[alone.len() / 2]),
            ms(pct(&all, 0.5)),
            ms(pct(&all, 0.9)),
            ms(all[all.len() - 1]),
        ));
    }
    println!("{table}");
    docs::edit("PERFORMANCE.md", |d| {
        docs::replace_block(&d, "bench:refresh", &table)
    });
}
