#!/usr/bin/env bash
# What each server of issues 3 and 5 costs per request in CPU, and what it does with one core of
# its own. Four servers, the same requests as their side-by-side figures:
#   floor  vigil's Beast transport answering a fixed body         (issue 3, bench/wrk/decision.lua)
#   vigil  POST /v1/decisions, shipped config, audit synchronous=full (issue 3, decision.lua)
#   flask  the seeds' serving stack, bench/baseline/app.py          (issue 5, bench/baseline/txn.lua)
#   vigil-txn  vigil with the hosted model scoring every request    (issue 5, txn.lua)
# Each is measured twice: "one core" (the server pinned to CPU 1 with taskset, wrk to CPU 0) and
# "shared" (both free on every CPU, as bench/http_bench.sh and bench/baseline/run.sh run them).
# CPU per request is the server process's user+system time (/proc/PID/stat, exited threads
# included) over the run, divided by the requests wrk completed; wrk's is its own (getrusage of
# the child). After each round: the CPU per decision that issue 3's and issue 5's goals leave
# vigil on this machine (budgets below).
#   bench/per_core.sh [BUILD_DIR] [SECONDS] [ROUNDS]
# Needs 2 CPUs or more, wrk, and the baseline's Python packages (bench/baseline/run.sh installs them).
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-8}
ROUNDS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
[ "$(nproc)" -ge 2 ] || { echo "per_core.sh: needs 2 CPUs or more" >&2; exit 2; }

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
wait_port() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "no port in $1" >&2; exit 1; }

"$BUILD/bench/floor_server" "$TMP/floor.port" 1400 & FLOOR_PID=$!

printf 'audit:\n  synchronous: full\n' > "$TMP/vigil.yaml"
KEY=$("$BUILD/src/vigil" keys add --data "$TMP/data" --scope decide --rate 10000000 --burst 10000000 2>/dev/null)
"$BUILD/src/vigil" serve --data "$TMP/data" --listen 127.0.0.1:0 --port-file "$TMP/vigil.port" --config "$TMP/vigil.yaml" \
  --config-dir "$HERE/../config" >/dev/null 2>"$TMP/vigil.log" & VIGIL_PID=$!

# Issue 5's vigil: the hosted model scores every request (as bench/baseline/run.sh sets it up).
hosted_model_config "$HERE/../config" "$TMP/config-txn"
KEY_TXN=$("$BUILD/src/vigil" keys add --data "$TMP/data-txn" --scope decide --rate 10000000 --burst 10000000 2>/dev/null)
"$BUILD/src/vigil" serve --data "$TMP/data-txn" --listen 127.0.0.1:0 --port-file "$TMP/txn.port" --config "$TMP/vigil.yaml" \
  --config-dir "$TMP/config-txn" >/dev/null 2>"$TMP/txn.log" & TXN_PID=$!

FPORT=$(free_port); MPORT=$(free_port)
/usr/bin/python3 "$HERE/baseline/app.py" --port "$FPORT" --metrics-port "$MPORT" --config-dir "$TMP/config-txn" \
  >"$TMP/flask.log" 2>&1 & FLASK_PID=$!
wait_port "$TMP/floor.port"; wait_port "$TMP/vigil.port"; wait_port "$TMP/txn.port"
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$FPORT/" && break; sleep 0.1; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A RPS CORES WRK_US  # per server, from its latest "shared" run
measure() {  # name pid url script connections key pinned(1|0)
  local name=$1 pid=$2 url=$3 script=$4 conns=$5 pin=$7 mode=shared on=()
  export VIGIL_KEY=$6
  if [ "$pin" = 1 ]; then taskset -a -p -c 1 "$pid" >/dev/null; on=(taskset -c 0); mode=one-core
  else taskset -a -p -c "0-$(($(nproc) - 1))" "$pid" >/dev/null; fi
  "${on[@]}" wrk -t1 -c"$conns" -d2s -s "$script" "$url" >/dev/null  # warm-up
  local c0 c1 n rps wrk_s line
  c0=$(cpu_ticks "$pid")
  wrk_s=$(cpu_of "$TMP/w.txt" "${on[@]}" wrk -t1 -c"$conns" -d"${SECS}s" -s "$script" "$url")
  c1=$(cpu_ticks "$pid")
  n=$(awk '/requests in/ {print $1}' "$TMP/w.txt"); rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/w.txt")
  line=$(awk -v rps="$rps" -v a="$c0" -v b="$c1" -v n="$n" -v s="$SECS" -v hz="$(getconf CLK_TCK)" -v w="$wrk_s" \
    'BEGIN {printf "%.0f %.3f %.1f %.1f", rps, (b-a)/hz/s, (b-a)/hz*1e6/n, w*1e6/n}')
  read -r rps cores per_req wrk_us <<< "$line"
  printf "%-10s %-9s %10s req/s   server CPU %s cores   %8s us CPU per request   wrk %5s us per request\n" \
    "$name" "$mode" "$rps" "$cores" "$per_req" "$wrk_us"
  if [ "$pin" = 0 ]; then RPS[$name]=$rps; CORES[$name]=$cores; WRK_US[$name]=$wrk_us; fi
}

# What each goal leaves a decision, from the shared runs: the CPU the floor and wrk kept busy
# together (what this machine gives a saturated server and its load generator), less wrk's own CPU
# per request at the goal's rate, over that rate.
budgets() {
  awk -v f="${RPS[floor]}" -v fc="${CORES[floor]}" -v fw="${WRK_US[floor]}" -v b="${RPS[flask]}" \
      -v v3="${WRK_US[vigil]}" -v v5="${WRK_US[vigil-txn]}" 'BEGIN {
    busy = fc + f * fw * 1e-6
    r3 = 0.7 * f; r5 = 50 * b
    printf "budget    issue 3 (70%% of the floor, %.0f req/s): %.1f us CPU per decision; issue 5 (50x Flask, %.0f req/s): %.1f us (CPUs busy in the floor run: %.2f)\n", \
      r3, (busy - r3 * v3 * 1e-6) / r3 * 1e6, r5, (busy - r5 * v5 * 1e-6) / r5 * 1e6, busy }'
}

echo "== $(date -u '+%F %T') UTC, $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg); wrk -t1 -d${SECS}s, $ROUNDS rounds"
for _ in $(seq "$ROUNDS"); do
  for pin in 1 0; do
    measure floor "$FLOOR_PID" "http://127.0.0.1:$(cat "$TMP/floor.port")/v1/decisions" "$HERE/wrk/decision.lua" 32 x "$pin"
    measure vigil "$VIGIL_PID" "http://127.0.0.1:$(cat "$TMP/vigil.port")/v1/decisions" "$HERE/wrk/decision.lua" 32 "$KEY" "$pin"
    measure flask "$FLASK_PID" "http://127.0.0.1:$FPORT/v1/decisions" "$HERE/baseline/txn.lua" 128 x "$pin"
    measure vigil-txn "$TXN_PID" "http://127.0.0.1:$(cat "$TMP/txn.port")/v1/decisions" "$HERE/baseline/txn.lua" 128 "$KEY_TXN" "$pin"
  done
  budgets
done
"$BUILD/src/vigil" audit verify --data "$TMP/data" | tail -1
"$BUILD/src/vigil" audit verify --data "$TMP/data-txn" | tail -1
