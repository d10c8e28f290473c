"""Reductions, scans and softmax against NumPy on random inputs, as functions and methods."""

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array

X = np.random.default_rng(7).standard_normal((3, 4, 5)).astype(np.float32)
AXES = [None, 0, 1, -1, (0, 2), [1, 2], (0, 1, 2)]


def np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_vs_numpy(name, axis, keepdims):
    ref = getattr(np, name)(X, axis=np_axis(axis), keepdims=keepdims)
    got = getattr(mx, name)(mx.array(X), axis=axis, keepdims=keepdims)
    assert_array(got, ref, mx.float32, rtol=1e-5, atol=1e-6)
    # The method gives the same.
    method = getattr(mx.array(X), name)(axis, keepdims)
    assert_array(method, ref, mx.float32, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", AXES)
def test_all_any_vs_numpy(axis):
    b = X > 0.3
    for name in ("all", "any"):
        ref = getattr(np, name)(b, axis=np_axis(axis))
        assert_array(getattr(mx, name)(mx.array(b), axis=axis), ref, mx.bool_)
        assert_array(getattr(mx.array(b), name)(axis=axis), ref, mx.bool_)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_vs_numpy(axis, ddof):
    for name in ("var", "std"):
        ref = getattr(np, name)(X.astype(np.float64), axis=np_axis(axis), ddof=ddof)
        assert_array(getattr(mx, name)(mx.array(X), axis=axis, ddof=ddof), ref, rtol=1e-5)
        assert_array(getattr(mx.array(X), name)(axis=axis, ddof=ddof), ref, rtol=1e-5)
    # `correction` is the methods' other name for ddof, as in MLX.
    ref = np.var(X.astype(np.float64), axis=np_axis(axis), ddof=ddof)
    assert_array(mx.array(X).var(axis=axis, correction=ddof), ref, rtol=1e-5)


@pytest.mark.parametrize("axis", AXES)
def test_logsumexp_vs_numpy(axis):
    x = X * 30  # large enough that a naive exp would overflow in float32 for some rows
    ref = np.log(np.sum(np.exp(x.astype(np.float64)), axis=np_axis(axis)))
    assert_array(mx.logsumexp(mx.array(x), axis=axis), ref, mx.float32, rtol=1e-5)
    assert_array(mx.array(x).logsumexp(axis, keepdims=False), ref, mx.float32, rtol=1e-5)


def test_integer_reductions_widen_and_mean_is_float():
    a = np.random.default_rng(1).integers(-100, 100, (4, 6)).astype(np.int8)
    s = mx.sum(mx.array(a), axis=1)
    assert_array(s, a.astype(np.int32).sum(axis=1), mx.int32)
    assert_array(mx.mean(mx.array(a)), a.mean(), mx.float32, rtol=1e-6)
    assert_array(mx.max(mx.array(a), axis=0), a.max(axis=0), mx.int8)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_vs_numpy(axis, keepdims):
    for name in ("argmax", "argmin"):
        ref = getattr(np, name)(X, axis=axis, keepdims=keepdims)
        got = getattr(mx, name)(mx.array(X), axis=axis, keepdims=keepdims)
        assert got.dtype == mx.uint32
        assert_array(got, ref)
        assert_array(getattr(mx.array(X), name)(axis, keepdims), ref)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "uint16", "int64"])
@pytest.mark.parametrize("length", [5, 31, 64, 100, 2048, 4099])
def test_argmax_argmin_over_long_rows_find_the_first_extreme(dtype, length):
    """Rows long enough for the lane-parallel search, with the extreme repeated (the first one
    counts), NaNs in some rows (the first NaN counts), and rows of signed zeros."""
    rng = np.random.default_rng(length)
    rows = 40
    if dtype.startswith("float"):
        x = rng.standard_normal((rows, length)).astype(dtype)
        x[:, ::7] = x[:, :1]  # ties everywhere
        top = rng.integers(0, length, (rows, 3))
        for r in range(rows):
            x[r, top[r]] = x[r].max() + 1  # the maximum three times
            x[r, top[r][::-1][:2]] = x[r].min() - 1
        for r in range(0, rows, 5):
            x[r, rng.integers(0, length, 2)] = np.nan
        x[1] = 0.0
        x[1, rng.integers(0, length, length // 2)] = -0.0
        x[2, length - 1] = np.nan  # a NaN in the tail
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, (rows, length), dtype=dtype, endpoint=True)
        x[:, rng.integers(0, length, 3)] = info.max
        x[:, rng.integers(0, length, 3)] = info.min
    a = mx.array(x, dtype=getattr(mx, dtype))
    for name in ("argmax", "argmin"):
        np.testing.assert_array_equal(np.array(getattr(mx, name)(a, axis=-1)), getattr(np, name)(x, axis=-1))
        np.testing.assert_array_equal(np.array(getattr(mx, name)(a[:, ::-1], axis=-1)),
                                      getattr(np, name)(x[:, ::-1], axis=-1))


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
def test_cumsum_cumprod_vs_numpy(axis):
    x = (X / 2 + 1).astype(np.float32)
    for name, ref_fn in (("cumsum", np.cumsum), ("cumprod", np.cumprod)):
        ref = ref_fn(x, axis=axis)
        assert_array(getattr(mx, name)(mx.array(x), axis=axis), ref, rtol=1e-5, atol=1e-6)
        assert_array(getattr(mx.array(x), name)(axis), ref, rtol=1e-5, atol=1e-6)


def test_scan_reverse_and_exclusive():
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    a = mx.array(x)
    rev = np.flip(np.cumsum(np.flip(x, 1), axis=1), 1)
    assert_array(mx.cumsum(a, axis=1, reverse=True), rev, rtol=1e-5, atol=1e-6)
    excl = np.concatenate([np.zeros((4, 1), np.float32), np.cumsum(x, axis=1)[:, :-1]], axis=1)
    assert_array(mx.cumsum(a, axis=1, inclusive=False), excl, rtol=1e-5, atol=1e-6)
    rev_excl = np.concatenate([rev[:, 1:], np.zeros((4, 1), np.float32)], axis=1)
    assert_array(a.cumsum(1, reverse=True, inclusive=False), rev_excl, rtol=1e-5, atol=1e-6)
    assert_array(mx.cummax(a, axis=0), np.maximum.accumulate(x, axis=0))
    assert_array(mx.cummin(a, axis=0), np.minimum.accumulate(x, axis=0))
    # `dtype` converts first, as MLX's cumsum does.
    assert_array(mx.cumsum(mx.array([1, 2, 3], dtype=mx.int8), dtype=mx.float32),
                 [1.0, 3.0, 6.0], mx.float32)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_softmax_vs_numpy(axis):
    x = X * 10
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    ref = e / np.sum(e, axis=axis, keepdims=True)
    assert_array(mx.softmax(mx.array(x), axis=axis), ref, mx.float32, rtol=1e-5, atol=1e-7)
    assert_array(mx.softmax(mx.array(x), axis=axis, precise=True), ref, rtol=1e-5, atol=1e-7)


def test_seed_example_sum_in_float64_on_cpu():
    x = mx.array(X)
    y = mx.sum(x.astype(mx.float64), stream=mx.cpu)
    assert y.dtype == mx.float64
    assert y.item() == pytest.approx(X.astype(np.float64).sum(), rel=1e-12)


@pytest.mark.parametrize("fn", [mx.sum, mx.mean, mx.max, mx.logsumexp, mx.var, mx.all])
def test_bad_axis_raises_value_error_naming_op_and_shape(fn):
    with pytest.raises(ValueError) as e:
        fn(mx.array(X), axis=3)
    msg = str(e.value)
    assert fn.__name__ in msg and "3, 4, 5" in msg, msg
    with pytest.raises(ValueError):
        fn(mx.array(X), axis=(0, 0))


def test_arg_and_scan_bad_axis():
    for fn in (mx.argmax, mx.argmin, mx.cumsum, mx.cumprod):
        with pytest.raises(ValueError, match=fn.__name__):
            fn(mx.array(X), axis=-4)
    with pytest.raises(ValueError, match="max"):
        mx.max(mx.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError, match="ddof"):
        mx.var(mx.array(X), ddof=-1)


def test_reductions_take_stream_and_stay_lazy():
    s = mx.new_stream(mx.cpu)
    a = mx.array(X)
    r = mx.sum(a, axis=0, stream=s)
    assert r.shape == (4, 5)
    assert_array(r, X.sum(axis=0), rtol=1e-5, atol=1e-6)
    assert_array(a.mean(stream=s), X.mean(), rtol=1e-5)
