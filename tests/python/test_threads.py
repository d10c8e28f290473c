"""Python threads share streams and arrays, and the GIL is released while rill works."""

import threading
import time

import numpy as np

import rill.core as mx


def test_threads_share_a_stream_and_arrays():
    s = mx.new_stream(mx.cpu)
    base = mx.arange(1000).astype(mx.float32)
    results = {}
    errors = []

    def worker(i):
        try:
            x = base
            for _ in range(50):
                x = mx.add(x, float(i), stream=s)
            mx.eval(x)
            results[i] = np.array(x)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for i in range(8):
        np.testing.assert_array_equal(results[i], np.arange(1000, dtype=np.float32) + 50.0 * i)


def test_one_array_evaluated_by_many_threads():
    x = mx.ones((100_000,))
    for _ in range(30):
        x = x * 1.0 + 1.0
    seen = []

    def read():
        seen.append(float(np.array(x)[12345]))

    ts = [threading.Thread(target=read) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen == [31.0] * 6


def _progress_during(f):
    """How many times a Python thread got to run while `f()` ran in this thread."""
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0)

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    start = count[0]
    t0 = time.perf_counter()
    f()
    elapsed = time.perf_counter() - t0
    ran = count[0] - start
    stop.set()
    t.join()
    return ran, elapsed


def _heavy(stream=None):
    x = mx.full((2_000_000,), 1.0, stream=stream)
    for _ in range(150):
        x = mx.add(mx.multiply(x, 1.0000001, stream=stream), 1e-7, stream=stream)
    return x


def test_eval_releases_the_gil():
    ran, elapsed = _progress_during(lambda: mx.eval(_heavy()))
    # With the GIL held the other thread could not run at all during the call.
    assert elapsed > 0.05
    assert ran > 50, (ran, elapsed)


def test_synchronize_and_item_release_the_gil():
    s = mx.new_stream(mx.cpu)
    x = _heavy(s)
    mx.async_eval(x)
    ran, _ = _progress_during(lambda: mx.synchronize(s))
    assert ran > 10
    y = _heavy()[0]
    ran, _ = _progress_during(lambda: y.item())
    assert ran > 10
