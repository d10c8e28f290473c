"""Memory counters and the hard limit (MemoryError, and the interpreter goes on); errors that
stick to the array that failed; no panic ever reaches Python."""

import gc

import numpy as np
import pytest

import rill.core as mx


def test_limits_return_previous_values():
    old = mx.get_memory_limit()
    try:
        assert mx.set_memory_limit(1 << 40) == old
        assert mx.get_memory_limit() == 1 << 40
        assert mx.set_memory_limit(old) == 1 << 40
    finally:
        mx.set_memory_limit(old)
    old_cache = mx.set_cache_limit(1 << 20)
    try:
        assert mx.set_cache_limit(old_cache) == 1 << 20
    finally:
        mx.set_cache_limit(old_cache)


def test_cache_and_peak():
    x = mx.ones((1 << 16,)) + 1
    mx.eval(x)
    del x
    gc.collect()
    mx.clear_cache()
    assert mx.get_cache_memory() == 0
    mx.reset_peak_memory()
    assert mx.get_peak_memory() == mx.get_active_memory()
    y = mx.zeros((1 << 18,)) + 0
    mx.eval(y)
    assert mx.get_peak_memory() >= mx.get_active_memory() >= (1 << 18) * 4


def test_active_memory_returns_when_arrays_are_freed():
    gc.collect()
    start = mx.get_active_memory()
    arrays = [mx.full((10_000,), float(i)) * 2 for i in range(5)]
    mx.eval(arrays)
    assert mx.get_active_memory() >= start + 5 * 40_000
    del arrays
    gc.collect()
    assert mx.get_active_memory() == start


def test_hard_limit_raises_memory_error_and_interpreter_goes_on():
    gc.collect()
    ok = mx.ones((1000,)) * 3
    mx.eval(ok)
    old = mx.set_memory_limit(mx.get_active_memory() + (1 << 20))
    try:
        big = mx.zeros((1 << 22,))  # 16 MiB, over the limit
        with pytest.raises(MemoryError):
            mx.eval(big)
        # The error sticks to the array and to what depends on it.
        with pytest.raises(MemoryError):
            np.array(big)
        with pytest.raises(MemoryError):
            mx.eval(big + 1)
        # Host data over the limit fails at once.
        with pytest.raises(MemoryError):
            mx.array(np.zeros(1 << 22, dtype=np.float32))
        # Unrelated arrays are untouched, and small work still runs.
        assert np.array(ok)[0] == 3.0
        assert (mx.arange(10) + 1).tolist() == list(range(1, 11))
    finally:
        mx.set_memory_limit(old)
    assert np.array(mx.zeros((1 << 22,)) + 1).sum() == float(1 << 22)


def test_runtime_failures_are_exceptions_not_crashes():
    # An index out of range is found only when the gather runs: building succeeds, evaluating
    # raises an exception that names the op (never a panic), the failed array keeps its error,
    # its dependents carry it, and unrelated work goes on.
    a = mx.array([1.0, 2.0, 3.0])
    b = mx.take(a, mx.array([0, 10]))  # builds fine
    with pytest.raises((ValueError, RuntimeError), match="out of bounds") as failed:
        mx.eval(b)
    assert "take" in str(failed.value) or "gather" in str(failed.value), str(failed.value)
    with pytest.raises(failed.type, match="out of bounds"):
        b.tolist()
    with pytest.raises(failed.type, match="out of bounds"):
        mx.eval(b + 1)
    assert (a + 1).tolist() == [2.0, 3.0, 4.0]
