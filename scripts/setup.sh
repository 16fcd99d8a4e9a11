#!/usr/bin/env bash
# Installs what Patchbay needs to build, run and test on Debian 12 (idempotent; fast when
# everything is there). Sourced by run.sh and test.sh; safe to run on its own.
set -euo pipefail

PACKAGES=(
  # Tauri 2 / WebKitGTK build and runtime
  libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config
  # headless display, screenshots, WebDriver for the end-to-end tests
  xvfb xauth imagemagick webkit2gtk-driver x11-utils xdotool xclip at-spi2-core
  # the real keychain in tests: Secret Service from gnome-keyring in a private D-Bus session
  gnome-keyring dbus dbus-x11 libsecret-1-dev
  # the system browser launcher that honours BROWSER
  xdg-utils
  # systemd-analyze checks the daily job's user units ("Keep my connections fresh")
  systemd
  # a real browser for the sign-in relay tests (headless, as the admin's browser)
  chromium
  # Windows from here (scripts/windows.sh): Debian's own Rust with its standard library's source
  # (rustup's toolchain has no std for other targets), MinGW-w64 to link, Wine to run the
  # Windows programs and tests, NSIS to build the installer script that runs the hooks
  rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 nsis
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node's npm fetches the Tauri CLI that bundles the installers (package.json), unless already there.
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }

# Builds go outside the clone so repeated runs are incremental.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/patchbay-target}"
mkdir -p "$CARGO_TARGET_DIR"
