#!/usr/bin/env bash
# Signaling-server benchmark: runs meshmeet-loadgen scenarios against a fresh
# meshmeet-server each, prints the reports and rewrites the "Signaling server"
# section of docs/benchmarks.md with what this one run measured.
#
# Builds nothing: needs build/bin/meshmeet-server and build/bin/meshmeet-loadgen
# (override the folder with BUILD_DIR=...).
#
#   tools/loadgen/bench.sh               all scenarios, update docs/benchmarks.md
#   tools/loadgen/bench.sh --no-stress   only the two target scenarios (1, 2)
#   tools/loadgen/bench.sh --quick       only scenario 1 (smoke test)
#   tools/loadgen/bench.sh --no-docs     do not touch docs/benchmarks.md
#
# Scenarios (each on its own freshly started server, temp database):
#   1  1,000 participants at 1,000 joins/s, hold 5 s   target: join p99 <= 10 ms
#   2  19,000 participants at 1,000 joins/s, hold 20 s target: 0 errors, RSS <= 150 MB,
#                                                     <= 5 KB per participant beyond idle,
#                                                     CPU <= 0.3 ms per join
#   2b as 2 without signals: separates the cost of a join from the cost of relaying
#   3  (stress) 4,000 participants at 4,000 joins/s: where join latency bends
#   4  (stress) 20,400 participants: past the server's 20,000-fd limit
#
# Environment: BUILD_DIR (default build), BENCH_DOC (default docs/benchmarks.md),
# BENCH_QUIET_WAIT (seconds to wait for an idle machine before each scenario,
# default 300, 0 = no wait), KEEP_TMP=1 (keep logs, summaries and /metrics).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
SERVER="$BUILD_DIR/bin/meshmeet-server"
LOADGEN="$BUILD_DIR/bin/meshmeet-loadgen"
DOC="${BENCH_DOC:-$ROOT/docs/benchmarks.md}"

stress=1
quick=0
docs=1
for a in "$@"; do
  case "$a" in
    --no-stress) stress=0 ;;
    --quick) quick=1; stress=0 ;;
    --no-docs) docs=0 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option '$a'" >&2; exit 2 ;;
  esac
done

for b in "$SERVER" "$LOADGEN"; do
  [ -x "$b" ] || { echo "bench.sh: $b not found (build first)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "bench.sh: node is needed to write the report" >&2; exit 2; }

# 20,000 open files is the hard cap on these machines; the server and each
# loadgen worker need every one of them.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "bench: open files limit $(ulimit -n)"

TMP="$(mktemp -d /tmp/meshmeet-bench.XXXXXX)"
SPID=""
cleanup() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "bench: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # name
  local name="$1"
  : >"$TMP/$name.server.log"
  "$SERVER" --host 127.0.0.1 --port 0 --db "$TMP/$name.db" \
    --create-rate 0 --per-ip 100000 --per-ip-sockets 100000 \
    2>"$TMP/$name.server.log" >/dev/null &
  SPID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT="$(grep -m1 '"event":"listening"' "$TMP/$name.server.log" 2>/dev/null |
      sed -n 's/.*"port":\([0-9]*\).*/\1/p' || true)"
    [ -n "$PORT" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$PORT" ]; then
    echo "bench: server did not start; its log:" >&2
    tail -20 "$TMP/$name.server.log" >&2
    exit 3
  fi
  sleep 0.5 # let it settle before the idle RSS sample
}

stop_server() { # name
  local name="$1" rc=0
  if kill -0 "$SPID" 2>/dev/null; then
    curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$TMP/$name.metrics" 2>/dev/null || true
    echo alive >"$TMP/$name.alive"
    kill -TERM "$SPID"
    for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SPID" 2>/dev/null; then
      echo "bench: server did not exit 10 s after SIGTERM; killing it" >&2
      echo "no-exit-after-sigterm" >"$TMP/$name.alive"
      kill -KILL "$SPID" 2>/dev/null || true
    fi
    wait "$SPID" || rc=$?
  else
    wait "$SPID" || rc=$?
    echo "died (exit $rc)" >"$TMP/$name.alive"
    echo "bench: the server died during $name (exit $rc); last log lines:" >&2
    tail -5 "$TMP/$name.server.log" >&2
  fi
  echo "$rc" >"$TMP/$name.server.rc"
  SPID=""
}

cpu_busy_ticks() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9; exit }' /proc/stat; }

# Other work on the machine skews every latency: wait (up to BENCH_QUIET_WAIT
# seconds, default 300; 0 = do not wait) until the CPUs have been less than
# 20 % busy for 10 s in a row. The report shows how busy they were anyway.
wait_for_quiet() {
  local max="${BENCH_QUIET_WAIT:-300}" waited=0 quiet=0 b0 t0 b1 t1 pct
  [ "$max" -gt 0 ] || return 0
  read -r b0 t0 < <(cpu_busy_ticks)
  while [ "$waited" -lt "$max" ]; do
    sleep 2
    waited=$((waited + 2))
    read -r b1 t1 < <(cpu_busy_ticks)
    pct=$(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))
    b0=$b1 t0=$t1
    if [ "$pct" -lt 20 ]; then quiet=$((quiet + 2)); else quiet=0; fi
    [ "$quiet" -ge 10 ] && return 0
  done
  echo "bench: the machine is still busy (${pct}% of all CPUs) after ${max} s; running anyway" >&2
}

run_scenario() { # name title loadgen-args...
  local name="$1" title="$2"
  shift 2
  echo
  echo "=== $name: $title"
  wait_for_quiet
  start_server "$name"
  echo "bench: server pid $SPID on port $PORT"
  local rc=0
  "$LOADGEN" --url "ws://127.0.0.1:$PORT" --server-pid "$SPID" "$@" \
    >"$TMP/$name.out" 2> >(tee "$TMP/$name.err" >&2) || rc=$?
  cat "$TMP/$name.out"
  tail -n 1 "$TMP/$name.out" >"$TMP/$name.json"
  echo "$rc" >"$TMP/$name.rc"
  echo "$title" >"$TMP/$name.title"
  echo "$*" >"$TMP/$name.args"
  stop_server "$name"
  if [ -s "$TMP/$name.metrics" ]; then
    echo "server /metrics after the run:"
    grep -E '^meshmeet_(errors_total|disconnects_total|rate_limited|join_latency_seconds_(sum|count))' \
      "$TMP/$name.metrics" | awk '$NF != 0 { print "  " $0 }' || true
  fi
  echo "bench: loadgen exit $rc, server $(cat "$TMP/$name.alive"), server exit $(cat "$TMP/$name.server.rc")"
}

scenarios=(s1)
run_scenario s1 "1,000 participants at 1,000 joins/s, hold 5 s" \
  --participants 1000 --rate 1000 --hold 5
if [ "$quick" = 0 ]; then
  scenarios+=(s2)
  run_scenario s2 "19,000 participants at 1,000 joins/s, hold 20 s" \
    --participants 19000 --rate 1000 --hold 20
fi
if [ "$stress" = 1 ]; then
  scenarios+=(s2b s3 s4)
  run_scenario s2b "as 2 but join only: no SDP or candidates (what the signals cost)" \
    --participants 19000 --rate 1000 --hold 20 --no-signals
  run_scenario s3 "stress: 4,000 participants at 4,000 joins/s, hold 2 s" \
    --participants 4000 --rate 4000 --hold 2
  run_scenario s4 "stress: 20,400 participants at 1,000 joins/s (past the server's 20,000-fd limit), hold 5 s" \
    --participants 20400 --rate 1000 --hold 5 --workers 3
fi

if [ "$docs" = 1 ]; then
  node "$ROOT/tools/loadgen/bench-report.mjs" "$TMP" "$DOC" "${scenarios[@]}"
  echo
  echo "bench: wrote the \"Signaling server\" section of ${DOC#"$ROOT"/}"
fi
