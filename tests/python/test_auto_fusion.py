"""`mx.set_auto_fusion`: lazy elementwise chains whose intermediate values nobody holds run as
fused nodes when evaluated (on every stream by default; "cpu" or "gpu" keep it to one kind), with the values
of the ops run one by one, bit for bit, and close to a float64 NumPy reference. The details (held
values, input limits, errors, memory, threads) are tested in Rust: crates/rill-core/tests/auto_fusion.rs."""

import json
import time

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU


def ops_that_ran(tmp_path, build):
    """The roots `build()` returns, evaluated under a capture, and the names of the ops that ran."""
    path = str(tmp_path / "trace.json")
    roots = build()
    mx.start_capture(path)
    try:
        mx.eval(*roots)
    finally:
        mx.stop_capture()
    with open(path) as f:
        events = json.load(f)
    events = events.get("traceEvents", events) if isinstance(events, dict) else events
    names = [e["name"] for e in events if e.get("ph") == "X" and e.get("cat") == "op"]
    return roots, names


def kinds(names):
    """The names of ops that ran, a fused node (`fused(add,tanh)`: the ops it replaced) as `fused`."""
    return ["fused" if n.startswith("fused(") and n.endswith(")") else n for n in names]


def chain(x, w, steps):
    y = x
    for i in range(steps):
        if i % 3 == 0:
            y = y * 1.01 + w
        elif i % 3 == 1:
            y = mx.tanh(y)
        else:
            y = mx.sin(y) - 0.25
    return y


def chain_np(x, w, steps):
    y = x.astype(np.float64)
    for i in range(steps):
        if i % 3 == 0:
            y = y * np.float64(np.float32(1.01)) + w
        elif i % 3 == 1:
            y = np.tanh(y)
        else:
            y = np.sin(y) - 0.25
    return y


@pytest.fixture
def restore_mode():
    old = mx.set_auto_fusion("gpu")
    mx.set_auto_fusion(old)
    yield
    mx.set_auto_fusion(old)


devices = [pytest.param(mx.cpu, id="cpu"),
           pytest.param(mx.gpu, id="gpu", marks=pytest.mark.skipif(not HAS_GPU, reason="no GPU"))]


@pytest.mark.parametrize("device", devices)
def test_a_lazy_chain_fuses_and_keeps_the_ops_values(tmp_path, restore_mode, device):
    rng = np.random.default_rng(0)
    xn = rng.uniform(-2, 2, (129, 65)).astype(np.float32)
    wn = rng.uniform(-0.1, 0.1, 65).astype(np.float32)
    s = mx.new_stream(device)
    with mx.stream(s):
        x, w = mx.array(xn), mx.array(wn)
        mx.eval(x, w)
        # 40 steps are 67 ops: fused, groups of at most 32 from the end back.
        mx.set_auto_fusion("off")
        (plain,), names = ops_that_ran(tmp_path, lambda: [chain(x, w, 40)])
        assert "fused" not in kinds(names) and len(names) == 67, names
        mx.set_auto_fusion("all")
        deadline = time.monotonic() + 60
        while True:  # a GPU compiles a new program's kernel in the background meanwhile
            (fused,), names = ops_that_ran(tmp_path, lambda: [chain(x, w, 40)])
            if set(kinds(names)) == {"fused"} or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert kinds(names) == ["fused"] * 3, names
    assert np.array_equal(np.array(fused).view(np.uint32), np.array(plain).view(np.uint32))
    np.testing.assert_allclose(np.array(fused), chain_np(xn, wn, 40), rtol=0, atol=2e-5)


def test_a_held_value_is_computed_and_kept(tmp_path, restore_mode):
    mx.set_auto_fusion("all")
    s = mx.new_stream(mx.cpu)
    xn = np.linspace(-1, 1, 100, dtype=np.float32)
    x = mx.array(xn)
    held = {}

    def build():
        with mx.stream(s):
            held["mid"] = mx.exp(x * 0.5) + 1.0
            return [mx.sqrt(held["mid"] * 3.0)]

    (end,), names = ops_that_ran(tmp_path, build)
    # `mid` is the user's: its ops are one node, the ops after it another; it is not fused away.
    assert names == ["fused(multiply,exp,add)", "fused(multiply,sqrt)"], names
    x64 = xn.astype(np.float64)
    np.testing.assert_allclose(np.array(held["mid"]), np.exp(x64 * 0.5) + 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.array(end), np.sqrt((np.exp(x64 * 0.5) + 1.0) * 3.0), rtol=1e-6)


def test_modes_are_checked(restore_mode):
    assert mx.set_auto_fusion("off") in ("off", "cpu", "gpu", "all")
    assert mx.set_auto_fusion("cpu") == "off"
    assert mx.set_auto_fusion("gpu") == "cpu"
    with pytest.raises(ValueError, match="set_auto_fusion"):
        mx.set_auto_fusion("sometimes")
