"""The op functions: creation, shapes, `slice`, `where`, and their errors (ValueError naming the
op), against NumPy and, for argument handling, real MLX."""

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array


def test_full_zeros_ones():
    assert_array(mx.full((2, 2), 3), np.full((2, 2), 3), mx.int32)
    assert_array(mx.full(3, 2.5), np.full(3, 2.5), mx.float32)
    assert_array(mx.full((2,), True), [True, True], mx.bool_)
    assert_array(mx.full((2, 3), mx.array([1, 2, 3])), [[1, 2, 3]] * 2, mx.int32)
    assert_array(mx.full((2,), 7, mx.float16), [7, 7], mx.float16)
    assert_array(mx.full((2,), 2.7, mx.int32), [2, 2], mx.int32)
    assert_array(mx.zeros(3), np.zeros(3), mx.float32)
    assert_array(mx.zeros((2, 3), mx.int32), np.zeros((2, 3)), mx.int32)
    assert_array(mx.zeros((2,), dtype=None), [0, 0], mx.float32)
    assert_array(mx.zeros(()), 0.0)
    assert_array(mx.ones([2]), [1.0, 1.0], mx.float32)
    assert_array(mx.ones((2,), mx.complex64), [1, 1], mx.complex64)
    with pytest.raises(ValueError, match="overflow"):
        mx.full((2,), 300, mx.uint8)
    with pytest.raises(ValueError, match="Negative"):
        mx.ones((-1,))


def test_like_functions():
    a = mx.array([[1, 2]], dtype=mx.int16)
    assert_array(mx.zeros_like(a), [[0, 0]], mx.int16)
    assert_array(mx.ones_like(a), [[1, 1]], mx.int16)
    assert_array(mx.zeros_like(a, dtype=mx.float32), [[0.0, 0.0]], mx.float32)
    assert_array(mx.full_like(a, 2.5), [[2, 2]], mx.int16)
    assert_array(mx.full_like(a, 2.5, dtype=mx.float32), [[2.5, 2.5]], mx.float32)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((10,), {}),
        ((1, 10, 2), {}),
        ((0.5, 3), {}),
        ((3,), {"dtype": "float16"}),
        ((), {"start": 1, "stop": 5}),
        ((), {"stop": 5}),
        ((0, 1, 0.3), {}),
        ((5, 1), {}),
        ((-5,), {}),
        ((10, 0, -3), {}),
        ((2**31, 2**31 + 2), {}),
        ((1.0, 2.0), {"dtype": "int32"}),
        ((0, 10, 3, "float32"), {}),
        # Integer ranges with fractional bounds or steps step by whole numbers (NumPy's rule).
        ((1, -1, -0.25), {"dtype": "int32"}),
        ((5, 1, -1.5), {"dtype": "int32"}),
        ((0, 5, 0.5), {"dtype": "int32"}),
        ((0.7, 9.2, 2.6), {"dtype": "int64"}),
        ((-2.5, 4, 1.5), {"dtype": "int16"}),
        ((0.5, 4.5, 1.25), {"dtype": "uint8"}),
    ],
)
def test_arange_matches_mlx(args, kwargs, mlx):
    def call(m):
        a = [getattr(m, x) if isinstance(x, str) else x for x in args]
        k = {n: getattr(m, v) if n == "dtype" else v for n, v in kwargs.items()}
        return m.arange(*a, **k)

    ours, theirs = call(mx), call(mlx)
    assert repr(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(np.array(ours).astype(np.float64), np.array(theirs).astype(np.float64))
    if "dtype" in kwargs:
        np.testing.assert_array_equal(np.array(ours), np.arange(*args, dtype=kwargs["dtype"]))


def test_arange_errors():
    with pytest.raises(ValueError):
        mx.arange(0, 5, 0)
    with pytest.raises(ValueError):
        mx.arange(0, 3, dtype=mx.bool_)
    with pytest.raises(TypeError):
        mx.arange()


def test_linspace_matches_mlx(mlx):
    for args, kw in [((0, 1, 5), {}), ((0, 10, 5), {"dtype": "int32"}), ((0, 1), {}),
                     ((0, 1, 0), {}), ((0, 1, 1), {}), ((2, 3, 4), {"endpoint": False}),
                     ((-1, 1, 7), {})]:
        k = dict(kw)
        ko = {n: (getattr(mx, v) if n == "dtype" else v) for n, v in k.items()}
        kt = {n: (getattr(mlx, v) if n == "dtype" else v) for n, v in k.items()}
        ours, theirs = mx.linspace(*args, **ko), mlx.linspace(*args, **kt)
        np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-6, atol=1e-7)


def test_linspace_eye_identity_vs_numpy():
    # Needs no MLX: NumPy is the reference.
    for args in ((0, 1, 5), (-1, 1, 7), (2, 3, 4), (0, 1, 1)):
        assert_array(mx.linspace(*args), np.linspace(*args), mx.float32, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError):
        mx.linspace(0, 1, -1)
    assert_array(mx.eye(3, 2, 1), np.eye(3, 2, 1), mx.float32)
    assert_array(mx.eye(4, k=-2, dtype=mx.int32), np.eye(4, k=-2), mx.int32)
    assert_array(mx.eye(0), np.eye(0))
    assert_array(mx.identity(2, mx.int32), np.identity(2), mx.int32)


def test_shape_functions(rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    a = mx.array(x)
    assert_array(mx.reshape(a, (4, 6)), x.reshape(4, 6))
    assert_array(mx.reshape(a, [-1, 2]), x.reshape(-1, 2))
    assert_array(a.reshape(4, 3, 2), x.reshape(4, 3, 2))
    assert_array(a.reshape((24,)), x.reshape(24))
    assert_array(mx.flatten(a), x.flatten())
    assert_array(mx.flatten(a, 1), x.reshape(2, 12))
    assert_array(a.flatten(0, 1), x.reshape(6, 4))
    assert_array(mx.transpose(a), x.T)
    assert_array(mx.transpose(a, (1, 0, 2)), x.transpose(1, 0, 2))
    assert_array(mx.permute_dims(a, [2, 0, 1]), x.transpose(2, 0, 1))
    assert_array(a.transpose(2, 0, 1), x.transpose(2, 0, 1))
    assert_array(a.transpose((2, 0, 1)), x.transpose(2, 0, 1))
    assert_array(a.transpose(), x.T)
    assert_array(mx.swapaxes(a, 0, 2), x.swapaxes(0, 2))
    assert_array(a.swapaxes(-1, 0), x.swapaxes(-1, 0))
    assert_array(mx.moveaxis(a, 0, -1), np.moveaxis(x, 0, -1))
    assert_array(a.moveaxis(2, 0), np.moveaxis(x, 2, 0))
    assert mx.expand_dims(a, 0).shape == (1, 2, 3, 4)
    assert mx.expand_dims(a, (0, 4)).shape == (1, 2, 3, 4, 1)
    assert mx.expand_dims(a, -1).shape == (2, 3, 4, 1)
    s = mx.zeros((1, 3, 1))
    assert mx.squeeze(s).shape == (3,)
    assert mx.squeeze(s, 0).shape == (3, 1)
    assert s.squeeze((0, 2)).shape == (3,)
    assert s.squeeze(axis=-1).shape == (1, 3)
    assert_array(mx.broadcast_to(1.0, (2, 2)), np.ones((2, 2)))
    assert_array(mx.broadcast_to(a[:, :1], (2, 3, 4)), np.broadcast_to(x[:, :1], (2, 3, 4)))
    p, q = mx.broadcast_arrays(mx.zeros((2, 1)), mx.ones((3,)))
    assert p.shape == q.shape == (2, 3)
    assert mx.broadcast_shapes((2, 1), (3,), (1, 1, 1)) == [1, 2, 3] or \
        tuple(mx.broadcast_shapes((2, 1), (3,), (1, 1, 1))) == (1, 2, 3)


def test_shape_errors_name_the_op():
    a = mx.zeros((3, 4))
    with pytest.raises(ValueError, match=r"\[reshape\]"):
        mx.reshape(a, (5, 5))
    with pytest.raises(ValueError, match=r"\[transpose\]"):
        mx.transpose(a, (0, 0))
    with pytest.raises(ValueError, match=r"\[add\].*\[3, 4\].*\[2, 2\]"):
        mx.add(a, mx.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[squeeze\]"):
        mx.squeeze(a, 0)
    with pytest.raises(ValueError, match=r"\[swapaxes\]"):
        mx.swapaxes(a, 0, 2)
    with pytest.raises(ValueError, match=r"\[broadcast_to\]"):
        mx.broadcast_to(a, (2, 4))
    with pytest.raises(ValueError, match=r"\[expand_dims\]"):
        mx.expand_dims(a, 5)


def test_slice_function(mlx):
    x = np.arange(12).reshape(3, 4).astype(np.int32)
    a = mx.array(x)
    got = mx.slice(a, mx.array([1, 1]), [0, 1], [2, 2])
    assert_array(got, x[1:3, 1:3])
    theirs = mlx.slice(mlx.array(x), mlx.array([1, 1]), [0, 1], [2, 2])
    assert got.tolist() == theirs.tolist()
    assert_array(mx.slice(a, [2], [1], [3, 2]), x[:, 2:4])
    assert_array(mx.slice(a, mx.array([1]), [-2], (2, 4)), x[1:3])
    with pytest.raises(ValueError):
        mx.slice(a, mx.array([1]), [0], [2])  # one size per dim is needed
    with pytest.raises(ValueError):
        mx.slice(a, mx.array([2, 3]), [0, 1], [2, 2])  # does not fit


def test_astype_function_and_contiguous(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    a = mx.array(x)
    assert_array(mx.astype(a, mx.float64), x.astype(np.float64), mx.float64)
    c = mx.contiguous(a.T)
    assert_array(c, x.T)
    assert np.asarray(c).flags.c_contiguous


def test_unary_methods_and_round_decimals(rng):
    # Both signs (the functions themselves are in test_api_table.py).
    x = rng.standard_normal((3, 4)).astype(np.float32) * 3
    a = mx.array(x)
    assert_array(a.exp(), np.exp(x), rtol=2e-6, atol=1e-6)
    assert_array(a.abs(), np.abs(x))
    assert_array(a.round(2), np.round(x, 2), rtol=1e-6, atol=1e-6)
    assert_array(mx.isnan(mx.array([1.0, float("nan")])), [False, True])


def test_unary_builders_check_dtypes_at_once():
    # Errors found when building need no kernel.
    with pytest.raises(ValueError, match=r"\[negative\]"):
        mx.negative(mx.array([True]))
    with pytest.raises(ValueError, match=r"\[bitwise_invert\]"):
        mx.bitwise_invert(mx.array([1.5]))
    with pytest.raises(ValueError, match=r"\[floor\]"):
        mx.floor(mx.array([1j]))
    assert mx.exp(mx.array([1, 2])).dtype == mx.float32
    assert mx.isnan(mx.array([1.0])).dtype == mx.bool_
    assert mx.abs(mx.array([1j])).dtype == mx.float32


def test_argument_names_match_mlx():
    a = mx.array([[1.0, 2.0]])
    assert mx.reshape(a, shape=(2, 1)).shape == (2, 1)
    assert mx.transpose(a, axes=(1, 0)).shape == (2, 1)
    assert mx.swapaxes(a, axis1=0, axis2=1).shape == (2, 1)
    assert mx.moveaxis(a, source=0, destination=1).shape == (2, 1)
    assert mx.expand_dims(a, axis=0).shape == (1, 1, 2)
    assert mx.squeeze(a, axis=0).shape == (2,)
    assert mx.flatten(a, start_axis=0, end_axis=-1).shape == (2,)
    assert mx.broadcast_to(a, shape=(3, 2)).shape == (3, 2)
    assert mx.full(shape=(2,), vals=1.0, dtype=mx.float32).tolist() == [1.0, 1.0]
    assert mx.zeros(shape=(2,), dtype=mx.int32).tolist() == [0, 0]
    assert mx.eye(n=2, m=3, k=1).shape == (2, 3)
    assert mx.linspace(start=0, stop=1, num=3).tolist() == [0.0, 0.5, 1.0]
    assert mx.add(a=1, b=2).item() == 3
    assert mx.full_like(a=a, vals=3).tolist() == [[3.0, 3.0]]
    assert mx.slice(a, start_indices=mx.array([1]), axes=[1], slice_size=[1, 1]).item() == 2.0
