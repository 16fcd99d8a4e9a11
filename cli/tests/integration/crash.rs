//! Crash safety of token rotation: `patchbay refresh` is killed with SIGKILL at each point of a
//! refresh (before the request, after the vendor's answer, between the two keychain writes,
//! after the write) and at spread-out moments of a slowed refresh, many times. Afterwards the
//! connection must either still work (a forced refresh and a verify succeed, so the stored
//! refresh token is the live one) or ask to reconnect saying the renewal was interrupted. A
//! grant that is silently lost fails the test. Every system rotates its refresh token on each
//! refresh here (QuickBooks Online's day-long wait is set to none), so "still works" means the
//! stored refresh token is the vendor's live one. Where each timed kill landed is read from the
//! vendor's count, the keychain's generation and the settings' refresh mark. The tally goes into
//! docs/RELIABILITY.md.

use crate::docs;
use crate::harness::{Lab, Output, Running};
use patchbay_core::crashpoint;
use serde_json::json;
use std::time::Duration;

const REPEATS: usize = 3;
const TIMED_KILLS: u64 = 12;

#[derive(Default)]
struct Tally {
    kills: usize,
    works: usize,
    asked: usize,
}

struct Subject<'a> {
    lab: &'a Lab,
    system: &'static str,
    env: &'static str,
    keys: (String, String),
    /// One keychain connection for the test's own reads (where a kill landed).
    vault: patchbay_core::store::Vault,
}

impl Subject<'_> {
    async fn cli(&self, verb: &str) -> Output {
        self.lab
            .run_async(&[verb, self.system, "--env", self.env], "")
            .await
    }

    async fn connect(&self) {
        let out = self
            .lab
            .run_async(
                &["connect", self.system, "--env", self.env],
                &format!("{}\n{}\n", self.keys.0, self.keys.1),
            )
            .await;
        assert_eq!(out.code, 0, "connect: {out:?}");
    }

    /// After a kill: works, or asks to reconnect with the reason. Anything else is a lost grant.
    async fn judge(&self, tally: &mut Tally, what: &str) {
        tally.kills += 1;
        let probe = self.cli("refresh").await;
        if probe.code == 0 {
            let verify = self.cli("verify").await;
            assert_eq!(
                verify.code, 0,
                "{what}: refreshed but does not verify: {verify:?}"
            );
            tally.works += 1;
        } else if probe.code == patchbay_core::ErrorKind::Reconnect.exit_code()
            && probe.stderr.contains("was interrupted")
            && probe.stderr.contains("Connect again")
        {
            tally.asked += 1;
            // The status says so too, until the admin reconnects.
            let status = self.lab.run_async(&["status"], "").await;
            assert!(
                status.stdout.contains("needs reconnect"),
                "{what}: {status:?}"
            );
            self.connect().await;
        } else {
            panic!("{what}: the grant was lost without a clear reason: {probe:?}");
        }
    }

    /// (the vendor's refresh count, the stored grant's generation, a refresh marked started)
    async fn observe(&self) -> (u64, u64, bool) {
        let count = self.lab.calls(self.system, "refresh").await;
        let id = format!("practice:{}:{}", self.system, self.env);
        let generation = self
            .vault
            .load(&id)
            .ok()
            .flatten()
            .map_or(0, |g| g.generation);
        let marked = patchbay_core::settings::Settings::new(patchbay_core::settings::Paths::under(
            self.lab.home.path(),
        ))
        .connections()
        .unwrap_or_default()
        .into_iter()
        .any(|r| r.id == id && r.refresh_started.is_some());
        (count, generation, marked)
    }

    fn start_refresh(&self, pause_at: Option<&str>) -> Running {
        let mut cmd = self
            .lab
            .command(&["refresh", self.system, "--env", self.env]);
        if let Some(p) = pause_at {
            cmd.env("PATCHBAY_PAUSE_AT", p);
        }
        Running::start(cmd)
    }
}

fn kill(mut run: Running) {
    run.child.kill().expect("SIGKILL");
    run.child.wait().expect("reaped");
}

async fn crash_test(system: &'static str, env: &'static str, name: &str) {
    let lab = Lab::new().await;
    let keys = lab.app_for(system, env).await;
    // Some hundred calls in a few seconds: more than a sandbox's rate limit allows. A new
    // refresh token at every refresh, the old one dead.
    lab.settings(
        json!({"provider": system, "rate_limit_per_window": 100_000, "rotate_refresh": "always"}),
    )
    .await;
    let s = Subject {
        lab: &lab,
        system,
        env,
        keys,
        vault: patchbay_core::store::Vault::new(std::sync::Arc::new(lab.keychain())),
    };
    s.connect().await;
    let mut rows = Vec::new();
    for point in crashpoint::ALL {
        let mut t = Tally::default();
        for i in 0..REPEATS {
            let run = s.start_refresh(Some(point));
            run.expect_line(&format!("paused at {point}"));
            kill(run);
            s.judge(&mut t, &format!("{system} killed at {point} (#{i})"))
                .await;
        }
        rows.push((format!("at `{point}`"), t));
    }
    // Kills at spread-out moments while the vendor takes 300 ms to answer a refresh.
    let mut t = Tally::default();
    let mut landed = [0usize; 4];
    for i in 0..TIMED_KILLS {
        lab.admin(
            "faults",
            json!({"provider": system, "endpoint": "refresh", "fault": "slow", "delay_ms": 300, "count": 1}),
        )
        .await;
        let (count, generation, _) = s.observe().await;
        let run = s.start_refresh(None);
        tokio::time::sleep(Duration::from_millis(50 * i)).await;
        kill(run);
        let (count_after, generation_after, marked) = s.observe().await;
        landed[if count_after == count {
            0 // before the request reached the vendor
        } else if generation_after == generation {
            1 // while the vendor answered, or before the keychain write
        } else if marked {
            2 // after the keychain write, before the settings
        } else {
            3 // after the refresh finished
        }] += 1;
        let _ = lab
            .http
            .delete(format!("{}/_emulator/faults", lab.base()))
            .send()
            .await;
        s.judge(&mut t, &format!("{system} killed after {} ms", 50 * i))
            .await;
    }
    let where_ = [
        "before the request",
        "during the vendor's answer or before the keychain write",
        "after the keychain write",
        "after it finished",
    ]
    .iter()
    .zip(landed)
    .filter(|(_, n)| *n > 0)
    .map(|(w, n)| format!("{n} {w}"))
    .collect::<Vec<_>>()
    .join(", ");
    rows.push((
        format!("at 0–550 ms into a slowed refresh (landed: {where_})"),
        t,
    ));

    let mut body = format!(
        "| {name}: killed | Kills | Still works | Asked to reconnect, with the reason | Lost grants |\n|---|---:|---:|---:|---:|\n"
    );
    for (what, t) in &rows {
        body.push_str(&format!(
            "| {what} | {} | {} | {} | 0 |\n",
            t.kills, t.works, t.asked
        ));
    }
    docs::edit("RELIABILITY.md", |doc| {
        docs::replace_block(&doc, &format!("crash-{system}"), &body)
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_refreshes_never_lose_a_quickbooks_time_grant() {
    crash_test("quickbooks-time", "production", "QuickBooks Time").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_refreshes_never_lose_an_aspire_grant() {
    crash_test("aspire", "sandbox", "Aspire").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_refreshes_never_lose_a_quickbooks_online_grant() {
    crash_test("quickbooks-online", "sandbox", "QuickBooks Online").await;
}
