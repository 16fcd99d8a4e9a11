//! Patchbay's desktop app: a thin Tauri 2 shell over `patchbay-core`. It wires the window, the
//! official plugins (single instance, window state, opener, clipboard, dialog, updater,
//! notification) and the commands; every
//! business decision lives in the core.

mod commands;
mod updates;

use patchbay_core::app::{App, Options, PracticeMode};
use tauri::{Builder, Manager};

/// When `run` was entered: start-up is timed from here (the benchmark times from the exec).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Milliseconds since `run` began.
pub(crate) fn since_start_ms() -> u128 {
    STARTED.get().map_or(0, |t| t.elapsed().as_millis())
}

/// A start-up milestone in the debug log, with the time since `run` began.
pub(crate) fn startup_mark(what: &str) {
    tracing::debug!(ms = since_start_ms(), "start-up: {what}");
}

/// Start the app.
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    patchbay_core::logging::init(patchbay_core::logging::APP, "info");
    let result = Builder::default()
        // First, so a second launch only brings the running window forward.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(
            tauri::plugin::Builder::<tauri::Wry, ()>::new("navigation-guard")
                .on_navigation(|_webview, url| {
                    let allowed = is_app_url(url);
                    if !allowed {
                        tracing::warn!(
                            scheme = url.scheme(),
                            "blocked a navigation away from the app"
                        );
                    }
                    allowed
                })
                .build(),
        )
        .setup(|app| {
            startup_mark("setup");
            let state = tauri::async_runtime::block_on(start())
                .map_err(|e| -> Box<dyn std::error::Error> { e.detailed().into() })?;
            app.manage(state);
            app.manage(updates::Updates::default());
            startup_mark("state ready");
            // What the daily job found that only the admin can fix, if nobody told them yet.
            for n in app.state::<App>().take_notices() {
                use tauri_plugin_notification::NotificationExt as _;
                if let Err(e) = app
                    .notification()
                    .builder()
                    .title(&n.title)
                    .body(&n.body)
                    .show()
                {
                    tracing::warn!(error = %e, "could not show a notification");
                }
            }
            // The day's look for an update, in the background (Home shows what it finds).
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                updates::offer(&handle).await;
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_state,
            commands::set_practice,
            commands::systems,
            commands::guide,
            commands::clean_field,
            commands::connect,
            commands::cancel_connect,
            commands::paste_address,
            commands::reopen_browser,
            commands::copy,
            commands::connections,
            commands::check_connection,
            commands::disconnect,
            commands::keep_fresh,
            commands::set_keep_fresh,
            commands::about,
            commands::update_offer,
            commands::install_update,
            commands::licenses,
            commands::open_help,
            commands::save_report,
            commands::open_log_folder,
            commands::preview,
            commands::cancel_preview,
            commands::save_export,
            commands::mappings,
            commands::save_mappings,
            commands::painted,
        ])
        .build(tauri::generate_context!())
        .map(|app| {
            app.run(|handle, event| {
                // The previews' CSV files are temporary: the admin's saved copies are theirs.
                if let tauri::RunEvent::Exit = event
                    && let Some(state) = handle.try_state::<App>()
                {
                    state.remove_staging();
                }
            })
        });
    if let Err(e) = result {
        let why = e.to_string();
        if start_again(&why, std::env::var_os(STARTED_AGAIN).is_some()) {
            tracing::warn!("the Patchbay this start found was closing meanwhile: starting again");
            let e = run_again();
            tracing::warn!(error = %e, "could not start again");
        }
        let message = startup_failure(&why);
        eprintln!("{message}");
        tell_the_admin(&message);
        std::process::exit(1);
    }
}

/// Set on the one second try of a start (see [`start_again`]).
const STARTED_AGAIN: &str = "PATCHBAY_STARTED_AGAIN";

/// Whether a failed start gets one more try: the Patchbay it found running, to hand over to (the
/// app is single-instance), was closing meanwhile and never answered. The admin closed the window
/// and opened it again at once; the second try finds nobody running and starts.
fn start_again(why: &str, already_again: bool) -> bool {
    !already_again && why.contains("failed to forward arguments to the running instance")
}

/// This program started again after a moment, with the same arguments; returns only if it could
/// not be.
fn run_again() -> std::io::Error {
    std::thread::sleep(std::time::Duration::from_millis(500));
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    let mut again = std::process::Command::new(exe);
    again
        .args(std::env::args_os().skip(1))
        .env(STARTED_AGAIN, "1");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        again.exec()
    }
    #[cfg(not(unix))]
    match again.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e,
    }
}

/// What the admin is told when Patchbay cannot start, with where its log is.
fn startup_failure(why: &str) -> String {
    let logs = patchbay_core::settings::Paths::from_env()
        .map(|p| format!(" Its log is in {}.", p.log_dir.display()))
        .unwrap_or_default();
    format!(
        "Patchbay could not start: {why}\n\nStart it again; if this happens again, send this message to whoever supports Patchbay.{logs}"
    )
}

/// Windows and macOS apps have no terminal the admin sees: the message goes in the system's own
/// box. (Elsewhere the terminal or the desktop's log has it.)
#[cfg(any(windows, target_os = "macos"))]
fn tell_the_admin(message: &str) {
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Patchbay could not start")
        .set_description(message)
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
}

#[cfg(not(any(windows, target_os = "macos")))]
fn tell_the_admin(_message: &str) {}

/// The window's app: the built-in catalog; a keychain or distribution file that cannot be used is
/// said on Home instead of stopping; practice mode as the environment asks or as last left.
async fn start() -> patchbay_core::Result<App> {
    App::start(Options {
        paths: patchbay_core::settings::Paths::from_env()?,
        catalog: patchbay_core::Catalog::builtin()?,
        // Side-by-side test runs use their own service name.
        keychain_service: std::env::var("PATCHBAY_KEYCHAIN_SERVICE")
            .unwrap_or_else(|_| patchbay_core::KEYCHAIN_SERVICE.to_string()),
        without_keychain: true,
        without_distribution: true,
        practice: PracticeMode::from_env()?,
        remember_practice: true,
    })
    .await
}

/// The webview may only show the app's own pages (`tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows). Everything else, a link or a redirect or a script
/// setting `location`, is refused; vendor pages open in the system browser, from Rust.
pub fn is_app_url(url: &url::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", Some("localhost")) => true,
        ("http" | "https", Some("tauri.localhost")) => url.port().is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_app_url, start_again, startup_failure};

    #[test]
    fn a_start_that_found_a_closing_patchbay_is_tried_once_more() {
        let lost = "failed to initialize plugin `single-instance`: failed to forward arguments to the running instance: org.freedesktop.DBus.Error.NoReply: Message recipient disconnected from message bus without replying";
        assert!(start_again(lost, false));
        assert!(!start_again(lost, true), "one more try, not a loop");
        assert!(!start_again("the keychain file is damaged", false));
    }

    #[test]
    fn a_start_up_failure_says_why_what_to_do_and_where_the_log_is() {
        let m = startup_failure("the window could not be created");
        assert!(m.starts_with("Patchbay could not start: the window could not be created"));
        assert!(
            m.contains("Start it again") && m.contains("Its log is in"),
            "{m}"
        );
    }

    #[test]
    fn only_the_apps_own_pages_can_be_shown() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html",
            "http://tauri.localhost/index.html",
            "https://tauri.localhost/",
        ] {
            assert!(is_app_url(&ok.parse().unwrap()), "{ok}");
        }
        for blocked in [
            "https://appcenter.intuit.com/connect/oauth2",
            "http://localhost:8765/callback?code=x",
            "http://127.0.0.1:1420/",
            "http://tauri.localhost.evil.example/",
            "http://tauri.localhost:8080/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "about:blank",
        ] {
            assert!(!is_app_url(&blocked.parse().unwrap()), "{blocked}");
        }
    }
}
