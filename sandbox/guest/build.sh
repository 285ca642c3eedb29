#!/bin/sh
# Build the example apps into wasm/ (needs clang, lld and wasi-libc: on Debian/Ubuntu
# `apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`, or a wasi-sdk).
# The built modules are committed, so the Rust tests and CI need no C toolchain.
set -eu
cd "$(dirname "$0")"
CC="${CC:-clang}"
mkdir -p wasm
for app in si_lookup si_lookup_buggy probe; do
    "$CC" --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug -o "wasm/$app.wasm" "apps/$app.c"
    echo "built wasm/$app.wasm ($(wc -c < "wasm/$app.wasm") bytes)"
done
# Competing example apps, each in examples/<name>/ with its source and built module; their
# suites are the demo services' in ../../mock-data/suites/ (examples/README.md says which).
for dir in examples/*/; do
    app=$(basename "$dir")
    "$CC" --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-debug -o "$dir$app.wasm" "$dir$app.c"
    echo "built $dir$app.wasm ($(wc -c < "$dir$app.wasm") bytes)"
done
# The sha256 of every committed module, checked by `cargo test -p sandbox --test kit` (and by
# `sha256sum -c SHA256SUMS` here): a module changed without this script shows up there.
if command -v sha256sum >/dev/null; then sum="sha256sum"; else sum="shasum -a 256"; fi
$sum wasm/*.wasm examples/*/*.wasm > SHA256SUMS
echo "wrote SHA256SUMS"
