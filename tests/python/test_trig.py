"""sin, cos and tan of float32 on the CPU (`backend/cpu/trig_f32.rs`): against NumPy's float64
functions at the same float32 arguments, through every path a kernel takes: contiguous arrays
(the near path over everything, the exact path again where an argument is far), strided and
broadcast views (one path per element), the half types, and fused chains under `compile`, which
must equal the ops one by one bit for bit."""
import numpy as np
import pytest

import rill.core as mx

FUNCS = {"sin": np.sin, "cos": np.cos, "tan": np.tan}


pytestmark = pytest.mark.usefixtures("cpu_default")


def ulp_error(got, x, name):
    """Largest error of `got` (float32) in units of the last place of the exact result."""
    exact = FUNCS[name](x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.max(np.abs(got.astype(np.float64) - exact) / ulp)


def arguments(rng, n):
    """Ordinary arguments, arguments near multiples of pi/2, and far ones up to float32's max."""
    x = (rng.standard_normal(n) * 10).astype(np.float32)
    k = rng.integers(1, 100_000, n // 8)
    x[: n // 8] = (k * (np.pi / 2)).astype(np.float32)
    far = np.exp(rng.uniform(np.log(1.1e6), np.log(3.4e38), n // 16)).astype(np.float32)
    x[n // 8 : n // 8 + n // 16] = far * rng.choice([-1, 1], n // 16)
    rng.shuffle(x)
    return x


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_within_half_an_ulp_on_every_path(rng, name):
    # 2^18 elements: the kernel splits them across threads, each part with far arguments.
    x = arguments(rng, 1 << 18)
    f = getattr(mx, name)
    got = np.array(f(mx.array(x)))
    assert ulp_error(got, x, name) <= 0.501
    # Almost always the correctly rounded result.
    exact = FUNCS[name](x.astype(np.float64)).astype(np.float32)
    assert np.mean(got != exact) < 1e-4
    # A transposed view and a broadcast one take the per-element path: the same bits.
    m = x.reshape(512, 512)
    assert np.array_equal(np.array(f(mx.array(m).T)), got.reshape(512, 512).T)
    row = mx.broadcast_to(mx.array(m[7]), (3, 512))
    assert np.array_equal(np.array(f(row)), np.broadcast_to(got.reshape(512, 512)[7], (3, 512)))


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-30, 3.4e38, -3.4e38], np.float32)
    a = mx.array(x)
    s, c, t = (np.array(f(a)) for f in (mx.sin, mx.cos, mx.tan))
    assert np.signbit(s[1]) and not np.signbit(s[0]) and np.signbit(t[1])
    assert np.all(np.isnan(s[2:5])) and np.all(np.isnan(c[2:5])) and np.all(np.isnan(t[2:5]))
    assert s[5] == x[5] and s[6] == x[6] and c[5] == 1.0
    for name, got in (("sin", s), ("cos", c), ("tan", t)):
        assert ulp_error(got[7:], x[7:], name) <= 0.501


@pytest.mark.parametrize("dtype", [mx.float16, mx.bfloat16])
def test_half_types_round_the_float32_result(rng, dtype):
    x = (rng.standard_normal(1 << 16) * 20).astype(np.float32)
    a = mx.array(x).astype(dtype)
    xs = np.array(a.astype(mx.float32))
    for name in FUNCS:
        got = np.array(getattr(mx, name)(a).astype(mx.float32))
        want = np.array(mx.array(FUNCS[name](xs.astype(np.float64)).astype(np.float32)).astype(dtype)
                        .astype(mx.float32))
        # The float32 result rounded once more to the half type: at most one half-type step
        # from the float64 value rounded to it (double rounding).
        step = np.spacing(np.abs(want).astype(np.float16 if dtype == mx.float16 else np.float32))
        if dtype == mx.bfloat16:
            step = np.abs(want) * 2.0**-7 + 1e-38
        assert np.all(np.abs(got - want) <= step), name


def test_fused_chains_equal_the_ops_one_by_one(rng):
    x = arguments(rng, 1 << 16)
    y = (rng.standard_normal(1 << 16)).astype(np.float32)

    def chain(a, b):
        return mx.cos(mx.sin(a * 3.0 + b) * 2e6) + mx.tan(a) * b

    a, b = mx.array(x), mx.array(y)
    plain = np.array(chain(a, b))
    fused = np.array(mx.compile(chain)(a, b))
    assert np.array_equal(plain, fused, equal_nan=True)
    # And the chain itself against float64 NumPy, step by step at float32 (3 x overflows to
    # infinity for the largest x, as in rill).
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.sin((x * np.float32(3.0) + y).astype(np.float64)).astype(np.float32)
        want = (np.cos((s * np.float32(2e6)).astype(np.float64)).astype(np.float32)
                + np.tan(x.astype(np.float64)).astype(np.float32) * y)
    close = np.isclose(plain, want, rtol=2e-6, atol=1e-6) | (np.abs(want) > 1e4)
    assert np.mean(close) > 0.999
