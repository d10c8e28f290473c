"""`mx.fast` against real MLX on random inputs (values, shapes, dtypes, and the errors), against
float64 references computed here with NumPy, through `grad`, and on a second stream: rms_norm,
layer_norm, rope (both layouts, partial dims, offsets, frequencies), scaled dot-product attention
(grouped queries, causal, boolean and additive masks, sinks) and cross_entropy."""

import math

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, same

RNG = np.random.default_rng(20261204)
TOL = {"float32": (2e-5, 2e-5), "float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2)}


def arr(module, x, dtype="float32"):
    return module.array(x).astype(getattr(module, dtype))


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- float64 references

def rms_ref(x, w, eps):
    x = x.astype(np.float64)
    out = x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps)
    return out if w is None else out * w


def ln_ref(x, w, b, eps):
    x = x.astype(np.float64)
    out = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
    return out * (1 if w is None else w) + (0 if b is None else b)


def rope_ref(x, dims, traditional, base, scale, offset):
    x = x.astype(np.float64)
    half = dims // 2
    inv = base ** (-np.arange(half) / half)
    t = x.shape[-2]
    theta = ((offset + np.arange(t)) * scale)[:, None] * inv[None, :]
    c, s = np.cos(theta), np.sin(theta)
    if traditional:
        x1, x2 = x[..., 0:dims:2], x[..., 1:dims:2]
    else:
        x1, x2 = x[..., :half], x[..., half:dims]
    r1, r2 = x1 * c - x2 * s, x1 * s + x2 * c
    rot = np.stack([r1, r2], -1).reshape(r1.shape[:-1] + (dims,)) if traditional else \
        np.concatenate([r1, r2], -1)
    return np.concatenate([rot, x[..., dims:]], -1)


def sdpa_ref(q, k, v, scale, keep=None, add=None):
    reps = q.shape[1] // k.shape[1]
    k = np.repeat(k.astype(np.float64), reps, axis=1)
    v = np.repeat(v.astype(np.float64), reps, axis=1)
    s = q.astype(np.float64) @ np.swapaxes(k, -1, -2) * scale
    if add is not None:
        s = s + add
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


# ---------------------------------------------------------------- against references and MLX

@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_norms_match_float64_and_mlx(mlx, dtype):
    rtol, atol = TOL[dtype]
    x, w, b = normal(3, 4, 32), normal(32), normal(32)
    xr = np.array(arr(mx, x, dtype).astype(mx.float32))
    wr = np.array(arr(mx, w, dtype).astype(mx.float32))
    br = np.array(arr(mx, b, dtype).astype(mx.float32))
    got = mx.fast.rms_norm(arr(mx, x, dtype), arr(mx, w, dtype), 1e-5)
    assert got.dtype == getattr(mx, dtype) and got.shape == (3, 4, 32)
    np.testing.assert_allclose(np.array(got.astype(mx.float32)), rms_ref(xr, wr, 1e-5),
                               rtol=4 * rtol, atol=4 * atol)
    for wm in (True, False):
        same(mx.fast.rms_norm(arr(mx, x, dtype), arr(mx, w, dtype) if wm else None, 1e-6),
             mlx.fast.rms_norm(arr(mlx, x, dtype), arr(mlx, w, dtype) if wm else None, 1e-6),
             rtol, atol)
        for bm in (True, False):
            same(mx.fast.layer_norm(arr(mx, x, dtype), arr(mx, w, dtype) if wm else None,
                                    arr(mx, b, dtype) if bm else None, 1e-5),
                 mlx.fast.layer_norm(arr(mlx, x, dtype), arr(mlx, w, dtype) if wm else None,
                                     arr(mlx, b, dtype) if bm else None, 1e-5), rtol, atol)
    got = mx.fast.layer_norm(arr(mx, x, dtype), arr(mx, w, dtype), arr(mx, b, dtype), 1e-5)
    np.testing.assert_allclose(np.array(got.astype(mx.float32)), ln_ref(xr, wr, br, 1e-5),
                               rtol=4 * rtol, atol=8 * atol)


@pytest.mark.parametrize("traditional", [False, True])
@pytest.mark.parametrize("dims", [32, 16])
def test_rope_matches_float64_and_mlx(mlx, traditional, dims):
    x = normal(2, 3, 7, 32)
    for base, scale, offset in ((10000.0, 1.0, 0), (500.0, 0.5, 5)):
        got = mx.fast.rope(mx.array(x), dims, traditional=traditional, base=base, scale=scale,
                           offset=offset)
        np.testing.assert_allclose(np.array(got), rope_ref(x, dims, traditional, base, scale,
                                                           offset), rtol=2e-5, atol=2e-5)
        same(got, mlx.fast.rope(mlx.array(x), dims, traditional=traditional, base=base,
                                scale=scale, offset=offset), 2e-5, 2e-5)
    freqs = (np.abs(normal(dims // 2)) + 0.5)
    same(mx.fast.rope(mx.array(x), dims, traditional=traditional, base=None, scale=1.0,
                      offset=mx.array(3), freqs=mx.array(freqs)),
         mlx.fast.rope(mlx.array(x), dims, traditional=traditional, base=None, scale=1.0,
                       offset=mlx.array(3), freqs=mlx.array(freqs)), 2e-5, 2e-5)
    same(mx.fast.rope(mx.array(x), dims, traditional=traditional, base=1e4, scale=1.0,
                      offset=mx.array([2, 9])),
         mlx.fast.rope(mlx.array(x), dims, traditional=traditional, base=1e4, scale=1.0,
                       offset=mlx.array([2, 9])), 2e-5, 2e-5)
    same(mx.fast.rope(arr(mx, x, "bfloat16"), dims, traditional=traditional, base=1e4,
                      scale=1.0, offset=1),
         mlx.fast.rope(arr(mlx, x, "bfloat16"), dims, traditional=traditional, base=1e4,
                       scale=1.0, offset=1), 3e-2, 3e-2)


@pytest.mark.parametrize("heads", [(4, 4), (8, 2), (6, 1)])
def test_attention_matches_float64_and_mlx(mlx, heads):
    nq, nkv = heads
    q, k, v = normal(2, nq, 5, 16), normal(2, nkv, 9, 16), normal(2, nkv, 9, 16)
    scale = 16 ** -0.5
    keep = RNG.random((2, nq, 5, 9)) < 0.7
    keep[..., 0] = True
    add = normal(1, nq, 5, 9)
    causal = np.arange(5)[:, None] + 4 >= np.arange(9)[None, :]
    cases = [(None, None, {}), ("causal", causal, {}), (keep, keep, {}), (keep[0, 0], keep[0, 0], {}),
             (add, None, {"add": add})]
    for mask, keep_ref, extra in cases:
        def call(m, mask=mask):
            mm = mask if mask is None or isinstance(mask, str) else m.array(mask)
            return m.fast.scaled_dot_product_attention(m.array(q), m.array(k), m.array(v),
                                                       scale=scale, mask=mm)
        got = call(mx)
        np.testing.assert_allclose(np.array(got), sdpa_ref(q, k, v, scale, keep_ref, **extra),
                                   rtol=1e-4, atol=1e-5)
        same(got, call(mlx), 1e-5, 1e-5)
    sinks = normal(nq)
    same(mx.fast.scaled_dot_product_attention(mx.array(q), mx.array(k), mx.array(v), scale=scale,
                                              sinks=mx.array(sinks)),
         mlx.fast.scaled_dot_product_attention(mlx.array(q), mlx.array(k), mlx.array(v),
                                               scale=scale, sinks=mlx.array(sinks)), 1e-5, 1e-5)
    # More queries than keys: the first rows see no key at all and average the values, as MLX.
    q2 = normal(2, nq, 12, 16)
    same(mx.fast.scaled_dot_product_attention(mx.array(q2), mx.array(k), mx.array(v),
                                              scale=scale, mask="causal"),
         mlx.fast.scaled_dot_product_attention(mlx.array(q2), mlx.array(k), mlx.array(v),
                                               scale=scale, mask="causal"), 1e-5, 1e-5)
    same(mx.fast.scaled_dot_product_attention(arr(mx, q, "float16"), arr(mx, k, "float16"),
                                              arr(mx, v, "float16"), scale=scale, mask="causal"),
         mlx.fast.scaled_dot_product_attention(arr(mlx, q, "float16"), arr(mlx, k, "float16"),
                                               arr(mlx, v, "float16"), scale=scale,
                                               mask="causal"), 4e-3, 4e-3)


def test_cross_entropy_matches_float64_and_mlx(mlx):
    logits = normal(3, 4, 11) * 3
    targets = RNG.integers(0, 11, (3, 4))
    got = mx.fast.cross_entropy(mx.array(logits), mx.array(targets))
    x = logits.astype(np.float64)
    m = x.max(-1)
    want = m + np.log(np.exp(x - m[..., None]).sum(-1)) - np.take_along_axis(
        x, targets[..., None], -1)[..., 0]
    assert got.dtype == mx.float32
    np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-5)
    same(got, mlx.fast.cross_entropy(mlx.array(logits), mlx.array(targets)), 1e-5, 1e-5)
    same(mx.fast.cross_entropy(arr(mx, logits, "bfloat16"), mx.array(targets)),
         mlx.fast.cross_entropy(arr(mlx, logits, "bfloat16"), mlx.array(targets)), 2e-2, 2e-2)


# ---------------------------------------------------------------- gradients, streams, errors

def test_gradients_flow_through_the_fast_functions(mlx):
    x, w, b = normal(4, 16), normal(16), normal(16)
    q, k, v = normal(1, 2, 3, 8), normal(1, 2, 5, 8), normal(1, 2, 5, 8)

    def loss(m, x, w, b, q, k, v):
        y = m.fast.layer_norm(x, w, b, 1e-5) + m.fast.rms_norm(x, w, 1e-5)
        a = m.fast.scaled_dot_product_attention(q, k, v, scale=0.3, mask="causal")
        r = m.fast.rope(q, 8, traditional=False, base=1e4, scale=1.0, offset=2)
        return (y * y).sum() + (a * a).sum() + (r * k[..., :3, :]).sum()

    args = (x, w, b, q, k, v)
    got = mx.grad(lambda *a: loss(mx, *a), argnums=tuple(range(6)))(*map(mx.array, args))
    want = mlx.grad(lambda *a: loss(mlx, *a), argnums=tuple(range(6)))(*map(mlx.array, args))
    for g, wv in zip(got, want):
        same(g, wv, 1e-4, 1e-4)


def test_fast_functions_run_on_the_stream_given(gpu_stream):
    x = normal(8, 64)
    got = mx.fast.rms_norm(mx.array(x), None, 1e-5, stream=gpu_stream)
    np.testing.assert_allclose(np.array(got), rms_ref(x, None, 1e-5), rtol=2e-5, atol=2e-5)
    q = normal(1, 2, 4, 8)
    got = mx.fast.scaled_dot_product_attention(mx.array(q), mx.array(q), mx.array(q), scale=1.0,
                                               stream=gpu_stream)
    np.testing.assert_allclose(np.array(got), sdpa_ref(q, q, q, 1.0), rtol=1e-5, atol=1e-5)


def test_bad_input_is_refused_as_mlx_does(mlx):
    x = normal(2, 3, 8)

    def wrong_weight(m):
        return m.fast.rms_norm(m.array(x), m.array(normal(7)), 1e-5)
    wrong_weight.op = "rms_norm"
    both_raise(wrong_weight, mlx)

    def odd_dims(m):
        return m.fast.rope(m.array(normal(1, 2, 3, 8)), 5, traditional=False, base=1e4,
                           scale=1.0, offset=0)
    odd_dims.op = "rope"
    both_raise(odd_dims, mlx)

    def heads(m):
        return m.fast.scaled_dot_product_attention(m.array(normal(1, 3, 2, 4)),
                                                   m.array(normal(1, 2, 2, 4)),
                                                   m.array(normal(1, 2, 2, 4)), scale=1.0)
    heads.op = "scaled_dot_product_attention"
    both_raise(heads, mlx)

    def bad_mask(m):
        q = m.array(normal(1, 1, 2, 4))
        return m.fast.scaled_dot_product_attention(q, q, q, scale=1.0, mask="upper")
    bad_mask.op = "scaled_dot_product_attention"
    both_raise(bad_mask, mlx)

    def targets(m):
        return m.fast.cross_entropy(m.array(normal(3, 5)), m.array(np.zeros((4,), np.int32)))
    targets.op = "cross_entropy"
    both_raise(targets, mlx)
    with pytest.raises(ValueError, match="exactly one of base and freqs"):
        mx.fast.rope(mx.array(normal(1, 2, 3, 8)), 8, traditional=False, base=None, scale=1.0,
                     offset=0)
    # MLX's CPU has no fused attention and refuses force_fused; rill's has one
    # (test_attention_fused.py), and refuses only what it cannot fuse (sinks, int dtypes).
    with pytest.raises(ValueError, match="force_fused"):
        q = mx.array(normal(1, 1, 2, 4))
        mx.fast.scaled_dot_product_attention(q, q, q, scale=1.0, force_fused=True,
                                             sinks=mx.array([0.0]))
    with pytest.raises(RuntimeError, match="Metal is not available"):
        mx.fast.metal_kernel(name="k", input_names=["a"], output_names=["b"], source="")
    assert math.isfinite(float(mx.fast.layer_norm(mx.array([1.0, 1.0]), None, None, 1e-5).sum()))
