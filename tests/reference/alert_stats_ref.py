#!/usr/bin/python3
"""Reference values for tests/alerts/stat_tests_test.cc: one-sided tails with SciPy.

Arguments, one case each, printed one value a line, in order, with 17 significant digits:
  "b:x:n:p"      P(X >= x), X ~ Binomial(n, p): scipy.stats.binom.sf(x - 1, n, p)
  "p:x:mu"       P(X >= x), X ~ Poisson(mu): scipy.stats.poisson.sf(x - 1, mu)
  "i:a:b:x"      the regularized incomplete beta I_x(a, b): scipy.special.betainc(a, b, x)
  "q:x:n:p:phi"  the quasi-binomial tail: betainc(x / phi, (n - x) / phi + 1, p) for phi > 1,
                 binom.sf(x - 1, n, p) otherwise
  "c:df:z"       the chi-square quantile with df degrees of freedom at the standard normal's
                 quantile z: scipy.stats.chi2.isf(norm.sf(z), df)
  "d:x1,x2,..:n1,n2,.."  Pearson's dispersion of block counts x_b of n_b under p = sum x / sum n:
                 sum((x - n p)^2 / (n p (1 - p))) / (B - 1), from the raw blocks with numpy
"""
import sys

import numpy as np
from scipy.special import betainc
from scipy.stats import binom, chi2, norm, poisson

for case in sys.argv[1:]:
    kind, *args = case.split(":")
    if kind == "b":
        x, n, p = int(args[0]), int(args[1]), float(args[2])
        v = binom.sf(x - 1, n, p)
    elif kind == "p":
        x, mu = int(args[0]), float(args[1])
        v = poisson.sf(x - 1, mu)
    elif kind == "i":
        a, b, x = float(args[0]), float(args[1]), float(args[2])
        v = betainc(a, b, x)
    elif kind == "q":
        x, n, p, phi = int(args[0]), int(args[1]), float(args[2]), float(args[3])
        v = betainc(x / phi, (n - x) / phi + 1.0, p) if phi > 1 else binom.sf(x - 1, n, p)
    elif kind == "c":
        df, z = float(args[0]), float(args[1])
        v = chi2.isf(norm.sf(z), df)
    else:
        xs = np.array([float(t) for t in args[0].split(",")])
        ns = np.array([float(t) for t in args[1].split(",")])
        p = xs.sum() / ns.sum()
        v = np.sum((xs - ns * p) ** 2 / (ns * p * (1 - p))) / (len(xs) - 1)
    print("%.17g" % v)
