#!/usr/bin/python3
"""SciPy's ks_2samp alone on 1M against 1M normal samples (the same sizes and distributions as
bench/monitor_bench.cc's BM_PsiKs1M): prints the median CPU time of REPEATS runs in ms."""
import sys
import time

import numpy as np
from scipy import stats

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
a = np.random.default_rng(1).normal(0.0, 1.0, 1_000_000)
b = np.random.default_rng(2).normal(0.01, 1.0, 1_000_000)
times = []
for _ in range(repeats):
    t0 = time.process_time()
    r = stats.ks_2samp(a, b)
    times.append((time.process_time() - t0) * 1e3)
times.sort()
print(f"scipy.stats.ks_2samp 1M vs 1M: median {times[len(times) // 2]:.1f} ms CPU of {repeats} "
      f"(all: {', '.join(f'{t:.1f}' for t in times)}); statistic {r.statistic:.6f}")
