#!/bin/sh
# Issue 8's figures in one run: the drift window update per decision, PSI + KS over 1M vs 1M in
# C++ (std::sort path and drift::PsiKs), and SciPy's ks_2samp alone on the same sizes.
# Usage: bench/drift_bench.sh [BUILD_DIR]   (results: bench/RESULTS.md)
set -e
build=${1:-build}
here=$(dirname "$0")
uptime
"$build/bench/monitor_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.5
/usr/bin/python3 "$here/ks_scipy.py" 3
uptime
