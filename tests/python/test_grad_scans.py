"""Gradients of the scans (`cumprod`, `cummax`, `cummin`, `logcumsumexp`, every direction and
inclusiveness) and of the scatter updates (`a.at[i].multiply/maximum/minimum`).

Each case differentiates `sum(f(x...) * w)` for random `w` on random inputs, against central
finite differences of rill's own float64 forward pass and (where MLX has the rule) against real
MLX's `mx.grad` on the same float32 inputs. Inputs are chosen to hold the cases the rules treat
specially: zeros for cumprod (one and several along a line), ties for cummax/cummin, inputs of
-inf and a range far beyond float32's `exp` for logcumsumexp, zeros and repeated indices for the
scatter product.
"""

import numpy as np
import pytest

import rill.core as mx
from finite_differences import finite_differences

SCAN_FLAGS = [(False, True), (True, True), (False, False), (True, False)]


def without_identity(y, reverse, inclusive):
    """An exclusive scan's first output is the identity (-inf for cummax and logcumsumexp):
    left out of the loss, where it would make every finite difference NaN."""
    if inclusive:
        return y
    return y[:, :-1] if reverse else y[:, 1:]


def _flags_id(flags):
    reverse, inclusive = flags
    return ("reverse" if reverse else "forward") + ("" if inclusive else "-exclusive")


def rill_grads(f, xs, w, dtype=mx.float64):
    arrays = [mx.array(x, dtype=dtype) for x in xs]
    ww = mx.array(w, dtype=dtype)
    g = mx.grad(lambda *a: (f(mx, *a) * ww).sum(), argnums=tuple(range(len(xs))))(*arrays)
    return [np.array(v) for v in (g if len(xs) > 1 else [g])]


def weights(rng, f, xs):
    out = f(mx, *[mx.array(x, dtype=mx.float64) for x in xs])
    return rng.uniform(0.5, 1.5, tuple(out.shape)) * rng.choice([-1, 1], tuple(out.shape))


def check_against_finite_differences(f, xs, rng, rtol=1e-5, atol=1e-6):
    w = weights(rng, f, xs)
    got = rill_grads(f, xs, w)
    want = finite_differences(lambda *a: f(mx, *a), xs, w)
    for i, (g, n) in enumerate(zip(got, want)):
        assert g.shape == xs[i].shape
        np.testing.assert_allclose(g, n, rtol=rtol, atol=atol, err_msg=f"input {i}")
    return w


def check_against_mlx(mlx, f, xs, w):
    got = rill_grads(f, xs, w, mx.float32)
    mxs = [mlx.array(x.astype(np.float32)) for x in xs]
    mw = mlx.array(w.astype(np.float32))
    want = mlx.grad(lambda *a: (f(mlx, *a) * mw).sum(), argnums=tuple(range(len(xs))))(*mxs)
    want = want if len(xs) > 1 else [want]
    for i, (g, m) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, np.array(m), rtol=2e-4, atol=2e-4, err_msg=f"input {i}")


# ---------------------------------------------------------------- cumprod

def cumprod_inputs(rng):
    x = rng.uniform(0.5, 1.5, (3, 6)) * rng.choice([-1, 1], (3, 6))
    x[1, 2] = 0.0  # one zero in a line
    x[2, 1] = x[2, 4] = 0.0  # two zeros in a line
    return x


@pytest.mark.parametrize("flags", SCAN_FLAGS, ids=_flags_id)
@pytest.mark.parametrize("axis", [1, 0])
def test_cumprod_with_zeros(flags, axis, mlx):
    reverse, inclusive = flags
    rng = np.random.default_rng([1, axis, reverse, inclusive])
    x = cumprod_inputs(rng)

    def f(m, a):
        return m.cumprod(a, axis=axis, reverse=reverse, inclusive=inclusive)

    w = check_against_finite_differences(f, [x], rng)
    check_against_mlx(mlx, f, [x], w)


# ---------------------------------------------------------------- cummax, cummin

def tied_inputs(rng, shape=(3, 7)):
    """Values from a small set, so every line holds ties with the running extreme."""
    return rng.choice([-1.5, -0.5, 0.25, 1.0, 2.0], shape)


@pytest.mark.parametrize("flags", SCAN_FLAGS, ids=_flags_id)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_with_ties_like_mlx(name, flags, mlx):
    reverse, inclusive = flags
    rng = np.random.default_rng([2, len(name), reverse, inclusive])
    x = tied_inputs(rng)

    def f(m, a):
        y = getattr(m, name)(a, axis=1, reverse=reverse, inclusive=inclusive)
        return without_identity(y, reverse, inclusive)

    w = weights(rng, f, [x])
    check_against_mlx(mlx, f, [x], w)
    # Finite differences hold where no tie makes the function kinked: distinct values.
    y = rng.permutation(21).reshape(3, 7) * 0.1 - 1.0
    check_against_finite_differences(f, [y], rng)


def test_cummax_over_the_flattened_array_and_axis_zero():
    rng = np.random.default_rng(3)
    x = rng.permutation(24).reshape(2, 3, 4) * 0.1
    check_against_finite_differences(lambda m, a: m.cummax(a), [x], rng)
    check_against_finite_differences(lambda m, a: m.cummin(a, axis=0, reverse=True), [x], rng)


# ---------------------------------------------------------------- logcumsumexp

@pytest.mark.parametrize("flags", SCAN_FLAGS, ids=_flags_id)
def test_logcumsumexp(flags, mlx):
    reverse, inclusive = flags
    rng = np.random.default_rng([4, reverse, inclusive])
    x = rng.uniform(-3, 3, (3, 5))

    def f(m, a):
        y = m.logcumsumexp(a, axis=1, reverse=reverse, inclusive=inclusive)
        return without_identity(y, reverse, inclusive)

    w = weights(rng, f, [x])
    got = rill_grads(f, [x], w)
    want = finite_differences(lambda *a: f(mx, *a), [x], w)[0]
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)
    check_against_mlx(mlx, f, [x], w)


def test_logcumsumexp_far_apart_values_and_minus_inf():
    """Running values 2000 apart (masked logits at -1000) and -inf inputs: the rule stays exact,
    checked against the gradient written out in float64 with numpy."""
    x = np.array([[-1000.0, 0.5, -2.0, 3.0, 1000.0, 999.0],
                  [-np.inf, -np.inf, 1.0, -np.inf, 2.0, 0.0],
                  [5.0, -1000.0, -1000.0, 4.0, -3.0, 6.0]])
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 1.5, x.shape) * rng.choice([-1, 1], x.shape)
    y = np.logaddexp.accumulate(x, axis=1)
    # dx_i = sum_{j >= i} w_j exp(x_i - y_j)
    want = np.zeros_like(x)
    for r in range(3):
        for i in range(6):
            if np.isneginf(x[r, i]):
                continue
            want[r, i] = sum(w[r, j] * np.exp(x[r, i] - y[r, j]) for j in range(i, 6))
    # float32: the forward values near 1000 are rounded to ~6e-5, exp(x - y) inherits it.
    for dtype, tol in [(mx.float64, 1e-12), (mx.float32, 1e-3)]:
        got = rill_grads(lambda m, a: m.logcumsumexp(a, axis=1), [x], w, dtype)[0]
        assert np.isfinite(got).all(), got
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_scan_gradients_of_second_order_and_jvp():
    rng = np.random.default_rng(6)
    x = mx.array(rng.uniform(0.5, 1.5, (5,)), dtype=mx.float64)
    for f in [lambda a: mx.cumprod(a), lambda a: mx.logcumsumexp(a, reverse=True),
              lambda a: mx.cummax(a * mx.array([1.0, -1.0, 2.0, 0.5, 3.0], dtype=mx.float64))]:
        # jvp against the Jacobian of finite differences, column by column.
        t = mx.array(rng.uniform(-1, 1, (5,)), dtype=mx.float64)
        _, (jt,) = mx.jvp(lambda a: [f(a)], [x], [t])
        h = 1e-6
        fd = (np.array(f(x + h * t)) - np.array(f(x - h * t))) / (2 * h)
        np.testing.assert_allclose(np.array(jt), fd, rtol=1e-5, atol=1e-7)
    # Second derivative of sum(cumprod(x)^2 / 2) along a direction.
    gfun = mx.grad(lambda a: (mx.cumprod(a) ** 2).sum() / 2)
    v = mx.array(rng.uniform(-1, 1, (5,)), dtype=mx.float64)
    _, (hv,) = mx.jvp(lambda a: [gfun(a)], [x], [v])
    h = 1e-5
    fd = (np.array(gfun(x + h * v)) - np.array(gfun(x - h * v))) / (2 * h)
    np.testing.assert_allclose(np.array(hv), fd, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- scatter updates

IDX = np.array([0, 2, 2, 4, 0])


@pytest.mark.parametrize("name", ["maximum", "minimum", "add", "subtract"])
def test_scatter_updates_like_mlx(name, mlx):
    rng = np.random.default_rng([7, len(name)])
    # Ties between a and the updates, and between updates of one row, from a small value set.
    a = rng.choice([-1.0, 0.5, 1.0, 2.0], (6, 3))
    u = rng.choice([-1.0, 0.5, 1.0, 2.0], (5, 3))

    def f(m, x, v):
        return getattr(x.at[m.array(IDX)], name)(v)

    w = weights(rng, f, [a, u])
    check_against_mlx(mlx, f, [a, u], w)
    # Without ties the function is smooth: finite differences.
    a = rng.permutation(18).reshape(6, 3) * 0.1
    u = rng.permutation(15).reshape(5, 3) * 0.1 + 0.05
    check_against_finite_differences(f, [a, u], rng)


@pytest.mark.parametrize("zeros", [[], [(1, 0)], [(1, 0), (2, 0)], [(3, 1)]],
                         ids=["no-zero", "one-zero", "two-zeros-one-row", "zero-alone"])
def test_scatter_multiply_with_zeros(zeros):
    """Beyond MLX (which refuses it): the product's gradient, exact with zero updates."""
    rng = np.random.default_rng([8, len(zeros)])
    a = rng.uniform(0.5, 1.5, (6, 3)) * rng.choice([-1, 1], (6, 3))
    u = rng.uniform(0.5, 1.5, (5, 3)) * rng.choice([-1, 1], (5, 3))
    for j in zeros:
        u[j] = 0.0
    check_against_finite_differences(lambda m, x, v: x.at[m.array(IDX)].multiply(v), [a, u], rng)


def test_scatter_along_the_flattened_array():
    rng = np.random.default_rng(9)
    a = rng.uniform(0.5, 1.5, (3, 4))
    u = rng.uniform(0.5, 1.5, (4,))
    idx = np.array([1, 5, 5, 11])
    check_against_finite_differences(
        lambda m, x, v: x.reshape(-1).at[m.array(idx)].multiply(v).reshape(3, 4), [a, u], rng)
