//! The commands the webview may call (and nothing else: see capabilities/main.json). Each is a
//! few lines over patchbay-core; errors cross the IPC boundary as `{kind, message}`.

use crate::state::{AppState, Flow};
use patchbay_core::catalog::{FieldSpec, ProviderSpec, Signal, StepSpec};
use patchbay_core::checklist::{Checklist, ChecklistItem, Event};
use patchbay_core::connections::{ConnectionStatus, DEFAULT_DEADLINE, Revocation};
use patchbay_core::redirect::RedirectPlan;
use patchbay_core::{Browser, ConnectHooks, ConnectRequest, Error, ErrorKind};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The event the wizard listens to while connecting.
pub const CONNECT_EVENT: &str = "patchbay://connect";

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
        tracing::warn!(kind = %e.kind(), error = %e.detailed(), "command failed");
        IpcError {
            kind: e.kind(),
            message: e.message().to_string(),
            failed: Vec::new(),
        }
    }
}

type Reply<T> = Result<T, IpcError>;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    version: &'static str,
    practice: bool,
    keychain: crate::state::KeychainHealth,
    has_connections: bool,
    /// Who to ask, from whoever distributes Patchbay (none by default).
    support: Option<patchbay_core::distribution::SupportContact>,
    /// Why the distribution settings file is not used, for whoever set it up.
    distribution_problem: Option<String>,
}

async fn app_info(state: &AppState) -> Reply<AppInfo> {
    let connections = state.connections().await;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        practice: state.is_practice().await,
        keychain: state.keychain.clone(),
        has_connections: !connections
            .settings()
            .connections()
            .map_err(IpcError::from)?
            .is_empty(),
        support: state.distribution.support.clone(),
        distribution_problem: state.distribution_problem.clone(),
    })
}

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
pub async fn app_state(state: State<'_, AppState>) -> Reply<AppInfo> {
    crate::startup_mark("app_state called");
    app_info(&state).await
}

#[tauri::command]
pub async fn set_practice(state: State<'_, AppState>, on: bool) -> Reply<AppInfo> {
    state.set_practice(on).await?;
    app_info(&state).await
}

#[derive(Debug, Serialize)]
pub struct System {
    id: String,
    name: String,
    formerly: Option<String>,
    summary: String,
    /// `authorization_code` or `token_exchange` (the window shows the browser step for the first).
    mechanism: &'static str,
    default_environment: String,
    environments: Vec<Environment>,
    before_you_start: Vec<String>,
    has_preview: bool,
    /// The connected screen's button into the preview (the guide's words where it has them).
    preview_label: Option<String>,
    has_mappings: bool,
    /// The guide the steps follow, by its title, and how many steps it has.
    guide: String,
    steps: usize,
    /// The vendor's own help, in the guide's words, and whether it has a help page to open.
    vendor_help: String,
    has_help_page: bool,
}

#[derive(Debug, Serialize)]
pub struct Environment {
    id: String,
    label: String,
}

fn system(p: &ProviderSpec) -> System {
    System {
        id: p.id.clone(),
        name: p.name.clone(),
        formerly: p.formerly.clone(),
        summary: p.summary.clone(),
        mechanism: p.auth.mechanism().id(),
        default_environment: p.default_environment.clone(),
        environments: p
            .environments
            .iter()
            .map(|e| Environment {
                id: e.id.clone(),
                label: e.label.clone(),
            })
            .collect(),
        before_you_start: p.before_you_start.clone(),
        guide: p.guide_title().to_string(),
        steps: p.steps.len(),
        vendor_help: p.support.vendor_help.clone(),
        has_help_page: p.support.help_url.is_some(),
        has_preview: p.preview.is_some(),
        preview_label: p.preview.as_ref().map(|x| x.start_label.clone()),
        has_mappings: !p.mappings.is_empty(),
    }
}

#[tauri::command]
pub fn systems(state: State<'_, AppState>) -> Vec<System> {
    crate::startup_mark("systems called");
    state.catalog.providers().iter().map(system).collect()
}

#[derive(Debug, Serialize)]
pub struct Step {
    id: String,
    title: String,
    instructions: Vec<String>,
    note: String,
    caution: String,
    action: patchbay_core::catalog::StepAction,
    fields: Vec<Field>,
    copy: Vec<patchbay_core::catalog::CopyValue>,
    /// The signal that ticks this step in the step list (none: its own result does).
    proven_by: Option<Signal>,
}

#[derive(Debug, Serialize)]
pub struct Field {
    id: String,
    label: String,
    secret: bool,
    format: String,
}

fn step(p: &ProviderSpec, s: &StepSpec) -> Step {
    let field = |f: &FieldSpec| Field {
        id: f.id.clone(),
        label: f.label.clone(),
        secret: f.secret,
        format: f.format.clone(),
    };
    Step {
        id: s.id.clone(),
        title: s.title.clone(),
        instructions: s.instructions.clone(),
        note: s.note.clone(),
        caution: s.caution.clone(),
        action: s.action,
        fields: s
            .fields
            .iter()
            .filter_map(|id| p.field(id))
            .map(field)
            .collect(),
        copy: s.copy.clone(),
        proven_by: s.proof(),
    }
}

#[derive(Debug, Serialize)]
pub struct PracticeCredentials {
    client_id: String,
    client_secret: String,
}

#[derive(Debug, Serialize)]
pub struct Guide {
    provider: System,
    environment: Environment,
    display_name: String,
    /// The address to register at the vendor (Patchbay's own, the distributor's relay, or the
    /// admin's https page); none where the distributor's app is used or a page is still needed.
    callback_url: Option<String>,
    /// How the vendor's answer comes back, and what to tell the admin about it.
    redirect: RedirectPlan,
    /// The vendor's word for the button that gives access, for "click Allow".
    consent_button: Option<String>,
    stored_in: String,
    steps: Vec<Step>,
    checklist: Vec<ChecklistItem>,
    /// The guide's advice no signal can check, shown as tips beside the checklist.
    tips: Vec<String>,
    /// The emulator's published practice keys (not secrets: printed in the docs).
    practice_credentials: Option<PracticeCredentials>,
}

/// The plan for a system as this window uses it (practice or not, the admin's page if any).
async fn plan(
    state: &AppState,
    provider: &str,
    environment: &str,
    redirect_page: Option<&str>,
) -> Result<RedirectPlan, Error> {
    let practice = state.is_practice().await;
    state
        .connections()
        .await
        .plan(provider, Some(environment), practice, redirect_page)
}

#[tauri::command]
pub async fn guide(
    state: State<'_, AppState>,
    provider: String,
    environment: String,
    redirect_page: Option<String>,
) -> Reply<Guide> {
    let p = state.catalog.provider(&provider)?;
    let env = p.environment(&environment)?;
    let plan = plan(&state, &p.id, &env.id, redirect_page.as_deref()).await?;
    let practice_credentials = state.practice().await.and_then(|(_, apps)| {
        apps.into_iter()
            .filter(|_| !plan.keys_supplied)
            .find(|a| a.provider == p.id && a.environment == env.id)
            .map(|a| PracticeCredentials {
                client_id: a.client_id,
                client_secret: a.client_secret,
            })
    });
    Ok(Guide {
        provider: system(p),
        environment: Environment {
            id: env.id.clone(),
            label: env.label.clone(),
        },
        display_name: p.display_name(env),
        callback_url: plan.redirect_uri.clone(),
        consent_button: p.auth.browser().map(|o| o.consent_button.clone()),
        stored_in: state.keychain.location.clone(),
        steps: p
            .steps
            .iter()
            .filter(|s| plan.own_app || !s.own_app_only)
            .map(|s| step(p, s))
            .collect(),
        checklist: Checklist::for_plan(&state.catalog, p, &plan)
            .items()
            .to_vec(),
        tips: p.tips.clone(),
        redirect: plan,
        practice_credentials,
    })
}

#[derive(Debug, Serialize)]
pub struct FieldReport {
    removed: String,
    ok: bool,
    problem: Option<String>,
    length: usize,
    /// UTF-16 offsets to delete from what the page holds: the cleaned value is never sent back.
    remove_at: Vec<usize>,
}

#[tauri::command]
pub fn clean_field(
    state: State<'_, AppState>,
    provider: String,
    field: String,
    raw: String,
) -> Reply<FieldReport> {
    let p = state.catalog.provider(&provider)?;
    let f = p
        .field(&field)
        .ok_or_else(|| Error::internal(format!("{} has no field {field}.", p.name)))?;
    let (cleaned, check) = f.check(&raw);
    Ok(FieldReport {
        removed: check.removed,
        ok: check.ok,
        problem: check.problem,
        length: check.length,
        remove_at: cleaned.removed_at,
    })
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

#[derive(Debug, Clone, Serialize)]
struct ConnectUpdate<'a> {
    event: &'a Event,
    checklist: Vec<ChecklistItem>,
}

#[tauri::command]
pub async fn connect<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
    environment: String,
    fields: BTreeMap<String, String>,
    redirect_page: Option<String>,
) -> Reply<ConnectionStatus> {
    let p = state.catalog.provider(&provider)?.clone();
    let plan = plan(&state, &p.id, &environment, redirect_page.as_deref()).await?;
    let checklist = Arc::new(Mutex::new(Checklist::for_plan(&state.catalog, &p, &plan)));
    let failed_checks = checklist.clone();
    let (paste_tx, paste_rx) = mpsc::channel(4);
    let cancel = CancellationToken::new();
    if let Ok(mut flow) = state.flow.lock() {
        if let Some(old) = flow.take() {
            old.cancel.cancel(); // one connect at a time: a new one replaces a stuck one
        }
        *flow = Some(Flow {
            cancel: cancel.clone(),
            paste: paste_tx,
            authorize_url: None,
        });
    }
    let emitter = app.clone();
    let events = move |e: Event| {
        let items = checklist.lock().map(|mut c| {
            c.observe(&e);
            c.items().to_vec()
        });
        if let Event::Authorize { url, .. } = &e
            && let Ok(mut flow) = emitter.state::<AppState>().flow.lock()
            && let Some(flow) = flow.as_mut()
        {
            flow.authorize_url = Some(url.clone());
        }
        let update = ConnectUpdate {
            event: &e,
            checklist: items.unwrap_or_default(),
        };
        if let Err(err) = emitter.emit(CONNECT_EVENT, &update) {
            tracing::warn!(%err, "could not send a connect event to the window");
        }
    };
    let browser = SystemBrowser(app.clone());
    let fields = fields
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect();
    let practice = state.is_practice().await;
    let request = ConnectRequest {
        provider,
        environment: Some(environment),
        practice,
        fields,
        catalog_file: None,
        redirect_page,
    };
    let hooks = ConnectHooks {
        browser: &browser,
        events: &events,
        cancel,
        pasted: Some(paste_rx),
        deadline: connect_deadline(),
    };
    let result = state.connections().await.connect(request, hooks).await;
    if let Ok(mut flow) = state.flow.lock() {
        *flow = None;
    }
    result.map_err(|e| {
        let mut err = IpcError::from(e);
        err.failed = failed_checks
            .lock()
            .map(|c| c.failed().cloned().collect())
            .unwrap_or_default();
        err
    })
}

#[tauri::command]
pub fn cancel_connect(state: State<'_, AppState>) {
    if let Ok(flow) = state.flow.lock()
        && let Some(flow) = flow.as_ref()
    {
        flow.cancel.cancel();
    }
}

#[tauri::command]
pub async fn paste_address(state: State<'_, AppState>, address: String) -> Reply<()> {
    let tx = state
        .flow
        .lock()
        .ok()
        .and_then(|f| f.as_ref().map(|f| f.paste.clone()));
    match tx {
        Some(tx) => tx
            .send(address)
            .await
            .map_err(|_| Error::invalid_input("Connecting has already finished.").into()),
        None => Err(Error::invalid_input("Click Connect first, then paste the address.").into()),
    }
}

fn current_authorize_url(state: &AppState) -> Result<String, Error> {
    state
        .flow
        .lock()
        .ok()
        .and_then(|f| f.as_ref().and_then(|f| f.authorize_url.clone()))
        .ok_or_else(|| Error::invalid_input("There is no sign-in link yet: click Connect first."))
}

#[tauri::command]
pub fn reopen_browser<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> Reply<()> {
    let url = current_authorize_url(&state)?;
    SystemBrowser(app).open(&url).map_err(|why| {
        tracing::warn!(%why, "browser launch failed");
        Error::new(
            ErrorKind::BrowserLaunch,
            "Patchbay could not open your web browser. Use \"Copy the link\" instead.",
        )
        .into()
    })
}

/// What the page asks to copy: values Rust knows, never text from the page.
#[derive(Debug, Deserialize)]
#[serde(
    tag = "what",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum CopyItem {
    /// The address to register at the vendor, exactly as the connect sends it.
    CallbackUrl {
        provider: String,
        environment: String,
        redirect_page: Option<String>,
    },
    /// The sign-in link of the connect in progress.
    AuthorizeUrl,
    /// A value a guide step gives to type in the vendor's form ("Name: Patchbay").
    Value {
        provider: String,
        step: String,
        label: String,
    },
    Report,
}

/// Copy a value Rust knows, so what lands on the clipboard is exactly what the listener accepts.
#[tauri::command]
pub async fn copy<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    item: CopyItem,
) -> Reply<()> {
    let text = match item {
        CopyItem::CallbackUrl {
            provider,
            environment,
            redirect_page,
        } => plan(&state, &provider, &environment, redirect_page.as_deref())
            .await?
            .redirect_uri
            .ok_or_else(|| Error::invalid_input("This system has no callback URL."))?,
        CopyItem::AuthorizeUrl => current_authorize_url(&state)?,
        CopyItem::Value {
            provider,
            step,
            label,
        } => state
            .catalog
            .provider(&provider)?
            .steps
            .iter()
            .find(|s| s.id == step)
            .and_then(|s| s.copy.iter().find(|c| c.label == label))
            .map(|c| c.value.clone())
            .ok_or_else(|| Error::internal("Nothing to copy there."))?,
        CopyItem::Report => report_text(&state).await,
    };
    app.clipboard().write_text(text).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            "Could not use the clipboard. Select the text and copy it by hand.",
        )
        .with_source(e)
        .into()
    })
}

#[tauri::command]
pub async fn connections(state: State<'_, AppState>) -> Reply<Vec<ConnectionStatus>> {
    Ok(state.connections().await.list().await?)
}

#[tauri::command]
pub async fn check_connection(state: State<'_, AppState>, id: String) -> Reply<ConnectionStatus> {
    Ok(state.connections().await.check(&id).await?)
}

#[tauri::command]
pub async fn disconnect(
    state: State<'_, AppState>,
    id: String,
    keep_settings: bool,
) -> Reply<Revocation> {
    Ok(state
        .connections()
        .await
        .disconnect(&id, keep_settings)
        .await?)
}

async fn report_text(state: &AppState) -> String {
    let health = patchbay_core::report::keychain_health(
        &state.keychain.location,
        state.keychain.message.as_deref(),
    );
    let connections = state.connections().await;
    patchbay_core::report::Report::gather(&connections, health)
        .await
        .to_text()
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
pub async fn open_log_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Reply<LogFolder> {
    let dir = state.connections().await.settings().paths().log_dir.clone();
    let opened = std::fs::create_dir_all(&dir).is_ok()
        && app
            .opener()
            .open_path(dir.to_string_lossy(), None::<&str>)
            .inspect_err(|e| tracing::info!(%e, "could not open the log folder"))
            .is_ok();
    Ok(LogFolder {
        path: dir.display().to_string(),
        opened,
    })
}

/// About and help: the version and where each thing is kept (the guides come with `systems`).
#[derive(Debug, Serialize)]
pub struct About {
    version: &'static str,
    os: String,
    /// Where the passwords and keys are (the system's keychain, by name).
    credentials: String,
    /// The connections list and settings (no secrets).
    settings: String,
    logs: String,
}

#[tauri::command]
pub async fn about(state: State<'_, AppState>) -> Reply<About> {
    let paths = state.connections().await.settings().paths().clone();
    Ok(About {
        version: env!("CARGO_PKG_VERSION"),
        os: patchbay_core::report::os(),
        credentials: state.keychain.location.clone(),
        settings: paths.config_dir.display().to_string(),
        logs: paths.log_dir.display().to_string(),
    })
}

/// The licenses of the bundled crates (ui/licenses.json, made by cargo-about), read from the
/// app's own embedded files: the page's CSP allows it no fetch.
#[tauri::command]
pub fn licenses<R: Runtime>(app: AppHandle<R>) -> Reply<String> {
    app.asset_resolver()
        .get("licenses.json".into())
        .and_then(|a| String::from_utf8(a.bytes).ok())
        .ok_or_else(|| Error::internal("The license list is missing from this build.").into())
}

/// A system's own help pages, in the system browser (from Rust: the webview may open nothing).
#[tauri::command]
pub fn open_help<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    provider: String,
) -> Reply<()> {
    let p = state.catalog.provider(&provider)?;
    let url =
        p.support.help_url.as_deref().ok_or_else(|| {
            Error::invalid_input(format!("{} has no help page on record.", p.name))
        })?;
    app.opener().open_url(url, None::<&str>).map_err(|e| {
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
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
) -> Reply<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Save the Patchbay support report")
        .set_file_name(format!("Patchbay support report {}.txt", today()))
        .add_filter("Text", &["txt"])
        .set_parent(&window);
    let Some(path) = ask(dialog, Ask::SaveFile).await? else {
        return Ok(None);
    };
    let text = report_text(&state).await;
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
    if let Err(e) = app.opener().reveal_item_in_dir(&path) {
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

/// Today's date (UTC, `2026-11-29`) for the names of saved files.
fn today() -> String {
    let now = patchbay_core::report::timestamp(patchbay_core::oauth::now());
    now[..10].to_string()
}

/// The event the preview screen listens to.
pub const PREVIEW_EVENT: &str = "patchbay://preview";

/// Fetch the connection's lists with progress events; the CSV files are staged so "Save as CSV
/// files" can copy them without fetching again.
#[tauri::command]
pub async fn preview<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Reply<Vec<patchbay_core::preview::ListResult>> {
    let cancel = CancellationToken::new();
    if let Ok(mut c) = state.preview_cancel.lock()
        && let Some(old) = c.replace(cancel.clone())
    {
        old.cancel();
    }
    let dir = state.staging_dir(&id);
    let _ = std::fs::remove_dir_all(&dir);
    let opts = patchbay_core::preview::PreviewOptions {
        export_dir: Some(dir),
        cancel,
        ..Default::default()
    };
    let events = move |e: patchbay_core::preview::PreviewEvent| {
        if let Err(err) = app.emit(PREVIEW_EVENT, &e) {
            tracing::warn!(%err, "could not send a preview event to the window");
        }
    };
    let connections = state.connections().await;
    Ok(patchbay_core::preview::run(&connections, &id, &opts, &events).await?)
}

#[tauri::command]
pub fn cancel_preview(state: State<'_, AppState>) {
    if let Ok(c) = state.preview_cancel.lock()
        && let Some(c) = c.as_ref()
    {
        c.cancel();
    }
}

/// What "Save as CSV files" did.
#[derive(Debug, Serialize)]
pub struct SavedExport {
    pub folder: String,
    pub files: Vec<String>,
}

/// Ask the admin for a folder (the system's own folder picker, opened from Rust, starting in
/// Documents), copy the staged CSV files of the last preview into it and show it. `None` when
/// they closed the picker without choosing: nothing is written.
#[tauri::command]
pub async fn save_export<R: Runtime>(
    app: AppHandle<R>,
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
    id: String,
) -> Reply<Option<SavedExport>> {
    let staged = state.staging_dir(&id);
    let status = state.connections().await.status(&id).await?;
    let picker = app
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
    let written = patchbay_core::preview::save_export(&staged, &folder, &today())?;
    if let Some(first) = written.first()
        && let Err(e) = app.opener().reveal_item_in_dir(first)
    {
        tracing::info!(%e, "could not show the export folder");
    }
    Ok(Some(SavedExport {
        folder: folder.display().to_string(),
        files: written
            .iter()
            .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect(),
    }))
}

#[tauri::command]
pub async fn mappings(
    state: State<'_, AppState>,
    id: String,
) -> Reply<Vec<patchbay_core::mappings::MappingChoices>> {
    Ok(patchbay_core::mappings::choices(&*state.connections().await, &id).await?)
}

#[tauri::command]
pub async fn save_mappings(
    state: State<'_, AppState>,
    id: String,
    chosen: BTreeMap<String, String>,
) -> Reply<Vec<patchbay_core::mappings::MappingChoices>> {
    Ok(patchbay_core::mappings::save(&*state.connections().await, &id, &chosen).await?)
}
