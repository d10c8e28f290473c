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


class _Spinner:
    """A Python thread that counts its turns: it can only run while no thread holds the GIL.

    It is started, and seen running, before the call it observes, so a slow thread start cannot
    be mistaken for a held GIL."""

    def __enter__(self):
        self.count = 0
        self._stop = threading.Event()
        started = threading.Event()

        def spin():
            while not self._stop.is_set():
                self.count += 1
                started.set()
                time.sleep(0)

        self._thread = threading.Thread(target=spin)
        self._thread.start()
        assert started.wait(10), "the observer thread never ran"
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _heavy(iters, stream=None):
    x = mx.full((1_000_000,), 1.0, stream=stream)
    for _ in range(iters):
        x = mx.add(mx.multiply(x, 1.0000001, stream=stream), 1e-7, stream=stream)
    return x


_ITERS = []


def _calibrated_iters(seconds=0.3):
    """How many steps of `_heavy` take about `seconds` on this machine (measured once), so the
    observed call lasts long enough on a fast machine and not needlessly long on a slow one."""
    if not _ITERS:
        # The first run pays for fresh pages and waking the pool: not part of the measurement.
        mx.eval(_heavy(20))
        n = 20
        while True:
            t = time.perf_counter()
            mx.eval(_heavy(n))
            elapsed = time.perf_counter() - t
            if elapsed > 0.1 or n >= 20_000:
                break
            n *= 4
        _ITERS.append(max(20, int(n * seconds / max(elapsed, 1e-3))))
    return _ITERS[0]


def _progress_during(f):
    """How many times a Python thread got to run while `f()` ran in this thread, and how long
    `f()` took."""
    with _Spinner() as spinner:
        start = spinner.count
        t0 = time.perf_counter()
        f()
        elapsed = time.perf_counter() - t0
        ran = spinner.count - start
    return ran, elapsed


def test_eval_releases_the_gil():
    x = _heavy(_calibrated_iters())
    ran, elapsed = _progress_during(lambda: mx.eval(x))
    # The call lasted (calibrated work); with the GIL held the other thread could not have run.
    assert elapsed > 0.05, elapsed
    assert ran > 20, (ran, elapsed)


def test_synchronize_and_item_release_the_gil():
    iters = _calibrated_iters()
    s = mx.new_stream(mx.cpu)

    x = _heavy(iters, s)  # built before the observation: building holds the GIL

    def start_then_synchronize():
        # Submitted with the observer already running: the wait covers the whole computation.
        mx.async_eval(x)
        mx.synchronize(s)

    ran, elapsed = _progress_during(start_then_synchronize)
    assert elapsed > 0.05, elapsed
    assert ran > 20, (ran, elapsed)
    y = _heavy(iters)[0]
    ran, elapsed = _progress_during(lambda: y.item())
    assert elapsed > 0.05, elapsed
    assert ran > 20, (ran, elapsed)
