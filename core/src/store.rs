//! Where secrets live: the OS keychain, one entry per (service, account), and nowhere else.
//!
//! Windows Credential Manager, macOS Keychain and the Secret Service on Linux, through
//! `keyring` v4. There is no plaintext fallback: when the keychain cannot be used, the error
//! says so (kind `keychain`). An in-memory store exists for unit tests only.
//!
//! A connection's grant is kept in two entries so each stays under Windows' 2560-byte limit and
//! so a refresh can store the (possibly rotated) refresh token before anything else:
//! `<connection>` holds the client credentials and the refresh token, `<connection>#access` the
//! access token. Both carry a generation number; an access entry from another generation is
//! stale (a crash between the two writes) and is refreshed.
//!
//! One cohesive thing (the keychain, its layout and its words per system), with its tests.

use crate::error::{Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Windows Credential Manager's limit on a credential blob; we hold every platform to it.
pub const MAX_ENTRY_BYTES: usize = 2560;

/// A place that keeps secrets by account name. Two real implementations: the OS keychain, and
/// an in-memory map for unit tests.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>>;
    fn set(&self, account: &str, value: &str) -> Result<()>;
    /// Deleting an absent entry is not an error.
    fn delete(&self, account: &str) -> Result<()>;
    /// Where the secrets are, in the admin's words ("the macOS Keychain").
    fn location(&self) -> &'static str;
}

/// The OS keychain.
#[derive(Debug)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    /// Open the keychain and check once that it really works (a locked or missing keychain is
    /// found here, at start-up, not in the middle of a connection).
    pub fn open(service: &str) -> Result<Keychain> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(keychain_error(e, "open"));
        }
        let k = Keychain {
            service: service.to_string(),
        };
        // Our own probe entry: processes starting together must not delete each other's.
        let probe = format!(
            "patchbay-health-check-{}-{}",
            std::process::id(),
            crate::oauth::now()
        );
        let probe = probe.as_str();
        k.set(probe, "ok")?;
        match k.get(probe)? {
            Some(v) if v.as_str() == "ok" => {}
            _ => {
                return Err(Error::keychain(
                    "The keychain accepted a test entry but did not give it back. Patchbay cannot \
                     keep credentials safely on this computer until the keychain works.",
                ));
            }
        }
        k.delete(probe)?;
        Ok(k)
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(|e| keychain_error(&e, "open"))
    }
}

impl SecretStore for Keychain {
    fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>> {
        match self.entry(account)?.get_secret() {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                match std::str::from_utf8(&bytes) {
                    Ok(s) => Ok(Some(Zeroizing::new(s.to_string()))),
                    Err(_) => Err(Error::keychain(
                        "An entry Patchbay saved in the keychain is damaged. Disconnect and connect again.",
                    )),
                }
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(&e, "read")),
        }
    }

    fn set(&self, account: &str, value: &str) -> Result<()> {
        check_size(value)?;
        self.entry(account)?
            .set_secret(value.as_bytes())
            .map_err(|e| keychain_error(&e, "save"))
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(&e, "delete")),
        }
    }

    fn location(&self) -> &'static str {
        Os::THIS.keychain()
    }
}

/// The systems whose keychains have different names and remedies. A value rather than `cfg`
/// branches, so every system's words are tested on any machine; [`Os::THIS`] picks one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Windows,
    MacOs,
    /// Linux and the other desktops with a Secret Service keyring.
    Other,
}

impl Os {
    pub const THIS: Os = if cfg!(target_os = "windows") {
        Os::Windows
    } else if cfg!(target_os = "macos") {
        Os::MacOs
    } else {
        Os::Other
    };

    /// The keychain as the admin's system names it.
    pub fn keychain(self) -> &'static str {
        match self {
            Os::Windows => "Windows Credential Manager",
            Os::MacOs => "the macOS Keychain",
            Os::Other => "your desktop's keyring",
        }
    }

    /// The keychain is there but locked, or Patchbay was refused.
    fn locked_advice(self) -> &'static str {
        match self {
            Os::Windows => {
                "Windows Credential Manager did not let Patchbay in. Sign out of Windows and sign in again, then try again."
            }
            Os::MacOs => {
                "The macOS Keychain is locked, or Patchbay was not allowed to use it. Open Keychain Access, unlock the login keychain, then try again; if macOS asks whether Patchbay may use the keychain, click Always Allow."
            }
            Os::Other => {
                "Your desktop's keyring is locked, or Patchbay was not allowed to use it. Unlock your login keyring (signing out and in again does it), then try again."
            }
        }
    }

    /// No keychain could be reached at all.
    fn missing_advice(self) -> &'static str {
        match self {
            Os::Windows => {
                "Windows Credential Manager could not be used, so Patchbay cannot keep credentials safely (it never stores them in a plain file). Restart the computer; if it keeps happening, ask whoever looks after this computer to check Credential Manager."
            }
            Os::MacOs => {
                "The macOS Keychain could not be used, so Patchbay cannot keep credentials safely (it never stores them in a plain file). Open Keychain Access and check that you have a login keychain, then restart Patchbay."
            }
            Os::Other => {
                "No keyring is running on this computer, so Patchbay cannot keep credentials safely (it never stores them in a plain file). Start your desktop's login keyring (GNOME Keyring or KWallet), then restart Patchbay."
            }
        }
    }
}

fn check_size(value: &str) -> Result<()> {
    if value.len() > MAX_ENTRY_BYTES {
        return Err(Error::keychain(format!(
            "A credential is too large for the keychain ({} bytes; Windows allows {MAX_ENTRY_BYTES}). \
             Nothing was saved. Please report this to whoever supports Patchbay.",
            value.len()
        )));
    }
    Ok(())
}

fn keychain_error(e: &keyring::Error, action: &str) -> Error {
    let message = match e {
        keyring::Error::NoStorageAccess(_) => Os::THIS.locked_advice().to_string(),
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
            Os::THIS.missing_advice().to_string()
        }
        keyring::Error::TooLong(_, limit) => {
            format!(
                "A credential is too large for the keychain (limit {limit}). Nothing was saved."
            )
        }
        _ => format!(
            "The keychain refused to {action} Patchbay's entry. Try again; if it keeps failing, restart the computer."
        ),
    };
    // The keyring error is kept for the log; it names the store, never a secret.
    Error::new(ErrorKind::Keychain, message).with_source(std::io::Error::other(e.to_string()))
}

/// Stands in when the keychain failed its start-up check: every use gives that same clear
/// "keychain" error, so nothing is ever stored anywhere else.
#[derive(Debug)]
pub struct Unavailable {
    message: String,
}

impl Unavailable {
    pub fn new(error: &Error) -> Unavailable {
        Unavailable {
            message: error.message().to_string(),
        }
    }
}

impl SecretStore for Unavailable {
    fn get(&self, _account: &str) -> Result<Option<Zeroizing<String>>> {
        Err(Error::keychain(self.message.clone()))
    }
    fn set(&self, _account: &str, _value: &str) -> Result<()> {
        Err(Error::keychain(self.message.clone()))
    }
    fn delete(&self, _account: &str) -> Result<()> {
        Err(Error::keychain(self.message.clone()))
    }
    fn location(&self) -> &'static str {
        Os::THIS.keychain()
    }
}

/// In-memory store for unit tests only: integration tests and CI use the real keychain.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: std::sync::Mutex<BTreeMap<String, String>>,
    pub fail_writes: std::sync::atomic::AtomicBool,
}

#[cfg(test)]
impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>> {
        let map = self
            .entries
            .lock()
            .map_err(|_| Error::keychain("poisoned"))?;
        Ok(map.get(account).map(|v| Zeroizing::new(v.clone())))
    }
    fn set(&self, account: &str, value: &str) -> Result<()> {
        check_size(value)?;
        if self.fail_writes.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::keychain("The keychain is locked (test)."));
        }
        let mut map = self
            .entries
            .lock()
            .map_err(|_| Error::keychain("poisoned"))?;
        map.insert(account.to_string(), value.to_string());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<()> {
        let mut map = self
            .entries
            .lock()
            .map_err(|_| Error::keychain("poisoned"))?;
        map.remove(account);
        Ok(())
    }
    fn location(&self) -> &'static str {
        "memory (tests)"
    }
}

/// A connection's credentials as held in memory. Secrets are `SecretString`: redacted in
/// `Debug`, zeroized on drop.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub client_secret: SecretString,
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<i64>,
    /// Extra callback parameters kept for API calls (Intuit's `realmId`).
    pub params: BTreeMap<String, String>,
    pub access_token: Option<SecretString>,
    /// Unix seconds; `None` when the vendor gives no lifetime.
    pub expires_at: Option<i64>,
    pub generation: u64,
}

#[cfg(test)]
impl Grant {
    /// A grant with sentinel secrets and a kept `realmId`, for unit tests.
    pub(crate) fn for_tests(generation: u64, access: &str, expires_at: i64) -> Grant {
        Grant {
            client_id: "cid".into(),
            client_secret: SecretString::from("sec-SENTINEL"),
            refresh_token: Some(SecretString::from("rt-SENTINEL")),
            refresh_expires_at: None,
            params: BTreeMap::from([("realmId".to_string(), "123".to_string())]),
            access_token: Some(SecretString::from(access.to_string())),
            expires_at: Some(expires_at),
            generation,
        }
    }
}

impl Grant {
    /// True when the access token exists and will still be valid `margin` seconds from `now`.
    pub fn fresh(&self, now: i64, margin: u64) -> bool {
        self.access_token.is_some() && self.expires_at.is_none_or(|exp| exp - now > margin as i64)
    }
}

#[derive(Serialize, Deserialize)]
struct CredentialsEntry {
    v: u8,
    client_id: String,
    client_secret: String,
    refresh_token: Option<String>,
    refresh_expires_at: Option<i64>,
    #[serde(default)]
    params: BTreeMap<String, String>,
    generation: u64,
}

#[derive(Serialize, Deserialize)]
struct AccessEntry {
    v: u8,
    access_token: String,
    expires_at: Option<i64>,
    generation: u64,
}

/// Reads and writes grants in a [`SecretStore`] with the two-entry layout above.
#[derive(Debug, Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
}

fn access_account(connection: &str) -> String {
    format!("{connection}#access")
}

fn to_json<T: Serialize>(value: &T) -> Result<Zeroizing<String>> {
    serde_json::to_string(value)
        .map(Zeroizing::new)
        .map_err(|e| Error::keychain("Could not prepare the keychain entry.").with_source(e))
}

impl Vault {
    pub fn new(store: Arc<dyn SecretStore>) -> Vault {
        Vault { store }
    }

    pub fn location(&self) -> &'static str {
        self.store.location()
    }

    pub fn load(&self, connection: &str) -> Result<Option<Grant>> {
        let Some(raw) = self.store.get(connection)? else {
            return Ok(None);
        };
        let creds: CredentialsEntry = serde_json::from_str(&raw).map_err(|_| {
            Error::keychain(
                "Patchbay's keychain entry for this connection is damaged. Connect again.",
            )
        })?;
        let access: Option<AccessEntry> = match self.store.get(&access_account(connection))? {
            Some(raw) => serde_json::from_str(&raw).ok(),
            None => None,
        };
        let access = access.filter(|a| a.generation == creds.generation);
        let mut grant = Grant {
            client_id: creds.client_id.clone(),
            client_secret: SecretString::from(creds.client_secret.clone()),
            refresh_token: creds.refresh_token.clone().map(SecretString::from),
            refresh_expires_at: creds.refresh_expires_at,
            params: creds.params.clone(),
            access_token: None,
            expires_at: None,
            generation: creds.generation,
        };
        if let Some(a) = access {
            grant.access_token = Some(SecretString::from(a.access_token.clone()));
            grant.expires_at = a.expires_at;
        }
        zeroize_creds(creds);
        Ok(Some(grant))
    }

    /// Store a grant: credentials (with the refresh token) first, then the access token. If the
    /// first write fails, whatever was stored before is untouched.
    pub fn save(&self, connection: &str, grant: &Grant) -> Result<()> {
        let creds = CredentialsEntry {
            v: 1,
            client_id: grant.client_id.clone(),
            client_secret: grant.client_secret.expose_secret().to_string(),
            refresh_token: grant
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            refresh_expires_at: grant.refresh_expires_at,
            params: grant.params.clone(),
            generation: grant.generation,
        };
        let creds_json = to_json(&creds)?;
        zeroize_creds(creds);
        let access_json = match &grant.access_token {
            Some(token) => {
                let entry = AccessEntry {
                    v: 1,
                    access_token: token.expose_secret().to_string(),
                    expires_at: grant.expires_at,
                    generation: grant.generation,
                };
                let json = to_json(&entry)?;
                let mut t = entry.access_token;
                zeroize::Zeroize::zeroize(&mut t);
                Some(json)
            }
            None => None,
        };
        // The credentials entry (with a rotated refresh token) first, and whatever the access
        // token's size: an access entry too large for the keychain is a cache not kept (the
        // next use refreshes), never a reason to lose the new refresh token.
        check_size(&creds_json)?;
        self.store.set(connection, &creds_json)?;
        crate::crashpoint::reached(crate::crashpoint::KEYCHAIN_BETWEEN_WRITES);
        match access_json.filter(|a| {
            let fits = check_size(a).is_ok();
            if !fits {
                tracing::warn!(
                    bytes = a.len(),
                    "access token too large for the keychain; not kept"
                );
            }
            fits
        }) {
            Some(a) => self.store.set(&access_account(connection), &a),
            None => self.store.delete(&access_account(connection)),
        }
    }

    pub fn delete(&self, connection: &str) -> Result<()> {
        self.store.delete(&access_account(connection))?;
        self.store.delete(connection)
    }
}

fn zeroize_creds(mut c: CredentialsEntry) {
    use zeroize::Zeroize;
    c.client_secret.zeroize();
    if let Some(t) = c.refresh_token.as_mut() {
        t.zeroize();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_system_names_its_own_keychain_and_remedy() {
        use super::Os;
        for (os, own, others) in [
            (
                Os::Windows,
                "Windows",
                &["macOS", "Keychain Access", "GNOME", "keyring", "Linux"][..],
            ),
            (
                Os::MacOs,
                "macOS",
                &["Windows", "Credential Manager", "GNOME", "KWallet", "Linux"][..],
            ),
            (
                Os::Other,
                "keyring",
                &["Windows", "macOS", "Keychain Access", "Linux"][..],
            ),
        ] {
            for text in [os.keychain(), os.locked_advice(), os.missing_advice()] {
                assert!(text.contains(own), "{os:?}: {text}");
                for word in others {
                    assert!(!text.contains(word), "{os:?} says {word}: {text}");
                }
            }
        }
        let this = if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Other
        };
        assert_eq!(Os::THIS, this, "the system these tests run on");
    }
    use super::*;

    fn grant(generation: u64, access: &str) -> Grant {
        Grant::for_tests(generation, access, 1000)
    }

    #[test]
    fn save_then_load_round_trips() {
        let vault = Vault::new(Arc::new(MemoryStore::default()));
        vault.save("c1", &grant(1, "at-1")).unwrap();
        let g = vault.load("c1").unwrap().unwrap();
        assert_eq!(g.access_token.unwrap().expose_secret(), "at-1");
        assert_eq!(g.refresh_token.unwrap().expose_secret(), "rt-SENTINEL");
        assert_eq!(g.params["realmId"], "123");
        assert_eq!(g.generation, 1);
    }

    #[test]
    fn access_entry_from_another_generation_is_ignored() {
        let store = Arc::new(MemoryStore::default());
        let vault = Vault::new(store.clone());
        vault.save("c1", &grant(1, "at-1")).unwrap();
        // Simulate a crash after the credentials entry of generation 2 was written.
        let mut g2 = grant(2, "at-2");
        g2.access_token = None;
        store
            .set(
                "c1",
                &serde_json::to_string(&CredentialsEntry {
                    v: 1,
                    client_id: "cid".into(),
                    client_secret: "s".into(),
                    refresh_token: Some("rt2".into()),
                    refresh_expires_at: None,
                    params: BTreeMap::new(),
                    generation: 2,
                })
                .unwrap(),
            )
            .unwrap();
        let g = vault.load("c1").unwrap().unwrap();
        assert!(
            g.access_token.is_none(),
            "a stale access token must not be used"
        );
        assert!(!g.fresh(0, 0));
    }

    #[test]
    fn an_oversized_access_token_never_blocks_the_new_refresh_token() {
        let vault = Vault::new(Arc::new(MemoryStore::default()));
        vault.save("c1", &grant(1, "at-1")).unwrap();
        let huge = "x".repeat(MAX_ENTRY_BYTES + 1);
        let mut renewed = grant(2, &huge);
        renewed.refresh_token = Some(SecretString::from("rt-ROTATED"));
        vault.save("c1", &renewed).unwrap();
        let g = vault.load("c1").unwrap().unwrap();
        assert_eq!(g.generation, 2);
        assert_eq!(
            g.refresh_token.unwrap().expose_secret(),
            "rt-ROTATED",
            "the rotated refresh token is stored"
        );
        assert!(
            g.access_token.is_none(),
            "the too-large access token is not kept"
        );
        // Credentials too large for the keychain are refused and change nothing.
        let mut bad = grant(3, "at-3");
        bad.client_secret = SecretString::from("s".repeat(MAX_ENTRY_BYTES + 1));
        let err = vault.save("c1", &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Keychain);
        assert!(err.message().contains("too large"), "{}", err.message());
        assert_eq!(vault.load("c1").unwrap().unwrap().generation, 2);
    }

    #[test]
    fn failed_write_keeps_the_old_grant() {
        let store = Arc::new(MemoryStore::default());
        let vault = Vault::new(store.clone());
        vault.save("c1", &grant(1, "at-1")).unwrap();
        store
            .fail_writes
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            vault.save("c1", &grant(2, "at-2")).unwrap_err().kind(),
            ErrorKind::Keychain
        );
        store
            .fail_writes
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let g = vault.load("c1").unwrap().unwrap();
        assert_eq!(g.refresh_token.unwrap().expose_secret(), "rt-SENTINEL");
        assert_eq!(g.generation, 1);
    }

    #[test]
    fn debug_of_a_grant_shows_no_secret() {
        let d = format!("{:?}", grant(1, "at-SENTINEL"));
        assert!(!d.contains("SENTINEL"), "{d}");
    }

    #[test]
    fn freshness_respects_the_margin() {
        let g = grant(1, "a");
        assert!(g.fresh(0, 500));
        assert!(!g.fresh(600, 500));
    }
}
