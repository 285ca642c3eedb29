#!/usr/bin/env bash
# The test command of README.md: every test, against SQLite and against a
# throwaway PostgreSQL cluster this script starts and stops itself.
# Installs what a fresh Debian machine lacks (PostgreSQL, Chromium, its
# driver) when run as root; otherwise says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

need=()
[ -x "$PG_BIN/initdb" ] || need+=(postgresql-15)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install them, or run as root)" >&2
    exit 1
  fi
fi

# A free port: ask the kernel, then hand it to PostgreSQL.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pgdir=$(mktemp -d /tmp/govmarket-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap cleanup EXIT

echo "== starting PostgreSQL on 127.0.0.1:$port"
as_pg "$PG_BIN/initdb" -D "$pgdir" -A trust -U postgres >/dev/null
# fsync off: a throwaway cluster, and the tests create many databases.
as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -l "$pgdir/log" -w \
  -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null

echo "== tests on SQLite"
env -u TEST_DATABASE_URL cargo test --workspace --locked

echo "== tests on PostgreSQL"
TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres" cargo test --workspace --locked
