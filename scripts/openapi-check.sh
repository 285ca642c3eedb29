#!/usr/bin/env bash
# Validates the OpenAPI document the server serves with openapi-spec-validator
# (PyPI), so that a standard OpenAPI 3.1 tool can read every operation.
#   scripts/openapi-check.sh [GOVMARKET_BINARY]   (default target/debug/govmarket)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/serve.sh
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

serve_on_free_port "$bin" "$work" 300
curl -fsS "http://127.0.0.1:$port/api/v1/openapi.json" >"$work/openapi.json"
"$work/venv/bin/openapi-spec-validator" "$work/openapi.json"
