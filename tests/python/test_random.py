"""`mx.random`: MLX's numbers for a given key (values from mlx.core 0.32.4, the same references
as crates/rill-core/tests/ops/random.rs), distributions' statistics, and arguments."""

import numpy as np
import pytest

import rill.core as mx
from rill.core import random as rill_random


def f32_bits(a):
    return np.array(a).astype(np.float32).view(np.uint32).ravel().tolist()


def test_submodule_is_importable_every_way():
    import rill.core.random as r2
    from rill.core.random import normal

    assert rill_random is mx.random is r2
    assert normal is mx.random.normal


def test_keys_and_splits_equal_mlx():
    assert mx.random.key(0).tolist() == [0, 0]
    assert mx.random.key((1 << 40) + 7).tolist() == [256, 7]
    k0 = mx.random.key(0)
    assert k0.dtype == mx.uint32 and k0.shape == (2,)
    s = mx.random.split(k0)
    assert s.shape == (2, 2)
    assert np.array(s).ravel().tolist() == [4146024105, 967050713, 2718843009, 1272950319]
    s3 = mx.random.split(k0, num=3)
    assert np.array(s3).ravel().tolist() == [
        2467461003, 428148500, 3186719485, 3840466878, 2562233961, 1946702221]


def test_uniform_equals_mlx_bit_for_bit():
    k0 = mx.random.key(0)
    u = mx.random.uniform(shape=(4,), key=k0)
    assert u.dtype == mx.float32
    assert f32_bits(u) == [1064771407, 1046908951, 1059196481, 1050132316]
    v = mx.random.uniform(-2.0, 3.0, (2, 3), key=mx.random.key(42))
    assert v.shape == (2, 3)
    assert f32_bits(v) == [1070798214, 1075192924, 1075258070, 3212150198, 3213397883,
                           1061177848]
    h = mx.random.uniform(shape=[5], dtype=mx.float16, key=k0)
    assert np.array(h).view(np.uint16).tolist() == [14489, 11873, 13898, 15143, 14534]
    # Bounds given as arrays take the same steps (low + (high - low) * u).
    w = mx.random.uniform(mx.array(-2.0), mx.array([3.0, 3.0, 3.0]), (2, 3),
                          key=mx.random.key(42))
    assert f32_bits(w) == f32_bits(v)


def test_uniform_array_bounds_broadcast_and_check_shape():
    lo = mx.array([0.0, 10.0, 20.0])
    x = np.array(mx.random.uniform(lo, lo + 1, (1000, 3), key=mx.random.key(1)))
    assert (x >= np.array([0, 10, 20])).all() and (x < np.array([1, 11, 21])).all()
    with pytest.raises(ValueError, match="uniform"):
        mx.random.uniform(mx.zeros((4,)), 1.0, (3,))
    with pytest.raises(ValueError, match="uniform"):
        mx.random.uniform(1.0, 0.0, (3,))
    with pytest.raises(ValueError, match="uniform"):
        mx.random.uniform(shape=(3,), dtype=mx.int32)


def test_bernoulli_equals_mlx():
    b = mx.random.bernoulli(0.3, (16,), key=mx.random.key(0))
    assert b.dtype == mx.bool_
    assert np.array(b).astype(int).tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0]
    b = mx.random.bernoulli(p=0.7, shape=[16], key=mx.random.key(5))
    assert np.array(b).astype(int).tolist() == [1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0]
    # An array of probabilities: the same threshold per element, and the array's shape.
    p = mx.full((16,), 0.3)
    same = mx.random.bernoulli(p, key=mx.random.key(0))
    assert same.shape == (16,)
    assert np.array(same).astype(int).tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1,
                                                    1, 0]
    assert mx.random.bernoulli().shape == ()
    with pytest.raises(ValueError, match="bernoulli"):
        mx.random.bernoulli(1.5)


def test_bernoulli_array_rates():
    p = mx.array([0.1, 0.5, 0.9])
    x = np.array(mx.random.bernoulli(p, (20000, 3), key=mx.random.key(9)))
    np.testing.assert_allclose(x.mean(axis=0), [0.1, 0.5, 0.9], atol=0.015)


def test_normal_values_and_statistics():
    z = mx.random.normal((5,), key=mx.random.key(0))
    want = [0.1878441572189331, -1.2833421230316162, -0.2710915505886078, 1.2490599155426025,
            0.24447001516819]
    np.testing.assert_allclose(np.array(z), want, rtol=1e-5, atol=1e-6)
    x = np.array(mx.random.normal((200_000,), loc=3.0, scale=2.0, key=mx.random.key(4)))
    assert abs(x.mean() - 3.0) < 0.02 and abs(x.std() - 2.0) < 0.02
    # Array parameters broadcast against the shape.
    y = np.array(mx.random.normal((100_000, 2), loc=mx.array([-5.0, 5.0]),
                                  scale=mx.array([1.0, 0.5]), key=mx.random.key(4)))
    np.testing.assert_allclose(y.mean(axis=0), [-5.0, 5.0], atol=0.02)
    np.testing.assert_allclose(y.std(axis=0), [1.0, 0.5], atol=0.02)
    assert mx.random.normal(dtype=mx.float16).dtype == mx.float16
    with pytest.raises(ValueError, match="normal"):
        mx.random.normal((2,), dtype=mx.int32)


def test_truncated_normal_values_and_bounds():
    z = mx.random.truncated_normal(-1.0, 2.0, (5,), key=mx.random.key(0))
    want = [0.3290429413318634, -0.7054735422134399, -0.04891335591673851, 1.2298583984375,
            0.37723758816719055]
    np.testing.assert_allclose(np.array(z), want, rtol=1e-5, atol=1e-6)
    x = np.array(mx.random.truncated_normal(mx.array(0.5), 1.0, (10000,), key=mx.random.key(2)))
    assert x.min() >= 0.5 and x.max() <= 1.0
    assert mx.random.truncated_normal(0, 1).shape == ()
    with pytest.raises(ValueError, match="truncated_normal"):
        mx.random.truncated_normal(mx.zeros((3,)), 1.0)


def test_randint_range_dtype_and_histogram():
    x = mx.random.randint(-3, 4, (30000,), key=mx.random.key(8))
    assert x.dtype == mx.int32
    v = np.array(x)
    assert v.min() == -3 and v.max() == 3
    counts = np.bincount(v + 3) / v.size
    np.testing.assert_allclose(counts, np.full(7, 1 / 7), atol=0.01)
    assert mx.random.randint(0, 10, [3], dtype=mx.uint8).dtype == mx.uint8
    assert mx.random.randint(mx.array(0), mx.array(5), (4,)).shape == (4,)
    with pytest.raises(ValueError, match="randint"):
        mx.random.randint(5, 5)
    with pytest.raises(ValueError, match="randint"):
        mx.random.randint(0, 1000, dtype=mx.int8)


def test_categorical_shapes_and_frequencies():
    logits = mx.log(mx.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]))
    c = mx.random.categorical(logits, key=mx.random.key(0))
    assert c.shape == (2,) and c.dtype == mx.uint32
    c = mx.random.categorical(logits, num_samples=20000, key=mx.random.key(3))
    assert c.shape == (2, 20000)
    v = np.array(c)
    np.testing.assert_allclose(np.bincount(v[0], minlength=3) / 20000, [0.2, 0.3, 0.5],
                               atol=0.015)
    np.testing.assert_allclose(np.bincount(v[1], minlength=3) / 20000, [0.7, 0.2, 0.1],
                               atol=0.015)
    c = mx.random.categorical(logits, shape=(5000, 2), key=mx.random.key(3))
    assert c.shape == (5000, 2)
    np.testing.assert_allclose(np.bincount(np.array(c)[:, 1], minlength=3) / 5000,
                               [0.7, 0.2, 0.1], atol=0.03)
    # Along axis 0.
    c0 = mx.random.categorical(mx.log(mx.array([[0.999, 0.001], [0.001, 0.999]])), axis=0,
                               num_samples=100, key=mx.random.key(1))
    assert c0.shape == (2, 100)
    assert np.array(c0)[0].mean() < 0.1 and np.array(c0)[1].mean() > 0.9
    with pytest.raises(ValueError, match="categorical"):
        mx.random.categorical(logits, shape=(3,), num_samples=2)
    with pytest.raises(ValueError, match="categorical"):
        mx.random.categorical(logits, shape=(5, 3))


def test_seed_makes_draws_repeatable_and_keys_are_pure():
    mx.random.seed(123)
    a = np.array(mx.random.uniform(shape=(8,)))
    b = np.array(mx.random.uniform(shape=(8,)))
    mx.random.seed(123)
    np.testing.assert_array_equal(np.array(mx.random.uniform(shape=(8,))), a)
    assert not np.array_equal(a, b)
    k = mx.random.key(77)
    np.testing.assert_array_equal(np.array(mx.random.normal((6,), key=k)),
                                  np.array(mx.random.normal((6,), key=k)))


def test_same_key_same_numbers_on_every_stream():
    k = mx.random.key(5)
    s1, s2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    a = mx.random.uniform(shape=(10000,), key=k, stream=s1)
    b = mx.random.uniform(shape=(10000,), key=k, stream=s2)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_bad_keys_raise_value_error():
    with pytest.raises(ValueError):
        mx.random.uniform(shape=(2,), key=mx.array([1, 2, 3], dtype=mx.uint32))
    with pytest.raises(ValueError):
        mx.random.split(mx.array([1.0, 2.0]))


def test_against_real_mlx(mlx):
    """Where real MLX is installed: the same keys give the same numbers."""
    for seed in (0, 3, 99):
        k, mk = mx.random.key(seed), mlx.random.key(seed)
        np.testing.assert_array_equal(np.array(mx.random.split(k, 4)),
                                      np.array(mlx.random.split(mk, 4)))
        np.testing.assert_array_equal(
            f32_bits(mx.random.uniform(-1, 2, (3, 7), key=k)),
            f32_bits(mlx.random.uniform(-1, 2, (3, 7), key=mk)))
        np.testing.assert_array_equal(
            np.array(mx.random.bernoulli(0.4, (50,), key=k)),
            np.array(mlx.random.bernoulli(0.4, (50,), key=mk)))
        p = np.linspace(0.05, 0.95, 50).astype(np.float32)
        np.testing.assert_array_equal(
            np.array(mx.random.bernoulli(mx.array(p), key=k)),
            np.array(mlx.random.bernoulli(mlx.array(p), key=mk)))
        logits = np.random.default_rng(seed).standard_normal((4, 6)).astype(np.float32)
        np.testing.assert_array_equal(
            np.array(mx.random.categorical(mx.array(logits), num_samples=50, key=k)),
            np.array(mlx.random.categorical(mlx.array(logits), num_samples=50, key=mk)))
        np.testing.assert_array_equal(
            np.array(mx.random.categorical(mx.array(logits), axis=0, shape=(3, 7, 6), key=k)),
            np.array(mlx.random.categorical(mlx.array(logits), axis=0, shape=(3, 7, 6),
                                            key=mk)))
        # erfinv is an approximation on both sides: equal within a few float32 ulps.
        np.testing.assert_allclose(
            np.array(mx.random.normal((3, 5), loc=1.0, scale=2.0, key=k)),
            np.array(mlx.random.normal((3, 5), loc=1.0, scale=2.0, key=mk)), rtol=1e-6, atol=2e-6)
