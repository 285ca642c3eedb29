#!/usr/bin/env bash
# Generates a Python client from the OpenAPI document the demo server serves
# (openapi-python-client, PyPI) and drives the demo through it with
# scripts/client-smoke/smoke.py: sign in, list the market, invoke an app,
# rate it, read a public settlement. A mismatch between the document and the
# server's answers fails here.
#   scripts/openapi-client.sh [GOVMARKET_BINARY]   (default target/debug/govmarket)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
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

serve_on_free_port "$bin" "$work" 600 --demo
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
