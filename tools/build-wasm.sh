#!/usr/bin/env bash
# Builds the client core to WebAssembly (build-wasm/) and assembles the npm
# package's files in dist/: web/*.js (meshmeet.js, the entry, and the modules
# it imports), index.d.ts, meshmeet-core.{mjs,wasm}.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs acorn from here
jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f build-wasm/CMakeCache.txt ]; then
  emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node
fi
cmake --build build-wasm -j"$jobs"
mkdir -p dist
cp build-wasm/dist/meshmeet-core.mjs build-wasm/dist/meshmeet-core.wasm dist/
cp web/*.js web/index.d.ts dist/
