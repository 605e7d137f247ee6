#!/usr/bin/python3
"""Writes tests/data/calibration_scores.csv: labelled raw scores of a passive liveness model,
genuine ~ Beta(5, 2) and attack ~ Beta(2, 4), rounded to 3 decimals so ties occur. Run once;
the file is committed so that C++ and the scikit-learn reference read the same data."""
import numpy as np

rng = np.random.default_rng(20261122)
n_pos, n_neg = 1200, 800
pos = np.round(rng.beta(5, 2, n_pos), 3)
neg = np.round(rng.beta(2, 4, n_neg), 3)
scores = np.concatenate([pos, neg])
labels = np.concatenate([np.ones(n_pos, int), np.zeros(n_neg, int)])
order = rng.permutation(len(scores))
with open("tests/data/calibration_scores.csv", "w") as f:
    f.write("score,label\n")
    for i in order:
        f.write(f"{scores[i]:.3f},{labels[i]}\n")
