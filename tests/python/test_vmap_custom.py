"""`mx.vmap`, `mx.custom_function` and `mx.checkpoint`: vmap against a Python loop over the
examples and against real MLX's vmap (the same code run on both modules), in_axes/out_axes trees
and MLX's errors; composition with grad and compile both ways; custom rules against MLX's and
against derivatives written out in float64; checkpoint's gradients against the plain function's."""

import numpy as np
import pytest

import rill.core as mx

RNG = np.random.default_rng(20261203)


def normal(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


# Functions of one example, written once for both modules (`m` is rill.core or mlx.core).
FUNCTIONS = {
    "elementwise": lambda m, x: m.sin(x) * 2.0 + m.exp(-x * x),
    "broadcast with a constant": lambda m, x: x * m.arange(x.shape[-1], dtype=m.float32) + 1.0,
    "reductions": lambda m, x: m.concatenate([x.sum(axis=0), x.max(axis=0), m.logsumexp(x, axis=0)]),
    "softmax and cumsum": lambda m, x: m.softmax(x, axis=-1) + m.cumsum(x, axis=0),
    "argmax": lambda m, x: m.argmax(x, axis=-1),
    "sort": lambda m, x: m.sort(x, axis=0),
    "matmul with shared weights": lambda m, x: x @ m.array(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)),
    "vector @ matrix": lambda m, x: x[0] @ m.array(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)),
    "transpose, reshape, slices": lambda m, x: m.transpose(x).reshape(-1)[1::3],
    "pad and concatenate": lambda m, x: m.concatenate([m.pad(x, [(0, 0), (1, 2)]), x[:, :2] * 0 + 1], axis=1)[:, 1:7],
    "take with constant indices": lambda m, x: m.take(x, m.array([2, 0, 1, 2]), axis=0),
    "indexing": lambda m, x: x[1:, ::-1][..., None] * x[0],
    "where": lambda m, x: m.where(x > 0, x, -2.0 * x),
    "inv": lambda m, x: m.linalg.inv(x[:, :3] @ m.transpose(x[:, :3]) + 3.0 * m.eye(3), stream=m.cpu),
    "expand, broadcast, squeeze": lambda m, x: m.squeeze(m.broadcast_to(m.expand_dims(x, 0), (2,) + x.shape)[1:], 0),
    "var and mean": lambda m, x: m.var(x, axis=1) + m.mean(x),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vmap_matches_a_loop_and_mlx(name, mlx):
    fn = FUNCTIONS[name]
    x = normal(6, 3, 5)
    got = mx.vmap(lambda a: fn(mx, a))(mx.array(x))
    loop = mx.stack([fn(mx, mx.array(x[i])) for i in range(6)])
    assert got.shape == loop.shape and got.dtype == loop.dtype
    np.testing.assert_allclose(np.array(got), np.array(loop), rtol=1e-5, atol=1e-5)
    want = mlx.vmap(lambda a: fn(mlx, a))(mlx.array(x))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5, atol=1e-5)


def test_in_axes_and_out_axes_trees_like_mlx(mlx):
    x, y, z = normal(3, 4), normal(3), normal(5, 3, 4)
    def f(m):
        def body(a, d, b):
            return {"s": a * d["w"] + b, "t": (a.sum(), d["w"])}
        return body
    args = lambda m: (m.array(x), {"w": m.array(z)}, m.array(y))
    got = mx.vmap(f(mx), in_axes=(1, {"w": 2}, None), out_axes={"s": 1, "t": (0, -1)})(*args(mx))
    want = mlx.vmap(f(mlx), in_axes=(1, {"w": 2}, None), out_axes={"s": 1, "t": (0, -1)})(*args(mlx))
    for k in ("s",):
        np.testing.assert_allclose(np.array(got[k]), np.array(want[k]), rtol=1e-6)
    for g, w in zip(got["t"], want["t"]):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-5)
    # A loop gives the same: example i takes x[:, i], z[:, :, i] and the whole of y.
    for i in range(4):
        np.testing.assert_allclose(np.array(got["s"])[:, i], x[:, i] * z[:, :, i] + y, rtol=1e-6)


def test_outputs_that_do_not_depend_on_the_batch_are_broadcast(mlx):
    x = normal(3, 2)
    got = mx.vmap(lambda a: (mx.array(1.5), a * 2))(mx.array(x))
    want = mlx.vmap(lambda a: (mlx.array(1.5), a * 2))(mlx.array(x))
    assert tuple(got[0].shape) == tuple(want[0].shape) == (3,)
    np.testing.assert_allclose(np.array(got[0]), np.array(want[0]))
    # Beyond MLX: out_axes None returns such an output as it is.
    c, _ = mx.vmap(lambda a: (mx.array(1.5), a * 2), out_axes=(None, 0))(mx.array(x))
    assert c.shape == () and c.item() == 1.5


def test_nested_vmap_and_grad_compose(mlx):
    x = normal(3, 4, 5)

    def f(m):
        return lambda r: (m.sin(r) * r).sum()

    got = mx.vmap(mx.vmap(f(mx)))(mx.array(x))
    want = (np.sin(x.astype(np.float64)) * x).sum(axis=-1)
    np.testing.assert_allclose(np.array(got), want, rtol=1e-5)
    np.testing.assert_allclose(np.array(got), np.array(mlx.vmap(mlx.vmap(f(mlx)))(mlx.array(x))), rtol=1e-5)
    # per-example gradients (vmap of grad) and the gradient of a vmapped sum (grad of vmap).
    xd = x.astype(np.float64)
    d = np.cos(xd) * xd + np.sin(xd)
    per = mx.vmap(mx.vmap(mx.grad(f(mx))))(mx.array(x))
    np.testing.assert_allclose(np.array(per), d, rtol=1e-5, atol=1e-6)
    g = mx.grad(lambda a: mx.vmap(f(mx), in_axes=1)(a).sum())(mx.array(x))
    np.testing.assert_allclose(np.array(g), d, rtol=1e-5, atol=1e-6)
    # a per-example loss of a tiny linear model, its gradients against MLX's.
    w, b, xs, ys = normal(5, 2), normal(2), normal(7, 5), normal(7, 2)

    def per_example(m):
        def loss(params, xi, yi):
            return ((xi @ params["w"] + params["b"] - yi) ** 2).sum()
        return m.vmap(m.grad(loss), in_axes=(None, 0, 0))

    got = per_example(mx)({"w": mx.array(w), "b": mx.array(b)}, mx.array(xs), mx.array(ys))
    want = per_example(mlx)({"w": mlx.array(w), "b": mlx.array(b)}, mlx.array(xs), mlx.array(ys))
    for k in ("w", "b"):
        assert tuple(got[k].shape) == tuple(want[k].shape)
        np.testing.assert_allclose(np.array(got[k]), np.array(want[k]), rtol=1e-5, atol=1e-5)


def test_vmap_inside_compile_and_compile_inside_vmap():
    x = normal(4, 6)
    f = lambda a: mx.tanh(a) * a.sum()
    plain = mx.vmap(f)(mx.array(x))
    np.testing.assert_allclose(np.array(mx.compile(mx.vmap(f))(mx.array(x))), np.array(plain), rtol=1e-6)
    np.testing.assert_allclose(np.array(mx.vmap(mx.compile(f))(mx.array(x))), np.array(plain), rtol=1e-6)
    want = np.tanh(x.astype(np.float64)) * x.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.array(plain), want, rtol=1e-5)


def test_vmap_errors_like_mlx(mlx):
    x = mx.array(normal(2, 3))
    with pytest.raises(ValueError, match="Inconsistent axis sizes|inconsistent axis sizes"):
        mx.vmap(lambda a, b: a + b)(x, mx.ones((3, 3)))
    with pytest.raises(IndexError, match="Invalid vectorization axis 2"):
        mx.vmap(lambda a: a, in_axes=2)(x)
    with pytest.raises(IndexError, match="Invalid vectorization axis 0"):
        mx.vmap(lambda a: a)(mx.array(1.0))
    with pytest.raises(ValueError, match="eval|evaluate"):
        mx.vmap(lambda a: a * a.sum().item())(x)
    with pytest.raises(ValueError, match="in_axes"):
        mx.vmap(lambda a, b: a + b, in_axes=(0,))(x, mx.ones(3))
    with pytest.raises(ValueError, match="cannot be mapped"):
        mx.vmap(lambda a, s: a * s)(x, 3.0)
    with pytest.raises(ValueError, match="At least one"):
        mx.vmap(lambda a: a, in_axes=(None,))(x)
    with pytest.raises(TypeError):
        mx.vmap(3)
    # the function's own exception comes back as it was raised
    with pytest.raises(KeyError, match="boom"):
        mx.vmap(lambda a: {}["boom"])(x)
    # MLX raises the same kinds
    with pytest.raises(ValueError):
        mlx.vmap(lambda a, b: a + b)(mlx.array(normal(2, 3)), mlx.ones((3, 3)))
    with pytest.raises(IndexError):
        mlx.vmap(lambda a: a, in_axes=2)(mlx.array(normal(2, 3)))


def test_vmap_passes_keyword_arguments_and_unmapped_scalars():
    x = normal(3, 2)
    got = mx.vmap(lambda a, s, scale=1.0: a * s * scale, in_axes=(0, None))(mx.array(x), 3.0, scale=mx.array(2.0))
    np.testing.assert_allclose(np.array(got), x * 6.0, rtol=1e-6)


def test_vmap_builds_one_batched_node_per_op_whatever_the_batch():
    # The vmapped program of tanh(x @ w) has as many nodes for 64 examples as for 2: one batched
    # product, not one per example (the per-example fallback would grow with the batch).
    from rill import _core

    w = mx.array(normal(8, 8))
    f = mx.vmap(lambda a: mx.tanh(a @ w))
    sizes = []
    for n in (2, 64):
        x = normal(n, 8)
        program, outs = _core._compile_trace(lambda xs: [f(xs[0])], [mx.array(x)])
        sizes.append(program.nodes)
        np.testing.assert_allclose(np.array(outs[0]), np.tanh(x.astype(np.float64) @ np.array(w, dtype=np.float64)),
                                   rtol=1e-5, atol=1e-6)
    assert sizes[0] == sizes[1] and sizes[0] < 12, sizes


# --- custom_function -----------------------------------------------------------------------


def make_custom(m, calls):
    @m.custom_function
    def f(x, y):
        return m.sin(x) * y

    @f.vjp
    def f_vjp(primals, cotangent, output):
        calls.append(("vjp", type(primals).__name__, type(cotangent).__name__))
        x, y = primals
        return cotangent * m.cos(x) * y * 10, cotangent * m.sin(x)

    return f


def test_custom_vjp_is_used_by_grad_like_mlx(mlx):
    x, y = normal(5), normal(5)
    ours, theirs = [], []
    f, g = make_custom(mx, ours), make_custom(mlx, theirs)
    got = mx.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(mx.array(x), mx.array(y))
    want = mlx.grad(lambda a, b: g(a, b).sum(), argnums=(0, 1))(mlx.array(x), mlx.array(y))
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    np.testing.assert_allclose(np.array(got[0]), np.cos(xd) * yd * 10, rtol=1e-5, atol=1e-6)
    assert ours == theirs == [("vjp", "tuple", "array")]
    # the forward value is the function's
    np.testing.assert_allclose(np.array(f(mx.array(x), mx.array(y))), np.sin(xd) * yd, rtol=1e-6)


def test_custom_rules_conventions_single_input_and_tuples(mlx):
    x = normal(4)

    def build(m, seen):
        @m.custom_function
        def g(a):
            return a * 2, a * 3

        @g.vjp
        def g_vjp(primals, cotangents, outputs):
            seen.append((type(primals).__name__, type(cotangents).__name__, len(cotangents)))
            return cotangents[0] + cotangents[1] * 100

        @m.custom_function
        def h(a):
            return m.exp(a)

        @h.jvp
        def h_jvp(primals, tangents):
            seen.append((type(primals).__name__, type(tangents).__name__))
            return tangents * 7

        return g, h

    s1, s2 = [], []
    g1, h1 = build(mx, s1)
    g2, h2 = build(mlx, s2)
    got = mx.grad(lambda a: sum(o.sum() for o in g1(a)))(mx.array(x))
    want = mlx.grad(lambda a: sum(o.sum() for o in g2(a)))(mlx.array(x))
    np.testing.assert_allclose(np.array(got), np.array(want))
    np.testing.assert_allclose(np.array(got), np.full(4, 101.0))
    t = normal(4)
    _, jv = mx.jvp(h1, [mx.array(x)], [mx.array(t)])
    _, jv2 = mlx.jvp(h2, [mlx.array(x)], [mlx.array(t)])
    np.testing.assert_allclose(np.array(jv[0]), np.array(jv2[0]), rtol=1e-6)
    np.testing.assert_allclose(np.array(jv[0]), t * 7, rtol=1e-6)
    assert s1 == s2


def test_custom_vmap_rule_like_mlx(mlx):
    x, y = normal(3, 2), normal(2)

    def build(m):
        @m.custom_function
        def h(a, b):
            return m.exp(a) * b

        @h.vmap
        def h_vmap(inputs, axes):
            assert axes == (0, None)
            return m.exp(inputs[0]) * inputs[1] + 1000, 0

        return h

    got = mx.vmap(build(mx), in_axes=(0, None))(mx.array(x), mx.array(y))
    want = mlx.vmap(build(mlx), in_axes=(0, None))(mlx.array(x), mlx.array(y))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5)
    np.testing.assert_allclose(np.array(got), np.exp(x) * y + 1000, rtol=1e-5)


def test_custom_vjp_survives_vmap_and_compile():
    x = normal(3, 2)

    @mx.custom_function
    def k(a):
        return a * a

    @k.vjp
    def k_vjp(primals, cot, out):
        return cot * 5

    # MLX 0.32.4 gives 2 * x here (it drops the custom vjp under vmap); rill keeps the rule.
    g = mx.grad(lambda a: mx.vmap(k)(a).sum())(mx.array(x))
    np.testing.assert_allclose(np.array(g), np.full((3, 2), 5.0))
    per = mx.vmap(mx.grad(lambda a: k(a).sum()))(mx.array(x))
    np.testing.assert_allclose(np.array(per), np.full((3, 2), 5.0))
    gc = mx.compile(mx.grad(lambda a: mx.sin(k(a)).sum()))
    for _ in range(2):
        xv = normal(3, 2)
        np.testing.assert_allclose(np.array(gc(mx.array(xv))), np.cos(xv.astype(np.float64) ** 2) * 5, rtol=1e-5)


def test_custom_rule_errors():
    @mx.custom_function
    def k(a):
        return a * a

    @k.vjp
    def k_vjp(primals, cot, out):
        return cot, cot

    with pytest.raises(ValueError, match="vjp rule returned 2 arrays"):
        mx.grad(lambda a: k(a).sum())(mx.array(normal(3)))

    @mx.custom_function
    def r(a):
        return a * 2

    @r.vjp
    def r_vjp(primals, cot, out):
        raise RuntimeError("from the rule")

    with pytest.raises(RuntimeError, match="from the rule"):
        mx.grad(lambda a: r(a).sum())(mx.array(normal(3)))
    with pytest.raises(ValueError, match="must be arrays"):
        r(3.0)


# --- checkpoint ------------------------------------------------------------------------------


def test_checkpoint_gives_the_plain_values_and_gradients(mlx):
    x, y = normal(6), normal(6)

    def body(m):
        return lambda a, b: (m.tanh(a * b) * a, a + b)

    got = mx.checkpoint(body(mx))(mx.array(x), mx.array(y))
    want = mlx.checkpoint(body(mlx))(mlx.array(x), mlx.array(y))
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-6)
    loss = lambda m, f: (lambda a, b: f(a, b)[0].sum() + (f(a, b)[1] ** 2).sum())
    g = mx.grad(loss(mx, mx.checkpoint(body(mx))), argnums=(0, 1))(mx.array(x), mx.array(y))
    w = mlx.grad(loss(mlx, mlx.checkpoint(body(mlx))), argnums=(0, 1))(mlx.array(x), mlx.array(y))
    for a, b in zip(g, w):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    t = np.tanh(xd * yd)
    np.testing.assert_allclose(np.array(g[0]), t + xd * yd * (1 - t * t) + 2 * (xd + yd), rtol=1e-5, atol=1e-5)


def test_checkpoint_recomputes_in_the_backward_pass():
    calls = []

    def body(a):
        calls.append(1)
        return mx.sin(a) * a

    f = mx.checkpoint(body)
    x = mx.array(normal(5))
    g = mx.grad(lambda a: f(a).sum())(x)
    assert len(calls) == 2  # once forward, once again for the gradient
    xd = np.array(x, dtype=np.float64)
    np.testing.assert_allclose(np.array(g), np.cos(xd) * xd + np.sin(xd), rtol=1e-5, atol=1e-6)
