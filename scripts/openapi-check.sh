#!/usr/bin/env bash
# Validates the OpenAPI document the server serves with openapi-spec-validator
# (PyPI), so that a standard OpenAPI 3.1 tool can read every operation.
#   scripts/openapi-check.sh [GOVMARKET_BINARY]   (default target/debug/govmarket)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/govmarket}
[ -x "$bin" ] || cargo build -q -p govmarket
work=$(mktemp -d /tmp/govmarket-openapi.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator==0.9.*'

for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  env -u DATABASE_URL -u GOVMARKET_DATABASE_URL -u MEILI_URL GOVMARKET_LOG=warn \
    "$bin" --data-dir "$work/data" serve --addr "127.0.0.1:$port" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break 2; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  pid=
done
if [ -z "$pid" ]; then
  echo "the server did not start; its log:" >&2
  cat "$work/log" >&2 || true
  exit 1
fi
curl -fsS "http://127.0.0.1:$port/api/v1/openapi.json" >"$work/openapi.json"
"$work/venv/bin/openapi-spec-validator" "$work/openapi.json"
