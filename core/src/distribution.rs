//! What whoever distributes Patchbay adds for the admins they support: who to ask when the
//! guide's steps do not work. Patchbay itself names no one (the guides' "help@protiv.com" is one
//! distributor's contact, not ours to print); a distributor ships a `distribution.toml`, and
//! `docs/distribution.example.toml` is the guides' own contact in that format.
//!
//! ```toml
//! [support]
//! name = "Protiv"
//! email = "help@protiv.com"
//! phone = "+1 848-220-1416"
//! hours = "Calls weekdays from 9 am to 6 pm EST."
//! ```

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file's name, in the config folder or next to the program.
pub const FILE: &str = "distribution.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Who to ask: shown on Home next to the support report, and in About and help.
    #[serde(default)]
    pub support: Option<SupportContact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportContact {
    /// Who they are ("Protiv", "the IT desk").
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// When they answer, in their words.
    #[serde(default)]
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
        if let Some(s) = &d.support
            && (s.name.trim().is_empty() || !s.email.contains('@'))
        {
            return Err(Error::new(
                ErrorKind::Catalog,
                "[support] needs a name and an email address.",
            ));
        }
        Ok(d)
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
}
