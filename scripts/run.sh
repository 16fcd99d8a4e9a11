#!/usr/bin/env bash
# Sets up this machine and opens Patchbay. Until the desktop wizard lands this runs the
# command-line wizard in practice mode; pass your own arguments to run another command.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build -q -p patchbay-cli -p patchbay-emulator --bins
if [ $# -eq 0 ]; then set -- --practice connect quickbooks-time; fi
exec "$CARGO_TARGET_DIR/debug/patchbay" "$@"
