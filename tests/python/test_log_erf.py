"""log and erf of float32 on the CPU (`backend/cpu/vector_math.rs`, written out so that their loops
vectorize): within an ulp or so of float64 references at the same float32 arguments, special
values as NumPy/C, and every path a kernel takes (contiguous arrays, strided views, float16,
chains fused when evaluated) giving the same bits as the contiguous kernel."""
import math

import numpy as np
import pytest

import rill.core as mx


pytestmark = pytest.mark.usefixtures("cpu_default")


def ulps(got, exact):
    """Largest error of `got` (float32) in units of the last place of the correctly rounded result."""
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    ok = np.isfinite(exact)
    return np.max(np.abs(got.astype(np.float64)[ok] - exact[ok]) / ulp[ok])


def arguments(rng, positive):
    # Magnitudes from subnormal to huge, and a dense stretch around 1 (and, for erf, [0, 4]).
    x = np.concatenate([
        np.exp(rng.uniform(-100, 88, 20000)),
        rng.uniform(0.5, 2.0, 20000),
        rng.uniform(0.0, 4.5, 20000),
        np.float32(2.0) ** -np.arange(126, 150, dtype=np.float32),  # subnormals
    ]).astype(np.float32)
    if not positive:
        x = np.where(rng.random(x.size) < 0.5, -x, x).astype(np.float32)
    return x


@pytest.mark.parametrize("name", ["log", "erf"])
def test_within_an_ulp_of_float64_on_every_path(name):
    rng = np.random.default_rng(21)
    x = arguments(rng, positive=name == "log")
    ref = np.log if name == "log" else np.frompyfunc(math.erf, 1, 1)
    exact = np.asarray(ref(x.astype(np.float64)), dtype=np.float64)
    f = getattr(mx, name)
    a = mx.array(x)
    got = np.array(f(a))
    bound = 1.0 if name == "log" else 1.4
    assert ulps(got, exact) <= bound, name
    # A strided view and a fused chain run other loops over the same element function.
    doubled = mx.array(np.repeat(x, 2))
    strided = np.array(f(doubled[::2]))
    old = mx.set_auto_fusion("cpu")
    try:
        fused = np.array(f(a * 1.0) * 1.0)
    finally:
        mx.set_auto_fusion(old)
    for what, other in [("strided", strided), ("fused", fused)]:
        same = (other.view(np.uint32) == got.view(np.uint32)) | (np.isnan(other) & np.isnan(got))
        assert same.all(), (name, what, x[~same][:4])
    # float16 computes in float32 and rounds once.
    h = x[np.abs(x) < 60000].astype(np.float16)
    got16 = np.array(f(mx.array(h))).astype(np.float64)
    with np.errstate(divide="ignore"):  # float16 underflows some arguments to 0: log is -inf
        want16 = np.asarray(ref(h.astype(np.float64)), dtype=np.float64).astype(np.float16)
    close = np.isclose(got16, want16.astype(np.float64), rtol=1e-3, atol=0, equal_nan=True)
    assert close.all(), (name, h[~close][:4])


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, 1.0, 1e-45], np.float32)
    log = np.array(mx.log(mx.array(x)))
    with np.errstate(all="ignore"):
        want = np.log(x)
    assert np.array_equal(log, want, equal_nan=True)
    erf = np.array(mx.erf(mx.array(x)))
    want = np.array([math.erf(v) if not math.isnan(v) else np.nan for v in x.astype(np.float64)],
                    np.float32)
    assert np.array_equal(erf, want, equal_nan=True)
    assert np.signbit(erf[1]) and not np.signbit(erf[0])
