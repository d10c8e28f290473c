"""`mx.linalg` against numpy.linalg (float64 references) on random matrices (square, tall, wide,
batched, 1x1), in float32 and float64; against real MLX for the dtypes and shapes of the results
and the errors it raises; and the errors of bad inputs (non-square, singular, not positive
definite, bad dtypes and axes), whose messages name the op and the shapes."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same

RNG = np.random.default_rng(20261204)

SQUARE = [(1, 1), (4, 4), (7, 7), (3, 5, 5), (2, 3, 6, 6)]
RECT = [(5, 3), (3, 5), (2, 6, 4), (4, 2, 7)]
DTYPES = ["float32", "float64"]
#: (rtol, atol) of results relative to the inputs' magnitude (well-conditioned matrices).
TOL = {"float32": (2e-4, 2e-5), "float64": (1e-10, 1e-11)}


def arr(x, dtype):
    """(rill array, its values as float64): references start from the same rounded inputs."""
    # NumPy's float64 becomes float32 in mx.array (as in MLX) unless asked to stay float64.
    a = mx.array(x.astype(dtype), dtype=getattr(mx, dtype))
    return a, np.array(a).astype(np.float64)


def well_conditioned(shape):
    """Random square matrices whose condition number stays small."""
    n = shape[-1]
    return RNG.standard_normal(shape) + n * np.eye(n)


def spd(shape):
    x = RNG.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def close(got, want, dtype, scale=1.0):
    assert repr(got.dtype).split(".")[-1] == dtype, (got.dtype, dtype)
    g = np.array(got)
    assert g.shape == np.shape(want), (g.shape, np.shape(want))
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(g, want, rtol=rtol, atol=atol * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE)
def test_inverse_solve_and_determinants_match_numpy(shape, dtype):
    a, x = arr(well_conditioned(shape), dtype)
    close(mx.linalg.inv(a), np.linalg.inv(x), dtype)
    sign, logdet = np.linalg.slogdet(x)
    s, ld = mx.linalg.slogdet(a)
    close(s, sign, dtype)
    close(ld, logdet, dtype, scale=10)
    close(mx.linalg.det(a), np.linalg.det(x), dtype, scale=np.abs(np.linalg.det(x)).max())
    n = shape[-1]
    b, y = arr(RNG.standard_normal(shape[:-1] + (3,)), dtype)
    close(mx.linalg.solve(a, b), np.linalg.solve(x, y), dtype)
    v, w = arr(RNG.standard_normal((n,)), dtype)
    close(mx.linalg.solve(a, v), np.linalg.solve(x, w[..., None])[..., 0], dtype)
    # Batch dims broadcast: one right-hand side for every matrix.
    b1, y1 = arr(RNG.standard_normal((n, 2)), dtype)
    close(mx.linalg.solve(a, b1), np.linalg.solve(x, np.broadcast_to(y1, shape[:-1] + (2,))),
          dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE)
def test_triangular_and_cholesky_match_numpy(shape, dtype):
    a, x = arr(well_conditioned(shape), dtype)
    lo, up = np.tril(x), np.triu(x)
    close(mx.linalg.tri_inv(a), np.linalg.inv(lo), dtype)
    close(mx.linalg.tri_inv(a, upper=True), np.linalg.inv(up), dtype)
    b, y = arr(RNG.standard_normal(shape[:-1] + (2,)), dtype)
    close(mx.linalg.solve_triangular(a, b), np.linalg.solve(lo, y), dtype)
    close(mx.linalg.solve_triangular(a, b, upper=True), np.linalg.solve(up, y), dtype)
    s, z = arr(spd(shape), dtype)
    want = np.linalg.cholesky(z)
    close(mx.linalg.cholesky(s), want, dtype, scale=10)
    close(mx.linalg.cholesky(s, upper=True), np.swapaxes(want, -1, -2), dtype, scale=10)
    # Only the named triangle is read.
    junk = arr(np.triu(RNG.standard_normal(shape), 1), dtype)[0]
    close(mx.linalg.cholesky(mx.tril(s) + junk), want, dtype, scale=10)
    lfac = mx.linalg.cholesky(s)
    close(mx.linalg.cholesky_inv(lfac), np.linalg.inv(z), dtype)
    close(mx.linalg.cholesky_inv(mx.linalg.cholesky(s, upper=True), upper=True),
          np.linalg.inv(z), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE + RECT)
def test_qr_and_lu_reconstruct_and_match_numpy(shape, dtype):
    a, x = arr(RNG.standard_normal(shape), dtype)
    m, n = shape[-2:]
    k = min(m, n)
    q, r = mx.linalg.qr(a)
    assert q.shape == shape[:-2] + (m, k) and r.shape == shape[:-2] + (k, n)
    wq, wr = np.linalg.qr(x)
    # LAPACK's reflections: the same signs as NumPy.
    close(q, wq, dtype, scale=10)
    close(r, wr, dtype, scale=10)
    qn, rn = np.array(q).astype(np.float64), np.array(r).astype(np.float64)
    np.testing.assert_allclose(qn @ rn, x, atol=TOL[dtype][1] * 20)
    np.testing.assert_allclose(np.swapaxes(qn, -1, -2) @ qn, np.broadcast_to(np.eye(k), qn.shape[:-2] + (k, k)),
                               atol=TOL[dtype][1] * 20)
    assert np.all(np.tril(rn, -1) == 0)

    p, lo, up = mx.linalg.lu(a)
    assert p.dtype == mx.uint32 and p.shape == shape[:-1]
    assert lo.shape == shape[:-2] + (m, k) and up.shape == shape[:-2] + (k, n)
    pn, ln, un = np.array(p), np.array(lo).astype(np.float64), np.array(up).astype(np.float64)
    recon = np.take_along_axis(ln, pn[..., None].astype(np.int64), axis=-2) @ un
    np.testing.assert_allclose(recon, x, atol=TOL[dtype][1] * 20)
    assert np.all(np.abs(np.tril(ln, -1)) <= 1 + 1e-6)  # partial pivoting
    np.testing.assert_array_equal(np.diagonal(ln, axis1=-2, axis2=-1), 1)
    assert np.all(np.triu(ln, 1) == 0) and np.all(np.tril(un, -1) == 0)

    packed, piv = mx.linalg.lu_factor(a)
    assert piv.dtype == mx.uint32 and piv.shape == shape[:-2] + (k,)
    pk = np.array(packed).astype(np.float64)
    np.testing.assert_allclose(np.tril(pk, -1)[..., :, :k], np.tril(ln, -1), atol=1e-6)
    np.testing.assert_allclose(np.triu(pk)[..., :k, :], un, atol=1e-6)
    # The pivots, applied as LAPACK's row swaps, give the permutation of `lu`.
    pv = np.array(piv).reshape(-1, k)
    for b, swaps in enumerate(pv):
        perm = list(range(m))
        for i, j in enumerate(swaps):
            perm[i], perm[j] = perm[j], perm[i]
        inv = np.argsort(perm)
        np.testing.assert_array_equal(inv, pn.reshape(-1, m)[b])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SQUARE + [(12, 12)])
def test_eigh_matches_numpy(shape, dtype):
    s, z = arr(spd(shape) - shape[-1] * 1.5 * np.eye(shape[-1]), dtype)  # mixed signs
    w, v = np.linalg.eigh(z)
    gw, gv = mx.linalg.eigh(s)
    close(gw, w, dtype, scale=10)
    close(mx.linalg.eigvalsh(s), w, dtype, scale=10)
    close(mx.linalg.eigvalsh(s, UPLO="U"), w, dtype, scale=10)
    vn = np.array(gv).astype(np.float64)
    # Eigenvectors up to sign: A v = w v, and orthonormal.
    np.testing.assert_allclose(z @ vn, vn * np.array(gw)[..., None, :], atol=TOL[dtype][1] * 200)
    n = shape[-1]
    np.testing.assert_allclose(np.swapaxes(vn, -1, -2) @ vn,
                               np.broadcast_to(np.eye(n), vn.shape), atol=TOL[dtype][1] * 20)
    # The other triangle is ignored.
    junk = arr(np.triu(RNG.standard_normal(shape), 1), dtype)[0]
    close(mx.linalg.eigh(mx.tril(s) + junk)[0], w, dtype, scale=10)
    close(mx.linalg.eigh(mx.triu(s) + mx.swapaxes(junk, -1, -2), UPLO="U")[0], w, dtype,
          scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norms_match_numpy(dtype):
    x = RNG.standard_normal((3, 4, 5))
    a, xr = arr(x, dtype)
    close(mx.linalg.norm(a), np.linalg.norm(xr.ravel()), dtype)
    close(mx.linalg.norm(a, keepdims=True), np.linalg.norm(xr.ravel()).reshape(1, 1, 1), dtype)
    for ord_ in (None, 1, 2, -1, -2, np.inf, -np.inf, 0, 3, 0.5):
        for axis in (0, -1, 1):
            close(mx.linalg.norm(a, ord_, axis), np.linalg.norm(xr, ord_, axis), dtype,
                  scale=10)
        close(mx.linalg.norm(a, ord_, (1,), keepdims=True),
              np.linalg.norm(xr, ord_, 1, keepdims=True), dtype, scale=10)
        v = xr[0, 0]
        close(mx.linalg.norm(a[0, 0], ord_), np.linalg.norm(v, ord_), dtype, scale=10)
    for ord_ in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        for axes in ((1, 2), (2, 0), (-1, -2)):
            close(mx.linalg.norm(a, ord_, axes), np.linalg.norm(xr, ord_, axes), dtype, scale=10)
        close(mx.linalg.norm(a, ord_, (0, 1), keepdims=True),
              np.linalg.norm(xr, ord_, (0, 1), keepdims=True), dtype, scale=10)
        close(mx.linalg.norm(a[1], ord_), np.linalg.norm(xr[1], ord_), dtype, scale=10)


def test_norm_dtypes():
    assert mx.linalg.norm(mx.array([3, 4])).dtype == mx.float32
    assert mx.linalg.norm(mx.array([3, 4])).item() == 5
    c = mx.array(np.array([3 + 4j, 1j], dtype=np.complex64))
    assert c.dtype == mx.complex64
    n = mx.linalg.norm(c)
    assert n.dtype == mx.float32 and abs(n.item() - np.sqrt(26)) < 1e-5
    assert mx.linalg.norm(mx.ones(4, dtype=mx.float16)).dtype == mx.float16


def test_cross_matches_numpy():
    for dtype in ("float32", "float64", "int32"):
        x = RNG.integers(-5, 6, (4, 3)).astype(dtype)
        y = RNG.integers(-5, 6, (3,)).astype(dtype)
        got = mx.linalg.cross(mx.array(x, dtype=getattr(mx, dtype)),
                              mx.array(y, dtype=getattr(mx, dtype)))
        assert repr(got.dtype).split(".")[-1] == dtype
        np.testing.assert_array_equal(np.array(got), np.cross(x, y))
    x = RNG.standard_normal((3, 2, 4)).astype(np.float32)
    y = RNG.standard_normal((3, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(np.array(mx.linalg.cross(mx.array(x), mx.array(y), axis=0)),
                               np.cross(x, y, axis=0), rtol=1e-5, atol=1e-6)
    # 2-vectors are taken with a zero third component (MLX gives 3 components).
    x2, y2 = RNG.standard_normal((5, 2)), RNG.standard_normal((5, 2))
    want = np.cross(np.pad(x2, ((0, 0), (0, 1))), np.pad(y2, ((0, 0), (0, 1))))
    np.testing.assert_allclose(
        np.array(mx.linalg.cross(mx.array(x2, dtype=mx.float64), mx.array(y2, dtype=mx.float64))),
        want, rtol=1e-12)


def test_streams_and_devices():
    a, x = arr(well_conditioned((3, 4, 4)), "float32")
    close(mx.linalg.inv(a, stream=mx.cpu), np.linalg.inv(x), "float32")
    close(mx.linalg.inv(a, stream=mx.new_stream(mx.cpu)), np.linalg.inv(x), "float32")
    if mx.is_available(mx.gpu):
        # No CUDA kernels: a GPU stream runs the CPU's on copies (where MLX asks for stream=cpu).
        close(mx.linalg.inv(a, stream=mx.gpu), np.linalg.inv(x), "float32")
        close(mx.linalg.eigh(a @ mx.swapaxes(a, -1, -2), stream=mx.gpu)[0],
              np.linalg.eigh(x @ np.swapaxes(x, -1, -2))[0], "float32", scale=10)


def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"\[inv\].*square.*\[2, 5, 3\]"):
        mx.linalg.inv(mx.ones((2, 5, 3)))
    with pytest.raises(ValueError, match=r"\[det\].*square.*\[5, 3\]"):
        mx.linalg.det(mx.ones((5, 3)))
    with pytest.raises(ValueError, match=r"\[qr\].*at least 2 dimensions.*\[3\]"):
        mx.linalg.qr(mx.ones(3))
    with pytest.raises(ValueError, match=r"\[cholesky\].*float32 or float64.*int32.*\[3, 3\]"):
        mx.linalg.cholesky(mx.eye(3, dtype=mx.int32))
    with pytest.raises(ValueError, match=r"\[eigh\].*float16"):
        mx.linalg.eigh(mx.eye(3, dtype=mx.float16))
    with pytest.raises(ValueError, match=r"\[eigvalsh\].*complex64.*not supported"):
        mx.linalg.eigvalsh(mx.eye(3).astype(mx.complex64))
    with pytest.raises(ValueError, match=r"\[eigh\].*UPLO"):
        mx.linalg.eigh(mx.eye(3), UPLO="X")
    with pytest.raises(ValueError, match=r"\[solve\].*\[2, 4, 4\].*\[2, 4\]"):
        mx.linalg.solve(mx.ones((2, 4, 4)), mx.ones((2, 4)))
    with pytest.raises(ValueError, match=r"\[solve_triangular\].*\[4, 4\].*\[5\]"):
        mx.linalg.solve_triangular(mx.eye(4), mx.ones(5))
    with pytest.raises(ValueError, match=r"\[solve\].*int32"):
        mx.linalg.solve(mx.eye(3, dtype=mx.int32), mx.ones(3))
    with pytest.raises(ValueError, match=r"\[cross\].*2 or 3 components.*\[2, 4\]"):
        mx.linalg.cross(mx.ones((2, 4)), mx.ones(4))
    with pytest.raises(ValueError, match=r"\[cross\].*axis 2"):
        mx.linalg.cross(mx.ones((2, 3)), mx.ones(3), axis=2)
    with pytest.raises(ValueError, match=r"\[norm\].*'fro'.*1 axis"):
        mx.linalg.norm(mx.ones(4), "fro")
    with pytest.raises(ValueError, match=r"\[norm\].*invalid ord 3 .*matrix.*\[3, 4\]"):
        mx.linalg.norm(mx.ones((3, 4)), 3)
    with pytest.raises(ValueError, match=r"\[norm\].*too many axes.*\[2, 3, 4\]"):
        mx.linalg.norm(mx.ones((2, 3, 4)), 2)
    with pytest.raises(ValueError, match=r"\[norm\].*invalid ord \"max\""):
        mx.linalg.norm(mx.ones(4), "max")
    with pytest.raises(ValueError, match=r"\[det\].*complex"):
        mx.linalg.det(mx.eye(2).astype(mx.complex64))


def test_singular_and_indefinite_matrices_fail_when_evaluated():
    # Found by the kernel: the error names the op, the matrix in the batch and the shape.
    a = mx.stack([mx.eye(3), mx.zeros((3, 3))])
    x = mx.linalg.inv(a)
    with pytest.raises(RuntimeError, match=r"\[inv\] matrix 1 of the input of shape \[2, 3, 3\] "
                                           r"is singular"):
        mx.eval(x)
    with pytest.raises(RuntimeError, match=r"\[solve\].*singular"):
        mx.linalg.solve(mx.zeros((2, 2)), mx.ones(2)).tolist()
    with pytest.raises(RuntimeError, match=r"\[tri_inv\].*matrix 0.*\[3, 3\].*singular"):
        mx.linalg.tri_inv(mx.triu(mx.ones((3, 3)), 1)).tolist()
    with pytest.raises(RuntimeError, match=r"\[cholesky\].*not positive definite"):
        mx.linalg.cholesky(-mx.eye(3)).tolist()
    # A singular matrix has determinant 0 and slogdet (0, -inf), as NumPy.
    assert mx.linalg.det(mx.ones((3, 3))).item() == 0
    s, ld = mx.linalg.slogdet(mx.zeros((2, 2)))
    assert s.item() == 0 and ld.item() == -np.inf
    # Integers are computed as float32, as MLX.
    d = mx.linalg.det(mx.array([[2, 1], [1, 3]]))
    assert d.dtype == mx.float32 and abs(d.item() - 5) < 1e-5
    # lu_factor of a singular matrix completes (LAPACK's getrf does; the zero pivot stays).
    packed, _ = mx.linalg.lu_factor(mx.zeros((2, 2)))
    assert np.array(packed).tolist() == [[0, 0], [0, 0]]


# ---------------------------------------------------------------- against real MLX

@pytest.mark.parametrize("dtype", DTYPES)
def test_results_match_mlx(dtype, mlx):
    x = well_conditioned((2, 4, 4)).astype(dtype)
    r = RNG.standard_normal((2, 5, 3)).astype(dtype)
    z = spd((2, 4, 4)).astype(dtype)
    a, b = mx.array(x, dtype=getattr(mx, dtype)), mlx.array(x, dtype=getattr(mlx, dtype))
    ra, rb = mx.array(r, dtype=getattr(mx, dtype)), mlx.array(r, dtype=getattr(mlx, dtype))
    za, zb = mx.array(z, dtype=getattr(mx, dtype)), mlx.array(z, dtype=getattr(mlx, dtype))
    cpu = mlx.cpu
    tol = dict(rtol=2e-4, atol=2e-4)
    same(mx.linalg.inv(a), mlx.linalg.inv(b, stream=cpu), **tol)
    same(mx.linalg.tri_inv(a, upper=True), mlx.linalg.tri_inv(b, upper=True, stream=cpu), **tol)
    same(mx.linalg.det(a), mlx.linalg.det(b, stream=cpu), rtol=1e-3)
    same(mx.linalg.slogdet(a), mlx.linalg.slogdet(b, stream=cpu), **tol)
    same(mx.linalg.cholesky(za), mlx.linalg.cholesky(zb, stream=cpu), **tol)
    same(mx.linalg.cholesky_inv(mx.linalg.cholesky(za)),
         mlx.linalg.cholesky_inv(mlx.linalg.cholesky(zb, stream=cpu), stream=cpu), **tol)
    same(mx.linalg.qr(ra), mlx.linalg.qr(rb, stream=cpu), **tol)
    same(mx.linalg.lu(ra), mlx.linalg.lu(rb, stream=cpu), **tol)
    same(mx.linalg.lu_factor(a), mlx.linalg.lu_factor(b, stream=cpu), **tol)
    same(mx.linalg.eigvalsh(za), mlx.linalg.eigvalsh(zb, stream=cpu), rtol=1e-3, atol=1e-3)
    w, v = mx.linalg.eigh(za)
    mw, mv = mlx.linalg.eigh(zb, stream=cpu)
    same(w, mw, rtol=1e-3, atol=1e-3)
    assert v.dtype == getattr(mx, dtype)
    assert v.shape == tuple(mv.shape)
    same(mx.linalg.solve(a, ra[:, :4, :2]), mlx.linalg.solve(b, rb[:, :4, :2], stream=cpu), **tol)
    same(mx.linalg.solve_triangular(a, ra[0, :4, 0], upper=True),
         mlx.linalg.solve_triangular(b, rb[0, :4, 0], upper=True, stream=cpu), **tol)
    for ord_, axis in [(None, None), (2, -1), (np.inf, (2, 1)), ("fro", (1, 2)), (-1, (0, 2)),
                       ("nuc", (1, 2)), (2, (1, 2)), (0, 1), (0.5, 2)]:
        same(mx.linalg.norm(a, ord_, axis), mlx.linalg.norm(b, ord_, axis, stream=cpu),
             rtol=1e-3, atol=1e-3)
    same(mx.linalg.cross(ra[..., :3, :], ra[..., 1:4, :], axis=-2),
         mlx.linalg.cross(rb[..., :3, :], rb[..., 1:4, :], axis=-2), **tol)


def test_errors_match_mlx(mlx):
    def call(name, *shapes, dtype="float32", **kwargs):
        def run(m):
            args = [m.ones(s, dtype=getattr(m, dtype)) for s in shapes]
            return getattr(m.linalg, name)(*args, stream=m.cpu, **kwargs)
        run.op = name
        return run

    both_raise(call("inv", (2, 5, 3)), mlx)
    both_raise(call("inv", (3,)), mlx)
    both_raise(call("inv", (3, 3), dtype="int32"), mlx)
    both_raise(call("qr", (3, 3), dtype="float16"), mlx)
    both_raise(call("cholesky", (3, 4)), mlx)
    both_raise(call("det", (3, 4)), mlx)
    both_raise(call("slogdet", (3, 4)), mlx)
    both_raise(call("eigh", (3, 4)), mlx)
    both_raise(call("eigvalsh", (3,)), mlx)
    both_raise(call("lu", (3,)), mlx)
    both_raise(call("lu_factor", (3, 3), dtype="int32"), mlx)
    both_raise(call("solve", (2, 4, 4), (2, 4)), mlx)
    both_raise(call("solve_triangular", (4, 4), (5,)), mlx)
    both_raise(call("norm", (2, 3, 4), ord=2), mlx)
    both_raise(call("norm", (4,), ord="fro"), mlx)
    both_raise(call("norm", (3, 4), ord=3), mlx)
    both_raise(call("tri_inv", (3, 4)), mlx)
    both_raise(call("cholesky_inv", (3, 4)), mlx)
    # A singular matrix: MLX raises RuntimeError when it runs; rill too.
    with pytest.raises(RuntimeError):
        mlx.eval(mlx.linalg.inv(mlx.zeros((3, 3)), stream=mlx.cpu))
    with pytest.raises(RuntimeError, match=r"\[inv\]"):
        mx.eval(mx.linalg.inv(mx.zeros((3, 3))))
