#!/usr/bin/env bash
# Runs Patchbay's benchmarks (release builds, not part of the test suite) and writes the figures
# into docs/PERFORMANCE.md. Each benchmark measures its own baseline in the same run.
#   ./scripts/bench.sh            all benchmarks
#   ./scripts/bench.sh preview    the preview import: throughput vs a plain HTTP loop, peak memory
#   ./scripts/bench.sh startup    the app against the smallest Tauri app: start-up, memory, size
#   ./scripts/bench.sh refresh    100 callers needing a refresh at once: one refresh, their latency
#   ./scripts/bench.sh flows      connect, refresh and `patchbay token` against plain requests
set -euo pipefail
# A benchmark run is a request for new figures: they are written into docs/.
export PATCHBAY_WRITE_DOCS=1
cd "$(dirname "$0")/.."
source scripts/setup.sh
which="${1:-all}"

# The CLI connects through the fake browser, built next to the benchmark binaries.
cargo build --release --quiet -p patchbay-emulator --bin fake-browser
cargo bench --no-run --quiet -p patchbay-cli --bench preview --bench refresh --bench flows
if [ "$which" = all ] || [ "$which" = startup ]; then
  # Both apps in the same run and profile, built the way they ship: `tauri build` (it turns on
  # tauri's custom-protocol feature) with their .deb installers. Then the WebDriver bridge for the
  # driven connection.
  npm ci --no-audit --no-fund --silent
  (cd src-tauri && ../node_modules/.bin/tauri build --bundles deb)
  cargo bench --no-run --quiet -p patchbay-e2e --bench startup
  command -v tauri-driver >/dev/null || cargo install tauri-driver --version "^2" --locked
fi

# The real keychain (Secret Service) in a private D-Bus session, as in the tests.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
BENCH_HOME="$(mktemp -d)"
trap 'rm -rf "$BENCH_HOME"' EXIT
run_keyring() {
  HOME="$BENCH_HOME" dbus-run-session -- bash -c '
    echo -n patchbay-bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"' bash "$@"
}

if [ "$which" = all ] || [ "$which" = preview ]; then
  run_keyring cargo bench --quiet -p patchbay-cli --bench preview
fi
if [ "$which" = all ] || [ "$which" = flows ]; then
  run_keyring cargo bench --quiet -p patchbay-cli --bench flows
fi
if [ "$which" = all ] || [ "$which" = refresh ]; then
  run_keyring cargo bench --quiet -p patchbay-cli --bench refresh
fi
if [ "$which" = all ] || [ "$which" = startup ]; then
  # The minimal app's static copy of Patchbay's first screen, made from the live screen, then
  # the minimal app built with it (it embeds its pages).
  run_keyring xvfb-run -a -s "-screen 0 1920x1080x24" cargo bench --quiet -p patchbay-e2e --bench startup -- --first-screen
  (cd bench/baseline && ../../node_modules/.bin/tauri build --bundles deb)
  run_keyring xvfb-run -a -s "-screen 0 1920x1080x24" cargo bench --quiet -p patchbay-e2e --bench startup
fi
