//! The catalog: every system Patchbay can connect, as data.
//!
//! The built-in catalog (`core/providers.toml`) is embedded and validated when loaded; an admin
//! may add systems from their own file in the same format (see the README). Nothing outside
//! this module knows a provider by name: mechanisms read what they need from a [`ProviderSpec`].

//!
//! - [`spec`](self): the types of a catalog file (re-exported here);
//! - `provider.rs`: what a system's entry answers, and its validation;
//! - `version1.rs`: reading the previous format.

mod provider;
mod spec;
#[cfg(test)]
mod tests;
mod version1;

pub use spec::*;

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use url::Url;

const BUILTIN: &str = include_str!("../../providers.toml");

/// The catalog format this Patchbay writes and reads; version 1 files (the mechanism beside an
/// `[provider.oauth]` or `[provider.exchange]` table) are converted when read.
pub const VERSION: i64 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogFile {
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) common_checklist: Vec<ChecklistItemSpec>,
    #[serde(default, rename = "provider")]
    pub(crate) providers: Vec<ProviderSpec>,
}

/// `https` is required, except for loopback hosts (local test servers, the emulator).
pub fn check_endpoint(raw: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("\"{raw}\" is not a valid URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "\"{raw}\" must use https (http is allowed only for 127.0.0.1/localhost)"
        )),
        other => Err(format!("\"{raw}\" uses unsupported scheme {other}")),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// All systems Patchbay knows, built-in first, then the admin's own.
#[derive(Debug, Clone)]
pub struct Catalog {
    providers: Vec<ProviderSpec>,
    common: Vec<ChecklistItemSpec>,
}

impl Catalog {
    /// The built-in catalog. Its validity is a test, so failing here is a build defect; it is
    /// still reported as an error rather than a panic.
    pub fn builtin() -> Result<Catalog> {
        Catalog::parse(BUILTIN, "the built-in catalog")
    }

    /// The built-in catalog plus systems from an admin's catalog file.
    pub fn with_file(path: &Path) -> Result<Catalog> {
        Catalog::with_files(&[path.to_path_buf()])
    }

    /// The built-in catalog plus systems from admin catalog files (duplicates are ignored when
    /// the same file is named twice).
    pub fn with_files(paths: &[std::path::PathBuf]) -> Result<Catalog> {
        let mut catalog = Catalog::builtin()?;
        let mut seen = HashSet::new();
        for path in paths {
            if !seen.insert(path.clone()) {
                continue;
            }
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::new(
                    ErrorKind::Catalog,
                    format!("Could not read the catalog file {}.", path.display()),
                )
                .with_source(e)
            })?;
            let extra = Catalog::parse(&text, &path.display().to_string())?;
            for p in extra.providers {
                if catalog.providers.iter().any(|b| b.id == p.id) {
                    return Err(Error::new(
                        ErrorKind::Catalog,
                        format!(
                            "The catalog file {} defines \"{}\", which is already known. Give it another id.",
                            path.display(),
                            p.id
                        ),
                    ));
                }
                catalog.providers.push(p);
            }
        }
        Ok(catalog)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Catalog> {
        let invalid = |e: toml::de::Error| {
            Error::new(
                ErrorKind::Catalog,
                format!("{origin} is not a valid catalog: {}", e.message()),
            )
        };
        let version = toml::from_str::<toml::Table>(text)
            .map_err(invalid)?
            .get("version")
            .and_then(toml::Value::as_integer);
        let file: CatalogFile = match version {
            Some(VERSION) => toml::from_str(text).map_err(invalid)?,
            Some(1) => {
                tracing::info!(%origin, "read a version 1 catalog (converted to version {VERSION} in memory)");
                version1::read(text).map_err(|e| {
                    Error::new(
                        ErrorKind::Catalog,
                        format!("{origin} (catalog version 1) could not be read: {e}. Version {VERSION} puts each system's sign-in settings in [provider.auth] with its mechanism; see the README."),
                    )
                })?
            }
            other => {
                return Err(Error::new(
                    ErrorKind::Catalog,
                    format!(
                        "{origin} has version {}, this Patchbay reads versions 1 and {VERSION}.",
                        other.map_or("none".to_string(), |v| v.to_string())
                    ),
                ));
            }
        };
        let mut problems = Vec::new();
        let mut ids = HashSet::new();
        for p in &file.providers {
            if !ids.insert(p.id.clone()) {
                problems.push(format!("{}: listed twice", p.id));
            }
            problems.extend(p.validate(&file.common_checklist));
        }
        if !problems.is_empty() {
            return Err(Error::new(
                ErrorKind::Catalog,
                format!("{origin} has problems:\n  - {}", problems.join("\n  - ")),
            ));
        }
        Ok(Catalog {
            providers: file.providers,
            common: file.common_checklist,
        })
    }

    /// Use another fixed callback port for every browser-based system (when the default one is
    /// taken for good on this computer; the admin then registers the URL with this port).
    pub fn set_callback_port(&mut self, port: u16) {
        for p in &mut self.providers {
            p.auth.mechanism_mut().set_callback_port(port);
        }
    }

    pub fn providers(&self) -> &[ProviderSpec] {
        &self.providers
    }

    pub fn provider(&self, id: &str) -> Result<&ProviderSpec> {
        self.providers.iter().find(|p| p.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.providers.iter().map(|p| p.id.as_str()).collect();
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "There is no system called \"{id}\". Known systems: {}.",
                    known.join(", ")
                ),
            )
        })
    }

    /// The common checklist item an error of this kind turns red, if any (for errors outside a
    /// connection attempt, e.g. a dead keychain at start-up).
    pub fn common_item(&self, kind: ErrorKind) -> Option<&ChecklistItemSpec> {
        self.common.iter().find(|c| c.fails_on.contains(&kind))
    }

    /// A provider's checklist: its own items, then the common ones it does not override.
    pub fn checklist(&self, provider: &ProviderSpec) -> Vec<ChecklistItemSpec> {
        let mut items = provider.checklist.clone();
        for c in &self.common {
            // Without a browser step nothing listens for an answer, so the port is not a concern.
            let about_callback = c.passes_on == Signal::PortFree;
            if provider.auth.browser().is_none() && about_callback {
                continue;
            }
            // With one environment there is no wrong one to pick.
            let about_environment = c.fails_on == [ErrorKind::WrongEnvironment];
            if provider.environments.len() < 2 && about_environment {
                continue;
            }
            if !items.iter().any(|i| i.id == c.id) {
                items.push(c.clone());
            }
        }
        items
    }
}
