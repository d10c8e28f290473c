"""Central finite differences, the reference the gradient tests compare rill's gradients with
(test_grad.py, test_grad_scans.py, test_grad_linalg.py)."""

import numpy as np

import rill.core as mx


def finite_differences(f, xs, w, h=1e-6):
    """The gradient of `sum(f(*xs) * w)` with respect to each of the numpy arrays `xs`, by central
    differences of rill's own float64 forward pass."""

    def value(vals):
        return (f(*[mx.array(v, dtype=mx.float64) for v in vals])
                * mx.array(w, dtype=mx.float64)).sum().item()

    out = []
    for i, x in enumerate(xs):
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            hi = [v.copy() for v in xs]
            lo = [v.copy() for v in xs]
            hi[i][j] += h
            lo[i][j] -= h
            g[j] = (value(hi) - value(lo)) / (2 * h)
        out.append(g)
    return out
