# Sourced by scripts/windows.sh and scripts/macos.sh: rustup's toolchain has no standard library
# for other targets and none can be fetched, so Debian's own Rust (rustc-web, cargo-web, from
# scripts/setup.sh) builds it from its source (rust-web-src) with -Zbuild-std.

# `debian_rust COMMAND...`: COMMAND with Debian's cargo and rustc and the standard library built
# from source. `CARGO` is what cargo-nextest calls to build.
debian_rust() {
  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO=/usr/bin/cargo \
    RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort "$@"
}
