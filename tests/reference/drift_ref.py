#!/usr/bin/python3
"""Reference drift measures with SciPy for tests/drift. Usage:
  drift_ref.py numeric REF CUR BINS    -> ks_2samp, jensenshannon (base 2) on numpy.histogram
                                           counts, wasserstein_distance, np.std, PSI (Evidently)
  drift_ref.py weighted REF CUR CENTRES -> wasserstein_distance with weights, jensenshannon
  drift_ref.py categorical REF CUR     -> jensenshannon and PSI over the sorted union of categories
  drift_ref.py kstwo N X [N X ...]     -> scipy.stats.kstwo.sf(X, N)
  drift_ref.py batch FILE               -> each line of FILE is one of the above; a JSON list
Prints one JSON object (batch: a list), so a test pays for SciPy's import once."""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def psi(ref_counts, cur_counts):
    # Evidently's get_binned_data + psi_stat_test: shares, empty bins replaced by min/1e6 when the
    # smallest non-zero share is <= 0.0001, else 0.0001; PSI = sum((c - r) * ln(c / r)).
    r = np.asarray(ref_counts, float) / np.sum(ref_counts)
    c = np.asarray(cur_counts, float) / np.sum(cur_counts)
    for a in (r, c):
        m = np.min(a[a != 0])
        np.place(a, a == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return float(np.sum((c - r) * np.log(c / r)))


def load(path):
    return np.loadtxt(path, dtype=float, ndmin=1)


def run(argv):
    mode = argv[0]
    if mode == "numeric":
        a, b, bins = load(argv[1]), load(argv[2]), int(argv[3])
        edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
        ha, hb = np.histogram(a, edges)[0], np.histogram(b, edges)[0]
        ks = stats.ks_2samp(a, b)
        out = {"ks_statistic": float(ks.statistic), "ks_p_value": float(ks.pvalue),
               "js_distance": float(distance.jensenshannon(ha, hb, base=2)),
               "wasserstein": float(stats.wasserstein_distance(a, b)),
               "reference_std": float(np.std(a)), "psi": psi(ha, hb),
               "edges": edges.tolist(), "ref_counts": ha.tolist(), "cur_counts": hb.tolist()}
    elif mode == "weighted":
        wa, wb, centres = load(argv[1]), load(argv[2]), load(argv[3])
        out = {"wasserstein": float(stats.wasserstein_distance(centres, centres, wa, wb)),
               "js_distance": float(distance.jensenshannon(wa, wb, base=2)), "psi": psi(wa, wb)}
    elif mode == "categorical":
        ra = [l.strip() for l in open(argv[1]) if l.strip()]
        ca = [l.strip() for l in open(argv[2]) if l.strip()]
        cats = sorted(set(ra) | set(ca))
        rc = [ra.count(k) for k in cats]
        cc = [ca.count(k) for k in cats]
        out = {"js_distance": float(distance.jensenshannon(rc, cc, base=2)), "psi": psi(rc, cc)}
    elif mode == "kstwo":
        v = argv[1:]
        out = {"sf": [float(stats.kstwo.sf(float(v[i + 1]), int(v[i]))) for i in range(0, len(v), 2)]}
    return out


if sys.argv[1] == "batch":
    print(json.dumps([run(line.split()) for line in open(sys.argv[2]) if line.strip()]))
else:
    print(json.dumps(run(sys.argv[1:])))
