#!/usr/bin/env bash
# Cluster benchmark: several meshmeet-server processes on one Redis, measured
# with meshmeet-loadgen in one run, and written by cluster-report.mjs into the
# "Several processes on one Redis" subsection of docs/benchmarks.md.
#
# Builds nothing: needs build/bin/meshmeet-server, build/bin/meshmeet-loadgen
# (BUILD_DIR=... to override), redis-server, python3 (for the kill time) and node.
#
#   tools/loadgen/cluster-bench.sh              scenarios A, B, C; update the doc
#   tools/loadgen/cluster-bench.sh A C          only those scenarios
#   tools/loadgen/cluster-bench.sh --no-docs    do not touch docs/benchmarks.md
#
# Scenarios (each with its own fresh Redis and servers, temp databases):
#   A  one process without Redis (SINGLE_N, default 19,000 participants) and
#      three nodes on one Redis (CLUSTER_N, default 50,000; a list such as
#      "50000 40000" tries each in turn until one run has no error), both at
#      1,000 joins/s, meetings of 4 spread over the nodes by participant index
#   B  reconnect storm: three nodes, STORM_N (default 30,000) participants with
#      urls K,K,S1,S2 and --resume-on-close; node K is killed with SIGKILL
#      KILL_AFTER (default 5) seconds into a STORM_HOLD (default 35) s hold
#   C  4,000 participants at 4,000 joins/s: one process without Redis, one node
#      on Redis, two nodes on Redis sharing one port
#
# Every loadgen run is bounded by `timeout`; every process started here is
# stopped on exit (also on failure or Ctrl-C). Results go to a temp folder
# (KEEP_TMP=1 keeps it). Exit 0 when every run completed, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
SERVER="$BUILD_DIR/bin/meshmeet-server"
LOADGEN="$BUILD_DIR/bin/meshmeet-loadgen"
DOC="${BENCH_DOC:-$ROOT/docs/benchmarks.md}"
SINGLE_N="${SINGLE_N:-19000}"
CLUSTER_N="${CLUSTER_N:-50000}"
STORM_N="${STORM_N:-30000}"
KILL_AFTER="${KILL_AFTER:-5}"
STORM_HOLD="${STORM_HOLD:-35}"
RATE_N="${RATE_N:-4000}"

docs=1
want=()
for a in "$@"; do
  case "$a" in
    --no-docs) docs=0 ;;
    A|B|C) want+=("$a") ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-bench.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -gt 0 ] || want=(A B C)
wants() { [[ " ${want[*]} " == *" $1 "* ]]; }

for b in "$SERVER" "$LOADGEN"; do
  [ -x "$b" ] || { echo "cluster-bench: $b not found (build first)" >&2; exit 2; }
done
for c in redis-server redis-cli python3 node curl timeout; do
  command -v "$c" >/dev/null || { echo "cluster-bench: $c is needed" >&2; exit 2; }
done

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "cluster-bench: open files limit $(ulimit -n)"

TMP="$(mktemp -d /tmp/meshmeet-cluster.XXXXXX)"
PIDS=()   # every process started here, stopped on exit
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "cluster-bench: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_redis() { # run
  REDIS_PORT="$(free_port)"
  mkdir -p "$TMP/$1.redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$TMP/$1.redis" >"$TMP/$1.redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "cluster-bench: redis-server did not start" >&2; tail -5 "$TMP/$1.redis.log" >&2; exit 3
}

# start_node RUN NAME PORT [--redis]  → NODE_PID, NODE_PORT
start_node() {
  local run="$1" name="$2" port="$3" extra=()
  [ "${4:-}" = --redis ] && extra=(--redis "redis://127.0.0.1:$REDIS_PORT" --node-id "$name")
  local log="$TMP/$run.$name.log"
  "$SERVER" --host 127.0.0.1 --port "$port" --db "$TMP/$run.$name.db" \
    --create-rate 0 --per-ip 100000 --per-ip-sockets 100000 "${extra[@]}" 2>"$log" >/dev/null &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  NODE_PORT=""
  for _ in $(seq 1 100); do
    NODE_PORT="$(grep -m1 '"event":"listening"' "$log" 2>/dev/null | sed -n 's/.*"port":\([0-9]*\).*/\1/p' || true)"
    [ -n "$NODE_PORT" ] && break
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$NODE_PORT" ]; then echo "cluster-bench: $name did not start:" >&2; tail -5 "$log" >&2; exit 3; fi
  # /readyz answers 200 once a node is connected to Redis (at once without).
  for _ in $(seq 1 100); do
    curl -sf --max-time 1 "http://127.0.0.1:$NODE_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "$name $NODE_PID $NODE_PORT" >>"$TMP/$run.nodes"
}

# Stops every node of RUN (and its Redis), noting /metrics, whether each was alive and its exit status.
stop_run() { # run
  local run="$1" name pid port rc
  while read -r name pid port; do
    rc=0
    if kill -0 "$pid" 2>/dev/null; then
      curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$TMP/$run.$name.metrics" 2>/dev/null || true
      echo alive >"$TMP/$run.$name.alive"
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then echo no-exit-after-sigterm >"$TMP/$run.$name.alive"; kill -KILL "$pid" 2>/dev/null || true; fi
      wait "$pid" || rc=$?
    else
      wait "$pid" 2>/dev/null || rc=$?
      [ -s "$TMP/$run.$name.alive" ] || echo "died (exit $rc)" >"$TMP/$run.$name.alive"
    fi
    echo "$rc" >"$TMP/$run.$name.rc"
    echo "cluster-bench: $run/$name $(cat "$TMP/$run.$name.alive"), exit $rc"
  done <"$TMP/$run.nodes"
  if [ -n "${REDIS_PID:-}" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    redis-cli -p "$REDIS_PORT" info memory >"$TMP/$run.redis.info" 2>/dev/null || true
    redis-cli -p "$REDIS_PORT" info commandstats >>"$TMP/$run.redis.info" 2>/dev/null || true
    kill -TERM "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
  fi
  REDIS_PID=""
}

# run_loadgen RUN TITLE TIMEOUT_S loadgen-args...
run_loadgen() {
  local run="$1" title="$2" limit="$3"; shift 3
  echo "$title" >"$TMP/$run.title"
  echo "$*" >"$TMP/$run.args"
  cat /proc/loadavg >"$TMP/$run.loadavg"
  local rc=0
  timeout --kill-after=10 "$limit" "$LOADGEN" "$@" >"$TMP/$run.out" 2> >(tee "$TMP/$run.err" >&2) || rc=$?
  cat "$TMP/$run.out"
  tail -n 1 "$TMP/$run.out" >"$TMP/$run.json"
  echo "$rc" >"$TMP/$run.rc"
  echo "cluster-bench: $run loadgen exit $rc"
  [ "$rc" = 0 ]
}

runs=()
failed=0
date -u +%Y-%m-%dT%H:%M:%SZ >"$TMP/started"
cat /proc/loadavg >"$TMP/loadavg.start"

if wants A; then
  # A1: one process, no Redis.
  run=A1; runs+=("$run"); REDIS_PID=""
  echo; echo "=== $run: one process without Redis, $SINGLE_N participants"
  start_node $run single 0
  sleep 0.5
  run_loadgen $run "one process without Redis" 300 --url "ws://127.0.0.1:$NODE_PORT" --server-pid "$NODE_PID" \
    --participants "$SINGLE_N" --rate 1000 --hold 10 || failed=1
  stop_run $run

  # A2: three nodes on one Redis; the first size in CLUSTER_N that runs without an error.
  i=0
  for n in $CLUSTER_N; do
    i=$((i + 1)); run="A2.$i"; runs+=("$run")
    echo; echo "=== $run: three nodes on one Redis, $n participants"
    start_redis $run
    urls=(); spids=()
    for k in 1 2 3; do
      start_node $run "n$k" 0 --redis
      urls+=(--url "ws://127.0.0.1:$NODE_PORT"); spids+=(--server-pid "$NODE_PID")
    done
    sleep 0.5
    ok=1
    run_loadgen $run "three nodes on one Redis" 600 "${urls[@]}" "${spids[@]}" --server-pid "$REDIS_PID" \
      --participants "$n" --rate 1000 --hold 10 || ok=0
    stop_run $run
    [ $ok = 1 ] && break
  done
  [ $ok = 1 ] || failed=1
fi

if wants B; then
  run=B; runs+=("$run")
  echo; echo "=== $run: reconnect storm, $STORM_N participants, K killed ${KILL_AFTER} s into the hold"
  start_redis $run
  start_node $run K 0 --redis; K_PID=$NODE_PID; K_URL="ws://127.0.0.1:$NODE_PORT"
  start_node $run S1 0 --redis; S1_PID=$NODE_PID; S1_URL="ws://127.0.0.1:$NODE_PORT"
  start_node $run S2 0 --redis; S2_PID=$NODE_PID; S2_URL="ws://127.0.0.1:$NODE_PORT"
  sleep 0.5
  : >"$TMP/$run.err"
  # The killer: a few seconds after the ramp has settled (the hold has begun),
  # write CLOCK_MONOTONIC ns to the kill time file, then SIGKILL node K.
  (
    until grep -q 'ramp done' "$TMP/$run.err" 2>/dev/null; do sleep 0.1; done
    sleep "$KILL_AFTER"
    python3 -c 'import os, sys, time
with open(sys.argv[1], "w") as f: f.write(str(time.monotonic_ns()))
os.kill(int(sys.argv[2]), 9)' "$TMP/$run.killtime" "$K_PID"
    echo "killed by SIGKILL ${KILL_AFTER} s into the hold" >"$TMP/$run.K.alive"
    echo "cluster-bench: killed node K (pid $K_PID)" >&2
  ) &
  KILLER=$!
  PIDS+=("$KILLER")
  run_loadgen $run "reconnect storm" 600 --url "$K_URL" --url "$K_URL" --url "$S1_URL" --url "$S2_URL" \
    --server-pid "$K_PID" --server-pid "$S1_PID" --server-pid "$S2_PID" --server-pid "$REDIS_PID" \
    --participants "$STORM_N" --rate 1000 --hold "$STORM_HOLD" --resume-on-close --kill-time-file "$TMP/$run.killtime" || failed=1
  kill "$KILLER" 2>/dev/null || true   # the ramp never settled: K stays up
  wait "$KILLER" 2>/dev/null || true
  stop_run $run
fi

if wants C; then
  run=C1; runs+=("$run"); REDIS_PID=""
  echo; echo "=== $run: one process without Redis, $RATE_N at 4,000 joins/s"
  start_node $run single 0
  sleep 0.5
  run_loadgen $run "one process without Redis" 120 --url "ws://127.0.0.1:$NODE_PORT" --server-pid "$NODE_PID" \
    --participants "$RATE_N" --rate 4000 --hold 2 || failed=1
  stop_run $run

  run=C2; runs+=("$run")
  echo; echo "=== $run: one node on Redis, $RATE_N at 4,000 joins/s"
  start_redis $run
  start_node $run n1 0 --redis
  sleep 0.5
  run_loadgen $run "one node on Redis" 120 --url "ws://127.0.0.1:$NODE_PORT" --server-pid "$NODE_PID" \
    --server-pid "$REDIS_PID" --participants "$RATE_N" --rate 4000 --hold 2 || failed=1
  stop_run $run

  run=C3; runs+=("$run")
  echo; echo "=== $run: two nodes on Redis sharing one port, $RATE_N at 4,000 joins/s"
  start_redis $run
  start_node $run n1 0 --redis; P1=$NODE_PID; SHARED=$NODE_PORT
  start_node $run n2 "$SHARED" --redis; P2=$NODE_PID
  sleep 0.5
  run_loadgen $run "two nodes on Redis sharing one port" 120 --url "ws://127.0.0.1:$SHARED" \
    --server-pid "$P1" --server-pid "$P2" --server-pid "$REDIS_PID" \
    --participants "$RATE_N" --rate 4000 --hold 2 || failed=1
  stop_run $run
fi

if [ "$docs" = 1 ]; then
  node "$ROOT/tools/loadgen/cluster-report.mjs" "$TMP" "$DOC" "${runs[@]}"
  echo; echo "cluster-bench: wrote \"Several processes on one Redis\" in ${DOC#"$ROOT"/}"
fi
exit $failed
