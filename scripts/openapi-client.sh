#!/usr/bin/env bash
# Generates a Python client from the OpenAPI document the demo server serves
# (openapi-python-client, PyPI) and drives the demo through it with
# scripts/client-smoke/smoke.py: sign in, list the market, invoke an app,
# rate it, read a public settlement. A mismatch between the document and the
# server's answers fails here.
#   scripts/openapi-client.sh [GOVMARKET_BINARY]   (default target/debug/govmarket)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/govmarket}
[ -x "$bin" ] || cargo build -q -p govmarket
work=$(mktemp -d /tmp/govmarket-client.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check 'openapi-python-client==0.29.1'

for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  env -u DATABASE_URL -u GOVMARKET_DATABASE_URL -u MEILI_URL GOVMARKET_LOG=warn \
    "$bin" --data-dir "$work/data" serve --demo --addr "127.0.0.1:$port" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break 2; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  pid=
done
if [ -z "$pid" ]; then
  echo "the demo server did not start; its log:" >&2
  cat "$work/log" >&2 || true
  exit 1
fi
base="http://127.0.0.1:$port"
curl -fsS "$base/api/v1/openapi.json" >"$work/openapi.json"

# --fail-on-warning: an operation the generator cannot read fails here.
mkdir -p "$work/pkg"
"$work/venv/bin/openapi-python-client" generate --path "$work/openapi.json" \
  --meta none --output-path "$work/pkg/govmarket_client" \
  --config scripts/client-smoke/config.yaml --fail-on-warning
if ! PYTHONPATH="$work/pkg" "$work/venv/bin/python" scripts/client-smoke/smoke.py "$base"; then
  echo "the client smoke test failed; the server's log:" >&2
  tail -n 50 "$work/log" >&2 || true
  exit 1
fi
