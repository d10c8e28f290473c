"""Helpers for comparing a rill op with real MLX: the same call on both, random inputs of every
dtype, and the same errors. Used by the tests of issue 10's ops."""

import numpy as np
import pytest

import rill.core as mx

#: Every dtype, by name (the attribute of both modules).
DTYPES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64", "complex64"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]


def sample(rng, shape, dtype):
    """Random NumPy values for `dtype` (a name): small integers, normal floats, both parts of a
    complex, random bools. bfloat16 values are float32 that bfloat16 holds exactly."""
    if dtype == "bool_":
        return rng.random(shape) < 0.5
    if dtype.startswith("uint"):
        return rng.integers(0, 20, shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-20, 20, shape).astype(dtype)
    if dtype == "complex64":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    x = rng.standard_normal(shape).astype(np.float32)
    if dtype == "bfloat16":
        x = (x.view(np.uint32) & 0xFFFF0000).view(np.float32)
    return x.astype("float32" if dtype == "bfloat16" else dtype)


def make(module, values, dtype):
    """`values` as an array of `module` (rill.core or mlx.core) of dtype `dtype` (a name)."""
    return module.array(values).astype(getattr(module, dtype))


def dtype_name(d):
    return repr(d).split(".")[-1]


def to_numpy(x):
    """A rill or MLX array as NumPy (bfloat16 through float32)."""
    if dtype_name(x.dtype) == "bfloat16":
        x = x.astype(_float32_of(x))
    return np.array(x)


def _float32_of(x):
    import importlib
    return importlib.import_module(type(x).__module__.split(".")[0] + ".core").float32


def same(got, want, rtol=0.0, atol=0.0):
    """A rill result equals an MLX result: shape, dtype and values (within a tolerance for
    inexact dtypes). Lists and tuples compare item by item."""
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            same(g, w, rtol, atol)
        return
    assert isinstance(got, mx.array), type(got)
    assert dtype_name(got.dtype) == dtype_name(want.dtype), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
    g, w = to_numpy(got), to_numpy(want)
    if g.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def both_raise(call, mlx, types=(ValueError, IndexError)):
    """`call(module)` raises for real MLX and for rill (an exception of `types`, whose message
    names the op when `call` names one through `call.op`)."""
    with pytest.raises(Exception):
        call(mlx)
    with pytest.raises(types) as e:
        call(mx)
    op = getattr(call, "op", None)
    if op is not None:
        assert op in str(e.value), str(e.value)
