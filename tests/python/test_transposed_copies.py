"""Copies and elementwise ops of transposed views (the CPU's tiled walk, `strided::map1_transposed`):
against NumPy for square, ragged, batched, flipped and broadcast layouts and several dtypes, and
against the same op on a contiguous copy, bit for bit."""
import numpy as np
import pytest

import rill.core as mx

pytestmark = pytest.mark.usefixtures("cpu_default")

SHAPES = [(2048, 2048), (37, 65), (64, 33), (300, 1000), (1, 50), (31, 31), (33, 32)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float16", "int8", "complex64", "bool"])
def test_a_transpose_made_contiguous_is_numpys(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape) * 50
    if dtype == "complex64":
        x = x + 1j * rng.standard_normal(shape)
    x = (x > 0) if dtype == "bool" else x.astype(dtype)
    a = mx.array(x)
    got = np.array(mx.contiguous(a.T))
    assert got.dtype == x.dtype and np.array_equal(got, x.T)
    # Through an elementwise op and a cast, which walk the same way.
    if dtype in ("float32", "float16"):
        assert np.array_equal(np.array(mx.abs(a.T)), np.abs(x).T)
        assert np.array_equal(np.array(a.T.astype(mx.float32)), x.T.astype(np.float32))


@pytest.mark.parametrize("perm,shape", [((0, 2, 1), (5, 40, 33)), ((0, 2, 1), (3, 64, 64)),
                                        ((1, 0, 2), (40, 6, 50)), ((2, 1, 0), (33, 4, 70)),
                                        ((0, 1, 3, 2), (2, 3, 45, 38))])
def test_batched_and_other_permutations(perm, shape):
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    got = np.array(mx.contiguous(mx.transpose(mx.array(x), perm)))
    assert np.array_equal(got, np.transpose(x, perm))


def test_flipped_sliced_and_broadcast_views():
    x = np.random.default_rng(8).standard_normal((96, 130)).astype(np.float32)
    a = mx.array(x)
    for view, want in [(a.T, x.T), (a[:, ::-1].T, x[:, ::-1].T),
                       (a[::-1, 3:100].T, x[::-1, 3:100].T), (a[::2, ::3].T, x[::2, ::3].T),
                       (mx.broadcast_to(a[:1].T, (130, 70)), np.broadcast_to(x[:1].T, (130, 70)))]:
        assert np.array_equal(np.array(mx.contiguous(view)), want), view.shape
        # An op over the view gives the op's values on a contiguous copy, bit for bit.
        for op in (mx.exp, mx.sin):
            got = np.array(op(view)).view(np.uint32)
            plain = np.array(op(mx.array(np.ascontiguousarray(want)))).view(np.uint32)
            assert np.array_equal(got, plain), (op, view.shape)
