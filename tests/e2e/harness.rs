//! Launch the real app through tauri-driver (WebKitWebDriver) with a private home, keychain
//! service and emulator, and the browser launch intercepted by `BROWSER`.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use patchbay_emulator::{Emulator, EmulatorConfig};
use patchbay_test_support::{Answer as _, free_port};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);

pub use patchbay_test_support::workspace_bin;

/// Where screenshots go: `docs/screenshots` when the docs are being rewritten
/// (`PATCHBAY_WRITE_DOCS=1`), otherwise a scratch folder, so a plain run changes no file.
pub fn screenshots_dir() -> PathBuf {
    if std::env::var("PATCHBAY_WRITE_DOCS").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
    } else {
        std::env::temp_dir().join("patchbay-screenshots")
    }
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{program} is not on PATH (cargo install tauri-driver --version ^2)")
        })
}

/// One user's computer: a home folder, a keychain service and the vendors (emulator), kept
/// across app launches so "re-running the app" is real.
pub struct Desk {
    pub emulator: Emulator,
    pub home: tempfile::TempDir,
    pub service: String,
    pub browser_log: PathBuf,
}

impl Desk {
    pub async fn new() -> Desk {
        Desk::with_scale(patchbay_emulator::DataScale::small()).await
    }

    /// A desk whose vendors hold this much data.
    pub async fn with_scale(scale: patchbay_emulator::DataScale) -> Desk {
        let emulator = Emulator::start(EmulatorConfig {
            scale,
            ..Default::default()
        })
        .await
        .expect("emulator starts");
        let home = tempfile::tempdir().unwrap();
        let browser_log = home.path().join("browser.log");
        let service = format!("Patchbay-e2e-{}-{}", std::process::id(), free_port());
        Desk {
            emulator,
            home,
            service,
            browser_log,
        }
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        patchbay_test_support::emulator_admin(&self.emulator.base_url(), path, body).await
    }

    /// `GET /_emulator/{path}`: what the emulator keeps for the tests to read (the apps it knows,
    /// the codes it issued).
    pub async fn emulator_state(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/_emulator/{path}", self.emulator.base_url()))
            .answer()
            .await
    }

    /// `program` run as this desk's user: their Patchbay home, keychain service, practice
    /// vendors and desktop folders (the app gets the same through its drivers).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("PATCHBAY_HOME", self.home.path().join("patchbay"))
            .env("PATCHBAY_KEYCHAIN_SERVICE", &self.service)
            .env("PATCHBAY_EMULATOR_URL", self.emulator.base_url())
            .env("XDG_CONFIG_HOME", self.home.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.home.path().join("xdg-data"));
        cmd
    }

    /// Change what the app remembers between runs (`app.json` in Patchbay's config folder), as
    /// time passing would; the app is not running.
    pub fn edit_app_prefs(&self, edit: impl FnOnce(&mut Value)) {
        let prefs = self.home.path().join("patchbay/config/app.json");
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&prefs).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(&prefs, v.to_string()).unwrap();
    }

    /// Give this computer distribution settings (`distribution.toml` in Patchbay's config
    /// folder), as a distributor's installer would.
    pub fn distribution(&self, text: &str) {
        let dir = self.home.path().join("patchbay").join("config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("distribution.toml"), text).unwrap();
    }

    /// A PATH whose `xdg-open` opens URLs in Debian's headless Chromium, timers run
    /// (`tests/support/chromium.rs`): the app's browser launch goes through the OS's opener into
    /// a real browser. URLs are logged to the desk's browser log.
    pub fn chromium_path(&self) -> String {
        let bin = self.home.path().join("chromium-bin");
        patchbay_test_support::chromium::write_launcher(
            &bin.join("xdg-open"),
            &self.browser_log,
            None,
            true,
        );
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Start the app with `env` added to what every launch gets (an empty value removes one).
    pub async fn launch(&self, env: &[(&str, &str)]) -> App {
        let port = free_port();
        let log = self.home.path().join(format!("app-{port}.log"));
        // The OS routes "open this URL" through xdg-open, which prefers an installed desktop
        // browser over BROWSER when a display is set: a fake xdg-open first on PATH is the
        // machine-independent interception (BROWSER stays set for systems without xdg-open).
        let bin = self.home.path().join("bin");
        if !bin.join("xdg-open").exists() {
            std::fs::create_dir_all(&bin).unwrap();
            std::os::unix::fs::symlink(workspace_bin("fake-browser"), bin.join("xdg-open"))
                .unwrap();
        }
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // Resolved here: a test may give the app a PATH with nothing on it.
        let mut cmd = self.command(which("tauri-driver"));
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &free_port().to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .env("BROWSER", workspace_bin("fake-browser"))
        .env("PATH", &path)
        .env("FAKE_BROWSER_LOG", &self.browser_log)
        .stdout(Stdio::null())
        // The app's own stderr (its log) comes through the drivers: kept for the leak scan.
        .stderr(std::fs::File::create(&log).expect("app log file"))
        // Its own process group: WebKitWebDriver and the app go with it if the test fails.
        .process_group(0);
        // An empty value takes the variable away (`PATCHBAY_EMULATOR_URL`: practice mode off).
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let driver = cmd
            .spawn()
            .expect("tauri-driver runs (cargo install tauri-driver)");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({"application": workspace_bin("patchbay-app").to_string_lossy()}),
        );
        let session = tokio::time::timeout(
            WAIT,
            ClientBuilder::native()
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await;
        let session = match session {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(format!("no WebDriver session ({e})")),
            Err(_) => Err("the app did not start within 20 s".to_string()),
        };
        let mut driver = driver;
        let client = session.unwrap_or_else(|why| {
            // No App owns the drivers yet: end their group here, then say what the app said.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", driver.id())])
                .status();
            let _ = driver.wait();
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{why}; the app's log:\n{said}")
        });
        let app = App {
            client,
            driver,
            log,
            patchbay_home: self.home.path().join("patchbay"),
            closed: false,
        };
        app.client.set_window_size(1024, 700).await.ok();
        app
    }
}

impl Drop for Desk {
    /// On a failure, show what the "system browser" did: it is often the missing clue.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.browser_log)
                .unwrap_or_else(|_| "(the browser was never launched)".into());
            eprintln!("--- fake browser log\n{log}");
        }
    }
}

pub struct App {
    pub client: Client,
    driver: Child,
    /// What the app (and the drivers) wrote to stderr.
    pub log: PathBuf,
    /// The app's `PATCHBAY_HOME`: how its process is told from any other.
    patchbay_home: PathBuf,
    closed: bool,
}

impl App {
    /// End the driver's whole process group (tauri-driver, WebKitWebDriver, the app), then reap
    /// the driver: only then may its id (the group's id) be reused.
    fn end_group(&mut self) {
        // `--` first: procps' kill reads "-1234" after a signal name as more options (it once
        // sent SIGKILL to every process, as `kill -1`).
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}

impl Drop for App {
    /// A test that failed before [`App::close`] leaves no driver, WebDriver or app behind: they
    /// run in the driver's own process group, ended as a whole.
    fn drop(&mut self) {
        if !self.closed {
            self.end_group();
        }
    }
}

/// The processes whose environment has `PATCHBAY_HOME=home` (this desk's app).
fn app_processes(home: &Path) -> Vec<String> {
    let wanted = format!("PATCHBAY_HOME={}", home.display());
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let pid = e.file_name().to_string_lossy().into_owned();
                    pid.bytes().all(|b| b.is_ascii_digit()).then_some(pid)
                })
                .filter(|pid| {
                    let is_app = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                        .is_ok_and(|c| c.trim() == "patchbay-app");
                    is_app
                        && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                            env.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes())
                        })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl App {
    /// The process id of tauri-driver (the app runs below it); for the start-up benchmark.
    #[allow(dead_code)]
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// End the session and the drivers, and wait until the app itself has exited: the next
    /// launch would otherwise meet it through the single-instance plugin and hand over to it
    /// (seen in CI as a failed WebDriver session right after a relaunch).
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        // SIGKILL for the driver, not yet reaped: while it is a zombie its process id, and so
        // its group's, cannot be given to another process (this machine reuses ids quickly).
        let _ = self.driver.kill();
        let started = Instant::now();
        loop {
            let left = app_processes(&self.patchbay_home);
            if left.is_empty() {
                // WebKitWebDriver outlives tauri-driver: it goes with the group.
                self.end_group();
                self.closed = true;
                return;
            }
            let waited = started.elapsed();
            assert!(
                waited < Duration::from_secs(15),
                "the app ({left:?}) outlived its session and SIGKILL"
            );
            if waited > Duration::from_secs(10) {
                for pid in &left {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait for a visible element by `data-testid`.
    pub async fn get(&self, id: &str) -> Element {
        self.wait_css(&tid(id)).await
    }

    pub async fn wait_css(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && e.is_displayed().await.unwrap_or(false)
            {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no visible {css} within {WAIT:?}; page text:\n{}",
                self.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the first element matching `css` is on screen now (false when there is none).
    pub async fn shown(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    pub async fn all(&self, id: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(&tid(id)))
            .await
            .unwrap_or_default()
    }

    pub async fn click(&self, id: &str) {
        // A screen that re-renders (Home after "Check now") can replace the element between
        // finding and clicking it: find it again, a few times.
        let mut tries = 0;
        loop {
            let element = self.get(id).await;
            self.scroll_to_middle(&element).await;
            match element.click().await {
                Ok(_) => return,
                // WebKitWebDriver calls some buttons of a resized window "not interactable"
                // although they are on screen and on top: then the mouse clicks it, as a person.
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::ElementNotInteractable =>
                {
                    return self.mouse_click(&element).await;
                }
                // Found, then replaced before the click landed: "was not found", or a stale
                // element WebKitWebDriver reports with an empty message.
                Err(_) if tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("click {id}: {e}"),
            }
        }
    }

    /// Click an element with the real mouse (the X server) at its centre.
    async fn mouse_click(&self, element: &Element) {
        let rect = self
            .client
            .execute(
                // CSS pixels to the window's, at any zoom.
                "const r = arguments[0].getBoundingClientRect(); const z = window.outerWidth / window.innerWidth; \
                 return [Math.round((r.x + r.width / 2) * z), Math.round((r.y + r.height / 2) * z)];",
                vec![serde_json::to_value(element).unwrap_or_default()],
            )
            .await
            .expect("the element's place");
        let (x, y) = (rect[0].to_string(), rect[1].to_string());
        let window = wait_window("Patchbay");
        xdotool(&["mousemove", "--window", &window, &x, &y, "click", "1"]);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Scroll an element to the middle of the window, as a person scrolls to what they click:
    /// a guide step keeps its Back/Next bar at the window's bottom edge, over what scrolls
    /// beneath it.
    async fn scroll_to_middle(&self, element: &Element) {
        let _ = self
            .client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'}); return true;",
                vec![serde_json::to_value(element).unwrap_or_default()],
            )
            .await;
    }

    pub async fn click_css(&self, css: &str) {
        self.wait_css(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn text(&self, id: &str) -> String {
        self.get(id).await.text().await.unwrap_or_default()
    }

    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Wait until the element's text contains `needle`.
    pub async fn wait_text(&self, id: &str, needle: &str) -> String {
        eventually(WAIT, async || {
            let t = self.text(id).await;
            if t.contains(needle) {
                Ok(t)
            } else {
                Err(format!("{id} never showed {needle:?}; it shows:\n{t}"))
            }
        })
        .await
    }

    /// The value of a field (an input or a select), by `data-testid`.
    pub async fn value(&self, id: &str) -> String {
        self.get(id)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// The checklist item's state once it is `state`, with its text.
    pub async fn wait_item(&self, item: &str, state: &str) -> String {
        let css = format!(
            "[data-testid=\"checklist-item\"][data-item-id=\"{item}\"][data-state=\"{state}\"]"
        );
        self.wait_css(&css).await.text().await.unwrap_or_default()
    }

    pub async fn attr(&self, id: &str, name: &str) -> Option<String> {
        self.get(id).await.attr(name).await.ok().flatten()
    }

    pub async fn screenshot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(250)).await; // let transitions settle
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Put text on the system clipboard and paste it into a field with Ctrl+V, as a user does.
    pub async fn paste_into(&self, id: &str, text: &str) {
        set_clipboard(text);
        let field = self.get(id).await;
        self.scroll_to_middle(&field).await;
        field.click().await.unwrap();
        // A real Ctrl+V from the X server, as a keyboard sends it (WebKitWebDriver's own key
        // input ends with a NULL that it types into the field).
        xdotool(&["key", "--clearmodifiers", "ctrl+v"]);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Press keys on the real keyboard (the X server), into the app's window, which gets the
    /// focus first: `keys` as xdotool names them ("Tab", "Return", "ctrl+equal").
    pub async fn keys(&self, keys: &[&str]) {
        let window = wait_window("Patchbay");
        // Bounded: `--sync` waits for the focus to arrive, which a window manager may withhold.
        let _ = Command::new("timeout")
            .args(["5", "xdotool", "windowfocus", "--sync", &window])
            .status();
        for key in keys {
            xdotool(&["key", "--clearmodifiers", key]);
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Runs `js` in the page; its answer.
    pub async fn run_js(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap()
    }

    /// The focused element: its own `data-testid`, or its label's (a radio inside its label).
    pub async fn focused(&self) -> String {
        let js = "const e = document.activeElement; const t = e && e.closest('[data-testid]'); \
                  return t ? t.dataset.testid + (t.dataset.provider ? ':' + t.dataset.provider : '') \
                  + (t.dataset.environment ? ':' + t.dataset.environment : '') : '';";
        let v = self.client.execute(js, vec![]).await.unwrap_or_default();
        v.as_str().unwrap_or_default().to_string()
    }

    /// Press `key` until the focused element is `target` (as [`App::focused`] names it), as a
    /// keyboard user does: a control Tab never reaches fails the test.
    pub async fn key_to(&self, key: &str, target: &str) {
        for _ in 0..40 {
            if self.focused().await == target {
                return;
            }
            self.keys(&[key]).await;
        }
        panic!(
            "{key} never reached {target}; focus is on {:?}; page text:\n{}",
            self.focused().await,
            self.page_text().await
        );
    }

    /// Close a native dialog titled with `title` with Escape, as a person who changed their mind.
    pub async fn dismiss_window(&self, title: &str) {
        let window = wait_window(title);
        xdotool(&["windowfocus", "--sync", &window]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&["key", "Escape"]);
        self.wait_closed(title).await;
    }

    async fn wait_closed(&self, title: &str) {
        until(&format!("the window {title:?} did not close"), async || {
            visible_windows(title).is_empty()
        })
        .await;
    }

    /// Choose `folder` in the system's folder picker (GTK's file chooser, titled with `title`)
    /// as a person does from the keyboard: Ctrl+L, type the path, Enter. Waits until it closes.
    pub async fn choose_folder(&self, title: &str, folder: &Path) {
        // No trailing slash: the folder itself is chosen, not opened.
        self.type_in_dialog(title, "ctrl+l", folder, Some("32-folder-picker"))
            .await;
    }

    /// Save to `file` in the system's save dialog (GTK's file chooser, titled with `title`) as a
    /// person does from the keyboard: select the suggested name, type the whole path, Enter.
    pub async fn save_as(&self, title: &str, file: &Path) {
        self.type_in_dialog(title, "ctrl+a", file, None).await;
    }

    /// Focus the native dialog titled `title`, press `keys`, type `path`, take the whole X
    /// screen as `shot` if asked (the dialog is outside the webview's screenshot), press Enter,
    /// and wait until the dialog closes.
    async fn type_in_dialog(&self, title: &str, keys: &str, path: &Path, shot: Option<&str>) {
        let window = wait_window(title);
        xdotool(&["windowfocus", "--sync", &window]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        xdotool(&["key", "--clearmodifiers", keys]);
        xdotool(&["type", "--delay", "10", &path.display().to_string()]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Some(shot) = shot {
            let _ = std::fs::create_dir_all(screenshots_dir());
            let _ = Command::new("import")
                .args(["-window", "root"])
                .arg(screenshots_dir().join(format!("{shot}.png")))
                .status();
        }
        xdotool(&["key", "Return"]);
        self.wait_closed(title).await;
    }
}

/// The ids of the visible X windows whose title contains `title`.
fn visible_windows(title: &str) -> Vec<String> {
    Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Look every 100 ms until `look` sees what it waits for (`Ok`, with what it saw), for at most
/// `within`; then fail with what the last look said (`Err`).
pub async fn eventually<T>(
    within: Duration,
    mut look: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match look().await {
            Ok(seen) => return seen,
            Err(why) => assert!(Instant::now() < deadline, "{why}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until `done` (looked at every 100 ms, for at most [`WAIT`]); then fail saying `what`.
pub async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    eventually(WAIT, async || {
        if done().await {
            Ok(())
        } else {
            Err(what.to_string())
        }
    })
    .await;
}

/// Wait until the file at `path` (a log the app or the fake browser writes) contains `needle`;
/// after `within`, fail saying `what` did not happen.
pub async fn wait_in_file(path: &Path, needle: &str, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while !std::fs::read_to_string(path)
        .unwrap_or_default()
        .contains(needle)
    {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait for a visible window whose title contains `title` (a native dialog the app opened).
fn wait_window(title: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(id) = visible_windows(title).pop() {
            return id;
        }
        assert!(Instant::now() < deadline, "no window titled {title:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn xdotool(args: &[&str]) {
    let status = Command::new("xdotool")
        .args(args)
        .status()
        .expect("xdotool is installed");
    assert!(status.success(), "xdotool {args:?}");
}

/// The X clipboard, through xclip (a separate process owns the selection until replaced).
pub fn set_clipboard(text: &str) {
    use std::io::Write;
    let mut child = Command::new("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xclip is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait().unwrap();
}

pub fn clipboard() -> String {
    let out = Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .output()
        .expect("xclip is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
