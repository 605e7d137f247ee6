#!/usr/bin/python3
"""Trains vigil's demo transaction fraud model on simulated data (Debian's python3-xgboost).

Writes, under --out (default: config/):
  models/fraud-demo.json          the XGBoost model (JSON, binary:logistic)
  models/fraud-demo.schema.json   the feature schema: which request field or analyzer output
                                  feeds each model column (docs/transactions.md)
  calibration/fraud_model.json    an isotonic calibration of the model's raw score, fitted on a
                                  held-out simulated set, for the same model version

Deterministic for a given --seed. Run with /usr/bin/python3 (Debian's packages), not a pyenv one:
  /usr/bin/python3 scripts/train_demo_model.py [--trees 200] [--depth 6] [--out config]
"""
import argparse
import json
import os

import numpy as np
import xgboost as xgb
from sklearn.isotonic import IsotonicRegression

MODEL_VERSION = "fraud-xgb-demo-1"

# (model column, source, transform). Sources: context.<field> (a number from the request's
# context; a boolean is 1/0) or analyzer.<output> (see src/analyzers/features.h).
FEATURES = [
    ("amount", "context.amount", None),
    ("log_amount", "context.amount", "log1p"),
    ("account_age_days", "context.account_age_days", None),
    ("vel_account_count_1m", "analyzer.velocity.account.count_1m", None),
    ("vel_account_count_1h", "analyzer.velocity.account.count_1h", None),
    ("vel_account_amount_24h", "analyzer.velocity.account.amount_24h", None),
    ("vel_card_count_1h", "analyzer.velocity.card.count_1h", None),
    ("vel_card_count_24h", "analyzer.velocity.card.count_24h", None),
    ("vel_device_count_1h", "analyzer.velocity.device.count_1h", None),
    ("vel_ip_count_1h", "analyzer.velocity.ip.count_1h", None),
    ("vel_ip_count_24h", "analyzer.velocity.ip.count_24h", None),
    ("travel_speed_kmh", "analyzer.travel.speed_kmh", None),
    ("travel_distance_km", "analyzer.travel.distance_km", None),
    ("traj_transition_logp", "analyzer.trajectory.transition_logp", None),
    ("traj_rate_per_min", "analyzer.trajectory.rate_per_min", None),
    ("traj_fingerprint_changes", "analyzer.trajectory.fingerprint_changes", None),
    ("traj_interval_cv", "analyzer.trajectory.interval_cv", None),
    ("probe_count", "analyzer.probe.count", None),
]
NAMES = [f[0] for f in FEATURES]


def simulate(rng, n, fraud_rate=0.08):
    """Rows of raw inputs (before transforms) and labels. Missing values are NaN."""
    # Fraud rows draw from shifted distributions that overlap the legitimate ones, and a few
    # labels are flipped, so the trees have something to learn (held-out AUC about 0.9).
    f = rng.random(n) < fraud_rate
    s = rng.random(n) < 0.5  # half of the fraud looks almost legitimate
    f_strong = f & ~s
    y = np.where(rng.random(n) < 0.03, 1 - f, f).astype(np.int32)
    X = {}
    # Seed 004's point: a large first payment from a new account is riskier than a small one
    # from a long-standing customer.
    X["amount"] = np.where(f_strong, rng.lognormal(5.6, 1.2, n),
                           np.where(f, rng.lognormal(4.2, 1.3, n), rng.lognormal(3.6, 1.2, n)))
    X["account_age_days"] = np.where(f_strong, rng.exponential(30, n),
                                     np.where(f, rng.exponential(300, n), rng.exponential(700, n)))
    X["vel_account_count_1m"] = np.where(f, rng.poisson(2.0, n), rng.poisson(0.2, n)) + 1
    X["vel_account_count_1h"] = X["vel_account_count_1m"] + np.where(f, rng.poisson(6, n), rng.poisson(1, n))
    X["vel_account_amount_24h"] = X["amount"] * (1 + np.where(f, rng.poisson(8, n), rng.poisson(1.5, n)))
    X["vel_card_count_1h"] = np.where(f_strong, rng.poisson(2.5, n), rng.poisson(0.8, n)) + 1
    X["vel_card_count_24h"] = X["vel_card_count_1h"] + np.where(f, rng.poisson(10, n), rng.poisson(2, n))
    X["vel_device_count_1h"] = np.where(f, rng.poisson(4, n), rng.poisson(1, n)) + 1
    X["vel_ip_count_1h"] = np.where(f_strong, rng.poisson(4, n), rng.poisson(1.5, n)) + 1
    X["vel_ip_count_24h"] = X["vel_ip_count_1h"] + np.where(f, rng.poisson(30, n), rng.poisson(4, n))
    speed = np.where(f_strong & (rng.random(n) < 0.3), rng.uniform(900, 8000, n), rng.exponential(30, n))
    X["travel_speed_kmh"] = speed
    X["travel_distance_km"] = np.where(speed > 900, rng.uniform(500, 9000, n), rng.exponential(20, n))
    no_geo = rng.random(n) < 0.25
    X["travel_speed_kmh"][no_geo] = np.nan
    X["travel_distance_km"][no_geo] = np.nan
    X["traj_transition_logp"] = np.where(f_strong, -rng.exponential(1.6, n), -rng.exponential(0.8, n))
    X["traj_rate_per_min"] = np.where(f, rng.lognormal(2.0, 0.6, n), rng.lognormal(0.5, 0.5, n))
    X["traj_fingerprint_changes"] = np.where(f_strong, rng.poisson(0.6, n), rng.poisson(0.02, n)).astype(float)
    X["traj_interval_cv"] = np.where(f_strong, rng.exponential(0.2, n), 0.4 + rng.exponential(0.6, n))
    no_session = rng.random(n) < 0.2
    for k in ("traj_transition_logp", "traj_rate_per_min", "traj_fingerprint_changes", "traj_interval_cv"):
        X[k][no_session] = np.nan
    # Requests do not always name every entity; the model must learn what missing means.
    for keys, share in ((("vel_card_count_1h", "vel_card_count_24h"), 0.3), (("vel_device_count_1h",), 0.35),
                        (("vel_ip_count_1h", "vel_ip_count_24h"), 0.3),
                        (("vel_account_count_1m", "vel_account_count_1h", "vel_account_amount_24h"), 0.05)):
        gone = rng.random(n) < share
        for k in keys:
            X[k] = X[k].astype(float)
            X[k][gone] = np.nan
    X["account_age_days"] = np.where(rng.random(n) < 0.05, np.nan, X["account_age_days"])
    X["probe_count"] = np.where(f_strong & (rng.random(n) < 0.25), rng.poisson(8, n), rng.poisson(0.1, n)).astype(float)
    cols = []
    for name, _, transform in FEATURES:
        base = "amount" if name == "log_amount" else name
        v = X[base].astype(np.float64)
        if transform == "log1p":
            v = np.log1p(v)
        cols.append(v)
    return np.column_stack(cols).astype(np.float32), y


def format_schema(schema):
    """One feature a line, so that a diff shows which column changed."""
    head = {k: v for k, v in schema.items() if k != "features"}
    lines = ",\n ".join(json.dumps(k) + ": " + json.dumps(v) for k, v in head.items())
    feats = ",\n  ".join(json.dumps(f) for f in schema["features"])
    return "{" + lines + ',\n "features": [\n  ' + feats + "\n ]}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "config"))
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--name", default="fraud-demo")
    ap.add_argument("--version", default=MODEL_VERSION)
    ap.add_argument("--no-calibration", action="store_true")
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    X, y = simulate(rng, a.rows)
    Xc, yc = simulate(rng, a.rows // 2)
    params = {"objective": "binary:logistic", "max_depth": a.depth, "eta": 0.1, "subsample": 0.9,
              "min_child_weight": 1.0, "eval_metric": "auc", "seed": a.seed, "nthread": 1,
              "tree_method": "hist"}
    dtrain = xgb.DMatrix(X, label=y, feature_names=NAMES, missing=np.nan)
    dcal = xgb.DMatrix(Xc, label=yc, feature_names=NAMES, missing=np.nan)
    booster = xgb.train(params, dtrain, num_boost_round=a.trees, evals=[(dcal, "heldout")],
                        verbose_eval=False)

    models = os.path.join(a.out, "models")
    os.makedirs(models, exist_ok=True)
    model_file = a.name + ".json"
    booster.save_model(os.path.join(models, model_file))
    schema = {
        "model": model_file,
        "model_version": a.version,
        "signal": "fraud_model",
        "objective": "binary:logistic",
        "features": [dict({"name": n, "source": s}, **({"transform": t} if t else {}))
                     for n, s, t in FEATURES],
    }
    with open(os.path.join(models, a.name + ".schema.json"), "w") as f:
        f.write(format_schema(schema))

    if not a.no_calibration:
        raw = booster.predict(dcal)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.001, y_max=0.999).fit(raw, yc)
        grid = np.quantile(raw, np.linspace(0, 1, 21))
        grid = np.unique(np.round(np.concatenate([grid, np.linspace(0, 1, 21)]), 6))
        ys = np.maximum.accumulate(iso.predict(grid))
        cal = {"signal": "fraud_model", "model_version": a.version, "method": "isotonic",
               "isotonic": {"x": [round(float(v), 6) for v in grid], "y": [round(float(v), 6) for v in ys]}}
        xs = cal["isotonic"]["x"]
        keep = [i for i in range(len(xs)) if i == 0 or xs[i] > xs[i - 1]]
        cal["isotonic"] = {"x": [xs[i] for i in keep], "y": [cal["isotonic"]["y"][i] for i in keep]}
        cal_dir = os.path.join(a.out, "calibration")
        os.makedirs(cal_dir, exist_ok=True)
        with open(os.path.join(cal_dir, "fraud_model.json"), "w") as f:
            json.dump(cal, f)
            f.write("\n")
    auc = booster.eval(dcal).split(":")[-1]
    print(f"trained {a.trees} trees of depth {a.depth} on {a.rows} rows; held-out AUC {auc}")


if __name__ == "__main__":
    main()
