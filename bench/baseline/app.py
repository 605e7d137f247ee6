#!/usr/bin/python3
"""The rival for issue 5's HTTP figure: the seeds' own serving stack (seed 004, "Operating ML Beyond
Accuracy", Phase 1) written as the case study shows it: a Python service that scores an XGBoost
model per request (`model.predict_proba([features])[0][1]`, 'block' above a fixed 0.5 threshold;
the row goes in as a float32 numpy array: the model file carries feature names, and XGBoost 1.7
refuses a plain list or a float64 array for want of them)
and is instrumented with prometheus_client (a predictions counter by model_version and outcome, a
latency histogram with the seed's buckets, an FPR gauge) exposed on its own metrics port, as the
seed's port 9090. The HTTP layer is Flask (the issue names it; the seed names no framework).

Same model file and feature schema as vigil (config/models/fraud-demo*.json): features from the
request's context; the analyzer features are missing (NaN), as this stack has no analyzers.
Only Debian packages: python3-flask, python3-prometheus-client, python3-xgboost (+ numpy).

    /usr/bin/python3 bench/baseline/app.py --port 8081 --metrics-port 9091 [--config-dir config]
Served by Flask's own threaded server (app.run(threaded=True)): the seed says nothing about the
WSGI server.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import xgboost
from flask import Flask, jsonify, request
from prometheus_client import Counter, Gauge, Histogram, start_http_server

HERE = os.path.dirname(os.path.abspath(__file__))

# Define metrics (seed 004, "Instrumentation Implementation").
predictions_total = Counter(
    'fraud_predictions_total',
    'Total predictions by outcome',
    ['model_version', 'outcome'])
prediction_latency = Histogram(
    'fraud_prediction_latency_seconds',
    'Prediction latency distribution',
    buckets=[0.01, 0.025, 0.05, 0.1, 0.25, 0.5])
false_positive_rate = Gauge(
    'fraud_fpr',
    'False positive rate over sliding window')

app = Flask(__name__)
model = None
MODEL_VERSION = ''
threshold = 0.5
features_from = []  # per feature: (context key, transform) or None for an analyzer feature


def load(config_dir):
    global model, MODEL_VERSION, features_from
    schema_path = os.path.join(config_dir, 'models', 'fraud-demo.schema.json')
    with open(schema_path) as f:
        schema = json.load(f)
    model = xgboost.XGBClassifier()
    model.load_model(os.path.join(os.path.dirname(schema_path), schema['model']))
    MODEL_VERSION = schema['model_version']
    features_from = []
    for feat in schema['features']:
        src = feat['source']
        if src.startswith('context.'):
            features_from.append((src[len('context.'):], feat.get('transform')))
        else:
            features_from.append(None)


def build_features(context):
    row = []
    for spec in features_from:
        v = float('nan')
        if spec is not None:
            x = context.get(spec[0])
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                v = math.log1p(x) if spec[1] == 'log1p' else float(x)
        row.append(v)
    return row


def predict_transaction(features):
    start = time.time()
    score = model.predict_proba(np.array([features], dtype=np.float32))[0][1]
    decision = 'block' if score > threshold else 'approve'
    predictions_total.labels(model_version=MODEL_VERSION, outcome=decision).inc()
    prediction_latency.observe(time.time() - start)
    return {'score': float(score), 'decision': decision}


@app.post('/v1/decisions')
def decide():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get('context'), dict):
        return jsonify({'error': 'bad request'}), 400
    result = predict_transaction(build_features(body['context']))
    result['request_id'] = body.get('request_id')
    result['model_version'] = MODEL_VERSION
    return jsonify(result)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=8081)
    ap.add_argument('--metrics-port', type=int, default=9091)
    ap.add_argument('--config-dir', default=os.path.join(HERE, '..', '..', 'config'))
    args = ap.parse_args()
    load(args.config_dir)
    false_positive_rate.set(0)
    start_http_server(args.metrics_port, addr='127.0.0.1')
    app.run(host='127.0.0.1', port=args.port, threaded=True)


if __name__ == '__main__':
    main()
