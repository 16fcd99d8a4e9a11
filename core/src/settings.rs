//! Non-secret settings: which connections exist, their labels, last known state. These go to
//! the platform config directory as JSON, written atomically, read-modify-written under a file
//! lock so the app and the CLI can run side by side. Secrets never come here (see `store`).

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Where Patchbay keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    /// Lock files for refresh single-flight across processes.
    pub lock_dir: PathBuf,
    /// Log files (see `logging`): `~/Library/Logs/Patchbay` on macOS,
    /// `%LOCALAPPDATA%\Patchbay\Patchbay\data\logs` on Windows, `$XDG_STATE_HOME/patchbay/logs`
    /// on Linux.
    pub log_dir: PathBuf,
}

impl Paths {
    /// The platform directories, or everything under `$PATCHBAY_HOME` when it is set (tests,
    /// portable installs).
    pub fn from_env() -> Result<Paths> {
        if let Some(home) = std::env::var_os("PATCHBAY_HOME") {
            return Ok(Paths::under(Path::new(&home)));
        }
        let dirs =
            directories::ProjectDirs::from("dev", "Patchbay", "Patchbay").ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "Could not find your home folder to keep Patchbay's settings.",
                )
            })?;
        let data = dirs.data_local_dir().to_path_buf();
        let log_dir = match (cfg!(target_os = "macos"), directories::BaseDirs::new()) {
            (true, Some(base)) => base.home_dir().join("Library/Logs/Patchbay"),
            _ => dirs.state_dir().unwrap_or(&data).join("logs"),
        };
        Ok(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            lock_dir: data.join("locks"),
            data_dir: data,
            log_dir,
        })
    }

    pub fn under(root: &Path) -> Paths {
        Paths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            lock_dir: root.join("data").join("locks"),
            log_dir: root.join("logs"),
        }
    }

    pub fn connections_file(&self) -> PathBuf {
        self.config_dir.join("connections.json")
    }
}

/// A connection id as a file name (ids hold `:`, which some file systems refuse).
pub fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Who/which company a connection belongs to, from the verify call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub company: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.who.is_empty(), self.company.is_empty()) {
            (false, false) => write!(f, "{} at {}", self.who, self.company),
            (false, true) => f.write_str(&self.who),
            (true, false) => f.write_str(&self.company),
            (true, true) => f.write_str("(unnamed account)"),
        }
    }
}

/// The last error seen on a connection, for Home and the support report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub kind: ErrorKind,
    pub message: String,
    pub provider_detail: Option<String>,
    pub at: i64,
}

impl LastError {
    /// An error as a connection's last error, seen now.
    pub fn of(e: &crate::error::Error) -> LastError {
        LastError {
            kind: e.kind(),
            message: e.message().to_string(),
            provider_detail: e.provider_detail().map(str::to_string),
            at: crate::oauth::now(),
        }
    }
}

/// One connection as Home lists it. Nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub id: String,
    pub provider: String,
    pub environment: String,
    pub practice: bool,
    pub label: String,
    pub created_at: i64,
    pub identity: Option<Identity>,
    pub verified_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub refreshed_at: Option<i64>,
    /// Set when the grant is no longer accepted: the reason, in plain words.
    pub needs_reconnect: Option<String>,
    pub last_error: Option<LastError>,
    /// The admin's catalog file this system came from, if not built in.
    pub catalog_file: Option<PathBuf>,
    /// Set while a refresh is under way: if Patchbay is stopped (or the network drops) between
    /// the vendor rotating the refresh token and the keychain write, the next refresh knows why
    /// the vendor refuses the old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_started: Option<RefreshMark>,
    /// Saved configuration (mapping id -> chosen value and its name).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mappings: std::collections::BTreeMap<String, Choice>,
    /// How long the last calls to the vendor took, for the support report.
    #[serde(default)]
    pub timings: Timings,
}

/// How long the last of each vendor call took on this connection, in milliseconds: what support
/// asks first when "it is slow" or "it times out".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// The last successful connect, from Connect to verified and stored (the admin's time at the
    /// vendor's Allow page included).
    pub connect_ms: Option<u64>,
    /// The last token call: the sign-in's code exchange, the key exchange, or a refresh.
    pub token_ms: Option<u64>,
    /// The last verify call (the API call that proves the connection works).
    pub verify_ms: Option<u64>,
}

/// A refresh that started from the grant of this generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshMark {
    pub at: i64,
    pub generation: u64,
}

/// A chosen option: what is stored and what the admin saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub name: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SettingsFile {
    #[serde(default)]
    connections: Vec<ConnectionRecord>,
    /// Mappings the admin chose to keep when disconnecting, by connection id: the next connect
    /// of the same system and environment starts from them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    kept: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Choice>>,
}

/// The connections list on disk.
#[derive(Debug, Clone)]
pub struct Settings {
    paths: Paths,
}

impl Settings {
    pub fn new(paths: Paths) -> Settings {
        Settings { paths }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        Ok(self.read()?.connections)
    }

    pub fn connection(&self, id: &str) -> Result<Option<ConnectionRecord>> {
        Ok(self.connections()?.into_iter().find(|c| c.id == id))
    }

    /// Change one record (or add it) under the settings lock.
    pub fn update<F>(&self, id: &str, f: F) -> Result<()>
    where
        F: FnOnce(Option<ConnectionRecord>) -> Option<ConnectionRecord>,
    {
        let _lock = self.lock()?;
        let mut file = self.read()?;
        let pos = file.connections.iter().position(|c| c.id == id);
        let current = pos.map(|p| file.connections.remove(p));
        if let Some(new) = f(current) {
            match pos {
                Some(p) => file.connections.insert(p, new),
                None => file.connections.push(new),
            }
        }
        self.write(&file)
    }

    /// Remove a connection's record; its mappings are kept for the next connect when `keep`.
    /// Keep `e` as the connection's last error (best effort: the error itself is what matters);
    /// a `reconnect` one also marks the connection as needing a reconnect.
    pub fn note_error(&self, id: &str, e: &crate::error::Error) {
        let last = LastError::of(e);
        let reconnect =
            (e.kind() == crate::error::ErrorKind::Reconnect).then(|| e.message().to_string());
        let _ = self.update(id, |r| {
            r.map(|mut r| {
                r.last_error = Some(last);
                if reconnect.is_some() {
                    r.needs_reconnect = reconnect;
                }
                r
            })
        });
    }

    pub fn remove(&self, id: &str, keep: bool) -> Result<()> {
        let _lock = self.lock()?;
        let mut file = self.read()?;
        let removed = file
            .connections
            .iter()
            .position(|c| c.id == id)
            .map(|p| file.connections.remove(p));
        match removed
            .map(|r| r.mappings)
            .filter(|m| keep && !m.is_empty())
        {
            Some(mappings) => {
                file.kept.insert(id.to_string(), mappings);
            }
            None if !keep => {
                file.kept.remove(id);
            }
            None => {}
        }
        self.write(&file)
    }

    /// The mappings kept from a disconnected connection with this id.
    pub fn kept_mappings(&self, id: &str) -> Result<std::collections::BTreeMap<String, Choice>> {
        Ok(self.read()?.kept.remove(id).unwrap_or_default())
    }

    fn lock(&self) -> Result<fs::File> {
        fs::create_dir_all(&self.paths.config_dir)
            .map_err(|e| settings_error(&self.paths.config_dir, e))?;
        let path = self.paths.config_dir.join(".connections.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| settings_error(&path, e))?;
        file.lock().map_err(|e| settings_error(&path, e))?;
        Ok(file)
    }

    fn read(&self) -> Result<SettingsFile> {
        let path = self.paths.connections_file();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    ErrorKind::Storage,
                    format!(
                        "Patchbay's settings file {} is damaged. Move it away and connect again.",
                        path.display()
                    ),
                )
                .with_source(e)
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SettingsFile::default()),
            Err(e) => Err(settings_error(&path, e)),
        }
    }

    fn write(&self, file: &SettingsFile) -> Result<()> {
        let path = self.paths.connections_file();
        let text = serde_json::to_string_pretty(file).map_err(|e| {
            Error::internal("Patchbay could not put its settings into words.").with_source(e)
        })?;
        write_atomically(&path, text.as_bytes())
    }
}

/// Write via a temporary file in the same folder and a rename, so a crash leaves either the old
/// or the new file, never half of one. Readable by this user only.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dir(dir).map_err(|e| settings_error(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    private_file(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
        .map_err(|e| settings_error(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| settings_error(path, e))
}

/// Create a folder of Patchbay's own (and its parents), open to this user only on Unix (on
/// Windows the user's profile folders already are).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Create (or empty) a file readable and writable by this user only.
pub fn private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // An existing file keeps its mode on open: set it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn settings_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Storage,
        format!(
            "Patchbay could not write its settings in {}. Check that the folder is writable.",
            path.display()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
impl ConnectionRecord {
    /// A new connection's record, for unit tests.
    pub(crate) fn for_tests(id: &str, provider: &str, environment: &str) -> ConnectionRecord {
        ConnectionRecord {
            id: id.into(),
            provider: provider.into(),
            environment: environment.into(),
            practice: false,
            label: format!("{provider} ({environment})"),
            created_at: 1,
            identity: None,
            verified_at: None,
            expires_at: None,
            refreshed_at: None,
            needs_reconnect: None,
            last_error: None,
            refresh_started: None,
            catalog_file: None,
            mappings: Default::default(),
            timings: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> ConnectionRecord {
        ConnectionRecord::for_tests(id, "aspire", "sandbox")
    }

    #[test]
    fn records_are_added_changed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::new(Paths::under(dir.path()));
        assert!(s.connections().unwrap().is_empty());
        s.update("a", |_| Some(record("a"))).unwrap();
        s.update("b", |_| Some(record("b"))).unwrap();
        s.update("a", |r| {
            r.map(|mut r| {
                r.label = "changed".into();
                r
            })
        })
        .unwrap();
        let all = s.connections().unwrap();
        assert_eq!(
            all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"],
            "order kept"
        );
        assert_eq!(all[0].label, "changed");
        s.update("a", |_| None).unwrap();
        assert_eq!(s.connections().unwrap().len(), 1);
    }

    #[test]
    fn damaged_settings_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        fs::create_dir_all(&paths.config_dir).unwrap();
        fs::write(paths.connections_file(), "{not json").unwrap();
        let err = Settings::new(paths).connections().unwrap_err();
        assert!(err.message().contains("damaged"), "{}", err.message());
    }

    #[test]
    fn settings_are_this_users_only_and_an_unwritable_folder_is_a_storage_problem() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let file = paths.connections_file();
        write_atomically(&file, b"{}").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(file.parent().unwrap()), 0o700);
        }
        // A folder that cannot be made (a file is in its place; even root cannot write there):
        // the storage advice, not "re-copy your secret".
        let blocked = dir.path().join("blocked");
        fs::write(&blocked, "a file").unwrap();
        let err = Settings::new(Paths::under(&blocked))
            .update("x", |_| None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
        assert!(err.message().contains("writable"), "{err}");
    }

    #[test]
    fn identity_reads_naturally() {
        let i = Identity {
            who: "Mary Samsonite".into(),
            company: "Blake Moving".into(),
        };
        assert_eq!(i.to_string(), "Mary Samsonite at Blake Moving");
        assert_eq!(
            Identity {
                who: String::new(),
                company: "Larry's Bakery".into()
            }
            .to_string(),
            "Larry's Bakery"
        );
    }
}
