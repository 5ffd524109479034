# shellcheck shell=bash
# Throwaway PostgreSQL cluster for the integration tests.
#
#   source scripts/pg.sh
#   trap pg_stop EXIT
#   pg_start            # exports BULWARK_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   ...
#   pg_stop             # stops the server and removes its directory (safe to call twice)
#
# If BULWARK_TEST_PG_URL is already set, pg_start uses that server and pg_stop leaves it alone.
# Uses Debian's binaries (/usr/lib/postgresql/<highest>/bin). As root, the cluster is owned
# by and run as the `postgres` system user (initdb refuses to run as root).
#
# Run directly (`bash scripts/pg.sh`) for a self-test: start, `select 1`, stop.

_BULWARK_PG_DIR=""
_BULWARK_PG_BIN=""
_BULWARK_PG_PORT=""

_pg_log() { echo "==> pg: $*" >&2; }

# Run a command as the cluster owner: `postgres` when we are root, else ourselves.
# The command runs from the cluster dir so postgres never needs to read the caller's cwd.
_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd "$_BULWARK_PG_DIR" && runuser -u postgres -- "$@")
    else
      local q
      q=$(printf '%q ' "$@")
      (cd "$_BULWARK_PG_DIR" && su postgres -s /bin/sh -c "$q")
    fi
  else
    (cd "$_BULWARK_PG_DIR" && "$@")
  fi
}

_pg_find_bin() {
  local d best=""
  # Highest Debian version that has a matching initdb + pg_ctl pair.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      best="$d"
    fi
  done
  if [ -z "$best" ]; then
    _pg_log "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    return 1
  fi
  echo "$best"
}

_pg_port_in_use() {
  # Succeeds if something accepts connections on 127.0.0.1:$1.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_start() {
  if [ -n "${BULWARK_TEST_PG_URL:-}" ]; then
    _pg_log "BULWARK_TEST_PG_URL already set; using that server"
    return 0
  fi
  if [ -n "$_BULWARK_PG_DIR" ]; then
    _pg_log "already started ($_BULWARK_PG_DIR)"
    return 0
  fi

  _BULWARK_PG_BIN=$(_pg_find_bin) || return 1

  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    _pg_log "running as root but there is no 'postgres' system user (apt-get install postgresql)"
    return 1
  fi

  # /tmp rather than $TMPDIR: the postgres user must be able to reach it.
  _BULWARK_PG_DIR=$(mktemp -d /tmp/bulwark-pg.XXXXXX) || return 1
  chmod 700 "$_BULWARK_PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$_BULWARK_PG_DIR" || { pg_stop; return 1; }
  fi

  _pg_log "initdb ($_BULWARK_PG_BIN) in $_BULWARK_PG_DIR"
  if ! _pg_as "$_BULWARK_PG_BIN/initdb" -D "$_BULWARK_PG_DIR/data" --auth=trust -U postgres \
        -E UTF8 --locale=C.UTF-8 --no-sync >"$_BULWARK_PG_DIR/initdb.log" 2>&1; then
    _pg_log "initdb failed:"
    cat "$_BULWARK_PG_DIR/initdb.log" >&2
    pg_stop
    return 1
  fi

  local port started=0
  for port in $(seq 55432 55531); do
    if _pg_port_in_use "$port"; then
      continue
    fi
    # Throwaway data: durability off for speed.
    if _pg_as "$_BULWARK_PG_BIN/pg_ctl" -D "$_BULWARK_PG_DIR/data" -l "$_BULWARK_PG_DIR/server.log" \
          -w -t 60 -s start \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $_BULWARK_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
          >>"$_BULWARK_PG_DIR/pg_ctl.log" 2>&1; then
      started=1
      break
    fi
    if grep -q 'already in use' "$_BULWARK_PG_DIR/server.log" 2>/dev/null; then
      _pg_log "port $port taken, trying the next one"
      : >"$_BULWARK_PG_DIR/server.log"
      continue
    fi
    break
  done
  if [ "$started" -ne 1 ]; then
    _pg_log "could not start PostgreSQL; server log:"
    cat "$_BULWARK_PG_DIR/pg_ctl.log" "$_BULWARK_PG_DIR/server.log" >&2 || true
    pg_stop
    return 1
  fi
  _BULWARK_PG_PORT=$port

  local i
  for i in $(seq 1 60); do
    if "$_BULWARK_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      break
    fi
    if [ "$i" -eq 60 ]; then
      _pg_log "server did not become ready on port $port; log:"
      cat "$_BULWARK_PG_DIR/server.log" >&2 || true
      pg_stop
      return 1
    fi
    sleep 0.5
  done

  export BULWARK_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  _pg_log "PostgreSQL $("$_BULWARK_PG_BIN/postgres" --version | awk '{print $3}') ready: $BULWARK_TEST_PG_URL"
}

pg_stop() {
  [ -n "$_BULWARK_PG_DIR" ] || return 0
  if [ -f "$_BULWARK_PG_DIR/data/postmaster.pid" ]; then
    _pg_log "stopping (port ${_BULWARK_PG_PORT:-?})"
    _pg_as "$_BULWARK_PG_BIN/pg_ctl" -D "$_BULWARK_PG_DIR/data" -m fast -w -t 30 -s stop >/dev/null 2>&1 ||
      _pg_as "$_BULWARK_PG_BIN/pg_ctl" -D "$_BULWARK_PG_DIR/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 ||
      _pg_log "warning: pg_ctl stop failed"
  fi
  case "$_BULWARK_PG_DIR" in
    /tmp/bulwark-pg.*) rm -rf "$_BULWARK_PG_DIR" ;;
  esac
  _BULWARK_PG_DIR=""
  _BULWARK_PG_PORT=""
  unset BULWARK_TEST_PG_URL
  return 0
}

# Self-test when executed rather than sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  unset BULWARK_TEST_PG_URL
  trap pg_stop EXIT
  pg_start
  psql "$BULWARK_TEST_PG_URL" -X -A -t -c 'select 1' | grep -qx 1
  echo "==> pg: select 1 OK on $BULWARK_TEST_PG_URL"
fi
