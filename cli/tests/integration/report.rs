//! The support report carries everything support asks for: app and OS versions, keychain and
//! callback port health, each connection's state, checklist and timings, and the recent errors
//! with the vendor's codes and request ids. Three connections in three states: one working
//! (Aspire), one whose API add-on lapsed (QuickBooks Time, 402), one revoked at Intuit
//! (QuickBooks Online: 401, then `invalid_grant`, each with an `intuit_tid`). The leaks tests
//! prove the same report holds no secret.

use crate::harness::Lab;
use patchbay_core::Catalog;
use patchbay_test_support::assert_says;
use serde_json::json;

/// The report's lines for one connection: from its `[id] …` heading to the next blank line.
fn section<'a>(report: &'a str, id: &str) -> &'a str {
    let start = report
        .find(&format!("\n[{id}] "))
        .unwrap_or_else(|| panic!("no section for {id}:\n{report}"));
    let rest = &report[start + 1..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_carries_versions_health_states_checklists_timings_and_vendor_errors() {
    let lab = Lab::new().await;
    for (system, env, redirect) in [
        ("quickbooks-time", "production", true),
        ("aspire", "sandbox", false),
        ("quickbooks-online", "sandbox", true),
    ] {
        let (id, secret) = lab
            .app(
                system,
                env,
                &if redirect {
                    lab.callback()
                } else {
                    String::new()
                },
            )
            .await;
        let out = lab.connect(system, env, &id, &secret).await;
        assert_eq!(out.code, 0, "{system}: {out:?}");
    }
    // QuickBooks Time's API add-on lapses: the verify call is refused with 402.
    lab.fault(
        "quickbooks-time",
        "api",
        "payment_required",
        json!({"count": 1}),
    )
    .await;
    let out = lab
        .run_async(&["verify", "quickbooks-time", "--env", "production"], "")
        .await;
    assert_ne!(out.code, 0, "{out:?}");
    // The grant is revoked at Intuit: the API says 401, the refresh `invalid_grant`.
    lab.fault("quickbooks-online", "any", "revoked", json!({}))
        .await;
    let out = lab
        .run_async(&["verify", "quickbooks-online", "--env", "sandbox"], "")
        .await;
    assert_ne!(out.code, 0, "{out:?}");

    // Another program holds the callback port (on [::1], where browsers go first for
    // localhost) while the report is made.
    let squatter = std::net::TcpListener::bind(("::1", lab.port)).unwrap();
    let out = lab.run_async(&["report"], "").await;
    drop(squatter);
    out.exits(0);
    let report = out.stdout;
    // Shown when the test fails (and with --no-capture).
    eprintln!("{report}");

    // Versions and health.
    assert!(report.starts_with("Patchbay support report\n"), "{report}");
    assert!(
        report.contains(&format!("\nversion: {}\n", env!("CARGO_PKG_VERSION"))),
        "{report}"
    );
    let os_line = report
        .lines()
        .find(|l| l.starts_with("os: "))
        .expect("an os line");
    // The system by its own name: Linux's distribution, "Windows", "Mac OS".
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os_name = match std::env::consts::OS {
        "windows" => "Windows",
        "macos" => "Mac OS",
        _ => os_release
            .lines()
            .find_map(|l| l.strip_prefix("NAME="))
            .map(|n| n.trim_matches('"').split_whitespace().next().unwrap_or(""))
            .unwrap_or("Linux"),
    };
    assert!(
        os_line.contains(os_name) && os_line.contains(std::env::consts::ARCH),
        "{os_line} names {os_name} and {}",
        std::env::consts::ARCH
    );
    assert!(
        report.contains("\nkeychain: ok ("),
        "keychain health: {report}"
    );
    assert!(
        report.contains("\nnetwork: direct"),
        "no proxy on this machine: {report}"
    );
    let port_line = report
        .lines()
        .find(|l| l.starts_with(&format!("callback port {} ", lab.port)))
        .unwrap_or_else(|| panic!("callback port health: {report}"));
    assert!(
        port_line.contains("QuickBooks Time")
            && port_line.contains("QuickBooks Online")
            && port_line.contains("in use"),
        "{port_line}"
    );

    // Each connection: state, timings and the whole checklist of its system.
    let catalog = Catalog::builtin().unwrap();
    for (id, system, state) in [
        (
            "practice:quickbooks-time:production",
            "quickbooks-time",
            "refresh due|connected",
        ),
        ("practice:aspire:sandbox", "aspire", "connected"),
        (
            "practice:quickbooks-online:sandbox",
            "quickbooks-online",
            "needs reconnect",
        ),
    ] {
        let s = section(&report, id);
        assert!(
            state
                .split('|')
                .any(|st| s.contains(&format!("\n  state: {st}\n"))),
            "{id} is {state}:\n{s}"
        );
        let timings = s
            .lines()
            .find(|l| l.starts_with("  timings: "))
            .unwrap_or_else(|| panic!("{id} has timings:\n{s}"));
        for what in ["connect ", "token call ", "verify call "] {
            assert!(timings.contains(what), "{id}: {what} in {timings}");
        }
        let p = catalog.provider(system).unwrap();
        // Every item, except the quiet ones about Patchbay itself, shown only when they fail.
        for item in catalog.checklist(p).into_iter().filter(|i| !i.quiet) {
            assert!(
                s.lines()
                    .any(|l| l.starts_with("    [") && l.ends_with(&format!("] {}", item.title))),
                "{id}: checklist item {:?} in\n{s}",
                item.title
            );
        }
    }
    let aspire = section(&report, "practice:aspire:sandbox");
    assert!(
        !aspire.contains("[FAILED]") && !aspire.contains("[not checked]"),
        "a working connection's checklist is all ok:\n{aspire}"
    );
    // The lapsed add-on: the guide's item fails with its fix and the vendor's help.
    let qbt = section(&report, "practice:quickbooks-time:production");
    let api_item = catalog
        .checklist(catalog.provider("quickbooks-time").unwrap())
        .into_iter()
        .find(|i| i.id == "api-option")
        .unwrap();
    assert!(
        qbt.contains(&format!("[FAILED] {}", api_item.title))
            && qbt.contains("fix: ")
            && qbt.contains("ask: ")
            && qbt.contains("vendor said: HTTP 402"),
        "{qbt}"
    );
    // The revoked grant: Reconnect, with Intuit's request id for Intuit support.
    let qbo = section(&report, "practice:quickbooks-online:sandbox");
    assert!(
        qbo.contains("[FAILED]") && qbo.contains("needs reconnect: "),
        "{qbo}"
    );
    assert!(
        qbo.contains("vendor said: HTTP 40") && qbo.contains("intuit_tid="),
        "{qbo}"
    );

    // The recent problems from the logs, with kinds, vendor codes and request ids.
    let problems = &report[report
        .find("\nrecent problems")
        .unwrap_or_else(|| panic!("recent problems: {report}"))..];
    assert_says(
        problems,
        &[
            "check failed",
            "kind=api_not_enabled",
            "HTTP 402",
            "kind=reconnect",
            "intuit_tid=",
        ],
    );
}
