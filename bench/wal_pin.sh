#!/usr/bin/env bash
# A reader that pins the audit log's WAL: the server under wrk while another process holds a read
# transaction on audit.db for HOLD seconds (bench/RESULTS.md, "A reader that pins the WAL").
#   bench/wal_pin.sh [BUILD_DIR] [HOLD_SECONDS]
set -euo pipefail
BUILD=${1:-build}
HOLD=${2:-25}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
KEY=$("$BUILD/src/vigil" keys add --data "$TMP/data" --scope decide --rate 10000000 --burst 10000000 2>/dev/null)
"$BUILD/src/vigil" serve --data "$TMP/data" --listen 127.0.0.1:0 --port-file "$TMP/port" --config-dir "$HERE/../config" >/dev/null 2>"$TMP/log" &
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
URL=http://127.0.0.1:$(cat "$TMP/port")/v1/decisions
export VIGIL_KEY=$KEY VIGIL_WRK_DIR=$HERE/wrk
run() {  # label seconds
  wrk -t1 -c32 -d"$2s" --latency -s "$HERE/wrk/decision.lua" "$URL" > "$TMP/w.txt"
  printf '%-18s %10s req/s   p99 %8s   WAL %5d MB\n' "$1" "$(awk '/Requests\/sec/ {print $2}' "$TMP/w.txt")" \
    "$(awk '$1=="99%" {print $2}' "$TMP/w.txt")" $(( $(stat -c %s "$TMP/data/audit.db-wal") >> 20 ))
}
run "before the reader" 3
/usr/bin/python3 - "$TMP/data/audit.db" "$HOLD" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN"); c.execute("SELECT count(*) FROM audit").fetchone()
time.sleep(float(sys.argv[2])); c.execute("COMMIT")
PY
READER=$!
sleep 0.5
for i in 1 2 3 4; do run "reader open ($i)" 5; done
wait $READER
run "reader ended" 3
run "then" 3
echo "audit_wal_pinned lines in the log: $(grep -c audit_wal_pinned "$TMP/log" || true)"
