#!/usr/bin/env bash
# npm test: builds everything and runs every suite, then prints one summary
# line per suite and a closing line. Exits non-zero if any suite failed.
#   MESHMEET_FUZZ_SECONDS  seconds per fuzz target (default 30)
#   MESHMEET_SUITES        space-separated subset to run (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."

all_suites="unit core-wasm server node browser network sanitize fuzz"
suites=${MESHMEET_SUITES:-$all_suites}
fuzz_seconds=${MESHMEET_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)
declare -a results=()
failed=0
started=$(date +%s)

run_suite() {  # name, command...
  local name=$1; shift
  local t0=$(date +%s)
  echo "=== suite: $name"
  if "$@"; then
    results+=("PASS  $name ($(( $(date +%s) - t0 ))s)")
  else
    results+=("FAIL  $name ($(( $(date +%s) - t0 ))s)")
    failed=$((failed + 1))
  fi
}

wants() { [[ " $suites " == *" $1 "* ]]; }

# Runs one step of a suite; when it fails, says which step and its exit
# status, so a failed suite's log names the step even when its output is long.
step() {
  "$@"
  local status=$?
  [ "$status" -eq 0 ] || echo "=== step failed (exit $status): $*"
  return "$status"
}

suite_unit() {
  ctest --test-dir build --output-on-failure --no-tests=error -j"$jobs"
}

suite_core-wasm() {
  # The client core's doctest suite again, compiled to WebAssembly, under Node.
  ctest --test-dir build-wasm --output-on-failure --no-tests=error
}

suite_node() {
  # The built npm package in Node: fake and real (@roamhq/wrtc) WebRTC, npm pack, tsc.
  MESHMEET_SERVER_BIN=${MESHMEET_SERVER_BIN:-$PWD/build/bin/meshmeet-server} \
    timeout 900 node --test --test-concurrency=1 tests/node/
}

suite_server() {
  MESHMEET_SERVER_BIN=${MESHMEET_SERVER_BIN:-$PWD/build/bin/meshmeet-server} \
    timeout 900 node --test --test-concurrency=2 tests/server/
}

suite_browser() {
  # The web app in Debian's Chromium (and Firefox ESR), fake camera and microphone.
  MESHMEET_SERVER_BIN=${MESHMEET_SERVER_BIN:-$PWD/build/bin/meshmeet-server} \
    timeout 1500 node --test --test-concurrency=1 tests/browser/
}

suite_network() {
  # Calls across NATs and firewalls: network namespaces, nftables routers,
  # coturn and a browser in every home (tests/network/lab.mjs). Needs root.
  MESHMEET_SERVER_BIN=${MESHMEET_SERVER_BIN:-$PWD/build/bin/meshmeet-server} \
    timeout 1200 node --test --test-concurrency=1 tests/network/
}

suite_sanitize() {
  # ASan + UBSan: the unit tests (the client core's included) and the server integration tests again.
  if [ ! -f build-sanitize/CMakeCache.txt ]; then
    cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DMESHMEET_SANITIZE=ON \
      -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS=-O1 || return 1
  fi
  cmake --build build-sanitize -j"$jobs" --target meshmeet-server meshmeet-unit-tests meshmeet-core-tests web_app || return 1
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  step build-sanitize/bin/meshmeet-unit-tests || return 1
  step build-sanitize/bin/meshmeet-core-tests || return 1
  step build-sanitize/bin/meshmeet-core-tests -tc='stress*' --no-skip || return 1
  MESHMEET_SERVER_BIN=$PWD/build-sanitize/bin/meshmeet-server MESHMEET_SANITIZED=1 \
    step timeout 1200 node --test --test-concurrency=1 tests/server/
}

suite_fuzz() {
  if [ ! -f build-fuzz/CMakeCache.txt ]; then
    cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DMESHMEET_FUZZ=ON \
      -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS=-O1 || return 1
  fi
  cmake --build build-fuzz -j"$jobs" || return 1
  local ok=0
  for target in build-fuzz/bin/fuzz-*; do
    local name=$(basename "$target")
    local corpus=build-fuzz/corpus/$name
    mkdir -p "$corpus"
    echo "--- $name for ${fuzz_seconds}s"
    mkdir -p build-fuzz/artifacts
    ASAN_OPTIONS=detect_leaks=1 "$target" -artifact_prefix=build-fuzz/artifacts/ -max_total_time="$fuzz_seconds" -max_len=70000 -timeout=10 \
      -print_final_stats=1 "$corpus" tests/fuzz/seeds/"${name#fuzz-}" 2>&1 | tail -n 12 || ok=1
    [ "${PIPESTATUS[0]}" -eq 0 ] || ok=1
  done
  return $ok
}

if ! tools/build.sh; then
  echo "meshmeet test summary: build FAILED, no suite ran"
  exit 1
fi
for s in $all_suites; do
  if wants "$s"; then run_suite "$s" "suite_$s"; fi
done

echo
echo "=== summary"
for r in "${results[@]}"; do echo "  $r"; done
echo "meshmeet test summary: ${#results[@]} suites run, $failed failed, $(( $(date +%s) - started ))s"
[ "$failed" -eq 0 ]
