"""Shapes whose element count or byte size overflows are refused by every op that makes one,
at once, naming the op and the shape (issue 8, item 1)."""

import numpy as np
import pytest

import rill.core as mx

BIG = 2**32


@pytest.mark.parametrize(
    "name, make",
    [
        ("ones", lambda: mx.ones((BIG, BIG))),
        ("zeros", lambda: mx.zeros((2**62,))),
        ("full", lambda: mx.full((BIG, BIG), 1.0)),
        ("broadcast_to", lambda: mx.broadcast_to(mx.array(1.0), (BIG, BIG))),
        ("uniform", lambda: mx.random.uniform(shape=(BIG, BIG))),
        ("normal", lambda: mx.random.normal((BIG, BIG))),
        ("randint", lambda: mx.random.randint(0, 3, (BIG, BIG))),
        ("bernoulli", lambda: mx.random.bernoulli(0.5, (BIG, BIG, BIG))),
        ("eye", lambda: mx.eye(BIG)),
        ("tile", lambda: mx.tile(mx.array([1.0]), 2**62)),
        ("repeat", lambda: mx.repeat(mx.array([1.0, 2.0]), 2**62, axis=0)),
        ("pad", lambda: mx.pad(mx.zeros((2, 2)), 2**62)),
        ("arange", lambda: mx.arange(0, 2**62)),
    ],
)
def test_every_shape_making_op_refuses_a_shape_too_large_to_exist(name, make):
    with pytest.raises(mx.ShapeOverflowError) as e:
        make()
    msg = str(e.value)
    assert msg.startswith(f"[{name}]"), msg
    assert "too large to exist" in msg, msg
    # Code written for either exception catches it: the ValueError, MLX's OverflowError.
    assert isinstance(e.value, ValueError) and isinstance(e.value, OverflowError)


def test_the_size_error_names_the_shape():
    with pytest.raises(ValueError, match=r"\[ones\] an array of shape \[4294967296, 4294967296\]"):
        mx.ones((BIG, BIG))


def test_a_dim_past_64_bits_raises_overflow_error_as_mlx(mlx):
    with pytest.raises(OverflowError):
        mx.ones((2**64,))
    # MLX 0.32.4 refuses it too, though as a RuntimeError (std::bad_cast).
    with pytest.raises((OverflowError, RuntimeError)):
        mlx.ones((2**64,))


def test_large_shapes_that_fit_are_built_lazily_with_their_exact_size(rng):
    # Random shapes whose element count fits: the size is the exact product, never wrapped.
    for _ in range(50):
        dims = [int(2 ** rng.integers(0, 20)) for _ in range(rng.integers(1, 4))]
        a = mx.zeros(dims, dtype=mx.uint8)
        assert a.size == int(np.prod(dims, dtype=object))
        assert a.nbytes == a.size


def test_empty_shapes_with_huge_dims_are_fine():
    a = mx.zeros((BIG, BIG, 0))
    assert a.size == 0 and a.shape == (BIG, BIG, 0)
    assert a.sum().item() == 0.0
