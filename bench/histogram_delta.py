#!/usr/bin/python3
"""Quantiles of Prometheus histograms between two scrapes of /metrics (what happened in between).

    bench/histogram_delta.py BEFORE.txt AFTER.txt NAME [NAME ...]

For each histogram NAME (all series summed), prints the count in between and, for p50, p90, p99 and
p99.9, the bucket that holds that quantile as "(lower, upper]": exact to the bucket, with no
interpolation inside it.
"""
import math
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)')
LE = re.compile(r'le="([^"]*)"')


def buckets(path, name):
    out = {}
    with open(path) as f:
        for line in f:
            m = SAMPLE.match(line)
            if not m or m.group(1) != name + '_bucket':
                continue
            le = LE.search(m.group(2) or '')
            bound = math.inf if le.group(1) == '+Inf' else float(le.group(1))
            out[bound] = out.get(bound, 0.0) + float(m.group(3))
    return out


def fmt(seconds):
    if math.isinf(seconds):
        return '+Inf'
    return f'{seconds * 1e3:g} ms' if seconds >= 1e-3 else f'{seconds * 1e6:g} us'


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for name in sys.argv[3:]:
        a, b = buckets(sys.argv[1], name), buckets(sys.argv[2], name)
        if not b:
            print(f'{name}: not in {sys.argv[2]}')
            continue
        bounds = sorted(b)
        cum = [b[x] - a.get(x, 0.0) for x in bounds]
        total = cum[-1]
        if total <= 0:
            print(f'{name}: nothing observed')
            continue
        parts = []
        for q in (0.5, 0.9, 0.99, 0.999):
            i = next(i for i, c in enumerate(cum) if c >= q * total)
            lower = bounds[i - 1] if i > 0 else 0.0
            parts.append(f'p{q * 100:g} in ({fmt(lower)}, {fmt(bounds[i])}]')
        print(f'{name}: {int(total)} observed; ' + ', '.join(parts))


if __name__ == '__main__':
    main()
