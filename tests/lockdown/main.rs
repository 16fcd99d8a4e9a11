//! Webview lockdown: reads the UI, the capability files, the CSP and the shell's command lists,
//! and fails on anything broader than what the UI actually uses. The webview gets exactly the
//! commands `ui/ipc.js` calls and the event listening it does; no plugin permission (the shell
//! opens the browser, copies, and shows the folder picker from Rust); a CSP with no remote
//! source, no inline script and no eval; no HTML built from strings; navigation guarded.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use patchbay_test_support::{between, docs};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use docs::repo;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every file under ui/, with its path relative to the repository.
fn ui_files() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&repo().join("ui"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(repo()).unwrap().display().to_string();
            // Lossy: the header's icon is a PNG among the text files.
            (
                rel,
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            )
        })
        .collect()
}

/// The string literals that follow each occurrence of `prefix` in `text`.
fn quoted_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .filter_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            rest.split('"').next().map(str::to_string)
        })
        .collect()
}

/// The commands the UI calls: `call("name"` in ui/ipc.js.
fn ui_commands() -> BTreeSet<String> {
    let commands = quoted_after(&read("ui/ipc.js"), "call(\"");
    assert!(commands.len() > 10, "ipc.js calls {commands:?}");
    commands
}

#[test]
fn only_ipc_js_talks_to_the_rust_side() {
    for (path, text) in ui_files() {
        if path.ends_with("ui/ipc.js") {
            continue;
        }
        for needle in ["__TAURI__", "invoke(", "__TAURI_INTERNALS__"] {
            assert!(!text.contains(needle), "{path} uses {needle}");
        }
    }
}

#[test]
fn the_shell_registers_exactly_the_commands_the_ui_calls() {
    let ui = ui_commands();
    let build = read("src-tauri/build.rs");
    let list = between(&build, "let commands = &[", "];").expect("build.rs lists the commands");
    let manifest: BTreeSet<String> = quoted_after(list, "\"")
        .into_iter()
        .filter(|s| !s.trim().is_empty() && !s.contains(','))
        .collect();
    assert_eq!(manifest, ui, "build.rs permissions vs ui/ipc.js calls");
    let lib = read("src-tauri/src/lib.rs");
    let handler = between(&lib, "generate_handler![", "]").expect("lib.rs has generate_handler!");
    let registered: BTreeSet<String> = handler
        .split(',')
        .map(|s| s.trim().trim_start_matches("commands::").to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(registered, ui, "generate_handler! vs ui/ipc.js calls");
}

#[test]
fn the_capability_grants_exactly_those_commands_and_the_zoom() {
    let dir = repo().join("src-tauri/capabilities");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["main.json"], "one capability file");
    let cap: Value = serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap();
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    for broad in ["remote", "webviews", "local"] {
        assert!(cap.get(broad).is_none(), "capability sets {broad}");
    }
    let granted: BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_str()
                .unwrap_or_else(|| panic!("permission with scope: {p}"))
                .to_string()
        })
        .collect();
    let mut expected: BTreeSet<String> = ui_commands()
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    if read("ui/ipc.js").contains("tauri.event.listen(") {
        expected.insert("core:event:allow-listen".into());
        expected.insert("core:event:allow-unlisten".into());
    }
    let conf: Value = serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap();
    // Ctrl/Cmd + and - zoom the page: on macOS and Linux through Tauri's own key handler, which
    // needs the webview's zoom permission and nothing else of the webview.
    if conf["app"]["windows"][0]["zoomHotkeysEnabled"] == Value::Bool(true) {
        expected.insert("core:webview:allow-set-webview-zoom".into());
    }
    assert_eq!(granted, expected, "capabilities/main.json");
    assert_eq!(
        conf["app"]["security"]["capabilities"],
        serde_json::json!(["main"])
    );
}

#[test]
fn the_csp_allows_only_the_apps_own_files_and_ipc() {
    let conf: Value = serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap();
    let security = &conf["app"]["security"];
    assert_eq!(security["freezePrototype"], Value::Bool(true));
    for dangerous in [
        "dangerousDisableAssetCspModification",
        "assetProtocol",
        "devCsp",
        "headers",
    ] {
        assert!(
            security.get(dangerous).is_none(),
            "security.{dangerous} is set"
        );
    }
    let csp = security["csp"].as_str().expect("a CSP string");
    let directives: Vec<(String, Vec<String>)> = csp
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next().unwrap().to_string();
            (name, words.map(str::to_string).collect())
        })
        .collect();
    let get = |name: &str| -> Vec<String> {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("CSP has no {name}"))
    };
    assert_eq!(get("default-src"), ["'self'"]);
    assert_eq!(get("script-src"), ["'self'"]);
    for none in ["object-src", "base-uri", "form-action", "frame-src"] {
        assert_eq!(get(none), ["'none'"], "{none}");
    }
    for (name, sources) in &directives {
        for s in sources {
            let allowed = s == "'self'"
                || s == "'none'"
                || (name == "img-src" && s == "data:")
                || (name == "connect-src" && (s == "ipc:" || s == "http://ipc.localhost"));
            assert!(allowed, "CSP {name} allows {s}");
        }
    }
}

#[test]
fn the_ui_has_no_inline_script_remote_content_or_html_from_strings() {
    for (path, text) in ui_files() {
        // Code only: licenses.json is data the page shows as text (its license texts name sites).
        if !(path.ends_with(".js") || path.ends_with(".html") || path.ends_with(".css")) {
            continue;
        }
        // The SVG namespace is a name for createElementNS, never fetched.
        let text = text.replace("\"http://www.w3.org/2000/svg\"", "");
        for remote in ["http://", "https://", "//cdn", "@import"] {
            assert!(!text.contains(remote), "{path} refers to {remote}");
        }
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "setTimeout(\"",
        ] {
            assert!(!text.contains(sink), "{path} uses {sink}");
        }
        if path.ends_with(".html") {
            let lower = text.to_ascii_lowercase();
            for (i, _) in lower.match_indices("<script") {
                let tag = &lower[i..i + lower[i..].find('>').unwrap()];
                assert!(tag.contains(" src="), "{path}: inline <script>");
                assert!(
                    lower[i..].contains("></script>"),
                    "{path}: a <script> with content"
                );
            }
            for attr in [
                " onclick=",
                " onload=",
                " onerror=",
                " onsubmit=",
                " onchange=",
            ] {
                assert!(!lower.contains(attr), "{path}: inline handler {attr}");
            }
        }
    }
}

#[test]
fn navigation_away_from_the_app_is_refused() {
    let lib = read("src-tauri/src/lib.rs");
    assert!(
        lib.contains(".on_navigation(") && lib.contains("is_app_url(url)"),
        "lib.rs guards navigation with is_app_url (unit-tested there; the end-to-end test \
         quickbooks_online_production_as_its_guide_goes_through_the_relay sees it refuse a page)"
    );
}

/// About and help shows ui/licenses.json, made by `scripts/licenses.sh` (cargo-about) from this
/// very Cargo.lock: a dependency change without a new list fails here.
#[test]
fn the_license_list_is_generated_from_the_current_lock_file() {
    let list: Value = serde_json::from_str(&read("ui/licenses.json")).unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(repo().join("Cargo.lock"))
        .output()
        .expect("sha256sum runs");
    let lock_hash = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        list["cargo_lock_sha256"].as_str(),
        Some(lock_hash.as_str()),
        "Cargo.lock changed since ui/licenses.json was made: run scripts/licenses.sh"
    );
    assert!(
        list["generated_by"]
            .as_str()
            .is_some_and(|g| g.starts_with("cargo-about")),
        "{}",
        list["generated_by"]
    );
    // Every listed crate is in the lock file at that version, with its license text.
    let lock = read("Cargo.lock");
    let mut crates = BTreeSet::new();
    for l in list["licenses"].as_array().unwrap() {
        assert!(
            l["text"].as_str().is_some_and(|t| t.len() > 100),
            "{} has its text",
            l["id"]
        );
        for c in l["used_by"].as_array().unwrap() {
            let (name, version) = c.as_str().unwrap().split_once(' ').unwrap();
            assert!(
                lock.contains(&format!("name = \"{name}\"\nversion = \"{version}\"")),
                "{name} {version} is not in Cargo.lock"
            );
            crates.insert(name.to_string());
        }
    }
    // The app's direct dependencies are all there.
    let manifest = read("src-tauri/Cargo.toml");
    for dep in [
        "tauri",
        "tauri-plugin-opener",
        "tauri-plugin-dialog",
        "tokio",
        "serde",
    ] {
        assert!(
            manifest.contains(&format!("\n{dep} ")) || manifest.contains(&format!("\n{dep}.")),
            "{dep} is a dependency"
        );
        assert!(crates.contains(dep), "{dep} has no license listed");
    }
    for dep in ["keyring", "oauth2", "reqwest", "tracing"] {
        assert!(
            crates.contains(dep),
            "{dep} (through patchbay-core) has no license listed"
        );
    }
}
