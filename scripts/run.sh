#!/usr/bin/env bash
# Sets up this machine and opens the Patchbay wizard. Practice mode (the switch at the top right,
# or PATCHBAY_PRACTICE=1) runs every screen against the bundled emulators, no vendor account needed.
# With arguments, runs the `patchbay` command line instead: ./scripts/run.sh --practice connect aspire
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [ $# -gt 0 ]; then
  cargo build -q -p patchbay-cli
  exec "$CARGO_TARGET_DIR/debug/patchbay" "$@"
fi
cargo build -q -p patchbay-app
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display; starting Patchbay on a virtual one (Xvfb)" >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$CARGO_TARGET_DIR/debug/patchbay-app"
fi
exec "$CARGO_TARGET_DIR/debug/patchbay-app"
