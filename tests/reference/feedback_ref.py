#!/usr/bin/python3
"""Reference error-rate figures with scikit-learn for tests/feedback: reads a CSV with a header
(risk,y,flagged,attack) and prints JSON. `flagged` is the decision (1 = not passed); `attack` is
an attack-type index (-1 for negatives)."""
import json
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (brier_score_loss, confusion_matrix, det_curve, f1_score,
                             matthews_corrcoef, precision_score, recall_score, roc_auc_score,
                             roc_curve)

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
risk, y, flagged, attack = data[:, 0], data[:, 1].astype(int), data[:, 2].astype(int), data[:, 3].astype(int)
tn, fp, fn, tp = confusion_matrix(y, flagged, labels=[0, 1]).ravel()
prob_true, prob_pred = calibration_curve(y, risk, n_bins=10, strategy="uniform")
# ECE from the same binning calibration_curve uses, weighted by bin counts.
bins = np.linspace(0.0, 1.0, 11)
ids = np.searchsorted(bins[1:-1], risk)
counts = np.bincount(ids, minlength=10)
nonzero = counts > 0
ece = float(np.sum(counts[nonzero] / len(risk) * np.abs(prob_true - prob_pred)))
apcer = {}
for a in sorted(set(attack[y == 1].tolist())):
    sel = (y == 1) & (attack == a)
    apcer[str(a)] = float(np.mean(flagged[sel] == 0))
bpcer = float(np.mean(flagged[y == 0] == 1))
fpr, tpr, thr = roc_curve(y, risk, drop_intermediate=False)
dfpr, dfnr, dthr = det_curve(y, risk)
print(json.dumps({
    "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
    "precision": float(precision_score(y, flagged)), "recall": float(recall_score(y, flagged)),
    "f1": float(f1_score(y, flagged)), "mcc": float(matthews_corrcoef(y, flagged)),
    "brier": float(brier_score_loss(y, risk)), "ece": ece,
    "prob_true": prob_true.tolist(), "prob_pred": prob_pred.tolist(), "counts": counts.tolist(),
    "apcer": apcer, "bpcer": bpcer, "acer": (max(apcer.values()) + bpcer) / 2,
    "roc": {"fpr": fpr[1:].tolist(), "tpr": tpr[1:].tolist(), "thresholds": thr[1:].tolist()},
    "auc": float(roc_auc_score(y, risk)),
    "det": {"fpr": dfpr.tolist(), "fnr": dfnr.tolist(), "thresholds": dthr.tolist()},
}))
