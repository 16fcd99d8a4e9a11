//! `patchbay refresh --all` and `check --all` (what the daily job runs) against the emulators
//! with the real keychain: only what is due is renewed, every connection is verified for real,
//! what only the admin can fix is named with its kind and sets the exit code, nothing is renewed
//! twice when another caller holds the lock, and the history keeps each outcome for the report.

use crate::harness::{Lab, Output};
use patchbay_core::upkeep::{REFRESH_TOKEN_AHEAD_SECS, RENEW_AHEAD_SECS};
use serde_json::{Value, json};

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Access tokens (and refresh tokens) the emulator issues for `system` from now on.
async fn lifetimes(lab: &Lab, system: &str, access: u64, refresh: Option<u64>) {
    let mut settings = json!({"provider": system, "access_token_ttl_secs": access});
    if let Some(r) = refresh {
        settings["refresh_token_ttl_secs"] = json!(r);
    }
    lab.settings(settings).await;
}

/// The sweep's JSON summary, by system and environment label.
fn outcome<'a>(summary: &'a Value, system: &str, environment: &str) -> &'a Value {
    summary["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["system"] == system && o["environment"] == environment)
        .unwrap_or_else(|| panic!("no {system} {environment} in {summary}"))
}

fn summary(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_all_renews_exactly_what_is_due_and_verifies_everything() {
    let lab = Lab::new().await;
    // Aspire sandbox: its token lapses in an hour, before tomorrow's run: due.
    lifetimes(&lab, "aspire", HOUR, None).await;
    lab.connected("aspire", "sandbox").await;
    // QuickBooks Online sandbox: a long access token, but the refresh token's own lifetime ends
    // in ten days (Intuit's rolling 100 days, nearly used up): due.
    lifetimes(&lab, "quickbooks-online", 40 * DAY, Some(10 * DAY)).await;
    lab.connected("quickbooks-online", "sandbox").await;
    // QuickBooks Time: valid for weeks: not due.
    lifetimes(&lab, "quickbooks-time", 40 * DAY, None).await;
    lab.connected("quickbooks-time", "production").await;
    // What the renewals will get from now on: long lifetimes.
    lifetimes(&lab, "aspire", 40 * DAY, None).await;
    lifetimes(&lab, "quickbooks-online", HOUR * 24 * 40, Some(100 * DAY)).await;

    let before: Vec<u64> = calls(&lab).await;
    let out = lab.run_async(&["refresh", "--all", "--json"], "").await;
    out.exits(0);
    let s = summary(&out);
    for (system, env, renewed) in [
        ("Aspire", "Sandbox", true),
        ("QuickBooks Online", "Sandbox", true),
        ("QuickBooks Time", "Production", false),
    ] {
        let o = outcome(&s, system, env);
        assert_eq!(o["refreshed"], renewed, "{system}: {o}");
        assert_eq!(o["ok"], true, "{system}: {o}");
        assert_eq!(o["needs_admin"], false);
    }
    let after = calls(&lab).await;
    let renewals: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(
        renewals,
        [1, 1, 0],
        "aspire, quickbooks-online, quickbooks-time renewals"
    );

    // Run again at once: nothing is due any more; each is still verified for real.
    let verified_before = lab.calls("quickbooks-time", "api").await;
    let out = lab.run_async(&["refresh", "--all"], "").await;
    out.exits(0).says("All 3 connections work.");
    assert_eq!(
        calls(&lab).await,
        after,
        "renewed again although nothing was due"
    );
    assert!(lab.calls("quickbooks-time", "api").await > verified_before);
    // `check --all` (also `verify --all`) renews nothing that is valid.
    lab.run_async(&["check", "--all"], "").await.exits(0);
    assert_eq!(calls(&lab).await, after);
}

/// Renewal calls per system: Aspire, QuickBooks Online, QuickBooks Time.
async fn calls(lab: &Lab) -> Vec<u64> {
    let mut out = Vec::new();
    for system in ["aspire", "quickbooks-online", "quickbooks-time"] {
        out.push(lab.calls(system, "refresh").await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_connection_and_a_lapsed_add_on_are_named_and_set_the_exit_code() {
    let lab = Lab::new().await;
    lab.connected("aspire", "sandbox").await;
    lab.connected("quickbooks-time", "production").await;
    lab.connected("quickbooks-online", "sandbox").await;
    // QuickBooks Time's API add-on lapses (402); the QuickBooks Online grant is revoked.
    lab.fault(
        "quickbooks-time",
        "api",
        "payment_required",
        json!({"count": 10}),
    )
    .await;
    lab.fault("quickbooks-online", "any", "revoked", json!({}))
        .await;
    let out = lab.run_async(&["refresh", "--all", "--json"], "").await;
    out.exits(8);
    let s = summary(&out);
    assert_eq!(outcome(&s, "Aspire", "Sandbox")["ok"], true);
    let qbt = outcome(&s, "QuickBooks Time", "Production");
    assert_eq!(
        (&qbt["ok"], &qbt["kind"], &qbt["needs_admin"]),
        (&json!(false), &json!("api_not_enabled"), &json!(true)),
        "{qbt}"
    );
    let qbo = outcome(&s, "QuickBooks Online", "Sandbox");
    assert_eq!(
        (&qbo["kind"], &qbo["needs_admin"]),
        (&json!("reconnect"), &json!(true)),
        "{qbo}"
    );
    // In words: which ones need the admin, and what to do.
    let out = lab.run_async(&["check", "--all"], "").await;
    out.exits(8)
        .says("needs you")
        .says("1 of 3 connections work; the ones above need you.");
    assert!(
        out.stdout.contains("QuickBooks Online (Sandbox): ")
            && out.stdout.to_lowercase().contains("connect"),
        "{out:?}"
    );
    // The support report lists the last checks with their outcomes.
    let report = lab.run_async(&["report"], "").await;
    report.exits(0).says("Recent checks");
    assert!(
        report.stdout.contains("api_not_enabled") && report.stdout.contains("reconnect"),
        "{report:?}"
    );

    // Only passing trouble (the vendor down): try again later, exit 6.
    let lab = Lab::new().await;
    lab.connected("aspire", "sandbox").await;
    lab.fault("aspire", "api", "status_503", json!({"count": 50}))
        .await;
    let out = lab.run_async(&["check", "--all", "--json"], "").await;
    out.exits(6);
    let aspire = outcome(&summary(&out), "Aspire", "Sandbox").clone();
    assert_eq!(aspire["needs_admin"], false, "{aspire}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_sweeps_and_the_app_at_once_renew_a_due_connection_once() {
    let lab = Lab::new().await;
    lifetimes(&lab, "aspire", HOUR, None).await;
    lab.connected("aspire", "sandbox").await;
    lifetimes(&lab, "aspire", 40 * DAY, None).await;
    let before = lab.calls("aspire", "refresh").await;
    // The app renewing (in this process, holding the lock) while two daily jobs run.
    let connections = std::sync::Arc::new(lab.connections());
    let id = connections.list().await.unwrap()[0].record.id.clone();
    let app = {
        let c = connections.clone();
        tokio::spawn(async move {
            c.renew_if_due(&id, RENEW_AHEAD_SECS, REFRESH_TOKEN_AHEAD_SECS)
                .await
        })
    };
    let a = lab.run_async(&["refresh", "--all", "--scheduled"], "");
    let b = lab.run_async(&["refresh", "--all", "--scheduled"], "");
    let (a, b) = tokio::join!(a, b);
    app.await.unwrap().unwrap();
    a.exits(0);
    b.exits(0);
    assert_eq!(
        lab.calls("aspire", "refresh").await - before,
        1,
        "the vendor renewed more than once"
    );
}
