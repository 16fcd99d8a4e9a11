#!/usr/bin/env bash
# Patchbay for macOS, type-checked on this Linux machine (docs/WINDOWS.md, "macOS", says what this
# proves and what only a Mac can). As for Windows, Debian's own Rust builds the standard library
# for the Apple targets (scripts/debian-rust.sh). The crates
# that compile C (ring, aws-lc-sys) are given Zig's C compiler, which carries macOS's C headers
# (PyPI's `ziglang`, pinned below, installed into the target directory). Nothing is linked:
# that needs Apple's SDK, which only a Mac has.
#
#   scripts/macos.sh check   # cargo check of the core, CLI, emulator (with their tests) and app
#
# Used by scripts/test.sh. Builds go to $PATCHBAY_MACOS_TARGET_DIR (outside the clone,
# incremental across runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/debian-rust.sh

TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)
ZIG_VERSION=0.17.1
export PATCHBAY_MACOS_TARGET_DIR="${PATCHBAY_MACOS_TARGET_DIR:-$HOME/.cache/patchbay-target-macos}"

# Zig from PyPI, once per target directory; then, per target, a C compiler and archiver by the
# names cc-rs is told (CC_<target>, AR_<target>): tests/macos/zig-cc.sh, which also stands an
# empty object in for Objective-C (mac-notification-sys, behind the app's notifications, includes
# Cocoa, which only Apple's SDK has; its Rust side is checked all the same).
tools() {
  local dir="$PATCHBAY_MACOS_TARGET_DIR/zig-$ZIG_VERSION"
  if [ ! -x "$dir/ziglang/zig" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --target "$dir" "ziglang==$ZIG_VERSION"
  fi
  local bin="$PATCHBAY_MACOS_TARGET_DIR/bin"
  mkdir -p "$bin"
  for target in "${TARGETS[@]}"; do
    printf '#!/bin/sh\nexec "%s" "%s" %s-macos "$@"\n' "$PWD/tests/macos/zig-cc.sh" "$dir/ziglang/zig" "${target%%-*}" >"$bin/cc-$target"
    printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$dir/ziglang/zig" >"$bin/ar-$target"
    chmod +x "$bin/cc-$target" "$bin/ar-$target"
  done
  echo "$bin"
}

case "${1:-}" in
  check)
    bin="$(tools)"
    for target in "${TARGETS[@]}"; do
      t="${target//-/_}"
      debian_rust env "CC_$t=$bin/cc-$target" "AR_$t=$bin/ar-$target" \
        CARGO_TARGET_DIR="$PATCHBAY_MACOS_TARGET_DIR" /usr/bin/cargo check --locked --quiet --target "$target" \
        -p patchbay-core -p patchbay-emulator -p patchbay-cli -p patchbay-app --bins --tests
      echo "macOS ($target): the core, emulator, command line and app type-check"
    done
    ;;
  *)
    echo "usage: scripts/macos.sh check" >&2
    exit 2
    ;;
esac
