"""Timeline capture from Python: start_capture/stop_capture and `with mx.capture(path)`."""

import json

import pytest

import rill.core as mx


@pytest.fixture(autouse=True)
def ops_one_by_one():
    """These tests count the ops of their chains: the scheduler must not fuse them."""
    old = mx.set_auto_fusion("off")
    yield
    mx.set_auto_fusion(old)


def two_chains(s1, s2, n=40):
    a = mx.full((256, 256), 1.0)
    b = mx.full((256, 256), 2.0)
    x, y = a, b
    for _ in range(n):
        x = mx.add(mx.multiply(x, 0.5, stream=s1), a, stream=s1)
        y = mx.add(mx.multiply(y, 0.5, stream=s2), b, stream=s2)
    return x, y


def check_summary(summary, s1, s2):
    assert summary["ops"] >= 160
    by_stream = {s["stream"]: s for s in summary["streams"]}
    for s in (s1, s2):
        st = by_stream[s.index]
        assert st["device"] == "cpu:0"
        assert st["ops"] >= 80
        assert st["busy_us"] > 0
        assert st["idle_us"] >= 0 and st["wait_us"] >= 0
        assert 0 < st["utilization"] <= 1 + 1e-9
    pairs = {(o["a"], o["b"]): o for o in summary["overlaps"]}
    key = tuple(sorted((s1.index, s2.index)))
    assert key in pairs
    assert 0 <= pairs[key]["fraction"] <= 1 + 1e-9


def test_start_stop_capture_writes_json_and_returns_summary(tmp_path):
    s1, s2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    path = tmp_path / "trace.json"
    mx.start_capture(str(path))
    x, y = two_chains(s1, s2)
    mx.eval(x, y)
    summary = mx.stop_capture()
    check_summary(summary, s1, s2)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    assert len(events) >= summary["ops"]


def test_capture_context_manager(tmp_path):
    s1, s2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    path = tmp_path / "ctx.json"
    with mx.capture(path) as c:
        x, y = two_chains(s1, s2)
        mx.async_eval(x, y)  # the exit waits for the work submitted in the block
    assert c.summary is not None
    check_summary(c.summary, s1, s2)
    json.loads(path.read_text())
    # The capture is over: another can start.
    mx.start_capture()
    summary = mx.stop_capture()
    assert summary["ops"] == 0


def test_capture_errors():
    with pytest.raises(ValueError, match="stop_capture"):
        mx.stop_capture()
    mx.start_capture()
    try:
        with pytest.raises(ValueError, match="start_capture"):
            mx.start_capture()
    finally:
        mx.stop_capture()
