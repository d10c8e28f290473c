"""mx.linalg.norm's matrix norms made of singular values (ord 2, -2 and 'nuc') against
numpy.linalg.norm in float64, on random and ill-conditioned matrices: read off the singular
values, they keep the small ones that the eigenvalues of AᵀA would lose."""

import numpy as np
import pytest

import rill.core as mx


def ill_conditioned(rng, m, n, condition):
    """A random m x n matrix whose singular values span `condition` (log-spaced)."""
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    k = min(m, n)
    s = np.logspace(0, -np.log10(condition), k)
    return (u[:, :k] * s) @ v[:, :k].T


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
@pytest.mark.parametrize("shape", [(5, 5), (7, 4), (3, 6)])
def test_random_matrices_against_numpy(rng, ord, shape):
    for dtype, rtol in (("float32", 2e-5), ("float64", 1e-12)):
        x = rng.standard_normal(shape)
        a = mx.array(x, dtype=mx.float64).astype(getattr(mx, dtype))
        xr = np.array(a.astype(mx.float64))
        got = mx.linalg.norm(a, ord)
        assert got.dtype == getattr(mx, dtype)
        np.testing.assert_allclose(np.array(got), np.linalg.norm(xr, ord), rtol=rtol)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_ill_conditioned_matrices(rng, ord):
    """Condition 1e6 in float32 and 1e12 in float64: the smallest singular value (-2) is within
    a few rounding errors of the largest (a backward-stable SVD's bound: 1e-6 * n * eps), where
    sqrt(eigvalsh(AᵀA)) is off by sqrt(eps) of it (3e-4 in float32, 1e-8 in float64)."""
    for dtype, condition, eps in (("float32", 1e6, 2.0 ** -24), ("float64", 1e12, 2.0 ** -53)):
        x = ill_conditioned(rng, 6, 6, condition)
        a = mx.array(x, dtype=mx.float64).astype(getattr(mx, dtype))
        xr = np.array(a.astype(mx.float64))
        want = np.linalg.norm(xr, ord)
        largest = np.linalg.norm(xr, 2)
        np.testing.assert_allclose(np.array(mx.linalg.norm(a, ord)), want, rtol=1e-6,
                                   atol=8 * 6 * eps * largest)


def test_axes_keepdims_batches_and_other_dtypes(rng):
    x = rng.standard_normal((3, 4, 5))
    a = mx.array(x, dtype=mx.float64)
    for ord in (2, -2, "nuc"):
        for axis in ((1, 2), (2, 1), (0, 2), (-1, 0)):
            want = np.linalg.norm(x, ord, axis)
            np.testing.assert_allclose(np.array(mx.linalg.norm(a, ord, axis)), want, rtol=1e-12)
            kept = mx.linalg.norm(a, ord, axis, keepdims=True)
            np.testing.assert_allclose(np.array(kept),
                                       np.linalg.norm(x, ord, axis, keepdims=True), rtol=1e-12)
    # Integer input gives float32, half precision keeps its dtype, as MLX.
    ints = rng.integers(-5, 6, (4, 4))
    got = mx.linalg.norm(mx.array(ints.astype(np.int32)), 2)
    assert got.dtype == mx.float32
    np.testing.assert_allclose(np.array(got), np.linalg.norm(ints, 2), rtol=2e-5)
    half = mx.array(x[0].astype(np.float32)).astype(mx.float16)
    got = mx.linalg.norm(half, "nuc")
    assert got.dtype == mx.float16
    np.testing.assert_allclose(np.array(got.astype(mx.float32)),
                               np.linalg.norm(np.array(half.astype(mx.float32)), "nuc"),
                               rtol=2e-3)
    # A vector's 2-norm is not a matrix norm.
    v = rng.standard_normal(7)
    np.testing.assert_allclose(np.array(mx.linalg.norm(mx.array(v, dtype=mx.float64), 2)),
                               np.linalg.norm(v, 2), rtol=1e-12)
    assert mx.matrix_norm is mx.linalg.norm or np.allclose(
        np.array(mx.matrix_norm(a[0], -2)), np.linalg.norm(x[0], -2))


def test_against_mlx(mlx, rng):
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    for ord in (2, -2, "nuc"):
        got = mx.linalg.norm(mx.array(x), ord, (1, 2))
        want = mlx.linalg.norm(mlx.array(x), ord, (1, 2))
        assert got.dtype == mx.float32 and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5)
    for f in (lambda m: m.linalg.norm(m.array(x), "nuc"),
              lambda m: m.linalg.norm(m.array(x[0, 0]), "nuc")):
        with pytest.raises(Exception):
            f(mlx)
        with pytest.raises(ValueError):
            f(mx)
