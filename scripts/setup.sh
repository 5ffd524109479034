#!/usr/bin/env bash
# Installs whatever Bulwark's build (and, with --test, its tests) needs and is missing.
# Every step is guarded by a version check, so on a warm machine this takes seconds.
#
#   scripts/setup.sh           # what `scripts/run.sh` needs
#   scripts/setup.sh --test    # plus chromium, postgresql, docker-registry and aiosmtpd for `scripts/test.sh`
#   scripts/setup.sh --check   # only report what is missing (exit 1 if anything is)
#
# Only crates.io, PyPI, Debian apt and npm are reachable here (see TOOLCHAIN.md in the shared folder beside the project).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

WANT_TEST=0
CHECK_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --test) WANT_TEST=1 ;;
    --check) CHECK_ONLY=1 ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

CARGO_LEPTOS_VERSION=0.3.11

step() { echo "==> $*"; }
die() {
  echo "setup.sh: error: $*" >&2
  exit 1
}

MISSING=0
# In --check mode, report instead of installing. Usage: need "what" || install...
need() {
  step "missing: $*"
  MISSING=1
  [ "$CHECK_ONLY" -eq 0 ]
}

export PATH="$HOME/.cargo/bin:$PATH"

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  SUDO=()
fi
as_root() {
  if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
    die "need root (or sudo) to run: $*"
  fi
  ${SUDO[@]+"${SUDO[@]}"} "$@"
}

# Build cargo tools outside the repo (its .cargo/config.toml is not for them), fast.
cargo_install() {
  (
    cd "$HOME"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install "$@"
  )
}

version_of() { # first x.y.z in a command's output, or nothing
  "$@" 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}
# Version of a tool: ask the tool; if it does not say, ask `cargo install --list`.
tool_version() { # tool_version <crate> <command...>
  local crate=$1 v
  shift
  v=$(version_of "$@")
  if [ -z "$v" ]; then
    v=$(cargo install --list 2>/dev/null | sed -nE "s/^${crate} v([0-9][^:]*):.*/\1/p" | head -n1)
  fi
  echo "$v"
}

# ---------------------------------------------------------------- Debian packages
apt_pkgs=()
dpkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
if ! command -v cc >/dev/null 2>&1; then
  apt_pkgs+=(build-essential pkg-config)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_pkgs+=(nodejs npm)
fi
# Report charts (PNG in emails, figures in PDFs) are drawn with these fonts.
if ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1; then
  apt_pkgs+=(fonts-dejavu-core)
fi
# Chinese text in reports (PNG, PDF) needs a CJK font; without one it would draw empty boxes.
if ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then
  apt_pkgs+=(fonts-wqy-microhei)
fi
if [ "$WANT_TEST" -eq 1 ]; then
  if ! command -v python3 >/dev/null 2>&1; then
    apt_pkgs+=(python3 python3-venv)
  elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_pkgs+=(python3-venv)
  fi
  if ! dpkg_installed chromium || [ ! -x /usr/bin/chromium ]; then
    apt_pkgs+=(chromium)
  fi
  if ! dpkg_installed postgresql || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_pkgs+=(postgresql)
  fi
  # Container signature: a real OCI registry (with htpasswd users), and openssl to verify signatures.
  if ! command -v docker-registry >/dev/null 2>&1; then
    apt_pkgs+=(docker-registry)
  fi
  if ! command -v htpasswd >/dev/null 2>&1; then
    apt_pkgs+=(apache2-utils)
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    apt_pkgs+=(openssl)
  fi
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if need "Debian packages: ${apt_pkgs[*]}"; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${apt_pkgs[*]} by hand"
    step "apt-get update"
    as_root apt-get update -qq
    step "apt-get install ${apt_pkgs[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}"
  fi
else
  step "Debian packages: ok"
fi

# ---------------------------------------------------------------- Rust
command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust with rustup first)"
command -v rustup >/dev/null 2>&1 || die "rustup not found (needed for the wasm32 target)"

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "wasm32-unknown-unknown target: ok"
elif need "rustup target wasm32-unknown-unknown"; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

have=$(tool_version cargo-leptos cargo leptos --version)
if [ "$have" = "$CARGO_LEPTOS_VERSION" ]; then
  step "cargo-leptos $have: ok"
elif need "cargo-leptos $CARGO_LEPTOS_VERSION (have: ${have:-none})"; then
  # --ignore-rust-version: its lock pins a crate declaring rustc 1.96; it builds fine on 1.95.
  step "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (slow the first time: up to ~35 min on 2 cores)"
  cargo_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --ignore-rust-version --force
fi

# wasm-bindgen-cli must match the wasm-bindgen crate pinned in Cargo.toml exactly;
# cargo-leptos would otherwise try to download one from GitHub, which is unreachable.
WB_VERSION=$(sed -nE \
  -e 's/^wasm-bindgen[[:space:]]*=[[:space:]]*\{.*version[[:space:]]*=[[:space:]]*"=?[[:space:]]*([0-9][0-9A-Za-z.+-]*)".*/\1/p' \
  -e 's/^wasm-bindgen[[:space:]]*=[[:space:]]*"=?[[:space:]]*([0-9][0-9A-Za-z.+-]*)".*/\1/p' \
  Cargo.toml | head -n1)
[ -n "$WB_VERSION" ] || die 'could not read the wasm-bindgen version from Cargo.toml (expected: wasm-bindgen = { version = "=X", ... })'
have=$(tool_version wasm-bindgen-cli wasm-bindgen --version)
if [ "$have" = "$WB_VERSION" ]; then
  step "wasm-bindgen-cli $have: ok"
elif need "wasm-bindgen-cli $WB_VERSION (have: ${have:-none})"; then
  # No --locked: its lock wants a webpki-roots version the registry here lacks.
  step "cargo install wasm-bindgen-cli $WB_VERSION (a few minutes)"
  cargo_install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# ---------------------------------------------------------------- npm (end2end/)
# Provides Playwright and binaryen's wasm-opt (Debian's binaryen 108 breaks hydration).
E2E="$ROOT/end2end"
if [ ! -d "$E2E/node_modules" ] ||
  [ "$E2E/package.json" -nt "$E2E/node_modules" ] ||
  { [ -f "$E2E/package-lock.json" ] && [ "$E2E/package-lock.json" -nt "$E2E/node_modules" ]; } ||
  [ ! -x "$E2E/node_modules/.bin/wasm-opt" ] ||
  [ ! -x "$E2E/node_modules/.bin/playwright" ]; then
  if need "end2end/node_modules (out of date or missing)"; then
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # Debian's chromium is used; never download browsers
    if [ -f "$E2E/package-lock.json" ]; then
      step "npm ci (end2end/)"
      (cd "$E2E" && npm ci --no-audit --no-fund)
    else
      step "npm install (end2end/)"
      (cd "$E2E" && npm install --no-audit --no-fund)
    fi
    touch "$E2E/node_modules"
    "$E2E/node_modules/.bin/wasm-opt" --version >/dev/null || die "end2end/node_modules/.bin/wasm-opt does not run"
  fi
else
  step "end2end/node_modules: ok ($("$E2E/node_modules/.bin/wasm-opt" --version 2>/dev/null | head -n1))"
fi

# ---------------------------------------------------------------- Python (tests' SMTP server)
# The test command starts a real SMTP server (aiosmtpd, tests/smtp_sink.py) from this venv.
if [ "$WANT_TEST" -eq 1 ]; then
  VENV="$ROOT/.tmp/venv"
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
    step "aiosmtpd (.tmp/venv): ok"
  elif need "aiosmtpd in .tmp/venv"; then
    step "python3 -m venv .tmp/venv && pip install aiosmtpd"
    mkdir -p "$ROOT/.tmp"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
  fi
fi

if [ "$CHECK_ONLY" -eq 1 ]; then
  if [ "$MISSING" -eq 1 ]; then
    step "setup check: something is missing"
    exit 1
  fi
  step "setup check: everything present"
  exit 0
fi
step "setup done"
