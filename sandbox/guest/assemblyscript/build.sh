#!/bin/sh
# Builds the AssemblyScript example app and the kit library's unit tests into wasm/ (needs
# Node.js and npm; `npm ci` fetches the pinned compiler). The built modules are committed, so the
# Rust tests and CI need no AssemblyScript toolchain; `cargo test -p sandbox --test assemblyscript`
# rebuilds them when npm is present and checks they match.
set -eu
cd "$(dirname "$0")"
[ -x node_modules/.bin/asc ] || npm ci --no-audit --no-fund --silent
mkdir -p wasm
for src in examples/*.ts tests/*.ts; do
    name=$(basename "$src" .ts)
    node_modules/.bin/asc "$src" --config asconfig.json -o "wasm/$name.wasm"
    echo "built wasm/$name.wasm ($(wc -c < "wasm/$name.wasm") bytes)"
done
if command -v sha256sum >/dev/null; then sum="sha256sum"; else sum="shasum -a 256"; fi
$sum wasm/*.wasm > SHA256SUMS
echo "wrote SHA256SUMS"
