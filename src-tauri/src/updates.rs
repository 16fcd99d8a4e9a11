//! Updates through Tauri's updater plugin: one look at start-up when the core's policy says so
//! (`patchbay_core::app::updates`), an offer Home shows, and an install only when the admin
//! asks and no connect is under way. The feed and the key come from the build's configuration
//! (`plugins.updater`, filled in by the release workflow); a build from source has no key and
//! never looks.

use patchbay_core::app::App;
use patchbay_core::app::updates::{BuiltIn, InstallProblem, Plan, UpdateOffer};
use patchbay_core::{Error, ErrorKind};
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::{Error as UpdaterError, Update, UpdaterExt};

/// The look's outcome, shared by the start-up task and Home's request (which waits for it).
#[derive(Default)]
pub struct Updates {
    offer: tokio::sync::OnceCell<Option<UpdateOffer>>,
    update: Mutex<Option<Update>>,
}

impl std::fmt::Debug for Updates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updates")
            .field("offer", &self.offer.get())
            .finish_non_exhaustive()
    }
}

/// The feed and key this build carries. Debug builds also take `PATCHBAY_UPDATE_FEED` and
/// `PATCHBAY_UPDATE_PUBKEY` (the end-to-end tests serve a feed on this computer); a release
/// build has no such switch.
fn built_in<R: Runtime>(handle: &AppHandle<R>) -> (BuiltIn, String) {
    let config = handle.config().plugins.0.get("updater");
    let text = |key: &str| config.and_then(|c| c.get(key)).cloned();
    #[allow(unused_mut)]
    let mut pubkey = text("pubkey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    #[allow(unused_mut)]
    let mut feed = text("endpoints")
        .and_then(|v| v.get(0).and_then(|u| u.as_str()).map(str::to_string))
        .and_then(|u| u.parse().ok());
    #[cfg(debug_assertions)]
    {
        if let Ok(key) = std::env::var("PATCHBAY_UPDATE_PUBKEY") {
            pubkey = key;
        }
        if let Some(url) = std::env::var("PATCHBAY_UPDATE_FEED")
            .ok()
            .and_then(|u| u.parse().ok())
        {
            feed = Some(url);
        }
    }
    let signed = !pubkey.trim().is_empty();
    (BuiltIn { feed, signed }, pubkey)
}

/// Looks once per run (later callers wait for the first).
pub async fn offer<R: Runtime>(handle: &AppHandle<R>) -> Option<UpdateOffer> {
    let updates = handle.state::<Updates>();
    updates.offer.get_or_init(|| look(handle)).await.clone()
}

async fn look<R: Runtime>(handle: &AppHandle<R>) -> Option<UpdateOffer> {
    let app = handle.state::<App>();
    let (built_in, pubkey) = built_in(handle);
    let feed = match app.update_plan(&built_in) {
        Plan::Skip(why) => {
            tracing::info!(reason = why.reason(), "not looking for an update");
            return None;
        }
        Plan::Check(feed) => feed,
    };
    let updater = handle
        .updater_builder()
        .pubkey(pubkey)
        .timeout(Duration::from_secs(30))
        .endpoints(vec![feed])
        .and_then(|b| b.build());
    let found = match updater {
        Ok(u) => u.check().await,
        Err(e) => Err(e),
    };
    // Once a day whatever the answer: a feed that is down is not asked again at every start.
    app.note_update_check();
    match found {
        Ok(Some(update)) => {
            tracing::info!(version = %update.version, "an update is available");
            let offer = UpdateOffer::new(
                &update.version,
                &update.current_version,
                update.body.as_deref(),
            );
            if let Ok(mut slot) = handle.state::<Updates>().update.lock() {
                *slot = Some(update);
            }
            Some(offer)
        }
        Ok(None) => {
            tracing::info!("Patchbay is up to date");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not look for an update");
            None
        }
    }
}

/// Downloads the offered update, checks its signature and installs it, then starts the new
/// version. Refused while a connect is under way.
pub async fn install<R: Runtime>(handle: &AppHandle<R>) -> patchbay_core::Result<()> {
    if handle.state::<App>().busy() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "Finish or cancel the connection first; the update waits until then.",
        ));
    }
    let update = handle
        .state::<Updates>()
        .update
        .lock()
        .ok()
        .and_then(|mut u| u.take())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                "There is no update to install right now.",
            )
        })?;
    match update.download_and_install(|_, _| {}, || {}).await {
        Ok(()) => {
            tracing::info!(version = %update.version, "update installed; restarting");
            handle.restart()
        }
        Err(e) => {
            tracing::warn!(error = %e, "the update was not installed");
            let problem = problem(&e);
            let kind = match problem {
                InstallProblem::Unreachable => ErrorKind::Network,
                _ => ErrorKind::Internal,
            };
            Err(Error::new(kind, problem.message()))
        }
    }
}

/// The admin's words for an updater error.
fn problem(e: &UpdaterError) -> InstallProblem {
    match e {
        UpdaterError::Minisign(_)
        | UpdaterError::Base64(_)
        | UpdaterError::SignatureUtf8(_)
        | UpdaterError::SignedVersionMismatch { .. }
        | UpdaterError::MissingSignedVersion => InstallProblem::NotVerified,
        UpdaterError::Reqwest(_) | UpdaterError::Network(_) => InstallProblem::Unreachable,
        _ => InstallProblem::NotInstalled,
    }
}
