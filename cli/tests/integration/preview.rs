//! Preview import: each vendor's paging at a size that needs several pages, a 429 waited out,
//! a dropped connection resumed from the page it was on, and Cancel.

use crate::harness::{Lab, Output};
use crate::refresh::{aspire_lab, connect_aspire};
use patchbay_core::ErrorKind;
use patchbay_core::preview::{PreviewEvent, PreviewOptions};
use patchbay_emulator::DataScale;
use serde_json::json;
use std::sync::{Arc, Mutex};

fn scale() -> DataScale {
    DataScale {
        tsheets_users: 450,     // 3 pages of 200, `more` on the first two
        aspire_contacts: 1_100, // 3 pages of $top=500
        qbo_customers: 2_100,   // 3 pages of MAXRESULTS 1000
        ..DataScale::small()
    }
}

fn csv_rows(dir: &std::path::Path, file: &str) -> usize {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .count()
        - 1
}

#[tokio::test(flavor = "multi_thread")]
async fn each_vendor_is_paged_its_own_way_and_exported_to_csv() {
    let lab = Lab::with_scale(scale()).await;
    let s = scale();
    let out_dir = lab.home.path().join("export");
    let out = out_dir.to_str().unwrap();

    let (id, secret) = lab.app_for("quickbooks-time", "production").await;
    assert_eq!(
        lab.connect("quickbooks-time", "production", &id, &secret)
            .await
            .code,
        0
    );
    let p = lab
        .run_async(&["preview", "quickbooks-time", "--export", out], "")
        .await;
    p.exits(0)
        .says(&format!("Employees: {}", s.tsheets_users))
        .says(&format!("Job codes: {}", s.tsheets_jobcodes))
        .says(&format!(
            "Timesheets (last 90 days): {}",
            s.tsheets_timesheets
        ));
    assert_eq!(
        csv_rows(&out_dir, "quickbooks-time-users.csv"),
        s.tsheets_users,
        "every user once"
    );

    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    assert_eq!(lab.connect("aspire", "sandbox", &id, &secret).await.code, 0);
    lab.settings(json!({"provider": "aspire", "rate_limit_per_window": 1000}))
        .await;
    let p = lab
        .run_async(
            &["preview", "aspire", "--env", "sandbox", "--export", out],
            "",
        )
        .await;
    p.exits(0).says(&format!("Contacts: {}", s.aspire_contacts));
    assert_eq!(csv_rows(&out_dir, "aspire-contacts.csv"), s.aspire_contacts);

    let _ = lab.connected("quickbooks-online", "sandbox").await;
    let p = lab
        .run_async(
            &[
                "preview",
                "quickbooks-online",
                "--env",
                "sandbox",
                "--export",
                out,
            ],
            "",
        )
        .await;
    p.exits(0)
        .says("Company info: 1")
        .says(&format!("Customers: {}", s.qbo_customers))
        .says(&format!("Accounts: {}", s.qbo_accounts));
    assert_eq!(
        csv_rows(&out_dir, "quickbooks-online-customers.csv"),
        s.qbo_customers
    );
    let header = std::fs::read_to_string(out_dir.join("quickbooks-online-customers.csv")).unwrap();
    assert!(
        header.starts_with("\u{FEFF}Id,DisplayName,CompanyName,PrimaryEmailAddr.Address,Active"),
        "a byte order mark for Excel, then the columns: {}",
        &header[..80]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_is_waited_out_using_retry_after_and_shown() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    assert_eq!(lab.connect("aspire", "sandbox", &id, &secret).await.code, 0);
    lab.fault(
        "aspire",
        "api",
        "rate_limit",
        json!({"count": 2, "retry_after": 1}),
    )
    .await;
    let started = std::time::Instant::now();
    let p = lab
        .run_async(&["preview", "aspire", "--env", "sandbox"], "")
        .await;
    assert_eq!(p.code, 0, "never an error the admin must handle: {p:?}");
    assert!(
        p.stderr
            .contains("asked Patchbay to slow down; Patchbay waits 1 s"),
        "shown: {p:?}"
    );
    p.says("Contacts: 40");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After was honoured"
    );
    assert_eq!(lab.stats().await["aspire"]["rate_limited"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_is_resumed_from_the_page_it_was_on() {
    let lab = Lab::with_scale(scale()).await;
    let (connections, id) = connect_aspire(&lab).await;
    lab.settings(json!({"provider": "aspire", "rate_limit_per_window": 1000}))
        .await;
    // The connection resets on the second request: page 2 of the contacts.
    let pages = Arc::new(Mutex::new(Vec::<String>::new()));
    let fault_set = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let base = lab.base();
    let events = {
        let pages = pages.clone();
        let fault_set = fault_set.clone();
        move |e: PreviewEvent| {
            let line = format!("{e:?}");
            if matches!(e, PreviewEvent::Progress { pages: 1, .. })
                && !fault_set.swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                // Set the fault between page 1 and page 2 (synchronously, before the next request).
                let body =
                    json!({"provider": "aspire", "endpoint": "api", "fault": "reset", "count": 1});
                let url = format!("{base}/_emulator/faults");
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        reqwest::Client::new()
                            .post(url)
                            .json(&body)
                            .send()
                            .await
                            .unwrap()
                    });
                })
                .join()
                .unwrap();
            }
            pages.lock().unwrap().push(line);
        }
    };
    let dir = lab.home.path().join("csv");
    let opts = PreviewOptions {
        export_dir: Some(dir.clone()),
        ..Default::default()
    };
    let results = patchbay_core::preview::run(&connections, &id, &opts, &events)
        .await
        .expect("the import finishes");
    let contacts = results.iter().find(|r| r.id == "contacts").unwrap();
    assert_eq!(contacts.count, 1_100, "nothing lost, nothing twice");
    assert_eq!(csv_rows(&dir, "aspire-contacts.csv"), 1_100);
    let log = pages.lock().unwrap().join("\n");
    assert!(
        log.contains("dropped; Patchbay waits") && log.contains("continues from page 2"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_the_import_between_requests() {
    let (lab, connections, id) = aspire_lab().await;
    lab.fault("aspire", "api", "slow", json!({"delay_ms": 1500}))
        .await;
    let opts = PreviewOptions::default();
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let err = patchbay_core::preview::run(&connections, &id, &opts, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopped promptly"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn quickbooks_online_mappings_default_sensibly_and_survive_a_restart() {
    let lab = Lab::new().await;
    let (id, secret) = lab.connected("quickbooks-online", "sandbox").await;
    let before = lab
        .run_async(&["mappings", "quickbooks-online", "--env", "sandbox"], "")
        .await;
    before.exits(0).says("(suggested, not saved yet)");
    // Pick another account than the suggestion and Save Configuration.
    let status = crate::harness::status_json(&lab.run_async(&["status", "--json"], "").await);
    let conn_id = status[0]["id"].as_str().unwrap().to_string();
    let connections = lab.connections();
    let choices = patchbay_core::mappings::choices(&connections, &conn_id)
        .await
        .unwrap();
    let income = choices
        .iter()
        .find(|c| c.id == "customer_income_account")
        .unwrap();
    assert!(
        income.options.len() > 1,
        "choices come from the imported accounts"
    );
    // Only accounts of a kind that fits: an income account is never Accounts Receivable.
    let accounts = patchbay_core::preview::run(
        &connections,
        &conn_id,
        &patchbay_core::preview::PreviewOptions {
            only: Some("accounts".into()),
            sample_rows: usize::MAX,
            ..Default::default()
        },
        &|_| {},
    )
    .await
    .unwrap()
    .pop()
    .unwrap();
    let col = |name: &str| accounts.columns.iter().position(|c| c == name).unwrap();
    let kind_of = |id: &str| {
        accounts
            .sample
            .iter()
            .find(|r| r[col("Id")] == id)
            .map(|r| r[col("AccountType")].clone())
            .unwrap()
    };
    assert!(
        accounts
            .sample
            .iter()
            .any(|r| r[col("AccountType")] == "Accounts Receivable"),
        "the company has an Accounts Receivable account to leave out"
    );
    for o in &income.options {
        let kind = kind_of(&o.value);
        assert!(
            ["Income", "Other Income"].contains(&kind.as_str()),
            "{} is {kind}",
            o.name
        );
    }
    let other = income
        .options
        .iter()
        .find(|o| Some(&o.value) != income.selected.as_ref())
        .unwrap()
        .clone();
    let mappings = ["mappings", "quickbooks-online", "--env", "sandbox"];
    let set = format!("customer_income_account={}", other.value);
    let save = lab
        .run_async(&[&mappings[..], &["--set", &set]].concat(), "")
        .await;
    save.exits(0).says("Configuration saved.");
    // A new process (a restart) reads it back.
    let after = lab.run_async(&mappings, "").await;
    after.says(&format!("{} ({})", other.name, other.value));
    let set = "customer_income_account=999999";
    let bad = lab
        .run_async(&[&mappings[..], &["--set", set]].concat(), "")
        .await;
    assert_eq!(bad.code, ErrorKind::InvalidInput.exit_code(), "{bad:?}");
    // The integration that uses the connection reads the saved configuration, offline.
    let json = lab
        .run_async(
            &[
                "mappings",
                "quickbooks-online",
                "--env",
                "sandbox",
                "--json",
            ],
            "",
        )
        .await;
    json.exits(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["system"], "quickbooks-online");
    assert_eq!(
        v["saved"]["customer_income_account"]["value"],
        other.value.as_str()
    );
    assert_eq!(
        v["saved"]["customer_income_account"]["name"],
        other.name.as_str()
    );

    // The guide's disconnect-then-connect keeps the configuration unless asked to forget it.
    let saved = |out: &Output| -> serde_json::Value {
        out.exits(0);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["saved"].clone()
    };
    let json_args = [
        "mappings",
        "quickbooks-online",
        "--env",
        "sandbox",
        "--json",
    ];
    let reconnect = |lab: &Lab| {
        let cmd = lab.command(&["connect", "quickbooks-online", "--env", "sandbox"]);
        let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
        out.exits(0);
    };
    let disconnect = [
        "disconnect",
        "quickbooks-online",
        "--env",
        "sandbox",
        "--yes",
    ];
    let off = lab.run_async(&disconnect, "").await;
    off.says("kept for when you connect again");
    reconnect(&lab);
    let kept = saved(&lab.run_async(&json_args, "").await);
    assert_eq!(
        kept["customer_income_account"]["value"],
        other.value.as_str()
    );
    let forget = [&disconnect[..], &["--forget-settings"]].concat();
    let off = lab.run_async(&forget, "").await;
    off.exits(0);
    reconnect(&lab);
    let gone = saved(&lab.run_async(&json_args, "").await);
    assert_eq!(gone, serde_json::json!({}), "forgotten on request");
}
