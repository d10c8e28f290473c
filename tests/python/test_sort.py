"""sort and argsort, bit for bit against NumPy's stable sort: every real dtype, rows short
(compared) and long (radix), NaNs, signed zeros and infinities, duplicates, every axis, one long
row (the parallel path) and many rows (rows on threads)."""

import numpy as np
import pytest

import rill.core as mx

RNG = np.random.default_rng(2026)

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float16", "float32", "float64"]


def values(dtype, shape):
    """Random values of `dtype` with many duplicates; floats carry NaNs, both zeros and both
    infinities (NumPy sorts NaNs last and -0 equal to +0, so the stable order keeps them as they
    came)."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return RNG.integers(0, 2, n).astype(bool).reshape(shape)
    if dtype in INTS:
        info = np.iinfo(dtype)
        x = RNG.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        # Duplicates and the extremes.
        x[RNG.integers(0, n, n // 4)] = x[0]
        x[RNG.integers(0, n, 3)] = info.min
        x[RNG.integers(0, n, 3)] = info.max
        return x.reshape(shape)
    x = (RNG.standard_normal(n) * 100).astype(dtype)
    x[RNG.integers(0, n, n // 8)] = x[0]
    specials = np.array([np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf], dtype=dtype)
    where = RNG.integers(0, n, max(n // 10, 6))
    x[where] = specials[RNG.integers(0, len(specials), len(where))]
    return x.reshape(shape)


def bits(a):
    """The array's raw bits, so that -0 and +0 (and NaN payloads) must match exactly."""
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


def arr(x):
    """`x` as a rill array of its own dtype (float64 included, which MLX's rule turns into
    float32 by default)."""
    return mx.array(x, dtype=mx.bool_ if x.dtype == bool else getattr(mx, str(x.dtype)))


def check(x, axis):
    got = np.array(mx.sort(arr(x), axis=axis))
    want = np.sort(x, axis=axis, kind="stable")
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(bits(got), bits(want))
    idx = np.array(mx.argsort(arr(x), axis=axis))
    np.testing.assert_array_equal(idx, np.argsort(x, axis=axis, kind="stable"))


@pytest.mark.parametrize("dtype", ["bool"] + INTS + FLOATS)
@pytest.mark.parametrize("length", [1, 7, 63, 64, 65, 300, 2048])
def test_rows_of_every_length_and_dtype(dtype, length):
    check(values(dtype, (5, length)), -1)


@pytest.mark.parametrize("dtype", ["int16", "uint64", "float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_every_axis_of_a_3d_array(dtype, axis):
    check(values(dtype, (70, 90, 80)), axis)


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_many_long_rows_and_one_long_row(dtype):
    check(values(dtype, (64, 2048)), -1)
    check(values(dtype, (200_000,)), 0)
    check(values(dtype, (3, 100_000)), 1)


def test_strided_and_transposed_inputs():
    x = values("float32", (300, 400))
    got = mx.sort(mx.array(x)[::2, 1::3], axis=-1)
    np.testing.assert_array_equal(bits(np.array(got)), bits(np.sort(x[::2, 1::3], axis=-1, kind="stable")))
    got = mx.argsort(mx.array(x).T, axis=-1)
    np.testing.assert_array_equal(np.array(got), np.argsort(x.T, axis=-1, kind="stable"))


def test_bfloat16_sorts_as_its_float32_values():
    x = values("float32", (6, 500))
    b = mx.array(x).astype(mx.bfloat16)
    exact = np.array(b.astype(mx.float32))  # the bfloat16 values, exactly, as float32
    got = np.array(mx.sort(b, axis=-1).astype(mx.float32))
    np.testing.assert_array_equal(bits(got), bits(np.sort(exact, axis=-1, kind="stable")))
    np.testing.assert_array_equal(
        np.array(mx.argsort(b, axis=-1)), np.argsort(exact, axis=-1, kind="stable")
    )


def test_complex_sorts_in_numpy_order():
    re = values("float32", (4, 150))
    im = values("float32", (4, 150))
    re[:, 1::2] = re[:, ::2]  # equal real parts, so the imaginary parts decide
    z = np.empty(re.shape, np.complex64)
    z.real, z.imag = re, im
    got = np.array(mx.sort(mx.array(z), axis=-1))
    np.testing.assert_array_equal(got, np.sort(z, axis=-1, kind="stable"))
    np.testing.assert_array_equal(
        np.array(mx.argsort(mx.array(z), axis=-1)), np.argsort(z, axis=-1, kind="stable")
    )
