//! "Keep my connections fresh" end to end: the real app registers the daily job with the
//! system's scheduler (systemd user units here; `systemctl` is intercepted on PATH, as the
//! browser launch is, because this machine runs no systemd user session), the job runs the
//! command line the unit names, and Home shows what it found; a connection only the admin can
//! fix is told on the desktop once (by the job, or by the app when it starts); switching it off
//! removes the job.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_e2e::harness::{Desk, wait_in_file, workspace_bin};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// `dbus-monitor` on the session bus, writing every call to the desktop's notification
/// service (org.freedesktop.Notifications) to a file; ended on drop.
struct Monitor(Child);

impl Monitor {
    fn start(log: &Path) -> Monitor {
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "--monitor",
                "interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (Debian's dbus package)");
        std::thread::sleep(Duration::from_millis(300));
        Monitor(child)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `systemctl` that logs its arguments and succeeds.
fn fake_systemctl(dir: &Path, log: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join("systemctl");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The program and arguments of a unit's `ExecStart=` (each quoted, as the core writes them).
fn exec_start(service: &str) -> Vec<String> {
    let line = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    line.split("\" \"")
        .map(|a| a.trim_matches('"').to_string())
        .collect()
}

/// The command line as the desk's user runs it (their Patchbay home, keychain and practice
/// vendors).
fn as_the_user(desk: &Desk, program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args)
        .env("PATCHBAY_HOME", desk.home.path().join("patchbay"))
        .env("PATCHBAY_KEYCHAIN_SERVICE", &desk.service)
        .env("PATCHBAY_EMULATOR_URL", desk.emulator.base_url())
        .env("XDG_CONFIG_HOME", desk.home.path().join("xdg-config"))
        .env("XDG_DATA_HOME", desk.home.path().join("xdg-data"));
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_check_is_switched_on_runs_and_shows_its_last_run_on_home() {
    let desk = Desk::new().await;
    // A practice Aspire connection, made with the command line.
    let mut connect = as_the_user(
        &desk,
        workspace_bin("patchbay").to_str().unwrap(),
        &["connect", "aspire", "--env", "sandbox"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    use std::io::Write as _;
    connect
        .stdin
        .take()
        .unwrap()
        .write_all(b"9b1d2e3f-0000-4000-8000-1a2b3c4d5e6f\nS4ndb0xS3cretAAAAbbbbCCCCdddd123\n")
        .unwrap();
    assert!(connect.wait().unwrap().success(), "aspire connects");

    let fake = desk.home.path().join("fake-bin");
    let log = desk.home.path().join("systemctl.log");
    fake_systemctl(&fake, &log);
    let path = format!(
        "{}:{}:{}",
        fake.display(),
        desk.home.path().join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let app = desk.launch(&[("PATH", &path)]).await;
    app.get("home").await;
    let toggle = app.get("keep-fresh-toggle").await;
    assert_eq!(
        toggle.prop("checked").await.unwrap().as_deref(),
        Some("false")
    );
    app.click("keep-fresh-toggle").await;
    app.wait_text("keep-fresh-last-run", "has not run yet")
        .await;
    let units = desk.home.path().join("xdg-config/systemd/user");
    let service = std::fs::read_to_string(units.join("patchbay-keep-fresh.service")).unwrap();
    assert!(units.join("patchbay-keep-fresh.timer").is_file());
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains("--user daemon-reload")
            && calls.contains("--user enable --now patchbay-keep-fresh.timer"),
        "{calls}"
    );

    // The job runs: exactly what the unit says, as the user.
    let exec = exec_start(&service);
    assert_eq!(exec[1..], ["refresh", "--all", "--scheduled"]);
    assert!(Path::new(&exec[0]).ends_with("patchbay"), "{exec:?}");
    let args: Vec<&str> = exec[1..].iter().map(String::as_str).collect();
    let ran = as_the_user(&desk, &exec[0], &args).output().unwrap();
    assert!(ran.status.success(), "{ran:?}");

    // Home, shown again, says when it ran and what it found.
    app.click("add-connection").await;
    app.click("back-home").await;
    let line = app
        .wait_text("keep-fresh-last-run", "The daily check last ran")
        .await;
    assert!(line.contains("the connection works"), "{line}");
    assert!(
        !app.text("keep-fresh").await.contains("null"),
        "a stray null on Home"
    );
    app.screenshot("keep-fresh-on").await;

    // The vendor revokes the connection: the next daily run tells the admin on the desktop
    // (the notification seen on the session bus, where the system's notification service
    // would take it), and Home names the connection and the step to take.
    let bus = desk.home.path().join("notifications.log");
    let _monitor = Monitor::start(&bus);
    desk.admin(
        "faults",
        json!({"provider": "aspire", "endpoint": "any", "fault": "revoked"}),
    )
    .await;
    let ran = as_the_user(&desk, &exec[0], &args).output().unwrap();
    assert_eq!(ran.status.code(), Some(8), "{ran:?}");
    wait_in_file(
        &bus,
        "Aspire (Sandbox) needs you",
        WAIT,
        "the job's notification",
    )
    .await;
    wait_in_file(
        &bus,
        "Click Reconnect on Aspire in Patchbay",
        WAIT,
        "the step to take",
    )
    .await;
    app.click("add-connection").await;
    app.click("back-home").await;
    let needs = app
        .wait_text(
            "keep-fresh-needs-you",
            "Click Reconnect on Aspire in Patchbay",
        )
        .await;
    assert!(needs.contains("Aspire (Sandbox)"), "{needs}");
    let line = app.text("keep-fresh-last-run").await;
    assert!(
        line.contains("the connection needs you"),
        "only the last run counts: {line}"
    );
    app.screenshot("keep-fresh-needs-you").await;
    app.close().await;

    // Told once: the app started again says nothing more; had the job not been able to tell
    // (no one marked as told), the app does at its start.
    let told = |bus: &Path| {
        std::fs::read_to_string(bus)
            .unwrap_or_default()
            .matches("Aspire (Sandbox) needs you")
            .count()
    };
    let app = desk.launch(&[("PATH", &path)]).await;
    app.get("home").await;
    // Notices are taken before the window is shown; give a notification time to go out.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(told(&bus), 1, "told twice");
    app.close().await;
    let prefs = desk.home.path().join("patchbay/config/app.json");
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&prefs).unwrap()).unwrap();
    p["notified_through"] = json!(0);
    std::fs::write(&prefs, p.to_string()).unwrap();
    let app = desk.launch(&[("PATH", &path)]).await;
    app.get("home").await;
    let deadline = std::time::Instant::now() + WAIT;
    while told(&bus) < 2 {
        assert!(std::time::Instant::now() < deadline, "the app did not tell");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Off: the timer is disabled and the units removed.
    app.click("keep-fresh-toggle").await;
    app.wait_css("[data-testid=\"keep-fresh-toggle\"]:not(:checked):not([disabled])")
        .await;
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains("--user disable --now patchbay-keep-fresh.timer"),
        "{calls}"
    );
    assert!(!units.join("patchbay-keep-fresh.service").exists());
    assert!(!units.join("patchbay-keep-fresh.timer").exists());
    app.close().await;
}
