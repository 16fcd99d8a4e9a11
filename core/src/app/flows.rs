//! What the app keeps while something runs: the connect in progress (one at a time: Cancel and
//! pasted addresses find it; its events become the checklist) and the preview (its cancel and
//! its staged CSV files).

use super::views::{ConnectUpdate, SavedExport};
use super::{App, ConnectFailure, ConnectOrder, Export, Flow};
use crate::checklist::{Checklist, Event};
use crate::connect::{Browser, ConnectHooks, ConnectRequest};
use crate::connections::ConnectionStatus;
use crate::error::{Error, Result};
use crate::preview::{ListResult, PreviewEvent, PreviewOptions};
use std::path::PathBuf;
use std::sync::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

impl App {
    /// Connect, one at a time (a new connect cancels a stuck one), with each step and the
    /// checklist after it given to `on_update`. Pasted addresses go through [`App::paste`].
    pub async fn connect(
        &self,
        order: ConnectOrder,
        browser: &dyn Browser,
        on_update: &(dyn Fn(ConnectUpdate) + Send + Sync),
    ) -> std::result::Result<ConnectionStatus, ConnectFailure> {
        let failure = |error: Error| ConnectFailure {
            error,
            failed: Vec::new(),
        };
        let p = self.catalog.provider(&order.provider).map_err(failure)?;
        let plan = self
            .plan(
                &p.id,
                order.environment.as_deref(),
                order.redirect_page.as_deref(),
            )
            .await
            .map_err(failure)?;
        let checklist = Mutex::new(Checklist::for_plan(&self.catalog, p, &plan));
        let (paste_tx, paste_rx) = mpsc::channel(4);
        let ours = paste_tx.clone();
        let cancel = CancellationToken::new();
        if let Ok(mut flow) = self.flow.lock() {
            if let Some(old) = flow.take() {
                old.cancel.cancel();
            }
            *flow = Some(Flow {
                cancel: cancel.clone(),
                paste: paste_tx,
                authorize_url: None,
            });
        }
        let events = |event: Event| {
            if let Event::Authorize { url, .. } = &event
                && let Ok(mut flow) = self.flow.lock()
                && let Some(flow) = flow.as_mut()
            {
                flow.authorize_url = Some(url.clone());
            }
            let items = checklist.lock().map(|mut c| {
                c.observe(&event);
                c.items().to_vec()
            });
            on_update(ConnectUpdate {
                event,
                checklist: items.unwrap_or_default(),
            });
        };
        let request = ConnectRequest {
            provider: order.provider,
            environment: order.environment,
            practice: self.is_practice(),
            fields: order.fields,
            catalog_file: order.catalog_file,
            redirect_page: order.redirect_page,
        };
        let hooks = ConnectHooks {
            browser,
            events: &events,
            cancel,
            pasted: p.auth.browser().is_some().then_some(paste_rx),
            deadline: order.deadline,
        };
        let result = self.connections().await.connect(request, hooks).await;
        // Done: forgotten, unless a newer connect has replaced it meanwhile.
        if let Ok(mut flow) = self.flow.lock()
            && flow.as_ref().is_some_and(|f| f.paste.same_channel(&ours))
        {
            *flow = None;
        }
        result.map_err(|error| ConnectFailure {
            error,
            failed: checklist
                .lock()
                .map(|c| c.failed().cloned().collect())
                .unwrap_or_default(),
        })
    }

    /// Stop the connect in progress, if any.
    pub fn cancel_connect(&self) {
        if let Ok(flow) = self.flow.lock()
            && let Some(flow) = flow.as_ref()
        {
            flow.cancel.cancel();
        }
    }

    /// Where the connect in progress takes the addresses the admin pastes.
    pub fn paste_sender(&self) -> Result<mpsc::Sender<String>> {
        self.flow
            .lock()
            .ok()
            .and_then(|f| f.as_ref().map(|f| f.paste.clone()))
            .ok_or_else(|| Error::invalid_input("Click Connect first, then paste the address."))
    }

    /// Give the connect in progress the address the browser ended on.
    pub async fn paste(&self, address: String) -> Result<()> {
        self.paste_sender()?
            .send(address)
            .await
            .map_err(|_| Error::invalid_input("Connecting has already finished."))
    }

    /// The sign-in link of the connect in progress.
    pub fn authorize_url(&self) -> Result<String> {
        self.flow
            .lock()
            .ok()
            .and_then(|f| f.as_ref().and_then(|f| f.authorize_url.clone()))
            .ok_or_else(|| {
                Error::invalid_input("There is no sign-in link yet: click Connect first.")
            })
    }

    /// Fetch a connection's lists (one preview at a time: a new one cancels the last), with
    /// progress to `events`, and write CSV files where `export` says.
    pub async fn preview(
        &self,
        id: &str,
        export: Export,
        events: &(dyn Fn(PreviewEvent) + Send + Sync),
    ) -> Result<Vec<ListResult>> {
        let cancel = CancellationToken::new();
        if let Ok(mut c) = self.preview_cancel.lock()
            && let Some(old) = c.replace(cancel.clone())
        {
            old.cancel();
        }
        let export_dir = match export {
            Export::None => None,
            Export::To(dir) => Some(dir),
            Export::Staged => {
                let staged = self.staging_dir(id);
                let _ = std::fs::remove_dir_all(&staged);
                Some(staged)
            }
        };
        let opts = PreviewOptions {
            export_dir,
            cancel,
            ..Default::default()
        };
        let connections = self.connections().await;
        crate::preview::run(&connections, id, &opts, events).await
    }

    /// Stop the preview in progress, if any.
    pub fn cancel_preview(&self) {
        if let Ok(c) = self.preview_cancel.lock()
            && let Some(c) = c.as_ref()
        {
            c.cancel();
        }
    }

    /// Copy the last preview's staged CSV files into `folder` (dated names).
    pub fn save_export(&self, id: &str, folder: &std::path::Path) -> Result<SavedExport> {
        let day = crate::report::today();
        let written = crate::preview::save_export(&self.staging_dir(id), folder, &day)?;
        Ok(SavedExport {
            folder: folder.display().to_string(),
            files: written
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect(),
        })
    }

    /// Where a connection's last preview wrote its CSV files (before the admin saves them).
    fn staging_dir(&self, id: &str) -> PathBuf {
        self.staging_root().join(crate::settings::file_stem(id))
    }

    fn staging_root(&self) -> PathBuf {
        self.paths.data_dir.join("exports")
    }

    /// Remove every preview's temporary CSV files (at exit, and at start for a run that ended
    /// without one).
    pub fn remove_staging(&self) {
        match std::fs::remove_dir_all(self.staging_root()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(%e, "could not remove the previews' temporary files"),
        }
    }
}
