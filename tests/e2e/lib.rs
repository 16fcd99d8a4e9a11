//! See `e2e/main.rs`: this crate only holds the end-to-end test binary.
