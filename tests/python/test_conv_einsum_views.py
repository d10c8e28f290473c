"""Issue 10's convolutions, einsum and smaller ops against float64 references computed here
(a direct convolution loop, numpy.einsum, numpy's view/as_strided/unique) on random inputs of
several dtypes, and against real MLX for the values, dtypes and shapes of the results and the
errors it raises: conv1d/2d/3d, conv_general, conv_transpose1d/2d/3d, convolve, einsum,
einsum_path, real, imag, conj, view, as_strided, slice_update, unique, minmax, printoptions,
random.multivariate_normal and mx.distributed."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same

RNG = np.random.default_rng(20261203)
CONV_DTYPES = {"float32": (2e-5, 2e-5), "float16": (2e-2, 2e-2), "bfloat16": (8e-2, 8e-2),
               "float64": (1e-12, 1e-12)}


def rounded(x, dtype):
    """(rill array of `x` in `dtype`, its values as float64)."""
    a = mx.array(np.asarray(x, np.float64), dtype=mx.float64).astype(getattr(mx, dtype))
    return a, np.array(a.astype(mx.float64))


def conv_reference(x, w, stride, lo, hi, kdil, idil, groups, flip):
    """The general convolution by its definition, in float64: dilate and pad the input, then
    sum every tap of every channel of the group."""
    d = x.ndim - 2
    shape = [x.shape[0]] + [(x.shape[i + 1] - 1) * idil[i] + 1 + lo[i] + hi[i] for i in range(d)]
    padded = np.zeros(shape + [x.shape[-1]])
    index = (slice(None),) + tuple(slice(lo[i], lo[i] + (x.shape[i + 1] - 1) * idil[i] + 1, idil[i])
                                   for i in range(d))
    padded[index] = x
    if flip:
        w = np.flip(w, axis=tuple(range(1, d + 1)))
    k = w.shape[1:-1]
    out_sp = [(shape[i + 1] - ((k[i] - 1) * kdil[i] + 1)) // stride[i] + 1 for i in range(d)]
    cout, cig = w.shape[0], w.shape[-1]
    cog = cout // groups
    out = np.zeros([x.shape[0]] + out_sp + [cout])
    for tap in np.ndindex(*k):
        sl = (slice(None),) + tuple(
            slice(tap[i] * kdil[i], tap[i] * kdil[i] + (out_sp[i] - 1) * stride[i] + 1, stride[i])
            for i in range(d))
        window = padded[sl]
        for g in range(groups):
            xin = window[..., g * cig:(g + 1) * cig]
            wg = w[(slice(g * cog, (g + 1) * cog),) + tap]
            out[..., g * cog:(g + 1) * cog] += xin @ wg.T
    return out


CONV_CASES = [
    # (input shape, weight shape, stride, lo, hi, kernel dilation, input dilation, groups, flip)
    ((2, 9, 4), (6, 3, 4), [1], [0], [0], [1], [1], 1, False),
    ((2, 10, 4), (6, 3, 2), [2], [1], [2], [2], [1], 2, True),
    ((1, 5, 3), (2, 2, 3), [1], [1], [0], [1], [3], 1, False),
    ((2, 7, 6, 4), (5, 3, 2, 4), [2, 1], [1, 0], [0, 2], [1, 2], [2, 1], 1, True),
    ((1, 4, 3, 5, 4), (6, 2, 2, 3, 2), [1, 2, 1], [1, 0, 1], [1, 1, 0], [1, 1, 2], [1, 2, 1], 2,
     False),
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
@pytest.mark.parametrize("dtype", sorted(CONV_DTYPES))
def test_conv_general_against_a_direct_loop(case, dtype):
    xs, ws, stride, lo, hi, kdil, idil, groups, flip = CONV_CASES[case]
    x, xf = rounded(RNG.standard_normal(xs), dtype)
    w, wf = rounded(RNG.standard_normal(ws), dtype)
    want = conv_reference(xf, wf, stride, lo, hi, kdil, idil, groups, flip)
    got = mx.conv_general(x, w, stride=stride, padding=(lo, hi), kernel_dilation=kdil,
                          input_dilation=idil, groups=groups, flip=flip)
    assert got.dtype == getattr(mx, dtype) and got.shape == want.shape
    rtol, atol = CONV_DTYPES[dtype]
    scale = np.abs(want).max()
    np.testing.assert_allclose(np.array(got.astype(mx.float64)), want, rtol=rtol,
                               atol=atol * scale)


def test_conv_nd_and_transposes_match_mlx(mlx):
    for d, (f, ft) in enumerate([("conv1d", "conv_transpose1d"), ("conv2d", "conv_transpose2d"),
                                 ("conv3d", "conv_transpose3d")], start=1):
        xs = (2,) + (7, 6, 5)[:d] + (4,)
        # MLX refuses groups in 3-D (rill's loop has no such limit; the direct-loop test covers it).
        for groups in ((1, 2) if d < 3 else (1,)):
            ws = (6,) + (3, 2, 2)[:d] + (4 // groups,)
            x = RNG.standard_normal(xs).astype(np.float32)
            w = RNG.standard_normal(ws).astype(np.float32)
            for kw in ({}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2},
                       {"stride": [2, 1, 1][:d] if d > 1 else 2, "padding": 1, "dilation": 1}):
                same(getattr(mx, f)(mx.array(x), mx.array(w), groups=groups, **kw),
                     getattr(mlx, f)(mlx.array(x), mlx.array(w), groups=groups, **kw),
                     rtol=1e-4, atol=1e-4)
            if groups == 1:
                wt = RNG.standard_normal((5,) + ws[1:-1] + (4,)).astype(np.float32)
                for kw in ({}, {"stride": 2, "padding": 1, "output_padding": 1},
                           {"dilation": 2, "stride": 3}):
                    same(getattr(mx, ft)(mx.array(x), mx.array(wt), **kw),
                         getattr(mlx, ft)(mlx.array(x), mlx.array(wt), **kw),
                         rtol=1e-4, atol=1e-4)
    # Mixed dtypes promote; float64 runs on the CPU.
    x = RNG.standard_normal((1, 6, 2))
    w = RNG.standard_normal((3, 2, 2))
    same(mx.conv1d(mx.array(x, mx.float16), mx.array(w, mx.float32)),
         mlx.conv1d(mlx.array(x, mlx.float16), mlx.array(w, mlx.float32)), rtol=2e-3, atol=2e-3)
    same(mx.conv1d(mx.array(x, mx.float64), mx.array(w, mx.float64)),
         mlx.conv1d(mlx.array(x, mlx.float64), mlx.array(w, mlx.float64), stream=mlx.cpu),
         rtol=1e-6, atol=1e-6)  # MLX's float64 result carries float32 rounding


def test_convolve_matches_numpy_and_mlx(mlx):
    for n, m in [(9, 3), (4, 7), (5, 5), (1, 1)]:
        a = RNG.standard_normal(n).astype(np.float32)
        v = RNG.integers(-5, 5, m).astype(np.float32)
        for mode in ("full", "same", "valid"):
            got = mx.convolve(mx.array(a), mx.array(v), mode=mode)
            np.testing.assert_allclose(np.array(got), np.convolve(a.astype(np.float64), v, mode),
                                       rtol=1e-5, atol=1e-5)
            same(got, mlx.convolve(mlx.array(a), mlx.array(v), mode=mode), rtol=1e-5, atol=1e-5)
    # Integer inputs: MLX refuses them ("only supports floating point types"), and so does rill.
    both_raise(lambda m: m.convolve(m.array([1, 2, 3]), m.array([1, -1])), mlx, ValueError)


def _conv_errors():
    x = np.ones((1, 5, 2), np.float32)

    def call(f):
        def run(m):
            return f(m)
        run.op = "conv"
        return run
    return [
        call(lambda m: m.conv1d(m.array(x), m.ones((3, 3, 3)))),
        call(lambda m: m.conv1d(m.array(x), m.ones((3, 7, 2)))),
        call(lambda m: m.conv1d(m.array(x).astype(m.int32), m.ones((3, 3, 2), dtype=m.int32))),
        call(lambda m: m.conv1d(m.ones((1, 5, 4)), m.ones((3, 3, 2)), groups=2)),
        call(lambda m: m.conv_general(m.ones((5, 2)), m.ones((3, 3, 2)))),
    ]


@pytest.mark.parametrize("i", range(5))
def test_conv_errors_match_mlx(mlx, i):
    both_raise(_conv_errors()[i], mlx, ValueError)


def test_convolve_errors(mlx):
    both_raise(lambda m: m.convolve(m.array([1.0, 2.0]), m.array([[1.0]])), mlx, ValueError)
    with pytest.raises(ValueError, match="mode"):
        mx.convolve(mx.array([1.0]), mx.array([1.0]), mode="middle")


def test_conv_on_a_gpu_stream_runs_through_the_cpu_fallback():
    if not mx.is_available(mx.gpu):
        pytest.skip("no GPU")
    x = RNG.standard_normal((2, 6, 5, 3)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    cpu = mx.conv2d(mx.array(x), mx.array(w), padding=1, stream=mx.cpu)
    gpu = mx.conv2d(mx.array(x), mx.array(w), padding=1, stream=mx.gpu)
    np.testing.assert_allclose(np.array(gpu), np.array(cpu), rtol=1e-6, atol=1e-6)


EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 3)]),
    ("ii", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("ij->ji", [(3, 5)]),
    ("ijk->", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i", [(5,), (5,)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...i,...i->...", [(2, 3, 4), (2, 3, 4)]),
    ("iij,jk->ki", [(3, 3, 4), (4, 5)]),
    ("ijk,kl,lm,mn->ijn", [(2, 3, 4), (4, 5), (5, 6), (6, 2)]),
    ("ab,cd->abcd", [(2, 3), (3, 2)]),
    ("ij,ij->i", [(3, 4), (1, 4)]),
]


@pytest.mark.parametrize("sub,shapes", EINSUMS)
def test_einsum_matches_numpy_and_mlx(sub, shapes, mlx):
    xs = [RNG.standard_normal(s) for s in shapes]
    for dtype in ("float32", "float64", "float16"):
        arrays, refs = zip(*(rounded(x, dtype) for x in xs))
        got = mx.einsum(sub, *arrays)
        want = np.einsum(sub, *refs)
        assert got.dtype == getattr(mx, dtype) and got.shape == want.shape, (got.shape, want.shape)
        rtol = {"float32": 1e-5, "float64": 1e-12, "float16": 1e-2}[dtype]
        np.testing.assert_allclose(np.array(got.astype(mx.float64)), want, rtol=rtol,
                                   atol=rtol * max(1.0, np.abs(want).max()))
    x32 = [x.astype(np.float32) for x in xs]
    same(mx.einsum(sub, *map(mx.array, x32)), mlx.einsum(sub, *map(mlx.array, x32)),
         rtol=1e-4, atol=1e-4)
    rp, rinfo = mx.einsum_path(sub, *map(mx.array, x32))
    mp, minfo = mlx.einsum_path(sub, *map(mlx.array, x32))
    assert rp == mp and rinfo == minfo, (rp, mp, rinfo, minfo)


def test_einsum_integer_trace_and_errors(mlx):
    same(mx.einsum("ii", mx.array(np.arange(9).reshape(3, 3), mx.int32)),
         mlx.einsum("ii", mlx.array(np.arange(9).reshape(3, 3), mlx.int32)))
    for sub, shapes in [("ij,jk", [(3, 4), (3, 5)]), ("ij->k", [(3, 4)]),
                        ("ijk", [(3, 4)]), ("ij,jk", [(3, 4)])]:
        def call(m, sub=sub, shapes=shapes):
            return m.einsum(sub, *(m.ones(s) for s in shapes))
        call.op = "einsum"
        both_raise(call, mlx, ValueError)
    # Products go through matmul, which needs inexact dtypes, as in MLX.
    both_raise(lambda m: m.einsum("ij,jk", m.ones((2, 2), dtype=m.int32),
                                  m.ones((2, 2), dtype=m.int32)), mlx, ValueError)


def test_complex_parts_match_numpy_and_mlx(mlx):
    z = (RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))).astype(np.complex64)
    for f, ref in [("real", np.real), ("imag", np.imag), ("conj", np.conj),
                   ("conjugate", np.conjugate)]:
        got = getattr(mx, f)(mx.array(z))
        np.testing.assert_array_equal(np.array(got), ref(z))
        same(got, getattr(mlx, f)(mlx.array(z)))
        for dt in ("int16", "float16", "bool_", "uint32"):
            x = RNG.integers(-3, 4, 5) if dt != "uint32" else RNG.integers(0, 9, 5)
            same(getattr(mx, f)(mx.array(x).astype(getattr(mx, dt))),
                 getattr(mlx, f)(mlx.array(x).astype(getattr(mlx, dt))))


def test_complex_parts_are_exact_for_every_value(mlx):
    # Infinities, NaNs and signed zeros in either part, numpy's values (an earlier imag and conj
    # multiplied by -i, which made `inf + 0j` NaNs and lost the sign of zeros), on a transposed
    # view and a 0-d array too.
    parts = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 3e38, 1e-45], np.float32)
    re, im = np.meshgrid(parts, parts)
    z = np.empty(re.shape, np.complex64)
    z.real, z.imag = re, im

    def check(got, ref):
        got = np.array(got)
        assert got.dtype == ref.dtype and got.shape == ref.shape
        for part in ((np.real, np.imag) if ref.dtype == np.complex64 else (lambda v: v,)):
            g, r = part(got), part(ref)
            np.testing.assert_array_equal(np.isnan(g), np.isnan(r))
            keep = ~np.isnan(r)
            np.testing.assert_array_equal(g[keep], r[keep])
            np.testing.assert_array_equal(np.signbit(g[keep]), np.signbit(r[keep]))

    for f, ref in [("real", np.real), ("imag", np.imag), ("conj", np.conj),
                   ("conjugate", np.conjugate)]:
        check(getattr(mx, f)(mx.array(z)), ref(z))
        check(getattr(mx, f)(mx.array(z).T), ref(z.T))
        check(getattr(mx, f)(mx.array(z[4, 1])), ref(z[4, 1]))
        check(getattr(mx, f)(mx.array(z)[1::2, ::-3]), ref(z[1::2, ::-3]))
    # The properties and MLX agree too (MLX's conj keeps these values as well).
    check(mx.array(z).imag, z.imag)
    check(mx.array(z).real, z.real)
    same(mx.conj(mx.array(z[:3, :3])), mlx.conj(mlx.array(z[:3, :3])))


@pytest.mark.parametrize("src", ["float32", "int16", "uint8", "float16", "int64", "complex64"])
@pytest.mark.parametrize("dst", ["uint8", "int16", "float32", "uint32", "float64", "bool_"])
def test_view_matches_numpy_and_mlx(src, dst, mlx):
    x = RNG.standard_normal((3, 8)) * 50
    npx = (x + 1j * x[::-1] if src == "complex64" else x).astype(src)
    if np.dtype(src).itemsize * 8 % np.dtype(dst if dst != "bool_" else "bool").itemsize:
        return
    a = mx.array(npx)
    got = mx.view(a, getattr(mx, dst))
    if dst == "bool_":
        want = npx.view(np.uint8) != 0
    else:
        want = npx.view(dst)
    np.testing.assert_array_equal(np.array(got), want)
    if npx.shape[0] * npx.itemsize % np.dtype("uint8" if dst == "bool_" else dst).itemsize:
        return
    np.testing.assert_array_equal(np.array(mx.view(a.T, getattr(mx, dst))),
                                  np.ascontiguousarray(npx.T).view(np.uint8).view(
                                      "uint8" if dst == "bool_" else dst) != 0
                                  if dst == "bool_" else np.ascontiguousarray(npx.T).view(dst))
    same(got, mlx.view(mlx.array(npx), getattr(mlx, dst)))


def test_view_errors(mlx):
    both_raise(lambda m: m.view(m.array([1, 2, 3], dtype=m.uint8), m.uint16), mlx, ValueError)
    both_raise(lambda m: m.view(m.array(1.0), m.uint8), mlx, ValueError)


def test_as_strided_matches_numpy_and_mlx(mlx):
    base = RNG.standard_normal((4, 6)).astype(np.float32)
    for layout in (base, base.T, base[:, ::2]):
        flat = np.ascontiguousarray(layout).ravel()
        for shape, strides, offset in [((3, 3), (1, 2), 1), ((2, 2, 2), (6, 1, 3), 0),
                                       ((5,), (2,), 2), ((2, 3), (0, 1), 4)]:
            if offset + sum((n - 1) * s for n, s in zip(shape, strides)) >= flat.size:
                continue
            want = np.lib.stride_tricks.as_strided(flat[offset:], shape,
                                                   [s * 4 for s in strides])
            got = mx.as_strided(mx.array(layout), shape, strides, offset)
            np.testing.assert_array_equal(np.array(got), want)
            if layout is base:  # MLX refuses other layouts when evaluating (RuntimeError)
                same(got, mlx.as_strided(mlx.array(layout), shape, strides, offset))
    same(mx.as_strided(mx.array(base)), mlx.as_strided(mlx.array(base)))


def test_slice_update_matches_numpy_and_mlx(mlx):
    for dtype in ("float32", "int32", "bool_", "float16"):
        a = RNG.standard_normal((4, 5, 3)) > 0 if dtype == "bool_" else \
            (RNG.standard_normal((4, 5, 3)) * 9).astype(dtype)
        for ushape, start, axes in [((2, 2, 3), [1, 3], (0, 1)), ((1, 3), [2], (1,)),
                                    ((2, 1, 2), [2, 0, 1], (0, 1, 2)), ((3,), [0], (-1,))]:
            u = (RNG.standard_normal(ushape) * 9).astype(a.dtype)
            want = a.copy()
            # Leading dims the update lacks are written whole; its own dims from 0 or the start.
            full = a.shape[:3 - len(ushape)] + ushape
            sl = [slice(0, n) for n in full]
            for s, ax in zip(start, axes):
                sl[ax % 3] = slice(s, s + full[ax % 3])
            want[tuple(sl)] = u
            got = mx.slice_update(mx.array(a), mx.array(u), mx.array(start), axes)
            np.testing.assert_array_equal(np.array(got), want)
            same(got, mlx.slice_update(mlx.array(a), mlx.array(u), mlx.array(start), axes))


@pytest.mark.parametrize("dtype", ["int32", "float32", "uint8", "int64"])
def test_unique_matches_numpy_and_mlx(dtype, mlx):
    a = (RNG.integers(0, 7, (3, 5)) - (0 if dtype == "uint8" else 3)).astype(dtype)
    vals, idx, inv, cnt = np.unique(a, return_index=True, return_inverse=True, return_counts=True)
    k = len(vals)
    for size in (1, k - 1, k, k + 3):
        got = mx.unique(mx.array(a), size, True, True, True)
        if size == k:
            np.testing.assert_array_equal(np.array(got[0]), vals)
            np.testing.assert_array_equal(np.array(got[1]), idx)
            np.testing.assert_array_equal(np.array(got[2]), inv.reshape(a.shape))
            np.testing.assert_array_equal(np.array(got[3]), cnt)
        same(got, mlx.unique(mlx.array(a), size, True, True, True))
        same(mx.unique(mx.array(a), size, return_counts=True, fill_value=5),
             mlx.unique(mlx.array(a), size, return_counts=True, fill_value=5))
        same(mx.unique(mx.array(a), size), mlx.unique(mlx.array(a), size))


def test_minmax_matches_mlx(mlx):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    for axis in (None, 1, (0, 2), -1):
        for keepdims in (False, True):
            same(mx.minmax(mx.array(x), axis=axis, keepdims=keepdims),
                 mlx.minmax(mlx.array(x), axis=axis, keepdims=keepdims))
    same(mx.minmax(mx.array([3, -1, 7], mx.int8)), mlx.minmax(mlx.array([3, -1, 7], mlx.int8)))


def test_printoptions_match_mlx(mlx):
    x = [1.123456, -0.0, float("nan"), float("-inf"), 2.5e-7, 123456.789]
    try:
        for p in (0, 1, 3, 8):
            mx.set_printoptions(precision=p)
            mlx.set_printoptions(precision=p)
            assert mx.get_printoptions().precision == p
            for a in ([x], x[0], [[1 + 2j, -3.5 - 0.25j]]):
                assert repr(mx.array(a)) == repr(mlx.array(a))
            assert repr(mx.array([1, 2])) == repr(mlx.array([1, 2]))
        mx.set_printoptions(precision=2)
        with mx.printoptions(precision=5):
            assert mx.get_printoptions().precision == 5
            assert repr(mx.array(1.5)) == "array(1.50000, dtype=float32)"
        assert mx.get_printoptions().precision == 2
    finally:
        mx.set_printoptions()
        mlx.set_printoptions()
    assert repr(mx.array([1.5, 2.25])) == repr(mlx.array([1.5, 2.25]))


def test_multivariate_normal_moments_and_errors(mlx):
    mean = np.array([1.0, -2.0, 0.5])
    a = RNG.standard_normal((3, 3))
    cov = a @ a.T + 0.1 * np.eye(3)
    draws = mx.random.multivariate_normal(mx.array(mean), mx.array(cov), (40000,),
                                          key=mx.random.key(7))
    assert draws.shape == (40000, 3) and draws.dtype == mx.float32
    d = np.array(draws, np.float64)
    np.testing.assert_allclose(d.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(d.T), cov, atol=0.1 * np.abs(cov).max())
    # The same key gives the same draws; batch shapes broadcast.
    again = mx.random.multivariate_normal(mx.array(mean), mx.array(cov), (40000,),
                                          key=mx.random.key(7))
    assert np.array_equal(np.array(again), np.array(draws))
    b = mx.random.multivariate_normal(mx.zeros((2, 1, 3)), mx.array(np.stack([cov] * 4)))
    want = mlx.random.multivariate_normal(mlx.zeros((2, 1, 3)), mlx.array(np.stack([cov] * 4)))
    assert b.shape == want.shape and b.dtype == mx.float32
    both_raise(lambda m: m.random.multivariate_normal(m.zeros((3,)), m.eye(2)), mlx, ValueError)
    both_raise(lambda m: m.random.multivariate_normal(m.zeros((2,)), m.eye(2),
                                                      dtype=m.float16), mlx, ValueError)


def test_distributed_is_the_singleton_group_of_mlx_without_a_backend(mlx):
    d, md = mx.distributed, mlx.distributed
    assert d.is_available() is False
    g = d.init()
    assert (g.size(), g.rank()) == (md.init().size(), md.init().rank()) == (1, 0)
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    for f in ("all_sum", "all_max", "all_min", "all_gather", "sum_scatter"):
        same(getattr(d, f)(mx.array(x), group=g, stream=mx.cpu),
             getattr(md, f)(mlx.array(x)))
    both_raise(lambda m: m.distributed.send(m.array([1.0]), 0), mlx, ValueError)
    both_raise(lambda m: m.distributed.recv((2,), m.float32, 0), mlx, ValueError)
    both_raise(lambda m: m.distributed.recv_like(m.array([1.0]), 0), mlx, ValueError)
    both_raise(lambda m: m.distributed.init(backend="xyz"), mlx, ValueError)
    with pytest.raises(RuntimeError):
        d.init(strict=True)
    with pytest.raises(RuntimeError):
        g.split(0)
