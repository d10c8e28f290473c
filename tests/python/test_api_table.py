"""Every public function of rill.core against a reference, one table row each.

`TABLE` maps each function (by the name the coverage report uses: "mx.add", "mx.random.normal")
to a check that calls it on random inputs (both signs, several dtypes) and compares with NumPy
computed in float64, with the tolerance of the result's dtype (conftest.TOLERANCES); functions
without a numeric result (devices, streams, memory, capture) are checked against what they are
documented to do. `test_the_table_has_every_public_function` keeps the table complete: a new
function fails it until it has a row.
"""

import math
import statistics
import threading

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU, assert_array, public_functions, tol

FLOATS = ["float16", "bfloat16", "float32", "float64"]
SEED = 20261202


def rdt(name):
    return getattr(mx, "bool_" if name == "bool" else name)


def rounded(x, dtype):
    """(rill array of `x` in `dtype`, its values as float64): the reference starts from the same
    rounded inputs as rill."""
    # NumPy's float64 becomes float32 in mx.array (as in MLX) unless asked to stay float64.
    a = mx.array(np.asarray(x, dtype=np.float64), dtype=mx.float64).astype(rdt(dtype))
    return a, np.array(a.astype(mx.float64))


def check(got, want, dtype=None):
    """`got` (rill) equals `want` (float64 or exact) within the tolerance of `got`'s dtype."""
    d = dtype or repr(got.dtype).split(".")[-1]
    rtol, atol = tol(d)
    g = np.array(got.astype(mx.float64)) if d in ("float16", "bfloat16") else np.array(got)
    assert g.shape == np.shape(want), (g.shape, np.shape(want))
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(g, want)
    else:
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol, equal_nan=True)


# ---------------------------------------------------------------- elementwise, one argument

# Inputs per domain, symmetric where the function allows: a sign error, an abs() too many or a
# floor that truncates shows on the negative half.
DOMAINS = {
    "real": lambda r: r.standard_normal(64) * 2,
    "small": lambda r: r.uniform(-1.4, 1.4, 64),
    "unit": lambda r: r.uniform(-0.98, 0.98, 64),
    "positive": lambda r: r.uniform(0.05, 8, 64),
    "log1p": lambda r: r.uniform(-0.95, 5, 64),
    "nonzero": lambda r: r.uniform(0.1, 3, 64) * r.choice([-1, 1], 64),
    "above1": lambda r: r.uniform(1.0, 9, 64),
    # Integral and half-integral values too: round's ties, floor/ceil of exact integers, sign(0).
    "steps": lambda r: np.concatenate([r.standard_normal(52) * 3,
                                       [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -2, 0, 3, -0.0, 0.25,
                                        -0.75]]),
}

_erf = np.vectorize(math.erf)
_erfinv = np.vectorize(lambda y: statistics.NormalDist().inv_cdf((y + 1) / 2) / math.sqrt(2))

UNARY = {
    "abs": (np.abs, "steps"), "negative": (np.negative, "steps"), "sign": (np.sign, "steps"),
    "positive": (np.positive, "steps"), "square": (np.square, "real"),
    "exp": (np.exp, "real"), "expm1": (np.expm1, "real"), "log": (np.log, "positive"),
    "log1p": (np.log1p, "log1p"), "log2": (np.log2, "positive"), "log10": (np.log10, "positive"),
    "sqrt": (np.sqrt, "positive"), "rsqrt": (lambda x: 1 / np.sqrt(x), "positive"),
    "reciprocal": (np.reciprocal, "nonzero"), "sin": (np.sin, "real"), "cos": (np.cos, "real"),
    "tan": (np.tan, "small"), "arcsin": (np.arcsin, "unit"), "arccos": (np.arccos, "unit"),
    "arctan": (np.arctan, "real"), "sinh": (np.sinh, "real"), "cosh": (np.cosh, "real"),
    "tanh": (np.tanh, "real"), "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), "real"),
    "erf": (_erf, "real"), "erfinv": (_erfinv, "unit"), "floor": (np.floor, "steps"),
    "ceil": (np.ceil, "steps"), "round": (np.round, "steps"),
    "arcsinh": (np.arcsinh, "real"), "arccosh": (np.arccosh, "above1"),
    "arctanh": (np.arctanh, "unit"), "trunc": (np.trunc, "steps"),
    "degrees": (np.degrees, "real"), "radians": (np.radians, "real"),
    # MLX's (and the array API's) aliases.
    "asin": (np.arcsin, "unit"), "acos": (np.arccos, "unit"), "atan": (np.arctan, "real"),
    "asinh": (np.arcsinh, "real"), "acosh": (np.arccosh, "above1"), "atanh": (np.arctanh, "unit"),
}


def unary_row(name, ref, domain):
    def run(rng):
        for d in FLOATS:
            a, x = rounded(DOMAINS[domain](rng), d)
            got = getattr(mx, name)(a)
            assert got.dtype == a.dtype, (name, d, got.dtype)
            check(got, ref(x))
    return run


def special_values_row(name, ref):
    def run(rng):
        x = np.array([0.0, -1.5, np.inf, -np.inf, np.nan, 3.0, -0.0])
        for d in ("float16", "float32", "float64"):
            a = mx.array(x).astype(rdt(d))
            assert_array(getattr(mx, name)(a), ref(x), mx.bool_)
        ints = rng.integers(-3, 4, 16)
        assert_array(getattr(mx, name)(mx.array(ints)), ref(ints.astype(np.float64)), mx.bool_)
    return run


def logical_not(rng):
    x = rng.integers(-2, 3, 32)
    assert_array(mx.logical_not(mx.array(x)), np.logical_not(x), mx.bool_)
    b = x > 0
    assert_array(mx.logical_not(mx.array(b)), ~b, mx.bool_)
    f = rng.standard_normal(32).astype(np.float32) * (x != 0)
    assert_array(mx.logical_not(mx.array(f)), np.logical_not(f), mx.bool_)


def bitwise_invert(rng):
    for d, nd in (("int8", np.int8), ("uint16", np.uint16), ("int32", np.int32),
                  ("uint64", np.uint64), ("int64", np.int64)):
        info = np.iinfo(nd)
        x = rng.integers(info.min, info.max, 32, dtype=nd, endpoint=True)
        assert_array(mx.bitwise_invert(mx.array(x)), np.invert(x), rdt(d))
    b = rng.random(16) > 0.5
    assert_array(mx.bitwise_invert(mx.array(b)), ~b, mx.bool_)


# ---------------------------------------------------------------- elementwise, two arguments

def _nonzero_ints(rng, n, nd=np.int32):
    return (rng.integers(1, 9, n) * rng.choice([-1, 1], n)).astype(nd)


def binary_float_row(name, ref, domain="real", dtypes=FLOATS):
    def run(rng):
        for d in dtypes:
            a, x = rounded(DOMAINS[domain](rng).reshape(8, 8), d)
            b, y = rounded(DOMAINS["nonzero"](rng).reshape(8, 8), d)
            got = getattr(mx, name)(a, b)
            if got.dtype == mx.bool_:
                assert_array(got, ref(x, y), mx.bool_)
            else:
                assert got.dtype == a.dtype
                check(got, ref(x, y))
            # Broadcasting a row against the matrix.
            got = getattr(mx, name)(a, b[0])
            if got.dtype != mx.bool_:
                check(got, ref(x, y[0]))
    return run


def binary_int_row(name, ref, nonneg_b=False):
    shift = name in ("left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift")

    def run(rng):
        for nd in (np.int8, np.int32, np.int64, np.uint8, np.uint32):
            signed = np.issubdtype(nd, np.signedinteger)
            x = rng.integers(-50 if signed else 0, 50, 64).astype(nd)
            y = np.abs(_nonzero_ints(rng, 64)).astype(nd) if (nonneg_b or not signed) \
                else _nonzero_ints(rng, 64, nd)
            if name in ("power", "pow"):
                x, y = (x % 5).astype(nd), (np.abs(y) % 4).astype(nd)
            if shift:
                y = (np.abs(y) % 5).astype(nd)
            want = ref(x, y)
            got = getattr(mx, name)(mx.array(x), mx.array(y))
            assert_array(got, want, rdt(str(want.dtype)) if want.dtype != np.bool_ else mx.bool_)
    return run


ARITH = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "floor_divide": np.floor_divide, "remainder": np.remainder, "maximum": np.maximum,
    "minimum": np.minimum, "arctan2": np.arctan2, "logaddexp": np.logaddexp,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal, "atan2": np.arctan2,
}
INT_ARITH = ["add", "subtract", "multiply", "floor_divide", "remainder", "maximum", "minimum",
             "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
           "bitwise_xor": np.bitwise_xor, "left_shift": np.left_shift,
           "right_shift": np.right_shift, "bitwise_left_shift": np.left_shift,
           "bitwise_right_shift": np.right_shift}
LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or,
           "logical_xor": np.logical_xor}


def arith_row(name):
    # In float16 and bfloat16 the quotient's own rounding can move floor(x / y) by one (and the
    # remainder by y): those two are checked in float32 and float64, where it cannot here.
    dtypes = ("float32", "float64") if name in ("floor_divide", "remainder") else FLOATS
    floats = binary_float_row(name, ARITH[name], dtypes=dtypes)
    ints = binary_int_row(name, ARITH[name]) if name in INT_ARITH else None

    def run(rng):
        floats(rng)
        if ints:
            ints(rng)
    return run


def power_row(name):
    def run(rng):
        binary_float_row(name, np.power, "positive")(rng)
        binary_int_row(name, np.power)(rng)
    return run


def divide_ints(rng):
    x, y = rng.integers(-50, 50, 32).astype(np.int32), _nonzero_ints(rng, 32)
    check(mx.divide(mx.array(x), mx.array(y)), x / y.astype(np.float64), "float32")


def divmod_(rng):
    x, y = rng.standard_normal(32) * 5, DOMAINS["nonzero"](rng)[:32]
    q, r = mx.divmod(mx.array(x, dtype=mx.float64), mx.array(y, dtype=mx.float64))
    wq, wr = np.divmod(x, y)
    check(q, wq)
    check(r, wr)
    xi, yi = rng.integers(-50, 50, 32).astype(np.int32), _nonzero_ints(rng, 32)
    q, r = mx.divmod(mx.array(xi), mx.array(yi))
    wq, wr = np.divmod(xi, yi)
    assert_array(q, wq, mx.int32)
    assert_array(r, wr, mx.int32)


def logical_row(name):
    def run(rng):
        x, y = rng.integers(-1, 2, 32), rng.integers(-1, 2, 32)
        assert_array(getattr(mx, name)(mx.array(x), mx.array(y)), LOGICAL[name](x, y), mx.bool_)
        assert_array(getattr(mx, name)(mx.array(x != 0), True), LOGICAL[name](x != 0, True),
                     mx.bool_)
    return run


# ---------------------------------------------------------------- reductions and scans

def _matrix(rng, shape=(5, 6, 7)):
    return rng.standard_normal(shape)


#: Unit roundoff of the precision a reduction accumulates in: float32 for every float type
#: narrower than float64 (as MLX does), float64 for float64.
ACC_EPS = {"float16": 2.0**-24, "bfloat16": 2.0**-24, "float32": 2.0**-24, "float64": 2.0**-53}


def reduction_row(name, ref, dtypes=("float32", "float64"), bound="sum", **kw):
    """`bound`: "exact" (max, min: no rounding at all), "sum" (the textbook bound of a sum of n
    terms accumulated in ACC_EPS precision, n * eps * sum|x|, plus the final rounding to the
    dtype), "relative" (n roundings of the result: products, variances)."""
    def run(rng):
        x64 = _matrix(rng)
        for d in dtypes:
            a, x = rounded(x64, d)
            for axis in (None, 0, 2, (0, 2), -1):
                for keepdims in (False, True):
                    got = np.array(getattr(mx, name)(a, axis=axis, keepdims=keepdims, **kw)
                                   .astype(mx.float64))
                    want = ref(x, axis=axis, keepdims=keepdims, **kw)
                    n = x.size if axis is None else np.prod(
                        [x.shape[i] for i in np.atleast_1d(axis)])
                    rtol, atol = tol(d)
                    if bound == "exact":
                        allowed = 0 * want
                    elif bound == "sum":
                        scale = np.sum(np.abs(x), axis=axis, keepdims=keepdims)
                        if name == "mean":
                            scale = scale / n
                        allowed = rtol * np.abs(want) + n * ACC_EPS[d] * scale
                    else:
                        allowed = rtol * n * np.abs(want) + atol
                    err = np.abs(got - want)
                    assert got.shape == np.shape(want), (name, d, axis, got.shape)
                    assert np.all(err <= allowed), \
                        f"{name} {d} axis={axis}: error {err.max()} > {allowed.min()}"
    return run


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


def bool_reduction_row(name, ref):
    def run(rng):
        x = rng.random((4, 5, 6)) > 0.3
        x[1] = True
        x[2] = False
        for axis in (None, 0, 1, (1, 2)):
            assert_array(getattr(mx, name)(mx.array(x), axis=axis), ref(x, axis=axis), mx.bool_)
        f = rng.standard_normal((4, 5)) * (rng.random((4, 5)) > 0.2)
        assert_array(getattr(mx, name)(mx.array(f), axis=1), ref(f, axis=1), mx.bool_)
    return run


def argreduce_row(name, ref):
    def run(rng):
        x = rng.standard_normal((5, 6, 7))
        x[0, 0, :3] = x[0, 0, 3]  # ties: the first one wins
        for axis in (None, 0, 1, 2):
            got = getattr(mx, name)(mx.array(x), axis=axis)
            assert got.dtype == mx.uint32
            assert_array(got, ref(x, axis=axis))
        xi = rng.integers(-9, 9, (6, 5)).astype(np.int16)
        assert_array(getattr(mx, name)(mx.array(xi), axis=1), ref(xi, axis=1))
    return run


def scan_row(name, ref):
    def run(rng):
        x64 = rng.uniform(-1.5, 1.5, (4, 9))
        for d in ("float32", "float64"):
            a, x = rounded(x64, d)
            # A running sum or product of up to n terms rounds up to n times.
            rtol, atol = (t * x.size for t in tol(d))

            def close(got, want):
                np.testing.assert_allclose(np.array(got), want, rtol=rtol, atol=atol)

            for axis in (0, 1):
                close(getattr(mx, name)(a, axis=axis), ref(x, axis=axis))
            close(getattr(mx, name)(a, axis=1, reverse=True), np.flip(ref(np.flip(x, 1), axis=1), 1))
            close(getattr(mx, name)(a), ref(x.reshape(-1), axis=0))
        xi = rng.integers(-4, 5, (3, 6)).astype(np.int32)
        assert_array(getattr(mx, name)(mx.array(xi), axis=1), ref(xi, axis=1))
    return run


def softmax(rng):
    x = rng.standard_normal((4, 7)) * 3
    for d in ("float32", "float64", "float16"):
        a, xr = rounded(x, d)
        for axis in (None, 0, 1, -1):
            e = np.exp(xr - xr.max(axis=axis, keepdims=True))
            # Three roundings (exp, sum, divide): twice the tolerance of one op.
            rtol, atol = tol(d)
            np.testing.assert_allclose(np.array(mx.softmax(a, axis=axis).astype(mx.float64)),
                                       e / e.sum(axis=axis, keepdims=True),
                                       rtol=2 * rtol, atol=2 * atol)


# ---------------------------------------------------------------- linear algebra, comparisons

def matmul(rng):
    for d in ("float32", "float64", "float16"):
        a, x = rounded(rng.standard_normal((3, 16, 8)), d)
        b, y = rounded(rng.standard_normal((8, 5)), d)
        rtol, atol = tol(d)
        np.testing.assert_allclose(np.array(mx.matmul(a, b).astype(mx.float64)), x @ y,
                                   rtol=rtol * 8, atol=atol * 8 * 4)


def addmm(rng):
    a, x = rounded(rng.standard_normal((6, 8)), "float32")
    b, y = rounded(rng.standard_normal((8, 5)), "float32")
    c, z = rounded(rng.standard_normal((5,)), "float32")
    np.testing.assert_allclose(np.array(mx.addmm(c, a, b, alpha=-0.5, beta=2.0)),
                               -0.5 * (x @ y) + 2.0 * z, rtol=1e-5, atol=1e-5)


def isclose(rng):
    x = rng.standard_normal(40)
    y = x + rng.choice([0, 1e-9, 1e-4, 1, np.nan], 40)
    x[:3] = [np.nan, np.inf, -np.inf]
    y[:3] = [np.nan, np.inf, np.inf]
    for equal_nan in (False, True):
        assert_array(mx.isclose(mx.array(x), mx.array(y), rtol=1e-5, atol=1e-8,
                                equal_nan=equal_nan),
                     np.isclose(x, y, rtol=1e-5, atol=1e-8, equal_nan=equal_nan), mx.bool_)


def allclose(rng):
    x = rng.standard_normal(40)
    for y, en in ((x + 1e-9, False), (x + 1e-3, False), (np.where(x > 0, np.nan, x), True)):
        xx = np.where(np.isnan(y), np.nan, x)
        assert mx.allclose(mx.array(xx), mx.array(y), equal_nan=en).item() == \
            np.allclose(xx, y, equal_nan=en)


def array_equal(rng):
    x = rng.integers(-3, 3, (4, 5))
    assert mx.array_equal(mx.array(x), mx.array(x.copy())).item() is True
    y = x.copy()
    y[2, 3] += 1
    assert mx.array_equal(mx.array(x), mx.array(y)).item() is False
    assert mx.array_equal(mx.array(x), mx.array(x[:2])).item() is False
    f = np.where(x > 0, np.nan, x.astype(np.float64))
    for en in (False, True):
        assert mx.array_equal(mx.array(f), mx.array(f), equal_nan=en).item() == \
            np.array_equal(f, f, equal_nan=en)


def clip(rng):
    x = rng.standard_normal((5, 6)) * 3
    for lo, hi in ((-1.0, 2.0), (None, 0.5), (-0.5, None)):
        check(mx.clip(mx.array(x), lo, hi), np.clip(x, lo, hi))
    lo = rng.standard_normal(6)
    check(mx.clip(mx.array(x), mx.array(lo), 1.0), np.clip(x, lo, 1.0))


def where(rng):
    c = rng.random((4, 5)) > 0.5
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((5,))
    check(mx.where(mx.array(c), mx.array(x), mx.array(y)), np.where(c, x, y))
    assert_array(mx.where(mx.array(c), 1, -1), np.where(c, 1, -1), mx.int32)


# ---------------------------------------------------------------- creation and shapes

def creation(rng):
    assert_array(mx.full((2, 3), -2.5), np.full((2, 3), -2.5), mx.float32)
    assert_array(mx.zeros((3, 2), mx.int16), np.zeros((3, 2), np.int16), mx.int16)
    assert_array(mx.ones((4,), mx.float64), np.ones(4), mx.float64)
    x = mx.array(rng.integers(-3, 3, (2, 3)).astype(np.int8))
    assert_array(mx.full_like(x, -7), np.full((2, 3), -7), mx.int8)
    assert_array(mx.zeros_like(x), np.zeros((2, 3)), mx.int8)
    assert_array(mx.ones_like(x, dtype=mx.float32), np.ones((2, 3)), mx.float32)


def arange(rng):
    for args in ((7,), (-3, 9, 2), (5, -5, -1.5), (0.25, 2.0, 0.5)):
        check(mx.arange(*args), np.arange(*args))


def linspace(rng):
    for args in ((-1, 1, 9), (0, 10, 4), (3, -3, 7)):
        check(mx.linspace(*args), np.linspace(*args), "float32")


def eye(rng):
    for n, m, k in ((3, 3, 0), (3, 5, 1), (4, 2, -1), (0, 0, 0)):
        assert_array(mx.eye(n, m, k), np.eye(n, m, k), mx.float32)
    assert_array(mx.identity(3, mx.int32), np.identity(3), mx.int32)


def shapes(rng):
    x = rng.standard_normal((2, 3, 4))
    a = mx.array(x)
    assert_array(mx.reshape(a, (4, -1)), x.reshape(4, -1))
    assert_array(mx.flatten(a, 1, 2), x.reshape(2, 12))
    assert_array(mx.transpose(a, (2, 0, 1)), x.transpose(2, 0, 1))
    assert_array(mx.permute_dims(a, (1, 2, 0)), np.permute_dims(x, (1, 2, 0))
                 if hasattr(np, "permute_dims") else x.transpose(1, 2, 0))
    assert_array(mx.swapaxes(a, 0, 2), np.swapaxes(x, 0, 2))
    assert_array(mx.moveaxis(a, 0, -1), np.moveaxis(x, 0, -1))
    assert_array(mx.expand_dims(a, (0, 3)), np.expand_dims(x, (0, 3)))
    assert_array(mx.squeeze(mx.array(x[:1, :, :1])), np.squeeze(x[:1, :, :1]))
    assert_array(mx.broadcast_to(mx.array(x[:, :1]), (2, 3, 4)), np.broadcast_to(x[:, :1], (2, 3, 4)))
    ba = mx.broadcast_arrays(mx.array(x[:, :1]), mx.array(x[0, 0]))
    for got, want in zip(ba, np.broadcast_arrays(x[:, :1], x[0, 0])):
        assert_array(got, want)
    assert list(mx.broadcast_shapes((2, 1, 4), (3, 1), (1,))) == \
        list(np.broadcast_shapes((2, 1, 4), (3, 1), (1,)))
    assert_array(mx.slice(a, mx.array([1, 2]), [1, 2], [2, 2, 2]), x[:2, 1:3, 2:4])
    assert_array(mx.contiguous(mx.transpose(a)), x.T)
    assert_array(mx.astype(a, mx.float16), x.astype(np.float16).astype(np.float64), rtol=1e-3)
    xi = rng.integers(-100, 100, 8)
    assert_array(mx.astype(mx.array(xi), mx.int8), xi.astype(np.int8), mx.int8)


def joins(rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 5))
    for f in (mx.concatenate, mx.concat):
        assert_array(f([mx.array(x), mx.array(y)], axis=1), np.concatenate([x, y], axis=1))
        assert_array(f([mx.array(x), mx.array(y)], axis=None), np.concatenate([x, y], axis=None))
    assert_array(mx.stack([mx.array(x), mx.array(-x)], axis=1), np.stack([x, -x], axis=1))
    for parts, axis in ((3, 0), ([1, 4], 1)):
        z = rng.standard_normal((6, 6))
        for got, want in zip(mx.split(mx.array(z), parts, axis=axis), np.split(z, parts, axis=axis)):
            assert_array(got, want)
    assert_array(mx.pad(mx.array(x), ((1, 0), (2, 1)), constant_values=-1.5),
                 np.pad(x, ((1, 0), (2, 1)), constant_values=-1.5))
    assert_array(mx.tile(mx.array(x), (2, 1, 2)), np.tile(x, (2, 1, 2)))
    assert_array(mx.repeat(mx.array(x), 3, axis=1), np.repeat(x, 3, axis=1))
    assert_array(mx.repeat(mx.array(x), 2), np.repeat(x, 2))


def gathers(rng):
    x = rng.standard_normal((4, 6))
    i = rng.integers(-6, 6, (3, 2))
    assert_array(mx.take(mx.array(x), mx.array(i), axis=1), np.take(x, i, axis=1))
    assert_array(mx.take(mx.array(x), mx.array(i % 24)), np.take(x, i % 24))
    j = rng.integers(0, 6, (4, 3))
    assert_array(mx.take_along_axis(mx.array(x), mx.array(j), axis=1),
                 np.take_along_axis(x, j, axis=1))
    k = np.argsort(rng.random((4, 6)), axis=1)[:, :2]
    v = rng.standard_normal((4, 2))
    want = x.copy()
    np.put_along_axis(want, k, v, axis=1)
    assert_array(mx.put_along_axis(mx.array(x), mx.array(k), mx.array(v), axis=1), want)


def sorts(rng):
    x = rng.standard_normal((5, 7)).astype(np.float32)  # compared exactly
    for axis in (0, 1, -1):
        assert_array(mx.sort(mx.array(x), axis=axis), np.sort(x, axis=axis))
        assert_array(mx.argsort(mx.array(x), axis=axis), np.argsort(x, axis=axis, kind="stable"))
    assert_array(mx.sort(mx.array(x), axis=None), np.sort(x, axis=None))
    top = np.array(mx.topk(mx.array(x), 3, axis=1))
    np.testing.assert_array_equal(np.sort(top, axis=1), np.sort(x, axis=1)[:, -3:])


def issubdtype(rng):
    pairs = [("int8", "integer"), ("uint16", "signedinteger"), ("float16", "floating"),
             ("bfloat16", "inexact"), ("complex64", "complexfloating"), ("bool_", "number"),
             ("int64", "number"), ("float32", "float64"), ("float32", "float32")]
    np_name = {"bool_": "bool_", "bfloat16": "float16"}
    for a, b in pairs:
        want = np.issubdtype(getattr(np, np_name.get(a, a)), getattr(np, np_name.get(b, b)))
        assert mx.issubdtype(getattr(mx, a), getattr(mx, b)) == want, (a, b)


# ---------------------------------------------------------------- devices, streams, evaluation

def devices(rng):
    assert mx.is_available(mx.cpu) and mx.is_available(mx.gpu) == HAS_GPU
    assert mx.device_count(mx.cpu) == 1
    info = mx.device_info(mx.cpu)
    assert info["device_name"] and info["architecture"] and info["cores"] >= 1
    before = mx.default_device()
    try:
        mx.set_default_device(mx.cpu)
        assert mx.default_device() == mx.cpu
        # Ops with no stream go to the new default device.
        assert mx.ones((2,)).dtype == mx.float32 and (mx.ones((2,)) + 1).tolist() == [2.0, 2.0]
        with mx.default_device(mx.cpu):
            assert mx.default_device() == mx.cpu
    finally:
        mx.set_default_device(before)
    assert mx.default_device() == before
    assert mx.cuda.is_available() == HAS_GPU
    assert mx.metal.is_available() is False
    previous = mx.cuda.set_allow_tf32(True)
    assert mx.cuda.set_allow_tf32(previous) is True


def streams(rng):
    s = mx.new_stream(mx.cpu)
    assert s.device == mx.cpu and s != mx.default_stream(mx.cpu)
    t = mx.new_thread_local_stream(mx.cpu)
    assert t.device == mx.cpu and t not in (s, mx.default_stream(mx.cpu))
    old = mx.default_stream(mx.cpu)
    try:
        mx.set_default_stream(s)
        assert mx.default_stream(mx.cpu) == s
        seen = []
        th = threading.Thread(target=lambda: seen.append(mx.default_stream(mx.cpu)))
        th.start()
        th.join()
        assert seen == [s], "set_default_stream is for every thread"
    finally:
        mx.set_default_stream(old)
    x = rng.standard_normal(16)
    with mx.stream(s):
        y = mx.array(x) * 2
    # The op inside the scope ran on s (the capture names the stream of each op).
    mx.start_capture()
    try:
        mx.eval(y)
    finally:
        ran_on = {st["stream"] for st in mx.stop_capture()["streams"]}
    assert ran_on == {s.index}, (ran_on, s.index)
    check(y, x.astype(np.float32).astype(np.float64) * 2, "float32")
    # clear_streams waits for the work in flight and leaves every handle valid.
    z = mx.add(mx.array(x), 1.0, stream=s)
    mx.async_eval(z)
    mx.clear_streams()
    mx.start_capture()
    try:
        got = np.array(z)
    finally:
        assert mx.stop_capture()["ops"] == 0
    np.testing.assert_allclose(got, x + 1, rtol=2e-6, atol=1e-6)
    check(mx.multiply(z, -1.0, stream=s), -(got.astype(np.float64)), "float32")


def auto_fusion(rng):
    # rill's own: the same lazy chain fused on a CPU stream ("all") and op by op ("off").
    x = rng.standard_normal(1000).astype(np.float32)

    def run(mode):
        old = mx.set_auto_fusion(mode)
        try:
            with mx.stream(mx.cpu):
                y = mx.tanh(mx.array(x) * 1.5 + 0.25) * 2.0 - 1.0
            return np.array(y)
        finally:
            mx.set_auto_fusion(old)

    fused, plain = run("all"), run("off")
    assert np.array_equal(fused.view(np.uint32), plain.view(np.uint32))
    want = np.tanh(x.astype(np.float64) * 1.5 + 0.25) * 2.0 - 1.0
    np.testing.assert_allclose(fused, want, rtol=1e-6, atol=1e-6)


def evaluation(rng):
    x = rng.standard_normal(1000)
    a = mx.array(x) * 3
    b = mx.exp(mx.array(x))
    mx.eval([a, {"b": b}], None)
    mx.start_capture()
    try:
        got = np.array(a), np.array(b)
    finally:
        # Both were computed by eval: reading them ran no op.
        assert mx.stop_capture()["ops"] == 0
    check(a, x * 3, "float32")
    check(b, np.exp(x.astype(np.float32).astype(np.float64)), "float32")
    c = mx.array(x) - 1
    mx.async_eval(c)
    mx.synchronize()
    check(c, x.astype(np.float32).astype(np.float64) - 1, "float32")


def capture(rng):
    s = mx.new_stream(mx.cpu)
    mx.start_capture()
    try:
        x = rng.standard_normal(100).astype(np.float32).astype(np.float64)
        y = mx.add(mx.array(x, dtype=mx.float32), 1.0, stream=s)
        mx.eval(y)
    finally:
        summary = mx.stop_capture()
    assert summary["ops"] >= 1
    assert [st["stream"] for st in summary["streams"]] == [s.index]
    check(y, x + 1, "float32")


def metal_capture(rng, tmp_path_factory):
    path = tmp_path_factory.mktemp("metal") / "trace.json"
    mx.metal.start_capture(str(path))
    mx.eval(mx.ones((8,)) * 2)
    mx.metal.stop_capture()
    assert path.exists() and path.stat().st_size > 0


# ---------------------------------------------------------------- files

def files(rng):
    """Each save function's file holds the array's values as NumPy reads them, and `load` gives
    back NumPy's own files (test_io.py has the full round trips)."""
    import tempfile
    x = rng.standard_normal((3, 4)).astype(np.float32)
    a = mx.array(x)
    with tempfile.TemporaryDirectory() as d:
        mx.save(f"{d}/a", a)
        np.testing.assert_array_equal(np.load(f"{d}/a.npy"), x)
        mx.savez(f"{d}/z", a, b=a)
        mx.savez_compressed(f"{d}/zc", a, b=a)
        for name in ("z", "zc"):
            with np.load(f"{d}/{name}.npz") as f:
                np.testing.assert_array_equal(f["arr_0"], x)
                np.testing.assert_array_equal(f["b"], x)
        mx.save_safetensors(f"{d}/w", {"w": a}, metadata={"k": "v"})
        w, meta = mx.load(f"{d}/w.safetensors", return_metadata=True)
        assert meta == {"k": "v"}
        check(w["w"], x, "float32")
        mx.save_gguf(f"{d}/g", {"w": a}, metadata={"k": "v", "n": mx.array(3, dtype=mx.uint32)})
        g, meta = mx.load(f"{d}/g.gguf", return_metadata=True)
        assert meta["k"] == "v" and meta["n"].item() == 3
        check(g["w"], x, "float32")
        np.save(f"{d}/n.npy", x.astype(np.float64))
        check(mx.load(f"{d}/n.npy"), x, "float64")


# ---------------------------------------------------------------- memory

def memory(rng, prefix="mx"):
    ns = mx if prefix == "mx" else mx.metal
    import gc

    gc.collect()
    start = ns.get_active_memory()
    x = mx.multiply(mx.full((1 << 16,), 1.5), 2.0)  # memory rill allocated
    mx.eval(x)
    # The array's bytes are counted (NumPy's nbytes is the reference).
    assert ns.get_active_memory() >= start + np.zeros(1 << 16, np.float32).nbytes
    assert ns.get_peak_memory() >= ns.get_active_memory()
    del x
    gc.collect()
    assert ns.get_active_memory() == start
    ns.clear_cache()
    assert ns.get_cache_memory() == 0
    ns.reset_peak_memory()
    assert ns.get_peak_memory() == ns.get_active_memory()
    old = ns.set_memory_limit(1 << 40)
    try:
        assert mx.get_memory_limit() == 1 << 40
    finally:
        assert ns.set_memory_limit(old) == 1 << 40
    old = ns.set_cache_limit(1 << 20)
    assert ns.set_cache_limit(old) == 1 << 20


# ---------------------------------------------------------------- random

def random_keys(rng):
    k = mx.random.key(2**33 + 5)
    assert k.dtype == mx.uint32 and k.tolist() == [2, 5]
    parts = mx.random.split(k, 3)
    assert parts.shape == (3, 2) and len({tuple(r) for r in parts.tolist()}) == 3
    assert mx.random.split(k, 3).tolist() == parts.tolist()
    mx.random.seed(7)
    a = mx.random.uniform(shape=(4,))
    mx.random.seed(7)
    assert mx.random.uniform(shape=(4,)).tolist() == a.tolist()


def _moments(a):
    x = np.array(a.astype(mx.float64)).ravel()
    return x.mean(), x.std()


def random_uniform(rng):
    a = mx.random.uniform(-2, 3, (100_000,), key=mx.random.key(1))
    x = np.array(a)
    assert x.min() >= -2 and x.max() < 3
    m, s = _moments(a)
    # Uniform(-2, 3): mean 0.5, std 5/sqrt(12); 100 000 draws put the sample mean within 0.03.
    assert abs(m - 0.5) < 0.03 and abs(s - 5 / math.sqrt(12)) < 0.03


def random_normal(rng):
    m, s = _moments(mx.random.normal((100_000,), loc=-1.0, scale=2.0, key=mx.random.key(2)))
    assert abs(m + 1) < 0.03 and abs(s - 2) < 0.03


def random_truncated_normal(rng):
    a = np.array(mx.random.truncated_normal(-1.0, 2.0, (100_000,), key=mx.random.key(3)))
    assert a.min() >= -1 and a.max() <= 2
    # The mean of N(0, 1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    nd = statistics.NormalDist()
    want = (nd.pdf(-1) - nd.pdf(2)) / (nd.cdf(2) - nd.cdf(-1))
    assert abs(a.mean() - want) < 0.02


def random_randint(rng):
    a = np.array(mx.random.randint(-3, 5, (80_000,), key=mx.random.key(4)))
    assert a.dtype == np.int32 and a.min() == -3 and a.max() == 4
    counts = np.bincount(a + 3) / a.size
    assert np.all(np.abs(counts - 1 / 8) < 0.01), counts


def random_bernoulli(rng):
    a = np.array(mx.random.bernoulli(0.3, (100_000,), key=mx.random.key(5)))
    assert a.dtype == np.bool_ and abs(a.mean() - 0.3) < 0.01


def random_categorical(rng):
    logits = np.log(np.array([0.1, 0.6, 0.3]))
    a = np.array(mx.random.categorical(mx.array(logits), num_samples=60_000, key=mx.random.key(6)))
    freq = np.bincount(a.ravel(), minlength=3) / a.size
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.01)


# ---------------------------------------------------------------- the table

def nan_to_num(rng):
    x = np.concatenate([rng.standard_normal(8), [np.nan, np.inf, -np.inf]])
    for d in ("float16", "float32", "float64"):
        a = mx.array(x).astype(rdt(d))
        info = np.finfo(d)
        assert_array(mx.nan_to_num(a), np.nan_to_num(np.array(a)), rdt(d))
        assert float(mx.nan_to_num(a)[-2]) == float(info.max)
        want = np.nan_to_num(np.array(a), nan=2.0, posinf=3.0, neginf=-4.0)
        assert_array(mx.nan_to_num(a, 2.0, 3.0, -4.0), want, rdt(d))


def counts_and_medians(rng):
    x = rng.integers(-2, 3, (4, 5, 6))
    for axis in (None, 1, (0, 2)):
        assert_array(mx.count_nonzero(mx.array(x), axis=axis), np.count_nonzero(x, axis=axis),
                     mx.int32)
        for d in ("float32", "float64"):
            a, v = rounded(rng.standard_normal((4, 5, 6)), d)
            check(mx.median(a, axis), np.median(v, axis))
    assert_array(mx.median(mx.array(x), 2, keepdims=True), np.median(x, 2, keepdims=True),
                 mx.float32)


def structure(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    a = mx.array(x)
    for k in (-1, 0, 2):
        assert_array(mx.tri(4, 5, k), np.tri(4, 5, k), mx.float32)
        assert_array(mx.tril(a, k), np.tril(x, k))
        assert_array(mx.triu(a, k), np.triu(x, k))
        assert_array(mx.diag(a[0], k), np.diag(x[0], k))
        assert_array(mx.diag(a[0, 0], k), np.diag(x[0, 0], k))
        assert_array(mx.diagonal(a, k, 1, 2), np.diagonal(x, k, 1, 2))
        check(mx.trace(a.astype(mx.float64), k, 2, 0), np.trace(x.astype(np.float64), k, 2, 0))
    assert_array(mx.matrix_transpose(a), np.swapaxes(x, -1, -2))


def rearrange(rng):
    x = rng.integers(-9, 9, (3, 4, 5)).astype(np.int32)
    a = mx.array(x)
    assert_array(mx.flip(a, (0, 2)), np.flip(x, (0, 2)))
    assert_array(mx.roll(a, (2, -7), (1, 2)), np.roll(x, (2, -7), (1, 2)))
    assert_array(mx.roll(a, 4), np.roll(x, 4))
    u, v = rng.standard_normal(3), rng.standard_normal(4)
    for ga, gb in zip(mx.meshgrid(mx.array(u), mx.array(v)), np.meshgrid(u, v)):
        assert_array(ga, gb, rtol=1e-6)
    assert_array(mx.unflatten(a, 2, (5, 1)), x.reshape(3, 4, 5, 1))
    for ua, ub in zip(mx.unstack(a, axis=1), [x[:, i] for i in range(4)]):
        assert_array(ua, ub)
    assert_array(mx.atleast_1d(mx.array(3)), np.atleast_1d(3))
    assert_array(mx.atleast_2d(a[0, 0]), np.atleast_2d(x[0, 0]))
    assert_array(mx.atleast_3d(a[0]), np.atleast_3d(x[0]))
    assert_array(mx.diff(a, 2, 1), np.diff(x, 2, 1))


def products(rng):
    a, x = rounded(rng.standard_normal((3, 4)), "float64")
    b, y = rounded(rng.standard_normal((4, 2)), "float64")
    c, z = rounded(rng.standard_normal((5, 4)), "float64")
    check(mx.outer(a, b), np.outer(x, y))
    check(mx.inner(a, c), np.inner(x, z))
    check(mx.kron(a, b), np.kron(x, y))
    check(mx.tensordot(a, b, 1), np.tensordot(x, y, 1))
    check(mx.tensordot(a, c, [[1], [1]]), np.tensordot(x, z, [[1], [1]]))
    check(mx.vecdot(a, c[:3]), np.sum(x * z[:3], -1))


def orders(rng):
    x = rng.standard_normal((4, 9)).astype(np.float32)
    for kth in (0, 4, -1):
        p = np.array(mx.partition(mx.array(x), kth))
        np.testing.assert_array_equal(p[:, kth], np.sort(x, -1)[:, kth])
        i = np.array(mx.argpartition(mx.array(x), kth, axis=None))
        np.testing.assert_array_equal(x.reshape(-1)[i][kth], np.sort(x, None)[kth])
    seq = np.sort(rng.integers(0, 10, 12))
    q = rng.integers(-1, 12, (3, 4))
    for side in ("left", "right"):
        assert_array(mx.searchsorted(mx.array(seq), mx.array(q), side=side),
                     np.searchsorted(seq, q, side=side), mx.uint32)


def dtype_rules(rng):
    pairs = [("int8", "uint8", "int16"), ("int32", "float16", "float16"),
             ("bool", "int8", "int8"), ("float32", "complex64", "complex64"),
             ("uint64", "int64", "float32"), ("bfloat16", "float16", "float32")]
    for a, b, c in pairs:
        assert mx.result_type(rdt(a), rdt(b)) == rdt(c), (a, b)
        assert mx.result_type(mx.zeros(1, rdt(a)), rdt(b)) == rdt(c)
        assert mx.can_cast(rdt(a), rdt(c)) and (a == c or not mx.can_cast(rdt(c), rdt(a)))
    assert mx.isdtype(mx.uint8, "unsigned integer") and not mx.isdtype(mx.uint8, "signed integer")
    assert mx.isdtype(mx.bfloat16, ("complex floating", "real floating"))
    assert not mx.isdtype(mx.bool_, "numeric") and mx.isdtype(mx.float32, mx.float32)


def windows(rng):
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        for m in (1, 7, 64):
            assert_array(getattr(mx, name)(m), getattr(np, name)(m), mx.float32, atol=1e-7)
        assert getattr(mx, name)(0).shape == (0,)


def more_creation(rng):
    assert_array(mx.empty((2, 3)), np.zeros((2, 3)), mx.float32)
    assert_array(mx.empty_like(mx.ones(4, mx.int8)), np.zeros(4), mx.int8)
    x = rng.standard_normal(5)
    assert_array(mx.asarray(x), x.astype(np.float32), mx.float32)
    assert_array(mx.asarray(list(x), mx.float16), x.astype(np.float16), mx.float16, rtol=1e-3)


def random_gumbel(rng):
    g = np.array(mx.random.gumbel((40000,), key=mx.random.key(int(rng.integers(1 << 30)))))
    # Gumbel(0, 1): mean the Euler-Mascheroni constant, variance pi^2 / 6.
    assert abs(g.mean() - np.euler_gamma) < 0.03 and abs(g.var() - np.pi ** 2 / 6) < 0.1


def random_laplace(rng):
    x = np.array(mx.random.laplace((40000,), loc=1.0, scale=2.0,
                                   key=mx.random.key(int(rng.integers(1 << 30)))))
    # Laplace(1, 2): median 1, mean absolute deviation 2.
    assert abs(np.median(x) - 1.0) < 0.05 and abs(np.abs(x - 1.0).mean() - 2.0) < 0.05


def random_permutation(rng):
    k = mx.random.key(int(rng.integers(1 << 30)))
    p = np.array(mx.random.permutation(100, key=k))
    assert sorted(p.tolist()) == list(range(100)) and p.tolist() != list(range(100))
    # Along an axis: every row gets the same column order.
    x = np.arange(21).reshape(3, 7)
    q = np.array(mx.random.permutation(mx.array(x), axis=1, key=k))
    assert sorted(q[0].tolist()) == list(range(7))
    np.testing.assert_array_equal(q, x[:, q[0]])


# ---------------------------------------------------------------- fft and linalg
# (tests/python/test_fft.py and test_linalg.py test them in depth, and against real MLX)

def fft_functions(rng):
    x = rng.standard_normal((3, 5, 6))
    z = x + 1j * rng.standard_normal((3, 5, 6))
    a = mx.array(x.astype(np.float32))
    c = mx.array(z.astype(np.complex64))
    xr = np.array(a).astype(np.float64)
    zr = np.array(c).astype(np.complex128)
    scale = 30.0
    pairs = [
        (mx.fft.fft(c, 8, 1), np.fft.fft(zr, 8, 1)),
        (mx.fft.ifft(c, axis=0, norm="ortho"), np.fft.ifft(zr, axis=0, norm="ortho")),
        (mx.fft.rfft(a, 5), np.fft.rfft(xr, 5)),
        (mx.fft.irfft(c, 7, 1), np.fft.irfft(zr, 7, 1)),
        (mx.fft.fft2(c), np.fft.fft2(zr)),
        (mx.fft.ifft2(c, s=(4, 7)), np.fft.ifft2(zr, s=(4, 7))),
        (mx.fft.rfft2(a, axes=(0, 2)), np.fft.rfft2(xr, axes=(0, 2))),
        (mx.fft.irfft2(c, norm="forward"), np.fft.irfft2(zr, norm="forward")),
        # `axes=None` given explicitly: every axis, as NumPy (and MLX).
        (mx.fft.fft2(c, axes=None), np.fft.fft2(zr, axes=None)),
        (mx.fft.ifft2(c, axes=None), np.fft.ifft2(zr, axes=None)),
        (mx.fft.rfft2(a, axes=None), np.fft.rfft2(xr, axes=None)),
        (mx.fft.irfft2(c, axes=None), np.fft.irfft2(zr, axes=None)),
        (mx.fft.fftn(c), np.fft.fftn(zr)),
        (mx.fft.ifftn(c, (2, 3), (2, 0)), np.fft.ifftn(zr, (2, 3), (2, 0))),
        (mx.fft.rfftn(a), np.fft.rfftn(xr)),
        (mx.fft.irfftn(c, (5, 9), (0, 1)), np.fft.irfftn(zr, (5, 9), (0, 1))),
    ]
    for got, want in pairs:
        assert got.shape == want.shape, (got.shape, want.shape)
        np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-5 * scale)
    with pytest.raises(ValueError, match="axes"):  # MLX refuses sizes without axes
        mx.fft.fft2(c, s=(2, 2), axes=None)
    np.testing.assert_array_equal(np.array(mx.fft.fftshift(a, 1)), np.fft.fftshift(xr, 1))
    np.testing.assert_array_equal(np.array(mx.fft.ifftshift(a)), np.fft.ifftshift(xr))
    np.testing.assert_allclose(np.array(mx.fft.fftfreq(9, 0.3)), np.fft.fftfreq(9, 0.3), rtol=1e-6)
    np.testing.assert_allclose(np.array(mx.fft.rfftfreq(8)), np.fft.rfftfreq(8), rtol=1e-6)
    sig = mx.array(rng.standard_normal((2, 40)).astype(np.float32))
    spec = mx.fft.stft(sig, n_fft=8, center=False)
    frames = np.stack([np.array(sig)[:, 2 * i:2 * i + 8] for i in range(17)], -2)
    np.testing.assert_allclose(np.array(spec), np.swapaxes(np.fft.rfft(frames), -1, -2),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(mx.fft.istft(spec, center=False)), np.array(sig),
                               rtol=1e-5, atol=1e-5)


def linalg_functions(rng):
    for d in ("float32", "float64"):
        rtol, atol = (3e-4, 3e-5) if d == "float32" else (1e-10, 1e-11)
        x = rng.standard_normal((2, 4, 4)) + 4 * np.eye(4)
        s = x @ np.swapaxes(x, -1, -2)
        a, sa = mx.array(x, dtype=rdt(d)), mx.array(s, dtype=rdt(d))
        x, s = np.array(a).astype(np.float64), np.array(sa).astype(np.float64)
        bm = mx.array(rng.standard_normal((2, 4, 3)), dtype=rdt(d))
        b = np.array(bm).astype(np.float64)

        def chk(got, want, scale=1.0):
            assert repr(got.dtype).split(".")[-1] == d
            np.testing.assert_allclose(np.array(got), want, rtol=rtol, atol=atol * scale)
        chk(mx.linalg.inv(a), np.linalg.inv(x))
        chk(mx.linalg.det(a), np.linalg.det(x), 1e3)
        chk(mx.linalg.slogdet(a)[1], np.linalg.slogdet(x)[1], 10)
        chk(mx.linalg.solve(a, bm), np.linalg.solve(x, b))
        chk(mx.linalg.solve_triangular(a, bm, upper=True), np.linalg.solve(np.triu(x), b))
        chk(mx.linalg.tri_inv(a), np.linalg.inv(np.tril(x)))
        chk(mx.linalg.cholesky(sa), np.linalg.cholesky(s), 10)
        chk(mx.linalg.cholesky_inv(mx.linalg.cholesky(sa)), np.linalg.inv(s))
        q, r = mx.linalg.qr(a)
        wq, wr = np.linalg.qr(x)
        chk(q, wq, 10)
        chk(r, wr, 10)
        p, lo, up = mx.linalg.lu(a)
        recon = np.take_along_axis(np.array(lo), np.array(p)[..., None].astype(np.int64), -2)
        np.testing.assert_allclose(recon @ np.array(up), x, atol=atol * 100)
        packed, piv = mx.linalg.lu_factor(a)
        assert piv.dtype == mx.uint32 and packed.shape == (2, 4, 4)
        chk(mx.linalg.eigvalsh(sa), np.linalg.eigvalsh(s), 100)
        chk(mx.linalg.eigh(sa)[0], np.linalg.eigh(s)[0], 100)
        chk(mx.linalg.norm(a, "fro", (1, 2)), np.linalg.norm(x, "fro", (1, 2)), 10)
        chk(mx.linalg.norm(a, 2, (1, 2)), np.linalg.norm(x, 2, (1, 2)), 10)
        chk(mx.linalg.cross(a[..., :3], a[..., 1:]), np.cross(x[..., :3], x[..., 1:]), 10)
        chk(mx.linalg.svd(a, compute_uv=False), np.linalg.svd(x, compute_uv=False), 100)
        u, sv, vt = mx.linalg.svd(a)
        chk(mx.matmul(u * sv[..., None, :], vt), x, 100)
        chk(mx.linalg.pinv(a), np.linalg.pinv(x), 100)
        # General eigenvalues come in no set order: compare them sorted.
        key = lambda w: np.sort_complex(np.round(np.asarray(w, np.complex128), 5))  # noqa: E731
        np.testing.assert_allclose(key(mx.linalg.eigvals(a)), key(np.linalg.eigvals(x)),
                                   atol=1e-3)
        w, v = mx.linalg.eig(a)
        vv = np.array(v).astype(np.complex128)
        np.testing.assert_allclose(x @ vv, vv * np.array(w)[..., None, :], atol=1e-3)


def transforms(rng):
    """grad, value_and_grad, vjp, jvp and stop_gradient of f(x) = sum(sin(x) * x) against its
    derivative written out, in float64 (test_grad.py checks every op and MLX's behaviour)."""
    x_np = rng.standard_normal(12)
    x = mx.array(x_np, dtype=mx.float64)
    f = lambda a: (mx.sin(a) * a).sum()  # noqa: E731
    d = np.cos(x_np) * x_np + np.sin(x_np)
    check(mx.grad(f)(x), d)
    value, g = mx.value_and_grad(f)(x)
    check(value, np.sum(np.sin(x_np) * x_np))
    check(g, d)
    ct = rng.standard_normal(12)
    (out,), (vj,) = mx.vjp(lambda a: mx.sin(a) * a, [x], [mx.array(ct, dtype=mx.float64)])
    check(out, np.sin(x_np) * x_np)
    check(vj, ct * d)
    (_,), (jv,) = mx.jvp(lambda a: mx.sin(a) * a, [x], [mx.array(ct, dtype=mx.float64)])
    check(jv, ct * d)
    check(mx.grad(lambda a: (mx.stop_gradient(mx.sin(a)) * a).sum())(x), np.sin(x_np))


def graph_names(rng):
    """depends gives its inputs' values (NumPy), get_array_buffer_size counts a buffer and its
    views once (float32 (16, 4): 256 bytes, a power of two, which the allocator reserves as it
    is), export_to_dot writes a digraph naming the arrays it is told (test_graph_names.py
    compares all three with MLX)."""
    import io

    x_np = rng.standard_normal((16, 4)).astype(np.float32)
    x = mx.array(x_np)
    y, z = mx.depends([mx.exp(x), -x], mx.sin(x))
    check(y, np.exp(x_np.astype(np.float64)))
    check(mx.depends(x, [y]), x_np)
    # On a CPU stream: there the sizes are the host allocator's (a GPU's pool rounds blocks up,
    # and host data viewed on a GPU stream is copied there first).
    with mx.stream(mx.cpu):
        xc = mx.array(x_np)
        views = [xc.T, {"k": xc[1:]}]
        mx.eval(z, views)
        assert mx.get_array_buffer_size(xc, views, 3) == 256
    out = io.StringIO()
    mx.export_to_dot(out, x * 2 + 1, x=x)
    text = out.getvalue()
    assert text.startswith("digraph {") and '"x"' in text and text.count("shape=rectangle") == 2


def function_export(rng):
    """export_function/exporter write traces that import_function replays: values against
    NumPy (test_export_function.py checks the conventions, files and errors, and MLX)."""
    import pathlib
    import tempfile

    x_np = rng.standard_normal((3, 4)).astype(np.float32)
    w_np = rng.standard_normal((4, 2)).astype(np.float32)
    w = mx.array(w_np)
    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "f.fn"
        mx.export_function(path, lambda x: mx.exp(x) @ w, mx.array(x_np))
        (out,) = mx.import_function(path)(mx.array(x_np))
        check(out, np.exp(x_np.astype(np.float64)) @ w_np)
        with mx.exporter(path, lambda x, y: x * y) as ex:
            ex(mx.array(x_np), mx.array(x_np))
            ex(mx.array(x_np[0]), mx.array(x_np[1]))
        g = mx.import_function(path)
        check(g(mx.array(x_np[2]), mx.array(x_np[1]))[0],
              x_np[2].astype(np.float64) * x_np[1])


# ---------------------------------------------------------------- issue 10: convolutions, einsum, views


def complex_parts(rng):
    z = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
    a = mx.array(z.astype(np.complex64))
    zr = np.array(a).astype(np.complex128)
    check(mx.real(a), zr.real)
    check(mx.imag(a), zr.imag)
    np.testing.assert_array_equal(np.array(mx.conj(a)), np.conj(zr).astype(np.complex64))
    np.testing.assert_array_equal(np.array(mx.conjugate(a)), np.conj(zr).astype(np.complex64))
    i = mx.array(rng.integers(-9, 9, 4), mx.int16)
    assert mx.real(i).dtype == mx.int16 and np.array(mx.imag(i)).tolist() == [0] * 4


def reinterpret(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(np.array(mx.view(mx.array(x), mx.uint16)), x.view(np.uint16))
    np.testing.assert_array_equal(np.array(mx.view(mx.array(x), mx.float64)), x.view(np.float64))
    got = mx.as_strided(mx.array(x), (2, 3), (4, 1), 1)
    np.testing.assert_array_equal(np.array(got), np.lib.stride_tricks.as_strided(
        x.ravel()[1:], (2, 3), (16, 4)))


def _conv_loop(x, w, stride, pad, dil):
    """A 1-D convolution written out in float64."""
    n, length, cin = x.shape
    cout, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (0, 0)))
    out_len = (length + 2 * pad - dil * (k - 1) - 1) // stride + 1
    out = np.zeros((n, out_len, cout))
    for o in range(out_len):
        for t in range(k):
            out[:, o] += xp[:, o * stride + t * dil] @ w[:, t].T
    return out


def convolutions(rng):
    for dtype in FLOATS:
        x, xf = rounded(rng.standard_normal((2, 11, 3)), dtype)
        w, wf = rounded(rng.standard_normal((4, 3, 3)), dtype)
        want = _conv_loop(xf, wf, 2, 1, 2)
        check(mx.conv1d(x, w, stride=2, padding=1, dilation=2), want)
        check(mx.conv_general(x, w, stride=2, padding=1, kernel_dilation=2), want)
        # 2-D and 3-D with one spatial size of 1 are the 1-D convolution.
        check(mx.conv2d(x[:, :, None], w[:, :, None], stride=(2, 1), padding=(1, 0),
                        dilation=(2, 1))[:, :, 0], want)
        check(mx.conv3d(x[:, :, None, None], w[:, :, None, None], stride=(2, 1, 1),
                        padding=(1, 0, 0), dilation=(2, 1, 1))[:, :, 0, 0], want)
        # A transposed convolution with stride 1 and no padding is the full convolution with
        # the flipped kernel, here of a one-channel signal.
        s, sf = rounded(rng.standard_normal((1, 7, 1)), dtype)
        k, kf = rounded(rng.standard_normal((1, 3, 1)), dtype)
        full = np.convolve(sf[0, :, 0], kf[0, :, 0])[None, :, None]
        check(mx.conv_transpose1d(s, k), full)
        check(mx.conv_transpose2d(s[:, :, None], k[:, :, None])[:, :, 0], full)
        check(mx.conv_transpose3d(s[:, :, None, None], k[:, :, None, None])[:, :, 0, 0], full)
        check(mx.convolve(s[0, :, 0], k[0, :, 0], mode="same"),
              np.convolve(sf[0, :, 0], kf[0, :, 0], mode="same"))


def einsums(rng):
    for dtype in ("float32", "float64"):
        a, af = rounded(rng.standard_normal((2, 3, 4)), dtype)
        b, bf = rounded(rng.standard_normal((4, 5)), dtype)
        check(mx.einsum("ijk,kl->lji", a, b), np.einsum("ijk,kl->lji", af, bf))
        check(mx.einsum("ijj->i", a[:, :, :3]), np.einsum("ijj->i", af[:, :, :3]))
    shapes = [(3, 4), (4, 5), (5, 2)]
    path, info = mx.einsum_path("ij,jk,kl->il", *(mx.zeros(s) for s in shapes))
    assert path == [(1, 2), (0, 1)] and "Optimized FLOP count:" in info


def minmax(rng):
    x, xf = rounded(rng.standard_normal((4, 6)), "float32")
    lo, hi = mx.minmax(x, axis=1)
    check(lo, xf.min(1))
    check(hi, xf.max(1))


def slice_update(rng):
    a, af = rounded(rng.standard_normal((4, 5)), "float32")
    u, uf = rounded(rng.standard_normal((2, 3)), "float32")
    want = af.copy()
    want[1:3, 2:5] = uf
    check(mx.slice_update(a, u, mx.array([1, 2]), (0, 1)), want)


def unique(rng):
    a = rng.integers(-4, 4, 20).astype(np.int32)
    vals, idx, inv, cnt = np.unique(a, return_index=True, return_inverse=True,
                                    return_counts=True)
    got = mx.unique(mx.array(a), len(vals), True, True, True)
    for g, w in zip(got, (vals, idx, inv, cnt)):
        np.testing.assert_array_equal(np.array(g), w)


def printing(rng):
    try:
        mx.set_printoptions(precision=3)
        assert mx.get_printoptions().precision == 3
        assert repr(mx.array([1.23456, 2.0])) == "array([1.235, 2.000], dtype=float32)"
        with mx.printoptions(precision=1):
            assert repr(mx.array(0.25)) == "array(0.2, dtype=float32)"
        assert mx.get_printoptions().precision == 3
    finally:
        mx.set_printoptions()
    assert repr(mx.array([1.5, 2.0])) == "array([1.5, 2], dtype=float32)"


def random_multivariate_normal(rng):
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    x = np.array(mx.random.multivariate_normal(mx.array([1.0, -1.0]), mx.array(cov), (40000,),
                                               key=mx.random.key(int(rng.integers(1 << 30)))))
    np.testing.assert_allclose(x.mean(0), [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)


def distributed(rng):
    g = mx.distributed.init()
    assert (g.size(), g.rank()) == (1, 0) and not mx.distributed.is_available()
    x, xf = rounded(rng.standard_normal((2, 3)), "float32")
    for f in ("all_sum", "all_max", "all_min", "all_gather", "sum_scatter"):
        check(getattr(mx.distributed, f)(x), xf)
    for call in (lambda: mx.distributed.send(x, 0), lambda: mx.distributed.recv((1,), mx.float32, 0),
                 lambda: mx.distributed.recv_like(x, 0)):
        with pytest.raises(ValueError, match="singleton"):
            call()


TABLE = {}
TABLE.update({f"mx.{n}": unary_row(n, ref, dom) for n, (ref, dom) in UNARY.items()})
TABLE.update({f"mx.{n}": arith_row(n) for n in ARITH})
TABLE.update({f"mx.{n}": binary_int_row(n, ref) for n, ref in BITWISE.items()})
TABLE.update({f"mx.{n}": logical_row(n) for n in LOGICAL})
TABLE.update({
    "mx.isnan": special_values_row("isnan", np.isnan),
    "mx.isinf": special_values_row("isinf", np.isinf),
    "mx.isfinite": special_values_row("isfinite", np.isfinite),
    "mx.isposinf": special_values_row("isposinf", np.isposinf),
    "mx.isneginf": special_values_row("isneginf", np.isneginf),
    "mx.nan_to_num": nan_to_num,
    "mx.logcumsumexp": scan_row("logcumsumexp", np.logaddexp.accumulate),
    "mx.cumulative_sum": scan_row("cumulative_sum", np.cumsum),
    "mx.cumulative_prod": scan_row("cumulative_prod", np.cumprod),
    "mx.count_nonzero": counts_and_medians,
    "mx.median": counts_and_medians,
    "mx.random.gumbel": random_gumbel,
    "mx.random.laplace": random_laplace,
    "mx.random.permutation": random_permutation,
    "mx.logical_not": logical_not,
    "mx.bitwise_invert": bitwise_invert,
    "mx.power": power_row("power"),
    "mx.pow": power_row("pow"),
    "mx.divmod": divmod_,
    "mx.sum": reduction_row("sum", np.sum, FLOATS),
    "mx.prod": reduction_row("prod", np.prod, bound="relative"),
    "mx.max": reduction_row("max", np.max, FLOATS, bound="exact"),
    "mx.min": reduction_row("min", np.min, FLOATS, bound="exact"),
    "mx.mean": reduction_row("mean", np.mean, FLOATS),
    "mx.logsumexp": reduction_row("logsumexp", _logsumexp, bound="relative"),
    "mx.var": reduction_row("var", np.var, bound="relative", ddof=1),
    "mx.std": reduction_row("std", np.std, bound="relative"),
    "mx.all": bool_reduction_row("all", np.all),
    "mx.any": bool_reduction_row("any", np.any),
    "mx.argmax": argreduce_row("argmax", np.argmax),
    "mx.argmin": argreduce_row("argmin", np.argmin),
    "mx.cumsum": scan_row("cumsum", np.cumsum),
    "mx.cumprod": scan_row("cumprod", np.cumprod),
    "mx.cummax": scan_row("cummax", np.maximum.accumulate),
    "mx.cummin": scan_row("cummin", np.minimum.accumulate),
    "mx.softmax": softmax,
    "mx.matmul": matmul,
    "mx.addmm": addmm,
    "mx.isclose": isclose,
    "mx.allclose": allclose,
    "mx.array_equal": array_equal,
    "mx.clip": clip,
    "mx.where": where,
    "mx.arange": arange,
    "mx.linspace": linspace,
    "mx.issubdtype": issubdtype,
    "mx.eval": evaluation,
    "mx.async_eval": evaluation,
    "mx.synchronize": evaluation,
    "mx.set_auto_fusion": auto_fusion,
    "mx.grad": transforms,
    "mx.value_and_grad": transforms,
    "mx.vjp": transforms,
    "mx.jvp": transforms,
    "mx.stop_gradient": transforms,
    "mx.depends": graph_names,
    "mx.get_array_buffer_size": graph_names,
    "mx.export_to_dot": graph_names,
    "mx.export_function": function_export,
    "mx.exporter": function_export,
    "mx.import_function": function_export,
    "mx.start_capture": capture,
    "mx.stop_capture": capture,
    "mx.random.seed": random_keys,
    "mx.random.key": random_keys,
    "mx.random.split": random_keys,
    "mx.random.uniform": random_uniform,
    "mx.random.normal": random_normal,
    "mx.random.truncated_normal": random_truncated_normal,
    "mx.random.randint": random_randint,
    "mx.random.bernoulli": random_bernoulli,
    "mx.random.categorical": random_categorical,
})
for _n in ("full", "zeros", "ones", "full_like", "zeros_like", "ones_like"):
    TABLE[f"mx.{_n}"] = creation
for _n in ("eye", "identity"):
    TABLE[f"mx.{_n}"] = eye
for _n in ("reshape", "flatten", "transpose", "permute_dims", "swapaxes", "moveaxis", "expand_dims", "squeeze",
           "broadcast_to", "broadcast_arrays", "broadcast_shapes", "slice", "contiguous",
           "astype"):
    TABLE[f"mx.{_n}"] = shapes
for _n in ("concatenate", "concat", "stack", "split", "pad", "tile", "repeat"):
    TABLE[f"mx.{_n}"] = joins
for _n in ("take", "take_along_axis", "put_along_axis"):
    TABLE[f"mx.{_n}"] = gathers
for _n in ("sort", "argsort", "topk"):
    TABLE[f"mx.{_n}"] = sorts
for _n in ("tri", "tril", "triu", "diag", "diagonal", "trace", "matrix_transpose"):
    TABLE[f"mx.{_n}"] = structure
for _n in ("flip", "roll", "meshgrid", "unflatten", "unstack", "atleast_1d", "atleast_2d",
           "atleast_3d", "diff"):
    TABLE[f"mx.{_n}"] = rearrange
for _n in ("outer", "inner", "kron", "tensordot", "vecdot"):
    TABLE[f"mx.{_n}"] = products
for _n in ("partition", "argpartition", "searchsorted"):
    TABLE[f"mx.{_n}"] = orders
for _n in ("result_type", "can_cast", "isdtype"):
    TABLE[f"mx.{_n}"] = dtype_rules
for _n in ("bartlett", "blackman", "hamming", "hanning"):
    TABLE[f"mx.{_n}"] = windows
for _n in ("empty", "empty_like", "asarray"):
    TABLE[f"mx.{_n}"] = more_creation
for _n in ("fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq", "stft", "istft"):
    TABLE[f"mx.fft.{_n}"] = fft_functions
for _n in ("norm", "inv", "det", "slogdet", "cholesky", "cholesky_inv", "tri_inv", "qr", "lu",
           "lu_factor", "solve", "solve_triangular", "eigh", "eigvalsh", "cross", "svd", "pinv",
           "eig", "eigvals"):
    TABLE[f"mx.linalg.{_n}"] = linalg_functions
for _n in ("default_device", "set_default_device", "is_available", "device_count",
           "device_info", "cuda.is_available", "cuda.set_allow_tf32", "metal.is_available"):
    TABLE[f"mx.{_n}"] = devices
for _n in ("new_stream", "new_thread_local_stream", "default_stream", "set_default_stream",
           "stream", "clear_streams"):
    TABLE[f"mx.{_n}"] = streams
for _n in ("get_active_memory", "get_peak_memory", "reset_peak_memory", "get_cache_memory",
           "clear_cache", "set_memory_limit", "get_memory_limit", "set_cache_limit"):
    TABLE[f"mx.{_n}"] = memory
for _n in ("save", "savez", "savez_compressed", "save_safetensors", "save_gguf", "load"):
    TABLE[f"mx.{_n}"] = files


def from_dlpack(rng):
    """The array over NumPy's memory holds NumPy's values (test_buffers_dlpack.py has the rest)."""
    x = rng.standard_normal((4, 5))
    a = mx.from_dlpack(x)
    assert a.dtype == mx.float64
    check(a, x, "float64")
    check(mx.from_dlpack(x.T[::-1]), x.T[::-1], "float64")


TABLE["mx.from_dlpack"] = from_dlpack
for _n in ("get_active_memory", "get_peak_memory", "reset_peak_memory", "get_cache_memory",
           "clear_cache", "set_memory_limit", "set_cache_limit"):
    TABLE[f"mx.metal.{_n}"] = lambda rng: memory(rng, "metal")
TABLE["mx.metal.start_capture"] = TABLE["mx.metal.stop_capture"] = "metal_capture"
for _n in ("real", "imag", "conj", "conjugate"):
    TABLE[f"mx.{_n}"] = complex_parts
for _n in ("view", "as_strided"):
    TABLE[f"mx.{_n}"] = reinterpret
for _n in ("conv1d", "conv2d", "conv3d", "conv_general", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "convolve"):
    TABLE[f"mx.{_n}"] = convolutions
for _n in ("einsum", "einsum_path"):
    TABLE[f"mx.{_n}"] = einsums
for _n in ("set_printoptions", "get_printoptions", "printoptions"):
    TABLE[f"mx.{_n}"] = printing
for _n in ("is_available", "init", "all_sum", "all_max", "all_min", "all_gather", "sum_scatter",
           "send", "recv", "recv_like"):
    TABLE[f"mx.distributed.{_n}"] = distributed


def fast_functions(rng):
    """mx.fast against float64 NumPy (test_fast.py compares them with MLX in depth)."""
    x = rng.standard_normal((3, 16))
    w, b = rng.standard_normal(16), rng.standard_normal(16)
    a = mx.array(x.astype(np.float32))
    xr = np.array(a).astype(np.float64)
    wa, ba = mx.array(w.astype(np.float32)), mx.array(b.astype(np.float32))
    wr, br = np.array(wa).astype(np.float64), np.array(ba).astype(np.float64)
    check(mx.fast.rms_norm(a, wa, 1e-5), xr / np.sqrt((xr ** 2).mean(-1, keepdims=True) + 1e-5)
          * wr)
    mu, var = xr.mean(-1, keepdims=True), xr.var(-1, keepdims=True)
    check(mx.fast.layer_norm(a, wa, ba, 1e-5), (xr - mu) / np.sqrt(var + 1e-5) * wr + br)
    q = rng.standard_normal((1, 2, 4, 8))
    qa = mx.array(q.astype(np.float32))
    qr = np.array(qa).astype(np.float64)
    theta = np.arange(4)[:, None] * 10000.0 ** (-np.arange(4) / 4)
    c, s = np.cos(theta), np.sin(theta)
    want = np.concatenate([qr[..., :4] * c - qr[..., 4:] * s, qr[..., :4] * s + qr[..., 4:] * c],
                          -1)
    check(mx.fast.rope(qa, 8, traditional=False, base=10000.0, scale=1.0, offset=0), want)
    sc = qr @ np.swapaxes(qr, -1, -2) * 0.5
    p = np.exp(sc - sc.max(-1, keepdims=True))
    check(mx.fast.scaled_dot_product_attention(qa, qa, qa, scale=0.5),
          (p / p.sum(-1, keepdims=True)) @ qr)
    t = rng.integers(0, 16, 3)
    check(mx.fast.cross_entropy(a, mx.array(t)),
          np.log(np.exp(xr).sum(-1)) - xr[np.arange(3), t])
    with pytest.raises(RuntimeError, match="Metal"):
        mx.fast.metal_kernel(name="k", input_names=[], output_names=[], source="")


for _n in ("rms_norm", "layer_norm", "rope", "scaled_dot_product_attention", "cross_entropy",
           "metal_kernel"):
    TABLE[f"mx.fast.{_n}"] = fast_functions


def gated_delta(rng):
    """Two steps of the gated delta rule written out in float64 (test_gated_delta.py has the
    rest)."""
    q, k = rng.standard_normal((1, 2, 1, 3)), rng.standard_normal((1, 2, 1, 3))
    v = rng.standard_normal((1, 2, 1, 2))
    g, b = rng.uniform(0.5, 1, (1, 2, 1)), rng.uniform(0, 1, (1, 2, 1))
    arrays = [rounded(x, "float32") for x in (q, k, v, g, b)]
    (qa, qr), (ka, kr), (va, vr), (ga, gr), (ba, br) = arrays
    s = np.zeros((2, 3))
    outs = []
    for t in range(2):
        s = s * gr[0, t, 0]
        s = s + np.outer((vr[0, t, 0] - s @ kr[0, t, 0]) * br[0, t, 0], kr[0, t, 0])
        outs.append(s @ qr[0, t, 0])
    out, state = mx.fast.gated_delta_update(qa, ka, va, ga, ba)
    check(out, np.array(outs).reshape(1, 2, 1, 2))
    check(state, s.reshape(1, 1, 2, 3))


TABLE["mx.fast.gated_delta_update"] = gated_delta


def cuda_kernels(rng):
    """A user kernel (test_cuda_kernel.py has the rest): doubles a random array on the GPU
    against NumPy; without a GPU, a CPU stream is refused naming the op."""
    x, xr = rounded(rng.standard_normal(300), "float32")
    k = mx.fast.cuda_kernel(name="double", input_names=["x"], output_names=["y"], source="""
        int i = blockIdx.x * blockDim.x + threadIdx.x;
        if (i < 300) y[i] = 2.0f * x[i];""")
    args = dict(inputs=[x], output_shapes=[(300,)], output_dtypes=[mx.float32],
                grid=(300, 1, 1), threadgroup=(128, 1, 1))
    if HAS_GPU:
        (y,) = k(**args, stream=mx.gpu)
        check(y, 2 * xr)
    with pytest.raises(ValueError, match="cuda_kernel.*GPU streams only"):
        k(**args, stream=mx.cpu)
    with pytest.raises(ValueError, match="GPU streams only"):
        mx.fast.precompiled_cuda_kernel(name="double", compiled_source=b".version 8.0", scalars=[],
                                        stream=mx.cpu, **args)


TABLE["mx.fast.cuda_kernel"] = TABLE["mx.fast.precompiled_cuda_kernel"] = cuda_kernels


def matrix_norm(rng):
    """The largest and smallest singular values and their sum against NumPy's (the top-level
    name MLX gives linalg.norm; test_matrix_norms.py has the rest)."""
    x, xr = rounded(rng.standard_normal((2, 4, 3)), "float64")
    for ord in (2, -2, "nuc"):
        check(mx.matrix_norm(x, ord, (1, 2)), np.linalg.norm(xr, ord, (1, 2)))


TABLE["mx.matrix_norm"] = matrix_norm
TABLE.update({"mx.minmax": minmax, "mx.slice_update": slice_update, "mx.unique": unique,
              "mx.random.multivariate_normal": random_multivariate_normal})
TABLE["mx.divide"] = (lambda f: lambda rng: (f(rng), divide_ints(rng)))(TABLE["mx.divide"])


def test_the_table_has_every_public_function():
    public = set(public_functions())
    assert not sorted(public - set(TABLE)), f"no table row: {sorted(public - set(TABLE))}"
    assert not sorted(set(TABLE) - public), f"rows for no function: {sorted(set(TABLE) - public)}"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_function_against_reference(name, tmp_path_factory):
    rng = np.random.default_rng([SEED, sum(map(ord, name))])
    row = TABLE[name]
    if row == "metal_capture":
        metal_capture(rng, tmp_path_factory)
    else:
        row(rng)


# ---------------------------------------------------------------- matmul variants, quantization
# (test_quantized_and_gathered_mm.py compares them with MLX in depth; these rows check each
# against a float64 NumPy reference.)


def quantization(rng):
    """quantize's codes, read back by NumPy, times the scales plus the biases give
    dequantize's values, within half a step of w inside the levels; quantized_matmul is x @ that.T."""
    w = rng.standard_normal((4, 128))
    for bits in (2, 3, 4, 8):
        a, _ = rounded(w, "float32")
        w_q, scales, biases = mx.quantize(a, 32, bits)
        words = np.array(w_q).astype(np.uint64)
        stream = ((words[..., None] >> np.arange(32, dtype=np.uint64)) & 1).reshape(4, -1, bits)
        codes = (stream << np.arange(bits, dtype=np.uint64)).sum(-1).astype(np.float64)
        dense = (codes.reshape(4, -1, 32) * np.array(scales, np.float64)[..., None]
                 + np.array(biases, np.float64)[..., None]).reshape(4, 128)
        check(mx.dequantize(w_q, scales, biases, 32, bits), dense)
        assert np.abs(dense - w).max() <= np.abs(np.array(scales)).max() * 1.01
        x, xr = rounded(rng.standard_normal((3, 128)), "float32")
        np.testing.assert_allclose(np.array(mx.quantized_matmul(x, w_q, scales, biases, True, 32,
                                                                bits)), xr @ dense.T,
                                   rtol=1e-5, atol=1e-5)
        idx = np.array([0, 0, 1])
        stacked = [mx.stack([p, p]) for p in (w_q, scales, biases)]
        np.testing.assert_allclose(
            np.array(mx.gather_qmm(mx.expand_dims(x, 1), *stacked, None, mx.array(idx), True, 32,
                                   bits)), (xr @ dense.T)[:, None], rtol=1e-5, atol=1e-5)


def gathered_products(rng):
    for dtype in ("float32", "float16"):
        a, ar = rounded(rng.standard_normal((3, 2, 4)), dtype)
        b, br = rounded(rng.standard_normal((5, 4, 6)), dtype)
        lhs, rhs = np.array([0, 2, 1, 1]), np.array([4, 0, 0, 3])
        check(mx.gather_mm(a, b, mx.array(lhs), mx.array(rhs)), ar[lhs] @ br[rhs])
        seg = np.array([[0, 1], [1, 4], [2, 2]])
        want = np.stack([ar[0][:, s:e] @ br[0][s:e] for s, e in seg])
        check(mx.segmented_mm(a[0], b[0], mx.array(seg)), want)
        big_a, bar = rounded(rng.standard_normal((40, 70)), dtype)
        big_b, bbr = rounded(rng.standard_normal((70, 33)), dtype)
        mask = rng.random((2, 3)) < 0.5
        full = np.repeat(np.repeat(mask, 32, 0), 32, 1)[:40, :70]
        rtol, atol = tol(dtype)
        got = mx.block_masked_mm(big_a, big_b, 32, None, mx.array(mask))
        np.testing.assert_allclose(np.array(got.astype(mx.float32)), (bar * full) @ bbr,
                                   rtol=rtol * 4, atol=atol * 40)


def hadamard(rng):
    for n in (8, 16):
        x, xr = rounded(rng.standard_normal((3, n)), "float32")
        h = np.ones((1, 1))
        while h.shape[0] < n:
            h = np.block([[h, h], [h, -h]])
        check(mx.hadamard_transform(x), xr @ h.T / np.sqrt(n))


def float8(rng):
    codes = np.arange(256).astype(np.uint8)
    e, m = (codes >> 3) & 15, (codes & 7).astype(np.float64)
    want = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e - 7.0))
    want = np.where(codes & 0x80, -want, want)
    want[(codes & 0x7F) == 0x7F] = np.nan
    check(mx.from_fp8(mx.array(codes), mx.float32), want, "float32")
    finite = (codes & 0x7F) != 0x7F
    assert_array(mx.to_fp8(mx.array(want[finite].astype(np.float32))), codes[finite], mx.uint8)


def wired_limits_and_thread_streams(rng):
    previous = mx.set_wired_limit(123)
    assert mx.set_wired_limit(previous) == 123
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert mx.metal.set_wired_limit(previous) == previous
        assert mx.metal.device_info() == {}
    s = mx.new_thread_unsafe_stream(mx.cpu)
    assert s.device == mx.cpu and s != mx.default_stream(mx.cpu)


for _n in ("quantize", "dequantize", "quantized_matmul", "gather_qmm"):
    TABLE[f"mx.{_n}"] = quantization


def float_quantized_products(rng):
    """mxfp8 codes and scales read back by NumPy (e4m3 fields, e8m0 powers of two) give the
    operands of qqmm and gather_qqmm, against a float64 product (test_microscaling.py has the
    rest)."""

    def decoded(w_q, scales):
        codes = np.array(w_q).view(np.uint8).astype(np.int64)
        e, m = (codes >> 3) & 15, (codes & 7).astype(np.float64)
        values = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e - 7.0))
        values = np.where(codes & 0x80, -values, values)
        return values * np.repeat(2.0 ** (np.array(scales).astype(np.float64) - 127), 32, -1)

    w, _ = rounded(rng.standard_normal((3, 6, 64)), "float32")
    x, _ = rounded(rng.standard_normal((3, 4, 64)), "float32")
    w_q, scales = mx.quantize(w, mode="mxfp8")
    x_q, x_scales = mx.quantize(x, mode="mxfp8")
    dw, dx = decoded(w_q, scales), decoded(x_q, x_scales)
    check(mx.dequantize(w_q, scales, mode="mxfp8", dtype=mx.float32), dw, "float32")
    want = dx @ np.swapaxes(dw, -1, -2)
    np.testing.assert_allclose(np.array(mx.qqmm(x, w_q, scales, mode="mxfp8")), want,
                               rtol=1e-5, atol=1e-5 * np.abs(want).max())
    lhs, rhs = np.array([2, 0]), np.array([1, 1])
    np.testing.assert_allclose(
        np.array(mx.gather_qqmm(x, w, None, mx.array(lhs), mx.array(rhs), mode="mxfp8")),
        np.stack([dx[i] @ dw[j].T for i, j in zip(lhs, rhs)]),
        rtol=1e-5, atol=1e-5 * np.abs(want).max())


TABLE["mx.qqmm"] = TABLE["mx.gather_qqmm"] = float_quantized_products
for _n in ("gather_mm", "segmented_mm", "block_masked_mm"):
    TABLE[f"mx.{_n}"] = gathered_products
TABLE["mx.hadamard_transform"] = hadamard
TABLE["mx.to_fp8"] = TABLE["mx.from_fp8"] = float8
for _n in ("set_wired_limit", "metal.set_wired_limit", "metal.device_info",
           "new_thread_unsafe_stream"):
    TABLE[f"mx.{_n}"] = wired_limits_and_thread_streams


def compile_functions(rng):
    """A compiled function gives the plain one's values on new inputs without running again
    (test_compile.py has the rest)."""
    calls = []

    def f(x, y):
        calls.append(1)
        return mx.exp(x) * y + x

    c = mx.compile(f)
    for _ in range(3):
        x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
        a, b = mx.array(x.astype(np.float32)), mx.array(y.astype(np.float32))
        xr, yr = np.array(a).astype(np.float64), np.array(b).astype(np.float64)
        check(c(a, b), np.exp(xr) * yr + xr)
    assert len(calls) == 1
    mx.disable_compile()
    try:
        c(a, b)
    finally:
        mx.enable_compile()
    assert len(calls) == 2


for _n in ("compile", "disable_compile", "enable_compile"):
    TABLE[f"mx.{_n}"] = compile_functions


def vmap_custom_checkpoint(rng):
    """vmap equals a loop over the examples; a custom vjp rule is what grad uses; checkpoint's
    gradient is the plain function's (test_vmap_custom.py has the rest)."""
    x = rng.standard_normal((5, 3))
    a = mx.array(x.astype(np.float32))
    xr = np.array(a).astype(np.float64)
    check(mx.vmap(lambda r: mx.sin(r) * r.sum())(a), np.sin(xr) * xr.sum(axis=1, keepdims=True))

    @mx.custom_function
    def f(v):
        return mx.exp(v)

    @f.vjp
    def f_vjp(primal, cotangent, output):
        return cotangent * 3.0

    check(f(a), np.exp(xr))
    check(mx.grad(lambda v: f(v).sum())(a), np.full((5, 3), 3.0))
    check(mx.grad(lambda v: mx.checkpoint(lambda u: mx.sin(u) * u)(v).sum())(a),
          np.cos(xr) * xr + np.sin(xr))


for _n in ("vmap", "checkpoint"):
    TABLE[f"mx.{_n}"] = vmap_custom_checkpoint
