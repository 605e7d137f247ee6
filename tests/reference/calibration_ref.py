#!/usr/bin/python3
"""Reference calibration fits with scikit-learn for tests/calibration: prints JSON with Platt's
A and B (sklearn.calibration._sigmoid_calibration: Platt's smoothed targets) and the isotonic
breakpoints and predictions of IsotonicRegression(out_of_bounds="clip") on query points."""
import json
import sys

import numpy as np
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
scores, labels = data[:, 0], data[:, 1].astype(int)
a, b = _sigmoid_calibration(scores, labels)
iso = IsotonicRegression(out_of_bounds="clip").fit(scores, labels)
queries = np.concatenate([[-1.0, 0.0, 1.0, 2.0], np.linspace(-0.05, 1.05, 221), scores[:50]])
print(json.dumps({
    "platt": {"a": float(a), "b": float(b)},
    "isotonic": {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()},
    "queries": queries.tolist(),
    "predictions": iso.predict(queries).tolist(),
}))
