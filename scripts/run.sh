#!/usr/bin/env bash
# README command 1: build Bulwark (release) and serve it with demo data.
#
#   scripts/run.sh                 # http://127.0.0.1:3000
#   BULWARK_ADDR=0.0.0.0:8080 scripts/run.sh
#   DATABASE_URL=postgres://... scripts/run.sh
#
# Extra arguments are passed to `bulwark serve --demo`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

bash scripts/setup.sh

# npm's binaryen wasm-opt first: Debian's (108) produces a wasm that fails to hydrate.
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "==> cargo leptos build --release --precompress"
start=$SECONDS
# DATABASE_URL is meant for the server, not for sqlx's compile-time checks.
# --precompress writes the brotli and gzip twins the console sends to browsers that accept them.
env -u DATABASE_URL cargo leptos build --release --precompress
echo "==> build done in $((SECONDS - start))s"

mkdir -p data

ADDR=${BULWARK_ADDR:-127.0.0.1:3000}
echo "==> serving on http://$ADDR (Ctrl-C to stop)"
exec env \
  LEPTOS_SITE_ROOT=target/site \
  LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_OUTPUT_NAME=bulwark \
  LEPTOS_SITE_ADDR="$ADDR" \
  DATABASE_URL="${DATABASE_URL:-sqlite://data/bulwark.db?mode=rwc}" \
  ./target/release/bulwark serve --demo "$@"
