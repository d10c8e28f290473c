"""`a[...]` with ints, slices (negative steps), None and Ellipsis, against NumPy."""

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array

X = np.arange(2 * 3 * 5 * 4).reshape(2, 3, 5, 4).astype(np.int32)

INDICES = [
    0, -1, 1,
    (1, 2), (-1, -2, 3), (0, 1, 2, 3), (-2, -3, -5, -4),
    slice(None), slice(1, None), slice(None, -1), slice(None, None, -1), slice(-1, 0, -2),
    slice(5, 100), slice(-100, 100, 3), slice(3, 1), slice(None, None, 2),
    (slice(None), 1), (slice(None), slice(None, None, -1), 2),
    (Ellipsis, 1), (0, Ellipsis), (Ellipsis,), (0, Ellipsis, slice(None, None, -2)),
    (1, Ellipsis, 0, 0),
    None, (None, 0), (0, None), (None, Ellipsis, None), (slice(None), None, 1, None),
    (Ellipsis, None), (1, None, Ellipsis, None, 2),
    (slice(1, 2), slice(0, 3, 2), slice(4, 0, -1), slice(None, None, -3)),
    np.int64(1), (np.int32(1), np.int8(-1)),
]


@pytest.mark.parametrize("index", INDICES, ids=[repr(i) for i in INDICES])
def test_basic_indexing_matches_numpy(index):
    a = mx.array(X)
    got = a[index]
    expected = X[index]
    assert got.shape == expected.shape
    assert_array(got, expected, mx.int32)


def test_indexing_views_of_views(rng):
    x = rng.standard_normal((6, 7, 8)).astype(np.float32)
    a = mx.array(x)
    got = a[::-1][1:, ::2][..., ::-3][None, 2]
    np.testing.assert_array_equal(np.array(got), x[::-1][1:, ::2][..., ::-3][None, 2])
    t = a.T[2:5, :, -1]
    np.testing.assert_array_equal(np.array(t), x.T[2:5, :, -1])
    b = mx.broadcast_to(a[:, :1, :], (6, 4, 8))[1:3, ::-1]
    np.testing.assert_array_equal(np.array(b), np.broadcast_to(x[:, :1, :], (6, 4, 8))[1:3, ::-1])
    # A 0-d array indexes like an integer.
    assert a[mx.array(2)].shape == (7, 8)


def test_scalar_array_indexing():
    s = mx.array(5)
    assert s[None].tolist() == [5]
    assert s[...].item() == 5
    with pytest.raises(ValueError):
        s[0]


def test_indexing_errors():
    a = mx.array(X)
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[-3]
    with pytest.raises(IndexError):
        a[0, 3]
    with pytest.raises(ValueError, match="Too many indices"):
        a[0, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="ellipsis"):
        a[..., ...]
    with pytest.raises(ValueError):
        a[::0]
    with pytest.raises(ValueError):
        a[1.5]
    with pytest.raises(ValueError):
        a["x"]
    with pytest.raises(ValueError):
        a[True]


@pytest.mark.xfail(strict=True, raises=ValueError, reason="phase 2: needs take (gather)")
def test_integer_array_indexing():
    a = mx.array(X[0, 0])
    assert_array(a[mx.array([0, 2])], X[0, 0][[0, 2]])
    assert_array(a[[0, 2]], X[0, 0][[0, 2]])
