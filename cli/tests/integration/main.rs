//! Patchbay's integration tests: one binary (a 2-core machine links it once). They need a
//! Secret Service (the README's test command starts gnome-keyring in a private D-Bus session)
//! and the workspace's binaries (`cargo build --workspace --bins`).

// Tests state their expectations by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crash;
mod errors;
mod faults;
mod flows;
mod keychain;
mod leaks;
mod preview;
mod refresh;
// Debian's headless Chromium as the admin's browser (it runs the relay page's script): a Linux
// program here. The page is the same for every system; Windows' browser hand-over is what
// every other sign-in test goes through.
#[cfg(target_os = "linux")]
mod relay;
mod report;
mod upkeep;

use patchbay_test_support::{docs, lab as harness};
