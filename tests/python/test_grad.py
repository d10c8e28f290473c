"""Reverse-mode differentiation (issue 11): `grad`, `value_and_grad`, `vjp`, `jvp` and
`stop_gradient`.

Every differentiable op is checked twice on random inputs (never zeros): against central finite
differences of rill's own float64 forward pass, and against real MLX's `mx.grad` of the same
function on the same float32 inputs. Each check differentiates `sum(f(x...) * w)` for a random
`w`, so the whole vector-Jacobian product is compared. Then pytrees and argnums, value_and_grad
with aux, vjp/jvp against MLX, stop_gradient, the errors, and the issue's done-when item: an MLP
in the style of MLX's examples trains to the same loss as on MLX.
"""

import threading

import numpy as np
import pytest

import rill.core as mx
from finite_differences import finite_differences

# name: (f(m, *xs) with m = rill.core or mlx.core, input shapes, domain of the inputs)
U = lambda name: (lambda m, x: getattr(m, name)(x))  # noqa: E731
B = lambda name: (lambda m, a, b: getattr(m, name)(a, b))  # noqa: E731
IDX = np.array([[3, 0, 1], [1, 1, 2]])
ALONG = np.array([[0, 3, 3], [1, 2, 0], [4, 4, 1]])
CASES = {
    **{n: (U(n), [(3, 4)], "real") for n in [
        "exp", "expm1", "sin", "cos", "arctan", "sinh", "cosh", "tanh", "sigmoid", "arcsinh",
        "erf", "square", "negative"]},
    **{n: (U(n), [(3, 4)], "positive") for n in [
        "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal"]},
    **{n: (U(n), [(3, 4)], "unit") for n in ["arcsin", "arccos", "arctanh", "erfinv", "tan"]},
    "abs": (U("abs"), [(3, 4)], "signed"),
    "arccosh": (lambda m, x: m.arccosh(x + 1.5), [(3, 4)], "positive"),
    **{n: (B(n), [(3, 1, 4), (2, 4)], "real") for n in [
        "add", "subtract", "multiply", "maximum", "minimum", "arctan2", "logaddexp"]},
    "divide": (B("divide"), [(3, 1, 4), (2, 4)], "positive"),
    "power": (B("power"), [(2, 3), (3,)], "positive"),
    "remainder": (lambda m, a, b: m.remainder(a + 3.0, b * 0.1 + 4.0), [(2, 3), (3,)], "unit"),
    "scalar operand": (lambda m, a: 2.5 * a - a / 3.0 + a ** 2, [(3, 2)], "real"),
    "where": (lambda m, a, b: m.where(a > 0.1, a, b), [(3, 4), (4,)], "real"),
    "sum": (lambda m, x: m.sum(x, axis=(0, 2)), [(2, 3, 4)], "real"),
    "sum keepdims": (lambda m, x: x.sum(axis=1, keepdims=True), [(2, 3, 4)], "real"),
    "prod": (lambda m, x: m.prod(x, axis=(0, 2)), [(2, 3, 4)], "signed"),
    "max": (lambda m, x: m.max(x, axis=1), [(2, 3, 4)], "real"),
    "min": (lambda m, x: m.min(x, axis=(0, 2), keepdims=True), [(2, 3, 4)], "real"),
    "mean": (lambda m, x: m.mean(x, axis=-1), [(2, 3, 4)], "real"),
    "var": (lambda m, x: m.var(x, axis=(0, 1), ddof=1), [(2, 3, 4)], "real"),
    "std": (lambda m, x: m.std(x), [(2, 3, 4)], "real"),
    "logsumexp": (lambda m, x: m.logsumexp(x, axis=(0, 2)), [(2, 3, 4)], "real"),
    "softmax": (lambda m, x: m.softmax(x, axis=-1), [(2, 3, 4)], "real"),
    "softmax axes": (lambda m, x: m.softmax(x, axis=(0, 1)), [(2, 3, 4)], "real"),
    "cumsum": (lambda m, x: m.cumsum(x, axis=1), [(3, 4)], "real"),
    "cumsum reverse exclusive": (
        lambda m, x: m.cumsum(x, axis=0, reverse=True, inclusive=False), [(3, 4)], "real"),
    "reshape": (lambda m, x: x.reshape(6, 2), [(3, 4)], "real"),
    "transpose": (lambda m, x: m.transpose(x, (2, 0, 1)), [(2, 3, 4)], "real"),
    "swapaxes": (lambda m, x: m.swapaxes(x, 0, 2), [(2, 3, 4)], "real"),
    "slicing": (lambda m, x: x[1:, ::2] * x[:0:-1, 1:3], [(3, 4)], "real"),
    "integer array index": (lambda m, x: x[m.array(IDX)], [(4, 3)], "real"),
    "take": (lambda m, x: m.take(x, m.array(IDX), axis=1), [(3, 4)], "real"),
    "take_along_axis": (
        lambda m, x: m.take_along_axis(x, m.array(ALONG), axis=1), [(3, 5)], "real"),
    "concatenate": (lambda m, a, b: m.concatenate([a, b, a], axis=1), [(2, 3), (2, 1)], "real"),
    "stack": (lambda m, a, b: m.stack([a, b]), [(2, 3), (2, 3)], "real"),
    "split": (lambda m, x: m.split(x, [1, 3], axis=1)[1], [(2, 5)], "real"),
    "pad": (lambda m, x: m.pad(x, [(1, 2), (0, 1)]), [(2, 3)], "real"),
    "broadcast_to": (lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(3, 1)], "real"),
    "expand_dims squeeze": (lambda m, x: m.squeeze(m.expand_dims(x, 0) * 2, 0), [(3,)], "real"),
    "repeat": (lambda m, x: m.repeat(x, 2, axis=0), [(2, 3)], "real"),
    "tile": (lambda m, x: m.tile(x, (2, 1)), [(2, 3)], "real"),
    "sort": (lambda m, x: m.sort(x, axis=-1), [(3, 4)], "real"),
    "matmul": (lambda m, a, b: a @ b, [(2, 3, 4), (4, 2)], "real"),
    "matmul vector": (lambda m, a, b: m.matmul(a, b), [(3, 4), (4,)], "real"),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, alpha=0.5, beta=2.0),
              [(3,), (2, 4), (4, 3)], "real"),
    "outer": (lambda m, a, b: m.outer(a, b), [(3,), (4,)], "real"),
    "astype": (lambda m, x: (x * 3).astype(m.float16).astype(x.dtype) + x, [(4,)], "real"),
}


def sample(rng, shape, domain):
    """Random float64 values, none zero, inside the domain of the op under test."""
    n = int(np.prod(shape))
    if domain == "positive":
        v = rng.uniform(0.4, 2.0, n)
    elif domain == "unit":
        v = rng.uniform(-0.7, 0.7, n)
    elif domain == "signed":
        v = rng.uniform(0.3, 1.5, n) * rng.choice([-1, 1], n)
    else:
        v = rng.uniform(0.1, 1.5, n) * rng.choice([-1, 1], n)
    return v.reshape(shape)


def weighted(f, w):
    return lambda *xs: (f(mx, *xs) * w).sum()


def rill_grads(f, xs, w, dtype):
    xs = [mx.array(x, dtype=dtype) for x in xs]
    w = mx.array(w, dtype=dtype)
    g = mx.grad(weighted(f, w), argnums=tuple(range(len(xs))))(*xs)
    return [g] if len(xs) == 1 else list(g)


def case_inputs(name):
    f, shapes, domain = CASES[name]
    rng = np.random.default_rng([11, sum(map(ord, name))])
    xs = [sample(rng, s, domain) for s in shapes]
    out = f(mx, *[mx.array(x, dtype=mx.float64) for x in xs])
    w = rng.uniform(0.5, 1.5, tuple(out.shape))
    return f, xs, w


# Finite differences cannot see through a float16 rounding (a step of 1e-6 vanishes in it); the
# comparison with MLX covers astype.
NO_FINITE_DIFFERENCES = {"astype"}


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_FINITE_DIFFERENCES))
def test_gradient_matches_finite_differences(name):
    f, xs, w = case_inputs(name)
    got = rill_grads(f, xs, w, mx.float64)
    want = finite_differences(lambda *a: f(mx, *a), xs, w)
    for i, (g, n) in enumerate(zip(got, want)):
        assert g.dtype == mx.float64 and g.shape == xs[i].shape, (g.dtype, g.shape)
        np.testing.assert_allclose(np.array(g), n, rtol=1e-5, atol=1e-6, err_msg=f"input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_mlx(name, mlx):
    f, xs, w = case_inputs(name)
    got = rill_grads(f, xs, w, mx.float32)
    mxs = [mlx.array(x.astype(np.float32)) for x in xs]
    mw = mlx.array(w.astype(np.float32))
    want = mlx.grad(lambda *a: (f(mlx, *a) * mw).sum(), argnums=tuple(range(len(xs))))(*mxs)
    want = [want] if len(xs) == 1 else list(want)
    for i, (g, m) in enumerate(zip(got, want)):
        assert g.dtype == mx.float32 and g.shape == tuple(m.shape)
        np.testing.assert_allclose(np.array(g), np.array(m), rtol=2e-4, atol=2e-5,
                                   err_msg=f"input {i}")


def test_pytrees_and_argnums_like_mlx(mlx, rng):
    vals = {k: rng.standard_normal(3).astype(np.float32) for k in "abcd"}

    def f(m, params, x, y=None):
        s = (params["w"][0] * x).sum() + (params["w"][1]["v"] ** 2).sum()
        return s + (params["t"][0] * m.sin(y)).sum() if y is not None else s

    def run(m):
        a = {k: m.array(v) for k, v in vals.items()}
        params = {"w": [a["a"], {"v": a["b"]}], "t": (a["c"],)}
        fun = lambda *args, **kw: f(m, *args, **kw)  # noqa: E731
        return [
            m.grad(fun)(params, a["d"]),
            m.grad(fun, argnums=(0, 1))(params, a["d"]),
            m.grad(fun, argnums=1)(params, a["d"]),
            m.grad(fun, argnames="y")(params, a["d"], y=a["a"]),
            m.grad(fun, argnums=[1], argnames=["y"])(params, a["d"], y=a["a"]),
            m.value_and_grad(fun, argnums=(1, 0))(params, a["d"]),
        ]

    def same(got, want):
        if isinstance(want, dict):
            assert isinstance(got, dict) and got.keys() == want.keys()
            for k in want:
                same(got[k], want[k])
        elif isinstance(want, (list, tuple)):
            assert type(got) is type(want) and len(got) == len(want), (got, want)
            for g, w in zip(got, want):
                same(g, w)
        elif want is None:
            assert got is None
        else:
            np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=1e-6)

    same(run(mx), run(mlx))


def test_same_array_twice_gets_two_gradients():
    x = mx.array([0.5, -1.25, 2.0])
    g0, g1 = mx.grad(lambda a, b: (a * a * b).sum(), argnums=(0, 1))(x, x)
    np.testing.assert_allclose(np.array(g0), 2 * np.array(x) ** 2, rtol=1e-6)
    np.testing.assert_allclose(np.array(g1), np.array(x) ** 2, rtol=1e-6)


def test_value_and_grad_with_aux_like_mlx(mlx):
    x = np.array([0.3, -1.1, 2.2], dtype=np.float32)

    def run(m):
        f = lambda a: ((m.exp(a) * a).sum(), {"double": a * 2}, [a.sum()])  # noqa: E731
        (loss, aux, rest), g = m.value_and_grad(f)(m.array(x))
        return [loss, aux["double"], rest[0], g]

    for got, want in zip(run(mx), run(mlx)):
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6)


def test_vjp_and_jvp_like_mlx(mlx, rng):
    x, y = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    c0, c1 = rng.standard_normal((3, 4)).astype(np.float32), np.float32(0.7)
    t0, t1 = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))

    def run(m):
        f = lambda a, b: [m.tanh(a) * b, (a * m.exp(b)).sum()]  # noqa: E731
        outs, vjps = m.vjp(f, [m.array(x), m.array(y)], [m.array(c0), m.array(c1)])
        jouts, jvps = m.jvp(f, [m.array(x), m.array(y)], [m.array(t0), m.array(t1)])
        single = m.vjp(lambda a: a * 3, [m.array(x)], [m.array(c0)])
        return outs + vjps + jouts + jvps + single[0] + single[1]

    got, want = run(mx), run(mlx)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-5, atol=1e-6)


def test_jvp_matches_finite_differences():
    x = np.array([0.4, -0.9, 1.3])
    t = np.array([0.2, 0.5, -0.7])
    f = lambda a: mx.sin(a) * a ** 2  # noqa: E731
    (_,), (j,) = mx.jvp(f, [mx.array(x, dtype=mx.float64)], [mx.array(t, dtype=mx.float64)])
    h = 1e-6
    fd = (np.array(f(mx.array(x + h * t, dtype=mx.float64)))
          - np.array(f(mx.array(x - h * t, dtype=mx.float64)))) / (2 * h)
    np.testing.assert_allclose(np.array(j), fd, rtol=1e-6)


def test_grad_of_grad_like_mlx(mlx):
    x = np.array([0.4, -0.9, 1.3], dtype=np.float32)

    def run(m):
        f = lambda a: (m.sin(a) * a ** 3).sum()  # noqa: E731
        d2 = m.grad(lambda a: m.grad(f)(a).sum())(m.array(x))
        d3 = m.grad(lambda a: m.grad(lambda b: m.grad(f)(b).sum())(a).sum())(m.array(x))
        return d2, d3

    for g, w in zip(run(mx), run(mlx)):
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-5, atol=1e-5)


def test_stop_gradient_like_mlx(mlx):
    x = np.array([0.4, -0.9, 1.3], dtype=np.float32)
    for m in (mx, mlx):
        g = m.grad(lambda a: (m.stop_gradient(a * a) * a).sum())(m.array(x))
        np.testing.assert_allclose(np.array(g), x * x, rtol=1e-6)
    s = mx.stop_gradient(mx.array(x), stream=mx.cpu)
    np.testing.assert_array_equal(np.array(s), x)


def test_gradients_of_a_model_split_across_streams():
    s1, s2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    x = mx.array(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mx.float64)

    def f(w1, w2):
        with mx.stream(s1):
            h = mx.tanh(x @ w1)
        with mx.stream(s2):
            return ((h @ w2) ** 2).sum()

    rng = np.random.default_rng(5)
    w1, w2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 1))
    g1, g2 = mx.grad(f, argnums=(0, 1))(mx.array(w1, dtype=mx.float64),
                                         mx.array(w2, dtype=mx.float64))
    h = np.tanh(np.array(x) @ w1)
    y = h @ w2
    np.testing.assert_allclose(np.array(g2), h.T @ (2 * y), rtol=1e-10)
    np.testing.assert_allclose(np.array(g1), np.array(x).T @ ((2 * y @ w2.T) * (1 - h * h)),
                               rtol=1e-10)


def test_threads_differentiate_at_once():
    errors = []

    def work(k):
        try:
            r = np.random.default_rng(k)
            for _ in range(30):
                x = r.standard_normal(8)
                f = (lambda a: mx.sin(a).sum()) if k else (lambda a: mx.exp(a).sum())
                g = np.array(mx.grad(f)(mx.array(x, dtype=mx.float64)))
                np.testing.assert_allclose(g, np.cos(x) if k else np.exp(x), rtol=1e-12)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_errors_are_value_errors_naming_the_argument_or_the_op():
    x = mx.array([1.0, 2.0])
    with pytest.raises(ValueError, match="argument 0.*int32"):
        mx.grad(lambda a: a.sum())(mx.array([1, 2]))
    with pytest.raises(ValueError, match="keyword argument 'k'.*int32"):
        mx.grad(lambda a, k=None: (a * k).sum(), argnames="k")(x, k=mx.array([1, 2]))
    with pytest.raises(ValueError, match="should be a scalar array; but NoneType"):
        mx.grad(lambda a: None)(x)
    with pytest.raises(ValueError, match="should be a scalar array; but tuple"):
        mx.grad(lambda a: (a.sum(), a))(x)
    with pytest.raises(ValueError, match="scalar"):
        mx.grad(lambda a: a * 2)(x)
    with pytest.raises(ValueError, match="argument index 2"):
        mx.grad(lambda a, b: a.sum(), argnums=2)(x, x)
    with pytest.raises(ValueError, match="negative argument index"):
        mx.grad(lambda a: a.sum(), argnums=-1)(x)
    with pytest.raises(ValueError, match="Duplicate"):
        mx.grad(lambda a: a.sum(), argnums=(0, 0))(x)
    with pytest.raises(ValueError, match="keyword argument 'z'"):
        mx.grad(lambda a, y=None: a.sum(), argnames="z")(x, y=x)
    with pytest.raises(ValueError, match="argument 0 should contain only arrays"):
        mx.grad(lambda a: a[0].sum())([x, 3])
    with pytest.raises(ValueError, match="cannot differentiate through lu_factor"):
        mx.grad(lambda a: mx.linalg.lu_factor(a)[0].sum())(mx.array([[2.0, 1.0], [1.0, 3.0]]))
    with pytest.raises(ValueError, match="cotangents"):
        mx.vjp(lambda a: [a, a], [x], [x])
    with pytest.raises(ValueError, match="shape"):
        mx.vjp(lambda a: a * 2, [x], [mx.array([1.0, 2.0, 3.0])])
    with pytest.raises(ValueError, match="must return an array"):
        mx.vjp(lambda a: 3, [x], [x])
    with pytest.raises(ValueError, match="list of arrays"):
        mx.jvp(lambda a: a, [2.0], [x])

    class Boom(Exception):
        pass

    def boom(a):
        raise Boom("from the function")

    with pytest.raises(Boom, match="from the function"):
        mx.grad(boom)(x)
    # The failed transforms left nothing behind: a plain graph and a new transform still work.
    assert mx.grad(lambda a: (a * a).sum())(x).tolist() == [2.0, 4.0]


# ---------------------------------------------------------------- an MLP, as in MLX's examples

def _mlp_run(m, steps=40, lr=0.5):
    rng = np.random.default_rng(2026)
    n, d, hidden, classes = 96, 2, 32, 3
    centers = rng.standard_normal((classes, d)) * 2
    labels = rng.integers(0, classes, n)
    x_np = (centers[labels] + rng.standard_normal((n, d)) * 0.7).astype(np.float32)

    def glorot(fan_in, fan_out):
        lim = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32)

    init = {
        "layers": [
            {"w": glorot(d, hidden), "b": np.zeros(hidden, np.float32)},
            {"w": glorot(hidden, hidden), "b": np.zeros(hidden, np.float32)},
            {"w": glorot(hidden, classes), "b": np.zeros(classes, np.float32)},
        ]
    }
    params = {"layers": [{k: m.array(v) for k, v in layer.items()} for layer in init["layers"]]}
    x, y = m.array(x_np), m.array(labels.astype(np.int32))

    def linear(p, h):
        return h @ p["w"] + p["b"]

    def loss_fn(params, x, y):
        h = x
        for p in params["layers"][:-1]:
            h = m.maximum(linear(p, h), 0.0)
        logits = linear(params["layers"][-1], h)
        picked = m.take_along_axis(logits, y[:, None], axis=-1).squeeze(-1)
        return m.mean(m.logsumexp(logits, axis=-1) - picked)

    step = m.value_and_grad(loss_fn)
    losses = []
    for _ in range(steps):
        loss, grads = step(params, x, y)
        params = {"layers": [
            {k: p[k] - lr * g[k] for k in p} for p, g in zip(params["layers"], grads["layers"])
        ]}
        m.eval(params)
        losses.append(loss.item())
    return np.array(losses)


def test_mlp_trains_to_the_same_loss_as_mlx(mlx):
    got = _mlp_run(mx)
    want = _mlp_run(mlx)
    assert got[-1] < 0.5 * got[0], got  # it learns
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
