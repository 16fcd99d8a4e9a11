#!/usr/bin/env bash
# Sets up and runs Patchbay's whole test suite: formatting, lints, the core-has-no-tauri check,
# the Windows build with the core's, emulator's and command line's tests under Wine, the macOS
# type-check, then every test (unit, integration against the emulators with the real keychain)
# with cargo-nextest inside a private D-Bus session running gnome-keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
# WebDriver bridge to WebKitWebDriver for the end-to-end tests (the 2.x line, never 3.0 alphas).
command -v tauri-driver >/dev/null || cargo install tauri-driver --version "^2" --locked
# libFuzzer through cargo-fuzz for the parsers of outside input (stable Rust: no sanitizer,
# coverage instrumentation and debug assertions only; see docs/RELIABILITY.md).
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version "^0.13" --locked

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
if cargo tree -p patchbay-core -e normal --prefix none | grep -qi '^tauri'; then
  echo "test: patchbay-core must not depend on tauri" >&2; exit 1
fi
cargo build --workspace --bins --quiet
# The Linux installer, built the way it ships (release, `tauri build` from package.json's pinned
# CLI); the `install` tests unpack it and run what it installs.
npm ci --no-audit --no-fund --silent
# The `patchbay` command line ships in the package too (/usr/bin/patchbay), built the same way
# (scripts/bundle-cli.sh, merged in by tauri.cli.conf.json), and the package is signed for
# updates as a release is (scripts/updater-config.cjs), with a throwaway key of this machine's:
# `tauri build` checks the updater settings and signs the update artifacts.
./scripts/bundle-cli.sh
updater="$CARGO_TARGET_DIR/updater-test"
mkdir -p "$updater"
# Made once per target directory: the key is built into the app, so a new one would rebuild it.
[ -f "$updater/key.pub" ] || node_modules/.bin/tauri signer generate --ci -p "" -f -w "$updater/key" >/dev/null
node scripts/updater-config.cjs "$(cat "$updater/key.pub")" https://updates.example.com/patchbay/latest.json >"$updater/tauri.updater.conf.json"
bundle_log="$CARGO_TARGET_DIR/tauri-build.log"
if ! (cd src-tauri && TAURI_SIGNING_PRIVATE_KEY="$(cat "$updater/key")" TAURI_SIGNING_PRIVATE_KEY_PASSWORD="" \
  ../node_modules/.bin/tauri build --bundles deb --ci --config tauri.cli.conf.json --config "$updater/tauri.updater.conf.json" >"$bundle_log" 2>&1); then
  cat "$bundle_log" >&2; echo "test: the .deb installer did not build" >&2; exit 1
fi
grep -F ".deb" "$bundle_log" | tail -1
cargo nextest run --workspace --no-run --cargo-quiet
# The fuzz targets, in their own target directory (their flags differ); the `fuzz` tests run them.
export PATCHBAY_FUZZ_TARGET_DIR="${PATCHBAY_FUZZ_TARGET_DIR:-$HOME/.cache/patchbay-fuzz-target}"
(cd core/fuzz && CARGO_TARGET_DIR="$PATCHBAY_FUZZ_TARGET_DIR" cargo fuzz build --sanitizer none --debug-assertions >/dev/null)

# A plain run changes no tracked file (the docs and screenshots are rewritten only by
# ./scripts/docs.sh): what git sees is compared before and after.
tree_before="$(git status --porcelain 2>/dev/null || true)"
# Every process of the run carries this mark, so whatever outlives the run is found below.
export PATCHBAY_TEST_RUN="run-$$-$(date +%s%N)"

# Windows: the workspace's programs and tests built for x86_64-pc-windows-gnu, and the core's,
# emulator's and command line's tests run under Wine in new Wine prefixes (scripts/windows.sh,
# docs/WINDOWS.md).
./scripts/windows.sh build
./scripts/windows.sh test
# macOS: the core, emulator, command line and app type-checked for both Apple targets
# (scripts/macos.sh; linking needs Apple's SDK, which only a Mac has).
./scripts/macos.sh check

# A private home for the keyring and WebKit data; cargo and rustup stay where they are. The app
# runs on a virtual display (Xvfb) big enough for the large-window screenshots.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
TEST_HOME="$(mktemp -d)"
trap 'rm -rf "$TEST_HOME"' EXIT
status=0
HOME="$TEST_HOME" dbus-run-session -- bash -c '
  echo -n patchbay-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # The daemon forks before it owns the Secret Service name: a first test that asks sooner gets
  # a second, D-Bus-activated daemon whose keyring is locked. Wait for the name (at most 10 s).
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
      | grep -q "boolean true" && break
    sleep 0.1
  done
  exec xvfb-run -a -s "-screen 0 1920x1080x24" \
    cargo nextest run --workspace --cargo-quiet --no-fail-fast --failure-output final "$@"
' bash "$@" || status=$?

# Nothing of the run outlives it (drivers, browsers, apps, emulators, the keyring daemon). Quiet
# when all is well, so the runner's summary stays the last line.
leftovers() {
  for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
    { tr '\0' '\n' < "$env"; } 2>/dev/null | grep -qx "PATCHBAY_TEST_RUN=$PATCHBAY_TEST_RUN" && echo "$pid"
  done
  return 0
}
sleep 1
left="$(leftovers)"
if [ -n "$left" ]; then
  echo "test: processes of the test run are still running:" >&2
  ps -o pid=,args= -p "$(echo $left | tr ' ' ',')" >&2 || true
  kill -s KILL $left 2>/dev/null || true
  status=1
fi
if [ "${PATCHBAY_WRITE_DOCS:-}" != 1 ] && [ "$(git status --porcelain 2>/dev/null || true)" != "$tree_before" ]; then
  echo "test: the test run changed files in the repository (only ./scripts/docs.sh may):" >&2
  git status --porcelain >&2
  status=1
fi
exit "$status"
