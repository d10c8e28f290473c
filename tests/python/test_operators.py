"""Operators and binary functions against NumPy, with Python scalars on either side, and MLX's
type promotion and weak scalar typing checked against real MLX."""

import operator

import numpy as np
import pytest

import rill.core as mx
from conftest import assert_array, tol

DTYPE_NAMES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
               "float16", "bfloat16", "float32", "float64", "complex64"]


def rdt(name):
    return getattr(mx, "bool_" if name == "bool" else name)


def name_of(d):
    return repr(d).split(".")[-1]


ARITH = [
    (operator.add, "add"),
    (operator.sub, "subtract"),
    (operator.mul, "multiply"),
    (operator.truediv, "divide"),
    (operator.floordiv, "floor_divide"),
    (operator.mod, "remainder"),
    (operator.pow, "power"),
]
COMPARE = [
    (operator.eq, "equal"),
    (operator.ne, "not_equal"),
    (operator.lt, "less"),
    (operator.le, "less_equal"),
    (operator.gt, "greater"),
    (operator.ge, "greater_equal"),
]
BITWISE = [
    (operator.and_, "bitwise_and"),
    (operator.or_, "bitwise_or"),
    (operator.xor, "bitwise_xor"),
    (operator.lshift, "left_shift"),
    (operator.rshift, "right_shift"),
]


@pytest.fixture
def ints(rng):
    # Nonzero divisors, small exponents, both signs.
    x = rng.integers(-20, 20, size=(4, 5)).astype(np.int32)
    y = rng.integers(1, 6, size=(4, 5)).astype(np.int32) * rng.choice([-1, 1], size=(4, 5)).astype(np.int32)
    return x, y


@pytest.fixture
def floats(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    y = (rng.random((4, 5)).astype(np.float32) + 0.5) * rng.choice([-1, 1], size=(4, 5)).astype(np.float32)
    return x, y


@pytest.mark.parametrize("op, name", ARITH + COMPARE)
def test_float_operators_vs_numpy(op, name, floats):
    x, y = floats
    a, b = mx.array(x), mx.array(y)
    if name == "power":
        x = np.abs(x)
        a = mx.array(x)
    expected = op(x, y)
    assert_array(op(a, b), expected, rtol=2e-6, atol=1e-6)
    assert_array(getattr(mx, name)(a, b), expected, rtol=2e-6, atol=1e-6)
    # Python scalars on either side keep float32.
    r = op(a, 1.5)
    assert r.dtype in (mx.float32, mx.bool_)
    assert_array(r, op(x, np.float32(1.5)), rtol=2e-6, atol=1e-6)
    r = op(2.5, a) if name != "power" else op(2.5, a)
    assert_array(r, op(np.float32(2.5), x), rtol=2e-6, atol=1e-6)
    # Broadcasting against a row and a column.
    assert_array(op(a, b[0]), op(x, y[0]), rtol=2e-6, atol=1e-6)
    assert_array(op(a[:, :1], b), op(x[:, :1], y), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("op, name", ARITH + COMPARE + BITWISE)
def test_int_operators_vs_numpy(op, name, ints):
    x, y = ints
    if name in ("left_shift", "right_shift", "power"):
        y = np.abs(y)
        if name != "power":
            x = np.abs(x)
    a, b = mx.array(x), mx.array(y)
    expected = op(x, y)
    got = op(a, b)
    if name == "divide":
        assert got.dtype == mx.float32
        assert_array(got, expected, rtol=1e-6)
    else:
        assert_array(got, expected.astype(expected.dtype))
        assert got.dtype in (mx.int32, mx.bool_)
    assert_array(getattr(mx, name)(a, b), expected, rtol=1e-6)
    # An int scalar on either side stays int32.
    assert_array(op(a, 3), op(x, np.int32(3)), rtol=1e-6)
    assert_array(op(3, b), op(np.int32(3), y), rtol=1e-6)


def test_reflected_operators_with_python_scalars():
    a = mx.array([1, 2, 4])
    assert (2 - a).tolist() == [1, 0, -2]
    assert (2 / a).tolist() == [2.0, 1.0, 0.5]
    assert (7 // a).tolist() == [7, 3, 1]
    assert (7 % mx.array([3, -3])).tolist() == [1, -2]
    assert (2**a).tolist() == [2, 4, 16]
    assert (1 << a).tolist() == [2, 4, 16]
    assert (64 >> a).tolist() == [32, 16, 4]
    assert (True | mx.array([False, True])).tolist() == [True, True]
    assert (3 ^ a).tolist() == [2, 1, 7]
    assert (6 & a).tolist() == [0, 2, 4]
    assert (1.5 > a).tolist() == [True, False, False]


def test_inplace_operators_update_the_object():
    a = mx.array([1, 2, 3])
    alias = a
    a += 1
    assert alias is a and alias.tolist() == [2, 3, 4]
    a *= 2
    a -= mx.array([1, 1, 1])
    a //= 2
    assert a.tolist() == [1, 2, 3]
    a **= 2
    a %= 5
    assert a.tolist() == [1, 4, 4]
    f = mx.array([1.0, 2.0])
    f /= 4
    assert f.tolist() == [0.25, 0.5]
    b = mx.array([0b1100, 0b1010])
    b &= 0b1000
    b |= 1
    b ^= 3
    b <<= 1
    b >>= 2
    assert b.tolist() == [(((0b1000 | 1) ^ 3) << 1) >> 2, (((0b1000 | 1) ^ 3) << 1) >> 2]
    with pytest.raises(TypeError):
        a += "x"


def test_inplace_true_division_of_integers_is_refused(mlx):
    # `/=` would make the integer array a float one under every name bound to it: MLX refuses,
    # and the array is left as it was; `+= 1.5` promotes in both.
    for m in (mx, mlx):
        a = m.array([1, 2, 3])
        alias = a
        with pytest.raises(ValueError, match="In place division"):
            a /= 2
        assert alias.dtype == m.int32 and alias.tolist() == [1, 2, 3]
        a += 1.5
        assert alias.dtype == m.float32 and alias.tolist() == [2.5, 3.5, 4.5]
    b = mx.array([True, False])
    with pytest.raises(ValueError, match="In place division"):
        b /= 2
    h = mx.array([1.0, 3.0], dtype=mx.float16)
    h /= 2
    assert h.dtype == mx.float16 and h.tolist() == [0.5, 1.5]


def test_unsupported_operands():
    a = mx.array([1, 2])
    with pytest.raises(TypeError):
        a + "x"
    with pytest.raises(TypeError):
        a + None
    with pytest.raises(TypeError):
        a + [1, 2]
    assert (a == None) is False  # noqa: E711
    assert (a != "x") is True
    with pytest.raises(ValueError):
        a + mx.zeros((3,))


def test_numpy_operands():
    a = mx.array([1, 2], dtype=mx.int32)
    r = a + np.array([1.5, 2.5])
    # A NumPy array meeting a rill array takes its dtype (MLX).
    assert r.dtype == mx.int32 and r.tolist() == [2, 4]
    r = mx.array([1, 2], dtype=mx.float16) + np.array([1.5, 2.5])
    assert r.dtype == mx.float16 and r.tolist() == [2.5, 4.5]
    # NumPy scalars are weak, as Python scalars.
    assert (a + np.float64(1.5)).dtype == mx.float32
    assert (mx.array([1.0], dtype=mx.float16) + np.float32(1.5)).dtype == mx.float16
    assert (a + np.int64(3)).dtype == mx.int32
    assert mx.add(np.array([1.5]), 1).tolist() == [2.5]


def test_binary_functions_with_scalars_only():
    assert mx.add(1, 2).dtype == mx.int32 and mx.add(1, 2).item() == 3
    assert mx.add(1.5, 2).dtype == mx.float32
    assert mx.add(True, 2).item() == 3
    assert mx.multiply(2, 1j).item() == 2j
    assert mx.add([1, 2], 1).tolist() == [2, 3]


def test_logical_functions():
    a = mx.array([1, 0, 2, 0])
    b = mx.array([1, 1, 0, 0])
    assert mx.logical_and(a, b).tolist() == [True, False, False, False]
    assert mx.logical_or(a, b).tolist() == [True, True, True, False]
    assert mx.logical_xor(a, b).tolist() == [False, True, True, False]
    assert mx.logical_and(1, a).tolist() == [True, False, True, False]
    q, r = mx.divmod(mx.array([7, -7]), 3)
    assert q.tolist() == [2, -3] and r.tolist() == [1, 2]


def test_maximum_minimum_arctan2_logaddexp(floats):
    x, y = floats
    a, b = mx.array(x), mx.array(y)
    assert_array(mx.maximum(a, b), np.maximum(x, y))
    assert_array(mx.minimum(a, 0.0), np.minimum(x, 0.0))
    assert_array(mx.arctan2(a, b), np.arctan2(x, y), rtol=1e-5, atol=1e-6)
    assert_array(mx.atan2(a, b), np.arctan2(x, y), rtol=1e-5, atol=1e-6)
    assert_array(mx.logaddexp(a, b), np.logaddexp(x, y), rtol=1e-5, atol=1e-6)


def test_weak_scalar_integer_overflow_is_value_error():
    with pytest.raises(ValueError, match="overflow"):
        mx.array([1, 2], dtype=mx.uint8) + 300
    with pytest.raises(ValueError, match="overflow"):
        mx.array([1, 2], dtype=mx.uint32) + (-1)
    with pytest.raises(ValueError, match="overflow"):
        mx.array([1, 2], dtype=mx.int8) < 200
    with pytest.raises(ValueError, match="overflow"):
        mx.where(mx.array([True, False]), mx.array([1, 2], dtype=mx.uint8), 300)
    assert (mx.array([1, 2], dtype=mx.int64) + 2**40).tolist() == [2**40 + 1, 2**40 + 2]


def test_dtype_errors():
    with pytest.raises(ValueError):
        mx.array([True]) - mx.array([True])
    with pytest.raises(ValueError):
        mx.array([1.5]) << 1
    with pytest.raises(ValueError):
        mx.array([1.5]) & 1
    with pytest.raises(ValueError):
        ~mx.array([1.5])


def test_promotion_of_every_pair_matches_mlx(mlx):
    for n1 in DTYPE_NAMES:
        for n2 in DTYPE_NAMES:
            ours = mx.add(mx.zeros((1,), rdt(n1)), mx.zeros((1,), rdt(n2)))
            theirs = mlx.add(mlx.zeros((1,), getattr(mlx, "bool_" if n1 == "bool" else n1)),
                             mlx.zeros((1,), getattr(mlx, "bool_" if n2 == "bool" else n2)))
            assert name_of(ours.dtype) == str(theirs.dtype).split(".")[-1], (n1, n2)


def weak_inputs(name):
    """Inputs for the weak-scalar comparison: both signs where the type has them, nonzero (the
    scalar may divide by them), exact in every type of the kind (both libraries start from the
    same bits)."""
    if name == "bool":
        return [True, False, True]
    if name.startswith("uint"):
        return [1, 3, 7]
    if name.startswith("int"):
        return [-5, 1, 3]
    if name.startswith("complex"):
        return [-1.75 + 0.5j, 0.5 - 2j, 2.25]
    return [-1.75, 0.5, 2.25]


@pytest.mark.parametrize("scalar", [True, 1, -1, 2.5, 1j, 300])
@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.truediv, operator.lt,
                                operator.eq])
def test_weak_scalars_match_mlx(scalar, op, mlx):
    for n in DTYPE_NAMES:
        values = weak_inputs(n)

        def run(m, d):
            a = m.array(values, dtype=d)
            return op(a, scalar), op(scalar, a)

        if n == "uint64" and not isinstance(scalar, bool) and scalar == -1:
            # MLX wraps -1 into uint64 silently (its range check stops at 32 bits); rill raises as
            # it does for every other unsigned type.
            with pytest.raises(ValueError, match="overflow"):
                run(mx, rdt(n))
            continue
        try:
            theirs = run(mlx, getattr(mlx, "bool_" if n == "bool" else n))
        except Exception as e:  # MLX raises: so must we, with the same kind of error
            with pytest.raises(type(e)):
                run(mx, rdt(n))
            continue
        ours = run(mx, rdt(n))
        for o, t in zip(ours, theirs):
            out = name_of(o.dtype)
            assert out == str(t.dtype).split(".")[-1], (n, scalar, op)
            # Both compute in the result's dtype from the same inputs: equal within that dtype's
            # rounding (exact for integers and booleans).
            rtol, atol = tol(out)
            np.testing.assert_allclose(np.array(o.astype(mx.complex64)),
                                       np.array(t.astype(mlx.complex64)), rtol=rtol, atol=atol,
                                       err_msg=f"{n} {op.__name__} {scalar!r}")


def test_unary_operators():
    a = mx.array([-1, 2])
    assert (-a).tolist() == [1, -2]
    assert abs(a).tolist() == [1, 2]
    assert (~mx.array([1, 2])).tolist() == [-2, -3]
    assert (~mx.array([True, False])).tolist() == [False, True]
    assert (+a).tolist() == [-1, 2]
    with pytest.raises(ValueError):
        -mx.array([True])


def test_positive_and_unary_plus():
    a = mx.array([-1, 2])
    assert (+a).tolist() == [-1, 2]
    assert mx.positive(a).tolist() == [-1, 2]


def test_where_with_scalars():
    c = mx.array([True, False, True])
    assert mx.where(c, mx.array([1, 2, 3]), 0.5).tolist() == [1.0, 0.5, 3.0]
    assert mx.where(c, 1, 2).tolist() == [1, 2, 1]
    assert mx.where(True, 1, 2).item() == 1
    assert mx.where(mx.array([1, 0]), 1, 2).tolist() == [1, 2]
    r = mx.where(c, mx.array([1, 2, 3], dtype=mx.int8), 7)
    assert r.dtype == mx.int8
    with pytest.raises(ValueError):
        mx.where(mx.array([True, False]), mx.zeros((3,)), 1)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("fusion", ["off", "cpu"])
def test_power_by_two_and_by_a_half_are_correctly_rounded(dt, fusion, cpu_default):
    # `x ** 2` is computed as `x * x` and `x ** 0.5` as a square root (the CPU's fast paths):
    # both correctly rounded, so equal to float64/NumPy's own square and root bit for bit, with
    # pow's special values (-0 ** 0.5 is +0, -inf ** 0.5 is +inf, negatives give NaN), whether the
    # exponent is a scalar, an array, or the op is fused into a chain.
    old = mx.set_auto_fusion(fusion)
    try:
        rng = np.random.default_rng(11)
        x = np.concatenate([
            rng.standard_normal(5000) * np.exp(rng.uniform(-30, 30, 5000)),
            [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 3e38, -2.5],
        ]).astype(dt)
        a = mx.array(x, dtype=getattr(mx, dt))
        with np.errstate(all="ignore"):
            square = np.square(x)
            root = np.where(x == -np.inf, np.inf, np.sqrt(x) + 0.0).astype(dt)
        exps = np.where(np.arange(x.size) % 2 == 0, 2.0, 0.5).astype(dt)
        mixed = np.where(exps == 2.0, square, root)
        cases = {
            "x ** 2": (a ** 2, square),
            "power(x, 0.5)": (mx.power(a, 0.5), root),
            "x ** [2, 0.5, ...]": (a ** mx.array(exps), mixed),
            "fused chain": ((a * 1.0 + 0.0) ** 2 * 1.0, square),
        }
        for what, (got, want) in cases.items():
            got = np.array(got)
            assert got.dtype == want.dtype, what
            same = (got == want) | (np.isnan(got) & np.isnan(want))
            assert same.all(), (what, x[~same][:5], got[~same][:5], want[~same][:5])
            assert np.array_equal(np.signbit(got[~np.isnan(got)]),
                                  np.signbit(want[~np.isnan(want)])), what
    finally:
        mx.set_auto_fusion(old)


@pytest.mark.parametrize("fusion", ["off", "cpu"])
def test_float32_power_by_a_whole_number_matches_float64(fusion, cpu_default):
    # Whole exponents up to 15 are float64 products on the CPU; against NumPy's float64 power
    # rounded to float32 they agree exactly on these inputs (both are within far less than half
    # a float32 ulp of the exact value), special values included, scalar or array exponent.
    old = mx.set_auto_fusion(fusion)
    try:
        rng = np.random.default_rng(12)
        x = np.concatenate([
            rng.standard_normal(4000) * np.exp(rng.uniform(-12, 12, 4000)),
            [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-30, -3e30, 2.0 ** -70],
        ]).astype(np.float32)
        a = mx.array(x)
        x64 = x.astype(np.float64)
        for n in [3, -1, -2, 0, 1, 4, 7, 15, -15, 16, 2.5, -3]:
            with np.errstate(all="ignore"):
                want = (x64 ** n).astype(np.float32)
            for what, got in [("scalar", a ** n), ("array", a ** mx.array(np.full(x.size, n, np.float32))),
                              ("fused", (a * 1.0) ** n * 1.0)]:
                got = np.array(got)
                if n in (16, 2.5):  # powf: within an ulp or two of the rounded value
                    ok = np.isclose(got, want, rtol=3e-7, atol=0, equal_nan=True) | (got == want)
                else:
                    ok = (got == want) | (np.isnan(got) & np.isnan(want))
                assert ok.all(), (n, what, x[~ok][:4], got[~ok][:4], want[~ok][:4])
    finally:
        mx.set_auto_fusion(old)
