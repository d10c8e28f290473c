"""`a[...]` and `a[...] = v` with ints, slices (negative steps), None, Ellipsis and integer
arrays, against NumPy."""

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


def test_integer_array_indexing():
    a = mx.array(X[0, 0])
    assert_array(a[mx.array([0, 2])], X[0, 0][[0, 2]])
    assert_array(a[[0, 2]], X[0, 0][[0, 2]])
    assert_array(a[np.array([[4, 0], [-1, 2]])], X[0, 0][np.array([[4, 0], [-1, 2]])])


RNG = np.random.default_rng(5)


def ints(n, shape):
    """Random indices for an axis of size n, negatives included."""
    return RNG.integers(-n, n, shape)


# X has shape (2, 3, 5, 4).
ADVANCED = [
    ints(2, (2, 2)), (ints(2, (3,)),), (slice(None), ints(3, (3,))),
    (Ellipsis, ints(4, (4, 1))), (1, ints(3, (3,))), (ints(2, (2,)), 0),
    (0, slice(None), ints(5, (3,))), (slice(None), 1, ints(5, (2, 3))),
    (slice(1, None), ints(3, (2,)), slice(None, None, -1)), (None, 1, ints(3, (3,)), None),
    (Ellipsis, ints(5, (3,)), 2), (0, Ellipsis, ints(4, (4, 1))),
    (ints(2, (2, 2)), ints(3, (2,))), (0, ints(3, (3,)), ints(5, (3,))),
    (ints(2, (2, 2)), slice(None), ints(5, (2, 2))), (slice(None), ints(3, (2, 1)), ints(5, (3,))),
    (ints(2, (2, 2)), 1, ints(5, (2, 2)), 0), ([1, 0], slice(None), 0, [3, 2]),
    (ints(2, (3,)), ints(3, (3,)), ints(5, (3,)), ints(4, (3,))),
]


@pytest.mark.parametrize("index", ADVANCED, ids=[repr(i) for i in range(len(ADVANCED))])
def test_advanced_indexing_matches_numpy(index):
    a = mx.array(X)
    expected = X[index]
    got = a[tuple(mx.array(i) if isinstance(i, np.ndarray) else i for i in index)
            if isinstance(index, tuple) else mx.array(index)]
    assert_array(got, expected)
    # NumPy arrays and lists index alike.
    assert_array(a[index], expected)


def test_advanced_index_errors():
    a = mx.array(X)
    with pytest.raises(ValueError, match="bool"):
        a[mx.array([True, False])]
    with pytest.raises(ValueError, match="float"):
        a[mx.array([0.5])]
    # An index out of range raises NumPy's IndexError when the index is applied (before this
    # was defined, it was a RuntimeError from the gather at evaluation, naming the merged index).
    with pytest.raises(IndexError):
        a[mx.array([5])]
    with pytest.raises(IndexError):
        a[mx.array([0]), mx.array([3])]


SET_INDICES = [
    0, -1, (1, 2), (slice(None), 1), (slice(None, None, -1), slice(1, None, 2)),
    (Ellipsis, 3), (0, None, slice(None, None, -2)), slice(5, 9), (1, slice(None, None, -2), -1, 0),
]


@pytest.mark.parametrize("index", SET_INDICES, ids=[repr(i) for i in SET_INDICES])
def test_setitem_basic_matches_numpy(index):
    rng = np.random.default_rng(2)
    ref = X.copy()
    shape = ref[index].shape
    value = rng.integers(-50, 50, shape).astype(np.int32)
    ref[index] = value
    a = mx.array(X)
    derived = a + 0
    a[index] = mx.array(value)
    assert_array(a, ref)
    # A scalar broadcasts, and is cast to the array's dtype.
    ref[index] = 7
    a[index] = 7
    assert_array(a, ref, mx.int32)
    # Arrays made from the old value do not change: arrays are values.
    assert_array(derived, X)


def test_setitem_broadcasts_and_keeps_other_arrays():
    a = mx.array(np.zeros((3, 4), np.float32))
    b = a
    view = a[0]
    a[1] = mx.array([1.0, 2.0, 3.0, 4.0])
    a[:, 0] = mx.array([[9.0, 9.0, 9.0]])
    assert a.tolist()[1] == [9.0, 2.0, 3.0, 4.0]
    assert b is a
    assert view.tolist() == [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="setitem"):
        a[0] = mx.zeros((3,))


def test_setitem_with_an_integer_array():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    for index, shape in (([2, 0], (2, 5)), ((slice(None), np.array([4, 1, 1])), (4, 3)),
                         ((Ellipsis, np.array([[0], [3]])), (4, 2, 1))):
        ref = x.copy()
        value = rng.standard_normal(shape).astype(np.float32)
        # Repeated indices write their last value, as NumPy does.
        ref[index] = value
        a = mx.array(x)
        a[index] = mx.array(value)
        assert_array(a, ref)
    a = mx.array(x)
    a[[1, 3]] = 0.0
    ref = x.copy()
    ref[[1, 3]] = 0.0
    assert_array(a, ref)
    # Beside a slice that is not whole (MLX allows it too).
    a[1:, [1, 2]] = 1.0
    ref[1:, [1, 2]] = 1.0
    assert_array(a, ref)
    with pytest.raises(ValueError, match="setitem"):
        a[None, [1, 2]] = 1.0


SET_ADVANCED = [
    (0, [1, 2]), ([1, 0], 2), (slice(None), [0, 2], [4, -1]), ([[1], [0]], slice(None), [0, 3]),
    (Ellipsis, [1, 3]), (1, Ellipsis, [0, 2, 3]), ([0, 1], [2, 0], [4, 1], [3, 3]),
    (-1, slice(None), np.array([[0, 1], [2, 3]]), 1), (slice(None), 2, slice(None), [-1, 0]),
    # Slices that are not whole beside the arrays.
    (slice(1, None), [0, 2]), ([1, 0], slice(None, None, -2)),
    (slice(None), slice(0, 3, 2), [4, 0, 1], slice(1, 3)), ([0, 1], slice(1, None), [3, 2]),
    (Ellipsis, slice(None, None, -1), [1, 3]), (slice(1, 2), [[2], [0]], slice(4, 0, -2), [0, 3]),
]


@pytest.mark.parametrize("index", SET_ADVANCED, ids=[repr(i) for i in range(len(SET_ADVANCED))])
def test_setitem_advanced_matches_numpy(index):
    rng = np.random.default_rng(4)
    ref = X.copy()
    value = rng.integers(-50, 50, ref[index].shape).astype(np.int32)
    ref[index] = value
    a = mx.array(X)
    a[index] = mx.array(value)
    assert_array(a, ref)
    # A value that broadcasts (one row of the last dim read).
    ref = X.copy()
    row = rng.integers(-50, 50, ref[index].shape[-1:]).astype(np.int32)
    ref[index] = row
    a = mx.array(X)
    a[index] = row
    assert_array(a, ref)


def test_setitem_out_of_range_array_raises_and_keeps_the_array():
    # Was "fails on evaluation", which left `a` holding the error instead of its contents; the
    # hardening issue (item 9) makes the failed update the error, not the array.
    a = mx.array(X)
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 1"):
        a[0, [1, 7]] = 0
    assert_array(a, np.asarray(X))


OUT_OF_RANGE = [
    ((6,), lambda m: [m([10])]),
    ((6,), lambda m: [m([0, -7])]),
    ((3, 4), lambda m: [slice(None), m([4])]),
    ((3, 4), lambda m: [m([1]), m([-5])]),
    ((3, 4), lambda m: [m([3]), m([0])]),
    ((2, 3, 4), lambda m: [0, slice(None), m([[1, 9]])]),
    ((2, 3, 4), lambda m: [m([0]), slice(None), m([4])]),
    ((2, 3, 4), lambda m: [Ellipsis, m([2**40])]),
]


@pytest.mark.parametrize("shape, index", OUT_OF_RANGE)
def test_out_of_range_index_arrays_raise_numpys_index_error(shape, index):
    ref = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    with pytest.raises(IndexError) as theirs:
        ref[tuple(index(np.array))]
    a = mx.array(ref)
    for what in ("get", "set"):
        with pytest.raises(IndexError) as ours:
            if what == "get":
                a[tuple(index(mx.array))]
            else:
                a[tuple(index(mx.array))] = 1.0
        assert str(theirs.value) in str(ours.value), (str(ours.value), str(theirs.value))
        # The array is untouched and readable.
        assert_array(a, ref)


def test_failed_assignment_of_the_issue_leaves_the_array_readable():
    a = mx.arange(6)
    with pytest.raises(IndexError, match="index 10 is out of bounds for axis 0 with size 6"):
        a[mx.array([10])] = 1
    assert a.tolist() == [0, 1, 2, 3, 4, 5]
    b = mx.arange(6)
    lazy = mx.array([2]) + 8  # a lazy index array is checked too
    with pytest.raises(IndexError, match="index 10"):
        b[lazy] = 1
    assert (b + 0).tolist() == [0, 1, 2, 3, 4, 5]


# ---------------------------------------------------------------- assignment through a boolean mask


def np_masked(x, mask, value):
    y = x.copy()
    y[mask] = value
    return y


@pytest.mark.parametrize(
    "shape, mask_dims, value",
    [
        ((6,), 1, 7.5),                       # one value everywhere
        ((6, 2), 1, [1.0, 2.0]),              # one row everywhere
        ((6, 2), 1, [[1.0, 2.0]]),            # the same with a leading 1
        ((2, 3), 2, -3),
        ((3, 4, 2), 2, [5.0, 6.0]),
        ((4,), 1, "rows"),                    # one value per true element, in order
        ((5, 3), 1, "rows"),
        ((2, 3, 2), 2, "rows"),
        ((4, 3), 2, "rows"),
        ((4, 3), 0, 9.0),                     # a 0-d mask: all or nothing
    ],
)
def test_setitem_through_a_boolean_mask_matches_numpy(shape, mask_dims, value, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    for trial in range(3):
        mask = rng.random(shape[:mask_dims]) < 0.5
        if mask_dims == 0:
            mask = np.array(trial != 1)
        if isinstance(value, str):
            n = int(mask.sum())
            v = rng.standard_normal((n,) + shape[mask_dims:]).astype(np.float32)
        else:
            v = np.array(value, np.float32)
        want = np_masked(x, mask, v)
        forms = (mx.array(mask), mask) + ((mask.tolist(),) if mask.ndim else ())
        for m in forms:  # rill, NumPy and list masks
            a = mx.array(x)
            alias = a
            a[m] = mx.array(v) if isinstance(value, str) else value
            assert alias is a
            assert_array(a, want)


def test_setitem_through_a_boolean_mask_casts_and_checks_counts(mlx):
    a = mx.arange(6)
    a[a > 2] = 0.7  # the value takes the array's dtype, as MLX's
    assert a.dtype == mx.int32 and a.tolist() == [0, 1, 2, 0, 0, 0]
    b = mlx.arange(6)
    b[b > 2] = 0.7
    assert b.tolist() == a.tolist()
    x = mx.zeros((4, 2))
    before = x
    with pytest.raises(ValueError, match="2 true elements"):
        x[mx.array([True, False, True, False])] = mx.ones((3, 2))  # NumPy refuses too
    with pytest.raises(IndexError, match="boolean mask"):
        x[mx.array([True, False])] = 1.0
    assert before.tolist() == [[0.0, 0.0]] * 4
    none = mx.zeros((3,))
    none[mx.array([False, False, False])] = mx.zeros((0,))
    assert none.tolist() == [0.0, 0.0, 0.0]
    # Reading through a mask is refused, as in MLX (the shape would depend on the values).
    with pytest.raises(ValueError, match="a\\[mask\\] = v"):
        x[mx.array([True, False, True, False])]
