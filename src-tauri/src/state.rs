//! What the app holds between commands: the catalog, the keychain's start-up health, the
//! connections (rebuilt when practice mode starts its emulator), and the connect in progress.

use patchbay_core::distribution::Distribution;
use patchbay_core::settings::{Paths, write_atomically};
use patchbay_core::store::{Keychain, SecretStore, Unavailable};
use patchbay_core::{Catalog, Connections, Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The keychain's start-up check, as the UI shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeychainHealth {
    pub ok: bool,
    pub message: Option<String>,
    pub location: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Preferences {
    #[serde(default)]
    practice: bool,
}

/// The bundled emulator while practice mode is on.
#[derive(Debug)]
pub struct Practice {
    pub base: url::Url,
    pub apps: Vec<patchbay_emulator::AppInfo>,
    /// The bundled emulator plays a distributor (its apps and relay); an emulator of one's own
    /// (`PATCHBAY_EMULATOR_URL`) is described by the distribution file.
    distribution: Distribution,
    _emulator: Option<patchbay_emulator::Emulator>,
}

/// A connect in progress: how to cancel it, where pasted addresses go, the link to re-open.
#[derive(Debug)]
pub struct Flow {
    pub cancel: CancellationToken,
    pub paste: mpsc::Sender<String>,
    pub authorize_url: Option<String>,
}

#[derive(Debug)]
pub struct AppState {
    pub catalog: Catalog,
    /// What whoever distributes Patchbay adds (who to ask, their apps and relays); empty by
    /// default.
    pub distribution: Distribution,
    /// Why the distribution settings file was not used, said on Home for whoever set it up.
    pub distribution_problem: Option<String>,
    pub keychain: KeychainHealth,
    store: Arc<dyn SecretStore>,
    paths: Paths,
    inner: tokio::sync::Mutex<Inner>,
    pub flow: Mutex<Option<Flow>>,
    /// Cancels the preview import in progress.
    pub preview_cancel: Mutex<Option<CancellationToken>>,
}

#[derive(Debug)]
struct Inner {
    practice: Option<Practice>,
    connections: Arc<Connections>,
}

impl AppState {
    /// Load the catalog, check the keychain once, and start practice mode if it was on.
    pub async fn start() -> Result<AppState> {
        let paths = Paths::from_env()?;
        let catalog = Catalog::builtin()?;
        let (store, keychain): (Arc<dyn SecretStore>, KeychainHealth) =
            match tokio::task::spawn_blocking(|| Keychain::open(&keychain_service())).await {
                Ok(Ok(k)) => {
                    let location = k.location().to_string();
                    (
                        Arc::new(k),
                        KeychainHealth {
                            ok: true,
                            message: None,
                            location,
                        },
                    )
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e.detailed(), "keychain unavailable");
                    let store = Unavailable::new(&e);
                    let location = store.location().to_string();
                    (
                        Arc::new(store),
                        KeychainHealth {
                            ok: false,
                            message: Some(e.message().to_string()),
                            location,
                        },
                    )
                }
                Err(e) => {
                    return Err(
                        Error::keychain("The keychain check did not finish.").with_source(e)
                    );
                }
            };
        // A distributor's broken file must not keep the admin out: said on Home and in the log,
        // then ignored.
        let (distribution, distribution_problem) =
            match Distribution::load_checked(&paths.config_dir, &catalog) {
                Ok(d) => (d, None),
                Err(e) => {
                    tracing::warn!(error = %e.detailed(), "distribution settings ignored");
                    (Distribution::default(), Some(e.message().to_string()))
                }
            };
        let connections = Arc::new(
            Connections::new(catalog.clone(), store.clone(), paths.clone(), None)?
                .with_distribution(distribution.clone()),
        );
        let state = AppState {
            catalog,
            distribution,
            distribution_problem,
            keychain,
            store,
            paths,
            inner: tokio::sync::Mutex::new(Inner {
                practice: None,
                connections,
            }),
            flow: Mutex::new(None),
            preview_cancel: Mutex::new(None),
        };
        state.remove_staging();
        let wanted = std::env::var_os("PATCHBAY_EMULATOR_URL").is_some()
            || std::env::var("PATCHBAY_PRACTICE").is_ok_and(|v| v == "1")
            || state.preferences().practice;
        if wanted {
            state.set_practice(true).await?;
        }
        Ok(state)
    }

    /// Where a connection's last preview wrote its CSV files (before the admin saves them).
    pub fn staging_dir(&self, id: &str) -> std::path::PathBuf {
        let name = patchbay_core::settings::file_stem(id);
        self.staging_root().join(name)
    }

    fn staging_root(&self) -> std::path::PathBuf {
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

    pub async fn connections(&self) -> Arc<Connections> {
        self.inner.lock().await.connections.clone()
    }

    pub async fn practice(&self) -> Option<(url::Url, Vec<patchbay_emulator::AppInfo>)> {
        self.inner
            .lock()
            .await
            .practice
            .as_ref()
            .map(|p| (p.base.clone(), p.apps.clone()))
    }

    /// Turn practice mode on (start the bundled emulator, or use `PATCHBAY_EMULATOR_URL`) or off.
    pub async fn set_practice(&self, on: bool) -> Result<()> {
        let mut inner = self.inner.lock().await;
        if on && inner.practice.is_none() {
            let practice = match std::env::var("PATCHBAY_EMULATOR_URL") {
                Ok(url) => Practice {
                    base: url::Url::parse(&url).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidInput,
                            "PATCHBAY_EMULATOR_URL is not a valid address.",
                        )
                        .with_source(e)
                    })?,
                    apps: patchbay_emulator::practice_apps(),
                    distribution: self.distribution.clone(),
                    _emulator: None,
                },
                Err(_) => {
                    let _ = std::fs::create_dir_all(&self.paths.data_dir);
                    let config = patchbay_emulator::EmulatorConfig {
                        state_file: Some(self.paths.data_dir.join("practice-emulator.json")),
                        ..Default::default()
                    };
                    let emulator =
                        patchbay_emulator::Emulator::start(config)
                            .await
                            .map_err(|e| {
                                Error::new(
                                    ErrorKind::Network,
                                    "Practice mode could not start on this computer.",
                                )
                                .with_source(e)
                            })?;
                    let base = url::Url::parse(&emulator.base_url()).map_err(|e| {
                        Error::new(ErrorKind::Network, "Practice mode has no valid address.")
                            .with_source(e)
                    })?;
                    Practice {
                        base,
                        apps: emulator.practice_apps(),
                        distribution: Distribution::parse(
                            patchbay_emulator::PRACTICE_DISTRIBUTION,
                        )?,
                        _emulator: Some(emulator),
                    }
                }
            };
            inner.connections = Arc::new(
                Connections::new(
                    self.catalog.clone(),
                    self.store.clone(),
                    self.paths.clone(),
                    Some(practice.base.clone()),
                )?
                .with_distribution(self.distribution.clone())
                .with_practice_distribution(practice.distribution.clone()),
            );
            inner.practice = Some(practice);
        } else if !on && inner.practice.is_some() {
            inner.practice = None;
            inner.connections = Arc::new(
                Connections::new(
                    self.catalog.clone(),
                    self.store.clone(),
                    self.paths.clone(),
                    None,
                )?
                .with_distribution(self.distribution.clone()),
            );
        }
        self.save_preferences(&Preferences { practice: on });
        Ok(())
    }

    pub async fn is_practice(&self) -> bool {
        self.inner.lock().await.practice.is_some()
    }

    fn preferences(&self) -> Preferences {
        std::fs::read_to_string(self.paths.config_dir.join("app.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    fn save_preferences(&self, prefs: &Preferences) {
        if let Ok(text) = serde_json::to_string(prefs)
            && let Err(e) =
                write_atomically(&self.paths.config_dir.join("app.json"), text.as_bytes())
        {
            tracing::warn!(error = %e.detailed(), "could not save preferences");
        }
    }
}

/// The keychain service entries are stored under (`PATCHBAY_KEYCHAIN_SERVICE` for side-by-side
/// test runs).
fn keychain_service() -> String {
    std::env::var("PATCHBAY_KEYCHAIN_SERVICE")
        .unwrap_or_else(|_| patchbay_core::KEYCHAIN_SERVICE.to_string())
}
