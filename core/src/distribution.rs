//! What whoever distributes Patchbay adds for the admins they support: who to ask when the
//! guide's steps do not work, and, per system and environment, the distributor's own vendor app
//! (its Client ID and secret) and the HTTPS relay registered as that app's redirect URI. This is
//! how the guides' Protiv and Unleashed work: the admin never creates an Intuit app. Patchbay
//! itself names no one and ships no keys; a distributor ships a `distribution.toml`, and
//! `docs/distribution.example.toml` is the guides' own contact in that format.
//!
//! ```toml
//! [support]
//! name = "Protiv"
//! email = "help@protiv.com"
//! phone = "+1 848-220-1416"
//! hours = "Calls weekdays from 9 am to 6 pm EST."
//!
//! [[system]]
//! provider = "quickbooks-online"
//! environment = "production"
//! client_id = "ABcd..."
//! client_secret = "..."
//! relay_url = "https://connect.example.com/patchbay/"
//! ```

use crate::catalog::Catalog;
use crate::error::{Error, ErrorKind, Result};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file's name, in the config folder or next to the program.
pub const FILE: &str = "distribution.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Who to ask: shown on Home next to the support report, and in About and help.
    pub support: Option<SupportContact>,
    /// The distributor's vendor apps and relays, per system and environment.
    #[serde(default, rename = "system")]
    pub systems: Vec<SystemApp>,
    /// Whether and where the app looks for a newer Patchbay (the built-in feed when not said).
    pub updates: Option<UpdateSettings>,
}

/// `[updates]`: a distributor may turn the daily check off (they ship updates themselves) or
/// point it at their own HTTPS feed (a copy of the signed manifests, for vetted versions). The
/// update must still carry the signature of the key built into the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    #[serde(default = "yes")]
    pub check: bool,
    pub feed: Option<String>,
}

fn yes() -> bool {
    true
}

/// One system and environment as the distributor set it up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemApp {
    /// A catalog id ("quickbooks-online").
    pub provider: String,
    pub environment: String,
    /// The distributor's app: both or neither. The secret goes to the keychain with the grant,
    /// like a pasted one, and never to the window.
    pub client_id: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "secret")]
    pub client_secret: Option<SecretString>,
    /// The distributor's hosted copy of `relay/`, registered at the vendor as the redirect URI.
    pub relay_url: Option<String>,
}

/// The secret straight into its redacting type (no `Debug` of the file shows it).
fn secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}

impl PartialEq for SystemApp {
    fn eq(&self, other: &Self) -> bool {
        use secrecy::ExposeSecret as _;
        self.provider == other.provider
            && self.environment == other.environment
            && self.client_id == other.client_id
            && self.relay_url == other.relay_url
            && self
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_string())
                == other
                    .client_secret
                    .as_ref()
                    .map(|s| s.expose_secret().to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportContact {
    /// Who they are ("Protiv", "the IT desk").
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// When they answer, in their words.
    pub hours: Option<String>,
}

impl Distribution {
    /// The first of `$PATCHBAY_DISTRIBUTION`, `distribution.toml` in `config_dir`, and
    /// `distribution.toml` next to the program (where an installer puts it) that exists; none
    /// of them: nothing added.
    pub fn load(config_dir: &Path) -> Result<Distribution> {
        let next_to_program = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join(FILE)));
        let candidates: Vec<PathBuf> = std::env::var_os("PATCHBAY_DISTRIBUTION")
            .map(PathBuf::from)
            .into_iter()
            .chain([config_dir.join(FILE)])
            .chain(next_to_program)
            .collect();
        for path in candidates {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return Distribution::parse(&text).map_err(|e| {
                        Error::new(
                            ErrorKind::Catalog,
                            format!(
                                "The distribution settings in {} cannot be used: {}",
                                path.display(),
                                e.message()
                            ),
                        )
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Catalog,
                        format!(
                            "The distribution settings in {} cannot be read.",
                            path.display()
                        ),
                    )
                    .with_source(e));
                }
            }
        }
        Ok(Distribution::default())
    }

    pub fn parse(text: &str) -> Result<Distribution> {
        let d: Distribution = toml::from_str(text)
            .map_err(|e| Error::new(ErrorKind::Catalog, e.message().to_string()))?;
        let mut problems = Vec::new();
        if let Some(s) = &d.support
            && (s.name.trim().is_empty() || !s.email.contains('@'))
        {
            problems.push("[support] needs a name and an email address.".to_string());
        }
        for (i, s) in d.systems.iter().enumerate() {
            let at = format!("[[system]] {} ({} {})", i + 1, s.provider, s.environment);
            if s.client_id.is_some() != s.client_secret.is_some() {
                problems.push(format!(
                    "{at}: client_id and client_secret go together (give both or neither)."
                ));
            }
            if s.client_id
                .as_deref()
                .is_some_and(|c| c.trim().is_empty() || c.trim() != c)
            {
                problems.push(format!("{at}: client_id is empty or has spaces around it."));
            }
            if let Some(r) = &s.relay_url
                && let Err(e) = crate::redirect::check_https_page(r)
            {
                problems.push(format!("{at}: relay_url {}", e.message()));
            }
            if s.client_id.is_none() && s.relay_url.is_none() {
                problems.push(format!("{at}: gives neither app keys nor a relay_url."));
            }
            if d.systems[..i]
                .iter()
                .any(|o| o.provider == s.provider && o.environment == s.environment)
            {
                problems.push(format!("{at}: is listed twice."));
            }
        }
        if let Some(feed) = d.updates.as_ref().and_then(|u| u.feed.as_deref())
            && let Err(e) = crate::redirect::check_https_page(feed)
        {
            problems.push(format!("[updates] feed {}", e.message()));
        }
        if !problems.is_empty() {
            return Err(Error::new(ErrorKind::Catalog, problems.join(" ")));
        }
        Ok(d)
    }

    /// Checks the systems against the catalog: each names a known system and environment, and
    /// app keys are given only where the vendor app is not the admin's own account (an OAuth
    /// app; Aspire's keys are made in each customer's own Aspire).
    pub fn check_against(&self, catalog: &Catalog) -> Result<()> {
        let mut problems = Vec::new();
        for s in &self.systems {
            let at = format!("[[system]] {} {}", s.provider, s.environment);
            match catalog.provider(&s.provider) {
                Err(_) => problems.push(format!("{at}: there is no system \"{}\".", s.provider)),
                Ok(p) => {
                    if p.environment(&s.environment).is_err() {
                        problems.push(format!(
                            "{at}: {} has no environment \"{}\".",
                            p.name, s.environment
                        ));
                    }
                    if p.auth.browser().is_none() {
                        problems.push(format!(
                            "{at}: {} keys are made in each customer's own {} account, so a distribution cannot supply them or a relay.",
                            p.name, p.name
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::Catalog, problems.join(" ")))
        }
    }

    /// [`Distribution::load`] and [`Distribution::check_against`] in one.
    pub fn load_checked(config_dir: &Path, catalog: &Catalog) -> Result<Distribution> {
        let d = Distribution::load(config_dir)?;
        d.check_against(catalog).map_err(|e| {
            Error::new(
                ErrorKind::Catalog,
                format!("The distribution settings cannot be used: {}", e.message()),
            )
        })?;
        Ok(d)
    }

    /// What the distribution set up for one system and environment, if anything.
    pub fn system(&self, provider: &str, environment: &str) -> Option<&SystemApp> {
        self.systems
            .iter()
            .find(|s| s.provider == provider && s.environment == environment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_nothing_is_added_without_one() {
        let example = include_str!("../../docs/distribution.example.toml");
        let d = Distribution::parse(example).unwrap();
        let s = d.support.unwrap();
        assert_eq!(s.email, "help@protiv.com");
        assert!(s.phone.is_some() && s.hours.is_some());

        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Distribution::load(dir.path()).unwrap(),
            Distribution::default()
        );
        std::fs::write(dir.path().join(FILE), example).unwrap();
        assert_eq!(
            Distribution::load(dir.path())
                .unwrap()
                .support
                .unwrap()
                .name,
            "Protiv"
        );
    }

    #[test]
    fn a_broken_file_says_where_and_what() {
        for bad in [
            "[support]\nemail = \"x@y\"\n",
            "[support]\nname = \"A\"\nemail = \"none\"\n",
            "[suport]\n",
        ] {
            assert!(Distribution::parse(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "[support\n").unwrap();
        let e = Distribution::load(dir.path()).unwrap_err();
        assert!(
            e.message()
                .contains(&dir.path().join(FILE).display().to_string()),
            "{e}"
        );
    }

    const QBO_APP: &str = "[[system]]\nprovider = \"quickbooks-online\"\nenvironment = \"production\"\nclient_id = \"ABcd1234\"\nclient_secret = \"sekrit-value-1\"\nrelay_url = \"https://connect.example.com/patchbay/\"\n";

    #[test]
    fn a_distributors_app_and_relay_are_read_and_the_secret_stays_redacted() {
        use secrecy::ExposeSecret as _;
        let d = Distribution::parse(QBO_APP).unwrap();
        let s = d.system("quickbooks-online", "production").unwrap();
        assert_eq!(s.client_id.as_deref(), Some("ABcd1234"));
        assert_eq!(
            s.client_secret.as_ref().unwrap().expose_secret(),
            "sekrit-value-1"
        );
        assert!(
            !format!("{d:?}").contains("sekrit-value-1"),
            "Debug of the settings must not show the secret"
        );
        assert!(d.system("quickbooks-online", "sandbox").is_none());
        d.check_against(&Catalog::builtin().unwrap()).unwrap();
        // The example shows the format with its app commented out: Patchbay ships no keys.
        let example = include_str!("../../docs/distribution.example.toml");
        assert!(example.contains("# [[system]]"));
        assert!(Distribution::parse(example).unwrap().systems.is_empty());
    }

    #[test]
    fn each_mistake_in_the_systems_is_named() {
        let sys = |body: &str| {
            format!(
                "[[system]]\nprovider = \"quickbooks-online\"\nenvironment = \"production\"\n{body}"
            )
        };
        for (text, says) in [
            (
                sys("client_id = \"ABcd1234\"\n"),
                "client_id and client_secret go together",
            ),
            (
                sys("relay_url = \"http://connect.example.com/\"\n"),
                "must start with https://",
            ),
            (
                sys("relay_url = \"https://localhost:8765/callback\"\n"),
                "not on this computer",
            ),
            (
                sys("relay_url = \"https://192.168.1.4/cb\"\n"),
                "IP address",
            ),
            (sys(""), "neither app keys nor a relay_url"),
            (
                sys("client_id = \" AB \"\nclient_secret = \"x\"\n"),
                "spaces around it",
            ),
            (format!("{QBO_APP}{QBO_APP}"), "listed twice"),
            (sys("relay = \"https://a.example/\"\n"), "unknown field"),
        ] {
            let e = Distribution::parse(&text).expect_err(&text);
            assert!(e.message().contains(says), "{text}\n-> {}", e.message());
        }
        let catalog = Catalog::builtin().unwrap();
        for (text, says) in [
            (
                QBO_APP.replace("quickbooks-online", "quickbooks-onlin"),
                "no system",
            ),
            (QBO_APP.replace("production", "staging"), "no environment"),
            (
                QBO_APP.replace("quickbooks-online", "aspire"),
                "made in each customer's own Aspire",
            ),
        ] {
            let e = Distribution::parse(&text)
                .unwrap()
                .check_against(&catalog)
                .expect_err(&text);
            assert!(e.message().contains(says), "{text}\n-> {}", e.message());
        }
    }
}
