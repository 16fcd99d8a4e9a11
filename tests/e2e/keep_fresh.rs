//! "Keep my connections fresh" end to end: the real app registers the daily job with the
//! system's scheduler (systemd user units here; `systemctl` is intercepted on PATH, as the
//! browser launch is, because this machine runs no systemd user session), the job runs the
//! command line the unit names, and Home shows what it found; a connection only the admin can
//! fix is told on the desktop once (by the job, or by the app when it starts); switching it off
//! removes the job.

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use patchbay_e2e::harness::{App, Desk, WAIT, until, wait_in_file, workspace_bin};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// Home, shown again (to Choose and back): it reads what the daily job left since.
async fn home_again(app: &App) {
    app.click("add-connection").await;
    app.click("back-home").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_check_is_switched_on_runs_and_shows_its_last_run_on_home() {
    let desk = Desk::new().await;
    // A practice Aspire connection, made with the command line.
    let mut connect = desk
        .command(workspace_bin("patchbay"))
        .args(["connect", "aspire", "--env", "sandbox"])
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
    let run_the_job = || desk.command(&exec[0]).args(&exec[1..]).output().unwrap();
    let ran = run_the_job();
    assert!(ran.status.success(), "{ran:?}");

    // Home, shown again, says when it ran and what it found.
    home_again(&app).await;
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
    let ran = run_the_job();
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
    home_again(&app).await;
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
    desk.edit_app_prefs(|p| p["notified_through"] = json!(0));
    let app = desk.launch(&[("PATH", &path)]).await;
    app.get("home").await;
    until("the app did not tell", async || told(&bus) >= 2).await;

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
