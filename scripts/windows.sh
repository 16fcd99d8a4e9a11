#!/usr/bin/env bash
# Patchbay for Windows, built and tested on this Linux machine (docs/WINDOWS.md says what it
# proves and what only a Windows runner can). rustup's toolchain has no standard library for
# other targets and none can be fetched, so Debian's own Rust (rustc-web, cargo-web) builds it
# from its source (rust-web-src) with -Zbuild-std; MinGW-w64 links; Wine runs the programs.
# The packages come from scripts/setup.sh.
#
#   scripts/windows.sh build                 # the programs and their test binaries (debug)
#   scripts/windows.sh test [nextest args]   # their tests, under Wine
#
# Used by scripts/test.sh, which runs both. Builds go to $PATCHBAY_WINDOWS_TARGET_DIR (outside the clone,
# incremental across runs).
set -euo pipefail
cd "$(dirname "$0")/.."

WINDOWS=x86_64-pc-windows-gnu
export PATCHBAY_WINDOWS_TARGET_DIR="${PATCHBAY_WINDOWS_TARGET_DIR:-$HOME/.cache/patchbay-target-windows}"
# What is built for Windows and tested under Wine: the logic, the vendors' stand-ins and the
# command line, with their tests (the app needs WebView2, which Wine lacks: docs/WINDOWS.md).
PACKAGES=(-p patchbay-core -p patchbay-emulator -p patchbay-cli)
TESTED=("${PACKAGES[@]}")
# Debian's wine64 package puts its programs here (the `wine` package would add /usr/bin links).
WINE=/usr/lib/wine/wine64 WINESERVER=/usr/lib/wine/wineserver

# Debian's cargo and rustc for the Windows target, linked by MinGW, run by Wine.
source scripts/debian-rust.sh
wcargo() {
  CARGO_TARGET_DIR="$PATCHBAY_WINDOWS_TARGET_DIR" \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/windows.sh run" \
    debian_rust "$@"
}

# Wine 8 lacks bcryptprimitives.dll (ProcessPrng, which Rust's std calls for random bytes);
# tests/windows/bcryptprimitives.c stands in for it, built here by MinGW (nothing downloaded).
shim() {
  local out="$PATCHBAY_WINDOWS_TARGET_DIR/wine-shim/bcryptprimitives.dll"
  if [ ! -f "$out" ] || [ tests/windows/bcryptprimitives.c -nt "$out" ]; then
    mkdir -p "$(dirname "$out")"
    x86_64-w64-mingw32-gcc -O2 -shared -o "$out" \
      tests/windows/bcryptprimitives.c tests/windows/bcryptprimitives.def -ladvapi32
  fi
  echo "$out"
}

# A new Wine prefix (a Windows user profile with its own registry and Credential Manager) at $1,
# with the shim in system32 and, when $2 is given, that program registered as the web browser:
# the http and https URL association, which Patchbay asks Windows for when it opens the sign-in
# page (AssocQueryString). Windows also reads a user's own choice from HKEY_CURRENT_USER; Wine
# reads only the computer's, in HKEY_LOCAL_MACHINE, where its own browser hand-over is replaced.
prefix() {
  local dir="$1" browser="${2:-}"
  mkdir -p "$dir"
  WINEPREFIX="$dir" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" "$WINE" wineboot --init >/dev/null 2>&1
  cp "$(shim)" "$dir/drive_c/windows/system32/"
  if [ "$browser" = none ]; then
    # A user without a web browser: Wine's own hand-over (winebrowser) taken away too.
    for scheme in http https; do
      WINEPREFIX="$dir" WINEDEBUG=-all "$WINE" reg delete "HKLM\\Software\\Classes\\$scheme" /f >/dev/null 2>&1 || true
    done
  elif [ -n "$browser" ]; then
    local win
    win="$(WINEPREFIX="$dir" WINEDEBUG=-all "$WINE" winepath -w "$browser" 2>/dev/null | tr -d '\r')"
    for scheme in http https; do
      WINEPREFIX="$dir" WINEDEBUG=-all "$WINE" reg add "HKLM\\Software\\Classes\\$scheme\\shell\\open\\command" \
        /ve /d "\"$win\" \"%1\"" /f >/dev/null 2>&1
    done
  fi
}

# nextest (args: $2...) in a new prefix (a new Windows user: Credential Manager and the registry
# empty) with $1 as its web browser, or none; one Wine server serves every test process (a
# server per process would add seconds to each) and is ended with the prefix.
in_prefix() (
  local browser="$1"
  shift
  WINEPREFIX="$(mktemp -d)/wine"
  export WINEPREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  trap '"$WINESERVER" -k 2>/dev/null || true; "$WINESERVER" -w 2>/dev/null || true; rm -rf "$(dirname "$WINEPREFIX")"' EXIT
  mkdir -p "$WINEPREFIX"
  "$WINESERVER" -p
  prefix "$WINEPREFIX" "$browser"
  wcargo cargo-nextest nextest run --target "$WINDOWS" --cargo-quiet --locked \
    --no-fail-fast --failure-output final "$@"
)

case "${1:-}" in
  build)
    wcargo /usr/bin/cargo build --locked --target "$WINDOWS" "${PACKAGES[@]}" --bins --quiet
    wcargo /usr/bin/cargo test --locked --target "$WINDOWS" "${PACKAGES[@]}" --no-run --quiet
    shim >/dev/null
    ;;
  run)
    # The target runner: a Windows program under Wine, in the prefix of this test run.
    shift
    PATCHBAY_UNDER_WINE=1 WINEDEBUG=-all exec "$WINE" "$@"
    ;;
  test)
    shift
    [ $# -gt 0 ] || set -- "${TESTED[@]}"
    # Every test in a Windows user whose web browser is the fake one (the sign-ins); then the
    # ones that need a user without a web browser at all (ignored on Windows, so they are left
    # out of the first run), in a prefix of their own.
    in_prefix "$PATCHBAY_WINDOWS_TARGET_DIR/$WINDOWS/debug/fake-browser.exe" "$@"
    in_prefix none "$@" --run-ignored only
    ;;
  prefix)
    # scripts/windows.sh prefix DIR [BROWSER.exe]: a test prefix (used by the installer test).
    shift
    prefix "$@"
    ;;
  *)
    echo "usage: scripts/windows.sh build|test [nextest args]|prefix DIR [BROWSER]" >&2
    exit 2
    ;;
esac
