//! Practice mode: the bundled emulator started on this computer (it plays the vendors and a
//! distributor with its own apps and relay), or an emulator already running at a given address.

use crate::distribution::Distribution;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::Paths;
use url::Url;

/// Whether and how practice mode runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PracticeMode {
    /// Real vendors only (the window may still turn practice mode on).
    Off,
    /// The bundled emulator, started here.
    Bundled,
    /// An emulator already running there (tests; `PATCHBAY_EMULATOR_URL`). Its apps and relay
    /// are described by the distribution file.
    At(Url),
}

/// Practice mode while it is on.
#[derive(Debug)]
pub(super) struct Practice {
    pub base: Url,
    /// The practice keys to type (published: not secrets).
    pub apps: Vec<patchbay_emulator::AppInfo>,
    /// The distributor practice plays: the bundled emulator's own apps and relay; for an emulator
    /// of one's own, the distribution file.
    pub distribution: Distribution,
    _emulator: Option<patchbay_emulator::Emulator>,
}

impl Practice {
    pub async fn start(mode: &PracticeMode, paths: &Paths, own: &Distribution) -> Result<Practice> {
        if let PracticeMode::At(base) = mode {
            // Only the practice keys that emulator really has are offered.
            let listed = registered(base).await;
            return Ok(Practice {
                base: base.clone(),
                apps: patchbay_emulator::practice_apps()
                    .into_iter()
                    .filter(|a| listed.contains(&a.client_id))
                    .collect(),
                distribution: own.clone(),
                _emulator: None,
            });
        }
        let _ = std::fs::create_dir_all(&paths.data_dir);
        let config = patchbay_emulator::EmulatorConfig {
            state_file: Some(paths.data_dir.join("practice-emulator.json")),
            ..Default::default()
        };
        let emulator = patchbay_emulator::Emulator::start(config)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Network,
                    "Practice mode could not start on this computer.",
                )
                .with_source(e)
            })?;
        let base = Url::parse(&emulator.base_url()).map_err(|e| {
            Error::new(ErrorKind::Network, "Practice mode has no valid address.").with_source(e)
        })?;
        Ok(Practice {
            base,
            apps: emulator.practice_apps(),
            distribution: Distribution::parse(patchbay_emulator::PRACTICE_DISTRIBUTION)?,
            _emulator: Some(emulator),
        })
    }
}

/// The client ids of the apps a running emulator has (none when it does not answer).
async fn registered(base: &Url) -> Vec<String> {
    let Ok(url) = base.join("_emulator/apps") else {
        return Vec::new();
    };
    let apps = async {
        let http = crate::http::client_with_timeout(std::time::Duration::from_secs(5)).ok()?;
        let listed: serde_json::Value = http.get(url).send().await.ok()?.json().await.ok()?;
        Some(
            listed
                .as_array()?
                .iter()
                .filter_map(|a| a["client_id"].as_str().map(str::to_string))
                .collect(),
        )
    };
    apps.await.unwrap_or_default()
}

impl PracticeMode {
    /// The mode the environment asks for: `PATCHBAY_EMULATOR_URL` (a running emulator) or
    /// `PATCHBAY_PRACTICE=1` (the bundled one).
    pub fn from_env() -> Result<PracticeMode> {
        match std::env::var("PATCHBAY_EMULATOR_URL") {
            Ok(url) => Url::parse(&url).map(PracticeMode::At).map_err(|e| {
                Error::invalid_input("PATCHBAY_EMULATOR_URL is not a valid address.").with_source(e)
            }),
            Err(_) if std::env::var("PATCHBAY_PRACTICE").is_ok_and(|v| v == "1") => {
                Ok(PracticeMode::Bundled)
            }
            Err(_) => Ok(PracticeMode::Off),
        }
    }
}
