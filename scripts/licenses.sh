#!/usr/bin/env bash
# Regenerate ui/licenses.json, the licenses of every crate the app bundles (About and help shows
# them), with cargo-about (about.toml: accepted licenses and the installers' platforms). Run it
# after any change to Cargo.lock: a test compares the lock file's hash recorded in the JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
if ! cargo about --version >/dev/null 2>&1; then
  cargo install cargo-about --version ^0.9 --locked --features cli
fi
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
cargo about generate --format json -m src-tauri/Cargo.toml --locked -o "$raw"
lock=$(sha256sum Cargo.lock | cut -d' ' -f1)
# Only what the page shows: each license text with the crates under it.
jq -c --arg lock "$lock" --arg tool "$(cargo about --version)" \
  '{generated_by: $tool, cargo_lock_sha256: $lock,
    licenses: [.licenses[] | {id, name, text, used_by: [.used_by[].crate | "\(.name) \(.version)"]}]}' \
  "$raw" > ui/licenses.json
echo "ui/licenses.json: $(jq '.licenses | length' ui/licenses.json) license texts, $(jq '[.licenses[].used_by[]] | unique | length' ui/licenses.json) crates"
