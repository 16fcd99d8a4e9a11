#!/usr/bin/env bash
# Runs the whole test suite and rewrites what it measures and shows: the figures in docs/*.md,
# the screenshots in docs/screenshots and the README's troubleshooting block. A plain
# ./scripts/test.sh checks the same and changes no file.
set -euo pipefail
cd "$(dirname "$0")/.."
PATCHBAY_WRITE_DOCS=1 exec ./scripts/test.sh "$@"
