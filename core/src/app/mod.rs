//! The app layer: one value, [`App`], holding what the window and the command line share: the
//! catalog, the keychain's health, the distribution settings, practice mode (the bundled
//! emulator), the connect in progress, the preview's staging and cancel, the preferences; and
//! the views the window shows. Each Tauri command and each CLI subcommand is a few lines over it.

mod flows;
mod keep_fresh;
mod practice;
pub mod updates;
pub mod views;

use crate::catalog::Catalog;
use crate::checklist::{Checklist, ChecklistItem};
use crate::connections::Connections;
use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::redirect::RedirectPlan;
use crate::settings::{Paths, write_atomically};
use crate::store::{Keychain, SecretStore, Unavailable};
use practice::Practice;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use views::{
    About, AppInfo, CopyItem, Environment, FieldReport, Guide, PracticeCredentials, Step, System,
};

pub use keep_fresh::{KeepFresh, LastRun, Notice};
pub use practice::PracticeMode;

/// The keychain's start-up check, as Home shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeychainHealth {
    pub ok: bool,
    pub message: Option<String>,
    pub location: String,
}

/// How the app starts.
#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Paths,
    pub catalog: Catalog,
    /// The keychain service entries are stored under.
    pub keychain_service: String,
    /// Go on when the keychain cannot be used (Home, status and the report say so); otherwise
    /// that is the error.
    pub without_keychain: bool,
    /// Go on without a distribution file that has problems (they are in
    /// [`App::distribution_problem`]); otherwise that is the error.
    pub without_distribution: bool,
    pub practice: PracticeMode,
    /// Remember practice mode between runs (the window does; the command line takes a flag).
    pub remember_practice: bool,
}

/// Where a preview writes its CSV files.
#[derive(Debug, Clone)]
pub enum Export {
    None,
    /// Into this folder.
    To(PathBuf),
    /// Into a private staging folder, for [`App::save_export`] (removed at exit).
    Staged,
}

/// A failed connect, with the checklist items that failed (their fixes).
#[derive(Debug)]
pub struct ConnectFailure {
    pub error: Error,
    pub failed: Vec<ChecklistItem>,
}

/// What the admin asked to connect.
#[derive(Debug, Clone)]
pub struct ConnectOrder {
    pub provider: String,
    pub environment: Option<String>,
    /// Raw pasted values by field id.
    pub fields: BTreeMap<String, SecretString>,
    pub redirect_page: Option<String>,
    /// The admin's catalog file the system comes from, if it is not built in.
    pub catalog_file: Option<PathBuf>,
    /// How long to wait for the browser.
    pub deadline: Duration,
}

/// A connect in progress: how to cancel it, where pasted addresses go, the link to re-open.
#[derive(Debug)]
struct Flow {
    cancel: CancellationToken,
    paste: mpsc::Sender<String>,
    authorize_url: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Preferences {
    #[serde(default)]
    practice: bool,
    /// When the window last looked for an update (Unix seconds).
    update_checked_at: Option<i64>,
    /// "Keep my connections fresh" is on (the daily job is registered).
    #[serde(default)]
    keep_fresh: bool,
    /// The daily job's runs up to this time (Unix seconds) have been told to the admin.
    notified_through: Option<i64>,
}

#[derive(Debug)]
struct Inner {
    practice: Option<Practice>,
    connections: Arc<Connections>,
}

/// The app: see the module documentation.
#[derive(Debug)]
pub struct App {
    catalog: Catalog,
    paths: Paths,
    store: Arc<dyn SecretStore>,
    keychain: KeychainHealth,
    distribution: Distribution,
    distribution_problem: Option<String>,
    mode: PracticeMode,
    remember_practice: bool,
    inner: tokio::sync::Mutex<Inner>,
    /// Whether practice mode is on (as `inner.practice`, readable without waiting).
    practice_on: AtomicBool,
    flow: Mutex<Option<Flow>>,
    preview_cancel: Mutex<Option<CancellationToken>>,
}

impl App {
    /// Check the keychain once, read the distribution settings, and start practice mode if asked
    /// (or, where remembered, if it was on).
    pub async fn start(opts: Options) -> Result<App> {
        let service = opts.keychain_service.clone();
        let opened = tokio::task::spawn_blocking(move || Keychain::open(&service))
            .await
            .map_err(|e| Error::keychain("The keychain check did not finish.").with_source(e))?;
        let (store, keychain): (Arc<dyn SecretStore>, KeychainHealth) = match opened {
            Ok(k) => {
                let location = k.location().to_string();
                let health = KeychainHealth {
                    ok: true,
                    message: None,
                    location,
                };
                (Arc::new(k), health)
            }
            Err(e) if opts.without_keychain => {
                tracing::warn!(error = %e.detailed(), "keychain unavailable");
                let store = Unavailable::new(&e);
                let health = KeychainHealth {
                    ok: false,
                    message: Some(e.message().to_string()),
                    location: store.location().to_string(),
                };
                (Arc::new(store), health)
            }
            Err(e) => return Err(e),
        };
        App::with_store(opts, store, keychain).await
    }

    /// The rest of [`App::start`], over a store already opened.
    async fn with_store(
        opts: Options,
        store: Arc<dyn SecretStore>,
        keychain: KeychainHealth,
    ) -> Result<App> {
        // A distributor's broken file must not keep the admin out of Home: said there and in
        // the log, then ignored.
        let (distribution, distribution_problem) =
            match Distribution::load_checked(&opts.paths.config_dir, &opts.catalog) {
                Ok(d) => (d, None),
                Err(e) if opts.without_distribution => {
                    tracing::warn!(error = %e.detailed(), "distribution settings ignored");
                    (Distribution::default(), Some(e.message().to_string()))
                }
                Err(e) => return Err(e),
            };
        let connections = Arc::new(
            Connections::new(
                opts.catalog.clone(),
                store.clone(),
                opts.paths.clone(),
                None,
            )?
            .with_distribution(distribution.clone()),
        );
        let app = App {
            catalog: opts.catalog,
            paths: opts.paths,
            store,
            keychain,
            distribution,
            distribution_problem,
            mode: opts.practice.clone(),
            remember_practice: opts.remember_practice,
            inner: tokio::sync::Mutex::new(Inner {
                practice: None,
                connections,
            }),
            practice_on: AtomicBool::new(false),
            flow: Mutex::new(None),
            preview_cancel: Mutex::new(None),
        };
        app.remove_staging();
        let wanted = !matches!(opts.practice, PracticeMode::Off)
            || (app.remember_practice && app.preferences().practice);
        if wanted {
            app.set_practice(true).await?;
        }
        Ok(app)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn keychain(&self) -> &KeychainHealth {
        &self.keychain
    }

    /// Why the distribution settings file is not used, if it is not.
    pub fn distribution_problem(&self) -> Option<&str> {
        self.distribution_problem.as_deref()
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub async fn connections(&self) -> Arc<Connections> {
        self.inner.lock().await.connections.clone()
    }

    pub fn is_practice(&self) -> bool {
        self.practice_on.load(Ordering::SeqCst)
    }

    /// Turn practice mode on (the bundled emulator, or the running one the options name) or off.
    pub async fn set_practice(&self, on: bool) -> Result<()> {
        let mut inner = self.inner.lock().await;
        if on && inner.practice.is_none() {
            let practice = Practice::start(&self.mode, &self.paths, &self.distribution).await?;
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
        self.practice_on
            .store(inner.practice.is_some(), Ordering::SeqCst);
        if self.remember_practice {
            self.save_preferences(|p| p.practice = on);
        }
        Ok(())
    }

    /// The id of a system's connection in this mode (practice or real).
    pub fn connection_id(&self, system: &str, environment: Option<&str>) -> Result<String> {
        let p = self.catalog.provider(system)?;
        let env = p.environment(environment.unwrap_or(&p.default_environment))?;
        Ok(Connections::connection_id(
            &p.id,
            &env.id,
            self.is_practice(),
        ))
    }

    pub async fn info(&self) -> Result<AppInfo> {
        let connections = self.connections().await;
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            practice: self.is_practice(),
            keychain: self.keychain.clone(),
            has_connections: !connections.settings().connections()?.is_empty(),
            support: self.distribution.support.clone(),
            distribution_problem: self.distribution_problem.clone(),
        })
    }

    pub fn systems(&self) -> Vec<System> {
        self.catalog.providers().iter().map(System::of).collect()
    }

    /// How the vendor's answer comes back for a system, in this mode.
    pub async fn plan(
        &self,
        provider: &str,
        environment: Option<&str>,
        redirect_page: Option<&str>,
    ) -> Result<RedirectPlan> {
        let practice = self.is_practice();
        self.connections()
            .await
            .plan(provider, environment, practice, redirect_page)
    }

    /// The practice keys to type for a system in practice mode (none where the distribution's
    /// app is used).
    pub async fn practice_keys(
        &self,
        provider: &str,
        environment: &str,
        plan: &RedirectPlan,
    ) -> Option<PracticeCredentials> {
        let inner = self.inner.lock().await;
        let practice = inner.practice.as_ref().filter(|_| !plan.keys_supplied)?;
        practice
            .apps
            .iter()
            .find(|a| a.provider == provider && a.environment == environment)
            .map(|a| PracticeCredentials {
                client_id: a.client_id.clone(),
                client_secret: a.client_secret.clone(),
            })
    }

    pub async fn guide(
        &self,
        provider: &str,
        environment: &str,
        redirect_page: Option<&str>,
    ) -> Result<Guide> {
        let p = self.catalog.provider(provider)?;
        let env = p.environment(environment)?;
        let plan = self.plan(&p.id, Some(&env.id), redirect_page).await?;
        Ok(Guide {
            provider: System::of(p),
            environment: Environment {
                id: env.id.clone(),
                label: env.label.clone(),
            },
            display_name: p.display_name(env),
            callback_url: plan.redirect_uri.clone(),
            consent_button: p.auth.browser().map(|o| o.consent_button.clone()),
            stored_in: self.keychain.location.clone(),
            steps: p
                .steps
                .iter()
                .filter(|s| plan.own_app || !s.own_app_only)
                .map(|s| Step::of(p, s))
                .collect(),
            checklist: Checklist::for_plan(&self.catalog, p, &plan)
                .items()
                .to_vec(),
            tips: p.tips.clone(),
            practice_credentials: self.practice_keys(&p.id, &env.id, &plan).await,
            redirect: plan,
        })
    }

    /// Clean a pasted value as its field's rules say.
    pub fn clean_field(&self, provider: &str, field: &str, raw: &str) -> Result<FieldReport> {
        let p = self.catalog.provider(provider)?;
        let f = p
            .field(field)
            .ok_or_else(|| Error::internal(format!("{} has no field {field}.", p.name)))?;
        let (cleaned, check) = f.check(raw);
        Ok(FieldReport {
            removed: check.removed,
            ok: check.ok,
            problem: check.problem,
            length: check.length,
            remove_at: cleaned.removed_at,
        })
    }

    /// The text of a value to copy, exactly as Patchbay uses it.
    pub async fn copy_text(&self, item: CopyItem) -> Result<String> {
        Ok(match item {
            CopyItem::CallbackUrl {
                provider,
                environment,
                redirect_page,
            } => self
                .plan(&provider, Some(&environment), redirect_page.as_deref())
                .await?
                .redirect_uri
                .ok_or_else(|| Error::invalid_input("This system has no callback URL."))?,
            CopyItem::AuthorizeUrl => self.authorize_url()?,
            CopyItem::Value {
                provider,
                step,
                label,
            } => self
                .catalog
                .provider(&provider)?
                .steps
                .iter()
                .find(|s| s.id == step)
                .and_then(|s| s.copy.iter().find(|c| c.label == label))
                .map(|c| c.value.clone())
                .ok_or_else(|| Error::internal("Nothing to copy there."))?,
            CopyItem::Report => self.report_text().await,
        })
    }

    /// The support report (no secrets).
    pub async fn report_text(&self) -> String {
        let health = crate::report::keychain_health(
            &self.keychain.location,
            self.keychain.message.as_deref(),
        );
        let connections = self.connections().await;
        crate::report::Report::gather(&connections, health)
            .await
            .to_text()
    }

    pub fn about(&self) -> About {
        About {
            version: env!("CARGO_PKG_VERSION"),
            os: crate::report::os(),
            credentials: self.keychain.location.clone(),
            settings: self.paths.config_dir.display().to_string(),
            logs: self.paths.log_dir.display().to_string(),
        }
    }

    /// Store what is held in memory only before the process ends; the connections still unsaved
    /// (the keychain refused them) and the message for the admin.
    pub async fn finish(&self) -> Option<String> {
        let connections = self.connections().await;
        let unsaved = connections.flush_unsaved().await;
        (!unsaved.is_empty()).then(|| {
            format!(
                "Patchbay renewed {} but {} would not save the renewed sign-in. Unlock the keychain and run the command again soon; if the vendor no longer accepts the old sign-in, connect again.",
                unsaved.join(", "),
                connections.location()
            )
        })
    }

    /// Whether to look for an update now (see [`updates`]).
    pub fn update_plan(&self, built_in: &updates::BuiltIn) -> updates::Plan {
        updates::plan(
            built_in,
            self.distribution.updates.as_ref(),
            self.is_practice(),
            self.preferences().update_checked_at,
            crate::oauth::now(),
        )
    }

    /// Remembers that the window looked for an update now.
    pub fn note_update_check(&self) {
        self.save_preferences(|p| p.update_checked_at = Some(crate::oauth::now()));
    }

    /// Whether a connect is under way (an update waits for it).
    pub fn busy(&self) -> bool {
        self.flow.lock().is_ok_and(|f| f.is_some())
    }

    fn preferences(&self) -> Preferences {
        std::fs::read_to_string(self.paths.config_dir.join("app.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Changes the preferences file (what else it holds is kept).
    fn save_preferences(&self, change: impl FnOnce(&mut Preferences)) {
        let mut prefs = self.preferences();
        change(&mut prefs);
        if let Ok(text) = serde_json::to_string(&prefs)
            && let Err(e) =
                write_atomically(&self.paths.config_dir.join("app.json"), text.as_bytes())
        {
            tracing::warn!(error = %e.detailed(), "could not save preferences");
        }
    }
}

/// The catalog for this computer: the built-in systems, those of the admin's catalog files its
/// connections came from, and `extra` (`--catalog`).
pub fn catalog_for(paths: &Paths, extra: Option<PathBuf>) -> Result<Catalog> {
    let settings = crate::settings::Settings::new(paths.clone());
    let mut files: Vec<PathBuf> = settings
        .connections()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.catalog_file)
        .collect();
    files.extend(extra);
    Catalog::with_files(&files)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn app(root: &std::path::Path) -> App {
        let opts = Options {
            paths: Paths::under(root),
            catalog: Catalog::builtin().unwrap(),
            keychain_service: "unused".into(),
            without_keychain: false,
            without_distribution: false,
            practice: PracticeMode::Off,
            remember_practice: true,
        };
        let health = KeychainHealth {
            ok: true,
            message: None,
            location: "memory".into(),
        };
        let store = Arc::new(crate::store::MemoryStore::default());
        App::with_store(opts, store, health).await.unwrap()
    }

    #[tokio::test]
    async fn the_last_update_check_is_remembered_across_runs_beside_practice_mode() {
        let dir = tempfile::tempdir().unwrap();
        let built_in = updates::BuiltIn {
            feed: Some(url::Url::parse("https://example.com/latest.json").unwrap()),
            signed: true,
        };
        let first = app(dir.path()).await;
        assert!(matches!(
            first.update_plan(&built_in),
            updates::Plan::Check(_)
        ));
        first.save_preferences(|p| p.practice = true);
        first.note_update_check();
        drop(first);
        let again = app(dir.path()).await;
        assert!(again.preferences().practice, "practice mode kept");
        assert_eq!(
            again.update_plan(&built_in),
            updates::Plan::Skip(updates::Skip::Practice),
            "practice mode came back on, so no look"
        );
        again.set_practice(false).await.unwrap();
        assert_eq!(
            again.update_plan(&built_in),
            updates::Plan::Skip(updates::Skip::NotDue)
        );
    }

    #[tokio::test]
    async fn a_connect_under_way_makes_the_app_busy() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        assert!(!app.busy());
        let (paste, _rx) = mpsc::channel(1);
        *app.flow.lock().unwrap() = Some(Flow {
            cancel: CancellationToken::new(),
            paste,
            authorize_url: None,
        });
        assert!(app.busy());
    }
}
