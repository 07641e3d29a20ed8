#!/usr/bin/env bash
# PostgreSQL 15 from Debian's postgresql package, on loopback, for development and CI.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PGPORT="${PAYMENTS_PG_PORT:-55432}"
# initdb refuses to run as root, and the postgres user cannot enter root's home: as root, keep the
# cluster under /var/lib instead of the per-user state dir.
if [[ $(id -u) -eq 0 ]]; then PGHOME="${PAYMENTS_PG_DIR:-/var/lib/payments-platform/postgres}"; else PGHOME="$STATE_DIR/postgres"; fi
PGDATA="$PGHOME/data"
PGLOG="$PGHOME/postgres.log"

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do [[ -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }; done
  return 1
}

ensure_installed() {
  if ! pg_bin >/dev/null; then
    log "installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

up() {
  ensure_installed
  local bin; bin=$(pg_bin)
  if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$PGPORT"
    return 0
  fi
  mkdir -p "$PGHOME"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$PGHOME"; fi
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    log "initialising postgres data dir"
    as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGHOME'
max_connections = 200
shared_buffers = 256MB
CONF
  fi
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start >/dev/null || fail_with_log "postgres failed to start" "$PGLOG"
  local i
  for ((i = 0; i < 50; i++)); do
    if psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  if ! psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atqc "select 1 from pg_database where datname='payments'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -qc 'create database payments' >/dev/null
  fi
  log "postgres ready: postgres://postgres@127.0.0.1:$PGPORT/payments"
}

down() {
  local bin; bin=$(pg_bin) || return 0
  [[ -f "$PGDATA/PG_VERSION" ]] || return 0
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  log "postgres stopped"
}

status() {
  if psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d payments -Atqc 'select 1' >/dev/null 2>&1; then
    echo "postgres  up    postgres://postgres@127.0.0.1:$PGPORT/payments"
  else
    echo "postgres  down"
    return 1
  fi
}

"${1:-status}"
