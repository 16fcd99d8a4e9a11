//! Keychain trouble: locked, missing (no D-Bus session), an entry too large, an entry deleted
//! behind Patchbay's back. Each ends in the "keychain" checklist item with its fix, and nothing
//! is ever written anywhere else instead.
//!
//! The missing and locked keychain are Secret Service's faults (no D-Bus session, a locked
//! collection), so those tests are Linux's (`cfg`): Windows' Credential Manager belongs to the
//! user's logon session and cannot be taken away or locked for one program.

use crate::harness::{Lab, Output, files_under, status_json};
use crate::refresh::aspire_lab;
#[cfg(target_os = "linux")]
use crate::refresh::connect_aspire;
use patchbay_core::ErrorKind;
use patchbay_core::checklist::{Checklist, Event, ItemState};
use patchbay_core::store::{Grant, Os, SecretStore, Vault};
use patchbay_core::{Catalog, Error};
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::sync::Arc;

const KEYCHAIN_ITEM: &str = "This computer's keychain is available";

/// No file under `dir` holds any of `secrets`.
fn assert_no_secret_on_disk(dir: &Path, secrets: &[&str]) {
    for (path, text) in files_under(dir) {
        for s in secrets {
            assert!(
                !text.contains(s),
                "{} holds a secret in plain text",
                path.display()
            );
        }
    }
}

fn assert_keychain_trouble(out: &Output, words: &str) {
    assert_eq!(out.code, ErrorKind::Keychain.exit_code(), "{out:?}");
    assert!(out.stderr.contains(words), "{words:?}: {out:?}");
    assert!(
        out.stderr.contains(KEYCHAIN_ITEM),
        "checklist item: {out:?}"
    );
    assert!(
        out.stderr.contains("never in a plain file"),
        "the fix: {out:?}"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn no_keychain_at_all_is_named_and_nothing_is_stored_elsewhere() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    let mut cmd = lab.command(&["connect", "aspire", "--env", "sandbox"]);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}/no-bus", lab.home.path().display()),
    );
    let out = lab.run_with(cmd, &format!("{id}\n{secret}\n"));
    assert_keychain_trouble(&out, "keychain");
    assert!(
        lab.stats().await["aspire"]["token"] == 0,
        "nothing was asked of the vendor before the keychain was known to work"
    );
    assert_no_secret_on_disk(lab.home.path(), &[&secret]);
}

/// With the keychain gone after connecting, `status` still lists the connection (its state says
/// the keychain) and `report`, most wanted then, still reports: the keychain line says why, and
/// the connection's checklist fails the keychain item with its fix.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn status_and_report_still_answer_when_the_keychain_is_gone() {
    let lab = Lab::new().await;
    connect_aspire(&lab).await;
    let no_bus = format!("unix:path={}/no-bus", lab.home.path().display());
    let run = |args: &[&str]| {
        let mut cmd = lab.command(args);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &no_bus);
        lab.run_with(cmd, "")
    };
    let status = run(&["status"]);
    status.exits(0);
    assert!(
        status.stdout.contains("Aspire") && status.stdout.contains("keychain unavailable"),
        "{status:?}"
    );
    let report = run(&["report"]);
    report.exits(0);
    assert!(
        report.stdout.contains("\nkeychain: unavailable: "),
        "{}",
        report.stdout
    );
    assert!(
        report.stdout.contains("state: keychain unavailable")
            && report.stdout.contains(&format!("[FAILED] {KEYCHAIN_ITEM}"))
            && report.stdout.contains("never in a plain file"),
        "{}",
        report.stdout
    );
    // Commands that need the keys still stop, with the keychain's exit code.
    assert_keychain_trouble(&run(&["token", "aspire", "--env", "sandbox"]), "keychain");
}

/// Run `script` in a private D-Bus session with its own unlocked login keyring.
#[cfg(target_os = "linux")]
fn private_session(lab: &Lab, script: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = lab.command(&[]);
    let cli = crate::harness::cli();
    cmd.env("PATCHBAY", cli);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let home = lab.home.path().join("session-home");
    std::fs::create_dir_all(&home).unwrap();
    // Its own HOME: gnome-keyring keeps its files there, apart from the shared test keyring.
    cmd.env("HOME", &home).env_remove("DISPLAY");
    let mut c = std::process::Command::new("dbus-run-session");
    c.args(["--", "bash", "-c"]).arg(format!(
        "set -u\necho -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n{script}"
    ));
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    lab.run_with(c, "")
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_locked_keychain_is_named_and_nothing_is_stored_elsewhere() {
    let lab = Lab::new().await;
    let (id, secret) = lab.app_for("aspire", "sandbox").await;
    let script = r#"
printf '%s\n%s\n' "$KEY_ID" "$KEY_SECRET" | "$PATCHBAY" connect aspire --env sandbox >/dev/null 2>&1
echo "connected=$?"
dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply \
  /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
  array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
"$PATCHBAY" token aspire --env sandbox
echo "token=$?"
"#;
    let out = private_session(&lab, script, &[("KEY_ID", &id), ("KEY_SECRET", &secret)]);
    out.says("connected=0")
        .says("token=7")
        .warns("keyring is locked")
        .warns(KEYCHAIN_ITEM);
    assert_no_secret_on_disk(lab.home.path().join("config").as_path(), &[&secret]);
    assert_no_secret_on_disk(lab.home.path().join("data").as_path(), &[&secret]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_deleted_behind_our_back_asks_to_connect_again() {
    let lab = Lab::new().await;
    let (id, secret) = lab.connected("aspire", "sandbox").await;
    // Another program (a keychain manager, a cleanup tool) removes both entries.
    let conn = "practice:aspire:sandbox";
    let k = lab.keychain();
    k.delete(conn).unwrap();
    k.delete(&format!("{conn}#access")).unwrap();
    let token = lab
        .run_async(&["token", "aspire", "--env", "sandbox"], "")
        .await;
    let gone = format!("are no longer in {}", Os::THIS.keychain());
    assert_keychain_trouble(&token, &gone);
    assert!(token.stdout.is_empty(), "no token printed: {token:?}");
    let status = status_json(&lab.run_async(&["status", "--json"], "").await);
    assert_eq!(status[0]["state"], "needs_reconnect", "{status:?}");
    assert!(status[0].to_string().contains(&gone), "{status:?}");
    assert_no_secret_on_disk(lab.home.path(), &[&secret]);
    // Connecting again puts it right.
    let again = lab.connect("aspire", "sandbox", &id, &secret).await;
    again.exits(0);
    assert_eq!(
        lab.run_async(&["token", "aspire", "--env", "sandbox"], "")
            .await
            .code,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_too_large_never_costs_the_new_refresh_token() {
    let (lab, _connections, id) = aspire_lab().await;
    let vault = Vault::new(Arc::new(lab.keychain()));
    let before = vault.load(&id).unwrap().unwrap();
    let huge = "x".repeat(patchbay_core::store::MAX_ENTRY_BYTES + 1);
    // A renewal whose access token does not fit a keychain entry: the rotated refresh token is
    // stored all the same, and the access token (a cache) is not kept.
    let renewed = Grant {
        access_token: Some(SecretString::from(huge.clone())),
        refresh_token: Some(SecretString::from("rotated-refresh-token-0123456789")),
        generation: before.generation + 1,
        ..before.clone()
    };
    vault.save(&id, &renewed).unwrap();
    let after = vault.load(&id).unwrap().unwrap();
    assert_eq!(after.generation, before.generation + 1);
    assert_eq!(
        after.refresh_token.as_ref().unwrap().expose_secret(),
        "rotated-refresh-token-0123456789"
    );
    assert!(
        after.access_token.is_none(),
        "the too-large access token is not kept"
    );
    // Credentials that cannot fit are refused, and nothing is replaced.
    let too_big = Grant {
        client_secret: SecretString::from(huge.clone()),
        generation: after.generation + 1,
        ..after.clone()
    };
    let err: Error = vault.save(&id, &too_big).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Keychain);
    assert!(err.message().contains("too large"), "{}", err.message());
    assert_eq!(
        vault.load(&id).unwrap().unwrap().generation,
        after.generation,
        "nothing was replaced"
    );
    // The checklist names the keychain, with its fix.
    let catalog = Catalog::builtin().unwrap();
    let mut checklist = Checklist::new(&catalog, catalog.provider("aspire").unwrap());
    checklist.observe(&Event::failed(&err));
    let red: Vec<_> = checklist
        .items()
        .iter()
        .filter(|i| i.state == ItemState::Failed)
        .collect();
    assert_eq!(red.len(), 1);
    assert_eq!(red[0].id, "keychain");
    assert!(
        red[0]
            .problem
            .as_ref()
            .unwrap()
            .fix
            .contains("never in a plain file")
    );
    assert_no_secret_on_disk(lab.home.path(), &[&huge]);
}
