#!/usr/bin/env bash
# The quality gate per frame, C++ and python3-opencv side by side in one run, pinned to one core.
# Usage: bench/liveness_bench.sh [BUILD_DIR]   (after scripts/install-deps.sh and a build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CORE=${CORE:-1}
echo "== C++ (bench/liveness_bench.cc), core $CORE"
taskset -c "$CORE" "$BUILD/bench/liveness_bench" --benchmark_min_time=2 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true
echo "== Python (bench/liveness_bench.py), core $CORE"
taskset -c "$CORE" /usr/bin/python3 bench/liveness_bench.py 300
