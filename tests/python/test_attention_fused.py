"""The fused CPU attention kernel (`Op::Attention`, `backend/cpu/attention.rs`) against float64
references and real MLX, at sizes that cross its blocks of query rows (16 to 128 rows; a block's
scores are sized to stay in cache), on strided inputs, with every mask kind, grouped heads,
value widths unlike the key width, rows that see no key, float64, half types, gradients and vmap.
test_fast.py covers the API's small cases and errors; this file the kernel."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import same

RNG = np.random.default_rng(20261205)
MASKED = float(np.finfo(np.float32).min)


def normal(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def ref(q, k, v, scale, keep=None, add=None, causal=False):
    """float64 attention; masked scores become float32's min (so a row that sees nothing
    averages every value, as MLX)."""
    reps = q.shape[1] // k.shape[1]
    k = np.repeat(k.astype(np.float64), reps, axis=1)
    v = np.repeat(v.astype(np.float64), reps, axis=1)
    s = q.astype(np.float64) @ np.swapaxes(k, -1, -2) * scale
    tq, tkv = s.shape[-2:]
    if add is not None:
        s = s + add
    if causal:
        keep = np.arange(tq)[:, None] + (tkv - tq) >= np.arange(tkv)[None, :]
    if keep is not None:
        s = np.where(keep, s, MASKED)
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


def fused(*args, **kwargs):
    """The kernel, made to run fused (an error if the call would be composed)."""
    return mx.fast.scaled_dot_product_attention(*args, force_fused=True, stream=mx.cpu,
                                                **kwargs)


SHAPES = [
    # (B, N_q, N_kv, T_q, T_kv, D, D_v)
    (1, 2, 2, 150, 300, 24, 40),   # two blocks of rows, the second partial; D_v != D
    (2, 6, 2, 37, 1100, 16, 16),   # grouped heads; long keys: blocks of the fewest rows
    (1, 3, 1, 300, 100, 8, 12),    # more queries than keys: a causal mask hides every key
    (1, 1, 1, 1, 1, 4, 4),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mask", [None, "causal", "bool", "add", "bool_shared"])
def test_matches_float64(shape, mask):
    b, nq, nkv, tq, tkv, d, dv = shape
    q, k, v = normal(b, nq, tq, d), normal(b, nkv, tkv, d), normal(b, nkv, tkv, dv)
    scale = d ** -0.5
    if mask is None:
        m, kw = None, {}
    elif mask == "causal":
        m, kw = "causal", {"causal": True}
    elif mask == "bool":
        keep = RNG.random((b, nq, tq, tkv)) < 0.6
        m, kw = mx.array(keep), {"keep": keep}
    elif mask == "bool_shared":
        keep = RNG.random((tq, tkv)) < 0.3
        m, kw = mx.array(keep), {"keep": keep}
    else:
        add = normal(1, nq, 1, tkv) * 2
        m, kw = mx.array(add), {"add": add}
    got = fused(mx.array(q), mx.array(k), mx.array(v), scale=scale, mask=m)
    assert got.shape == (b, nq, tq, dv) and got.dtype == mx.float32
    np.testing.assert_allclose(np.array(got), ref(q, k, v, scale, **kw), rtol=2e-5, atol=2e-5)


def test_strided_and_broadcast_inputs_read_in_place():
    # (B, T, N, D) swapped to (B, N, T, D), keys every other row, values broadcast over heads.
    qt = normal(2, 200, 4, 32)
    kt = normal(2, 4, 260, 32)
    vt = normal(2, 1, 130, 16)
    q = mx.swapaxes(mx.array(qt), 1, 2)
    k = mx.array(kt)[:, :, ::2, :]
    v = mx.broadcast_to(mx.array(vt), (2, 4, 130, 16))
    got = fused(q, k, v, scale=0.2, mask="causal")
    want = ref(np.swapaxes(qt, 1, 2), kt[:, :, ::2, :], np.broadcast_to(vt, (2, 4, 130, 16)),
               0.2, causal=True)
    np.testing.assert_allclose(np.array(got), want, rtol=2e-5, atol=2e-5)


def test_float64_is_computed_in_float64():
    q, k, v = (normal(1, 2, 90, 16, dtype=np.float64) for _ in range(3))
    add = normal(90, 90, dtype=np.float64)
    f64 = [mx.array(x, dtype=mx.float64) for x in (q, k, v, add)]
    got = fused(*f64[:3], scale=0.25, mask=f64[3])
    assert got.dtype == mx.float64
    np.testing.assert_allclose(np.array(got), ref(q, k, v, 0.25, add=add), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_types_match_mlx(mlx, dtype):
    q, k, v = normal(1, 4, 140, 32), normal(1, 2, 140, 32), normal(1, 2, 140, 32)

    def call(m, **kw):
        a = [m.array(x).astype(getattr(m, dtype)) for x in (q, k, v)]
        return m.fast.scaled_dot_product_attention(*a, scale=32 ** -0.5, mask="causal", **kw)

    # The fused kernel is the CPU's (on a GPU stream force_fused is an error).
    got = call(mx, force_fused=True, stream=mx.cpu)
    assert got.dtype == getattr(mx, dtype)
    tol = 4e-3 if dtype == "float16" else 3e-2
    same(got, call(mlx), tol, tol)


def test_matches_mlx_on_a_larger_problem(mlx):
    q, k, v = normal(2, 8, 257, 64), normal(2, 8, 257, 64), normal(2, 8, 257, 64)
    for mask in (None, "causal"):
        got = fused(mx.array(q), mx.array(k), mx.array(v), scale=0.125, mask=mask)
        want = mlx.fast.scaled_dot_product_attention(mlx.array(q), mlx.array(k), mlx.array(v),
                                                     scale=0.125, mask=mask)
        same(got, want, 2e-5, 2e-5)


@pytest.mark.parametrize("mask", [None, "causal", "bool", "add"])
def test_gradients_match_mlx(mlx, mask):
    q, k, v = normal(1, 4, 70, 16), normal(1, 2, 90, 16), normal(1, 2, 90, 8)
    keep = RNG.random((70, 90)) < 0.7
    keep[:, 0] = True
    add = normal(1, 4, 70, 90)
    w = normal(1, 4, 70, 8)

    def loss(m, q, k, v, extra):
        if mask == "bool":
            mm = m.array(keep)
        elif mask == "add":
            mm = extra
        else:
            mm = mask
        kw = {"force_fused": True, "stream": m.cpu} if m is mx else {}
        out = m.fast.scaled_dot_product_attention(q, k, v, scale=0.3, mask=mm, **kw)
        return (out * m.array(w)).sum()

    args = (q, k, v, add)
    got = mx.grad(lambda *a: loss(mx, *a), argnums=(0, 1, 2, 3))(*map(mx.array, args))
    want = mlx.grad(lambda *a: loss(mlx, *a), argnums=(0, 1, 2, 3))(*map(mlx.array, args))
    for name, g, wv in zip("qkvm", got, want):
        if name == "m" and mask != "add":
            continue
        same(g, wv, 1e-4, 1e-4)


def test_second_derivative_through_the_fused_node():
    # d/dx of sum(grad wrt q) exists only if the backward pass is itself differentiable.
    q, k, v = normal(1, 1, 20, 8), normal(1, 1, 30, 8), normal(1, 1, 30, 8)

    def inner(q):
        return (fused(q, mx.array(k), mx.array(v), scale=0.5) ** 2).sum()

    def outer(q):
        return (mx.grad(inner)(q) ** 2).sum()

    got = mx.grad(outer)(mx.array(q))

    def inner_composed(q):
        kk, vv = mx.array(k), mx.array(v)
        p = mx.softmax((q @ mx.swapaxes(kk, -1, -2)) * 0.5, axis=-1)
        return ((p @ vv) ** 2).sum()

    want = mx.grad(lambda q: (mx.grad(inner_composed)(q) ** 2).sum())(mx.array(q))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-4, atol=1e-5)


def test_vmap_folds_the_batch_into_the_kernel():
    q, k, v = normal(5, 1, 2, 40, 16), normal(5, 1, 2, 50, 16), normal(1, 2, 50, 16)
    got = mx.vmap(lambda q, k: fused(q, k, mx.array(v), scale=0.25, mask="causal"),
                  in_axes=(0, 0))(mx.array(q), mx.array(k))
    for i in range(5):
        np.testing.assert_allclose(np.array(got[i]), ref(q[i], k[i], v, 0.25, causal=True),
                                   rtol=2e-5, atol=2e-5)


def test_empty_sequences():
    q = mx.array(normal(1, 2, 5, 8))
    kv = mx.zeros((1, 2, 0, 8))
    got = fused(q, kv, kv, scale=1.0)
    assert got.shape == (1, 2, 5, 8)
    assert not np.array(got).any()
    assert fused(mx.zeros((1, 2, 0, 8)), q, q, scale=1.0).shape == (1, 2, 0, 8)


def test_force_fused_refuses_what_it_cannot_fuse():
    q = mx.array(normal(1, 1, 4, 8))
    with pytest.raises(ValueError, match="no fused kernel for int32"):
        mx.fast.scaled_dot_product_attention(q.astype(mx.int32), q.astype(mx.int32),
                                             q.astype(mx.int32), scale=1.0, force_fused=True,
                                             stream=mx.cpu)
    with pytest.raises(ValueError, match="sinks"):
        mx.fast.scaled_dot_product_attention(q, q, q, scale=1.0, force_fused=True,
                                             sinks=mx.array([0.5]))
    with pytest.raises(ValueError, match="does not broadcast"):
        mx.fast.scaled_dot_product_attention(q, q, q, scale=1.0,
                                             mask=mx.array(np.ones((3, 4), bool)))


def test_an_exported_function_keeps_the_fused_attention(tmp_path):
    q, k, v = normal(1, 4, 70, 16), normal(1, 2, 90, 16), normal(1, 2, 90, 8)
    path = str(tmp_path / "attention.mlxfn")

    def f(q, k, v):
        return fused(q, k, v, scale=0.3, mask="causal")

    mx.export_function(path, f, mx.array(q), mx.array(k), mx.array(v))
    (got,) = mx.import_function(path)(mx.array(q), mx.array(k), mx.array(v))
    np.testing.assert_allclose(np.array(got), ref(q, k, v, 0.3, causal=True), rtol=2e-5,
                               atol=2e-5)
