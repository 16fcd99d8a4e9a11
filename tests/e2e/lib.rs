//! The end-to-end harness (the real app through tauri-driver), shared by the end-to-end tests and
//! the start-up benchmark.

// Test support states a broken setup by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

pub mod harness;
