"""Shared helpers for rill's Python tests.

The seeds' examples target a machine with a GPU. Where none exists, `gpu_stream` stands in: a
second CPU stream (the issue's rule), while the tests also check that asking for the GPU raises
ValueError, as MLX does without a GPU.
"""

import numpy as np
import pytest

import rill.core as mx

HAS_GPU = mx.is_available(mx.gpu)


@pytest.fixture
def gpu_stream():
    """A stream for work the seeds put on the GPU: a GPU stream, or a second CPU stream."""
    if HAS_GPU:
        return mx.new_stream(mx.gpu)
    return mx.new_stream(mx.cpu)


@pytest.fixture
def gpu_device():
    """What the seeds call `mx.gpu`: the GPU, or the CPU where there is none."""
    return mx.gpu if HAS_GPU else mx.cpu


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def mlx():
    """Real MLX, for checks of behaviour against it (skipped where it is not installed)."""
    return pytest.importorskip("mlx.core")


def assert_array(x, expected, dtype=None, rtol=1e-6, atol=0.0):
    """`x` (a rill array) has `expected`'s shape and values, and `dtype` when given."""
    assert isinstance(x, mx.array)
    if dtype is not None:
        assert x.dtype == dtype, f"dtype {x.dtype} != {dtype}"
    got = np.array(x)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
