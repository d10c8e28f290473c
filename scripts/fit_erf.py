"""Fits the two polynomials of `vector_math::erf_f32` (run with a Python that has numpy and mpmath;
prints float32 coefficients, highest degree last):

    python scripts/fit_erf.py

Near zero, `P(t) = erf(sqrt t) / sqrt t - 1` on t = a^2 in [0, 1] (erf a = a + a P(a^2)); from 1
to 4, `R(s) = erfc(a) e^{a^2} a` in s = 1/a, as a polynomial in v = (s - 0.625) / 0.375, centred
on [0.25, 1] so that the coefficients stay small. Least squares in relative error on Chebyshev
nodes, reweighted towards the largest errors (a poor man's minimax); the largest relative error
of the fit is printed with each.
"""
import numpy as np
from mpmath import erf, erfc, exp, mp, mpf, pi, sqrt

mp.dps = 30


def fit(f, lo, hi, degree, var, n=4000):
    k = np.arange(n)
    xs = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)
    ys = np.array([float(f(mpf(float(x)))) for x in xs])
    v = np.vander(var(xs), degree + 1, increasing=True)
    w = 1 / np.abs(ys)
    for _ in range(30):
        c, *_ = np.linalg.lstsq(v * w[:, None], ys * w, rcond=None)
        err = (v @ c - ys) / ys
        w = w * (1 + 2 * np.abs(err) / np.abs(err).max())
    return c, np.abs(err).max()


def near(t):
    return erf(sqrt(t)) / sqrt(t) if t > 0 else 2 / sqrt(pi)


c, e = fit(near, 1e-12, 1.0, 6, lambda t: t)
c[0] -= 1.0  # erf a = a + a (P(a^2) - 1): the 1 is added exactly, last
print("near, P(t) - 1:", [repr(np.float32(x)) for x in c], "fit error", e)
c, e = fit(lambda s: erfc(1 / s) * exp(1 / s**2) / s, 0.25, 1.0, 9,
           lambda s: (s - 0.625) / 0.375)
print("far, R(v):", [repr(np.float32(x)) for x in c], "fit error", e)
