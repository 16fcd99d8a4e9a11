//! A connection's token source (rclone's `TokenSource` idea): hands out a valid access token,
//! renewing the grant when it is due, once however many callers ask.
//!
//! - **Single flight**, in this process (a lock per connection whose slot keeps the token the
//!   last renewal here got) and across processes (a lock file per connection; whoever waited
//!   re-reads the stored grant and uses the token the winner stored).
//! - **Rotation-safe**: the renewed grant (a rotated refresh token) is stored before the access
//!   token is handed out; a keychain that refuses it gets it again at every use while the grant
//!   is held in memory only, never lost while the process runs.
//! - **Crash marks**: a renewal is marked as started in the settings; a mark left from the same
//!   generation means the last one never finished, which explains a refused refresh token.
//!
//! The vendor call itself is a [`Renew`], so all of this is tested on the in-memory store (the
//! tests are half of this file: one cohesive thing, kept together on purpose).

use crate::catalog::ProviderSpec;
use crate::crashpoint;
use crate::endpoint::{Pending, timed};
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::{TokenSet, now};
use crate::settings::{RefreshMark, Settings};
use crate::store::{Grant, Vault};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a renewal waits for another process's renewal of the same connection: far longer
/// than one takes, so only a hung holder reaches it. Debug builds (the tests) may shorten it with
/// `PATCHBAY_LOCK_WAIT_SECS`.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Asks the vendor for new tokens for a grant (the endpoint's refresh; a counter in tests).
pub trait Renew: Send + Sync {
    fn renew<'a>(&'a self, grant: &'a Grant) -> Pending<'a, TokenSet>;
}

/// The outcome of the last renewal of a connection in this process.
#[derive(Debug)]
struct Renewed {
    generation: u64,
    token: SecretString,
    expires_at: Option<i64>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Renewed>>>;

/// The grants of this computer's connections, and their renewal.
#[derive(Debug)]
pub struct TokenSource {
    vault: Vault,
    settings: Settings,
    /// One renewal at a time per connection in this process.
    flights: Mutex<HashMap<String, Slot>>,
    /// Renewed grants the keychain would not store: used instead of the keychain's older one
    /// and written again at every use.
    unsaved: Mutex<HashMap<String, Grant>>,
}

impl TokenSource {
    pub fn new(vault: Vault, settings: Settings) -> TokenSource {
        TokenSource {
            vault,
            settings,
            flights: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(HashMap::new()),
        }
    }

    /// Where the credentials are kept, in the admin's words.
    pub fn location(&self) -> &'static str {
        self.vault.location()
    }

    /// The connection's grant: a renewed one the keychain has not taken yet (written again now),
    /// else the keychain's.
    pub async fn load(&self, id: &str) -> Result<Option<Grant>> {
        let vault = self.vault.clone();
        let key = id.to_string();
        let stored = tokio::task::spawn_blocking(move || vault.load(&key))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))?;
        let Some(unsaved) = self.unsaved_grant(id) else {
            return stored;
        };
        match &stored {
            // Someone stored a newer one (another process): it wins.
            Ok(Some(g)) if g.generation >= unsaved.generation => {
                self.forget_unsaved(id);
                stored
            }
            _ => {
                if self.save(id, unsaved.clone()).await.is_ok() {
                    self.forget_unsaved(id);
                    tracing::info!("a renewed sign-in the keychain had refused is now stored");
                }
                Ok(Some(unsaved))
            }
        }
    }

    /// The connection's grant, which must exist: a missing one is a keychain matter (something
    /// removed it), fixed by connecting again.
    pub async fn grant(&self, id: &str, p: &ProviderSpec) -> Result<Grant> {
        self.load(id).await?.ok_or_else(|| self.missing(p))
    }

    /// The error for a connection on record whose keychain entry is gone.
    pub fn missing(&self, p: &ProviderSpec) -> Error {
        Error::keychain(format!(
            "The saved credentials for {} are no longer in {} (something removed them). Connect again to save new ones; your settings are kept.",
            p.name,
            self.location()
        ))
    }

    /// A valid access token for the connection whose grant the caller loaded (`before`),
    /// renewed first if it expires within the system's margin (or if `force`).
    pub async fn token(
        &self,
        id: &str,
        p: &ProviderSpec,
        before: &Grant,
        force: bool,
        renew: &dyn Renew,
    ) -> Result<SecretString> {
        let margin = p.auth.mechanism().refresh_margin();
        if !force
            && before.fresh(now(), margin)
            && let Some(t) = &before.access_token
        {
            return Ok(t.clone());
        }
        let flight = self.flight(id)?;
        let mut slot = flight.lock().await;
        if let Some(r) = slot.as_ref()
            && r.generation > before.generation
            && r.expires_at.is_none_or(|exp| exp > now())
        {
            // A renewal in this process finished while we waited: its token is the newest.
            return Ok(r.token.clone());
        }
        let _cross_process = self.lock_file(id).await?;
        let current = self.grant(id, p).await?;
        // Whoever renewed while we waited got the vendor's newest token: use it while it is
        // valid at all, even inside the margin (renewing again would get no better one).
        let someone_else_renewed = current.generation != before.generation;
        let usable = if someone_else_renewed {
            current.fresh(now(), 0)
        } else {
            !force && current.fresh(now(), margin)
        };
        if usable && let Some(t) = current.access_token {
            return Ok(t);
        }
        let generation = current.generation + 1;
        match self.renew_locked(id, p, current, renew).await {
            Ok((token, expires_at)) => {
                *slot = Some(Renewed {
                    generation,
                    token: token.clone(),
                    expires_at,
                });
                Ok(token)
            }
            Err(e) => {
                tracing::warn!(system = %p.name, kind = %e.kind(), error = %e.detailed(), "refresh failed");
                self.settings.note_error(id, &e);
                Err(e)
            }
        }
    }

    async fn renew_locked(
        &self,
        id: &str,
        p: &ProviderSpec,
        current: Grant,
        renew: &dyn Renew,
    ) -> Result<(SecretString, Option<i64>)> {
        // Mark the renewal as started from this generation (we hold the lock). A mark left from
        // this same generation means the last renewal never finished: the vendor may have
        // rotated the refresh token without Patchbay storing the new one.
        let interrupted = self
            .settings
            .connection(id)?
            .and_then(|r| r.refresh_started)
            .filter(|m| m.generation == current.generation);
        let mark = RefreshMark {
            at: now(),
            generation: current.generation,
        };
        // Best effort: a settings file that cannot be written must not stop the renewal itself.
        if let Err(e) = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refresh_started = Some(mark);
                r
            })
        }) {
            tracing::warn!(error = %e.detailed(), "could not mark the refresh as started");
        }
        crashpoint::reached(crashpoint::REFRESH_BEFORE_REQUEST);
        let (tokens, token_ms) = timed(renew.renew(&current)).await;
        let tokens = match tokens {
            Ok(t) => t,
            Err(e) => {
                if matches!(e.kind(), ErrorKind::Reconnect | ErrorKind::InvalidClient) {
                    self.clear_mark(id);
                }
                return Err(match interrupted {
                    Some(m) if e.kind() == ErrorKind::Reconnect => Error::new(
                        ErrorKind::Reconnect,
                        format!(
                            "The renewal of this connection that started {} ago was interrupted (Patchbay was closed, or the network dropped) before Patchbay could save what {name} sent back, and {name} no longer accepts the previous sign-in. Connect again; your settings are kept.",
                            crate::error::human_duration(now().saturating_sub(m.at).max(1) as u64),
                            name = p.name
                        ),
                    ),
                    _ => e,
                });
            }
        };
        crashpoint::reached(crashpoint::REFRESH_AFTER_RESPONSE);
        let grant = Grant {
            refresh_token: tokens
                .refresh_token
                .clone()
                .or(current.refresh_token.clone()),
            refresh_expires_at: tokens.refresh_expires_at.or(current.refresh_expires_at),
            access_token: Some(tokens.access_token.clone()),
            expires_at: tokens.expires_at,
            generation: current.generation + 1,
            ..current
        };
        // Stored before use; if the keychain refuses, held in memory and stored at the next use
        // (the vendor may have retired the old refresh token: it must not be lost).
        self.store_renewed(id, p, grant).await;
        crashpoint::reached(crashpoint::REFRESH_AFTER_WRITE);
        let t = now();
        let _ = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refreshed_at = Some(t);
                r.expires_at = tokens.expires_at;
                r.needs_reconnect = None;
                r.refresh_started = None;
                r.timings.token_ms = Some(token_ms);
                r
            })
        });
        tracing::info!(system = %p.name, token_ms, "refreshed");
        Ok((tokens.access_token, tokens.expires_at))
    }

    /// Store a newly connected grant in place of `old` (the one read before the connect), under
    /// both renewal locks: a renewal of the old grant running now (here or in another process)
    /// finishes first and cannot overwrite it afterwards. `make` gets the new generation.
    pub async fn replace(
        &self,
        id: &str,
        old: Option<Grant>,
        make: impl FnOnce(u64) -> Grant,
    ) -> Result<Grant> {
        let flight = self.flight(id)?;
        let mut slot = flight.lock().await;
        let _cross_process = self.lock_file(id).await?;
        let latest = self.load(id).await.ok().flatten().or(old);
        let grant = make(next_generation(latest.as_ref().map(|g| g.generation)));
        self.save(id, grant.clone()).await?;
        self.forget_unsaved(id);
        // A token renewed here for the old grant is nobody's any more.
        *slot = None;
        Ok(grant)
    }

    /// Delete the connection's grant; nobody in this process is handed its tokens afterwards.
    pub async fn remove(&self, id: &str) -> Result<()> {
        let vault = self.vault.clone();
        let key = id.to_string();
        tokio::task::spawn_blocking(move || vault.delete(&key))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))??;
        self.forget_unsaved(id);
        if let Ok(mut flights) = self.flights.lock() {
            flights.remove(id);
        }
        Ok(())
    }

    /// The connections whose renewed sign-in is held in memory only (the keychain refused it).
    pub fn unsaved(&self) -> Vec<String> {
        self.unsaved
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Try once more to store every renewed sign-in held in memory (before a process ends).
    /// Returns the connections still not stored.
    pub async fn flush_unsaved(&self) -> Vec<String> {
        for id in self.unsaved() {
            let _ = self.load(&id).await;
        }
        self.unsaved()
    }

    fn unsaved_grant(&self, id: &str) -> Option<Grant> {
        self.unsaved.lock().ok().and_then(|m| m.get(id).cloned())
    }

    fn forget_unsaved(&self, id: &str) {
        if let Ok(mut m) = self.unsaved.lock() {
            m.remove(id);
        }
    }

    fn flight(&self, id: &str) -> Result<Slot> {
        let mut map = self
            .flights
            .lock()
            .map_err(|_| Error::internal("A lock inside Patchbay was broken."))?;
        Ok(map.entry(id.to_string()).or_default().clone())
    }

    async fn save(&self, id: &str, grant: Grant) -> Result<()> {
        let vault = self.vault.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || vault.save(&id, &grant))
            .await
            .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))?
    }

    /// Store a renewed grant, trying again briefly when the keychain refuses; when it still
    /// refuses, the grant is kept in memory (never on disk) and written at the next use, and the
    /// renewal still succeeds: the vendor may already have retired the old refresh token.
    async fn store_renewed(&self, id: &str, p: &ProviderSpec, grant: Grant) {
        let mut last = None;
        for pause in [0, 150, 600] {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            match self.save(id, grant.clone()).await {
                Ok(()) => {
                    self.forget_unsaved(id);
                    return;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            tracing::error!(system = %p.name, error = %e.detailed(), "the keychain refused the renewed sign-in; kept in memory until it takes it");
            self.settings.note_error(
                id,
                &Error::keychain(format!(
                    "Patchbay renewed the {} connection but {} would not save it. Patchbay keeps it while it is open and saves it as soon as it can: unlock the keychain and keep Patchbay open until the connection shows Connected. {}",
                    p.name,
                    self.location(),
                    e.message()
                )),
            );
        }
        if let Ok(mut m) = self.unsaved.lock() {
            m.insert(id.to_string(), grant);
        }
    }

    fn clear_mark(&self, id: &str) {
        let _ = self.settings.update(id, |r| {
            r.map(|mut r| {
                r.refresh_started = None;
                r
            })
        });
    }

    async fn lock_file(&self, id: &str) -> Result<std::fs::File> {
        let dir = self.settings.paths().lock_dir.clone();
        let name = crate::settings::file_stem(id);
        let path = dir.join(format!("{name}.lock"));
        let shown = path.clone();
        let wait = lock_wait();
        tokio::task::spawn_blocking(move || {
            crate::settings::private_dir(&dir)?;
            lock_within(&path, wait)
        })
        .await
        .map_err(|e| Error::internal("Could not take the refresh lock.").with_source(e))?
        .map_err(|e| {
            Error::storage(
                format!(
                    "Patchbay could not use its lock file {} on this computer. Check that its folder can be written, then try again.",
                    shown.display()
                ),
                e,
            )
        })?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Storage,
                format!(
                    "Another Patchbay window or command has been renewing this connection for over {} and has not finished. Close the other Patchbay windows (or wait for the other command), then try again.",
                    crate::error::human_duration(wait.as_secs())
                ),
            )
        })
    }
}

/// The generation of a newly connected grant: past the old one's, and for a connection made
/// anew (after a disconnect, maybe by another process) the clock in milliseconds, so it is past
/// any generation a process may still remember from the disconnected one.
fn next_generation(old: Option<u64>) -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    old.map_or(ms, |g| g.saturating_add(1).max(ms))
}

fn lock_wait() -> Duration {
    #[cfg(debug_assertions)]
    if let Some(secs) = std::env::var("PATCHBAY_LOCK_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return Duration::from_secs(secs);
    }
    LOCK_WAIT
}

/// Take the cross-process lock in `path`, waiting at most `wait` for another holder; `None` when
/// the holder kept it all that time.
fn lock_within(path: &std::path::Path, wait: Duration) -> std::io::Result<Option<std::fs::File>> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let until = Instant::now() + wait;
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ConnectionRecord, Paths};
    use crate::store::MemoryStore;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const ID: &str = "aspire:production";

    /// A vendor that counts renewals, rotates the refresh token each time, and can refuse.
    #[derive(Default)]
    struct Vendor {
        calls: AtomicUsize,
        refuse: AtomicBool,
    }

    impl Renew for Vendor {
        fn renew<'a>(&'a self, grant: &'a Grant) -> Pending<'a, TokenSet> {
            Box::pin(async move {
                // Long enough for every other caller to queue behind this renewal.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self.refuse.load(Ordering::SeqCst) {
                    return Err(Error::reconnect("Aspire"));
                }
                assert!(
                    grant.refresh_token.is_some(),
                    "renewed with a refresh token"
                );
                Ok(TokenSet {
                    access_token: SecretString::from(format!("access-{n}")),
                    refresh_token: Some(SecretString::from(format!("refresh-{n}"))),
                    expires_at: Some(now() + 3600),
                    refresh_expires_at: None,
                })
            })
        }
    }

    struct Lab {
        _dir: tempfile::TempDir,
        store: Arc<MemoryStore>,
        tokens: TokenSource,
        p: ProviderSpec,
    }

    /// A token source on the in-memory store holding one connection whose access token expired.
    fn lab() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::new(Paths::under(dir.path()));
        settings
            .update(ID, |_| {
                Some(ConnectionRecord::for_tests(ID, "aspire", "production"))
            })
            .unwrap();
        let store = Arc::new(MemoryStore::default());
        let vault = Vault::new(store.clone());
        vault.save(ID, &expired(1)).unwrap();
        let p = crate::catalog::Catalog::builtin()
            .unwrap()
            .provider("aspire")
            .unwrap()
            .clone();
        Lab {
            _dir: dir,
            store,
            tokens: TokenSource::new(vault, settings),
            p,
        }
    }

    fn expired(generation: u64) -> Grant {
        Grant::for_tests(generation, "old", now() - 10)
    }

    fn secret(s: &SecretString) -> &str {
        secrecy::ExposeSecret::expose_secret(s)
    }

    #[tokio::test]
    async fn many_callers_at_once_renew_once_and_share_the_token() {
        let lab = lab();
        let vendor = Vendor::default();
        let before = lab.tokens.grant(ID, &lab.p).await.unwrap();
        let call = || lab.tokens.token(ID, &lab.p, &before, false, &vendor);
        let (a, b, c, d) = tokio::join!(call(), call(), call(), call());
        assert_eq!(vendor.calls.load(Ordering::SeqCst), 1, "one renewal");
        for t in [a, b, c, d] {
            assert_eq!(secret(&t.unwrap()), "access-1");
        }
        // The rotated refresh token was stored, with the next generation.
        let stored = lab.tokens.grant(ID, &lab.p).await.unwrap();
        assert_eq!(secret(stored.refresh_token.as_ref().unwrap()), "refresh-1");
        assert_eq!(stored.generation, 2);
        // Fresh now: no further renewal.
        let again = lab.tokens.token(ID, &lab.p, &stored, false, &vendor).await;
        assert_eq!(secret(&again.unwrap()), "access-1");
        assert_eq!(vendor.calls.load(Ordering::SeqCst), 1);
        let record = lab.tokens.settings.connection(ID).unwrap().unwrap();
        assert!(record.refresh_started.is_none(), "the mark is cleared");
        assert!(record.refreshed_at.is_some());
    }

    #[tokio::test]
    async fn a_rotated_refresh_token_the_keychain_refuses_is_kept_and_stored_later() {
        let lab = lab();
        let vendor = Vendor::default();
        let before = lab.tokens.grant(ID, &lab.p).await.unwrap();
        lab.store.fail_writes.store(true, Ordering::SeqCst);
        let t = lab.tokens.token(ID, &lab.p, &before, false, &vendor).await;
        assert_eq!(
            secret(&t.unwrap()),
            "access-1",
            "the renewal still succeeds"
        );
        assert_eq!(lab.tokens.unsaved(), vec![ID.to_string()]);
        // Every use prefers the renewed grant over the keychain's older one.
        let held = lab.tokens.grant(ID, &lab.p).await.unwrap();
        assert_eq!(secret(held.refresh_token.as_ref().unwrap()), "refresh-1");
        let note = lab.tokens.settings.connection(ID).unwrap().unwrap();
        assert_eq!(note.last_error.unwrap().kind, ErrorKind::Keychain);
        // The keychain works again: the next use stores it.
        lab.store.fail_writes.store(false, Ordering::SeqCst);
        assert!(lab.tokens.flush_unsaved().await.is_empty());
        let stored = Vault::new(lab.store.clone()).load(ID).unwrap().unwrap();
        assert_eq!(secret(stored.refresh_token.as_ref().unwrap()), "refresh-1");
    }

    #[tokio::test]
    async fn a_refused_renewal_after_an_interrupted_one_says_so() {
        let lab = lab();
        let vendor = Vendor::default();
        vendor.refuse.store(true, Ordering::SeqCst);
        // A renewal from this generation started and never finished (the process died).
        lab.tokens
            .settings
            .update(ID, |r| {
                r.map(|mut r| {
                    r.refresh_started = Some(RefreshMark {
                        at: now() - 120,
                        generation: 1,
                    });
                    r
                })
            })
            .unwrap();
        let before = lab.tokens.grant(ID, &lab.p).await.unwrap();
        let e = lab
            .tokens
            .token(ID, &lab.p, &before, false, &vendor)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Reconnect);
        assert!(e.message().contains("interrupted"), "{}", e.message());
        let record = lab.tokens.settings.connection(ID).unwrap().unwrap();
        assert!(record.needs_reconnect.is_some());
        assert!(
            record.refresh_started.is_none(),
            "a definitive answer clears the mark"
        );
        // Without the mark, the same refusal is the plain reconnect.
        let e = lab
            .tokens
            .token(ID, &lab.p, &before, false, &vendor)
            .await
            .unwrap_err();
        assert!(!e.message().contains("interrupted"), "{}", e.message());
    }

    #[tokio::test]
    async fn a_connection_made_again_is_never_handed_a_token_of_the_old_one() {
        let lab = lab();
        let vendor = Vendor::default();
        let before = lab.tokens.grant(ID, &lab.p).await.unwrap();
        lab.tokens
            .token(ID, &lab.p, &before, false, &vendor)
            .await
            .unwrap();
        let new = lab
            .tokens
            .replace(ID, Some(before.clone()), |generation| Grant {
                access_token: Some(SecretString::from("connected")),
                expires_at: Some(now() + 3600),
                generation,
                ..expired(0)
            })
            .await
            .unwrap();
        assert!(new.generation > 2, "past the renewed one");
        // A caller still holding the old grant gets the new connection's token.
        let t = lab.tokens.token(ID, &lab.p, &before, false, &vendor).await;
        assert_eq!(secret(&t.unwrap()), "connected");
        lab.tokens.remove(ID).await.unwrap();
        assert_eq!(
            lab.tokens.grant(ID, &lab.p).await.unwrap_err().kind(),
            ErrorKind::Keychain
        );
    }

    #[test]
    fn a_hung_lock_holder_is_waited_for_a_bounded_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.lock");
        let holder = lock_within(&path, Duration::ZERO).unwrap().expect("free");
        let started = Instant::now();
        assert!(
            lock_within(&path, Duration::from_millis(300))
                .unwrap()
                .is_none(),
            "held by another"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        drop(holder);
        assert!(
            lock_within(&path, Duration::ZERO).unwrap().is_some(),
            "free once released"
        );
    }
}
