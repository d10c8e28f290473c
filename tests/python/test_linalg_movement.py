"""matmul/addmm/@, comparisons, clip, concatenate/stack/split/pad/tile/repeat, take and friends,
sort/argsort/topk: against NumPy on random inputs."""

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array

RNG = np.random.default_rng(11)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
     ((2, 1, 3, 4), (5, 4, 2))],
)
def test_matmul_vs_numpy(sa, sb):
    a, b = rand(*sa), rand(*sb)
    ref = a @ b
    assert_array(mx.matmul(mx.array(a), mx.array(b)), ref, mx.float32, rtol=1e-4, atol=1e-5)
    assert_array(mx.array(a) @ mx.array(b), ref, rtol=1e-4, atol=1e-5)
    # A NumPy operand on either side (NumPy's own `@` runs first for `ndarray @ array`, as with
    # MLX; `__rmatmul__` serves the other types).
    assert_array(mx.array(a) @ b, ref, rtol=1e-4, atol=1e-5)
    assert_array(mx.array(b).__rmatmul__(a), ref, rtol=1e-4, atol=1e-5)


def test_matmul_errors_and_operator_fallback():
    with pytest.raises(ValueError, match=r"matmul.*\(?3, 4"):
        mx.matmul(mx.array(rand(3, 4)), mx.array(rand(5, 2)))
    with pytest.raises(ValueError, match="matmul"):
        mx.matmul(mx.array([[1, 2]]), mx.array([[1], [2]]))
    with pytest.raises(TypeError):
        mx.array(rand(2, 2)) @ "x"


def test_matmul_in_place_and_stream():
    a, b = rand(3, 3), rand(3, 3)
    x = mx.array(a)
    x @= mx.array(b)
    assert_array(x, a @ b, rtol=1e-4, atol=1e-5)
    s = mx.new_stream(mx.cpu)
    assert_array(mx.matmul(mx.array(a), mx.array(b), stream=s), a @ b, rtol=1e-4, atol=1e-5)


def test_addmm_vs_numpy():
    a, b, c = rand(3, 4), rand(4, 5), rand(5)
    ref = 0.5 * (a @ b) + 2.0 * c
    got = mx.addmm(mx.array(c), mx.array(a), mx.array(b), alpha=0.5, beta=2.0)
    assert_array(got, ref, rtol=1e-4, atol=1e-5)
    assert_array(mx.addmm(mx.array(c), mx.array(a), mx.array(b)), a @ b + c, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="addmm"):
        mx.addmm(mx.array(rand(7)), mx.array(a), mx.array(b))


# ---------------------------------------------------------------- comparisons and clip


def test_isclose_allclose_array_equal():
    a = rand(4, 5)
    b = a + RNG.uniform(-1e-3, 1e-3, a.shape).astype(np.float32)
    assert_array(mx.isclose(mx.array(a), mx.array(b), rtol=1e-3, atol=1e-4),
                 np.isclose(a, b, rtol=1e-3, atol=1e-4))
    assert mx.allclose(mx.array(a), mx.array(a + 1e-7)).item() is True
    assert mx.allclose(mx.array(a), mx.array(b), rtol=0, atol=1e-6).item() is bool(
        np.allclose(a, b, rtol=0, atol=1e-6))
    n = mx.array([1.0, float("nan")])
    assert mx.allclose(n, n).item() is False
    assert mx.allclose(n, n, equal_nan=True).item() is True
    assert mx.isclose(n, n, equal_nan=True).tolist() == [True, True]
    assert mx.array_equal(mx.array(a), mx.array(a.copy())).item() is True
    assert mx.array_equal(mx.array(a), mx.array(b)).item() is False
    assert mx.array_equal(mx.array([1, 2]), mx.array([1, 2, 3])).item() is False
    assert mx.array_equal(n, n).item() is False
    assert mx.array_equal(n, n, equal_nan=True).item() is True
    assert mx.array_equal(mx.array([1, 2]), [1.0, 2.0]).item() is True


def test_clip_vs_numpy():
    x = rand(4, 5)
    assert_array(mx.clip(mx.array(x), -0.5, 0.5), np.clip(x, -0.5, 0.5), mx.float32)
    assert_array(mx.clip(mx.array(x), None, 0.2), np.clip(x, None, 0.2))
    lo = rand(5) - 1
    assert_array(mx.clip(mx.array(x), mx.array(lo), None), np.maximum(x, lo))
    i = mx.array([1, 5, 9], dtype=mx.int8)
    assert_array(mx.clip(i, 2, 8), [2, 5, 8], mx.int8)
    with pytest.raises(ValueError, match="clip"):
        mx.clip(mx.array(x), None, None)


# ---------------------------------------------------------------- movement


def test_concatenate_stack_vs_numpy():
    a, b, c = rand(2, 3), rand(4, 3), rand(2, 3)
    assert_array(mx.concatenate([mx.array(a), mx.array(b)]), np.concatenate([a, b]))
    assert_array(mx.concatenate((mx.array(a), mx.array(c)), axis=1), np.concatenate([a, c], 1))
    assert_array(mx.concatenate([mx.array(a), mx.array(b)], axis=None),
                 np.concatenate([a, b], axis=None))
    assert_array(mx.concatenate([mx.array(a), c], axis=-1), np.concatenate([a, c], -1))
    assert_array(mx.stack([mx.array(a), mx.array(c)]), np.stack([a, c]))
    assert_array(mx.stack([mx.array(a), mx.array(c)], axis=-1), np.stack([a, c], -1))
    assert_array(mx.stack([mx.array(a), mx.array(c)], axis=1), np.stack([a, c], 1))
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(4, 3\)|concatenate.*\[2, 3\].*\[4, 3\]"):
        mx.concatenate([mx.array(a), mx.array(b)], axis=1)
    with pytest.raises(ValueError, match="stack"):
        mx.stack([mx.array(a), mx.array(b)])
    with pytest.raises(ValueError, match="concatenate"):
        mx.concatenate([mx.array(a), mx.array(c)], axis=2)


def test_split_vs_numpy():
    x = rand(6, 4)
    for how in (3, [1, 4], [2], [-2]):
        for axis in (0, -2):
            got = mx.split(mx.array(x), how, axis=axis)
            ref = np.split(x, how, axis=axis)
            assert len(got) == len(ref)
            for g, r in zip(got, ref):
                assert_array(g, r)
    got = mx.array(x).split(2, axis=1)
    for g, r in zip(got, np.split(x, 2, axis=1)):
        assert_array(g, r)
    with pytest.raises(ValueError, match="split"):
        mx.split(mx.array(x), 4)


@pytest.mark.parametrize(
    "width, np_width",
    [(1, 1), ((2,), 2), ((1, 2), (1, 2)), ([(0, 1), (2, 0)], [(0, 1), (2, 0)]),
     (((1, 1), (0, 3)), ((1, 1), (0, 3)))],
)
def test_pad_vs_numpy(width, np_width):
    x = rand(2, 3)
    assert_array(mx.pad(mx.array(x), width), np.pad(x, np_width))
    assert_array(mx.pad(mx.array(x), width, constant_values=2.5),
                 np.pad(x, np_width, constant_values=2.5))


def test_pad_errors_and_array_constant():
    x = rand(2, 3)
    assert_array(mx.pad(mx.array(x), 1, constant_values=mx.array(-1.0)),
                 np.pad(x, 1, constant_values=-1.0))
    with pytest.raises(ValueError, match="pad"):
        mx.pad(mx.array(x), [(1, 1), (1, 1), (1, 1)])
    with pytest.raises(ValueError, match="pad"):
        mx.pad(mx.array(x), -1)
    with pytest.raises(ValueError, match="wrap"):
        mx.pad(mx.array(x), 1, mode="wrap")
    with pytest.raises(ValueError, match="pad"):  # NumPy: nothing to repeat on an empty dim
        mx.pad(mx.zeros((0, 3)), 1, mode="edge")


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
@pytest.mark.parametrize(
    "shape, width",
    [((5,), 2), ((2, 3), ((1, 2), (0, 4))), ((3, 1, 4), ((2, 0), (3, 3), (1, 9))),
     ((2, 2), 7), ((4,), ((0, 0),))],
)
def test_pad_modes_vs_numpy_and_mlx(mode, shape, width, mlx):
    # Widths past the dim's length repeat the pattern as NumPy does; a dim of one element too.
    x = rand(*shape)
    got = mx.pad(mx.array(x), width, mode=mode)
    assert_array(got, np.pad(x, width, mode=mode))
    assert_array(got, np.array(mlx.pad(mlx.array(x), width, mode=mode)))
    ints = RNG.integers(-50, 50, shape).astype(np.int16)
    out = mx.pad(mx.array(ints), width, mode=mode)
    assert out.dtype == mx.int16
    np.testing.assert_array_equal(np.array(out), np.pad(ints, width, mode=mode))


def test_pad_mode_gradient_sums_the_copies():
    # Each padded element reads one input element: the cotangent of an input element is the sum
    # over every place it was copied to.
    x = rand(5)
    w = rand(11)
    g = mx.grad(lambda a: (mx.pad(a, 3, mode="reflect") * mx.array(w)).sum())(mx.array(x))
    idx = np.pad(np.arange(5), 3, mode="reflect")
    assert_array(g, np.bincount(idx, weights=w, minlength=5))


def test_tile_repeat_vs_numpy():
    x = rand(2, 3)
    for reps in (2, (2, 1), (1, 2, 2), [3]):
        assert_array(mx.tile(mx.array(x), reps), np.tile(x, reps))
    for axis in (None, 0, 1, -1):
        assert_array(mx.repeat(mx.array(x), 3, axis=axis), np.repeat(x, 3, axis=axis))
    with pytest.raises(ValueError, match="repeat"):
        mx.repeat(mx.array(x), 2, axis=2)


# ---------------------------------------------------------------- take and friends


def test_take_vs_numpy():
    x = rand(4, 5, 3)
    idx = RNG.integers(-4, 4, (2, 3))
    for axis in (0, 1, -1):
        n = x.shape[axis]
        i = RNG.integers(-n, n, (2, 3))
        assert_array(mx.take(mx.array(x), mx.array(i), axis=axis), np.take(x, i, axis=axis))
    assert_array(mx.take(mx.array(x), mx.array(idx)), np.take(x, idx))
    assert_array(mx.take(mx.array(x), 2, axis=1), np.take(x, 2, axis=1))
    assert_array(mx.take(mx.array(x), [0, 3], axis=0), np.take(x, [0, 3], axis=0))
    with pytest.raises(ValueError, match="take"):
        mx.take(mx.array(x), mx.array([0.5]), axis=0)
    bad = mx.take(mx.array(x), mx.array([9]), axis=0)
    with pytest.raises(RuntimeError):
        mx.eval(bad)


def test_take_along_axis_put_along_axis_vs_numpy():
    x = rand(3, 6)
    order = np.argsort(x, axis=1)
    assert_array(mx.take_along_axis(mx.array(x), mx.array(order), axis=1),
                 np.take_along_axis(x, order, axis=1))
    assert_array(mx.take_along_axis(mx.array(x), mx.array(order[:, :2]), axis=-1),
                 np.take_along_axis(x, order[:, :2], axis=-1))
    i = RNG.integers(0, 3, (2, 6))
    assert_array(mx.take_along_axis(mx.array(x), mx.array(i), axis=0),
                 np.take_along_axis(x, i, axis=0))
    ref = x.copy()
    idx = np.array([[5], [0], [2]])
    np.put_along_axis(ref, idx, 7.0, axis=1)
    assert_array(mx.put_along_axis(mx.array(x), mx.array(idx), 7.0, axis=1), ref)
    vals = rand(3, 1)
    ref = x.copy()
    np.put_along_axis(ref, idx, vals, axis=1)
    assert_array(mx.put_along_axis(mx.array(x), mx.array(idx), mx.array(vals), axis=1), ref)
    with pytest.raises(ValueError, match="take_along_axis"):
        mx.take_along_axis(mx.array(x), mx.array([0, 1]), axis=1)


# ---------------------------------------------------------------- sorting


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_sort_argsort_vs_numpy(axis):
    x = rand(4, 7)
    assert_array(mx.sort(mx.array(x), axis=axis), np.sort(x, axis=axis))
    got = mx.argsort(mx.array(x), axis=axis)
    assert got.dtype == mx.uint32
    assert_array(got, np.argsort(x, axis=axis, kind="stable"))


def test_sort_default_axis_is_last_and_topk():
    x = rand(3, 8)
    assert_array(mx.sort(mx.array(x)), np.sort(x, axis=-1))
    top = mx.topk(mx.array(x), 3)
    assert_array(top, np.sort(x, axis=-1)[:, -3:])
    assert_array(mx.topk(mx.array(x), 2, axis=0), np.sort(x, axis=0)[-2:])
    assert_array(mx.topk(mx.array(x), 4, axis=None), np.sort(x, axis=None)[-4:])
    with pytest.raises(ValueError, match="topk"):
        mx.topk(mx.array(x), 9)
    with pytest.raises(ValueError, match="sort"):
        mx.sort(mx.array(x), axis=2)


def test_mT_swaps_the_last_two_dims():
    x = rand(2, 3, 4)
    assert_array(mx.array(x).mT, np.swapaxes(x, -1, -2))
    assert_array(mx.array(x).mT @ mx.array(x), np.swapaxes(x, -1, -2) @ x, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        mx.array([1.0, 2.0]).mT
