#!/usr/bin/env bash
# Issue 5's HTTP figure, side by side in one run: vigil deciding POST /v1/decisions (transaction
# flow: all four analyzers, the hosted 200-tree XGBoost model scoring every request, calibration,
# fusion, policy, audit log with synchronous=full, metrics) against the seeds' own serving stack
# (bench/baseline/app.py: Flask + prometheus_client + python3-xgboost, Flask's threaded server).
# The same wrk settings and the same request body (bench/baseline/txn.lua) for both.
#   bench/baseline/run.sh [BUILD_DIR] [SECONDS] [CONNECTIONS] [THREADS]
# Needs wrk and Debian's python3-flask, python3-prometheus-client, python3-xgboost; installs
# the missing ones with apt-get when run as root.
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
CONNS=${3:-32}
THREADS=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TMP=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
for m in flask:python3-flask prometheus_client:python3-prometheus-client xgboost:python3-xgboost; do
  /usr/bin/python3 -c "import ${m%%:*}" 2>/dev/null || need+=("${m#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  if [ -e /work/apt.lock ]; then flock /work/apt.lock apt-get install -y -qq "${need[@]}" >&2
  else apt-get install -y -qq "${need[@]}" >&2; fi
fi

# shellcheck source=bench/lib.sh
. "$HERE/../lib.sh"

# vigil: the shipped configuration, except that the hosted model scores every request.
hosted_model_config "$ROOT/config" "$TMP/config"
KEY=$("$BUILD/src/vigil" keys add --data "$TMP/data" --scope decide --scope read --rate 10000000 --burst 10000000 2>/dev/null)
"$BUILD/src/vigil" serve --data "$TMP/data" --listen 127.0.0.1:0 --port-file "$TMP/vigil.port" \
  --config-dir "$TMP/config" >/dev/null 2>"$TMP/vigil.log" &
BPORT=$(free_port); MPORT=$(free_port)
/usr/bin/python3 "$HERE/app.py" --port "$BPORT" --metrics-port "$MPORT" --config-dir "$TMP/config" \
  >"$TMP/baseline.log" 2>&1 &
for _ in $(seq 200); do
  [ -s "$TMP/vigil.port" ] && curl -s -o /dev/null "http://127.0.0.1:$BPORT/" && break
  sleep 0.1
done
VIGIL=http://127.0.0.1:$(cat "$TMP/vigil.port")
BASE=http://127.0.0.1:$BPORT
export VIGIL_KEY=$KEY

run() {  # name url
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$HERE/txn.lua" "$2" > "$TMP/$1.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$TMP/$1.txt"); p99=$(awk '$1=="99%" {print $2}' "$TMP/$1.txt")
  errs=$(awk '/Non-2xx/ {print $5}' "$TMP/$1.txt"); errs=${errs:-0}
  sockerr=$(awk '/Socket errors/ {print $0}' "$TMP/$1.txt")
  printf "%-10s %10s req/s   p50 %8s   p99 %8s   non-2xx %s %s\n" "$1" "$rps" "$p50" "$p99" "$errs" "$sockerr"
  eval "RPS_$1=$rps"
}

echo "== $(date -u '+%F %T') UTC, load: $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$THREADS -c$CONNS -d${SECS}s -s bench/baseline/txn.lua"
run baseline "$BASE/v1/decisions"
run vigil "$VIGIL/v1/decisions"
ratio=$(awk -v v="$RPS_vigil" -v b="$RPS_baseline" 'BEGIN {printf "%.1f", v/b}')
echo "vigil / baseline throughput: ${ratio}x (goal >= 50x)"

# What each did: vigil's hosted-model and analyzer counts, the baseline's prometheus counters.
curl -s -H "Authorization: Bearer $KEY" "$VIGIL/v1/transactions/stats" |
  /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); f=s["fraud_model"]; print("vigil: hosted model scored", f["scored"], "(trees", f.get("trees"), "depth", str(f.get("max_depth")) + ", evaluator", f["evaluator"] + "), client scores replaced", f["client_replaced"], "| velocity events", s["velocity"]["events"], "| trajectory events", s["trajectory"]["events"])'
curl -s "$VIGIL/metrics" | awk '/^vigil_decisions_total\{/ {n += $NF} /^vigil_decision_latency_seconds_count/ {c += $NF}
  END {printf "vigil: /metrics vigil_decisions_total %d, vigil_decision_latency_seconds_count %d\n", n, c}'
curl -s "http://127.0.0.1:$MPORT/metrics" | grep -E '^fraud_predictions_total|^fraud_prediction_latency_seconds_count' | sed 's/^/baseline: /'
"$BUILD/src/vigil" audit verify --data "$TMP/data"
