"""Gradients of convolutions (`Op::Conv`'s rule, crates/rill-core/src/transforms/rules/conv.rs)
against float64 sums written out by hand, over every parameter of `conv_general` (strides,
padding on each side, kernel and input dilation, groups, flipped kernels) in 1, 2 and 3 dims,
and against real MLX for `conv1d`/`conv2d`/`conv_transpose2d`, second derivatives included."""

import itertools

import numpy as np
import pytest

import rill.core as mx
from mlx_compare import same

RNG = np.random.default_rng(20261204)


def reference(x, w, c, stride, lo, hi, kd, idil, groups, flip):
    """float64 `y = conv(x, w)` and the gradients of `sum(y * c)` with respect to x and w, one
    output position and kernel tap at a time."""
    d = x.ndim - 2
    n, cin = x.shape[0], x.shape[-1]
    cout, kernel = w.shape[0], w.shape[1:-1]
    dil_shape = [(x.shape[1 + i] - 1) * idil[i] + 1 for i in range(d)]
    xd = np.zeros((n, *dil_shape, cin))
    xd[(slice(None),) + tuple(slice(None, None, idil[i]) for i in range(d))] = x
    xp = np.pad(xd, [(0, 0)] + [(lo[i], hi[i]) for i in range(d)] + [(0, 0)])
    out = [(xp.shape[1 + i] - ((kernel[i] - 1) * kd[i] + 1)) // stride[i] + 1 for i in range(d)]
    y = np.zeros((n, *out, cout))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w, dtype=np.float64)
    cig, cog = cin // groups, cout // groups
    for o in itertools.product(*map(range, out)):
        for k in itertools.product(*map(range, kernel)):
            pos = tuple(o[i] * stride[i] + k[i] * kd[i] for i in range(d))
            kk = tuple(kernel[i] - 1 - k[i] for i in range(d)) if flip else k
            for g in range(groups):
                ci, co = slice(g * cig, (g + 1) * cig), slice(g * cog, (g + 1) * cog)
                xs = xp[(slice(None),) + pos + (ci,)]
                wv = w[(co,) + kk].astype(np.float64)
                cv = c[(slice(None),) + o + (co,)]
                y[(slice(None),) + o + (co,)] += xs @ wv.T
                gxp[(slice(None),) + pos + (ci,)] += cv @ wv
                gw[(co,) + kk] += cv.T @ xs
    inner = tuple(slice(lo[i], lo[i] + dil_shape[i], idil[i]) for i in range(d))
    return y, gxp[(slice(None),) + inner], gw


# (x shape, w shape, stride, padding lo, padding hi, kernel dilation, input dilation, groups, flip)
CASES = [
    ((2, 9, 4), (6, 3, 4), [1], [1], [1], [1], [1], 1, False),
    ((2, 11, 4), (6, 3, 2), [2], [3], [4], [2], [1], 2, True),
    ((1, 7, 3), (2, 2, 3), [3], [0], [5], [1], [2], 1, False),
    ((2, 6, 7, 3), (4, 3, 2, 3), [2, 1], [1, 4], [0, 2], [1, 2], [2, 1], 1, True),
    ((2, 8, 8, 4), (6, 3, 3, 2), [1, 2], [2, 0], [1, 1], [2, 1], [1, 1], 2, False),
    ((1, 4, 3, 5, 4), (4, 2, 2, 3, 2), [1, 2, 1], [1, 0, 1], [1, 1, 0], [1, 1, 2], [1, 2, 1], 2, True),
    # Winograd's shapes on the forward pass (3x3, 16+ channels): its gradients are plain convs.
    ((2, 6, 5, 16), (16, 3, 3, 16), [1, 1], [1, 1], [1, 1], [1, 1], [1, 1], 1, False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c[0]) - 2}d-{c[2]}-{c[7]}g-{c[8]}")
def test_gradients_match_float64_sums(case):
    xs, ws, stride, lo, hi, kd, idil, groups, flip = case
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    # The output's shape first (c must match it), then the gradients of sum(y * c).
    out_shape = mx.conv_general(mx.array(x, dtype=mx.float64), mx.array(w, dtype=mx.float64),
                                stride=stride, padding=(lo, hi), kernel_dilation=kd,
                                input_dilation=idil, groups=groups, flip=flip).shape
    c = RNG.standard_normal(out_shape)
    _, gx_want, gw_want = reference(x, w, c, stride, lo, hi, kd, idil, groups, flip)

    def loss(x, w):
        out = mx.conv_general(x, w, stride=stride, padding=(lo, hi), kernel_dilation=kd,
                              input_dilation=idil, groups=groups, flip=flip)
        return (out * mx.array(c, dtype=mx.float64)).sum()

    for dtype, tol in [(mx.float64, 1e-11), (mx.float32, 2e-5)]:
        gx, gw = mx.grad(loss, argnums=(0, 1))(mx.array(x, dtype=dtype), mx.array(w, dtype=dtype))
        assert gx.shape == x.shape and gw.shape == w.shape
        assert gx.dtype == dtype and gw.dtype == dtype
        for got, want in [(gx, gx_want), (gw, gw_want)]:
            err = np.abs(np.array(got, dtype=np.float64) - want).max()
            assert err <= tol * (1 + np.abs(want).max()), (dtype, err)


def test_gradients_match_mlx(mlx):
    x = RNG.standard_normal((2, 10, 9, 6)).astype(np.float32)
    w = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)
    w1 = RNG.standard_normal((5, 4, 6)).astype(np.float32)
    wt = RNG.standard_normal((4, 3, 3, 6)).astype(np.float32)

    def loss(m, x, w, w1, wt):
        a = m.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
        b = m.conv1d(x.reshape(2, 90, 6), w1, stride=3, padding=2)
        t = m.conv_transpose2d(x, wt, stride=2, padding=1)
        return (a * a).sum() + m.sin(b).sum() + (t * 0.5).sum()

    args = (x, w, w1, wt)
    got = mx.grad(lambda *a: loss(mx, *a), argnums=(0, 1, 2, 3))(*map(mx.array, args))
    want = mlx.grad(lambda *a: loss(mlx, *a), argnums=(0, 1, 2, 3))(*map(mlx.array, args))
    same(list(got), list(want), 1e-4, 1e-3)


def test_second_derivative_matches_mlx(mlx):
    # The rule is built of convolutions, so it differentiates again.
    x = RNG.standard_normal((1, 12, 3)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3)).astype(np.float32)

    def inner(m, x, w):
        return (m.tanh(m.conv1d(x, w, padding=1, stride=2)) ** 2).sum()

    def outer(m, x, w):
        gx, gw = m.grad(lambda x, w: inner(m, x, w), argnums=(0, 1))(x, w)
        return (gx * gx).sum() + (gw * m.cos(gw)).sum()

    got = mx.grad(lambda x, w: outer(mx, x, w), argnums=(0, 1))(mx.array(x), mx.array(w))
    want = mlx.grad(lambda x, w: outer(mlx, x, w), argnums=(0, 1))(mlx.array(x), mlx.array(w))
    same(list(got), list(want), 1e-4, 1e-4)


def test_value_and_grad_of_a_small_network_matches_mlx(mlx):
    # The path users take: a conv layer trained with value_and_grad.
    x = RNG.standard_normal((4, 8, 8, 3)).astype(np.float32)
    w = (RNG.standard_normal((16, 3, 3, 3)) / 5).astype(np.float32)
    v = (RNG.standard_normal((16, 3, 3, 16)) / 12).astype(np.float32)

    def loss(m, w, v):
        h = m.maximum(m.conv2d(m.array(x), w, padding=1), 0.0)
        return m.conv2d(h, v, padding=1, stride=2).square().mean()

    got = mx.value_and_grad(lambda w, v: loss(mx, w, v), argnums=(0, 1))(mx.array(w), mx.array(v))
    want = mlx.value_and_grad(lambda w, v: loss(mlx, w, v), argnums=(0, 1))(mlx.array(w), mlx.array(v))
    same(got[0], want[0], 1e-5, 1e-5)
    same(list(got[1]), list(want[1]), 1e-4, 1e-4)
