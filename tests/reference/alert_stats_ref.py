#!/usr/bin/python3
"""Reference values for tests/alerts/stat_tests_test.cc: one-sided tails with SciPy.

Arguments: cases "b:x:n:p" (P(X >= x), X ~ Binomial(n, p): scipy.stats.binom.sf(x - 1, n, p)) and
"p:x:mu" (P(X >= x), X ~ Poisson(mu): scipy.stats.poisson.sf(x - 1, mu)). Prints one value a
line, in order, with 17 significant digits.
"""
import sys

from scipy.stats import binom, poisson

for case in sys.argv[1:]:
    kind, *args = case.split(":")
    if kind == "b":
        x, n, p = int(args[0]), int(args[1]), float(args[2])
        v = binom.sf(x - 1, n, p)
    else:
        x, mu = int(args[0]), float(args[1])
        v = poisson.sf(x - 1, mu)
    print("%.17g" % v)
