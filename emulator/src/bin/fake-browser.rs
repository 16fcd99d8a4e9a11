//! `fake-browser URL`: what a user's browser (and the user) would do with an authorize URL, for
//! tests that set `BROWSER`. Follows redirects by hand (at most 10), submits the emulator's
//! consent form with `FAKE_BROWSER_DECISION` (`allow` default, `deny`, or `ignore` = close the
//! tab), and appends each visited URL to `FAKE_BROWSER_LOG` with `code`, `state` and
//! `code_verifier` values redacted. Exit 0 after the walk, 3 on an error page (4xx/5xx),
//! 2 on bad usage or a network error. Prints nothing to stdout.
//!
//! A URL off this machine (a vendor's help page) is logged and left there, as a person reading it.
//!
//! `fake-browser /a/folder` (what `xdg-open` is also asked for "Open log folder" and "show the
//! exported files"): plays the file manager, logging `folder /a/folder` if it is a folder.

use std::io::Write as _;
use std::process::ExitCode;
use url::Url;

const REDACT: [&str; 3] = ["code", "state", "code_verifier"];

/// The URL with `code`, `state` and `code_verifier` values replaced: what logs and errors show.
fn redacted(url: &Url) -> Url {
    let mut shown = url.clone();
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let mut q = shown.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(
                k,
                if REDACT.contains(&k.as_str()) {
                    "REDACTED"
                } else {
                    v
                },
            );
        }
    }
    shown
}

/// With `FAKE_BROWSER_PROC_DUMP=DIR`: copy this process's and its parent's command line and
/// environment (`/proc/<pid>/cmdline`, `environ`) into DIR, for tests that check that nothing
/// secret is handed to the processes Patchbay starts.
fn dump_process_images() {
    let Ok(dir) = std::env::var("FAKE_BROWSER_PROC_DUMP") else {
        return;
    };
    let me = std::process::id();
    let parent = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_string();
            after.split_whitespace().nth(1)?.parse::<u32>().ok()
        });
    let _ = std::fs::create_dir_all(&dir);
    for (who, pid) in [("self", Some(me)), ("parent", parent)] {
        let Some(pid) = pid else { continue };
        for part in ["cmdline", "environ"] {
            if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/{part}")) {
                let _ = std::fs::write(format!("{dir}/{me}-{who}-{pid}.{part}"), bytes);
            }
        }
    }
}

fn log(url: &Url) {
    append_to_log(redacted(url).as_str());
}

fn append_to_log(shown: &str) {
    let Ok(path) = std::env::var("FAKE_BROWSER_LOG") else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{shown}");
    }
}

/// The value of `attr="..."` in the first tag after `marker`.
fn attr_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let rest = &html[html.find(marker)?..];
    let tag = &rest[..rest.find('>')?];
    let key = format!("{attr}=\"");
    let start = tag.find(&key)? + key.len();
    let value = &tag[start..];
    Some(
        value[..value.find('"')?]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

fn localhost_to_loopback(mut url: Url) -> Url {
    if url.host_str() == Some("localhost") {
        let _ = url.set_host(Some("127.0.0.1"));
    }
    url
}

async fn walk(start: &str) -> Result<u8, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let decision = std::env::var("FAKE_BROWSER_DECISION").unwrap_or_else(|_| "allow".to_string());
    let mut url = Url::parse(start).map_err(|e| format!("bad URL {start:?}: {e}"))?;
    // A page out on the internet (a vendor's help page): this machine cannot reach it, and a
    // person would just read it. Logged as visited.
    if !matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
        log(&url);
        return Ok(0);
    }
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..=11 {
        url = localhost_to_loopback(url);
        log(&url);
        let request = match form.take() {
            Some(fields) => client.post(url.clone()).form(&fields),
            None => client.get(url.clone()),
        };
        let resp = request
            .send()
            .await
            .map_err(|e| format!("{}: {}", redacted(&url), e.without_url()))?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("{url}: redirect without Location"))?;
            url = url
                .join(location)
                .map_err(|e| format!("bad Location {location:?}: {e}"))?;
            continue;
        }
        if status.is_client_error() || status.is_server_error() {
            eprintln!("fake-browser: {} answered {status}", redacted(&url));
            return Ok(3);
        }
        let body = resp.text().await.unwrap_or_default();
        if !body.contains("data-testid=\"consent-allow\"") {
            return Ok(0);
        }
        if decision == "ignore" {
            return Ok(0);
        }
        let action =
            attr_after(&body, "<form", "action").ok_or("consent page without form action")?;
        let txn = attr_after(&body, "name=\"txn\"", "value").ok_or("consent page without txn")?;
        let choice = if decision == "deny" { "deny" } else { "allow" };
        url = url.join(&action).map_err(|e| e.to_string())?;
        form = Some(vec![
            ("txn".to_string(), txn),
            ("decision".to_string(), choice.to_string()),
        ]);
    }
    eprintln!("fake-browser: too many redirects");
    Ok(3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    dump_process_images();
    let Some(start) = std::env::args().nth(1) else {
        eprintln!("usage: fake-browser URL");
        return ExitCode::from(2);
    };
    if start.starts_with('/') {
        if !std::path::Path::new(&start).is_dir() {
            eprintln!("fake-browser: no folder {start}");
            return ExitCode::from(2);
        }
        append_to_log(&format!("folder {start}"));
        return ExitCode::SUCCESS;
    }
    match walk(&start).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("fake-browser: {e}");
            ExitCode::from(2)
        }
    }
}
