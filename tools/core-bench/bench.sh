#!/usr/bin/env bash
# The client core's benchmark: builds meshmeet-core-bench natively
# (build-bench/, CMake Release) and as WebAssembly (build-bench-wasm/, emcmake,
# Release; build-bench-wasm-minsize/, MinSizeRel like the npm package), runs
# each once, one after the other, and rewrites the "Client core" benchmark
# section of docs/benchmarks.md (between the client-core markers) from that
# one run.
#
#   tools/core-bench/bench.sh [--no-build] [--no-doc] [--no-minsize] [-- bench options]
#
# Bench options (both runs): --batches N --lifecycles N --seeds N --repeats N.
# Builds are niced and use 2 jobs (the machine is shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs acorn from here

build=1
doc=1
minsize=1
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --no-doc) doc=0 ;;
    --no-minsize) minsize=0 ;;
    --) shift; bench_args=("$@"); break ;;
    *) echo "usage: $0 [--no-build] [--no-doc] [--no-minsize] [-- bench options]" >&2; exit 2 ;;
  esac
  shift
done

native_dir=${MESHMEET_BENCH_BUILD:-build-bench}
wasm_dir=${MESHMEET_BENCH_WASM_BUILD:-build-bench-wasm}
small_dir=${MESHMEET_BENCH_WASM_MINSIZE_BUILD:-build-bench-wasm-minsize}
if [ "$build" = 1 ]; then
  if [ ! -f "$native_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$native_dir" -DCMAKE_BUILD_TYPE=Release
  fi
  nice -n 10 cmake --build "$native_dir" -j2 --target meshmeet-core-bench
  if [ ! -f "$wasm_dir/CMakeCache.txt" ]; then
    emcmake cmake -S . -B "$wasm_dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node
  fi
  nice -n 10 cmake --build "$wasm_dir" -j2 --target meshmeet-core-bench
  if [ "$minsize" = 1 ]; then
    if [ ! -f "$small_dir/CMakeCache.txt" ]; then
      emcmake cmake -S . -B "$small_dir" -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node
    fi
    nice -n 10 cmake --build "$small_dir" -j2 --target meshmeet-core-bench
  fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "=== native ($native_dir/bin/meshmeet-core-bench ${bench_args[*]:-})" >&2
"$native_dir/bin/meshmeet-core-bench" "${bench_args[@]}" >"$out/native.txt"
echo "=== wasm (node $wasm_dir/bin/meshmeet-core-bench.cjs ${bench_args[*]:-})" >&2
node "$wasm_dir/bin/meshmeet-core-bench.cjs" "${bench_args[@]}" >"$out/wasm.txt"
report=(node tools/core-bench/report.mjs --native "$out/native.txt" --wasm "$out/wasm.txt" --load-start "$load_start")
if [ "$minsize" = 1 ]; then
  echo "=== wasm, MinSizeRel (node $small_dir/bin/meshmeet-core-bench.cjs ${bench_args[*]:-})" >&2
  node "$small_dir/bin/meshmeet-core-bench.cjs" "${bench_args[@]}" >"$out/wasm-minsize.txt"
  report+=(--wasm-minsize "$out/wasm-minsize.txt")
fi
grep -h '^CORE_BENCH ' "$out"/*.txt

if [ "$doc" = 1 ]; then
  "${report[@]}" >/dev/null
else
  "${report[@]}" --no-doc
fi
