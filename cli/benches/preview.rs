//! Preview import benchmark: the throughput of `patchbay_core::preview::run` against a plain
//! HTTP loop that fetches the same pages from the same emulator in the same run, and the peak
//! memory of `patchbay preview --export` at 1x and 10x the emulator's large data set.
//!
//! Run it with `scripts/bench.sh` (release build, a private D-Bus session with gnome-keyring for
//! the real keychain). It prints a Markdown table and writes it into docs/PERFORMANCE.md.

// A benchmark reports a broken setup by panicking, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use harness::Lab;
use patchbay_core::preview::PreviewOptions;
use patchbay_test_support::lab as harness;

use patchbay_emulator::DataScale;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Timed rounds per system and side (plain loop, preview), alternating.
const ROUNDS: usize = 15;
/// Memory is measured at 1x and at this multiple of the large data set.
const BIG: usize = 10;

struct System {
    provider: &'static str,
    environment: &'static str,
    name: &'static str,
}

const SYSTEMS: [System; 3] = [
    System {
        provider: "quickbooks-time",
        environment: "production",
        name: "QuickBooks Time",
    },
    // Aspire's production environment: its limit (1,200/min) leaves the sandbox's 60/min out
    // of the measurement, which is about Patchbay's own cost.
    System {
        provider: "aspire",
        environment: "production",
        name: "Aspire",
    },
    System {
        provider: "quickbooks-online",
        environment: "sandbox",
        name: "QuickBooks Online",
    },
];

#[tokio::main]
async fn main() {
    let lab = Lab::with_scale(DataScale::large()).await;
    let ids = connect_all(&lab).await;
    let connections = lab.connections();
    let http = reqwest::Client::new();

    let mut throughput = String::new();
    for (system, id) in SYSTEMS.iter().zip(&ids) {
        let params = connections.preview_target(id).await.expect("target").params;
        let realm = params.get("realmId").cloned().unwrap_or_default();
        let mut plain_times = Vec::new();
        let mut plain_requests = 0;
        let mut preview_times = Vec::new();
        let mut start_costs = Vec::new();
        // One warm-up of each side (connection pool, page cache), then alternate.
        for round in 0..=ROUNDS {
            let token = connections.access_token(id, false).await.expect("token");
            let started = Instant::now();
            let (plain_rows, requests) =
                plain_loop(&http, &lab.base(), system, token.expose_secret(), &realm)
                    .await
                    .unwrap_or_else(|e| panic!("{}: plain loop: {e}", system.name));
            let plain_time = started.elapsed();
            plain_requests = requests;

            let started = Instant::now();
            let results =
                patchbay_core::preview::run(&connections, id, &PreviewOptions::default(), &|_| {})
                    .await
                    .unwrap_or_else(|e| panic!("{}: preview: {e}", system.name));
            let preview_time = started.elapsed();
            // The part of it that is not HTTP: settings and one keychain read.
            let started = Instant::now();
            connections.preview_target(id).await.expect("target");
            let start_cost = started.elapsed();
            let preview_rows: u64 = results.iter().map(|r| r.count).sum();
            assert_eq!(
                plain_rows, preview_rows,
                "{}: both sides must fetch the same rows",
                system.name
            );
            if round > 0 {
                plain_times.push((plain_time, plain_rows));
                preview_times.push((preview_time, preview_rows));
                start_costs.push(start_cost);
            }
        }
        let (plain, preview) = (Stats::of(&plain_times), Stats::of(&preview_times));
        start_costs.sort();
        let start_cost = start_costs[start_costs.len() / 2];
        println!(
            "{}: plain {:.0} rows/s, preview {:.0} rows/s",
            system.name, plain.rows_per_sec, preview.rows_per_sec
        );
        writeln!(
            throughput,
            "| {} | {} | {} | {} | {} | {:.1} ms | {:.2}x |",
            system.name,
            plain.rows,
            plain_requests,
            plain.cell(),
            preview.cell(),
            ms(start_cost),
            preview.rows_per_sec / plain.rows_per_sec,
        )
        .expect("string");
    }

    if std::env::var_os("BENCH_THROUGHPUT_ONLY").is_some() {
        println!("{throughput}(BENCH_THROUGHPUT_ONLY: no memory runs, docs left as they are)");
        return;
    }

    // Peak memory of the real command, exporting every row to CSV, at 1x and 10x the data.
    let big = Lab::with_scale(DataScale::large().times(BIG)).await;
    let big_ids = connect_all(&big).await;
    let mut memory = String::new();
    for (i, system) in SYSTEMS.iter().enumerate() {
        let small = peak_memory(&lab, system, &ids[i]);
        let large = peak_memory(&big, system, &big_ids[i]);
        println!(
            "{}: {} rows {:.1} MiB, {} rows {:.1} MiB",
            system.name,
            small.rows,
            mib(small.peak_kib),
            large.rows,
            mib(large.peak_kib)
        );
        writeln!(
            memory,
            "| {} | {} rows: {:.1} MiB in {:.2} s | {} rows: {:.1} MiB in {:.2} s | {:.2}x |",
            system.name,
            small.rows,
            mib(small.peak_kib),
            small.wall.as_secs_f64(),
            large.rows,
            mib(large.peak_kib),
            large.wall.as_secs_f64(),
            large.peak_kib as f64 / small.peak_kib as f64,
        )
        .expect("string");
    }

    let report = format!(
        "Measured {date} on {machine}, release build, {ROUNDS} rounds per side after one \
         warm-up, plain loop and preview alternating against one emulator process.\n\n\
         | System | Rows | Requests | Plain HTTP loop (median, min–max) | Preview import (median, min–max) | of which start-up (median) | Preview / plain throughput |\n\
         |---|---:|---:|---|---|---:|---:|\n{throughput}\n\
         Peak resident memory (VmHWM) of `patchbay preview <system> --export DIR`, every row \
         written to CSV:\n\n\
         | System | Large data set (1x) | {BIG}x the data | Memory ratio |\n\
         |---|---|---|---:|\n{memory}",
        date = today(),
        machine = machine(),
    );
    println!("\n{report}");
    write_section(&report);
}

/// Register an app per system at the emulator, lift the emulator's rate limits (the benchmark
/// is about Patchbay's cost, not the vendors' limits) and connect with the CLI.
async fn connect_all(lab: &Lab) -> Vec<String> {
    let mut ids = Vec::new();
    for system in &SYSTEMS {
        lab.settings(json!({
            "provider": system.provider,
            "rate_limit_per_window": 1_000_000,
            "access_token_ttl_secs": 864_000, // longer than every refresh margin
        }))
        .await;
        let (client_id, secret) = lab
            .app(system.provider, system.environment, &lab.callback())
            .await;
        let out = lab
            .connect(system.provider, system.environment, &client_id, &secret)
            .await;
        assert_eq!(out.code, 0, "{} connects: {out:?}", system.name);
        ids.push(connection_id(lab, system));
    }
    ids
}

fn connection_id(lab: &Lab, system: &System) -> String {
    let out = lab.run_with(lab.command(&["status", "--json"]), "");
    harness::status_json(&out)
        .iter()
        .find(|c| c["provider"] == system.provider && c["environment"] == system.environment)
        .and_then(|c| c["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("{} is in status: {out:?}", system.name))
}

/// The same requests the preview makes, written the plain way: one GET per page with the
/// bearer token, the body parsed as JSON and its items counted. Returns rows and requests.
async fn plain_loop(
    http: &reqwest::Client,
    base: &str,
    system: &System,
    token: &str,
    realm: &str,
) -> Result<(u64, u32), reqwest::Error> {
    let requests = std::cell::Cell::new(0u32);
    let counter = &requests;
    let get = |url: String| async move {
        counter.set(counter.get() + 1);
        http.get(url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .send()
            .await?
            .error_for_status()?
            .json::<Value>()
            .await
    };
    let mut rows = 0u64;
    match system.provider {
        "quickbooks-time" => {
            let since = days_ago(90);
            for (list, extra) in [
                ("users", "active=both&supplemental_data=no".to_string()),
                ("jobcodes", "active=both&supplemental_data=no".to_string()),
                (
                    "timesheets",
                    format!("on_the_clock=both&start_date={since}&supplemental_data=no"),
                ),
            ] {
                for page in 1.. {
                    let v = get(format!(
                        "{base}/rest.tsheets.com/api/v1/{list}?page={page}&limit=200&{extra}"
                    ))
                    .await?;
                    rows += v["results"][list].as_object().map_or(0, |o| o.len()) as u64;
                    if v["more"] != json!(true) {
                        break;
                    }
                }
            }
        }
        "aspire" => {
            for list in ["Contacts", "Properties", "WorkTickets"] {
                for page in 0.. {
                    let v = get(format!(
                        "{base}/cloud-api.youraspire.com/{list}?%24top=500&%24skip={}",
                        page * 500
                    ))
                    .await?;
                    let n = v.as_array().map_or(0, Vec::len);
                    rows += n as u64;
                    if n < 500 {
                        break;
                    }
                }
            }
        }
        _ => {
            let api = format!("{base}/sandbox-quickbooks.api.intuit.com/v3/company/{realm}");
            get(format!("{api}/companyinfo/{realm}")).await?;
            rows += 1;
            for entity in ["Account", "Customer", "Vendor", "Item"] {
                let query = |q: &str| {
                    format!(
                        "{api}/query?query={}&minorversion=75",
                        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                    )
                };
                get(query(&format!("select count(*) from {entity}"))).await?;
                for page in 0.. {
                    let v = get(query(&format!(
                        "select * from {entity} STARTPOSITION {} MAXRESULTS 1000",
                        page * 1000 + 1
                    )))
                    .await?;
                    let n = v["QueryResponse"][entity].as_array().map_or(0, Vec::len);
                    rows += n as u64;
                    if n < 1000 {
                        break;
                    }
                }
            }
        }
    }
    Ok((rows, requests.get()))
}

struct Stats {
    median: Duration,
    min: Duration,
    max: Duration,
    rows: u64,
    rows_per_sec: f64,
}

impl Stats {
    fn of(samples: &[(Duration, u64)]) -> Stats {
        let mut times: Vec<Duration> = samples.iter().map(|s| s.0).collect();
        times.sort();
        let rows = samples[0].1;
        let median = times[times.len() / 2];
        Stats {
            median,
            min: times[0],
            max: times[times.len() - 1],
            rows,
            rows_per_sec: rows as f64 / median.as_secs_f64(),
        }
    }

    fn cell(&self) -> String {
        format!(
            "{:.0} ms ({:.0}–{:.0}), {:.0} rows/s",
            ms(self.median),
            ms(self.min),
            ms(self.max),
            self.rows_per_sec
        )
    }
}

struct Peak {
    rows: u64,
    peak_kib: u64,
    wall: Duration,
}

/// Run `patchbay preview --export` and follow its VmHWM (the kernel's high-water mark of resident
/// memory, which only grows) until it exits; then count the CSV rows it wrote.
fn peak_memory(lab: &Lab, system: &System, id: &str) -> Peak {
    let dir = lab.home.path().join(format!("export-{id}"));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().expect("utf-8 temp path");
    let mut cmd: Command = lab.command(&[
        "preview",
        system.provider,
        "--env",
        system.environment,
        "--export",
        dir_arg,
    ]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("patchbay runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{}: preview did not finish",
            system.name
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    assert!(
        status.success(),
        "{}: preview failed: {status}",
        system.name
    );
    let rows = std::fs::read_dir(&dir)
        .expect("export dir")
        .map(|f| {
            let text = std::fs::read_to_string(f.expect("entry").path()).expect("csv");
            csv::Reader::from_reader(text.as_bytes()).records().count() as u64
        })
        .sum();
    Peak {
        rows,
        peak_kib,
        wall,
    }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn days_ago(n: i64) -> String {
    let day = time::OffsetDateTime::now_utc() - time::Duration::days(n);
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn today() -> String {
    days_ago(0)
}

/// CPU model, cores and memory, from /proc.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0.0, |k| k as f64 / 1024.0 / 1024.0);
    format!("{model}, {cores} cores, {mem_gib:.0} GiB")
}

/// Replace the preview section of docs/PERFORMANCE.md (between its markers) with `report`.
fn write_section(report: &str) {
    const START: &str = "<!-- bench:preview -->";
    const END: &str = "<!-- /bench:preview -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PERFORMANCE.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let section = format!("{START}\n{report}\n{END}");
    let doc = match (doc.find(START), doc.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{section}{}", &doc[..a], &doc[b + END.len()..]),
        _ => format!("{doc}\n{section}\n"),
    };
    std::fs::write(&path, doc).expect("write docs/PERFORMANCE.md");
    println!("wrote {}", path.display());
}
