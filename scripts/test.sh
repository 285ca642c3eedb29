#!/usr/bin/env bash
# The test command of README.md: every test, against SQLite and against a
# throwaway PostgreSQL cluster this script starts and stops itself.
# Installs what a fresh Debian machine lacks (PostgreSQL, Chromium, its
# driver) when run as root; otherwise says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL: the newest major version installed (Debian puts each in
# /usr/lib/postgresql/<major>/bin), unless PG_BIN names one.
find_pg_bin() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
}
PG_BIN_GIVEN=${PG_BIN:-}
PG_BIN=${PG_BIN:-$(find_pg_bin)}

need=()
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# The starter kit's skeleton app is built with clang and wasi-libc in a test.
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v wasm-ld >/dev/null 2>&1 || need+=(lld)
[ -d /usr/include/wasm32-wasi ] || need+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev-wasm32)
# The AssemblyScript kit is rebuilt, and its generated projects built, with npm's compiler.
command -v npm >/dev/null 2>&1 || need+=(npm)
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
PG_BIN=${PG_BIN_GIVEN:-$(find_pg_bin)}
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "no PostgreSQL server found (${PG_BIN:-/usr/lib/postgresql/*/bin}/initdb); set PG_BIN" >&2
  exit 1
fi

# A port nothing listens on. Another process may still take it before
# PostgreSQL does, so the start below tries a few.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    # bash's /dev/tcp connects: a refusal means the port is free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}
pgdir=$(mktemp -d /tmp/govmarket-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
  if [ -n "${MEILI_PID:-}" ]; then kill "$MEILI_PID" 2>/dev/null || true; fi
  if [ -n "${meilidir:-}" ]; then rm -rf "$meilidir"; fi
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$pgdir" -A trust -U postgres >/dev/null
started=
for _ in 1 2 3 4 5; do
  port=$(free_port)
  echo "== starting PostgreSQL ($PG_BIN) on 127.0.0.1:$port"
  # fsync off: a throwaway cluster, and the tests create many databases.
  if as_pg "$PG_BIN/pg_ctl" -D "$pgdir" -l "$pgdir/log" -w \
    -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "PostgreSQL did not start; its log:" >&2
  cat "$pgdir/log" >&2 || true
  exit 1
fi

# Meilisearch: a running one (MEILI_URL), else a binary we start (MEILI_BIN,
# else the one the project ships beside it in ../shared/tools/meilisearch,
# or MEILI_TOOLS naming that folder; a clone elsewhere on this machine finds
# it at /work/shared). Without any, the tests that need it say so and skip.
meili_tools="${MEILI_TOOLS:-}"
for d in "$(cd .. && pwd)/shared/tools/meilisearch" /work/shared/tools/meilisearch; do
  if [ -z "$meili_tools" ] && [ -x "$d/start.sh" ]; then meili_tools="$d"; fi
done
if [ -n "${MEILI_URL:-}" ]; then
  echo "== Meilisearch at $MEILI_URL"
elif [ -n "${MEILI_BIN:-}" ] || [ -x "$meili_tools/start.sh" ]; then
  meilidir=$(mktemp -d /tmp/govmarket-meili.XXXXXX)
  if [ -n "${MEILI_BIN:-}" ]; then
    port=$(free_port)
    key=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    "$MEILI_BIN" --db-path "$meilidir/data.ms" --http-addr "127.0.0.1:$port" \
      --master-key "$key" --no-analytics --env development >"$meilidir/log" 2>&1 &
    MEILI_PID=$!
    for _ in $(seq 1 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    export MEILI_URL="http://127.0.0.1:$port" MEILI_API_KEY="$key"
  else
    meili_env=$(bash "$meili_tools/start.sh" "$meilidir")
    eval "export $meili_env"
  fi
  echo "== Meilisearch started at $MEILI_URL"
else
  echo "== no Meilisearch (set MEILI_URL, or MEILI_BIN to a meilisearch binary): its tests skip"
fi

echo "== tests on SQLite"
env -u TEST_DATABASE_URL cargo test --workspace --locked

echo "== the served OpenAPI document, checked by openapi-spec-validator"
bash scripts/openapi-check.sh target/debug/govmarket

echo "== a client generated from the served document drives the demo"
bash scripts/openapi-client.sh target/debug/govmarket

echo "== tests on PostgreSQL"
TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres" cargo test --workspace --locked
