"""Issue 10's structure, movement and product ops against real MLX on random inputs of every
dtype, float64 NumPy references for the products, and the errors MLX raises: tri, tril, triu,
diag, diagonal, trace, matrix_transpose, flip, roll, meshgrid, unflatten, unstack, atleast_*d,
diff, outer, inner, kron, tensordot, vecdot."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import DTYPES, FLOATS, both_raise, make, same, sample

RNG = np.random.default_rng(10)


def pair(mlx, shape, dtype):
    v = sample(RNG, shape, dtype)
    return make(mx, v, dtype), make(mlx, v, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_triangles_and_diagonals_match_mlx(dtype, mlx):
    a, b = pair(mlx, (2, 4, 5), dtype)
    for k in (-2, 0, 1, 7):
        same(mx.tril(a, k), mlx.tril(b, k))
        same(mx.triu(a, k), mlx.triu(b, k))
    m, n = pair(mlx, (4, 3), dtype)
    v, w = pair(mlx, (5,), dtype)
    for k in (-3, -1, 0, 2):
        same(mx.diag(m, k), mlx.diag(n, k))
        same(mx.diag(v, k), mlx.diag(w, k))
        same(m.diag(k), n.diag(k))
        same(mx.diagonal(a, k, 2, 1), mlx.diagonal(b, k, 2, 1))
        same(a.diagonal(k, -1, 0), b.diagonal(k, -1, 0))
    same(mx.tri(3, 5, 1, getattr(mx, dtype)), mlx.tri(3, 5, 1, getattr(mlx, dtype)))
    if dtype != "complex64":
        # MLX sums bool and small integers widened, as `sum`; `dtype=` converts the sum.
        same(mx.trace(a, 1, 1, 2), mlx.trace(b, 1, 1, 2), rtol=1e-2)
        same(mx.trace(m, dtype=mx.float32), mlx.trace(n, dtype=mlx.float32), rtol=1e-2)
    same(mx.matrix_transpose(a), mlx.matrix_transpose(b))


@pytest.mark.parametrize("dtype", ["bool_", "int8", "uint32", "float16", "float32", "complex64"])
def test_movement_matches_mlx(dtype, mlx):
    a, b = pair(mlx, (3, 4, 2), dtype)
    same(mx.flip(a), mlx.flip(b))
    same(mx.flip(a, (0, -1)), mlx.flip(b, (0, -1)))
    same(mx.flip(a, 1), mlx.flip(b, 1))
    for shift, axis in [(2, None), (-5, 1), ((1, 2), (0, 2)), (1, (0, 1)), ((1, 3), None),
                        ((1, 1, 5), (0, 1)), (7, -1)]:
        same(mx.roll(a, shift, axis), mlx.roll(b, shift, axis))
    same(mx.unflatten(a, 1, (2, -1)), mlx.unflatten(b, 1, (2, -1)))
    same(mx.unstack(a, axis=1), mlx.unstack(b, axis=1))
    same(mx.unstack(a), mlx.unstack(b))
    # Unsigned differences wrap in both; bool differences are `!=`.
    for n, axis in [(1, -1), (2, 1), (3, 0), (0, 0), (5, 2)]:
        same(mx.diff(a, n, axis), mlx.diff(b, n, axis), rtol=1e-2)


def test_meshgrid_and_atleast_match_mlx(mlx):
    xs = [sample(RNG, (3,), "int32"), sample(RNG, (2,), "float32"), sample(RNG, (4,), "int8")]
    a = [mx.array(x) for x in xs]
    b = [mlx.array(x) for x in xs]
    for sparse in (False, True):
        for indexing in ("xy", "ij"):
            same(mx.meshgrid(*a, sparse=sparse, indexing=indexing),
                 mlx.meshgrid(*b, sparse=sparse, indexing=indexing))
            same(mx.meshgrid(a[0], sparse=sparse, indexing=indexing),
                 mlx.meshgrid(b[0], sparse=sparse, indexing=indexing))
    same(mx.meshgrid(mx.ones((2, 2)), a[1]), mlx.meshgrid(mlx.ones((2, 2)), b[1]))
    assert mx.meshgrid() == () and mlx.meshgrid() == ()
    assert type(mx.unstack(mx.ones((2, 2)))) is type(mlx.unstack(mlx.ones((2, 2)))) is tuple
    shapes = [(), (3,), (2, 3), (2, 3, 4)]
    for f in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for s in shapes:
            same(getattr(mx, f)(mx.zeros(s)), getattr(mlx, f)(mlx.zeros(s)))
        same(getattr(mx, f)(*[mx.ones(s) for s in shapes]),
             getattr(mlx, f)(*[mlx.ones(s) for s in shapes]))


@pytest.mark.parametrize("dtype", ["bool_", "int16", "uint8", "float16", "float32", "complex64"])
def test_outer_and_kron_match_mlx(dtype, mlx):
    a, b = pair(mlx, (3,), dtype)
    c, d = pair(mlx, (2, 2), dtype)
    same(mx.outer(a, c), mlx.outer(b, d), rtol=1e-2)
    same(mx.kron(a, c), mlx.kron(b, d), rtol=1e-2)
    same(mx.kron(c, c), mlx.kron(d, d), rtol=1e-2)
    same(mx.kron(mx.array(2), a), mlx.kron(mlx.array(2), b), rtol=1e-2)


def test_products_vs_float64(mlx):
    a64 = RNG.standard_normal((2, 3, 4))
    b64 = RNG.standard_normal((3, 4, 5))
    a, b = mx.array(a64.astype(np.float32)), mx.array(b64.astype(np.float32))
    ref = np.tensordot(a64, b64)
    got = mx.tensordot(a, b)
    assert got.dtype == mx.float32
    np.testing.assert_allclose(np.array(got), ref, rtol=1e-5, atol=1e-5)
    c64 = RNG.standard_normal((4, 3, 5))
    for axes in ([[1, 2], [1, 0]], [[2], [0]], [2, 0]):
        ref = np.tensordot(a64, c64, axes)
        got = mx.tensordot(a, mx.array(c64.astype(np.float32)), axes)
        np.testing.assert_allclose(np.array(got), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(mx.tensordot(a, b, 0)), np.tensordot(a64, b64, 0),
                               rtol=1e-5, atol=1e-5)
    x64, y64 = RNG.standard_normal((2, 5)), RNG.standard_normal((3, 5))
    x, y = mx.array(x64.astype(np.float32)), mx.array(y64.astype(np.float32))
    np.testing.assert_allclose(np.array(mx.inner(x, y)), np.inner(x64, y64), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(mx.vecdot(x, x)), np.sum(x64 * x64, -1), rtol=1e-5)
    # Broadcast operands, another axis, integers (exact), complex (the first one conjugated).
    p, q = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 1))
    got = mx.vecdot(mx.array(p.astype(np.float32)), mx.array(q.astype(np.float32)), axis=0)
    np.testing.assert_allclose(np.array(got), np.sum(p * q, 0), rtol=1e-5, atol=1e-6)
    same(mx.vecdot(mx.array([1, 2, 3]), mx.array([4, 5, 6])),
         mlx.vecdot(mlx.array([1, 2, 3]), mlx.array([4, 5, 6])))
    z = (RNG.standard_normal(4) + 1j * RNG.standard_normal(4)).astype(np.complex64)
    w = (RNG.standard_normal(4) + 1j * RNG.standard_normal(4)).astype(np.complex64)
    same(mx.vecdot(mx.array(z), mx.array(w)), mlx.vecdot(mlx.array(z), mlx.array(w)), rtol=1e-5)
    np.testing.assert_allclose(np.array(mx.vecdot(mx.array(z), mx.array(w))), np.vdot(z, w),
                               rtol=1e-5)
    same(mx.inner(mx.array(2.0), mx.ones((3, 2))), mlx.inner(mlx.array(2.0), mlx.ones((3, 2))))


def _op(name, f):
    f.op = name
    return f


ERRORS = [
    _op("tril", lambda m: m.tril(m.array([1, 2]))),
    _op("triu", lambda m: m.triu(m.array(1))),
    _op("diag", lambda m: m.diag(m.ones((2, 2, 2)))),
    _op("diag", lambda m: m.diag(m.array(1))),
    _op("diagonal", lambda m: m.diagonal(m.ones((2, 3)), 0, 1, 1)),
    _op("diagonal", lambda m: m.diagonal(m.array([1, 2]))),
    _op("diagonal", lambda m: m.diagonal(m.ones((2, 3)), 0, 0, 3)),
    _op("trace", lambda m: m.trace(m.array([1, 2]))),
    _op("matrix_transpose", lambda m: m.matrix_transpose(m.ones(3))),
    _op("flip", lambda m: m.flip(m.ones((2, 3)), 2)),
    _op("roll", lambda m: m.roll(m.ones((2, 3)), 1, 3)),
    _op("roll", lambda m: m.roll(m.ones((2, 3)), (1,), (0, 1))),
    _op("roll", lambda m: m.roll(m.ones((2, 3)), (), (0, 1))),
    _op("meshgrid", lambda m: m.meshgrid(m.array([1]), indexing="zz")),
    _op("unflatten", lambda m: m.unflatten(m.ones((6, 4)), 0, (4, -1))),
    _op("unflatten", lambda m: m.unflatten(m.ones((6, 4)), 0, ())),
    _op("unflatten", lambda m: m.unflatten(m.ones((6, 4)), 1, (-1, -1))),
    _op("unflatten", lambda m: m.unflatten(m.array(1), 0, (1,))),
    _op("unstack", lambda m: m.unstack(m.array(1))),
    _op("unstack", lambda m: m.unstack(m.ones(2), axis=1)),
    _op("diff", lambda m: m.diff(m.array(1))),
    _op("diff", lambda m: m.diff(m.ones(3), -1)),
    _op("inner", lambda m: m.inner(m.ones((2, 3)), m.ones((3, 2)))),
    _op("inner", lambda m: m.inner(m.array([1, 2]), m.array([3, 4]))),
    _op("tensordot", lambda m: m.tensordot(m.ones((2, 3)), m.ones((2, 3)), 1)),
    _op("tensordot", lambda m: m.tensordot(m.ones((2, 3)), m.ones((3, 2)), [[1], [0, 1]])),
    _op("tensordot", lambda m: m.tensordot(m.ones((2, 3)), m.ones((3, 2)), -1)),
    _op("tensordot", lambda m: m.tensordot(m.ones((2, 3)), m.ones((3, 2)), 3)),
    _op("tensordot", lambda m: m.tensordot(m.ones((2, 3), m.int32), m.ones((3, 2), m.int32), 1)),
]


@pytest.mark.parametrize("call", ERRORS, ids=lambda c: c.op)
def test_errors_match_mlx(call, mlx):
    both_raise(call, mlx)


def _mlx_params(doc):
    """[(name, kind)] from the signature line of an MLX docstring: kind is "pos" (positional
    only), "any", "kw" (keyword only) or "var" (*args)."""
    line = doc.strip().split("\n")[0]
    body, depth, parts, cur = line[line.index("(") + 1:], 0, [], ""
    for ch in body:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    out, kind = [], "any"
    for p in filter(None, parts):
        if p == "/":
            out = [(n, "pos") for n, _ in out]
        elif p == "*":
            kind = "kw"
        elif p.startswith("*"):
            out.append((p[1:].split(":")[0].strip(), "var"))
            kind = "kw"
        else:
            out.append((p.split(":")[0].split("=")[0].strip(), kind))
    return out


def _rill_params(f):
    import inspect
    kinds = {inspect.Parameter.POSITIONAL_ONLY: "pos", inspect.Parameter.POSITIONAL_OR_KEYWORD: "any",
             inspect.Parameter.KEYWORD_ONLY: "kw", inspect.Parameter.VAR_POSITIONAL: "var"}
    return [(n, kinds[p.kind]) for n, p in inspect.signature(f).parameters.items()]


NEW_FUNCTIONS = [
    "tri", "tril", "triu", "diag", "diagonal", "trace", "flip", "roll", "meshgrid", "outer",
    "inner", "kron", "tensordot", "vecdot", "matrix_transpose", "unflatten", "unstack",
    "atleast_1d", "atleast_2d", "atleast_3d", "diff", "count_nonzero", "empty", "empty_like",
    "asarray", "isfinite", "isposinf", "isneginf", "trunc", "degrees", "radians", "arcsinh",
    "arccosh", "arctanh", "asinh", "acosh", "atanh", "nan_to_num", "cumulative_sum",
    "cumulative_prod", "logcumsumexp", "median", "searchsorted", "partition", "argpartition",
    "result_type", "can_cast", "isdtype", "bartlett", "blackman", "hamming", "hanning",
    "random.gumbel", "random.laplace", "random.permutation",
]


@pytest.mark.parametrize("name", NEW_FUNCTIONS)
def test_signatures_match_mlx(name, mlx):
    ns, nm = (mx.random, mlx.random) if name.startswith("random.") else (mx, mlx)
    short = name.split(".")[-1]
    want = _mlx_params(getattr(nm, short).__doc__)
    got = _rill_params(getattr(ns, short))
    # MLX's isfinite/isposinf/isneginf/nan_to_num leave `a` positional-or-keyword and `stream`
    # positional; rill keeps `a` positional-only and `stream` keyword-only, as in its other unary
    # functions. Compare names and order everywhere, kinds where MLX's binding is regular.
    assert [n for n, _ in got] == [n for n, _ in want], (got, want)
