//! Patchbay's core: everything the wizard and the `patchbay` command line do, with no UI. Read
//! `docs/ARCHITECTURE.md` first.
//!
//! - [`app`]: the one app layer the window and the command line share (and the window's views).
//! - [`connections`]: the facade: status, check, disconnect; [`connect`]: the connect flow;
//!   [`token_source`]: a connection's tokens, renewed once however many ask.
//! - [`endpoint`]: one vendor call's context and the [`endpoint::Mechanism`] trait, implemented
//!   by [`oauth`] (RFC 6749/7636/8252/9700) and [`exchange`]: the two ways to get tokens.
//! - [`catalog`]: the systems, as data (`providers.toml`), validated when loaded.
//! - [`callback`]: the one-shot loopback listener and the "paste the address" fallback.
//! - [`preview`], [`mappings`], [`verify`]: reading the vendor's data with a connection.
//! - [`sanitize`]: the paste sanitizer.
//! - [`store`]: the OS keychain (no plaintext fallback); [`settings`]: non-secret settings.
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
pub mod history;
pub mod http;
pub mod logging;
pub mod mappings;
pub mod oauth;
pub mod port;
pub mod preview;
pub mod redirect;
pub mod report;
pub mod sanitize;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod token_source;
pub mod upkeep;
pub mod verify;

pub use catalog::Catalog;
pub use connections::{Browser, ConnectHooks, ConnectRequest, Connections};
pub use error::{Error, ErrorKind, Result};

/// The keychain service name every entry is stored under.
pub const KEYCHAIN_SERVICE: &str = "Patchbay";
