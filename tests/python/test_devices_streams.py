"""Devices, streams, scopes, synchronize and eval: MLX's surface as its own tests check it
(NOTES section 3), plus rill's differences (streams usable from any thread, synchronize() waits
for every stream)."""

import threading

import numpy as np
import pytest

import rill.core as mx
from conftest import HAS_GPU, assert_array


def test_device_types_and_devices():
    assert isinstance(mx.cpu, mx.DeviceType)
    assert isinstance(mx.gpu, mx.DeviceType)
    assert mx.cpu == mx.DeviceType.cpu
    assert mx.cpu != mx.gpu
    d = mx.Device(mx.cpu, 0)
    assert d == mx.cpu and mx.cpu == d
    assert mx.Device(mx.cpu) == d
    assert mx.Device(mx.cpu, index=1) != mx.cpu
    assert mx.Device(mx.gpu, 0) == mx.gpu
    assert d.type == mx.cpu
    assert str(d) == "Device(cpu, 0)" and repr(d) == "Device(cpu, 0)"
    assert str(mx.Device(mx.gpu, 1)) == "Device(gpu, 1)"
    # Equal things hash equal, so devices work as dict keys whichever way they are named.
    assert hash(d) == hash(mx.cpu)
    assert {mx.cpu: 1}[d] == 1
    with pytest.raises(TypeError):
        mx.Device("cpu")


def test_device_queries():
    assert mx.device_count(mx.cpu) == 1
    assert mx.is_available(mx.cpu)
    assert mx.is_available(mx.Device(mx.cpu))
    assert not mx.is_available(mx.Device(mx.cpu, 1))
    assert mx.is_available(mx.gpu) == HAS_GPU
    assert mx.device_count(mx.gpu) == (1 if HAS_GPU else 0) or HAS_GPU
    info = mx.device_info(mx.cpu)
    assert isinstance(info["device_name"], str) and info["device_name"]
    assert isinstance(info["architecture"], str)
    assert info["memory_size"] > 0 and info["cores"] >= 1
    assert mx.device_info() == mx.device_info(mx.default_device())
    if not HAS_GPU:
        assert mx.device_info(mx.gpu) == {}


def test_gpu_requests_raise_value_error_without_gpu():
    if HAS_GPU:
        pytest.skip("this machine has a GPU")
    for f in (mx.default_stream, mx.new_stream, mx.set_default_device, mx.stream, mx.default_device):
        with pytest.raises(ValueError):
            f(mx.gpu)
    with pytest.raises(ValueError):
        mx.zeros((2,), stream=mx.gpu)
    with pytest.raises(ValueError):
        mx.add(mx.array(1), 1, stream=mx.Device(mx.gpu, 0))


def test_streams():
    s0 = mx.default_stream(mx.cpu)
    assert isinstance(s0, mx.Stream)
    assert s0 == mx.default_stream(mx.cpu) == mx.default_stream(mx.Device(mx.cpu))
    assert s0.device == mx.cpu
    s1 = mx.new_stream(mx.cpu)
    s2 = mx.new_stream(mx.cpu)
    assert s1 != s2 and s1 != s0
    assert repr(s1).startswith("Stream(Device(cpu, 0), ") and repr(s1) == str(s1)
    assert hash(s1) == hash(s1) and len({s0, s1, s2, s1}) == 3
    assert mx.new_stream().device == mx.default_device()
    with pytest.raises(TypeError):
        mx.Stream()


def test_set_default_stream():
    old = mx.default_stream(mx.cpu)
    s = mx.new_stream(mx.cpu)
    try:
        mx.set_default_stream(s)
        assert mx.default_stream(mx.cpu) == s
        a = mx.ones((3,)) + 1
        mx.eval(a)
        assert_array(a, [2.0, 2.0, 2.0])
    finally:
        mx.set_default_stream(old)
    assert mx.default_stream(mx.cpu) == old


def test_stream_scope_and_device_scope():
    s = mx.new_stream(mx.cpu)
    with mx.stream(s) as entered:
        assert entered == s
        assert mx.default_device() == mx.cpu
        y = mx.arange(4) * 2
    assert_array(y, [0, 2, 4, 6], mx.int32)
    with mx.stream(mx.cpu) as entered:
        assert entered == mx.cpu
    with mx.default_device(mx.cpu) as d:
        assert d == mx.cpu
        assert mx.default_device() == mx.cpu
    # Nested scopes unwind in order.
    s2 = mx.new_stream(mx.cpu)
    with mx.stream(s):
        with mx.stream(s2):
            x = mx.ones((2,))
        z = mx.ones((2,))
    assert_array(x + z, [2.0, 2.0])
    # A plain call still returns the device.
    assert isinstance(mx.default_device(), mx.Device)


def test_scopes_are_per_thread():
    s = mx.new_stream(mx.cpu)
    seen = {}
    entered = threading.Event()
    leave = threading.Event()

    def worker():
        with mx.stream(s):
            entered.set()
            leave.wait(5)
        seen["done"] = True

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    # The other thread's scope does not change this thread's default stream.
    a = mx.ones((2,))
    mx.eval(a)
    leave.set()
    t.join()
    assert seen["done"]
    assert mx.default_device() == (mx.gpu if HAS_GPU else mx.cpu)


def test_stream_and_device_arguments_everywhere():
    s = mx.new_stream(mx.cpu)
    a = mx.array([1, 2, 3])
    for arg in (s, mx.cpu, mx.Device(mx.cpu, 0), None):
        assert_array(mx.multiply(a, 2, stream=arg), [2, 4, 6])
        assert_array(a.astype(mx.float32, stream=arg), [1.0, 2.0, 3.0])
        assert_array(mx.reshape(a, (3, 1), stream=arg), [[1], [2], [3]])
    with pytest.raises(TypeError):
        mx.add(a, a, stream="cpu")


def ops_run_while(f):
    """How many ops ran while `f()` ran (a timeline capture around it, stopped without waiting:
    work still in flight when `f` returns is not waited for, and is counted if it started)."""
    mx.start_capture()
    try:
        f()
    finally:
        summary = mx.stop_capture()
    return summary["ops"]


def long_chain(value, stream, n=40, size=1_000_000):
    """`value + n` after a chain of `n` adds on `stream`: long enough (tens of ms) that work a
    synchronize did not wait for is still running when it returns."""
    x = mx.full((size,), float(value), stream=stream)
    for _ in range(n):
        x = mx.add(x, 1.0, stream=stream)
    return x


@pytest.mark.parametrize("form", ["stream", "device", "Device", "none"])
def test_synchronize_forms_wait_for_the_work(form):
    # A device stands for its default stream (as in MLX); no argument means every stream.
    s = mx.new_stream(mx.cpu) if form in ("stream", "none") else mx.default_stream(mx.cpu)
    a = long_chain(2.0, s)
    target = {"stream": s, "device": mx.cpu, "Device": mx.Device(mx.cpu), "none": None}[form]
    mx.async_eval(a)
    if target is None:
        mx.synchronize()
    else:
        mx.synchronize(target)
    # Every op of the chain ran before synchronize returned: reading the values runs none.
    assert ops_run_while(lambda: np.array(a)) == 0
    assert_array(a, np.full(1_000_000, 42.0))


def test_ops_run_while_counts_work_left_running():
    # The check above can fail: without synchronize, the chain is still running when the values
    # are read, and its ops are counted.
    s = mx.new_stream(mx.cpu)
    a = long_chain(2.0, s, n=200)
    mx.async_eval(a)
    assert ops_run_while(lambda: np.array(a)) > 0
    assert_array(a, np.full(1_000_000, 202.0))


def test_synchronize_without_argument_waits_for_every_stream():
    streams = [mx.new_stream(mx.cpu) for _ in range(4)]
    outs = [long_chain(i, s) for i, s in enumerate(streams)]
    mx.async_eval(outs)
    mx.synchronize()
    # Every stream's work has run: the values are ready, and reading them runs no op.
    assert ops_run_while(lambda: [np.array(x) for x in outs]) == 0
    for i, x in enumerate(outs):
        assert np.array(x)[0] == i + 40


def test_eval_trees_and_other_leaves():
    a = mx.ones((2,)) + 1
    b = mx.zeros((3,)) + 2
    c = mx.arange(3) + 5
    mx.eval(1, "text", None, [a, (b, {"k": c, "n": 3})], {"x": [a]})
    mx.eval()
    mx.eval([], {}, ())
    assert_array(a, [2.0, 2.0])
    assert_array(b, [2.0, 2.0, 2.0])
    assert_array(c, [5, 6, 7])


def test_async_eval_then_item():
    a = mx.full((), 3.0) * 2
    mx.async_eval(a)
    assert a.item() == 6.0
    xs = [mx.arange(10) + i for i in range(5)]
    mx.async_eval(xs, {"y": xs[0]})
    assert [x[0].item() for x in xs] == [0, 1, 2, 3, 4]


def test_thread_local_stream_compat():
    s = mx.new_thread_local_stream(mx.cpu)
    assert isinstance(s, mx.Stream) and s.device == mx.cpu
    results = []

    def worker(i):
        # rill streams are usable from any thread, including ones that did not make them.
        results.append(mx.add(mx.full((4,), float(i)), 1.0, stream=s).tolist())

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(results) == [[float(i + 1)] * 4 for i in range(4)]
    mx.clear_streams()
    # Handles stay valid after clear_streams.
    assert_array(mx.add(mx.ones((2,)), 1, stream=s), [2.0, 2.0])


def test_scope_exit_on_wrong_thread_raises():
    s = mx.new_stream(mx.cpu)
    ctx = mx.stream(s)
    ctx.__enter__()
    errors = []

    def other():
        try:
            ctx.__exit__(None, None, None)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    ctx.__exit__(None, None, None)
    assert len(errors) == 1
