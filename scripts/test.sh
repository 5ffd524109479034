#!/usr/bin/env bash
# README command 2: run every Bulwark test and print the counts.
#
#   1. setup         scripts/setup.sh --test
#   2. sqlite        cargo test --features ssr                      (temp SQLite databases)
#   3. postgres      cargo test --features ssr --test integration   (throwaway PostgreSQL, scripts/pg.sh)
#   4. e2e-build     cargo leptos build                             (debug)
#   5. e2e           cd end2end && npx playwright test              (starts the server itself)
#   6. bundle        scripts/bundle.sh: the release front end, its sizes, the wasm's size budget
#
# Stops at the first failing phase. A copy of each phase's output is kept in .tmp/test-logs/.
# Set BULWARK_TEST_PG_URL to use an existing PostgreSQL server for phase 3 instead.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
LOG_DIR="$ROOT/.tmp/test-logs"
mkdir -p "$LOG_DIR"

# npm's binaryen wasm-opt and playwright first; cargo tools next.
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Matches what cargo-leptos sets at compile time, so plain `cargo test` reuses its build.
export LEPTOS_OUTPUT_NAME=bulwark
# The tests make their own databases; a stray DATABASE_URL would also steer sqlx's macros.
unset DATABASE_URL
# Phase 2 runs against SQLite; phase 3 uses the caller's server if one was given.
CALLER_PG_URL=${BULWARK_TEST_PG_URL:-}
unset BULWARK_TEST_PG_URL

# shellcheck source=scripts/pg.sh
source "$ROOT/scripts/pg.sh"
trap pg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PHASES=()
TIMES=()
STATUSES=()
COUNTS=()
T0=$SECONDS

fmt_time() { # seconds -> "1m05s" / "42s"
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# Run a command, showing its output and keeping a copy in $LOG_DIR/<phase>.log.
logged() { # logged <phase> <cmd...>
  local phase=$1
  shift
  "$@" 2>&1 | tee -a "$LOG_DIR/$phase.log"
}

strip_ansi() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g' "$@"; }

cargo_counts() { # totals over all "test result:" lines of a cargo test log
  strip_ansi "$1" 2>/dev/null | awk '
    /^test result: / {
      for (i = 1; i <= NF; i++) {
        if ($(i+1) ~ /^passed/) p += $i
        if ($(i+1) ~ /^failed/) f += $i
        if ($(i+1) ~ /^ignored/) g += $i
      }
      n++
    }
    END { if (n) printf "%d passed, %d failed, %d ignored", p, f, g }'
}

# What failed, near the end of the output where CI shows it: the first Playwright error
# blocks, or the panics and failed-test names of cargo test.
failure_excerpt() { # failure_excerpt <phase> <log>
  case "$1" in
    e2e) strip_ansi "$2" 2>/dev/null | awk '/^  [0-9]+\) \[/ { on = 1 } on && n < 80 { print; n++ }' ;;
    sqlite | postgres) strip_ansi "$2" 2>/dev/null | grep -E -A12 "panicked at|^---- " | head -n 80 ;;
  esac
}

playwright_counts() { # the closing "N passed / failed / flaky / skipped" lines
  strip_ansi "$1" 2>/dev/null |
    grep -E '^[[:space:]]+[0-9]+ (passed|failed|flaky|skipped|did not run|interrupted)' |
    sed -E 's/^[[:space:]]+//; s/ \(.*\)$//' | paste -sd, - | sed 's/,/, /g' || true
}

summary() {
  echo
  echo "==> summary"
  local i
  for i in "${!PHASES[@]}"; do
    printf '    %-10s %-6s %8s  %s\n' "${PHASES[$i]}" "${STATUSES[$i]}" "${TIMES[$i]}" "${COUNTS[$i]}"
  done
  printf '    %-10s %-6s %8s\n' "total" "" "$(fmt_time $((SECONDS - T0)))"
}

# run_phase <name> <description> <function>
run_phase() {
  local name=$1 desc=$2 fn=$3 start rc=0 counts
  echo
  echo "==> phase $((${#PHASES[@]} + 1)): $name - $desc"
  : >"$LOG_DIR/$name.log"
  start=$SECONDS
  "$fn" || rc=$?
  local took=$((SECONDS - start))
  counts=""
  case "$name" in
    sqlite | postgres) counts=$(cargo_counts "$LOG_DIR/$name.log") ;;
    e2e) counts=$(playwright_counts "$LOG_DIR/$name.log") ;;
  esac
  PHASES+=("$name")
  TIMES+=("$(fmt_time "$took")")
  COUNTS+=("$counts")
  if [ "$rc" -ne 0 ]; then
    STATUSES+=("FAILED")
    echo "==> phase $name FAILED (exit $rc) after $(fmt_time "$took")${counts:+: $counts}" >&2
    echo "    full output: ${LOG_DIR#"$ROOT"/}/$name.log" >&2
    echo "==> what failed in $name:" >&2
    failure_excerpt "$name" "$LOG_DIR/$name.log" | sed 's/^/    /' >&2 || true
    summary
    echo
    echo "FAILED: phase '$name' - $desc" >&2
    exit "$rc"
  fi
  STATUSES+=("ok")
  echo "==> phase $name ok in $(fmt_time "$took")${counts:+: $counts}"
}

# Each phase function returns non-zero on failure (set -e is inactive inside them).

phase_setup() {
  logged setup bash "$ROOT/scripts/setup.sh" --test
}

phase_sqlite() {
  logged sqlite cargo test --features ssr
}

phase_postgres() {
  if [ -n "$CALLER_PG_URL" ]; then
    export BULWARK_TEST_PG_URL="$CALLER_PG_URL"
  fi
  # Not in a pipeline: pg_start must run in this shell to export the URL.
  pg_start || { echo "PostgreSQL did not start" >&2; return 1; }
  local rc=0
  logged postgres cargo test --features ssr --test integration || rc=$?
  pg_stop
  unset BULWARK_TEST_PG_URL
  return "$rc"
}

phase_e2e_build() {
  logged e2e-build cargo leptos build || return 1
  if [ ! -x "$ROOT/target/debug/bulwark" ] || [ ! -d "$ROOT/target/site/pkg" ]; then
    echo "cargo leptos build did not produce target/debug/bulwark and target/site/pkg" >&2
    return 1
  fi
}

phase_e2e() {
  (cd "$ROOT/end2end" && logged e2e npx --no-install playwright test)
}

phase_bundle() {
  logged bundle bash "$ROOT/scripts/bundle.sh"
}

run_phase setup "install what is missing" phase_setup
run_phase sqlite "cargo test --features ssr (SQLite)" phase_sqlite
run_phase postgres "cargo test --features ssr --test integration (PostgreSQL)" phase_postgres
run_phase e2e-build "cargo leptos build (debug)" phase_e2e_build
run_phase e2e "npx playwright test" phase_e2e
run_phase bundle "release front end within its size budget" phase_bundle

summary
echo
echo "ALL TESTS PASSED"
