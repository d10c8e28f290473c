"""`mx.compile`: a compiled function gives the plain function's values on random inputs (float64
references and real MLX's compile), runs the Python function once per signature and never on a
replay, traces again for new shapes, dtypes and constants, updates captured state
(inputs=/outputs=, a training step), composes with grad both ways, refuses to evaluate inside,
honours disable_compile, and works from many threads at once."""

import threading

import numpy as np
import pytest

import rill.core as mx

RNG = np.random.default_rng(20261206)


def normal(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def gelu_like(x, y):
    z = x * y + mx.sin(x)
    return mx.tanh(z) * 0.5 + mx.exp(-z * z) + (x * y + mx.sin(x)).sum(axis=-1, keepdims=True)


def test_values_match_the_plain_function_and_mlx(mlx):
    f = mx.compile(gelu_like)
    for shape in ((4, 5), (4, 5), (2, 3, 7)):
        x, y = normal(*shape), normal(*shape)
        got = f(mx.array(x), mx.array(y))
        np.testing.assert_allclose(np.array(got), np.array(gelu_like(mx.array(x), mx.array(y))),
                                   rtol=1e-6, atol=1e-6)
        want = mlx.compile(lambda a, b: mlx.tanh(a * b + mlx.sin(a)) * 0.5
                           + mlx.exp(-(a * b + mlx.sin(a)) ** 2)
                           + (a * b + mlx.sin(a)).sum(axis=-1, keepdims=True))(
            mlx.array(x), mlx.array(y))
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=2e-5, atol=2e-5)
        xd, yd = x.astype(np.float64), y.astype(np.float64)
        zd = xd * yd + np.sin(xd)
        np.testing.assert_allclose(np.array(got), np.tanh(zd) * 0.5 + np.exp(-zd * zd)
                                   + zd.sum(-1, keepdims=True), rtol=2e-5, atol=2e-5)


def test_python_runs_once_per_signature():
    calls = []

    @mx.compile
    def f(x, scale, flag=True):
        calls.append(1)
        return {"y": x * scale, "z": [x + 1, (x - 1) if flag else x]}

    a = normal(3, 4)
    for _ in range(3):
        out = f(mx.array(a), 2.0)
    assert len(calls) == 1
    np.testing.assert_allclose(np.array(out["y"]), a * 2, rtol=1e-6)
    np.testing.assert_allclose(np.array(out["z"][1]), a - 1, rtol=1e-6)
    b = normal(3, 4)  # new values, same signature: replayed with the new values
    np.testing.assert_allclose(np.array(f(mx.array(b), 2.0)["y"]), b * 2, rtol=1e-6)
    assert len(calls) == 1
    f(mx.array(b), 3.0)  # a new constant: traced again
    assert len(calls) == 2
    np.testing.assert_allclose(np.array(f(mx.array(b), 3.0)["y"]), b * 3, rtol=1e-6)
    f(mx.array(normal(2, 2)), 3.0)  # a new shape
    f(mx.array(b.astype(np.float16)), 3.0)  # a new dtype
    f(mx.array(b), 3.0, flag=False)  # a new keyword
    assert len(calls) == 5
    np.testing.assert_allclose(np.array(f(mx.array(b), 3.0, flag=False)["z"][1]), b, rtol=1e-6)
    assert len(calls) == 5


def test_captured_arrays_are_constants_unless_declared_as_state():
    w = {"w": mx.array(normal(4))}

    def apply(x):
        return x * w["w"]

    frozen = mx.compile(apply)
    tracked = mx.compile(apply, inputs=w)
    x = mx.array(normal(4))
    np.testing.assert_allclose(np.array(frozen(x)), np.array(x) * np.array(w["w"]), rtol=1e-6)
    tracked(x)
    w["w"] = mx.array(normal(4))
    # MLX's rule: a closure's arrays are frozen at trace time; declared state is read each call.
    np.testing.assert_allclose(np.array(tracked(x)), np.array(x) * np.array(w["w"]), rtol=1e-6)


def test_a_compiled_training_step_updates_its_state():
    params = {"w": mx.array(normal(3, 2)), "b": mx.array(normal(2))}
    x, t = normal(8, 3), normal(8, 2)

    def loss(p, x, t):
        return mx.mean((x @ p["w"] + p["b"] - t) ** 2)

    grad_fn = mx.grad(loss)

    def step(x, t):
        g = grad_fn(params, x, t)
        params["w"] = params["w"] - 0.1 * g["w"]
        params["b"] = params["b"] - 0.1 * g["b"]
        return loss(params, x, t)

    compiled = mx.compile(step, inputs=params, outputs=params)
    w, b = np.array(params["w"]).astype(np.float64), np.array(params["b"]).astype(np.float64)
    for _ in range(4):
        got = float(compiled(mx.array(x), mx.array(t)).item())
        r = x @ w + b - t
        w, b = w - 0.1 * (2 / r.size) * x.T @ r, b - 0.1 * (2 / r.size) * r.sum(0)
        want = np.mean((x @ w + b - t) ** 2)
        np.testing.assert_allclose(got, want, rtol=1e-4)
        np.testing.assert_allclose(np.array(params["w"]), w, rtol=1e-4, atol=1e-5)


def test_grad_of_compiled_and_compiled_grad_agree_with_plain():
    def f(x):
        return mx.sum(mx.sin(x) * x)

    x = mx.array(normal(6))
    want = np.cos(np.array(x)) * np.array(x) + np.sin(np.array(x))
    np.testing.assert_allclose(np.array(mx.grad(mx.compile(f))(x)), want, rtol=1e-5)
    cg = mx.compile(mx.grad(f))
    np.testing.assert_allclose(np.array(cg(x)), want, rtol=1e-5)
    y = mx.array(normal(6))
    np.testing.assert_allclose(np.array(cg(y)), np.cos(np.array(y)) * np.array(y)
                               + np.sin(np.array(y)), rtol=1e-5)


def test_evaluating_inside_is_refused_and_disable_compile_runs_plain():
    @mx.compile
    def bad(x):
        y = x * 2
        if y.sum().item() > 0:
            return y
        return -y

    with pytest.raises(ValueError, match="compile"):
        bad(mx.array(normal(3)))
    calls = []

    @mx.compile
    def g(x):
        calls.append(1)
        return x + 1

    mx.disable_compile()
    try:
        g(mx.array([1.0]))
        g(mx.array([1.0]))
    finally:
        mx.enable_compile()
    assert len(calls) == 2
    g(mx.array([1.0]))
    g(mx.array([2.0]))
    assert len(calls) == 3
    with pytest.raises(ValueError, match="compile"):
        mx.compile(lambda x: object())(mx.array([1.0]))


def test_many_threads_call_one_compiled_function():
    f = mx.compile(lambda x, y: mx.exp(x) * y - x)
    errors = []

    def run(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(20):
                a = rng.standard_normal((5, 5)).astype(np.float32)
                b = rng.standard_normal((5, 5)).astype(np.float32)
                got = np.array(f(mx.array(a), mx.array(b)))
                np.testing.assert_allclose(got, np.exp(a) * b - a, rtol=1e-5, atol=1e-6)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_common_subexpressions_are_merged_and_streams_honoured(gpu_stream):
    def f(x):
        return mx.exp(x * 3) + mx.exp(x * 3) + mx.exp(x * 3)

    c = mx.compile(f)
    x = mx.array(normal(10))
    np.testing.assert_allclose(np.array(c(x)), 3 * np.exp(3 * np.array(x)), rtol=1e-5)

    def on_stream(x):
        return mx.multiply(x, 2, stream=gpu_stream)

    y = mx.compile(on_stream)(x)
    np.testing.assert_allclose(np.array(y), 2 * np.array(x), rtol=1e-6)

