#!/usr/bin/env bash
# Builds the client core to WebAssembly (dist/: the npm package's files),
# then the server, unit tests and tools into build/ (the server lands at
# build/bin/meshmeet-server, the web app with the package at build/web).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build-wasm.sh
jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j"$jobs"
