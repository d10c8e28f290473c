"""Quantization, the matmul variants (quantized, gathered, segmented, block-masked), the Hadamard
transform and float8 against real MLX 0.32.4 (bit for bit where MLX's result is exact) and
against float64 NumPy references computed here, on random inputs."""

import threading
import warnings

import numpy as np
import pytest

import rill.core as mx
from conftest import tol
from mlx_compare import both_raise, same, to_numpy

FLOATS3 = ["float32", "float16", "bfloat16"]
BITS = [1, 2, 3, 4, 5, 6, 8]
GROUPS = [32, 64, 128]


def rand(rng, shape, scale=1.0):
    """Normal values, never zero."""
    x = rng.standard_normal(shape) * scale
    return np.where(np.abs(x) < 1e-3, 0.5, x).astype(np.float32)


def both(mlx, values, dtype):
    """The same values as a rill array and an MLX array of `dtype` (a name)."""
    return (mx.array(values).astype(getattr(mx, dtype)),
            mlx.array(values).astype(getattr(mlx, dtype)))


def f64(x):
    return to_numpy(x).astype(np.float64)


def check64(got, want, dtype, scale=1.0):
    """`got` equals the float64 reference `want` within `dtype`'s tolerance (absolute error
    scaled by the size of the values, since these are sums of many products)."""
    rtol, atol = tol(dtype)
    np.testing.assert_allclose(f64(got), want, rtol=rtol * 4, atol=atol * 4 * scale)


# -------------------------------------------------------------------------- the reference


def unpack_reference(w_q, bits):
    """NumPy: the codes of a packed uint32 matrix, reading the words as one little-endian bit
    stream per row (MLX's layout)."""
    w = np.asarray(w_q).astype(np.uint64)
    stream = (w[..., None] >> np.arange(32, dtype=np.uint64)) & 1
    stream = stream.reshape(*w.shape[:-1], -1, bits)
    return (stream << np.arange(bits, dtype=np.uint64)).sum(-1)


def dequantize_reference(w_q, scales, biases, group_size, bits):
    q = unpack_reference(w_q, bits).astype(np.float64)
    q = q.reshape(*q.shape[:-1], -1, group_size)
    return (q * f64(scales)[..., None] + f64(biases)[..., None]).reshape(*q.shape[:-2], -1)


# ------------------------------------------------------------------------------- quantize


@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("group_size", GROUPS)
def test_quantize_is_mlx_bit_for_bit(mlx, rng, dtype, bits, group_size):
    values = rand(rng, (2, 3, 256), 2.0)
    w, w_mlx = both(mlx, values, dtype)
    got = mx.quantize(w, group_size, bits)
    want = mlx.quantize(w_mlx, group_size, bits)
    same(got, want)  # packed words, scales and biases all exactly equal
    # and dequantizing gives MLX's values exactly, in each output dtype
    same(mx.dequantize(*got, group_size, bits), mlx.dequantize(*want, group_size, bits))
    same(mx.dequantize(*got, group_size, bits, dtype=mx.float32),
         mlx.dequantize(*want, group_size, bits, dtype=mlx.float32))


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("group_size", GROUPS)
def test_quantize_round_trip_against_numpy(rng, bits, group_size):
    """The codes unpacked by NumPy give back w within half a step of its group."""
    values = rand(rng, (4, 384))
    w_q, scales, biases = mx.quantize(mx.array(values), group_size, bits)
    assert w_q.dtype == mx.uint32 and w_q.shape == (4, 384 * bits // 32)
    assert scales.shape == biases.shape == (4, 384 // group_size)
    assert scales.dtype == biases.dtype == mx.float32
    codes = unpack_reference(np.array(w_q), bits)
    assert codes.max() <= 2 ** bits - 1
    back = dequantize_reference(w_q, scales, biases, group_size, bits)
    step = np.repeat(np.abs(f64(scales)), group_size, axis=-1)
    # a value between the lowest and the highest level of its group is rounded to the nearest
    # level; one outside them (the scale keeps an edge exact, so the other edge may fall
    # outside) gets the level at that end
    levels = dequantize_reference(np.zeros_like(np.array(w_q)), scales, biases, group_size, bits)
    top = levels + step * (2 ** bits - 1) * np.sign(np.repeat(f64(scales), group_size, -1))
    low, high = np.minimum(levels, top), np.maximum(levels, top)
    inside = (values >= low) & (values <= high)
    assert np.all(np.abs(back - values)[inside] <= step[inside] / 2 * (1 + 1e-5) + 1e-6)
    assert np.all(np.isclose(back, np.where(values < low, low, high))[~inside])
    check64(mx.dequantize(w_q, scales, biases, group_size, bits), back, "float32")
    # the edge of larger magnitude of each group is represented exactly
    groups = values.reshape(4, -1, group_size)
    if bits > 1:
        edge_at = np.argmax(np.abs(groups), axis=-1)
        exact = np.take_along_axis(back.reshape(groups.shape), edge_at[..., None], -1)
        np.testing.assert_allclose(exact, np.take_along_axis(groups, edge_at[..., None], -1),
                                   rtol=1e-6, atol=1e-6)


def test_quantize_defaults_and_constant_groups(mlx):
    w = np.full((2, 128), 1.5, np.float32)
    w[1] = -3.0
    same(mx.quantize(mx.array(w)), mlx.quantize(mlx.array(w)))
    same(mx.quantize(mx.array(w), bits=1), mlx.quantize(mlx.array(w), bits=1))
    assert mx.quantize(mx.ones((3, 64)))[0].shape == (3, 8)  # 64 and 4 bits by default


def test_quantize_stays_lazy_on_any_stream(rng):
    s = mx.new_stream(mx.cpu)
    w = mx.array(rand(rng, (4, 64)))
    w_q, scales, biases = mx.quantize(w, stream=s)
    back = mx.dequantize(w_q, scales, biases, stream=s)
    assert float(mx.max(mx.abs(back - w)).item()) <= float(mx.max(mx.abs(scales)).item())


def test_quantize_and_dequantize_errors(mlx):
    def call(op, f):
        f.op = f"[{op}]"
        return f

    def ev(m, r):
        m.eval(r)
        return r

    for f in [
        lambda m: m.quantize(m.ones((4, 128)), 16),
        lambda m: m.quantize(m.ones((4, 128)), 64, 7),
        lambda m: m.quantize(m.ones((4, 100))),
        lambda m: m.quantize(m.ones((128,))),
        lambda m: m.quantize(m.ones((4, 128), dtype=m.int32)),
        lambda m: m.quantize(m.ones((4, 128)), mode="nonsense"),
    ]:
        both_raise(call("quantize", f), mlx)
    w_q = {}

    def packed(m):
        if m not in w_q:
            w_q[m] = m.quantize(m.ones((4, 128)))
        return w_q[m]

    for f in [
        lambda m: m.dequantize(*packed(m)[:2]),  # no biases
        lambda m: m.dequantize(*packed(m), 32, 4),
        lambda m: m.dequantize(*packed(m), 64, 8),
        lambda m: m.dequantize(packed(m)[0].astype(m.int32), *packed(m)[1:]),
        lambda m: m.dequantize(packed(m)[0][0], packed(m)[1][0], packed(m)[2][0]),
        lambda m: m.dequantize(*packed(m), dtype=m.int32),
        lambda m: m.dequantize(*packed(m), mode="nonsense"),
    ]:
        both_raise(call("dequantize", f), mlx)
    # (The float modes mxfp4, mxfp8 and nvfp4 and their errors: test_microscaling.py.)
    # MLX fails float64 quantization when evaluating; rill at once
    with pytest.raises(Exception):
        ev(mlx, mlx.quantize(mlx.ones((4, 64), dtype=mlx.float64)))
    with pytest.raises(ValueError, match=r"\[quantize\]"):
        mx.quantize(mx.ones((4, 64), dtype=mx.float64))


# ------------------------------------------------------------------------ quantized_matmul


@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("transpose", [True, False])
def test_quantized_matmul(mlx, rng, dtype, bits, transpose):
    group_size = 64
    w_shape = (24, 128) if transpose else (128, 64)
    w, w_mlx = both(mlx, rand(rng, w_shape), dtype)
    x, x_mlx = both(mlx, rand(rng, (2, 3, 128 if transpose else 128)), dtype)
    q = mx.quantize(w, group_size, bits)
    q_mlx = mlx.quantize(w_mlx, group_size, bits)
    got = mx.quantized_matmul(x, *q, transpose, group_size, bits)
    want = mlx.quantized_matmul(x_mlx, *q_mlx, transpose, group_size, bits)
    rtol, _ = tol(dtype)
    # sums of 128 products: the error of 16-bit results scales with the largest values
    same(got, want, rtol=rtol * 4, atol=rtol * 2 * float(np.abs(f64(want)).max()))
    dense = dequantize_reference(q[0], q[1], q[2], group_size, bits)
    reference = f64(x) @ (dense.T if transpose else dense)
    check64(got, reference, dtype, scale=10)


def test_quantized_matmul_shapes_dtypes_and_errors(mlx, rng):
    w = rand(rng, (32, 128))
    q, q_mlx = mx.quantize(mx.array(w)), mlx.quantize(mlx.array(w))
    for x_values, dtype in [(rand(rng, (128,)), "float32"), (rand(rng, (2, 128)), "float16"),
                            (np.ones((2, 128), np.int32), "int32")]:
        x, x_mlx = both(mlx, x_values, dtype)
        same(mx.quantized_matmul(x, *q), mlx.quantized_matmul(x_mlx, *q_mlx), rtol=1e-5,
             atol=1e-4)
    # a batch of quantized matrices broadcasts against x's batch
    xb = rand(rng, (3, 2, 5, 128))
    stacked = [mx.stack([a, a]) for a in q]
    stacked_mlx = [mlx.stack([a, a]) for a in q_mlx]
    same(mx.quantized_matmul(mx.array(xb), *stacked),
         mlx.quantized_matmul(mlx.array(xb), *stacked_mlx), rtol=1e-5, atol=1e-4)

    def call(f):
        f.op = "[quantized_matmul]"
        return f

    def qq(m):
        return q if m is mx else q_mlx

    for f in [
        lambda m: m.quantized_matmul(m.ones((2, 64)), *qq(m)),
        lambda m: m.quantized_matmul(m.ones((2, 128)), *qq(m), bits=8),
        lambda m: m.quantized_matmul(m.ones((2, 128)), *qq(m)[:2]),
        lambda m: m.quantized_matmul(m.ones((2, 128)), *qq(m), mode="nonsense"),
        lambda m: m.quantized_matmul(m.ones((2, 128)), qq(m)[0].astype(m.int32), *qq(m)[1:]),
        lambda m: m.quantized_matmul(m.ones((2, 128)), qq(m)[0], qq(m)[1], qq(m)[2][:, :1]),
        lambda m: m.quantized_matmul(m.ones((2, 31)), *qq(m), transpose=False),
    ]:
        both_raise(call(f), mlx)


def test_quantized_matmul_gradient_matches_mlx(mlx, rng):
    w, x, c = rand(rng, (16, 64)), rand(rng, (3, 64)), rand(rng, (3, 16))
    q, q_mlx = mx.quantize(mx.array(w)), mlx.quantize(mlx.array(w))

    def loss(m, qs, cot):
        return lambda x: m.sum(m.quantized_matmul(x, *qs) * cot)

    got = mx.grad(loss(mx, q, mx.array(c)))(mx.array(x))
    want = mlx.grad(loss(mlx, q_mlx, mlx.array(c)))(mlx.array(x))
    same(got, want, rtol=1e-5, atol=1e-5)
    # d/dx sum((x @ W^T) * c) = c @ W
    dense = dequantize_reference(q[0], q[1], q[2], 64, 4)
    check64(got, c.astype(np.float64) @ dense, "float32", scale=10)


# ------------------------------------------------------------------------------ gather_mm


@pytest.mark.parametrize("dtype", FLOATS3)
def test_gather_mm_against_mlx_and_numpy(mlx, rng, dtype):
    a_values, b_values = rand(rng, (4, 2, 3, 5)), rand(rng, (6, 5, 7))
    a, a_mlx = both(mlx, a_values, dtype)
    b, b_mlx = both(mlx, b_values, dtype)
    rtol, atol = tol(dtype)
    cases = [
        (np.array([0, 3, 5]), np.array([1, 2, 5])),
        (np.array([[0], [3], [7]]), np.array([1, 2, 5, 0])),  # broadcast to (3, 4)
        (None, np.array(4)),
        (np.array([1, 1, 6], np.uint32), None),
    ]
    for lhs, rhs in cases:
        if lhs is None:
            a_case, a_case_mlx = a[0, 0], a_mlx[0, 0]
            a_flat = f64(a)[0, 0][None]
            lhs_np = np.zeros((), int)
        else:
            a_case, a_case_mlx, a_flat, lhs_np = a, a_mlx, f64(a).reshape(-1, 3, 5), lhs
        if rhs is None:
            b_case, b_case_mlx, b_flat, rhs_np = b[:1], b_mlx[:1], f64(b)[:1], np.zeros((), int)
        else:
            b_case, b_case_mlx, b_flat, rhs_np = b, b_mlx, f64(b), rhs
        wrap = (lambda m, i: None if i is None else m.array(i))
        got = mx.gather_mm(a_case, b_case, wrap(mx, lhs), wrap(mx, rhs))
        if dtype == "float32":  # MLX's CPU GatherMM evaluates float32 only
            want = mlx.gather_mm(a_case_mlx, b_case_mlx, wrap(mlx, lhs), wrap(mlx, rhs))
            same(got, want, rtol=rtol * 4, atol=atol * 4)
        else:
            assert got.dtype == getattr(mx, dtype)
        li, ri = np.broadcast_arrays(lhs_np, rhs_np)
        check64(got, a_flat[li] @ b_flat[ri], dtype, scale=3)


def test_gather_mm_without_indices_vectors_and_errors(mlx, rng):
    a, b = rand(rng, (2, 3, 5)), rand(rng, (5, 4))
    same(mx.gather_mm(mx.array(a), mx.array(b)), mlx.gather_mm(mlx.array(a), mlx.array(b)),
         rtol=1e-5, atol=1e-5)
    v, bb = rand(rng, (5,)), rand(rng, (6, 5, 7))
    same(mx.gather_mm(mx.array(v), mx.array(bb), None, mx.array([0, 3]), sorted_indices=True),
         mlx.gather_mm(mlx.array(v), mlx.array(bb), None, mlx.array([0, 3]),
                       sorted_indices=True), rtol=1e-5, atol=1e-5)
    # mixed dtypes promote (float16 with float32: float32)
    same(mx.gather_mm(mx.array(a).astype(mx.float16), mx.array(b)),
         mlx.gather_mm(mlx.array(a).astype(mlx.float16), mlx.array(b)), rtol=1e-3, atol=1e-3)

    def call(f, op="[gather_mm]"):
        f.op = op
        return f

    for f in [
        lambda m: m.gather_mm(m.ones((4, 3, 5)), m.ones((6, 5, 7)), m.array([0.0]), None),
        lambda m: m.gather_mm(m.ones((4, 3, 5), dtype=m.int32), m.ones((6, 5, 7), dtype=m.int32)),
        lambda m: m.gather_mm(m.ones((4, 3, 5)), m.ones((6, 4, 7)), m.array([0]), m.array([0])),
    ]:
        both_raise(call(f), mlx)
    for f in [  # index shapes that do not broadcast
        lambda m: m.gather_mm(m.ones((4, 3, 5)), m.ones((6, 5, 7)), m.array([0, 1]),
                              m.array([0, 1, 2])),
        lambda m: m.gather_mm(m.ones((4, 3, 5)), m.ones((6, 5, 7)), m.array([0, 1, 2])),
    ]:
        both_raise(call(f, None), mlx)


def test_gather_mm_gradient_matches_mlx(mlx, rng):
    a, b, c = rand(rng, (3, 2, 4)), rand(rng, (5, 4, 6)), rand(rng, (4, 2, 6))
    lhs, rhs = np.array([0, 2, 2, 1]), np.array([4, 0, 4, 3])

    def loss(m):
        return lambda a, b: m.sum(m.gather_mm(a, b, m.array(lhs), m.array(rhs)) * m.array(c))

    got = mx.grad(loss(mx), argnums=(0, 1))(mx.array(a), mx.array(b))
    want = mlx.grad(loss(mlx), argnums=(0, 1))(mlx.array(a), mlx.array(b))
    same(got, want, rtol=1e-5, atol=1e-5)
    ga, gb = np.zeros(a.shape), np.zeros(b.shape)
    for i, (l, r) in enumerate(zip(lhs, rhs)):
        ga[l] += c[i] @ b[r].T
        gb[r] += a[l].T @ c[i]
    check64(got[0], ga, "float32", scale=10)
    check64(got[1], gb, "float32", scale=10)


def test_gather_qmm(mlx, rng):
    w = rand(rng, (3, 8, 64))
    q, q_mlx = mx.quantize(mx.array(w)), mlx.quantize(mlx.array(w))
    x = rand(rng, (2, 5, 64))
    for lhs, rhs in [(None, [0, 2]), ([0, 1, 1], [0, 2, 1])]:
        wrap = (lambda m, i: None if i is None else m.array(i))
        got = mx.gather_qmm(mx.array(x), *q, wrap(mx, lhs), wrap(mx, rhs))
        want = mlx.gather_qmm(mlx.array(x), *q_mlx, wrap(mlx, lhs), wrap(mlx, rhs))
        same(got, want, rtol=1e-5, atol=1e-4)
        dense = dequantize_reference(q[0], q[1], q[2], 64, 4)
        li = np.arange(2) if lhs is None else np.array(lhs)
        check64(got, x.astype(np.float64)[li] @ np.swapaxes(dense[np.array(rhs)], -1, -2),
                "float32", scale=10)
    # not transposed: w holds (K, N) matrices, x (.., K)
    w2 = rand(rng, (3, 4, 64))
    q2, q2_mlx = mx.quantize(mx.array(w2)), mlx.quantize(mlx.array(w2))
    x2 = rand(rng, (3, 5, 4))
    same(mx.gather_qmm(mx.array(x2), *q2, transpose=False),
         mlx.gather_qmm(mlx.array(x2), *q2_mlx, transpose=False), rtol=1e-5, atol=1e-4)

    def call(f, op):
        f.op = op
        return f

    def qq(m):
        return q if m is mx else q_mlx

    both_raise(call(lambda m: m.gather_qmm(m.ones((64,)), *qq(m), None, m.array([1])),
                    "[gather_qmm]"), mlx)
    both_raise(call(lambda m: m.gather_qmm(m.ones((3, 5, 64)), *qq(m), None, m.array([0.0])),
                    "[gather_qmm]"), mlx)
    both_raise(call(lambda m: m.gather_qmm(m.ones((3, 5, 32)), *qq(m)), "[quantized_matmul]"),
               mlx)


# --------------------------------------------------------------------------- segmented_mm


@pytest.mark.parametrize("dtype", FLOATS3)
def test_segmented_mm(mlx, rng, dtype):
    a, a_mlx = both(mlx, rand(rng, (3, 10)), dtype)
    b, b_mlx = both(mlx, rand(rng, (10, 4)), dtype)
    segments = np.array([[0, 4], [4, 10], [2, 2], [3, 1], [0, 10], [7, 9]])
    got = mx.segmented_mm(a, b, mx.array(segments))
    rtol, atol = tol(dtype)
    assert got.dtype == getattr(mx, dtype) and got.shape == (6, 3, 4)
    # MLX's CPU segmented_mm is only right in float32 (its 16-bit results are off by units)
    mlx_dtype = dtype == "float32"
    if mlx_dtype:
        same(got, mlx.segmented_mm(a_mlx, b_mlx, mlx.array(segments)), rtol=rtol * 4,
             atol=atol * 4)
    reference = np.stack([f64(a)[:, s:e] @ f64(b)[s:e] if e > s else np.zeros((3, 4))
                          for s, e in segments])
    check64(got, reference, dtype, scale=3)
    # batches of segments, and unsigned segments
    seg3 = segments.reshape(3, 2, 2).astype(np.uint32)
    got3 = mx.segmented_mm(a, b, mx.array(seg3))
    check64(got3, reference.reshape(3, 2, 3, 4), dtype, scale=3)
    if mlx_dtype:
        same(got3, mlx.segmented_mm(a_mlx, b_mlx, mlx.array(seg3)), rtol=rtol * 4, atol=atol * 4)


def test_segmented_mm_is_lazy_and_errors(mlx, rng):
    # the segments are computed on the stream too: nothing is read on the host
    s = mx.new_stream(mx.cpu)
    seg = mx.array([[0, 2], [2, 5]]) + mx.array(0)
    out = mx.segmented_mm(mx.ones((2, 5)), mx.ones((5, 3)), seg, stream=s)
    np.testing.assert_array_equal(np.array(out), [np.full((2, 3), 2.0), np.full((2, 3), 3.0)])

    def call(f):
        f.op = "[segmented_mm]"
        return f

    for f in [
        lambda m: m.segmented_mm(m.ones((3, 10)), m.ones((10, 4)), m.array([[0.0, 4.0]])),
        lambda m: m.segmented_mm(m.ones((3, 10)), m.ones((10, 4)), m.array([[0, 4, 5]])),
        lambda m: m.segmented_mm(m.ones((2, 3, 10)), m.ones((10, 4)), m.array([[0, 4]])),
        lambda m: m.segmented_mm(m.ones((3, 10), dtype=m.int32), m.ones((10, 4), dtype=m.int32),
                                 m.array([[0, 4]])),
    ]:
        both_raise(call(f), mlx)


# ------------------------------------------------------------------------ block_masked_mm


def expand_blocks(mask, block, rows, cols):
    m = np.repeat(np.repeat(f64(mask), block, -2), block, -1)
    return m[..., :rows, :cols]


@pytest.mark.parametrize("dtype", FLOATS3)
@pytest.mark.parametrize("block", [32, 64])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_block_masked_mm(mlx, rng, dtype, block, kind):
    M, K, N = 70, 40, 100
    a, a_mlx = both(mlx, rand(rng, (2, M, K)), dtype)
    b, b_mlx = both(mlx, rand(rng, (K, N)), dtype)
    tiles = lambda n: -(-n // block)  # noqa: E731

    def mask(shape):
        if kind == "bool":
            v = rng.random(shape) < 0.6
            return mx.array(v), mlx.array(v)
        v = rand(rng, shape)
        return mx.array(v), mlx.array(v)

    mo, mo_mlx = mask((tiles(M), tiles(N)))
    ml, ml_mlx = mask((2, tiles(M), tiles(K)))
    mr, mr_mlx = mask((tiles(K), tiles(N)))
    got = mx.block_masked_mm(a, b, block, mo, ml, mr)
    rtol, atol = tol(dtype)
    assert got.dtype == getattr(mx, dtype) and got.shape == (2, M, N)
    reference = ((f64(a) * expand_blocks(ml, block, M, K))
                 @ (f64(b) * expand_blocks(mr, block, K, N))) * expand_blocks(mo, block, M, N)
    check64(got, reference, dtype, scale=10)
    if dtype != "float32":
        return  # MLX's CPU BlockMaskedMM evaluates float32 only
    same(got, mlx.block_masked_mm(a_mlx, b_mlx, block, mo_mlx, ml_mlx, mr_mlx), rtol=rtol * 4,
         atol=atol * 8)
    # one mask only
    same(mx.block_masked_mm(a, b, block, None, ml), mlx.block_masked_mm(a_mlx, b_mlx, block,
                                                                        None, ml_mlx),
         rtol=rtol * 4, atol=atol * 8)
    same(mx.block_masked_mm(a, b, block, mo), mlx.block_masked_mm(a_mlx, b_mlx, block, mo_mlx),
         rtol=rtol * 4, atol=atol * 8)


def test_block_masked_mm_errors(mlx):
    def call(f, op="[block_masked_mm]"):
        f.op = op
        return f

    mask = lambda m, shape: m.ones(shape, dtype=m.bool_)  # noqa: E731
    both_raise(call(lambda m: m.block_masked_mm(m.ones((8, 8)), m.ones((8, 8)), 16,
                                                mask(m, (1, 1)))), mlx)
    both_raise(call(lambda m: m.block_masked_mm(m.ones((8, 8), dtype=m.int32),
                                                m.ones((8, 8), dtype=m.int32), 32)), mlx)
    both_raise(call(lambda m: m.block_masked_mm(m.ones((70, 40)), m.ones((40, 100)), 32,
                                                mask(m, (2, 4))), None), mlx)


# --------------------------------------------------------------------- hadamard_transform


def sylvester(n):
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize("n", [1, 2, 4, 8, 64, 1024, 12, 24, 96, 20, 40, 28, 112])
@pytest.mark.parametrize("dtype", FLOATS3)
def test_hadamard_transform(mlx, rng, n, dtype):
    x, x_mlx = both(mlx, rand(rng, (3, n)), dtype)
    rtol, atol = tol(dtype)
    got = mx.hadamard_transform(x)
    # MLX rounds 16-bit values at each butterfly pass; rill sums in float32 (closer to the
    # float64 reference below), so the comparison with MLX allows its rounding per pass
    passes = max(1, int(np.log2(n)))
    same(got, mlx.hadamard_transform(x_mlx), rtol=rtol * 4, atol=atol * 4 * passes)
    same(mx.hadamard_transform(x, 0.25), mlx.hadamard_transform(x_mlx, 0.25), rtol=rtol * 4,
         atol=atol * 4 * passes * np.sqrt(n) / 4)
    if n & (n - 1) == 0:  # Sylvester's matrix, as scipy.linalg.hadamard
        check64(got, f64(x) @ sylvester(n).T / np.sqrt(n), dtype, scale=3)


def test_hadamard_transform_matrices_and_dtypes(mlx, rng):
    for m in (12, 20, 28):
        h = np.array(mx.hadamard_transform(mx.eye(m), scale=1.0))
        assert set(np.unique(h)) == {-1.0, 1.0}
        np.testing.assert_array_equal(h @ h.T, m * np.eye(m))  # a Hadamard matrix
        # order m * 2^k is kron(H_m, Sylvester)
        big = np.array(mx.hadamard_transform(mx.eye(4 * m), scale=1.0))
        np.testing.assert_array_equal(big, np.kron(h, sylvester(4)))
    for values, dtype in [(np.array([1, 2, 3, 4]), "int32"), (np.array([True, False]), "bool_"),
                          (np.array(2.0), "float32")]:
        x, x_mlx = both(mlx, values, dtype)
        same(mx.hadamard_transform(x), mlx.hadamard_transform(x_mlx), rtol=1e-6)
    # differentiable: the transform is linear and orthonormal, so its vjp is its transpose
    x = mx.array(rand(rng, (16,)))
    g = mx.grad(lambda x: mx.sum(mx.hadamard_transform(x) * mx.arange(16)))(x)
    check64(g, sylvester(16) @ np.arange(16) / 4, "float32", scale=10)

    def call(f, op):
        f.op = op
        return f

    def ev(m, r):
        m.eval(r)
        return r

    for n in (3, 6, 44):
        both_raise(call(lambda m: ev(m, m.hadamard_transform(m.ones((2, n)))), "[hadamard]"), mlx)
    both_raise(call(lambda m: ev(m, m.hadamard_transform(m.ones((2, 0)))),
                    "[hadamard_transform]"), mlx)


# ---------------------------------------------------------------------------------- float8


def fp8_values(rng):
    """Normal, large, tiny, subnormal and special floats, ties included."""
    e4m3 = np.array(mx.from_fp8(mx.arange(256).astype(mx.uint8), mx.float32))
    finite = e4m3[np.isfinite(e4m3)]
    ties = (np.sort(finite)[1:] + np.sort(finite)[:-1]) / 2
    wide = rng.standard_normal(4000) * np.exp(rng.uniform(-14, 8, 4000))
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 448, 449, 464, 465, 480, 1e30,
               -1e30, 2 ** -6, 2 ** -9, 2 ** -10, 3 * 2 ** -10, 1e-30, 1e-45, -1e-40, 2 ** -7]
    return np.concatenate([finite, ties, -ties, wide, special]).astype(np.float32)


@pytest.mark.parametrize("dtype", FLOATS3)
def test_to_fp8_is_mlx_bit_for_bit(mlx, rng, dtype):
    values = fp8_values(rng)
    if dtype == "bfloat16":
        # MLX's conversion to bfloat16 drops the sign of a NaN (rill's keeps it): not to_fp8's
        values = values[~(np.isnan(values) & np.signbit(values))]
    x, x_mlx = both(mlx, values, dtype)
    got = mx.to_fp8(x)
    same(got, mlx.to_fp8(x_mlx))
    assert got.dtype == mx.uint8


def test_to_fp8_against_nearest_e4m3(rng):
    """Round to the nearest e4m3 value, ties to the even code, saturating at 448."""
    values = fp8_values(rng)
    values = values[np.isfinite(values)]
    codes = np.arange(128)
    table = np.array(mx.from_fp8(mx.array(codes).astype(mx.uint8), mx.float32)).astype(np.float64)
    codes, table = codes[:127], table[:127]  # 0x7f is NaN
    mag = np.minimum(np.abs(values.astype(np.float64)), 448.0)
    dist = np.abs(mag[:, None] - table[None, :])
    best = dist.min(1, keepdims=True)
    candidates = dist == best
    # among equally near codes, the even one
    pick = np.where(candidates & (codes[None] % 2 == 0), codes[None], 1000).min(1)
    pick = np.where(pick == 1000, np.argmax(candidates, 1), pick)
    want = pick | np.where(np.signbit(values), 0x80, 0)
    np.testing.assert_array_equal(np.array(mx.to_fp8(mx.array(values))), want)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_from_fp8_is_mlx_bit_for_bit(mlx, dtype):
    codes = np.arange(256).astype(np.uint8)
    got = mx.from_fp8(mx.array(codes), getattr(mx, dtype))
    same(got, mlx.from_fp8(mlx.array(codes), getattr(mlx, dtype)))
    assert mx.from_fp8(mx.array(codes)).dtype == mx.bfloat16
    # e4m3 by its definition: exponent bias 7, subnormals at exponent 0, NaN at S.1111.111
    e, m = (codes >> 3) & 15, (codes & 7).astype(np.float64)
    want = np.where(e == 0, m * 2.0 ** -9, (1 + m / 8) * 2.0 ** (e.astype(np.float64) - 7))
    want = np.where(codes & 0x80, -want, want)
    want[(codes & 0x7F) == 0x7F] = np.nan
    np.testing.assert_array_equal(f64(got), want)
    # float64 is exact too (MLX's CPU build decodes float64 wrongly: not compared)
    np.testing.assert_array_equal(np.array(mx.from_fp8(mx.array(codes), mx.float64)), want)


def test_fp8_round_trip_and_errors(mlx, rng):
    codes = np.arange(256).astype(np.uint8)
    finite = (codes & 0x7F) != 0x7F
    back = mx.to_fp8(mx.from_fp8(mx.array(codes), mx.float32))
    np.testing.assert_array_equal(np.array(back)[finite], codes[finite])

    def call(f, op):
        f.op = op
        return f

    both_raise(call(lambda m: m.to_fp8(m.array([1, 2])), "[to_fp8]"), mlx)
    both_raise(call(lambda m: m.to_fp8(m.array([True])), "[to_fp8]"), mlx)
    both_raise(call(lambda m: m.from_fp8(m.array([1, 2], dtype=m.uint32)), "[from_fp8]"), mlx)
    both_raise(call(lambda m: m.from_fp8(m.array([1.0])), "[from_fp8]"), mlx)
    both_raise(call(lambda m: m.from_fp8(m.array([1], dtype=m.uint8), m.int32), "[from_fp8]"),
               mlx)


# ----------------------------------------------------------------- streams, wired memory


def test_new_thread_unsafe_stream(mlx):
    s1, s2 = mx.new_thread_unsafe_stream(mx.cpu), mx.new_thread_unsafe_stream(mx.cpu)
    assert s1 != s2 and s1.device == mx.cpu
    # usable from another thread
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", (mx.ones((3,), stream=s1) * 2)
                                                       .tolist()))
    t.start()
    t.join()
    assert out["v"] == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError):
        mx.new_thread_unsafe_stream(None)
    with pytest.raises(TypeError):
        mlx.new_thread_unsafe_stream(None)
    if not mx.is_available(mx.gpu):
        both_raise(type("c", (), {"__call__": lambda self, m: m.new_thread_unsafe_stream(m.gpu),
                                  "op": "[new_thread_unsafe_stream]"})(), mlx)


def test_set_wired_limit_keeps_the_value():
    first = mx.set_wired_limit(1000)
    assert mx.set_wired_limit(2000) == 1000
    assert mx.set_wired_limit(first) == 2000
    with pytest.raises(TypeError):
        mx.set_wired_limit(-1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        previous = mx.metal.set_wired_limit(5)
        assert mx.metal.set_wired_limit(previous) == 5
        assert mx.metal.device_info() == {}
    assert all(issubclass(w.category, DeprecationWarning) for w in caught) and len(caught) == 3


def test_metal_device_info_matches_mlx_without_metal(mlx):
    if mlx.metal.is_available():
        pytest.skip("MLX has Metal here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mx.metal.device_info() == mlx.metal.device_info() == {}
