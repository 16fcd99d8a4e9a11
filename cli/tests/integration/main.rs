//! Patchbay's integration tests: one binary (a 2-core machine links it once). They need a
//! Secret Service (the README's test command starts gnome-keyring in a private D-Bus session)
//! and the workspace's binaries (`cargo build --workspace --bins`).

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/support/chromium.rs"]
mod chromium;
mod crash;
#[path = "../../../tests/support/docs.rs"]
mod docs;
mod errors;
mod faults;
mod flows;
mod harness;
mod keychain;
mod leaks;
mod preview;
mod refresh;
mod relay;
mod report;
