#!/usr/bin/python3
"""Reference fusion fit with scikit-learn for tests/feedback: LogisticRegression(penalty="l2",
C=argv[3], lbfgs run to tight tolerance) on the CSV of argv[1] (label + signal columns named by
argv[2], comma-separated), logit features, for each C in argv[3] (comma-separated). Prints JSON
{"C": {bias, weights}}."""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

path, signals, cs = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
header = open(path).readline().strip().split(",")
data = np.loadtxt(path, delimiter=",", skiprows=1)
y = data[:, header.index("label")].astype(int)
p = np.clip(np.column_stack([data[:, header.index(s)] for s in signals]), 1e-6, 1 - 1e-6)
x = np.log(p / (1 - p))
out = {}
for c in cs:
    m = LogisticRegression(penalty="l2", C=float(c), fit_intercept=True, solver="lbfgs", tol=1e-10,
                           max_iter=100000)
    m.fit(x, y)
    out[c] = {"bias": float(m.intercept_[0]), "weights": m.coef_[0].tolist()}
print(json.dumps(out))
