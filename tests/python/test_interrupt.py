"""Ctrl-C while rill loads NumPy for the first time is a KeyboardInterrupt, not a Rust panic.

Python turns SIGINT into a KeyboardInterrupt raised from whatever Python code runs next; during
the first NumPy conversion that is NumPy's import. A real signal lands there only by luck of
timing, so the child process below raises KeyboardInterrupt from the import machinery itself, at
the exact point a signal would (before the fix the `numpy` crate panicked: "Failed to access NumPy
array API capsule", surfacing as a RuntimeError).
"""

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import sys, importlib.abc

    class CtrlCDuringNumpyImport(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "numpy" or name.startswith("numpy."):
                raise KeyboardInterrupt

    import rill.core as mx
    assert "numpy" not in sys.modules, "rill.core imported NumPy at import time"
    a = mx.array([1.0, 2.0])
    sys.meta_path.insert(0, CtrlCDuringNumpyImport())
    try:
        mx.add(a, object())  # rill asks whether the operand is a NumPy array
    except KeyboardInterrupt:
        print("interrupted")
    except BaseException as e:
        print("wrong exception", type(e).__name__, e)
    sys.meta_path.pop(0)
    import numpy as np
    print(np.array(mx.add(a, np.array([10.0, 20.0]))).tolist())
    """
)


def test_ctrl_c_during_the_first_numpy_import_raises_keyboard_interrupt():
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["interrupted", "[11.0, 22.0]"], r.stdout + r.stderr
