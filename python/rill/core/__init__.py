"""rill.core: MLX's Python API on the rill runtime.

``import rill.core as mx`` and keep your MLX code: arrays are lazy, ops run on streams bound to
devices, and ``mx.eval`` (or reading a value) computes what is needed. Where rill differs, it is
on purpose: streams work from any thread, an error sticks to the array that failed (and to what
depends on it), and ``set_memory_limit`` is a hard limit (``MemoryError``).
"""

import sys as _sys
import typing as _typing
from collections import abc as _abc

from rill._core import *  # noqa: F401,F403
from rill._core import __version__  # noqa: F401
from rill._core import fft, linalg, random  # noqa: F401
from rill._core import start_capture, stop_capture, synchronize

# The extension's `data` submodule is `rill.data` (import rill.data as dx), not part of MLX's
# namespace: the star import above brought it in.
del data  # noqa: F821

# `import rill.core.random` and `from rill.core.random import normal` find the submodule.
_sys.modules[__name__ + ".random"] = random
_sys.modules[__name__ + ".fft"] = fft
_sys.modules[__name__ + ".linalg"] = linalg

from rill.core import cuda, distributed, fast, metal  # noqa: E402,F401
from rill.core import _matrix_norms  # noqa: E402

# The matrix norms made of singular values come from svd (see _matrix_norms.py). MLX also
# offers the same function at the top level, as matrix_norm.
linalg.norm = _matrix_norms.norm
matrix_norm = _matrix_norms.norm

# The array members MLX has that the extension's class lacks (real, imag, conj, view).
from rill.core import _array_methods  # noqa: E402

_array_methods.attach()

# ``a.at[index].add(v)`` and friends (see _array_at.py).
from rill.core._array_at import ArrayAt  # noqa: E402,F401
from rill.core import _array_at  # noqa: E402

_array_at.attach()

# MLX's type for the iterator ``iter(a)`` returns.
from rill._core import _ArrayIterator as ArrayIterator  # noqa: E402,F401

# MLX's type for the streams new_thread_local_stream makes (a Stream tied to each thread). Every
# rill stream is usable from any thread, and new_thread_local_stream returns a plain Stream: the
# name is that class, so annotations and isinstance checks written for MLX hold.
ThreadLocalStream = Stream  # noqa: F405



@_typing.runtime_checkable
class _HasArrayInterface(_typing.Protocol):
    """Anything ``array()`` reads through ``__array__`` (NumPy arrays among them). A protocol,
    not ``numpy.ndarray``: importing rill.core does not import NumPy."""

    def __array__(self, *args, **kwargs): ...


# What MLX's functions take where they take an array, for annotations (as the stubs spell it).
ArrayLike = _typing.Union[array, bool, int, float, complex, _abc.Sequence,  # noqa: F405
                          _HasArrayInterface]

# `mx.newaxis` and friends, as MLX and NumPy have them.
newaxis = None

# MLX's module constants.
pi = 3.141592653589793
e = 2.718281828459045
euler_gamma = 0.5772156649015329
inf = float("inf")
nan = float("nan")


class capture:
    """Records a timeline of the ops that run inside a ``with`` block.

    ``with mx.capture("trace.json") as c:`` starts a capture (``start_capture(path)``); leaving
    the block waits for the work already submitted (``synchronize()``), stops the capture, writes
    the Chrome trace-event JSON to ``path`` (when given) and keeps the summary in ``c.summary``
    (the dict ``stop_capture()`` returns). Only ops evaluated inside the block are recorded.
    """

    def __init__(self, path=None):
        self.path = None if path is None else str(path)
        self.summary = None

    def __enter__(self):
        start_capture(self.path)
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            synchronize()
        finally:
            self.summary = stop_capture()
        return False

# Function transforms: the pytree and argnums handling is Python, the differentiation native.
from rill.core._transforms import grad, jvp, value_and_grad, vjp  # noqa: E402,F401
from rill.core._compile import compile, disable_compile, enable_compile  # noqa: E402,F401
from rill.core._vmap import vmap  # noqa: E402,F401
from rill.core._custom import checkpoint, custom_function  # noqa: E402,F401
from rill.core._export import (  # noqa: E402,F401
    FunctionExporter,
    export_function,
    exporter,
    import_function,
)

# Matmul variants, quantization (affine and the microscaling float modes) and float8,
# composed from the ops above.
from rill.core._matmul_variants import (  # noqa: E402,F401
    block_masked_mm,
    dequantize,
    from_fp8,
    gather_mm,
    gather_qmm,
    hadamard_transform,
    new_thread_unsafe_stream,
    quantize,
    quantized_matmul,
    segmented_mm,
    set_wired_limit,
    to_fp8,
)
from rill.core._qqmm import gather_qqmm, qqmm  # noqa: E402,F401

class _PrintOptionsContext:
    """What ``printoptions`` returns: sets the options on entry, restores the old ones on exit."""

    def __init__(self, precision):
        self.precision = precision
        self._saved = None

    def __enter__(self):
        self._saved = get_printoptions().precision  # noqa: F405
        set_printoptions(precision=self.precision)  # noqa: F405
        return self

    def __exit__(self, exc_type, exc, tb):
        set_printoptions(precision=self._saved)  # noqa: F405
        return False


def printoptions(precision: int = -1):
    """A context manager that prints arrays with ``precision`` decimals inside its block
    (-1: the default format) and restores the previous options when it ends."""
    return _PrintOptionsContext(precision)
