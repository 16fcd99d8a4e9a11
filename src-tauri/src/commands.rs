//! The commands the webview may call (and nothing else: see capabilities/main.json). Each is a
//! few lines of wiring over the core's [`App`]; what only a window has (the clipboard, the
//! system's dialogs and file manager, channels to the page) is here. Errors cross the IPC
//! boundary as `{kind, message}`.

use patchbay_core::app::views::{
    About, AppInfo, ConnectUpdate, CopyItem, FieldReport, Guide, SavedExport, System,
};
use patchbay_core::app::{App, ConnectFailure, ConnectOrder, Export};
use patchbay_core::checklist::ChecklistItem;
use patchbay_core::connections::{ConnectionStatus, DEFAULT_DEADLINE, Revocation};
use patchbay_core::history::Trigger;
use patchbay_core::mappings::MappingChoices;
use patchbay_core::preview::{ListResult, PreviewEvent};
use patchbay_core::{Browser, Error, ErrorKind};
use secrecy::SecretString;
use serde::Serialize;
use std::collections::BTreeMap;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

/// An error as the webview sees it; a failed connect also carries the failed checks, so the
/// step can say the problem once, with its fix, where the admin is looking.
#[derive(Debug, Serialize)]
pub struct IpcError {
    kind: ErrorKind,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed: Vec<ChecklistItem>,
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        IpcError::from(ConnectFailure {
            error: e,
            failed: Vec::new(),
        })
    }
}

impl From<ConnectFailure> for IpcError {
    fn from(f: ConnectFailure) -> Self {
        tracing::warn!(kind = %f.error.kind(), error = %f.error.detailed(), "command failed");
        IpcError {
            kind: f.error.kind(),
            message: f.error.message().to_string(),
            failed: f.failed,
        }
    }
}

type Reply<T> = Result<T, IpcError>;

/// The first screen is on the glass (the page calls this two animation frames after putting it
/// in place): logged once, with the time since the process started, and at debug level the page's
/// own milestones. The start-up benchmark reads the first line.
#[tauri::command]
pub fn painted(page: Option<BTreeMap<String, f64>>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::info!(ms = crate::since_start_ms(), "first screen painted");
        // The page's own milestones, in ms since its navigation started.
        tracing::debug!(?page, "start-up: page milestones");
    });
}

#[tauri::command]
pub async fn app_state(app: State<'_, App>) -> Reply<AppInfo> {
    crate::startup_mark("app_state called");
    Ok(app.info().await?)
}

#[tauri::command]
pub async fn set_practice(app: State<'_, App>, on: bool) -> Reply<AppInfo> {
    app.set_practice(on).await?;
    Ok(app.info().await?)
}

#[tauri::command]
pub fn systems(app: State<'_, App>) -> Vec<System> {
    crate::startup_mark("systems called");
    app.systems()
}

#[tauri::command]
pub async fn guide(
    app: State<'_, App>,
    provider: String,
    environment: String,
    redirect_page: Option<String>,
) -> Reply<Guide> {
    Ok(app
        .guide(&provider, &environment, redirect_page.as_deref())
        .await?)
}

#[tauri::command]
pub fn clean_field(
    app: State<'_, App>,
    provider: String,
    field: String,
    raw: String,
) -> Reply<FieldReport> {
    Ok(app.clean_field(&provider, &field, &raw)?)
}

/// The system browser through tauri-plugin-opener (the webview has no opener permission).
struct SystemBrowser<R: Runtime>(AppHandle<R>);

impl<R: Runtime> Browser for SystemBrowser<R> {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| e.to_string())
    }
}

/// Five minutes for the browser's answer. Debug builds (the end-to-end tests) may shorten it with
/// `PATCHBAY_CONNECT_WAIT_SECS`; a release build has no such switch.
fn connect_deadline() -> std::time::Duration {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var("PATCHBAY_CONNECT_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return std::time::Duration::from_secs(secs);
    }
    DEFAULT_DEADLINE
}

/// Connect, with each step and the checklist sent to the page over `on_update`.
#[tauri::command]
pub async fn connect<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    provider: String,
    environment: String,
    fields: BTreeMap<String, String>,
    redirect_page: Option<String>,
    on_update: Channel<ConnectUpdate>,
) -> Reply<ConnectionStatus> {
    let order = ConnectOrder {
        provider,
        environment: Some(environment),
        fields: fields
            .into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect(),
        redirect_page,
        catalog_file: None,
        deadline: connect_deadline(),
    };
    let send = |update: ConnectUpdate| {
        if let Err(err) = on_update.send(update) {
            tracing::warn!(%err, "could not send a connect update to the window");
        }
    };
    Ok(app.connect(order, &SystemBrowser(handle), &send).await?)
}

#[tauri::command]
pub fn cancel_connect(app: State<'_, App>) {
    app.cancel_connect();
}

#[tauri::command]
pub async fn paste_address(app: State<'_, App>, address: String) -> Reply<()> {
    Ok(app.paste(address).await?)
}

#[tauri::command]
pub fn reopen_browser<R: Runtime>(handle: AppHandle<R>, app: State<'_, App>) -> Reply<()> {
    let url = app.authorize_url()?;
    SystemBrowser(handle).open(&url).map_err(|why| {
        tracing::warn!(%why, "browser launch failed");
        Error::new(
            ErrorKind::BrowserLaunch,
            "Patchbay could not open your web browser. Use \"Copy the link\" instead.",
        )
        .into()
    })
}

/// Copy a value Rust knows, so what lands on the clipboard is exactly what the listener accepts.
#[tauri::command]
pub async fn copy<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    item: CopyItem,
) -> Reply<()> {
    let text = app.copy_text(item).await?;
    handle.clipboard().write_text(text).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            "Could not use the clipboard. Select the text and copy it by hand.",
        )
        .with_source(e)
        .into()
    })
}

#[tauri::command]
pub async fn connections(app: State<'_, App>) -> Reply<Vec<ConnectionStatus>> {
    Ok(app.connections().await.list().await?)
}

#[tauri::command]
pub async fn check_connection(app: State<'_, App>, id: String) -> Reply<ConnectionStatus> {
    let connections = app.connections().await;
    Ok(patchbay_core::upkeep::check_one(&connections, &id, Trigger::App).await?)
}

#[tauri::command]
pub async fn disconnect(app: State<'_, App>, id: String, keep_settings: bool) -> Reply<Revocation> {
    Ok(app.disconnect(&id, keep_settings).await?)
}

/// "Keep my connections fresh": whether the daily job is on and what it last found.
#[tauri::command]
pub fn keep_fresh(app: State<'_, App>) -> patchbay_core::app::KeepFresh {
    app.keep_fresh()
}

#[tauri::command]
pub async fn set_keep_fresh(app: State<'_, App>, on: bool) -> Reply<patchbay_core::app::KeepFresh> {
    Ok(app.set_keep_fresh(on).await?)
}

/// Where the logs are, and whether the file manager showed them.
#[derive(Debug, Serialize)]
pub struct LogFolder {
    path: String,
    opened: bool,
}

/// "Open log folder": the platform's log folder in the system's file manager, from Rust (the
/// webview has no opener permission). When no file manager opens, the page shows the path.
#[tauri::command]
pub fn open_log_folder<R: Runtime>(handle: AppHandle<R>, app: State<'_, App>) -> LogFolder {
    let dir = app.paths().log_dir.clone();
    let opened = std::fs::create_dir_all(&dir).is_ok()
        && handle
            .opener()
            .open_path(dir.to_string_lossy(), None::<&str>)
            .inspect_err(|e| tracing::info!(%e, "could not open the log folder"))
            .is_ok();
    LogFolder {
        path: dir.display().to_string(),
        opened,
    }
}

/// A newer Patchbay, if the start-up look found one (waits for that look).
#[tauri::command]
pub async fn update_offer<R: Runtime>(
    handle: AppHandle<R>,
) -> Option<patchbay_core::app::updates::UpdateOffer> {
    crate::updates::offer(&handle).await
}

/// Installs the offered update and restarts into it (refused during a connect).
#[tauri::command]
pub async fn install_update<R: Runtime>(handle: AppHandle<R>) -> Reply<()> {
    Ok(crate::updates::install(&handle).await?)
}

#[tauri::command]
pub fn about(app: State<'_, App>) -> About {
    app.about()
}

/// The licenses of the bundled crates (ui/licenses.json, made by cargo-about), read from the
/// app's own embedded files: the page's CSP allows it no fetch.
#[tauri::command]
pub fn licenses<R: Runtime>(handle: AppHandle<R>) -> Reply<String> {
    handle
        .asset_resolver()
        .get("licenses.json".into())
        .and_then(|a| String::from_utf8(a.bytes).ok())
        .ok_or_else(|| Error::internal("The license list is missing from this build.").into())
}

/// A system's own help pages, in the system browser (from Rust: the webview may open nothing).
#[tauri::command]
pub fn open_help<R: Runtime>(
    handle: AppHandle<R>,
    app: State<'_, App>,
    provider: String,
) -> Reply<()> {
    let p = app.catalog().provider(&provider)?;
    let url =
        p.support.help_url.as_deref().ok_or_else(|| {
            Error::invalid_input(format!("{} has no help page on record.", p.name))
        })?;
    handle.opener().open_url(url, None::<&str>).map_err(|e| {
        Error::new(
            ErrorKind::BrowserLaunch,
            format!("Patchbay could not open your web browser. The help page is {url}"),
        )
        .with_source(e)
        .into()
    })
}

/// "Save report…": the system's own save dialog (opened from Rust, starting in Documents with a
/// dated name), then the report written there and shown in the file manager. `None` when the
/// admin closed the dialog.
#[tauri::command]
pub async fn save_report<R: Runtime>(
    handle: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    app: State<'_, App>,
) -> Reply<Option<String>> {
    let dialog = handle
        .dialog()
        .file()
        .set_title("Save the Patchbay support report")
        .set_file_name(format!(
            "Patchbay support report {}.txt",
            patchbay_core::report::today()
        ))
        .add_filter("Text", &["txt"])
        .set_parent(&window);
    let Some(path) = ask(dialog, Ask::SaveFile).await? else {
        return Ok(None);
    };
    let text = app.report_text().await;
    std::fs::write(&path, text).map_err(|e| {
        Error::storage(
            format!(
                "Patchbay could not write {}. Choose another folder, such as Documents.",
                path.display()
            ),
            e,
        )
    })?;
    // Shown in the file manager, ready to attach to an email.
    if let Err(e) = handle.opener().reveal_item_in_dir(&path) {
        tracing::info!(%e, "could not show the saved report");
    }
    Ok(Some(path.display().to_string()))
}

/// What a system file dialog asks for.
enum Ask {
    Folder,
    SaveFile,
}

/// Show a system file dialog (made from Rust: the webview has no dialog permission), starting in
/// Documents (or home), and wait for the admin's choice; `None` when they closed it.
async fn ask<R: Runtime>(
    dialog: tauri_plugin_dialog::FileDialogBuilder<R>,
    what: Ask,
) -> Result<Option<std::path::PathBuf>, Error> {
    let start = directories::UserDirs::new().map(|u| {
        u.document_dir()
            .unwrap_or_else(|| u.home_dir())
            .to_path_buf()
    });
    let dialog = match start {
        Some(start) => dialog.set_directory(start),
        None => dialog,
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let answer = move |chosen| {
        let _ = tx.send(chosen);
    };
    match what {
        Ask::Folder => dialog.pick_folder(answer),
        Ask::SaveFile => dialog.save_file(answer),
    }
    let Some(chosen) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    chosen.into_path().map(Some).map_err(|_| {
        Error::invalid_input("That place cannot hold files. Choose a folder on this computer.")
    })
}

/// Fetch the connection's lists with progress over `on_event`; the CSV files are staged so "Save
/// as CSV files" can copy them without fetching again.
#[tauri::command]
pub async fn preview(
    app: State<'_, App>,
    id: String,
    on_event: Channel<PreviewEvent>,
) -> Reply<Vec<ListResult>> {
    let send = |e: PreviewEvent| {
        if let Err(err) = on_event.send(e) {
            tracing::warn!(%err, "could not send a preview event to the window");
        }
    };
    Ok(app.preview(&id, Export::Staged, &send).await?)
}

#[tauri::command]
pub fn cancel_preview(app: State<'_, App>) {
    app.cancel_preview();
}

/// Ask the admin for a folder (the system's own folder picker, opened from Rust, starting in
/// Documents), copy the staged CSV files of the last preview into it and show it. `None` when
/// they closed the picker without choosing: nothing is written.
#[tauri::command]
pub async fn save_export<R: Runtime>(
    handle: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    app: State<'_, App>,
    id: String,
) -> Reply<Option<SavedExport>> {
    let status = app.connections().await.status(&id).await?;
    let picker = handle
        .dialog()
        .file()
        .set_title(format!(
            "Choose a folder for the {} CSV files",
            status.record.label
        ))
        .set_parent(&window);
    let Some(folder) = ask(picker, Ask::Folder).await? else {
        return Ok(None);
    };
    let saved = app.save_export(&id, &folder)?;
    if let Some(first) = saved.files.first()
        && let Err(e) = handle.opener().reveal_item_in_dir(folder.join(first))
    {
        tracing::info!(%e, "could not show the export folder");
    }
    Ok(Some(saved))
}

#[tauri::command]
pub async fn mappings(app: State<'_, App>, id: String) -> Reply<Vec<MappingChoices>> {
    Ok(patchbay_core::mappings::choices(&*app.connections().await, &id).await?)
}

#[tauri::command]
pub async fn save_mappings(
    app: State<'_, App>,
    id: String,
    chosen: BTreeMap<String, String>,
) -> Reply<Vec<MappingChoices>> {
    Ok(patchbay_core::mappings::save(&*app.connections().await, &id, &chosen).await?)
}
