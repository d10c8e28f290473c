"""rill.core: MLX's Python API on the rill runtime.

``import rill.core as mx`` and keep your MLX code: arrays are lazy, ops run on streams bound to
devices, and ``mx.eval`` (or reading a value) computes what is needed. Where rill differs, it is
on purpose: streams work from any thread, an error sticks to the array that failed (and to what
depends on it), and ``set_memory_limit`` is a hard limit (``MemoryError``).
"""

from rill._core import *  # noqa: F401,F403
from rill._core import __version__  # noqa: F401

# `mx.newaxis` and friends, as MLX and NumPy have them.
newaxis = None

# MLX's module constants.
pi = 3.141592653589793
e = 2.718281828459045
euler_gamma = 0.5772156649015329
inf = float("inf")
nan = float("nan")
