"""``array.at[index]`` updates against NumPy's unbuffered ``ufunc.at`` (every update at a repeated
index applies) in float64 and integers, and against real MLX for the index forms, dtype casts and
errors; the gradient of ``.at[].add`` against its derivative."""

import numpy as np
import pytest

import rill.core as mx

RNG = np.random.default_rng(20261204)

NUMPY_AT = {"add": np.add.at, "multiply": np.multiply.at, "maximum": np.maximum.at,
            "minimum": np.minimum.at}


@pytest.mark.parametrize("method", sorted(NUMPY_AT))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "float16"])
def test_repeated_indices_apply_every_update_like_numpy(method, dtype):
    a = (RNG.standard_normal(50) * 4).astype(dtype)
    idx = RNG.integers(0, 50, 80)  # about one in three positions repeats
    v = (RNG.standard_normal(80) * 2 + (1 if method == "multiply" else 0)).astype(dtype)
    if method == "multiply":
        v = np.where(np.abs(v) < 0.3, 1.5, v).astype(dtype)
    want = a.copy()
    NUMPY_AT[method](want, idx, v)
    got = getattr(mx.array(a, dtype=getattr(mx, dtype)).at[mx.array(idx)], method)(
        mx.array(v, dtype=getattr(mx, dtype)))
    assert got.dtype == getattr(mx, dtype) and got.shape == (50,)
    rtol = {"float16": 2e-2, "float32": 2e-5}.get(dtype, 0)
    np.testing.assert_allclose(np.array(got).astype(np.float64), want.astype(np.float64), rtol=rtol,
                               atol=rtol * 10)


def test_index_forms_casts_and_divide_like_mlx(mlx):
    a = RNG.standard_normal((4, 5)).astype(np.float32)
    b = np.arange(12, dtype=np.int32).reshape(3, 4)
    i = np.array([0, 2, 0, 3])
    r = RNG.standard_normal(3).astype(np.float32)
    cases = [
        (a, lambda m, x: x.at[m.array(i)].add(1.5)),
        (a, lambda m, x: x.at[m.array(i), 1:4].subtract(m.array(r))),
        (a, lambda m, x: x.at[:, m.array([1, 1, 3])].multiply(2.0)),
        (a, lambda m, x: x.at[1].divide(m.array([2.0, 4.0, 8.0, 0.5, 1.0]))),
        (a, lambda m, x: x.at[m.array(i)].maximum(0.25)),
        (a, lambda m, x: x.at[::2, ::-1].minimum(m.zeros((2, 5)))),
        (b, lambda m, x: x.at[1].divide(2)),
        (b, lambda m, x: x.at[1].subtract(1.7)),
        (b, lambda m, x: x.at[m.array([0, 0]), 1].add(5)),
        (b, lambda m, x: x.at[:, 1:3].multiply(2)),
    ]
    for data, f in cases:
        got, want = f(mx, mx.array(data)), f(mlx, mlx.array(data))
        assert repr(got.dtype).split(".")[-1] == repr(want.dtype).split(".")[-1]
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6)
    # the original is unchanged
    x = mx.array(a)
    x.at[0].add(100.0)
    np.testing.assert_array_equal(np.array(x), a)


def test_errors_and_gradient():
    x = mx.array(np.ones(4, np.float32))
    with pytest.raises(ValueError):
        x.at[mx.array([0, 2, 0])].add(mx.ones((5,)))
    with pytest.raises(ValueError, match="index"):
        x.at.add(1.0)
    assert isinstance(x.at, mx.ArrayAt)
    # d/da sum(w * a.at[i].add(u)) = w; d/du = w[i] (each update lands once)
    a, u = RNG.standard_normal(6).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    w = RNG.standard_normal(6).astype(np.float32)
    idx = np.array([1, 4, 1, 0])
    ga, gu = mx.grad(lambda p, q: (mx.array(w) * p.at[mx.array(idx)].add(q)).sum(), argnums=(0, 1))(
        mx.array(a), mx.array(u))
    np.testing.assert_allclose(np.array(ga), w, rtol=1e-6)
    np.testing.assert_allclose(np.array(gu), w[idx], rtol=1e-6)
    # scatter_max has a rule now (test_grad_scans.py checks it against MLX): the cotangent goes to
    # the elements of `a` that kept their value, nothing to those the update 0.0 replaced.
    g = mx.grad(lambda p: p.at[mx.array(idx)].maximum(0.0).sum())(mx.array(a))
    kept = np.ones(6, np.float32)
    kept[idx] = (a[idx] >= 0).astype(np.float32)
    np.testing.assert_array_equal(np.array(g), kept)
