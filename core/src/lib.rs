//! Patchbay's core: everything the wizard and the `patchbay` command line do, with no UI.
//!
//! - [`catalog`]: the systems, as data (`providers.toml`), validated when loaded.
//! - [`oauth`] (RFC 6749/7636/8252/9700) and [`exchange`]: the two ways to get tokens.
//! - [`callback`]: the one-shot loopback listener and the "paste the address" fallback.
//! - [`sanitize`]: the paste sanitizer.
//! - [`store`]: the OS keychain (no plaintext fallback); [`settings`]: non-secret settings.
//! - [`connections`]: connect, refresh (single-flight), verify, disconnect, status.
//! - [`checklist`]: the live troubleshooting checklist; [`report`]: the redacted diagnostics.
//! - [`error`]: errors with a stable kind and a message for an office admin.
//! - [`logging`]: stderr and size-rotated JSON log files in the platform's log folder.

pub mod app;
pub mod callback;
pub mod catalog;
pub mod checklist;
pub mod connect;
pub mod connections;
pub mod crashpoint;
pub mod distribution;
pub mod endpoint;
pub mod error;
pub mod exchange;
pub mod http;
pub mod logging;
pub mod mappings;
pub mod oauth;
pub mod port;
pub mod preview;
pub mod redirect;
pub mod report;
pub mod sanitize;
pub mod settings;
pub mod store;
pub mod token_source;
pub mod verify;

pub use catalog::Catalog;
pub use connections::{Browser, ConnectHooks, ConnectRequest, Connections};
pub use error::{Error, ErrorKind, Result};

/// The keychain service name every entry is stored under.
pub const KEYCHAIN_SERVICE: &str = "Patchbay";
