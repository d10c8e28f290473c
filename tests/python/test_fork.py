"""A process forked while rill has work in flight gets a working runtime (hardening item 7).

Before: after `mx.async_eval(y)` and `os.fork()`, any eval in the child never returned, even on a
new stream (MLX hangs the same way). Now the child has empty queues and a pool of its own; arrays
that were in flight in the parent fail with an error naming the fork; finished arrays keep their
values. Each child runs under a deadline, so a regression fails instead of hanging the suite.
"""

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import rill.core as mx

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


@pytest.fixture(autouse=True)
def on_the_cpu():
    """CUDA does not survive fork, so forked children compute on the CPU. The parent makes its arrays on the CPU too, so that its children
    can read the finished ones."""
    old = mx.default_device()
    mx.set_default_device(mx.cpu)
    yield
    mx.set_default_device(old)


def run_in_child(body, deadline=60.0):
    """Forks; the child runs `body()` and exits with its return code (1 on an exception); the parent
    waits at most `deadline` seconds, then kills it. Returns the child's exit code."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            code = body(w)
        except BaseException as e:  # noqa: BLE001 - report anything to the parent
            os.write(w, f"child raised {type(e).__name__}: {e}\n".encode())
        finally:
            os._exit(code)
    os.close(w)
    start = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the forked child hung for {deadline} s")
        time.sleep(0.01)
    report = b""
    while chunk := os.read(r, 65536):
        report += chunk
    os.close(r)
    return os.waitstatus_to_exitcode(status), report.decode()


def say(w, msg):
    os.write(w, (msg + "\n").encode())


def test_child_of_a_fork_during_async_eval_computes_and_reports_lost_work():
    rng = np.random.default_rng(7)
    a_np = rng.standard_normal((64, 64)).astype(np.float32)
    done = mx.array(a_np) * 2.0
    mx.eval(done)  # finished before the fork: the child keeps it
    # Long enough that it is still running when the fork happens (a few seconds of matmuls).
    w_np = (rng.standard_normal((256, 256)) / 16).astype(np.float32)
    y = mx.array(rng.standard_normal((256, 256)).astype(np.float32))
    wm = mx.array(w_np)
    for _ in range(3000):
        y = mx.tanh(y @ wm)
    mx.async_eval(y)

    def child(w):
        # Work made in the child, on the default stream and on a new one, runs and is right.
        x_np = rng.standard_normal((128, 96)).astype(np.float32)
        got = np.array(mx.sum(mx.exp(mx.array(x_np)), axis=0))
        assert np.allclose(got, np.exp(x_np.astype(np.float64)).sum(axis=0), rtol=1e-4)
        s = mx.new_stream(mx.cpu)
        m = mx.multiply(mx.array(x_np), mx.array(x_np), stream=s)
        assert np.allclose(np.array(m), x_np.astype(np.float64) ** 2, rtol=1e-6)
        # An array finished before the fork keeps its value.
        assert np.array_equal(np.array(done), a_np * 2.0)
        # The array in flight at the fork is an error, not a hang; and so is what uses it.
        for what in (lambda: mx.eval(y), lambda: mx.eval(y + 1), lambda: y.tolist()):
            try:
                what()
                say(w, "in-flight array evaluated")
                return 3
            except RuntimeError as e:
                if "forked" not in str(e):
                    say(w, f"unexpected message: {e}")
                    return 4
        say(w, "ok")
        return 0

    try:
        code, report = run_in_child(child)
        assert (code, report.strip()) == (0, "ok")
    finally:
        mx.eval(y)  # the parent's work was not disturbed
    assert np.isfinite(np.array(y)).all()


# A fresh interpreter whose first matmuls are running when it forks; the child multiplies. `gemm`
# builds its table of cache sizes on first use (reading /sys, milliseconds on 16 cores); a fork in
# that window left the child waiting forever for an initialization that no thread would finish
# (issue 8, item 7: 1 run in 4 on the 16-core GPU machine). rill now builds it before any task runs.
FIRST_MATMULS_THEN_FORK = r"""
import os, sys, time
import numpy as np
import rill.core as mx
mx.set_default_device(mx.cpu)
rng = np.random.default_rng(int(sys.argv[1]))
y = mx.array(rng.standard_normal((256, 256)).astype(np.float32))
wm = mx.array((rng.standard_normal((256, 256)) / 16).astype(np.float32))
for _ in range(300):
    y = mx.tanh(y @ wm)
mx.async_eval(y)
time.sleep(0.001 * int(sys.argv[1]))
x_np = rng.standard_normal((64, 48)).astype(np.float32)
pid = os.fork()
if pid == 0:
    m = np.array(mx.matmul(mx.array(x_np.T), mx.array(x_np)))
    os._exit(0 if np.allclose(m, x_np.T.astype(np.float64) @ x_np, rtol=1e-3, atol=1e-3) else 6)
start = time.monotonic()
while time.monotonic() - start < 20:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        mx.eval(y)
        sys.exit(os.waitstatus_to_exitcode(status))
    time.sleep(0.005)
os.kill(pid, 9)
sys.exit(7)
"""


def test_a_child_forked_during_the_first_matmuls_can_matmul():
    for seed in range(6):
        run = subprocess.run([sys.executable, "-c", FIRST_MATMULS_THEN_FORK, str(seed)], capture_output=True, timeout=120)
        assert run.returncode == 0, (seed, {6: "wrong product", 7: "the child hung"}.get(run.returncode), run.stderr.decode()[-2000:])


def square_sum(seed):
    x = np.random.default_rng(seed).standard_normal(1000).astype(np.float32)
    return float(mx.sum(mx.square(mx.array(x))).item()), float((x.astype(np.float64) ** 2).sum())


def test_fork_pool_workers_compute_like_a_data_loader():
    # The parent has used rill (pool threads exist) before the workers fork.
    mx.eval(mx.ones((512, 512)) @ mx.ones((512, 512)))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        res = pool.map_async(square_sum, range(6))
        results = res.get(timeout=60)
    for ours, ref in results:
        assert ours == pytest.approx(ref, rel=1e-4)


def test_a_child_can_fork_again():
    mx.eval(mx.arange(10) + 1)

    def child(w):
        def grandchild(w2):
            ok = mx.sum(mx.arange(100)).item() == 4950
            return 0 if ok else 5

        code, report = run_in_child(grandchild, deadline=30)
        say(w, f"grandchild {code} {report.strip()}")
        return code

    code, report = run_in_child(child)
    assert code == 0, report
