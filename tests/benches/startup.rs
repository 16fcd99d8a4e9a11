//! Start-up, memory and size of the Patchbay app against the smallest Tauri 2 app
//! (`bench/baseline`: one window, one static page), both release builds of this workspace.
//!
//! Start-up: from spawning the process to the page's own "first screen painted" signal (two
//! animation frames after the first screen is in place, then one command), alternating the two
//! apps over many runs. Memory: the proportional set size (PSS, so shared libraries are not
//! counted once per process) of the app and its WebKit processes one second after the first
//! paint, and for Patchbay also after a full practice connection driven over WebDriver. Size:
//! the release binaries and their `.deb` installers. Run with `scripts/bench.sh startup` (Xvfb, a
//! private keyring), which builds both the way they ship (`tauri build`).
//!
//! A third series, the content floor: the minimal app showing a static copy of Patchbay's first
//! screen (`bench/baseline/ui/first-screen.html`: the same markup and stylesheet, no modules, no
//! commands, no setup). The copy is made from the live screen (`-- --first-screen`, which
//! `scripts/bench.sh` runs before building the minimal app; it is not kept in git) and checked
//! against it at the start of every run.

// A benchmark reports a broken setup by panicking, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use harness::{App, Desk, workspace_bin};
use patchbay_e2e::harness;
use patchbay_test_support::docs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rounds() -> usize {
    patchbay_test_support::env_number("BENCH_ROUNDS", 15)
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
/// `page` is the minimal app's page (its `BASELINE_PAGE`).
fn start_once(bin: &Path, home: &Path, page: &str) -> Start {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("BASELINE_PAGE", page)
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
    app.get("welcome").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = app_pid(&app);
    let before = tree_pss(pid).0 as f64;
    app.click("welcome-start").await;
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
    // Connected, QuickBooks Online's settings then imported: the screen an admin is left on.
    app.wait_text("import-banner", "imported and refreshed")
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = tree_pss(pid).0 as f64;
    app.close().await;
    (before, after)
}

/// The minimal app's static copy of Patchbay's first screen.
const FIRST_SCREEN: &str = "first-screen.html";

/// Patchbay's live first screen as a static page for the minimal app: Patchbay's `index.html`
/// head with the minimal app's script instead of the wizard's modules, and the body exactly as
/// the page has built it.
async fn first_screen_copy() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let desk = Desk::new().await;
    let app = desk.launch(&[]).await;
    app.get("welcome").await;
    let body = app.run_js("return document.body.innerHTML").await;
    app.close().await;
    let index = std::fs::read_to_string(root.join("ui/index.html")).unwrap();
    let (head, _) = index.split_once("<body>").unwrap();
    let wizard = r#"<script type="module" src="wizard.js"></script>"#;
    assert!(
        head.contains(wizard),
        "ui/index.html no longer loads wizard.js"
    );
    let head = head
        .replacen(
            "<!doctype html>\n",
            "<!doctype html>\n<!-- Written by tests/benches/startup.rs from Patchbay's live first screen; do not edit. -->\n",
            1,
        )
        .replace(wizard, r#"<script type="module" src="main.js"></script>"#);
    format!("{head}<body>{}</body>\n</html>\n", body.as_str().unwrap())
}

/// Where the minimal app's copy lives (it embeds its pages when it is built).
fn first_screen_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bench/baseline/ui")
        .join(FIRST_SCREEN)
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

#[tokio::main]
async fn main() {
    let copy = first_screen_copy().await;
    let path = first_screen_path();
    // The copy draws what the live screen draws: every file it names is beside it.
    for quote in ["src=\"", "href=\""] {
        for name in copy
            .split(quote)
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .filter(|name| !name.starts_with('#') && !name.contains(':'))
        {
            assert!(
                path.with_file_name(name).exists(),
                "the first screen uses {name}, which the minimal app does not have: link it into bench/baseline/ui"
            );
        }
    }
    if std::env::args().any(|a| a == "--first-screen") {
        std::fs::write(&path, copy).unwrap();
        return;
    }
    assert!(
        std::fs::read_to_string(&path).ok() == Some(copy),
        "{} is missing or no longer Patchbay's first screen: run ./scripts/bench.sh startup (it makes the copy, then builds the minimal app)",
        path.display()
    );
    let patchbay = workspace_bin("patchbay-app");
    let baseline = workspace_bin("patchbay-baseline");
    let home = tempfile::tempdir().unwrap();
    let n = rounds();
    // The three series: the minimal app, the minimal app showing Patchbay's first screen, Patchbay.
    let series = [
        (&baseline, "index.html"),
        (&baseline, FIRST_SCREEN),
        (&patchbay, "index.html"),
    ];
    // One unmeasured start each: first-run work (WebKit's caches, the keyring) is not start-up.
    for (bin, page) in series {
        start_once(bin, home.path(), page);
    }
    let mut ms = [vec![], vec![], vec![]];
    let mut mem = [vec![], vec![], vec![]];
    let mut procs = [0; 3];
    for i in 0..n {
        // Rotate which goes first, so drift on the machine hits all alike.
        for k in 0..series.len() {
            let j = (i + k) % series.len();
            let s = start_once(series[j].0, home.path(), series[j].1);
            ms[j].push(s.ms);
            mem[j].push(s.pss_kib as f64);
            procs[j] = s.processes;
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
    let deb = |prefix: &str| {
        let found = docs::newest_deb(&patchbay.parent().unwrap().join("bundle/deb"), prefix);
        size(&found)
    };
    let (bd, pd) = (deb("Patchbay Baseline_"), deb("Patchbay_"));

    let [(bm, bq1, bq3), (fm, fq1, fq3), (pm, pq1, pq3)] = [0, 1, 2].map(|j| summary(&ms[j]));
    let [bmem, fmem, pmem] = [0, 1, 2].map(|j| summary(&mem[j]));
    let (cb, _, _) = summary(&conn_before);
    let (ca, caq1, caq3) = summary(&conn_after);
    let range = |(m, q1, q3): (f64, f64, f64)| format!("{} ({}–{})", mib(m), mib(q1), mib(q3));
    let mut out = String::new();
    out.push_str(&format!(
        "{n} rotating starts of each, release builds made by `tauri build` (as shipped), Xvfb 1920x1080, median (first–third quartile). \
         \"Content floor\": the minimal app showing a static copy of Patchbay's first screen (same markup and stylesheet, no modules, no commands).\n\n\
         | Figure | Minimal Tauri 2 app | Content floor | Patchbay | Ratio to minimal | Target | Ratio to floor |\n|---|---:|---:|---:|---:|---:|---:|\n"
    ));
    out.push_str(&format!(
        "| Start to first screen painted | {bm:.0} ms ({bq1:.0}–{bq3:.0}) | {fm:.0} ms ({fq1:.0}–{fq3:.0}) | {pm:.0} ms ({pq1:.0}–{pq3:.0}) | {:.2}x | ≤ 1.15x | {:.2}x |\n",
        pm / bm,
        pm / fm
    ));
    out.push_str(&format!(
        "| Memory 1 s after the first paint (PSS, app + WebKit, {} / {} / {} processes) | {} | {} | {} | {:.2}x | ≤ 1.2x | {:.2}x |\n",
        procs[0],
        procs[1],
        procs[2],
        range(bmem),
        range(fmem),
        range(pmem),
        pmem.0 / bmem.0,
        pmem.0 / fmem.0
    ));
    out.push_str(&format!(
        "| Memory after a full practice connection (3 runs over WebDriver; at start in those runs: {}) | — | — | {} ({}–{}) | {:.2}x of the minimal app's start | — | — |\n",
        mib(cb),
        mib(ca),
        mib(caq1),
        mib(caq3),
        ca / bmem.0
    ));
    out.push_str(&format!(
        "| Release binary | {:.1} MiB | (same) | {:.1} MiB | {:.2}x | ≤ 1.5x | — |\n",
        bs / 1048576.0,
        ps / 1048576.0,
        ps / bs
    ));
    out.push_str(&format!(
        "| Installer (`.deb`) | {:.2} MiB | (same) | {:.2} MiB | {:.2}x | — | — |\n",
        bd / 1048576.0,
        pd / 1048576.0,
        pd / bd
    ));
    println!("{out}");
    docs::edit("PERFORMANCE.md", |d| {
        docs::replace_block(&d, "bench:startup", &out)
    });
}
