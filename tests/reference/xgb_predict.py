#!/usr/bin/python3
"""Reference XGBoost predictions for tests/models: loads a JSON model with Debian's
python3-xgboost and prints one prediction per row of a CSV of float32 features (no header;
"nan" marks a missing value), as text with 9 significant digits."""
import sys

import numpy as np
import xgboost as xgb

booster = xgb.Booster(model_file=sys.argv[1])
rows = np.loadtxt(sys.argv[2], delimiter=",", dtype=np.float32, ndmin=2)
pred = booster.inplace_predict(rows, missing=np.nan)
for p in pred:
    print(f"{float(p):.9g}")
