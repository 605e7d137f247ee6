#!/usr/bin/env bash
# Issue 3's HTTP figures, side by side in one run: the floor (vigil's Beast transport answering a
# fixed body) against vigil deciding POST /v1/decisions (transaction flow, three external signals,
# audit log on with synchronous=full). First each at its maximum rate, then each at half of
# vigil's maximum rate for latency.
#   bench/http_bench.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   SYNC=normal bench/http_bench.sh ...   # the audit log's synchronous setting (default: full)
#   FSYNCS=1 bench/http_bench.sh ...      # audit.parallel_fsyncs (default: the server's, 3)
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
CONNS=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

"$BUILD/bench/floor_server" "$TMP/floor.port" 1400 & sleep 0.5
SYNC=${SYNC:-full}
printf 'audit:\n  synchronous: %s\n' "$SYNC" > "$TMP/vigil.yaml"
[ -n "${FSYNCS:-}" ] && printf '  parallel_fsyncs: %s\n' "$FSYNCS" >> "$TMP/vigil.yaml"
KEY=$("$BUILD/src/vigil" keys add --data "$TMP/data" --scope decide --rate 10000000 --burst 10000000 2>/dev/null)
"$BUILD/src/vigil" serve --data "$TMP/data" --listen 127.0.0.1:0 --port-file "$TMP/vigil.port" --config "$TMP/vigil.yaml" --config-dir "$HERE/../config" >/dev/null 2>"$TMP/vigil.log" &
for _ in $(seq 100); do [ -s "$TMP/vigil.port" ] && break; sleep 0.05; done
FLOOR=http://127.0.0.1:$(cat "$TMP/floor.port")
VIGIL=http://127.0.0.1:$(cat "$TMP/vigil.port")
export VIGIL_KEY=$KEY VIGIL_WRK_DIR=$HERE/wrk

run() {  # name url script
  wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$3" "$2" > "$TMP/$1.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$TMP/$1.txt"); p99=$(awk '$1=="99%" {print $2}' "$TMP/$1.txt")
  errs=$(awk '/Non-2xx/ {print $5}' "$TMP/$1.txt"); errs=${errs:-0}
  printf "%-22s %10s req/s   p50 %8s   p99 %8s   non-2xx %s%s\n" "$1" "$rps" "$p50" "$p99" "$errs" "${DELAY_MS:+   (mean think time $DELAY_MS ms)}"
  eval "RPS_$1=$rps"
}

echo "== maximum rate: wrk -t1 -c$CONNS -d${SECS}s (audit synchronous: $SYNC${FSYNCS:+, parallel_fsyncs: $FSYNCS})"
run floor_max "$FLOOR/v1/decisions" "$HERE/wrk/decision.lua"
run vigil_max "$VIGIL/v1/decisions" "$HERE/wrk/decision.lua"
share=$(awk -v v="$RPS_vigil_max" -v f="$RPS_floor_max" 'BEGIN {printf "%.0f", 100*v/f}')
echo "vigil / floor throughput: ${share}%"

half=$(awk -v v="$RPS_vigil_max" 'BEGIN {printf "%.0f", v/2}')
# Each connection sends, waits for the answer, then thinks (bench/wrk/paced.lua: exponential, mean
# DELAY_MS). The think time that gives half of vigil's maximum depends on the answer's latency at
# that rate, so a short calibration run measures it first: latency = 1000 * conns / rate - delay.
calibrate() {  # url -> think time in ms for ~$half req/s (two 3 s runs, each correcting the last)
  local d lat rate
  d=$(awk -v c="$CONNS" -v r="$half" 'BEGIN {printf "%.3f", 1000*c/r}')
  for _ in 1 2; do
    rate=$(DELAY_MS=$d wrk -t1 -c"$CONNS" -d3s -s "$HERE/wrk/paced.lua" "$1" | awk '/Requests\/sec/ {print $2}')
    lat=$(awk -v c="$CONNS" -v r="$rate" -v d="$d" 'BEGIN {l = 1000*c/r - d; if (l < 0) l = 0; printf "%.3f", l}')
    d=$(awk -v c="$CONNS" -v r="$half" -v l="$lat" 'BEGIN {d = 1000*c/r - l; if (d < 0) d = 0; printf "%.3f", d}')
  done
  echo "$d"
}
echo "== half of vigil's maximum (~$half req/s: $CONNS connections, exponential think time between requests)"
for target in floor vigil; do
  url=$FLOOR/v1/decisions; [ "$target" = vigil ] && url=$VIGIL/v1/decisions
  DELAY_MS=$(calibrate "$url"); export DELAY_MS
  [ "$target" = vigil ] && curl -s "$VIGIL/metrics" > "$TMP/before.prom"
  run "${target}_half" "$url" "$HERE/wrk/paced.lua"
done
# The server's own view of the half-rate run: the whole decision, the audit stage (queued until
# durable), and the disk work under it. With synchronous=full every decision waits for one fsync,
# so the fsyncs' p99 is a floor under the decisions' p99.
curl -s "$VIGIL/metrics" > "$TMP/after.prom"
/usr/bin/python3 "$HERE/histogram_delta.py" "$TMP/before.prom" "$TMP/after.prom" vigil_decision_latency_seconds \
  vigil_audit_fsync_duration_seconds vigil_audit_commit_duration_seconds | sed 's/^/server, half rate: /'
"$BUILD/src/vigil" audit verify --data "$TMP/data"
