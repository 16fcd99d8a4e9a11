//! The Linux installer as `.ci/run` builds it (`tauri build --bundles deb`, release, as shipped):
//! its package fields, what it installs (the binary, the menu entry, the icons), and the
//! installed binary itself: `--version` without a display, then a real start to its first
//! painted screen. The package is unpacked into a scratch root with `dpkg-deb -x` (no root
//! rights, nothing touches the machine).

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use patchbay_test_support::{assert_says, docs};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use docs::repo;

fn config() -> Value {
    let text = std::fs::read_to_string(repo().join("src-tauri/tauri.conf.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// This build's target directory.
fn target() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .find(|p| p.join("release").is_dir() || p.join("debug").is_dir())
        .unwrap()
        .to_path_buf()
}

/// The newest Patchbay `.deb` in the release bundle folder of this target directory.
fn deb() -> PathBuf {
    docs::newest_deb(&target().join("release/bundle/deb"), "Patchbay_")
}

fn dpkg_deb(args: &[&str]) -> String {
    let out = Command::new("dpkg-deb").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The package unpacked into a fresh scratch root.
fn unpacked() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().to_path_buf();
    dpkg_deb(&["-x", deb().to_str().unwrap(), path.to_str().unwrap()]);
    (root, path)
}

#[test]
fn the_package_says_what_it_is_and_what_it_needs() {
    let conf = config();
    let field = |name: &str| {
        dpkg_deb(&["-f", deb().to_str().unwrap(), name])
            .trim()
            .to_string()
    };
    assert_eq!(field("Package"), "patchbay");
    assert_eq!(field("Version"), conf["version"].as_str().unwrap());
    assert_eq!(field("Architecture"), "amd64");
    assert_eq!(
        field("Maintainer"),
        conf["bundle"]["publisher"].as_str().unwrap()
    );
    let depends = field("Depends");
    assert_says(&depends, &["libwebkit2gtk-4.1-0", "libgtk-3-0"]);
    // The keychain (a Secret Service) and the browser launcher are what the app needs at run time.
    let recommends = field("Recommends");
    assert_says(&recommends, &["gnome-keyring", "xdg-utils"]);
    let description = field("Description");
    assert!(
        description.starts_with(conf["bundle"]["shortDescription"].as_str().unwrap()),
        "{description}"
    );
}

/// `path` (relative to the unpacked package's `root`) is a file the package installs.
fn installed(root: &Path, path: &str) -> PathBuf {
    let file = root.join(path);
    assert!(file.is_file(), "no {path} in the package");
    file
}

#[test]
fn it_installs_the_app_its_menu_entry_and_its_icons() {
    let (_root, root) = unpacked();
    installed(&root, "usr/bin/patchbay-app");
    let desktop = std::fs::read_to_string(root.join("usr/share/applications/Patchbay.desktop"))
        .expect("the menu entry usr/share/applications/Patchbay.desktop");
    assert_says(
        &desktop,
        &[
            "Name=Patchbay",
            "Exec=patchbay-app",
            "Icon=patchbay-app",
            "Categories=Office;",
        ],
    );
    for size in ["32x32", "128x128", "256x256@2"] {
        let icon = root.join(format!(
            "usr/share/icons/hicolor/{size}/apps/patchbay-app.png"
        ));
        assert!(icon.is_file(), "no {} icon: {}", size, icon.display());
    }
}

#[test]
fn the_shipped_binaries_have_no_test_switches() {
    let (_dir, root) = unpacked();
    for program in ["usr/bin/patchbay-app", "usr/bin/patchbay"] {
        let bytes = std::fs::read(root.join(program)).unwrap();
        for switch in [
            "PATCHBAY_PAUSE_AT",
            "PATCHBAY_CONNECT_WAIT_SECS",
            "PATCHBAY_LOCK_WAIT_SECS",
            "PATCHBAY_UPDATE_FEED",
            "PATCHBAY_UPDATE_PUBKEY",
        ] {
            assert!(
                !bytes.windows(switch.len()).any(|w| w == switch.as_bytes()),
                "{program}: the release build reads {switch}"
            );
        }
    }
}

/// The command line for admins and support people comes with the app: `/usr/bin/patchbay`, on
/// every terminal's PATH, answering `--version` and listing the systems with no keychain or
/// display needed.
#[test]
fn the_command_line_is_installed_with_the_app() {
    let (_dir, root) = unpacked();
    let cli = installed(&root, "usr/bin/patchbay");
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(&cli)
            .args(args)
            .env("PATCHBAY_HOME", home.path())
            .env_remove("DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let version = config()["version"].as_str().unwrap().to_string();
    assert_eq!(run(&["--version"]).trim(), format!("patchbay {version}"));
    let systems = run(&["providers"]);
    assert_says(
        &systems,
        &["quickbooks-time", "aspire", "quickbooks-online"],
    );
}

/// The command line goes into every installer the same way (`bundle.externalBin`, merged from
/// tauri.cli.conf.json by scripts/test.sh and the release workflow): here it arrived in
/// /usr/bin. The Windows installer's hooks put its folder on the user's PATH with a command the
/// installed CLI has (hidden from its help), which says elsewhere that it is for Windows.
#[test]
fn every_installer_carries_the_command_line_and_windows_puts_it_on_the_path() {
    let cli_conf: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("src-tauri/tauri.cli.conf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        cli_conf["bundle"]["externalBin"],
        serde_json::json!(["binaries/patchbay"])
    );
    let hooks_file = config()["bundle"]["windows"]["nsis"]["installerHooks"]
        .as_str()
        .unwrap()
        .to_string();
    let hooks = std::fs::read_to_string(repo().join("src-tauri").join(hooks_file)).unwrap();
    let macro_body = |name: &str| {
        let start = hooks
            .find(&format!("!macro {name}"))
            .unwrap_or_else(|| panic!("{name}"));
        hooks[start..hooks[start..].find("!macroend").unwrap() + start].to_string()
    };
    assert!(
        macro_body("NSIS_HOOK_POSTINSTALL")
            .contains(r#""$INSTDIR\patchbay.exe" path add "$INSTDIR""#)
    );
    assert!(
        macro_body("NSIS_HOOK_PREUNINSTALL")
            .contains(r#""$INSTDIR\patchbay.exe" path remove "$INSTDIR""#)
    );

    let (_dir, root) = unpacked();
    let cli = installed(&root, "usr/bin/patchbay");
    let out = Command::new(&cli)
        .args(["path", "add", r"C:\Users\Ann\AppData\Local\Patchbay"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("Windows installer"),
        "{said}"
    );
    let help = Command::new(&cli).arg("--help").output().unwrap();
    assert!(
        !String::from_utf8_lossy(&help.stdout).contains("path "),
        "a hidden command"
    );
}

/// The package is built for updates the way a release is (scripts/test.sh: a throwaway key and
/// scripts/updater-config.cjs): `tauri build` accepted the updater settings and signed the
/// package, and the installed app carries the public key and the feed it looks at.
#[test]
fn the_installed_app_carries_the_update_key_and_feed() {
    let (_dir, root) = unpacked();
    let key = std::fs::read_to_string(target().join("updater-test/key.pub")).unwrap();
    let app = std::fs::read(root.join("usr/bin/patchbay-app")).unwrap();
    for wanted in [
        key.trim(),
        "https://updates.example.com/patchbay/latest.json",
    ] {
        assert!(
            app.windows(wanted.len()).any(|w| w == wanted.as_bytes()),
            "the app does not carry {wanted}"
        );
    }
    let signature = PathBuf::from(format!("{}.sig", deb().display()));
    let text = std::fs::read_to_string(&signature)
        .unwrap_or_else(|e| panic!("{}: {e}", signature.display()));
    assert!(!text.trim().is_empty());
    // The release's configuration script refuses a feed that is not HTTPS.
    let out = Command::new("node")
        .current_dir(repo())
        .args([
            "scripts/updater-config.cjs",
            "KEY",
            "http://updates.example.com/latest.json",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an http:// feed was accepted");
}

#[test]
fn the_installed_binary_answers_version_without_a_display() {
    let (_root, root) = unpacked();
    let out = Command::new(root.join("usr/bin/patchbay-app"))
        .arg("--version")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("Patchbay {}", config()["version"].as_str().unwrap())
    );
}

#[test]
fn the_installed_app_starts_and_paints_its_first_screen() {
    let (_root, root) = unpacked();
    let home = tempfile::tempdir().unwrap();
    // This build carries an update key and feed (scripts/test.sh): the distributor's switch keeps
    // it from looking (nothing leaves this computer), which its log says.
    let distribution = home.path().join("distribution.toml");
    std::fs::write(&distribution, "[updates]\ncheck = false\n").unwrap();
    let mut child = Command::new(root.join("usr/bin/patchbay-app"))
        .env("PATCHBAY_HOME", home.path().join("patchbay"))
        .env("PATCHBAY_DISTRIBUTION", &distribution)
        .env("PATCHBAY_KEYCHAIN_SERVICE", "Patchbay-install-test")
        .env("PATCHBAY_LOG", "info")
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut painted = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            painted |= line.contains("first screen painted");
            seen.push(line);
            let decided = seen
                .iter()
                .any(|l| l.contains("updates are turned off in the distribution settings"));
            if painted && decided {
                let _ = tx.send(Ok(()));
                return;
            }
        }
        let _ = tx.send(Err(seen.join("\n")));
    });
    let result = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    match result {
        Ok(Ok(())) => {}
        Ok(Err(log)) => panic!("the installed app stopped before painting:\n{log}"),
        Err(_) => panic!("the installed app did not paint its first screen in 30 s"),
    }
}

/// A list of strings in the configuration (each entry must be one).
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_platform_has_its_bundle_settings_and_icons() {
    let conf = config();
    let bundle = &conf["bundle"];
    let targets = strings(&bundle["targets"]);
    for t in ["deb", "appimage", "msi", "nsis", "dmg", "app"] {
        assert!(
            targets.iter().any(|target| target == t),
            "bundle target {t} missing: {targets:?}"
        );
    }
    for field in [
        "publisher",
        "copyright",
        "shortDescription",
        "longDescription",
        "category",
    ] {
        assert!(
            bundle[field].as_str().is_some_and(|v| !v.trim().is_empty()),
            "bundle.{field} is empty"
        );
    }
    assert!(conf["identifier"].as_str().unwrap().contains('.'));
    // Every listed icon exists and is what its name says; Windows needs .ico, macOS .icns.
    let icons = strings(&bundle["icon"]);
    for icon in &icons {
        let path = repo().join("src-tauri").join(icon);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{icon}: {e}"));
        let magic: &[u8] = match path.extension().unwrap().to_str().unwrap() {
            "png" => b"\x89PNG",
            "ico" => b"\x00\x00\x01\x00",
            "icns" => b"icns",
            other => panic!("{icon}: unexpected icon type {other}"),
        };
        assert!(
            bytes.starts_with(magic),
            "{icon} is not a .{:?} file",
            path.extension()
        );
    }
    for ext in [
        ".ico",
        ".icns",
        "32x32.png",
        "128x128.png",
        "128x128@2x.png",
    ] {
        assert!(
            icons.iter().any(|i| i.ends_with(ext)),
            "no {ext} icon in {icons:?}"
        );
    }
    assert!(bundle["windows"]["nsis"].is_object() && bundle["windows"]["wix"].is_object());
    assert!(bundle["macOS"]["minimumSystemVersion"].is_string());
}

/// `tauri build`, which `.ci/run` runs, checks the whole configuration against the Tauri CLI's
/// own schema before building anything, the Windows and macOS sections included: a wrong value
/// in either stops it with the field named. (So the Windows and macOS settings are validated
/// here although only the Linux package is built.)
#[test]
fn tauri_build_refuses_a_wrong_windows_or_macos_setting() {
    let cli = repo().join("node_modules/.bin/tauri");
    assert!(
        cli.exists(),
        "{}: run `npm ci` first (scripts/test.sh does)",
        cli.display()
    );
    for (wrong, field) in [
        (
            r#"{"bundle":{"windows":{"nsis":{"installMode":"everyone"}}}}"#,
            "bundle > windows > nsis",
        ),
        (
            r#"{"bundle":{"macOS":{"minimumSystemVersion":11}}}"#,
            "bundle > macOS > minimumSystemVersion",
        ),
    ] {
        // A scratch target folder: should the check ever pass, nothing real is rebuilt, and
        // the build is stopped at the deadline.
        let scratch = tempfile::tempdir().unwrap();
        let mut child = Command::new(&cli)
            .current_dir(repo().join("src-tauri"))
            .args(["build", "--no-bundle", "--ci", "--config", wrong])
            .env("CARGO_TARGET_DIR", scratch.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("tauri build accepted {wrong} and started building");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = child.wait_with_output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{wrong} was accepted: {said}");
        assert!(
            said.contains(&format!("error on `{field}`")),
            "{wrong}: {said}"
        );
    }
}
