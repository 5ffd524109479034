#!/usr/bin/env bash
# Runs the integration suite (SQLite) on hard dates, to find tests that pass or fail by the
# calendar. Each date runs the whole suite once: about 6 minutes each on 2 cores.
#
#   bash scripts/dates.sh                       # every date below
#   bash scripts/dates.sh 2026-12-06T12:00:00Z  # just these
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH" LEPTOS_OUTPUT_NAME=bulwark
unset DATABASE_URL BULWARK_TEST_PG_URL

DATES=("$@")
if [ ${#DATES[@]} -eq 0 ]; then
  DATES=(
    2026-12-06T12:00:00Z # a Sunday (the default weekly report falls due on Monday)
    2027-01-31T23:30:00Z # the last day of a month, half an hour before it ends in UTC
    2027-03-28T00:30:00Z # the night Europe's clocks go forward (01:00 UTC)
    2026-11-01T06:30:00Z # the night New York's clocks go back (06:00 UTC)
    2028-02-29T12:00:00Z # 29 February
  )
fi
failed=()
for date in "${DATES[@]}"; do
  echo "==> integration suite on $date"
  if ! BULWARK_TEST_NOW="$date" cargo test --features ssr --test integration -q 2>&1 | tail -n 30; then
    failed+=("$date")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED on: ${failed[*]}" >&2
  exit 1
fi
echo "passed on every date"
