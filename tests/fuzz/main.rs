//! Bounded fuzz runs: each libFuzzer target of `core/fuzz` (built by `scripts/test.sh` with
//! `cargo fuzz build`) runs for `FUZZ_SECONDS` (default 30) from the checked-in corpus, with
//! limits on time per input and on memory, so a crash, a hang or an unbounded allocation fails
//! the test. The executions and coverage of each run go into docs/RELIABILITY.md.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use patchbay_test_support::docs;
use std::path::PathBuf;
use std::process::Command;

/// Seconds of fuzzing per target.
fn seconds() -> u64 {
    patchbay_test_support::env_number("FUZZ_SECONDS", 30)
}

use docs::repo;

fn fuzz_binary(target: &str) -> PathBuf {
    let dir = std::env::var_os("PATCHBAY_FUZZ_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/patchbay-fuzz-target")
        });
    let bin = dir
        .join(format!("{}-unknown-linux-gnu", std::env::consts::ARCH))
        .join("release")
        .join(target);
    assert!(
        bin.is_file(),
        "{} is not built: run `cd core/fuzz && CARGO_TARGET_DIR={} cargo fuzz build --sanitizer none --debug-assertions` (scripts/test.sh does)",
        bin.display(),
        dir.display()
    );
    bin
}

/// What libFuzzer reported at the end of a run.
#[derive(Debug, Default)]
struct Stats {
    execs: u64,
    cov: u64,
    features: u64,
    corpus: u64,
}

fn parse_stats(log: &str) -> Stats {
    let mut s = Stats::default();
    let field = |line: &str, name: &str| -> Option<u64> {
        let rest = line.split(name).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .find(|t| !t.is_empty())?
            .parse()
            .ok()
    };
    for line in log.lines() {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            s.execs = n.trim().parse().unwrap_or(0);
        }
        // "#123 DONE cov: 448 ft: 1744 corp: 660/224Kb ..." (or the last status line).
        if line.starts_with('#') && line.contains(" cov: ") {
            s.cov = field(line, " cov: ").unwrap_or(s.cov);
            s.features = field(line, " ft: ").unwrap_or(s.features);
            s.corpus = field(line, " corp: ").unwrap_or(s.corpus);
        }
    }
    s
}

fn fuzz(target: &str, feeds: &str) {
    let secs = seconds();
    let bin = fuzz_binary(target);
    let seeds = repo().join("core/fuzz/corpus").join(target);
    assert!(seeds.is_dir(), "no seed corpus at {}", seeds.display());
    let work = tempfile::tempdir().unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let out = Command::new(&bin)
        .arg(work.path())
        .arg(&seeds)
        .arg(format!("-max_total_time={secs}"))
        // A hang: one input taking over 5 s. Unbounded allocation: over 256 MiB at once or
        // 1 GiB resident in all.
        .arg("-timeout=5")
        .arg("-malloc_limit_mb=256")
        .arg("-rss_limit_mb=1024")
        .arg("-max_len=65536")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.path().display()))
        .output()
        .expect("the fuzz target runs");
    let log = String::from_utf8_lossy(&out.stderr);
    let found: Vec<PathBuf> = std::fs::read_dir(artifacts.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    if !out.status.success() || !found.is_empty() {
        // Keep the input for `cargo fuzz run <target> <file>` and a regression seed.
        let keep = repo().join("core/fuzz/artifacts").join(target);
        std::fs::create_dir_all(&keep).unwrap();
        for f in &found {
            std::fs::copy(f, keep.join(f.file_name().unwrap())).unwrap();
        }
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "fuzz target {target} failed ({}); inputs kept in {}:\n{}",
            out.status,
            keep.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let stats = parse_stats(&log);
    assert!(
        stats.execs > 0 && stats.cov > 0,
        "{target}: libFuzzer reported no work:\n{log}"
    );
    println!("{target}: {stats:?} in {secs} s");
    record(target, feeds, secs, &stats);
}

/// Replace this target's row of the fuzz table in docs/RELIABILITY.md.
fn record(target: &str, feeds: &str, secs: u64, s: &Stats) {
    let key = format!("| `{target}` |");
    let row = format!(
        "{key} {feeds} | {secs} s | {} | {} | {} | {} | 0 |",
        s.execs, s.cov, s.features, s.corpus
    );
    let end = "<!-- /fuzz -->";
    docs::edit("RELIABILITY.md", |doc| {
        if doc.lines().any(|l| l.starts_with(&key)) {
            doc.lines()
                .map(|l| if l.starts_with(&key) { row.as_str() } else { l })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        } else if let Some(at) = doc.find(end) {
            format!("{}{row}\n{}", &doc[..at], &doc[at..])
        } else {
            panic!("docs/RELIABILITY.md has no {end} marker");
        }
    });
}

#[test]
fn callback_request() {
    fuzz(
        "callback",
        "the callback listener's judgement of method, Host, path and query",
    );
}

#[test]
fn pasted_address() {
    fuzz(
        "pasted_address",
        "\"paste the address your browser ended on\"",
    );
}

#[test]
fn paste_sanitizer() {
    fuzz("sanitize", "the paste sanitizer and field check");
}

#[test]
fn catalog_file() {
    fuzz("catalog", "the catalog file parser and validator");
}

#[test]
fn token_and_error_responses() {
    fuzz(
        "token_response",
        "OAuth token and error answers, Aspire's exchange answer, error details, `Retry-After`",
    );
}

#[test]
fn jwt_expiry() {
    fuzz("jwt_expiry", "the JWT `exp` reader");
}

#[test]
fn stats_are_read_from_libfuzzer_output() {
    let log = "#1468150\tDONE   cov: 448 ft: 1744 corp: 660/224Kb lim: 4096 exec/s: 69911 rss: 28Mb\n\
               stat::number_of_executed_units: 1468150\n";
    let s = parse_stats(log);
    assert_eq!(
        (s.execs, s.cov, s.features, s.corpus),
        (1468150, 448, 1744, 660)
    );
}
