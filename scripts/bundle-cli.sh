#!/usr/bin/env bash
# Builds the `patchbay` command line (release) and puts it where the installers take it from:
# src-tauri/binaries/patchbay-<target triple>[.exe], Tauri's `bundle.externalBin` naming, merged
# in by `tauri build --config src-tauri/tauri.cli.conf.json`. The installers then put it in
# /usr/bin (.deb), next to the app (Windows; the NSIS installer also adds that folder to the
# user's PATH) and in Patchbay.app/Contents/MacOS (macOS).
#
#   scripts/bundle-cli.sh                          # this computer's target
#   scripts/bundle-cli.sh universal-apple-darwin   # both Mac targets in one binary (lipo)
# Used by scripts/test.sh and .github/workflows/release.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p src-tauri/binaries
target="${1:-$(rustc -vV | sed -n 's/^host: //p')}"
if [ "$target" = universal-apple-darwin ]; then
  for t in aarch64-apple-darwin x86_64-apple-darwin; do
    cargo build --release --locked -p patchbay-cli --target "$t" --quiet
  done
  lipo -create -output src-tauri/binaries/patchbay-universal-apple-darwin \
    "$target_dir/aarch64-apple-darwin/release/patchbay" "$target_dir/x86_64-apple-darwin/release/patchbay"
  exit 0
fi
exe=""
case "$target" in *windows*) exe=".exe" ;; esac
if [ -n "${1:-}" ]; then
  cargo build --release --locked -p patchbay-cli --target "$target" --quiet
  built="$target_dir/$target/release/patchbay$exe"
else
  cargo build --release --locked -p patchbay-cli --quiet
  built="$target_dir/release/patchbay$exe"
fi
cp "$built" "src-tauri/binaries/patchbay-$target$exe"
