"""mx.fast.gated_delta_update against real MLX 0.32.4 and a float64 NumPy recurrence, on random
inputs: grouped heads, per-key-dim decay, an initial state, a mask, 16-bit inputs, errors."""

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import both_raise, to_numpy


def recurrence(q, k, v, gamma, beta, state=None, mask=None):
    """The gated delta rule step by step in float64."""
    b, t, hk, dk = q.shape
    hv, dv = v.shape[2], v.shape[3]
    q = np.repeat(q, hv // hk, axis=2).astype(np.float64)
    k = np.repeat(k, hv // hk, axis=2).astype(np.float64)
    s = np.zeros((b, hv, dv, dk)) if state is None else state.astype(np.float64)
    g = gamma[..., None, None] if gamma.ndim == 3 else gamma[..., None, :]
    outs = []
    for i in range(t):
        new = s * g[:, i]
        recalled = np.einsum("bhvk,bhk->bhv", new, k[:, i])
        delta = (v[:, i] - recalled) * beta[:, i, :, None]
        new = new + delta[..., None] * k[:, i, :, None, :]
        out = np.einsum("bhvk,bhk->bhv", new, q[:, i])
        if mask is not None:
            new = np.where(mask[:, i, None, None, None], new, s)
            out = np.where(mask[:, i, None, None], out, 0.0)
        s = new
        outs.append(out)
    return np.stack(outs, 1), s


def inputs(rng, b=2, t=6, hk=2, hv=4, dk=8, dv=5, per_dim=False):
    f = np.float32
    q = rng.standard_normal((b, t, hk, dk)).astype(f) / 3
    k = rng.standard_normal((b, t, hk, dk)).astype(f) / 3
    v = rng.standard_normal((b, t, hv, dv)).astype(f)
    gamma = rng.uniform(0.6, 1.0, (b, t, hv, dk) if per_dim else (b, t, hv)).astype(f)
    beta = rng.uniform(0.0, 1.0, (b, t, hv)).astype(f)
    return q, k, v, gamma, beta


@pytest.mark.parametrize("per_dim", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("with_mask", [False, True])
def test_against_mlx_and_float64(mlx, rng, per_dim, with_state, with_mask):
    args = inputs(rng, per_dim=per_dim)
    state = rng.standard_normal((2, 4, 5, 8)).astype(np.float32) if with_state else None
    mask = (rng.random((2, 6)) < 0.6) if with_mask else None
    kw, kw_mlx = {}, {}
    if state is not None:
        kw["initial_state"], kw_mlx["initial_state"] = mx.array(state), mlx.array(state)
    if mask is not None:
        kw["mask"], kw_mlx["mask"] = mx.array(mask), mlx.array(mask)
    out, final = mx.fast.gated_delta_update(*(mx.array(a) for a in args), **kw)
    want_out, want_final = mlx.fast.gated_delta_update(*(mlx.array(a) for a in args), **kw_mlx)
    ref_out, ref_final = recurrence(*args, state=state, mask=mask)
    assert out.dtype == mx.float32 and final.dtype == mx.float32
    assert tuple(out.shape) == tuple(want_out.shape) and tuple(final.shape) == tuple(
        want_final.shape)
    np.testing.assert_allclose(np.array(out), ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(final), ref_final, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.array(out), np.array(want_out), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.array(final), np.array(want_final), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_inputs_keep_a_float32_state(mlx, rng, dtype):
    args = inputs(rng, b=1, t=4, hk=1, hv=2, dk=4, dv=4)
    out, final = mx.fast.gated_delta_update(*(mx.array(a).astype(getattr(mx, dtype))
                                              for a in args))
    want_out, want_final = mlx.fast.gated_delta_update(
        *(mlx.array(a).astype(getattr(mlx, dtype)) for a in args))
    assert out.dtype == getattr(mx, dtype) and final.dtype == mx.float32
    rounded = [to_numpy(mx.array(a).astype(getattr(mx, dtype))).astype(np.float64) for a in args]
    ref_out, ref_final = recurrence(*rounded)
    tol = 1e-2 if dtype == "float16" else 5e-2
    np.testing.assert_allclose(to_numpy(out), ref_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.array(final), ref_final, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(out), to_numpy(want_out), rtol=tol, atol=tol)


def test_errors(mlx, rng):
    def call(f):
        f.op = "[gated_delta_update]"
        return f

    q, k, v, gamma, beta = inputs(rng)
    bad = [
        lambda m: m.fast.gated_delta_update(*(m.array(a) for a in (q, k[..., :5], v, gamma,
                                                                     beta))),
        lambda m: m.fast.gated_delta_update(*(m.array(a) for a in (q[0], k[0], v[0], gamma[0],
                                                                     beta[0]))),
    ]
    for f in bad:
        both_raise(call(f), mlx)
    with pytest.raises(ValueError, match="gated_delta_update"):
        mx.fast.gated_delta_update(*(mx.array(a) for a in (q, k, v, gamma, beta[..., :1])))
