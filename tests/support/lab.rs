//! The CLI lab: a private emulator per test, a private Patchbay home and keychain service, and
//! the real `patchbay` binary with the real browser-launch path intercepted by `BROWSER`.

use patchbay_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub use crate::{Answer, callback_port, free_port, workspace_bin};

/// The `patchbay` command line, as built next to the tests.
pub fn cli() -> PathBuf {
    workspace_bin("patchbay")
}

pub struct Lab {
    pub emulator: Emulator,
    pub home: tempfile::TempDir,
    pub port: u16,
    pub service: String,
    pub http: reqwest::Client,
    pub browser_log: PathBuf,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Output {
    /// The command exited with `code`.
    #[track_caller]
    pub fn exits(&self, code: i32) -> &Output {
        assert_eq!(self.code, code, "{self:?}");
        self
    }

    /// Its standard output says `words`.
    #[track_caller]
    pub fn says(&self, words: &str) -> &Output {
        self.shows("stdout", &self.stdout, words)
    }

    /// Its standard error says `words`.
    #[track_caller]
    pub fn warns(&self, words: &str) -> &Output {
        self.shows("stderr", &self.stderr, words)
    }

    #[track_caller]
    fn shows(&self, stream: &str, text: &str, words: &str) -> &Output {
        assert!(text.contains(words), "{stream} lacks {words:?}: {self:?}");
        self
    }
}

impl Lab {
    pub async fn new() -> Lab {
        Lab::with_scale(patchbay_emulator::DataScale::small()).await
    }

    /// A lab whose vendors hold this much data.
    pub async fn with_scale(scale: patchbay_emulator::DataScale) -> Lab {
        let port = callback_port();
        let emulator = Emulator::start(EmulatorConfig {
            seed_practice_apps: false,
            scale,
            // The hosted relay forwards to this lab's listener, as a distributor sets it.
            relay_callback: format!("http://localhost:{port}/callback"),
            ..Default::default()
        })
        .await
        .expect("emulator starts");
        let home = tempfile::tempdir().unwrap();
        let browser_log = home.path().join("browser.log");
        Lab {
            emulator,
            port,
            service: format!("Patchbay-test-{}", uuid_like()),
            http: reqwest::Client::new(),
            browser_log,
            home,
        }
    }

    pub fn base(&self) -> String {
        self.emulator.base_url()
    }

    /// The redirect an app of `system` registers: this lab's Callback URL, or none for Aspire's
    /// keys (no browser step).
    pub fn callback_for(&self, system: &str) -> String {
        match system {
            "aspire" => String::new(),
            _ => self.callback(),
        }
    }

    pub fn callback(&self) -> String {
        format!("http://localhost:{}/callback", self.port)
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        crate::emulator_admin(&self.base(), path, body).await
    }

    /// Register an app at the emulator; returns (client_id, client_secret).
    pub async fn app(&self, provider: &str, environment: &str, redirect: &str) -> (String, String) {
        let a = self.admin("apps", json!({"provider": provider, "environment": environment, "redirect_uris": [redirect]})).await;
        (
            a["client_id"].as_str().unwrap().to_string(),
            a["client_secret"].as_str().unwrap().to_string(),
        )
    }

    pub async fn fault(&self, provider: &str, endpoint: &str, fault: &str, extra: Value) {
        let mut body = json!({"provider": provider, "endpoint": endpoint, "fault": fault});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.admin("faults", body).await;
    }

    pub async fn settings(&self, body: Value) {
        self.admin("settings", body).await;
    }

    /// `GET /_emulator/<path>` as JSON (stats, settings, apps).
    pub async fn emulator_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/_emulator/{path}", self.base()))
            .answer()
            .await
    }

    pub async fn stats(&self) -> Value {
        self.emulator_json("stats").await
    }

    /// How many calls of one kind (`refresh`, `token`, `api`, …) the emulated `system` has seen.
    pub async fn calls(&self, system: &str, kind: &str) -> u64 {
        self.stats().await[system][kind].as_u64().unwrap_or(0)
    }

    /// Connect `provider` (practice) in-process with these keys; the browser step is walked by
    /// the fake browser, as the OS would launch it.
    pub async fn connect_in_process(
        &self,
        connections: &patchbay_core::Connections,
        provider: &str,
        environment: &str,
        (client_id, secret): (&str, &str),
    ) -> patchbay_core::Result<patchbay_core::connections::ConnectionStatus> {
        let fields = std::collections::BTreeMap::from([
            ("client_id".to_string(), client_id.to_string().into()),
            ("client_secret".to_string(), secret.to_string().into()),
        ]);
        let browser = FakeBrowser {
            log: self.browser_log.clone(),
        };
        let events = |_e| {};
        let hooks = patchbay_core::ConnectHooks {
            browser: &browser,
            events: &events,
            cancel: Default::default(),
            pasted: None,
            deadline: Duration::from_secs(20),
        };
        let request = patchbay_core::ConnectRequest {
            provider: provider.into(),
            environment: Some(environment.into()),
            practice: true,
            fields,
            catalog_file: None,
            redirect_page: None,
        };
        connections.connect(request, hooks).await
    }

    /// Patchbay's connections in-process, over this lab's home, keychain service, emulator
    /// and callback port: what the app holds.
    pub fn connections(&self) -> patchbay_core::Connections {
        self.connections_with(std::sync::Arc::new(self.keychain()))
    }

    /// [`Lab::connections`] over another store (the real keychain behind a test's own door).
    pub fn connections_with(
        &self,
        store: std::sync::Arc<dyn patchbay_core::store::SecretStore>,
    ) -> patchbay_core::Connections {
        let mut catalog = patchbay_core::Catalog::builtin().unwrap();
        catalog.set_callback_port(self.port);
        patchbay_core::Connections::new(
            catalog,
            store,
            patchbay_core::settings::Paths::under(self.home.path()),
            Some(url::Url::parse(&self.base()).unwrap()),
        )
        .unwrap()
    }

    /// The CLI with this lab's environment: private home and keychain service, the emulator,
    /// the callback port, and the fake browser as `BROWSER`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(cli());
        c.args(args)
            .env("PATCHBAY_HOME", self.home.path())
            .env("PATCHBAY_KEYCHAIN_SERVICE", &self.service)
            .env("PATCHBAY_EMULATOR_URL", self.base())
            .env("PATCHBAY_CALLBACK_PORT", self.port.to_string())
            .env("BROWSER", workspace_bin("fake-browser"))
            .env("FAKE_BROWSER_LOG", &self.browser_log)
            .env_remove("PATCHBAY_CATALOG")
            .env_remove("PATCHBAY_DISTRIBUTION")
            .env_remove("PATCHBAY_LOG");
        c
    }

    /// `patchbay connect <args> --no-browser` (no `BROWSER` either) with the keys typed in,
    /// waiting at the browser step: the running command and the sign-in link it printed (the
    /// line containing `authorize_path`).
    pub fn connect_waiting(
        &self,
        args: &[&str],
        keys: (&str, &str),
        authorize_path: &str,
    ) -> (Running, String) {
        let mut all = vec!["connect"];
        all.extend(args);
        all.push("--no-browser");
        let mut cmd = self.command(&all);
        cmd.env_remove("BROWSER");
        let mut run = Running::start(cmd);
        writeln!(run.stdin, "{}\n{}", keys.0, keys.1).unwrap();
        let link = run.expect_line(authorize_path).trim().to_string();
        (run, link)
    }

    /// Write this lab's distribution settings (`distribution.toml` in its config folder).
    pub fn distribution(&self, text: &str) {
        let dir = patchbay_core::settings::Paths::under(self.home.path()).config_dir;
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("distribution.toml"), text).unwrap();
    }

    /// Debian's headless Chromium as `BROWSER` for the CLI (`tests/support/chromium.rs`); the
    /// last page's DOM goes to `<home>/chromium.dom` (see [`Lab::chromium_dom`]).
    pub fn chromium(&self, run_timers: bool) -> PathBuf {
        let script = self.home.path().join("chromium-browser.sh");
        crate::chromium::write_launcher(
            &script,
            &self.browser_log,
            Some(&self.home.path().join("chromium.dom")),
            run_timers,
        );
        script
    }

    /// What Chromium's last page showed (see [`Lab::chromium`]), waiting for it up to 30 s.
    pub fn chromium_dom(&self) -> String {
        let path = self.home.path().join("chromium.dom");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && text.contains("</html>")
            {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Chromium wrote no page to {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Run the CLI to completion with `stdin`, bounded in time.
    pub fn run_with(&self, cmd: Command, stdin: &str) -> Output {
        run_to_end(cmd, stdin)
    }

    /// `patchbay connect <system> --env <env>` with the keys typed in.
    pub async fn connect(&self, system: &str, env: &str, client_id: &str, secret: &str) -> Output {
        let keys = format!("{client_id}\n{secret}\n");
        self.run_async(&["connect", system, "--env", env], &keys)
            .await
    }

    /// An app registered at the emulator with this lab's Callback URL where the system has a
    /// browser step; its keys.
    pub async fn app_for(&self, system: &str, env: &str) -> (String, String) {
        self.app(system, env, &self.callback_for(system)).await
    }

    /// An app registered at the emulator (as [`Lab::app_for`]) and connected through the CLI;
    /// its keys.
    pub async fn connected(&self, system: &str, env: &str) -> (String, String) {
        let (id, secret) = self.app_for(system, env).await;
        let out = self.connect(system, env, &id, &secret).await;
        assert_eq!(out.code, 0, "{system} connects: {out:?}");
        (id, secret)
    }

    /// Run a CLI command from async tests without blocking the runtime.
    pub async fn run_async(&self, args: &[&str], stdin: &str) -> Output {
        let cmd = self.command(args);
        let stdin = stdin.to_string();
        tokio::task::spawn_blocking(move || run_to_end(cmd, &stdin))
            .await
            .unwrap()
    }

    pub fn keychain(&self) -> patchbay_core::store::Keychain {
        patchbay_core::store::Keychain::open(&self.service).expect("keychain available in tests")
    }
}

/// Run `cmd` to completion with `stdin`, bounded in time.
fn run_to_end(mut cmd: Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("patchbay runs");
    let mut sin = child.stdin.take().unwrap();
    sin.write_all(stdin.as_bytes()).unwrap();
    drop(sin);
    wait_bounded(child, Duration::from_secs(60))
}

/// Opens the authorize page the way the OS would: a separate `fake-browser` process.
pub struct FakeBrowser {
    pub log: PathBuf,
}

impl patchbay_core::Browser for FakeBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        Command::new(workspace_bin("fake-browser"))
            .arg(url)
            .env("FAKE_BROWSER_LOG", &self.log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Spawn the CLI and hand back its stderr line by line while it runs.
pub struct Running {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub stdin: std::process::ChildStdin,
    seen: std::sync::Mutex<Vec<String>>,
}

impl Running {
    pub fn start(mut cmd: Command) -> Running {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("patchbay runs");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take().unwrap();
        Running {
            child,
            lines: rx,
            stdin,
            seen: Default::default(),
        }
    }

    /// Wait for a stderr line containing `needle`; returns it.
    pub fn expect_line(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = self.seen.lock().unwrap();
        while std::time::Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
        }
        panic!(
            "no line with {needle:?} within 30 s; saw:\n{}",
            seen.join("\n")
        );
    }

    pub fn finish(mut self) -> Output {
        drop(self.stdin);
        // Everything on stderr, including what `expect_line` already read.
        let mut rest = std::mem::take(&mut *self.seen.lock().unwrap());
        let mut stdout = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut stdout);
        }
        let status = self.child.wait().unwrap();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            rest.push(l);
        }
        Output {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: rest.join("\n"),
        }
    }
}

fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait().unwrap() {
            Some(_) => break,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                panic!("patchbay did not finish within {limit:?}");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}-{}", n, std::process::id())
}

/// The JSON `patchbay status --json` prints.
pub fn status_json(out: &Output) -> Vec<Value> {
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str::<Vec<Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("status --json: {e}: {out:?}"))
}

/// Every file below `dir` with its contents (lossy UTF-8), for searches of what was written.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                found.push((p, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    found
}
