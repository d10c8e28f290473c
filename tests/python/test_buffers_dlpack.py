"""Arrays through the buffer protocol and DLPack, both ways, against NumPy on random data: every
dtype, strided and misaligned inputs, zero-copy where it is promised, read-only exports, the
memory kept alive by whoever holds it, and what real MLX does with the same calls."""

import array as pyarray
import ctypes
import gc
import pickle

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import DTYPES, make, sample

try:
    import mlx.core as mlx
except ImportError:  # pragma: no cover - CI installs it (RILL_REQUIRE_MLX)
    mlx = None

NP_OF = {"bool_": np.bool_, "bfloat16": None}


@pytest.fixture
def rng():
    return np.random.default_rng(3031)


@pytest.fixture(autouse=True)
def on_the_cpu():
    """Host memory in and out: these tests make their arrays on the CPU, also where the default
    device is a GPU (the GPU's DLPack is tested in test_dlpack_gpu.py)."""
    before = mx.default_device()
    mx.set_default_device(mx.cpu)
    yield
    mx.set_default_device(before)


def np_dtype(name):
    return NP_OF.get(name, getattr(np, name, None))


# ---------------------------------------------------------------- rill arrays out


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_memoryview_bytes_and_frombuffer_see_the_values(rng, dtype):
    x = sample(rng, (3, 5), dtype)
    a = make(mx, x, dtype)
    mv = memoryview(a)
    assert mv.readonly and mv.shape == (3, 5) and mv.itemsize == x.itemsize
    assert mv.strides == (5 * x.itemsize, x.itemsize)
    assert np.asarray(mv).dtype == x.dtype
    np.testing.assert_array_equal(np.frombuffer(a, x.dtype).reshape(3, 5), x)
    assert bytes(mv) == x.tobytes() and bytes(a) == x.tobytes()
    np.testing.assert_array_equal(np.asarray(mv), x)


def test_buffer_of_views_and_lazy_results_is_c_ordered(rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    a = mx.array(x)
    for view, want in ((a.T, x.T), (a[::-1, ::2], x[::-1, ::2]), (mx.broadcast_to(a[0], (3, 6)),
                       np.broadcast_to(x[0], (3, 6))), (mx.exp(a) + 1, np.exp(x) + 1)):
        got = np.frombuffer(view, np.float32).reshape(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert memoryview(view).c_contiguous


def test_buffer_export_is_read_only_and_outlives_the_array(rng):
    x = rng.standard_normal(1000).astype(np.float32)
    a = mx.array(x) * 2
    mv = memoryview(a)
    with pytest.raises(TypeError):
        mv[0] = 1.0
    # Asking for a writable buffer is refused (ctypes asks for one).
    with pytest.raises((BufferError, TypeError)):
        (ctypes.c_float * 1000).from_buffer(a)
    a[0] = 5.0  # a new array inside the same object: the exported view keeps the old data
    del a
    gc.collect()
    np.testing.assert_array_equal(np.frombuffer(mv, np.float32), x * 2)


def test_bfloat16_is_refused_by_the_buffer_protocol_and_numpy_gets_float32():
    # MLX exports a "bfloat16" format that NumPy rejects (np.asarray of a bfloat16 MLX array
    # raises); rill refuses the export, so NumPy falls back to __array__'s float32 copy.
    a = mx.array([1.0, -2.5, 3.25]).astype(mx.bfloat16)
    with pytest.raises(BufferError, match="bfloat16"):
        memoryview(a)
    got = np.asarray(a)
    assert got.dtype == np.float32 and got.tolist() == [1.0, -2.5, 3.25]


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_numpy_from_dlpack_shares_memory_read_only(rng, dtype):
    x = sample(rng, (4, 3), dtype)
    a = make(mx, x, dtype)
    n = np.from_dlpack(a)
    np.testing.assert_array_equal(n, x)
    assert not n.flags.writeable  # DLPack 1.0's read-only flag
    assert np.shares_memory(n, np.from_dlpack(a))
    assert a.__dlpack_device__() == (1, 0)
    # A transposed view comes out with its strides, no copy.
    t = np.from_dlpack(a.T)
    np.testing.assert_array_equal(t, x.T)


def test_dlpack_legacy_capsule_and_errors(rng):
    x = rng.standard_normal(7).astype(np.float32)
    a = mx.array(x)
    cap = a.__dlpack__()
    assert "dltensor" in repr(cap)
    del cap  # an unused capsule frees its tensor (no leak, no crash)
    gc.collect()
    with pytest.raises(ValueError, match="stream=None"):
        a.__dlpack__(stream=3)
    with pytest.raises(BufferError, match=r"to DLPack device \(2, 0\)"):
        a.__dlpack__(dl_device=(2, 0))
    c = np.from_dlpack(a, copy=True)
    assert c.flags.writeable or not np.shares_memory(c, np.from_dlpack(a))


# ---------------------------------------------------------------- into rill


@pytest.mark.parametrize("dtype", ["bool_", "int8", "uint16", "int32", "int64", "float16",
                                   "float32", "float64", "complex64", "uint64"])
def test_from_dlpack_is_zero_copy_and_keeps_the_dtype(rng, dtype):
    x = np.ascontiguousarray(sample(rng, (5, 4), dtype))
    a = mx.from_dlpack(x)
    assert a.dtype == getattr(mx, dtype)
    np.testing.assert_array_equal(np.array(a), x)
    # The same memory: rill sees a later write by the owner (NumPy's memory, lent).
    if dtype != "bool_":
        x[0, 0] = x[1, 1]
        assert np.array(a)[0, 0] == x[1, 1]
    # Strided and negative-stride producers.
    for view in (x.T, x[::-1, ::2], x[:, ::-1]):
        np.testing.assert_array_equal(np.array(mx.from_dlpack(view)), view)
    y = x.real.astype(np.float32) if x.dtype.kind == "c" else x.astype(np.float32)
    np.testing.assert_allclose(np.array(mx.exp(mx.from_dlpack(y))), np.exp(y.astype(np.float64)),
                               rtol=2e-6)


def test_from_dlpack_keeps_the_producer_alive_and_refuses_what_it_cannot_read(rng):
    x = rng.standard_normal((300, 300)).astype(np.float32)
    a = mx.from_dlpack(x)
    want = x.copy()
    del x
    gc.collect()
    np.testing.assert_array_equal(np.array(a + 0), want)
    b = mx.array([1, 2, 3])
    assert mx.from_dlpack(b) is not b and mx.from_dlpack(b).tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="no __dlpack__"):
        mx.from_dlpack([1, 2])

    class FakeGpu:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kw):
            raise AssertionError("not reached")

    if not mx.is_available(mx.gpu):
        with pytest.raises(ValueError, match="no GPU"):
            mx.from_dlpack(FakeGpu())

    class Managed:
        def __dlpack_device__(self):
            return (13, 0)

        def __dlpack__(self, **kw):
            raise AssertionError("not reached")

    with pytest.raises(ValueError, match="managed memory"):
        mx.from_dlpack(Managed())


def test_buffers_python_objects_and_misaligned_numpy_input(rng):
    assert mx.array(b"\x00\x01\xff").tolist() == [0, 1, 255]
    assert mx.array(b"abc").dtype == mx.uint8
    assert mx.array(bytearray(b"xy")).tolist() == [120, 121]
    for code, dt in (("f", mx.float32), ("h", mx.int16), ("i", mx.int32), ("B", mx.uint8),
                     ("q", mx.int64), ("d", mx.float32)):
        vals = [1, -2, 3] if code != "B" else [1, 2, 3]
        got = mx.array(pyarray.array(code, vals))
        assert got.dtype == dt and got.tolist() == vals
    raw = rng.integers(0, 256, 64).astype(np.uint8).tobytes()
    for offset in (1, 2, 3, 5):
        x = np.frombuffer(raw, np.float32, count=8, offset=offset)
        assert not x.flags.aligned
        np.testing.assert_array_equal(np.array(mx.array(x)), x)
        x64 = np.frombuffer(raw, np.int64, count=4, offset=offset)
        np.testing.assert_array_equal(np.array(mx.array(x64)), x64)
    with pytest.raises(ValueError):
        mx.array("text")
    assert pickle.loads(pickle.dumps(mx.array(b"ab"))).tolist() == [97, 98]


@pytest.mark.skipif(mlx is None, reason="real MLX is not installed")
def test_same_results_as_mlx(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    for f in (lambda m: m.array(b"hello").tolist(),
              lambda m: m.array(pyarray.array("h", [5, -6])).tolist(),
              lambda m: memoryview(m.array(x)).tolist(),
              lambda m: memoryview(m.array([[1, 2], [3, 4]])).format,
              lambda m: np.frombuffer(m.array(x), np.float32).tolist(),
              lambda m: np.from_dlpack(m.array(x)).tolist(),
              lambda m: m.array(x).__dlpack_device__()):
        assert f(mx) == f(mlx)
    raw = rng.integers(0, 256, 40).astype(np.uint8).tobytes()
    y = np.frombuffer(raw, np.float32, count=4, offset=3)
    np.testing.assert_array_equal(np.array(mx.array(y)), np.array(mlx.array(y)))
