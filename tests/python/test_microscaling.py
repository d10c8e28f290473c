"""The microscaling quantization modes (mxfp4, mxfp8, nvfp4) against real MLX 0.32.4: quantize
and dequantize bit for bit on random inputs of every accepted dtype (with the ties, zeros and
signed zeros of the element formats written in), the products against MLX and against float64
references, qqmm/gather_qqmm, and the errors MLX raises."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same, to_numpy

MODES = ["mxfp4", "mxfp8", "nvfp4"]
FLOATS3 = ["float32", "float16", "bfloat16"]
GROUP = {"mxfp4": 32, "mxfp8": 32, "nvfp4": 16}
E2M1 = np.array([0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6])


def weights(rng, rows, cols, scale):
    """Normal values with a different spread per row, one all-zero group, one group of the
    e2m1 midpoints and values (ties: 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5), and signed zeros."""
    w = rng.standard_normal((rows, cols)) * scale * rng.uniform(0.05, 2, (rows, 1))
    w[0, :32] = 0
    w[1, :32] = np.tile([3.5, -3.5, 2.5, 0.25, -0.25, -0.1, 1.25, 0.75, 5.0, -5.0, 1.75, 6.0,
                         0.0, -0.0, 0.5, 1.0], 2)
    w[2, :16] = -0.0
    return w.astype(np.float32)


def both(mlx, values, dtype):
    return (mx.array(values).astype(getattr(mx, dtype)),
            mlx.array(values).astype(getattr(mlx, dtype)))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("scale", [1e-3, 1.0, 300.0])
def test_quantize_and_dequantize_are_mlx_bit_for_bit(mlx, rng, mode, dtype, scale):
    a, b = both(mlx, weights(rng, 24, 128, scale), dtype)
    got = mx.quantize(a, mode=mode)
    want = mlx.quantize(b, mode=mode)
    assert len(got) == 2
    same(got, want)
    for out in FLOATS3 + [None]:
        kw = {} if out is None else {"dtype": getattr(mx, out)}
        kw_mlx = {} if out is None else {"dtype": getattr(mlx, out)}
        same(mx.dequantize(*got, mode=mode, **kw), mlx.dequantize(*want, mode=mode, **kw_mlx))
    # Batched (3-D) weights and explicit parameters equal to the defaults.
    a3, b3 = both(mlx, weights(rng, 6, 64, scale).reshape(2, 3, 64), dtype)
    gs, bits = GROUP[mode], 8 if mode == "mxfp8" else 4
    same(mx.quantize(a3, gs, bits, mode), mlx.quantize(b3, gs, bits, mode))


@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("ratio", [0.3, 1.0, 4.0])
def test_nvfp4_global_scale_is_mlx_bit_for_bit(mlx, rng, dtype, ratio):
    w = weights(rng, 16, 64, 2.0)
    a, b = both(mlx, w, dtype)
    g = np.float32(np.abs(w).max() * ratio)
    got = mx.quantize(a, mode="nvfp4", global_scale=mx.array(g))
    want = mlx.quantize(b, mode="nvfp4", global_scale=mlx.array(g))
    same(got, want)
    for out in FLOATS3:
        same(mx.dequantize(*got, mode="nvfp4", global_scale=mx.array(np.array([g])),
                           dtype=getattr(mx, out)),
             mlx.dequantize(*want, mode="nvfp4", global_scale=mlx.array(np.array([g])),
                            dtype=getattr(mlx, out)))


def test_float64_weights(mlx, rng):
    """mxfp4 of float64 is MLX's bit for bit. MLX's mxfp8 and nvfp4 read float64 memory as
    float32 (their codes are garbage); rill's equal MLX's on the same values in float32."""
    w = weights(rng, 8, 64, 1.0)
    a, b = mx.array(w.astype(np.float64)), mlx.array(w.astype(np.float64))
    same(mx.quantize(a, mode="mxfp4"), mlx.quantize(b, mode="mxfp4"))
    for mode in ("mxfp8", "nvfp4"):
        got = mx.quantize(a, mode=mode)
        want = mlx.quantize(mlx.array(w), mode=mode)
        same(got, want)


def decode_reference(w_q, scales, mode):
    """float64 values of packed codes and scales, decoded by NumPy from the formats' definitions
    (e2m1 table, e4m3 fields, e8m0 powers of two)."""
    words = np.array(w_q).astype(np.uint64)
    if mode == "mxfp8":
        codes = np.array(w_q).view(np.uint8).reshape(words.shape[0], -1).astype(np.int64)
        e, m = (codes >> 3) & 15, (codes & 7).astype(np.float64)
        values = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e - 7.0))
        values = np.where(codes & 0x80, -values, values)
    else:
        nibbles = (words[..., None] >> (4 * np.arange(8, dtype=np.uint64))) & 15
        values = E2M1[nibbles.reshape(words.shape[0], -1).astype(np.int64)]
    s = np.array(scales).astype(np.int64)
    if mode == "nvfp4":
        e, m = (s >> 3) & 15, (s & 7).astype(np.float64)
        step = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e - 7.0))
    else:
        step = 2.0 ** (s - 127.0)
    return values * np.repeat(step, GROUP[mode], axis=-1)


@pytest.mark.parametrize("mode", MODES)
def test_dequantize_against_numpy_decoding(rng, mode):
    w = weights(rng, 12, 128, 3.0)
    w_q, scales = mx.quantize(mx.array(w), mode=mode)
    want = decode_reference(w_q, scales, mode)
    np.testing.assert_array_equal(np.array(mx.dequantize(w_q, scales, mode=mode,
                                                         dtype=mx.float32)), want)
    # Every element is within half a spacing of the format from w, in units of its group's
    # decoded scale: e2m1's widest spacing (4 to 6) is 2; e4m3 keeps 3 mantissa bits (half an
    # ulp is 2^-4 of the value) down to its subnormal spacing 2^-9.
    s = np.array(scales).astype(np.int64)
    if mode == "nvfp4":
        e, m = (s >> 3) & 15, (s & 7).astype(np.float64)
        step = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e - 7.0))
    else:
        step = 2.0 ** (s - 127.0)
    step = np.repeat(step, GROUP[mode], axis=-1)
    err = np.abs(want - w)
    if mode == "mxfp8":
        bound = np.abs(w) * 2.0 ** -4 + step * 2.0 ** -10
    else:
        bound = step
    assert (err <= bound * 1.0001).all(), (err - bound).max()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("transpose", [True, False])
def test_quantized_matmul_against_mlx_and_float64(mlx, rng, mode, dtype, transpose):
    k, n = 128, 64
    shape = (n, k) if transpose else (k, n)
    a, b = both(mlx, weights(rng, *shape, 1.0), dtype)
    w_q, scales = mx.quantize(a, mode=mode)
    x = rng.standard_normal((2, 5, k)).astype(np.float32)
    xa, xb = both(mlx, x, dtype)
    got = mx.quantized_matmul(xa, w_q, scales, transpose=transpose, mode=mode)
    want = mlx.quantized_matmul(xb, mlx.array(np.array(w_q)), mlx.array(np.array(scales)),
                                transpose=transpose, mode=mode)
    dense = decode_reference(w_q, scales, mode)
    ref = to_numpy(xa).astype(np.float64) @ (dense.T if transpose else dense)
    assert got.dtype == xa.dtype and tuple(got.shape) == tuple(want.shape)
    tol = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 1e-1}[dtype] * np.abs(ref).max()
    np.testing.assert_allclose(to_numpy(got).astype(np.float64), ref, atol=tol)
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), atol=2 * tol)


@pytest.mark.parametrize("mode", MODES)
def test_gather_qmm_float_modes(mlx, rng, mode):
    w = np.stack([weights(rng, 32, 64, 1.0) for _ in range(3)])
    a, b = mx.array(w), mlx.array(w)
    w_q, scales = mx.quantize(a, mode=mode)
    x = rng.standard_normal((4, 2, 64)).astype(np.float32)
    rhs = np.array([2, 0, 1, 2])
    got = mx.gather_qmm(mx.array(x), w_q, scales, rhs_indices=mx.array(rhs), mode=mode)
    want = mlx.gather_qmm(mlx.array(x), mlx.array(np.array(w_q)), mlx.array(np.array(scales)),
                          rhs_indices=mlx.array(rhs), mode=mode)
    dense = decode_reference(w_q.reshape(-1, w_q.shape[-1]), scales.reshape(-1, scales.shape[-1]),
                             mode).reshape(3, 32, 64)
    ref = np.stack([x[i].astype(np.float64) @ dense[r].T for i, r in enumerate(rhs)])
    np.testing.assert_allclose(np.array(got), ref, atol=1e-4 * np.abs(ref).max())
    same(got, want, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    # nvfp4 with a global scale: the weights' values carry it.
    if mode == "nvfp4":
        g = mx.array(np.float32(np.abs(w).max()))
        w_q, scales = mx.quantize(a, mode=mode, global_scale=g)
        dense = np.array(mx.dequantize(w_q, scales, mode=mode, global_scale=g,
                                       dtype=mx.float32)).astype(np.float64)
        got = mx.gather_qmm(mx.array(x), w_q, scales, rhs_indices=mx.array(rhs), mode=mode,
                            global_scale=g)
        ref = np.stack([x[i].astype(np.float64) @ dense[r].T for i, r in enumerate(rhs)])
        assert got.dtype == mx.float32
        np.testing.assert_allclose(np.array(got), ref, atol=1e-4 * np.abs(ref).max())


def test_microscaling_errors(mlx):
    def call(op, f):
        f.op = f"[{op}]"
        return f

    for f in [
        lambda m: m.quantize(m.ones((4, 64)), mode="mxfp4", group_size=64),
        lambda m: m.quantize(m.ones((4, 64)), mode="mxfp4", bits=8),
        lambda m: m.quantize(m.ones((4, 64)), mode="nvfp4", group_size=32),
        lambda m: m.quantize(m.ones((4, 64)), mode="mxfp8", bits=4),
        lambda m: m.quantize(m.ones((4, 64), dtype=m.int32), mode="mxfp8"),
        lambda m: m.quantize(m.ones((64,)), mode="mxfp8"),
        lambda m: m.quantize(m.ones((4, 48)), mode="mxfp4"),
        lambda m: m.quantize(m.ones((4, 64)), mode="affine", global_scale=m.array(1.0)),
        lambda m: m.quantize(m.ones((4, 64)), mode="mxfp4", global_scale=m.array(1.0)),
        lambda m: m.quantize(m.ones((4, 64)), mode="nvfp4",
                             global_scale=m.array(1.0, dtype=m.float16)),
        lambda m: m.quantize(m.ones((4, 64)), mode="nvfp4", global_scale=m.array([1.0, 2.0])),
    ]:
        both_raise(call("quantize", f), mlx)
    packed = {}

    def q(m):
        if m not in packed:
            packed[m] = m.quantize(m.ones((4, 64)), mode="mxfp4")
        return packed[m]

    for f in [
        lambda m: m.dequantize(*q(m), m.zeros((4, 2)), mode="mxfp4"),
        lambda m: m.dequantize(*q(m), mode="mxfp4", group_size=16),
        lambda m: m.dequantize(*q(m), mode="mxfp4", dtype=m.int32),
        lambda m: m.dequantize(q(m)[0], q(m)[1][:, :1], mode="mxfp4"),
        lambda m: m.dequantize(*q(m), mode="mxfp4", global_scale=m.array(1.0)),
        lambda m: m.dequantize(q(m)[0], q(m)[1].astype(m.float32), mode="mxfp4"),
        lambda m: m.dequantize(q(m)[0].astype(m.int32), q(m)[1], mode="mxfp4"),
    ]:
        both_raise(call("dequantize", f), mlx)
    x = lambda m: m.ones((3, 64))  # noqa: E731
    for f in [
        lambda m: m.quantized_matmul(x(m).astype(m.int32), *q(m), mode="mxfp4"),
        lambda m: m.quantized_matmul(x(m), *q(m), mode="mxfp4", transpose=False),
        lambda m: m.quantized_matmul(x(m), *q(m), m.zeros((4, 2)), mode="mxfp4"),
        lambda m: m.quantized_matmul(x(m), q(m)[0], q(m)[1].astype(m.float32), mode="mxfp4"),
        lambda m: m.quantized_matmul(x(m), *q(m), mode="nvfp4"),
    ]:
        both_raise(call("quantized_matmul", f), mlx)
    # MLX accepts a float64 x here and fails when evaluating; rill refuses it at once.
    with pytest.raises(Exception):
        mlx.eval(mlx.quantized_matmul(mlx.ones((3, 64), dtype=mlx.float64), *q(mlx),
                                      mode="mxfp4"))
    with pytest.raises(ValueError, match=r"\[quantized_matmul\]"):
        mx.quantized_matmul(mx.ones((3, 64), dtype=mx.float64), *q(mx), mode="mxfp4")


# ---------------------------------------------------------------------------------- qqmm


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", FLOATS3)
def test_qqmm_one_row_against_mlx(mlx, rng, mode, dtype):
    """MLX's CPU runs qqmm for one row of x and a packed w: the same values here, on random
    inputs (MLX's CPU rounds x's ties to even there, unlike its quantize; random values do
    not tie)."""
    a, b = both(mlx, rng.standard_normal((16, 128)).astype(np.float32), dtype)
    xa, xb = both(mlx, rng.standard_normal((1, 128)).astype(np.float32), dtype)
    w_q, scales = mx.quantize(a, mode=mode)
    got = mx.qqmm(xa, w_q, scales, mode=mode)
    want = mlx.qqmm(xb, mlx.array(np.array(w_q)), mlx.array(np.array(scales)), mode=mode)
    tol = {"float32": 1e-5, "float16": 3e-3, "bfloat16": 3e-2}[dtype]
    same(got, want, rtol=tol, atol=tol * np.abs(to_numpy(want)).max())


@pytest.mark.parametrize("mode", MODES)
def test_qqmm_general_case_against_float64(mlx, rng, mode):
    """Many rows, a dense w quantized on the fly, a vector x, nvfp4's global scales: the
    product of the two operands' round trips through MLX's quantize and dequantize."""
    w = rng.standard_normal((24, 64)).astype(np.float32)
    x = rng.standard_normal((2, 5, 64)).astype(np.float32)

    def round_trip(v, g=None):
        kw = {} if g is None else {"global_scale": mlx.array(g)}
        q = mlx.quantize(mlx.array(v), mode=mode, **kw)
        return np.array(mlx.dequantize(*q, mode=mode, dtype=mlx.float32, **kw)).astype(
            np.float64)

    ref = round_trip(x.reshape(10, 64)).reshape(2, 5, 64) @ round_trip(w).T
    got = mx.qqmm(mx.array(x), mx.array(w), mode=mode)
    assert got.dtype == mx.float32 and got.shape == (2, 5, 24)
    np.testing.assert_allclose(np.array(got), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    vec = mx.qqmm(mx.array(x[0, 0]), mx.array(w), mode=mode)
    np.testing.assert_allclose(np.array(vec), ref[0, 0], rtol=1e-5,
                               atol=1e-5 * np.abs(ref).max())
    if mode == "nvfp4":
        gx, gw = np.float32(np.abs(x).max()), np.float32(np.abs(w).max() * 0.5)
        ref = round_trip(x.reshape(10, 64), gx).reshape(2, 5, 64) @ round_trip(w, gw).T
        got = mx.qqmm(mx.array(x), mx.array(w), mode=mode, global_scale_x=mx.array(gx),
                      global_scale_w=mx.array(gw))
        np.testing.assert_allclose(np.array(got), ref, rtol=1e-5,
                                   atol=1e-5 * np.abs(ref).max())


def test_gather_qqmm_against_float64(mlx, rng):
    w = rng.standard_normal((3, 8, 32)).astype(np.float32)
    x = rng.standard_normal((4, 2, 32)).astype(np.float32)
    lhs, rhs = np.array([3, 0, 0, 1]), np.array([2, 2, 0, 1])
    q = mlx.quantize(mlx.array(w), mode="mxfp8")
    dw = np.array(mlx.dequantize(*q, mode="mxfp8", dtype=mlx.float32)).astype(np.float64)
    qx = mlx.quantize(mlx.array(x), mode="mxfp8")
    dx = np.array(mlx.dequantize(*qx, mode="mxfp8", dtype=mlx.float32)).astype(np.float64)
    ref = np.stack([dx[i] @ dw[j].T for i, j in zip(lhs, rhs)])
    w_q, scales = mx.quantize(mx.array(w), mode="mxfp8")
    got = mx.gather_qqmm(mx.array(x), w_q, scales, mx.array(lhs), mx.array(rhs), mode="mxfp8")
    np.testing.assert_allclose(np.array(got), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    # Without indices it is qqmm.
    np.testing.assert_allclose(np.array(mx.gather_qqmm(mx.array(x[0]), w_q[0], scales[0],
                                                       mode="mxfp8")),
                               dx[0] @ dw[0].T, rtol=1e-5, atol=1e-4)


def test_qqmm_errors(mlx):
    def call(op, f):
        f.op = f"[{op}]"
        return f

    w = lambda m: m.ones((8, 64))  # noqa: E731
    packed = {}

    def q(m):
        if m not in packed:
            packed[m] = m.quantize(w(m), mode="nvfp4")
        return packed[m]

    x = lambda m: m.ones((1, 64))  # noqa: E731
    for f in [
        lambda m: m.qqmm(x(m), q(m)[0]),
        lambda m: m.qqmm(x(m), w(m).astype(m.int32)),
        lambda m: m.qqmm(x(m).astype(m.float64), *q(m)),
        lambda m: m.qqmm(x(m)[:, :32], *q(m)),
        lambda m: m.qqmm(x(m), w(m)[:, :32]),
        lambda m: m.qqmm(x(m), *q(m), global_scale_x=m.array(1.0)),
        lambda m: m.qqmm(x(m), *q(m), global_scale_x=m.array(1.0),
                         global_scale_w=m.array(1.0, dtype=m.float16)),
        lambda m: m.qqmm(x(m), *q(m), group_size=32),
        lambda m: m.qqmm(x(m), *q(m), mode="mxfp8", global_scale_x=m.array(1.0),
                         global_scale_w=m.array(1.0)),
    ]:
        both_raise(call("qqmm", f), mlx)
    both_raise(call("gather_qqmm", lambda m: m.gather_qqmm(x(m), *q(m),
                                                           lhs_indices=m.array([0.5]))), mlx)
    # MLX accepts the affine mode and fails later; rill names the modes it takes.
    with pytest.raises(ValueError, match="nvfp4"):
        mx.qqmm(x(mx), w(mx), mode="affine")


@pytest.mark.parametrize("mode", MODES)
def test_lazy_on_any_stream_and_differentiable_in_x(mlx, rng, mode):
    """The float modes build lazy graphs on the stream given, and quantized_matmul's gradient
    with respect to x is MLX's (the dequantized weights, summed over the output axis)."""
    w = rng.standard_normal((16, 64)).astype(np.float32)
    x = rng.standard_normal((3, 64)).astype(np.float32)
    s = mx.new_stream(mx.cpu)
    w_q, scales = mx.quantize(mx.array(w), mode=mode, stream=s)
    want_q, want_s = mlx.quantize(mlx.array(w), mode=mode)
    np.testing.assert_array_equal(np.array(w_q), np.array(want_q))
    back = mx.dequantize(w_q, scales, mode=mode, dtype=mx.float32, stream=s)
    np.testing.assert_array_equal(np.array(back), np.array(mlx.dequantize(
        want_q, want_s, mode=mode, dtype=mlx.float32)))

    def loss(m, q, sc):
        return lambda xx: m.sum(m.quantized_matmul(xx, q, sc, mode=mode) ** 2)

    got = mx.grad(loss(mx, w_q, scales))(mx.array(x))
    want = mlx.grad(loss(mlx, want_q, want_s))(mlx.array(x))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-4,
                               atol=1e-4 * np.abs(np.array(want)).max())
