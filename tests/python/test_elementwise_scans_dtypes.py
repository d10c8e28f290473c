"""Issue 10's elementwise ops, scans, order statistics, dtype queries, windows, creation and
random draws against real MLX (dtypes, shapes, errors) and float64 NumPy references (values):
arcsinh/arccosh/arctanh (and asinh/acosh/atanh), trunc, isfinite, isposinf, isneginf, degrees,
radians, nan_to_num, logcumsumexp, cumulative_sum/prod, median, count_nonzero, searchsorted,
partition, argpartition, finfo, iinfo, result_type, can_cast, isdtype, bartlett, blackman,
hamming, hanning, empty, empty_like, asarray, random.gumbel/laplace/permutation."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import DTYPES, FLOATS, INTS, both_raise, dtype_name, make, same, sample, to_numpy

RNG = np.random.default_rng(20)

TOL = {"float16": (4e-3, 1e-3), "bfloat16": (3e-2, 1e-2), "float32": (3e-6, 1e-6),
       "float64": (1e-12, 1e-13), "complex64": (3e-6, 1e-6)}


def close_to(got, ref, rtol_atol=None):
    rtol, atol = rtol_atol or TOL.get(dtype_name(got.dtype), (0, 0))
    np.testing.assert_allclose(to_numpy(got).astype(ref.dtype), ref, rtol=rtol, atol=atol,
                               equal_nan=True)


UNARY = {
    "arcsinh": (np.arcsinh, lambda x: x * 3),
    "arccosh": (np.arccosh, lambda x: 1 + np.abs(x) * 3),
    "arctanh": (np.arctanh, lambda x: np.tanh(x)),
    "trunc": (np.trunc, lambda x: x * 4),
    # (np.degrees and np.radians take no complex numbers; the scaling is the same.)
    "degrees": (lambda x: x * (180 / np.pi), lambda x: x),
    "radians": (lambda x: x * (np.pi / 180), lambda x: x * 90),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_match_mlx_and_float64(name, dtype, mlx):
    ref_f, domain = UNARY[name]
    v = sample(RNG, (3, 5), dtype)
    if dtype in FLOATS:
        v = domain(v.astype(np.float64)).astype(v.dtype if dtype != "bfloat16" else np.float32)
        if dtype == "bfloat16":
            v = (v.astype(np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)
    a, b = make(mx, v, dtype), make(mlx, v, dtype)
    try:
        want = getattr(mlx, name)(b)
    except ValueError:
        both_raise(lambda m: getattr(m, name)(make(m, v, dtype)), mlx)
        return
    got = getattr(mx, name)(a)
    assert dtype_name(got.dtype) == dtype_name(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    # The reference from the input as the op sees it (converted to its float type).
    x = to_numpy(a.astype(got.dtype)) if got.dtype != mx.bool_ else v
    with np.errstate(all="ignore"):
        ref = ref_f(x.astype(np.complex128 if dtype == "complex64" else np.float64))
    if got.dtype == mx.bool_ or dtype_name(got.dtype) in INTS:
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
    else:
        close_to(got, ref)
    for alias, full in (("asinh", "arcsinh"), ("acosh", "arccosh"), ("atanh", "arctanh")):
        if name == full:
            same(getattr(mx, alias)(a), got)


def test_round_of_complex_rounds_both_parts(mlx):
    # MLX rounds complex numbers part by part (half to even); NumPy's values.
    rng = np.random.default_rng(8)
    z = (rng.uniform(-20, 20, 64) + 1j * rng.uniform(-20, 20, 64)).astype(np.complex64)
    z[:4] = [2.5 - 1.5j, 0.5 + 3.5j, -0.5 - 2.5j, complex(np.inf, np.nan)]
    for d in (0, 1, 2, -1):
        got = mx.round(mx.array(z), d)
        assert got.dtype == mx.complex64
        want = np.round(z.astype(np.complex128), d)
        np.testing.assert_allclose(np.array(got), want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.array(got), np.array(mlx.round(mlx.array(z), d)),
                                   rtol=1e-6, atol=1e-6)


def test_complex_functions_keep_infinities_and_large_values(mlx):
    # Values where the textbook formulas overflow to NaN: tanh past |Re z| = 355 (sinh 2z and
    # cosh 2z both infinite), sinh and cosh of infinite reals (inf * sin 0), and division by
    # zero: an infinity in each nonzero part, signed by the zero's real part as in MLX and C99
    # (NumPy ignores that sign; its `reciprocal` even gives NaN for 0j).
    z = np.array([400 + 2j, -400 + 0.5j, 30 - 1j, -25 + 0j, 1000 + 0j, 3 - 0j, np.inf + 0j,
                  complex(-np.inf, 0), complex(-0.0, 0.0), 0.5 + 0.25j], np.complex64)
    wide = z.astype(np.complex128)

    def check(got, want):
        got, want = np.array(got).astype(np.complex128), want.astype(np.complex64).astype(np.complex128)
        for part in (np.real, np.imag):
            g, w = part(got), part(want)
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
            keep = ~np.isnan(w)
            np.testing.assert_allclose(g[keep], w[keep], rtol=2e-6, atol=1e-30)

    with np.errstate(all="ignore"):
        check(mx.tanh(mx.array(z)), np.tanh(wide))
        check(mx.sinh(mx.array(z)), np.sinh(wide))
        check(mx.cosh(mx.array(z)), np.cosh(wide))
        inf, nan = np.inf, np.nan
        zeros = np.array([0j, complex(-0.0, 0), 1 + 1j], np.complex64)
        r = mx.reciprocal(mx.array(zeros))
        check(r, np.array([complex(inf, nan), complex(-inf, nan), 1 / (1 + 1j)]))
        check(r, np.array(mlx.reciprocal(mlx.array(zeros))))
        num = np.array([1 + 1j, -2 + 0j, 0 + 3j, 1 + 1j, 1 + 1j], np.complex64)
        den = np.array([0j, 0j, complex(-0.0, 0), complex(-0.0, -0.0), 2 - 1j], np.complex64)
        q = mx.array(num) / mx.array(den)
        check(q, np.array([complex(inf, inf), complex(-inf, nan), complex(nan, -inf),
                           complex(-inf, -inf), (1 + 1j) / (2 - 1j)]))
        check(q, np.array(mlx.array(num) / mlx.array(den)))



@pytest.mark.parametrize("dtype", DTYPES)
def test_classification_and_nan_to_num_match_mlx(dtype, mlx):
    v = sample(RNG, (12,), dtype)
    if dtype in FLOATS or dtype == "complex64":
        v[:4] = [np.nan, np.inf, -np.inf, 0]
        if dtype == "complex64":
            v[4] = complex(1, np.inf)
    a, b = make(mx, v, dtype), make(mlx, v, dtype)
    for name in ("isfinite", "isposinf", "isneginf"):
        same(getattr(mx, name)(a), getattr(mlx, name)(b))
    for args in ((), (1.5,), (-2.0, 3.0, -4.0), (0.0, None, 7.0)):
        if dtype == "float64":
            # MLX 0.32.4 refuses float64 without explicit infinities ("Does not yet support
            # given type"); rill takes it: compare with NumPy.
            nan, posinf, neginf = (list(args) + [0.0, None, None][len(args):])
            ref = np.nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf)
            np.testing.assert_array_equal(np.array(mx.nan_to_num(a, *args)), ref)
            continue
        try:
            want = mlx.nan_to_num(b, *args)
        except ValueError:
            both_raise(lambda m: m.nan_to_num(make(m, v, dtype), *args), mlx)
            break
        same(mx.nan_to_num(a, *args), want)
    same(mx.nan_to_num(float("nan")), mlx.nan_to_num(float("nan")))


def logcumsumexp_ref(x, axis, reverse, inclusive):
    x = np.moveaxis(x, axis, -1)
    if reverse:
        x = x[..., ::-1]
    out = np.logaddexp.accumulate(x, axis=-1)
    if not inclusive:
        out = np.concatenate([np.full(out.shape[:-1] + (1,), -np.inf), out[..., :-1]], -1)
    if reverse:
        out = out[..., ::-1]
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logcumsumexp_vs_float64_and_mlx(dtype, mlx):
    v = sample(RNG, (3, 6), dtype)
    a, b = make(mx, v, dtype), make(mlx, v, dtype)
    if dtype == "complex64":
        # MLX accepts complex here; rill refuses it (no complex log-add-exp rule yet).
        with pytest.raises(ValueError, match="logcumsumexp"):
            mx.logcumsumexp(a)
        return
    for axis in (None, 0, 1, -1):
        for reverse in (False, True):
            for inclusive in (True, False):
                got = mx.logcumsumexp(a, axis, reverse=reverse, inclusive=inclusive)
                want = mlx.logcumsumexp(b, axis, reverse=reverse, inclusive=inclusive)
                assert dtype_name(got.dtype) == dtype_name(want.dtype)
                x = to_numpy(a.astype(got.dtype)).astype(np.float64)
                ref = logcumsumexp_ref(x.reshape(-1) if axis is None else x,
                                       0 if axis is None else axis, reverse, inclusive)
                close_to(got, ref)
    # MLX computes float64 no better than float32: compare with it at float32's tolerance.
    got = a.logcumsumexp(1, reverse=True)
    name = dtype_name(got.dtype)
    same(got, b.logcumsumexp(1, reverse=True), *TOL["float32" if name == "float64" else name])


def test_logcumsumexp_is_stable():
    x = np.array([-1000.0, 0.0, 1000.0, -np.inf, 1000.0], np.float32)
    got = np.array(mx.logcumsumexp(mx.array(x)))
    np.testing.assert_allclose(got, [-1000.0, 0.0, 1000.0, 1000.0, 1000.0 + np.log(2)], rtol=1e-6)
    assert np.isnan(np.array(mx.logcumsumexp(mx.array([1.0, np.nan, 2.0])))[1:]).all()
    with pytest.raises(ValueError, match="logcumsumexp"):
        mx.logcumsumexp(mx.ones((2, 2)), axis=2)


def test_cumulative_aliases(mlx):
    v = sample(RNG, (4, 3), "int8")
    same(mx.cumulative_sum(mx.array(v), 0, reverse=True), mlx.cumulative_sum(mlx.array(v), 0,
                                                                            reverse=True))
    same(mx.cumulative_prod(mx.array(v), inclusive=False, dtype=mx.float32),
         mlx.cumulative_prod(mlx.array(v), inclusive=False, dtype=mlx.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_median_and_count_nonzero_match_mlx(dtype, mlx):
    v = sample(RNG, (4, 3, 5), dtype)
    a, b = make(mx, v, dtype), make(mlx, v, dtype)
    for axis in (None, 0, (0, 2), -1):
        for keepdims in (False, True):
            same(mx.count_nonzero(a, axis=axis, keepdims=keepdims),
                 mlx.count_nonzero(b, axis=axis, keepdims=keepdims))
            if dtype == "complex64":
                continue
            got = mx.median(a, axis, keepdims)
            want = mlx.median(b, axis, keepdims)
            assert dtype_name(got.dtype) == dtype_name(want.dtype)
            x = to_numpy(a.astype(mx.float64 if dtype != "bfloat16" else mx.float32))
            close_to(got, np.median(x.astype(np.float64), axis, keepdims=keepdims))


def test_median_nan_and_errors(mlx):
    same(mx.median(mx.array([[1.0, np.nan, 3.0], [1.0, 2.0, 4.0]]), 1),
         mlx.median(mlx.array([[1.0, np.nan, 3.0], [1.0, 2.0, 4.0]]), 1))
    both_raise(_op("median", lambda m: m.median(m.zeros((0,)))), mlx)
    both_raise(_op("median", lambda m: m.median(m.ones(3), axis=1)), mlx)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "float16", "float32", "float64"])
def test_searchsorted_vs_numpy(dtype, mlx):
    seq = np.sort(sample(RNG, (9,), dtype))
    seq[3] = seq[4]
    vals = np.concatenate([sample(RNG, (2, 6), dtype), seq[None, :6]])
    for side in ("left", "right"):
        got = mx.searchsorted(make(mx, seq, dtype), make(mx, vals, dtype), side=side)
        want = mlx.searchsorted(make(mlx, seq, dtype), make(mlx, vals, dtype), side=side)
        same(got, want)
        np.testing.assert_array_equal(np.array(got), np.searchsorted(seq, vals, side=side))
    if dtype.startswith("float"):
        nan = np.array([1.0, 2.0, np.nan], dtype)
        q = np.array([np.nan, 1.5, 3.0], dtype)
        for side in ("left", "right"):
            np.testing.assert_array_equal(
                np.array(mx.searchsorted(mx.array(nan), mx.array(q), side=side)),
                np.searchsorted(nan, q, side=side))


@pytest.mark.parametrize("dtype", ["bool_", "uint16", "int8", "float16", "float32", "complex64"])
def test_partition_property(dtype, mlx):
    v = sample(RNG, (4, 7), dtype)
    a = make(mx, v, dtype)
    for kth in (0, 3, -1):
        for axis in (-1, 0, None):
            p = mx.partition(a, kth, axis)
            i = mx.argpartition(a, kth, axis)
            want = mlx.partition(make(mlx, v, dtype), kth, axis)
            assert dtype_name(p.dtype) == dtype_name(want.dtype) and p.shape == want.shape
            assert i.dtype == mx.uint32
            x = v.reshape(-1) if axis is None else v
            ax = 0 if axis is None else axis
            ref = np.sort(x, axis=ax)
            k = kth % x.shape[ax]
            got = np.array(p)
            np.testing.assert_array_equal(np.take(got, k, ax), np.take(ref, k, ax))
            pivot = np.expand_dims(np.take(ref, k, ax), ax)
            assert np.all(np.take(got, range(k), ax) <= pivot)
            assert np.all(np.take(got, range(k + 1, x.shape[ax]), ax) >= pivot)
            np.testing.assert_array_equal(np.take_along_axis(x, np.array(i).astype(np.int64), ax),
                                          got)


def _op(name, f):
    f.op = name
    return f


ERRORS = [
    _op("partition", lambda m: m.partition(m.array([3, 1, 2]), 3)),
    _op("partition", lambda m: m.partition(m.array([3, 1, 2]), -4)),
    _op("argpartition", lambda m: m.argpartition(m.array([3, 1, 2]), 5)),
    _op("partition", lambda m: m.partition(m.array([3, 1, 2]), 0, axis=1)),
    _op("searchsorted", lambda m: m.searchsorted(m.array([1, 2]), m.array(1), side="mid")),
    _op("searchsorted", lambda m: m.searchsorted(m.ones((2, 2)), m.array([1.0]))),
    _op("trunc", lambda m: m.trunc(m.array([1j]))),
    _op("nan_to_num", lambda m: m.nan_to_num(m.array([1j]))),
]


@pytest.mark.parametrize("call", ERRORS, ids=lambda c: c.op)
def test_errors_match_mlx(call, mlx):
    both_raise(call, mlx)


def test_dtype_queries_match_mlx(mlx):
    for name in DTYPES:
        d, e = getattr(mx, name), getattr(mlx, name)
        try:
            fi = mlx.finfo(e)
        except ValueError:
            with pytest.raises(ValueError, match="finfo"):
                mx.finfo(d)
        else:
            gi = mx.finfo(d)
            for attr in ("min", "max", "eps", "smallest_normal", "bits"):
                assert getattr(gi, attr) == getattr(fi, attr), (name, attr)
            assert dtype_name(gi.dtype) == dtype_name(fi.dtype)
            assert repr(gi) == repr(fi)
        try:
            ii = mlx.iinfo(e)
        except ValueError:
            with pytest.raises(ValueError, match="iinfo"):
                mx.iinfo(d)
        else:
            assert (mx.iinfo(d).min, mx.iinfo(d).max) == (ii.min, ii.max)
            assert repr(mx.iinfo(d)) == repr(ii)
        for other in DTYPES:
            d2, e2 = getattr(mx, other), getattr(mlx, other)
            assert dtype_name(mx.result_type(d, d2)) == dtype_name(mlx.result_type(e, e2))
            assert mx.can_cast(d, d2) == mlx.can_cast(e, e2), (name, other)
        for kind in ("bool", "signed integer", "unsigned integer", "integral", "real floating",
                     "complex floating", "numeric", ("integral", "real floating"), d):
            k = kind if not isinstance(kind, type(d)) else e
            assert mx.isdtype(d, kind) == mlx.isdtype(e, k), (name, kind)
    assert mx.result_type(mx.int8, mx.array([1.0])) == mx.float32
    assert mx.can_cast(mx.array([1], mx.int8), mx.int16)
    for call in (lambda m: m.result_type(), lambda m: m.result_type(1, m.int8),
                 lambda m: m.isdtype(m.int8, "foo"), lambda m: m.isdtype(m.int8, 3)):
        both_raise(call, mlx, ValueError)


def test_windows_vs_numpy(mlx):
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        for m in (-1, 0, 1, 2, 5, 16):
            got, want = getattr(mx, name)(m), getattr(mlx, name)(m)
            same(got, want, atol=2e-6)
            if m >= 1:
                ref = getattr(np, name)(m)
                np.testing.assert_allclose(np.array(got), ref, atol=1e-7)


def test_empty_and_asarray(mlx):
    same(mx.empty((2, 3)), mlx.empty((2, 3)))
    same(mx.empty(4, mx.int8), mlx.empty(4, mlx.int8))
    same(mx.empty_like(mx.ones(2, mx.int16)), mlx.empty_like(mlx.ones(2, mlx.int16)))
    same(mx.asarray([1, 2], mx.float16), mlx.asarray([1, 2], mlx.float16))
    same(mx.asarray(np.arange(3)), mlx.asarray(np.arange(3)))
    a = mx.ones(3)
    same(mx.asarray(a, copy=True), mlx.asarray(mlx.ones(3), copy=True))


def test_random_gumbel_laplace_permutation_match_mlx(mlx):
    for seed in (1, 3):
        k, l = mx.random.key(seed), mlx.random.key(seed)
        for dt in ("float32", "float16", "bfloat16"):
            same(mx.random.gumbel((4, 3), getattr(mx, dt), key=k),
                 mlx.random.gumbel((4, 3), getattr(mlx, dt), key=l), *TOL[dt])
            # The same key gives MLX's draws.
            got = mx.random.laplace((5,), getattr(mx, dt), 1.0, 2.0, key=k)
            want = mlx.random.laplace((5,), getattr(mlx, dt), 1.0, 2.0, key=l)
            assert dtype_name(got.dtype) == dt and got.shape == want.shape
            np.testing.assert_allclose(to_numpy(got), to_numpy(want), *TOL[dt])
        same(mx.random.permutation(10, key=k), mlx.random.permutation(10, key=l))
        x = sample(RNG, (3, 6), "int32")
        same(mx.random.permutation(mx.array(x), axis=1, key=k),
             mlx.random.permutation(mlx.array(x), axis=1, key=l))
    # Without a key: draws from the global sequence, with the right shapes and statistics.
    g = np.array(mx.random.gumbel((20000,)))
    assert abs(g.mean() - np.euler_gamma) < 0.05
    lp = np.array(mx.random.laplace((20000,), scale=2.0))
    assert abs(np.abs(lp).mean() - 2.0) < 0.1
    p = np.array(mx.random.permutation(50))
    assert sorted(p.tolist()) == list(range(50))
    for call in (_op("laplace", lambda m: m.random.laplace((2,), m.int32)),
                 _op("gumbel", lambda m: m.random.gumbel((2,), m.int32)),
                 _op("permutation", lambda m: m.random.permutation(m.arange(6), axis=1))):
        both_raise(call, mlx)
