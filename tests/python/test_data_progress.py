"""rill.data's progress(): the samples pass through unchanged; the bar is drawn on a terminal
(checked through a pseudo-terminal) and nothing is written when stderr is not one."""

import os
import pty
import subprocess
import sys

import numpy as np

import rill.data as dx

CHILD = """
import numpy as np, rill.data as dx
st = dx.buffer_from_vector([{"x": np.array(i)} for i in range(40)]).to_stream()
n = sum(1 for _ in st.progress(total=40, desc="rill-progress-test"))
print("done", n, flush=True)
"""


def test_progress_passes_samples_and_stays_quiet_off_a_terminal(capfd):
    rng = np.random.default_rng(0)
    data = [{"x": rng.normal(size=3)} for _ in range(25)]
    st = dx.buffer_from_vector(data).to_stream().batch(4).progress(desc="quiet")
    got = np.concatenate([b["x"] for b in st])
    np.testing.assert_array_equal(got, np.stack([d["x"] for d in data]))
    assert capfd.readouterr().err == ""


def run_child(stderr):
    return subprocess.run([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=stderr, timeout=60)


def test_progress_draws_on_a_terminal():
    master, slave = pty.openpty()
    try:
        r = run_child(slave)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert r.stdout.split() == [b"done", b"40"]
    text = out.decode(errors="replace")
    assert "rill-progress-test" in text and "40/40" in text, text
    # The same child with stderr on a pipe writes nothing there.
    quiet = run_child(subprocess.PIPE)
    assert quiet.stdout.split() == [b"done", b"40"] and quiet.stderr == b""
