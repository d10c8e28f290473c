"""`mx.linalg.svd`, `pinv`, `eig` and `eigvals` against numpy.linalg (float64 references) on
random matrices (square, tall, wide, batched, rank-deficient, with complex eigenvalues), in
float32 and float64; the factors reconstruct the input and are orthonormal; against real MLX for
dtypes, shapes and values (singular values, pseudo-inverses, eigenvalues as sets), and errors."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same

RNG = np.random.default_rng(20261205)
SHAPES = [(1, 1), (4, 4), (7, 5), (5, 7), (3, 6, 4), (2, 3, 4, 6), (9, 1), (1, 9)]
DTYPES = ["float32", "float64"]
TOL = {"float32": 3e-5, "float64": 1e-12}


def arr(x, dtype):
    a = mx.array(x.astype(dtype), dtype=getattr(mx, dtype))
    return a, np.array(a).astype(np.float64)


def name(dtype):
    return repr(dtype).split(".")[-1]


def sort_complex(w):
    """Eigenvalues in a canonical order (real part, then imaginary part, rounded)."""
    w = np.asarray(w)
    key = np.round(w.real, 4) * 1e6 + np.round(w.imag, 4)
    return np.take_along_axis(w, np.argsort(key, axis=-1), axis=-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_svd_reconstructs_and_matches_numpy(shape, dtype):
    a, x = arr(RNG.standard_normal(shape), dtype)
    m, n = shape[-2:]
    k = min(m, n)
    u, s, vt = mx.linalg.svd(a)
    assert (u.shape, s.shape, vt.shape) == (shape[:-2] + (m, m), shape[:-2] + (k,),
                                            shape[:-2] + (n, n))
    assert u.dtype == s.dtype == vt.dtype == getattr(mx, dtype)
    U, S, VT = (np.array(t).astype(np.float64) for t in (u, s, vt))
    tol = TOL[dtype] * max(m, n)
    np.testing.assert_allclose(S, np.linalg.svd(x, compute_uv=False), rtol=tol, atol=tol)
    assert np.all(np.diff(S, axis=-1) <= 0), "singular values descend"
    recon = (U[..., :, :k] * S[..., None, :]) @ VT[..., :k, :]
    np.testing.assert_allclose(recon, x, atol=tol * 10)
    eye = lambda d: np.broadcast_to(np.eye(d), shape[:-2] + (d, d))  # noqa: E731
    np.testing.assert_allclose(np.swapaxes(U, -1, -2) @ U, eye(m), atol=tol * 10)
    np.testing.assert_allclose(VT @ np.swapaxes(VT, -1, -2), eye(n), atol=tol * 10)
    only = mx.linalg.svd(a, compute_uv=False)
    assert isinstance(only, mx.array) and only.shape == shape[:-2] + (k,)
    np.testing.assert_allclose(np.array(only), S, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_svd_of_rank_deficient_matrices_keeps_u_orthonormal(dtype):
    b = RNG.standard_normal((6, 2)) @ RNG.standard_normal((2, 5))  # rank 2
    a, x = arr(b, dtype)
    u, s, vt = (np.array(t).astype(np.float64) for t in mx.linalg.svd(a))
    np.testing.assert_allclose(s[2:], 0, atol=TOL[dtype] * 50)
    np.testing.assert_allclose(u.T @ u, np.eye(6), atol=TOL[dtype] * 50)
    np.testing.assert_allclose((u[:, :5] * s) @ vt, x, atol=TOL[dtype] * 50)
    z, _ = arr(np.zeros((3, 4)) + 0.0, dtype)
    u, s, vt = (np.array(t).astype(np.float64) for t in mx.linalg.svd(z))
    np.testing.assert_allclose(s, 0)
    np.testing.assert_allclose(u.T @ u, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 4), (7, 5), (5, 7), (3, 6, 4)])
def test_pinv_matches_numpy(shape, dtype):
    a, x = arr(RNG.standard_normal(shape), dtype)
    got = np.array(mx.linalg.pinv(a)).astype(np.float64)
    np.testing.assert_allclose(got, np.linalg.pinv(x), rtol=1e-3 if dtype == "float32" else 1e-9,
                               atol=1e-4 if dtype == "float32" else 1e-10)
    rank2 = RNG.standard_normal((5, 2)) @ RNG.standard_normal((2, 4))
    a, x = arr(rank2, dtype)
    np.testing.assert_allclose(np.array(mx.linalg.pinv(a)).astype(np.float64),
                               np.linalg.pinv(x, rcond=1e-5), atol=1e-3 if dtype == "float32"
                               else 1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (5, 5), (8, 8), (3, 6, 6), (2, 2, 3, 3)])
def test_eig_matches_numpy_and_satisfies_av_equals_wv(shape, dtype):
    a, x = arr(RNG.standard_normal(shape), dtype)  # general: complex pairs appear
    w, v = mx.linalg.eig(a)
    assert w.dtype == v.dtype == mx.complex64
    assert w.shape == shape[:-1] and v.shape == shape
    W, V = np.array(w).astype(np.complex128), np.array(v).astype(np.complex128)
    want = np.linalg.eigvals(x)
    tol = 2e-4 * shape[-1]
    np.testing.assert_allclose(sort_complex(W), sort_complex(want), atol=tol)
    np.testing.assert_allclose(x @ V, V * W[..., None, :], atol=tol * 4)
    np.testing.assert_allclose(np.linalg.norm(V, axis=-2), 1, atol=1e-5)
    only = np.array(mx.linalg.eigvals(a)).astype(np.complex128)
    np.testing.assert_allclose(sort_complex(only), sort_complex(want), atol=tol)


def test_eig_of_special_matrices():
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i
    w = np.array(mx.linalg.eigvals(mx.array(rot)))
    np.testing.assert_allclose(sort_complex(w), [-1j, 1j], atol=1e-6)
    tri = np.triu(RNG.standard_normal((5, 5))) + np.diag([1.0, 2.0, 3.0, 4.0, 5.0]) * 3
    w, v = mx.linalg.eig(mx.array(tri, dtype=mx.float64))
    np.testing.assert_allclose(sort_complex(np.array(w)), np.sort(np.diag(tri)).astype(complex),
                               atol=1e-5)
    sym = RNG.standard_normal((6, 6))
    sym = sym + sym.T
    w = np.array(mx.linalg.eigvals(mx.array(sym, dtype=mx.float64)))
    np.testing.assert_allclose(np.sort(w.real), np.linalg.eigvalsh(sym), atol=1e-5)
    np.testing.assert_allclose(w.imag, 0, atol=1e-5)
    # A defective (Jordan) block: one eigenvalue twice, still found.
    jordan = np.array([[2.0, 1.0], [0.0, 2.0]])
    np.testing.assert_allclose(np.array(mx.linalg.eigvals(mx.array(jordan))), [2, 2], atol=1e-5)


def test_on_a_second_stream_and_the_gpu_stream(gpu_stream):
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    s = mx.linalg.svd(mx.array(x), compute_uv=False, stream=gpu_stream)
    np.testing.assert_allclose(np.array(s), np.linalg.svd(x, compute_uv=False), rtol=1e-4)
    w = mx.linalg.eigvals(mx.array(x[:4]), stream=gpu_stream)
    np.testing.assert_allclose(sort_complex(np.array(w)), sort_complex(np.linalg.eigvals(x[:4])),
                               atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_match_mlx(dtype, mlx):
    x = RNG.standard_normal((2, 5, 3)).astype(dtype)
    sq = RNG.standard_normal((2, 4, 4)).astype(dtype)
    a, b = mx.array(x, dtype=getattr(mx, dtype)), mlx.array(x, dtype=getattr(mlx, dtype))
    c, d = mx.array(sq, dtype=getattr(mx, dtype)), mlx.array(sq, dtype=getattr(mlx, dtype))
    cpu = mlx.cpu
    u, s, vt = mx.linalg.svd(a)
    mu, ms, mvt = mlx.linalg.svd(b, stream=cpu)
    same(s, ms, rtol=1e-4, atol=1e-4)
    assert u.shape == tuple(mu.shape) and vt.shape == tuple(mvt.shape)
    assert name(u.dtype) == name(mu.dtype) == name(vt.dtype) == name(mvt.dtype)
    same(mx.linalg.svd(a, compute_uv=False), mlx.linalg.svd(b, compute_uv=False, stream=cpu),
         rtol=1e-4, atol=1e-4)
    same(mx.linalg.pinv(a), mlx.linalg.pinv(b, stream=cpu), rtol=1e-3, atol=1e-4)
    if dtype == "float32":  # MLX's eig takes float32 only
        w, v = mx.linalg.eig(c)
        mw, mv = mlx.linalg.eig(d, stream=cpu)
        assert name(w.dtype) == name(mw.dtype) == name(v.dtype) == name(mv.dtype) == "complex64"
        assert v.shape == tuple(mv.shape)
        np.testing.assert_allclose(sort_complex(np.array(w)), sort_complex(np.array(mw)),
                                   atol=1e-4)
        np.testing.assert_allclose(sort_complex(np.array(mx.linalg.eigvals(c))),
                                   sort_complex(np.array(mlx.linalg.eigvals(d, stream=cpu))),
                                   atol=1e-4)


def test_errors_match_mlx(mlx):
    def call(name, shape, dtype="float32"):
        def run(m):
            return getattr(m.linalg, name)(m.ones(shape, dtype=getattr(m, dtype)), stream=m.cpu)
        run.op = name
        return run

    both_raise(call("svd", (3,)), mlx)
    both_raise(call("svd", (3, 3), dtype="int32"), mlx)
    both_raise(call("pinv", (4,)), mlx)
    both_raise(call("eig", (3, 4)), mlx)
    both_raise(call("eigvals", (3,)), mlx)
    both_raise(call("eigvals", (3, 3), dtype="int32"), mlx)
