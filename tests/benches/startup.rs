//! Start-up, memory and size of the Patchbay app against the smallest Tauri 2 app
//! (`bench/baseline`: one window, one static page), both release builds of this workspace.
//!
//! Start-up: from spawning the process to the page's own "first screen painted" signal (two
//! animation frames after the first screen is in place, then one command), alternating the two
//! apps over many runs. Memory: the proportional set size (PSS, so shared libraries are not
//! counted once per process) of the app and its WebKit processes one second after the first
//! paint, and for Patchbay also after a full practice connection driven over WebDriver. Size:
//! the release binaries. Run with `scripts/bench.sh startup` (Xvfb, a private keyring).

// A benchmark reports a broken setup by panicking, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/docs.rs"]
mod docs;
#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

use harness::{App, Desk, workspace_bin};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
}

/// Every process below `root` (children of children too), and `root`.
fn tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parents.push((pid, ppid));
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// PSS of a process tree in KiB, and the names of its processes.
fn tree_pss(root: u32) -> (u64, Vec<String>) {
    let mut kib = 0;
    let mut names = Vec::new();
    for pid in tree(root) {
        let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        if let Some(v) = s
            .lines()
            .find(|l| l.starts_with("Pss:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
        {
            kib += v;
            names.push(comm(pid));
        }
    }
    (kib, names)
}

fn kill_tree(root: u32) {
    for pid in tree(root).into_iter().rev() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

struct Start {
    ms: f64,
    pss_kib: u64,
    processes: usize,
}

/// Start `bin` with a private home, wait for the page's first-paint signal, measure, stop it.
fn start_once(bin: &Path, home: &Path) -> Start {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("PATCHBAY_HOME", home.join("patchbay"))
        .env("PATCHBAY_KEYCHAIN_SERVICE", "Patchbay-bench")
        .env("PATCHBAY_LOG", "info")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("first screen painted") {
                let _ = tx.send(started.elapsed());
            }
        }
    });
    let took = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{} never painted its first screen", bin.display()));
    std::thread::sleep(Duration::from_secs(1));
    let (pss_kib, names) = tree_pss(child.id());
    kill_tree(child.id());
    let _ = child.wait();
    Start {
        ms: took.as_secs_f64() * 1000.0,
        pss_kib,
        processes: names.len(),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median and the spread (first to third quartile) of a sample.
fn summary(v: &[f64]) -> (f64, f64, f64) {
    let mut s = v.to_vec();
    let m = median(&mut s);
    let q = |f: f64| s[((s.len() - 1) as f64 * f).round() as usize];
    (m, q(0.25), q(0.75))
}

/// The patchbay-app process below tauri-driver.
fn app_pid(app: &App) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(p) = tree(app.driver_pid())
            .into_iter()
            .find(|p| comm(*p).starts_with("patchbay-app"))
        {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "no patchbay-app below tauri-driver"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Patchbay's memory after start and after a full practice connection (QuickBooks Online,
/// through the screens), driven over WebDriver.
async fn after_connection() -> (f64, f64) {
    let desk = Desk::new().await;
    let app = desk.launch(&[]).await;
    app.get("choose").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = app_pid(&app);
    let before = tree_pss(pid).0 as f64;
    app.click_css("[data-testid=\"system-option\"][data-provider=\"quickbooks-online\"]")
        .await;
    app.click_css("[data-testid=\"environment-option\"][data-environment=\"sandbox\"]")
        .await;
    app.click("choose-next").await;
    for (field, value) in [
        ("field-client_id", "practice-qbo-dev-client"),
        ("field-client_secret", "practice-qbo-dev-secret"),
    ] {
        while app
            .client
            .find(fantoccini::Locator::Css(&format!(
                "[data-testid=\"{field}\"]"
            )))
            .await
            .map(|_| ())
            .is_err()
        {
            app.click("next").await;
        }
        app.paste_into(field, value).await;
    }
    loop {
        if let Ok(b) = app
            .client
            .find(fantoccini::Locator::Css("[data-testid=\"connect-button\"]"))
            .await
            && b.is_displayed().await.unwrap_or(false)
        {
            break;
        }
        app.click("next").await;
    }
    app.click("connect-button").await;
    app.wait_text("connected-identity", "connected as").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = tree_pss(pid).0 as f64;
    app.close().await;
    (before, after)
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

#[tokio::main]
async fn main() {
    let patchbay = workspace_bin("patchbay-app");
    let baseline = workspace_bin("patchbay-baseline");
    let home = tempfile::tempdir().unwrap();
    let n = rounds();
    // One unmeasured start each: first-run work (WebKit's caches, the keyring) is not start-up.
    start_once(&baseline, home.path());
    start_once(&patchbay, home.path());
    let (mut b_ms, mut p_ms, mut b_mem, mut p_mem) = (vec![], vec![], vec![], vec![]);
    let mut procs = (0, 0);
    for i in 0..n {
        // Alternate which goes first, so drift on the machine hits both alike.
        let order = if i % 2 == 0 {
            [(&baseline, true), (&patchbay, false)]
        } else {
            [(&patchbay, false), (&baseline, true)]
        };
        for (bin, is_base) in order {
            let s = start_once(bin, home.path());
            if is_base {
                b_ms.push(s.ms);
                b_mem.push(s.pss_kib as f64);
                procs.0 = s.processes;
            } else {
                p_ms.push(s.ms);
                p_mem.push(s.pss_kib as f64);
                procs.1 = s.processes;
            }
        }
    }
    let mut conn_before = vec![];
    let mut conn_after = vec![];
    for _ in 0..3 {
        let (b, a) = after_connection().await;
        conn_before.push(b);
        conn_after.push(a);
    }
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64;
    let (bs, ps) = (size(&baseline), size(&patchbay));

    let (bm, bq1, bq3) = summary(&b_ms);
    let (pm, pq1, pq3) = summary(&p_ms);
    let (bmem, bmq1, bmq3) = summary(&b_mem);
    let (pmem, pmq1, pmq3) = summary(&p_mem);
    let (cb, _, _) = summary(&conn_before);
    let (ca, caq1, caq3) = summary(&conn_after);
    let mut out = String::new();
    out.push_str(&format!(
        "{n} alternating starts of each, release builds, Xvfb 1920x1080, median (first–third quartile).\n\n\
         | Figure | Minimal Tauri 2 app | Patchbay | Ratio | Target |\n|---|---:|---:|---:|---:|\n"
    ));
    out.push_str(&format!(
        "| Start to first screen painted | {bm:.0} ms ({bq1:.0}–{bq3:.0}) | {pm:.0} ms ({pq1:.0}–{pq3:.0}) | {:.2}x | ≤ 1.15x |\n",
        pm / bm
    ));
    out.push_str(&format!(
        "| Memory 1 s after the first paint (PSS, app + WebKit, {} / {} processes) | {} ({}–{}) | {} ({}–{}) | {:.2}x | ≤ 1.2x |\n",
        procs.0,
        procs.1,
        mib(bmem),
        mib(bmq1),
        mib(bmq3),
        mib(pmem),
        mib(pmq1),
        mib(pmq3),
        pmem / bmem
    ));
    out.push_str(&format!(
        "| Memory after a full practice connection (3 runs over WebDriver; at start in those runs: {}) | — | {} ({}–{}) | {:.2}x of the baseline's start | — |\n",
        mib(cb),
        mib(ca),
        mib(caq1),
        mib(caq3),
        ca / bmem
    ));
    out.push_str(&format!(
        "| Release binary | {:.1} MiB | {:.1} MiB | {:.2}x | ≤ 1.5x |\n",
        bs / 1048576.0,
        ps / 1048576.0,
        ps / bs
    ));
    println!("{out}");
    docs::edit("PERFORMANCE.md", |d| {
        docs::replace_block(&d, "bench:startup", &out)
    });
}
