"""rill.core: MLX's Python API on the rill runtime (``import rill.core as mx``).

Arrays are lazy: ops only build a graph, each node bound to a stream; ``eval`` (or reading a
value: ``item``, ``tolist``, ``repr``, NumPy conversion) computes what is needed. Streams may be
used from any thread; ``synchronize()`` waits for every stream; an error sticks to the array that
failed and to what depends on it; ``set_memory_limit`` is a hard limit (``MemoryError``).
"""

import os
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Any, Literal, Optional, Union, overload

import numpy as np

__version__: str

Scalar = Union[bool, int, float, complex]
ArrayLike = Union["array", Scalar, Sequence[Any], np.ndarray]
StreamOrDevice = Union["Stream", "Device", "DeviceType", None]
ShapeLike = Union[int, Sequence[int]]

pi: float
e: float
euler_gamma: float
inf: float
nan: float
newaxis: None

class ShapeOverflowError(ValueError, OverflowError):
    """An array shape whose element count or byte size overflows (more than ``isize::MAX``
    bytes); every op that makes a shape raises it at once."""

# ------------------------------------------------------------------------------------- dtypes

class Dtype:
    """An element type. The instances are ``bool_``, ``uint8`` ... ``complex64`` below; they
    compare equal by type, hash, and pickle. No constructor."""

    @property
    def size(self) -> int:
        """Bytes per element."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

bool_: Dtype
uint8: Dtype
uint16: Dtype
uint32: Dtype
uint64: Dtype
int8: Dtype
int16: Dtype
int32: Dtype
int64: Dtype
float16: Dtype
bfloat16: Dtype
float32: Dtype
float64: Dtype
complex64: Dtype

class DtypeCategory(Enum):
    """NumPy's abstract dtype families, for ``issubdtype``."""

    complexfloating = ...
    floating = ...
    inexact = ...
    signedinteger = ...
    unsignedinteger = ...
    integer = ...
    number = ...
    generic = ...

complexfloating: DtypeCategory
floating: DtypeCategory
inexact: DtypeCategory
signedinteger: DtypeCategory
unsignedinteger: DtypeCategory
integer: DtypeCategory
number: DtypeCategory
generic: DtypeCategory

class finfo:
    """The limits of a float type (complex64: of its float32 parts); ``ValueError`` for others."""

    min: float
    max: float
    eps: float
    smallest_normal: float
    bits: int
    dtype: Dtype
    def __init__(self, dtype: Dtype) -> None: ...

class iinfo:
    """The limits of an integer type; ``ValueError`` for others (bool included)."""

    min: int
    max: int
    dtype: Dtype
    def __init__(self, dtype: Dtype) -> None: ...

def result_type(*arrays_and_dtypes: Union[array, Dtype]) -> Dtype:
    """The dtype the arrays and dtypes promote to (MLX's table)."""
def can_cast(from_: Union[array, Dtype], to: Dtype) -> bool:
    """Whether promoting ``from_`` with ``to`` gives ``to``."""
def isdtype(dtype: Dtype, kind: Union[Dtype, str, tuple[Union[Dtype, str], ...]]) -> bool:
    """Whether ``dtype`` is ``kind``: a dtype, one of "bool", "signed integer", "unsigned
    integer", "integral", "real floating", "complex floating", "numeric", or a tuple of these."""
def issubdtype(arg1: Union[Dtype, DtypeCategory], arg2: Union[Dtype, DtypeCategory]) -> bool:
    """True when ``arg1`` is ``arg2`` or lies under it in the hierarchy generic > number >
    {integer > {signedinteger, unsignedinteger}, inexact > {floating, complexfloating}}. bool is
    only a ``generic``; two dtypes are related only when equal."""

# ------------------------------------------------------------------------------------ devices

class DeviceType(Enum):
    """The kind of a device. ``mx.cpu`` and ``mx.gpu`` are its values; each compares equal to
    ``Device(type, 0)``."""

    cpu = ...
    gpu = ...

cpu: DeviceType
gpu: DeviceType

class Device:
    """A device: a type and an index. ``str`` and ``repr`` are ``Device(cpu, 0)``. Naming a GPU
    the process does not have is allowed; using it raises ``ValueError``."""

    def __init__(self, type: DeviceType, index: int = 0) -> None: ...
    @property
    def type(self) -> DeviceType:
        """The device's type."""
    def __eq__(self, other: object) -> bool:
        """Equal to the same device, and (at index 0) to its ``DeviceType``."""
    def __hash__(self) -> int: ...

@overload
def default_device() -> Device:
    """The device ops use when given no stream: the innermost ``with`` scope of this thread,
    else the process-wide default (the first GPU when there is one, else the CPU)."""
@overload
def default_device(device: Union[Device, DeviceType]) -> StreamContext:
    """A context manager: ``with default_device(d):`` makes ``d`` this thread's default device
    inside the block. Raises ``ValueError`` for a device this process does not have."""
def set_default_device(device: Union[Device, DeviceType]) -> None:
    """Sets the default device of the process (every thread without a scope of its own).
    ``ValueError`` for a device this process does not have."""
def is_available(device: Union[Device, DeviceType]) -> bool:
    """True when this process can use ``device``."""
def device_count(device_type: Union[DeviceType, Device]) -> int:
    """How many devices of a type this process can use (the CPU: 1)."""
def device_info(d: Union[Device, DeviceType, None] = None) -> dict[str, Union[str, int]]:
    """What is known about a device (the default device when None): at least ``device_name``
    and ``architecture``; the CPU adds ``memory_size`` (bytes) and ``cores``. Empty for a device
    this process does not have."""

# ------------------------------------------------------------------------------------ streams

class Stream:
    """An in-order queue of work bound to a device, made by ``new_stream`` or
    ``default_stream`` (no constructor). Any thread may submit work to any stream. ``repr`` is
    ``Stream(Device(cpu, 0), 1)``."""

    @property
    def index(self) -> int:
        """The stream's index (its repr's last number; the ``stream`` of capture summaries)."""

    @property
    def device(self) -> Device:
        """The device this stream runs on."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class ArrayIterator:
    """What ``iter(a)`` returns: the arrays along the first axis."""
    def __iter__(self) -> ArrayIterator: ...
    def __next__(self) -> array: ...

ThreadLocalStream = Stream

class StreamContext:
    """A context manager made by ``stream(s)`` or ``default_device(d)``; inside the ``with``
    block, ``s`` (and its device) or ``d`` (and its default stream) is this thread's default.
    ``__enter__`` returns that stream or device. A block must be exited by the thread that
    entered it."""

    def __enter__(self) -> Union[Stream, Device]: ...
    def __exit__(self, *args: Any) -> bool: ...

def default_stream(device: Union[Device, DeviceType]) -> Stream:
    """The default stream of ``device`` (made on first use). ``ValueError`` for a device this
    process does not have."""
def set_default_stream(stream: Stream) -> None:
    """Makes ``stream`` the default stream of its device, for every thread."""
def new_stream(device: Union[Device, DeviceType, None] = None) -> Stream:
    """A new stream on ``device`` (the default device when None), independent of every other
    stream. ``ValueError`` for a device this process does not have."""
def new_thread_unsafe_stream(device: Union[Device, DeviceType]) -> Stream:
    """A new stream on ``device`` (rill's streams work from any thread: ``new_stream``)."""
def set_wired_limit(limit: int) -> int:
    """Keeps ``limit`` and returns the previous one (rill has no wired memory: no effect)."""
def new_thread_local_stream(device: Union[Device, DeviceType]) -> Stream:
    """MLX compatibility. MLX ties streams to threads; every rill stream is already usable from
    every thread, so this is ``new_stream(device)``."""
def clear_streams() -> None:
    """MLX compatibility. rill streams own no threads or device resources and their handles stay
    valid, so nothing is released: this waits for outstanding work on every stream."""
def stream(s: Union[Stream, Device, DeviceType]) -> StreamContext:
    """A context manager making ``s`` this thread's default inside a ``with`` block: a Stream
    (and its device), or a Device/DeviceType (and its default stream)."""
def synchronize(stream: StreamOrDevice = None) -> None:
    """Blocks until the work submitted so far is done: on ``stream`` only (a Stream, or a device's
    default stream), or on every stream of every device when None. Releases the GIL."""
def eval(*args: Any) -> None:
    """Evaluates every array in the arguments (trees of lists, tuples and dicts; other leaves
    are ignored) and waits, with the GIL released. Raises the first failed array's error:
    ``MemoryError`` past the memory limit, ``RuntimeError`` (or ``ValueError`` for an op the device
    cannot run) for failures found while running."""
def set_auto_fusion(mode: str) -> str:
    """Which streams run lazy elementwise chains as fused nodes when evaluated: ``"all"`` (the
    default), ``"cpu"``, ``"gpu"`` or ``"off"``. Returns the previous setting. (rill's own:
    MLX fuses only under ``compile``.)"""
def async_eval(*args: Any) -> None:
    """Starts evaluating every array in the arguments and returns at once; reading an array later
    waits for it, and its error (if any) surfaces then."""

# -------------------------------------------------------------------------------------- graph

@overload
def depends(inputs: array, dependencies: Union[array, Sequence[array]]) -> array: ...
@overload
def depends(inputs: Sequence[array], dependencies: Union[array, Sequence[array]]) -> list[array]:
    """Arrays with the values (and shapes and dtypes) of ``inputs`` that are computed only after
    ``dependencies``: evaluating an output evaluates the dependencies first, and a dependency
    that fails makes the outputs fail. One array for one array, a list for a list or tuple.
    Nothing is copied (an output shares its input's buffer). Gradients flow to ``inputs``
    unchanged and are zero for the dependencies; vmap, jvp and compile go through it."""
def export_to_dot(file: Any, *args: Any, **kwargs: array) -> None:
    """Writes the graph of the output arrays in ``args`` (arrays, or lists, tuples and dicts of
    them) in Graphviz's DOT to ``file`` (a path, or an object with ``write(str)``): every
    unevaluated array they need and the evaluated arrays those read; ``kwargs`` name arrays."""
def get_array_buffer_size(*args: Any) -> int:
    """Bytes the allocator reserved for the distinct buffers behind the arrays in ``args`` (trees
    of lists, tuples and dicts; other leaves are ignored), each buffer counted once however many
    views see it. The arrays must have been evaluated (``ValueError`` otherwise)."""

# -------------------------------------------------------------------------------------- files

FileLike = Union[str, os.PathLike[str]]

def save(file: FileLike, arr: array) -> None:
    """Saves ``arr`` in NumPy's ``.npy`` format (``.npy`` is added to a path without it). The
    array is evaluated and written in row-major order; the file is written beside the target and
    renamed over it, so a failed save leaves an existing file as it was."""
def savez(file: FileLike, *args: array, **kwargs: array) -> None:
    """Saves several arrays in an uncompressed ``.npz`` archive (``.npz`` is added to a path
    without it): keyword arguments under their names, positional ones as ``arr_0``, ``arr_1``..."""
def savez_compressed(file: FileLike, *args: array, **kwargs: array) -> None:
    """As ``savez``, with every member deflated."""
def save_safetensors(
    file: FileLike, arrays: dict[str, array], metadata: Optional[dict[str, str]] = None
) -> None:
    """Saves a dict of arrays and optional string metadata in the safetensors format
    (``.safetensors`` is added to a path without it)."""
def save_gguf(
    file: FileLike,
    arrays: dict[str, array],
    metadata: Optional[dict[str, Union[array, str, list[str]]]] = None,
) -> None:
    """Saves a dict of arrays in the GGUF format (``.gguf`` is added to a path without it), with
    optional metadata: strings, lists of strings, or scalar or 1-D arrays."""
@overload
def load(
    file: FileLike,
    format: Optional[str] = None,
    return_metadata: Literal[False] = False,
    *,
    stream: StreamOrDevice = None,
) -> Union[array, dict[str, array]]: ...
@overload
def load(
    file: FileLike,
    format: Optional[str] = None,
    return_metadata: Literal[True] = ...,
    *,
    stream: StreamOrDevice = None,
) -> tuple[dict[str, array], dict[str, Union[str, list[str], array]]]: ...
def load(
    file: FileLike,
    format: Optional[str] = None,
    return_metadata: bool = False,
    *,
    stream: StreamOrDevice = None,
) -> Any:
    """Loads a ``.npy`` (an array), ``.npz``, ``.safetensors`` or ``.gguf`` file (a dict of
    arrays; with ``return_metadata=True``, safetensors and GGUF only, a ``(dict, metadata)``
    pair). GGUF's Q4_0, Q4_1 and Q8_0 tensors load as MLX's quantized weights, ``scales`` and
    ``biases``. ``format`` names the format when the extension does not. The file is memory-mapped and the arrays use its bytes in
    place where they can; with ``stream``, they are computed on that stream's device. A missing,
    truncated or corrupt file raises ``RuntimeError`` naming the file and what is wrong
    (``ValueError`` for an ``.npz`` that is not a zip archive, as in MLX)."""
def from_dlpack(x: Any) -> array:
    """An array over the memory of any object with ``__dlpack__`` (NumPy, PyTorch or JAX on the
    CPU), without a copy: the dtype is kept (float64 stays float64) and the producer's memory
    stays alive while the array uses it. CUDA memory raises ``ValueError`` (not imported yet)."""

# ------------------------------------------------------------------------------------- memory

def get_active_memory() -> int:
    """Bytes held by live arrays, over every device."""
def get_peak_memory() -> int:
    """The most bytes held at once since the start or the last ``reset_peak_memory``."""
def reset_peak_memory() -> None:
    """Restarts the peak at the bytes held now."""
def get_cache_memory() -> int:
    """Bytes of freed buffers kept for reuse."""
def clear_cache() -> None:
    """Returns every cached buffer to the system."""
def set_memory_limit(limit: int) -> int:
    """Sets the hard limit on bytes held by arrays; returns the previous limit. An allocation
    past it fails and reading the array that needed it raises ``MemoryError``."""
def get_memory_limit() -> int:
    """The hard limit on bytes held by arrays."""
def set_cache_limit(limit: int) -> int:
    """Sets how many bytes of freed buffers are kept for reuse; returns the previous value."""

# -------------------------------------------------------------------------------------- array

class array:
    """An n-dimensional array, evaluated lazily.

    ``array(val, dtype=None)`` makes one from a Python scalar, nested lists or tuples (of numbers
    and arrays), a NumPy array or scalar (or anything with ``__array__`` or the buffer protocol),
    or another array. Without ``dtype`` the type is inferred as MLX does: bool, int32 (int64 when a
    value does not fit), float32, complex64; NumPy arrays keep their dtype, except float64 which
    becomes float32.

    Operators take arrays, Python numbers and NumPy arrays or scalars on either side. Python
    numbers are typed "weakly" (``int8_array + 1`` stays int8; an int that does not fit the
    array's integer type raises ``ValueError``). Arrays hash by identity; ``==`` is elementwise.
    """

    def __init__(self, val: ArrayLike, dtype: Optional[Dtype] = None) -> None: ...
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape."""
    @property
    def dtype(self) -> Dtype:
        """The element type."""
    @property
    def ndim(self) -> int:
        """The number of dimensions."""
    @property
    def size(self) -> int:
        """The number of elements."""
    @property
    def nbytes(self) -> int:
        """The bytes the elements take (``size * itemsize``)."""
    @property
    def itemsize(self) -> int:
        """The bytes one element takes."""
    @property
    def T(self) -> array:
        """The array with its dimensions reversed."""
    def item(self) -> Scalar:
        """The one element as a Python scalar. Evaluates; ``ValueError`` unless the array has
        exactly one element."""
    @property
    def real(self) -> array:
        """The real part (a copy for real arrays)."""
    @property
    def imag(self) -> array:
        """The imaginary part (zeros for real arrays)."""
    def conj(self, *, stream: StreamOrDevice = None) -> array:
        """The complex conjugate."""
    @property
    def at(self) -> "ArrayAt":
        """Out-of-place updates: ``a.at[index].add(v)``, ``subtract``, ``multiply``, ``divide``, ``maximum``, ``minimum``."""
    def view(self, dtype: Dtype, *, stream: StreamOrDevice = None) -> array:
        """The same bytes read as ``dtype``."""
    def tolist(self) -> Any:
        """The elements as nested lists of Python scalars (a scalar for a 0-d array)."""
    def astype(self, dtype: Dtype, stream: StreamOrDevice = None) -> array:
        """The array converted to ``dtype``."""
    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        """NumPy's protocol: ``np.asarray(a)`` is a read-only view of the array's memory (no
        copy); ``np.array(a)`` is a writable copy. bfloat16 arrays come out as float32."""
    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: Optional[tuple[int, int]] = None,
        dl_device: Optional[tuple[int, int]] = None,
        copy: Optional[bool] = None,
    ) -> Any:
        """A DLPack capsule of the array's host memory (no copy; read-only when the consumer
        asks for DLPack 1.0). Arrays on a GPU raise ``BufferError`` (not exported yet)."""
    def __dlpack_device__(self) -> tuple[int, int]:
        """``(1, 0)`` for an array in host memory, ``(2, n)`` for one on GPU ``n``."""
    def __buffer__(self, flags: int) -> memoryview:
        """The buffer protocol: ``memoryview(a)``, ``bytes(memoryview(a))``, ``np.frombuffer(a)`` read the
        evaluated array's memory, read-only and C-contiguous (a strided view is copied first);
        bfloat16 raises ``BufferError`` (no buffer format exists for it)."""
    def reshape(self, *shape: Union[int, Sequence[int]], stream: StreamOrDevice = None) -> array:
        """The array with a new shape (``a.reshape(2, 3)`` or ``a.reshape((2, 3))``; one entry
        may be -1)."""
    def transpose(self, *axes: Union[int, Sequence[int]], stream: StreamOrDevice = None) -> array:
        """The dimensions permuted (reversed when no axes are given)."""
    def flatten(self, start_axis: int = 0, end_axis: int = -1, *, stream: StreamOrDevice = None) -> array:
        """Dimensions ``start_axis..=end_axis`` merged into one."""
    def squeeze(self, axis: Union[int, Sequence[int], None] = None, *, stream: StreamOrDevice = None) -> array:
        """Size-1 dimensions removed (those in ``axis``, or all)."""
    def swapaxes(self, axis1: int, axis2: int, *, stream: StreamOrDevice = None) -> array:
        """Two dimensions swapped."""
    def moveaxis(self, source: int, destination: int, *, stream: StreamOrDevice = None) -> array:
        """A dimension moved from ``source`` to ``destination``."""
    def round(self, decimals: int = 0, *, stream: StreamOrDevice = None) -> array:
        """Rounded to ``decimals`` decimal places, half to even."""
    def abs(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise absolute value."""
    def exp(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise exponential."""
    def log(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise natural logarithm."""
    def log1p(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise ``log(1 + x)``."""
    def log2(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise base-2 logarithm."""
    def log10(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise base-10 logarithm."""
    def sqrt(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise square root."""
    def rsqrt(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise reciprocal square root."""
    def square(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise square."""
    def reciprocal(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise reciprocal."""
    def sin(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise sine."""
    def cos(self, *, stream: StreamOrDevice = None) -> array:
        """Elementwise cosine."""
    def __getitem__(self, index: Any) -> array:
        """NumPy's indexing. Basic: ints (``IndexError`` out of range), slices with any step,
        ``None`` and ``...``; the result is a view (no copy). Advanced: integer arrays (rill or
        NumPy arrays, lists of ints) broadcast together with the ints beside them, their shape in
        place of the dims they index (first when separated by a slice), gathered by ``take``; an
        index out of range raises ``RuntimeError`` when evaluated. Boolean masks raise
        ``ValueError``, as in MLX."""
    @property
    def mT(self) -> array:
        """The last two dimensions swapped (``ValueError`` below 2-D)."""
    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """``a[index] = value``: the object then holds a new array with ``value`` (broadcast to
        ``a[index]``'s shape, cast to ``a``'s dtype) written there; arrays built from the old one
        keep their values. Basic indices, or integer arrays with ints, whole slices or ``...``
        elsewhere (repeated indices: the last write wins)."""
    def __matmul__(self, other: Union[array, np.ndarray]) -> array:
        """``a @ b``: ``matmul``."""
    def __rmatmul__(self, other: Union[array, np.ndarray]) -> array:
        """``b @ a`` with a NumPy ``b``: ``matmul``."""
    def sum(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``sum(self, axis, keepdims)``."""
    def prod(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``prod(self, axis, keepdims)``."""
    def max(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``max(self, axis, keepdims)``."""
    def min(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``min(self, axis, keepdims)``."""
    def all(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``all(self, axis, keepdims)``."""
    def any(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``any(self, axis, keepdims)``."""
    def mean(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``mean(self, axis, keepdims)``."""
    def logsumexp(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``logsumexp(self, axis, keepdims)``."""
    def var(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, ddof: int = 0, *, correction: Optional[int] = None, stream: StreamOrDevice = None) -> array:
        """``var(self, axis, keepdims, ddof)``; ``correction`` is another name for ``ddof``."""
    def std(self, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, ddof: int = 0, *, correction: Optional[int] = None, stream: StreamOrDevice = None) -> array:
        """``std(self, axis, keepdims, ddof)``; ``correction`` is another name for ``ddof``."""
    def argmax(self, axis: Optional[int] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``argmax(self, axis, keepdims)``."""
    def argmin(self, axis: Optional[int] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
        """``argmin(self, axis, keepdims)``."""
    def cumsum(self, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
        """``cumsum(self, axis, reverse=, inclusive=)``."""
    def cumprod(self, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
        """``cumprod(self, axis, reverse=, inclusive=)``."""
    def cummax(self, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
        """``cummax(self, axis, reverse=, inclusive=)``."""
    def cummin(self, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
        """``cummin(self, axis, reverse=, inclusive=)``."""
    def logcumsumexp(self, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
        """``logcumsumexp(self, axis, reverse=, inclusive=)``."""
    def diag(self, k: int = 0, *, stream: StreamOrDevice = None) -> array:
        """``diag(self, k)``."""
    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1, stream: StreamOrDevice = None) -> array:
        """``diagonal(self, offset, axis1, axis2)``."""
    def split(self, indices_or_sections: Union[int, Sequence[int]], axis: int = 0, *, stream: StreamOrDevice = None) -> list[array]:
        """``split(self, indices_or_sections, axis)``."""
    def __len__(self) -> int:
        """The size of the first dimension (``TypeError`` for a 0-d array)."""
    def __iter__(self) -> Iterator[array]:
        """Iterates over the first dimension."""
    def __bool__(self) -> bool:
        """Truth of a one-element array (``ValueError`` otherwise)."""
    def __int__(self) -> int: ...
    def __float__(self) -> float: ...
    def __complex__(self) -> complex: ...
    def __index__(self) -> int:
        """One-element integer arrays act as integers."""
    def __hash__(self) -> int:
        """Identity hash, as in MLX."""
    def __copy__(self) -> array: ...
    def __deepcopy__(self, memo: Any = None) -> array: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes, str, tuple[int, ...]]]:
        """Pickles the array as its row-major bytes, dtype name and shape (no NumPy needed)."""
    @classmethod
    def _from_bytes(cls, data: bytes, dtype: str, shape: Sequence[int]) -> array: ...
    def __add__(self, other: ArrayLike) -> array: ...
    def __radd__(self, other: ArrayLike) -> array: ...
    def __iadd__(self, other: ArrayLike) -> array: ...
    def __sub__(self, other: ArrayLike) -> array: ...
    def __rsub__(self, other: ArrayLike) -> array: ...
    def __isub__(self, other: ArrayLike) -> array: ...
    def __mul__(self, other: ArrayLike) -> array: ...
    def __rmul__(self, other: ArrayLike) -> array: ...
    def __imul__(self, other: ArrayLike) -> array: ...
    def __truediv__(self, other: ArrayLike) -> array: ...
    def __rtruediv__(self, other: ArrayLike) -> array: ...
    def __itruediv__(self, other: ArrayLike) -> array: ...
    def __floordiv__(self, other: ArrayLike) -> array: ...
    def __rfloordiv__(self, other: ArrayLike) -> array: ...
    def __ifloordiv__(self, other: ArrayLike) -> array: ...
    def __mod__(self, other: ArrayLike) -> array: ...
    def __rmod__(self, other: ArrayLike) -> array: ...
    def __imod__(self, other: ArrayLike) -> array: ...
    def __pow__(self, other: ArrayLike, modulo: None = None) -> array: ...
    def __rpow__(self, other: ArrayLike, modulo: None = None) -> array: ...
    def __ipow__(self, other: ArrayLike, modulo: None = None) -> array: ...
    def __and__(self, other: ArrayLike) -> array: ...
    def __rand__(self, other: ArrayLike) -> array: ...
    def __iand__(self, other: ArrayLike) -> array: ...
    def __or__(self, other: ArrayLike) -> array: ...
    def __ror__(self, other: ArrayLike) -> array: ...
    def __ior__(self, other: ArrayLike) -> array: ...
    def __xor__(self, other: ArrayLike) -> array: ...
    def __rxor__(self, other: ArrayLike) -> array: ...
    def __ixor__(self, other: ArrayLike) -> array: ...
    def __lshift__(self, other: ArrayLike) -> array: ...
    def __rlshift__(self, other: ArrayLike) -> array: ...
    def __ilshift__(self, other: ArrayLike) -> array: ...
    def __rshift__(self, other: ArrayLike) -> array: ...
    def __rrshift__(self, other: ArrayLike) -> array: ...
    def __irshift__(self, other: ArrayLike) -> array: ...
    def __eq__(self, other: ArrayLike) -> array: ...  # type: ignore[override]
    def __ne__(self, other: ArrayLike) -> array: ...  # type: ignore[override]
    def __lt__(self, other: ArrayLike) -> array: ...
    def __le__(self, other: ArrayLike) -> array: ...
    def __gt__(self, other: ArrayLike) -> array: ...
    def __ge__(self, other: ArrayLike) -> array: ...
    def __neg__(self) -> array: ...
    def __pos__(self) -> array: ...
    def __abs__(self) -> array: ...
    def __invert__(self) -> array:
        """Logical not for bool arrays, bitwise not for integers."""

# ----------------------------------------------------------------------------------- creation

def full(shape: ShapeLike, vals: Union[Scalar, array], dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """An array of ``shape`` filled with ``vals`` (a scalar, or an array broadcast to ``shape``),
    of ``dtype`` (the value's own when None). ``ValueError`` for an int that does not fit
    ``dtype``."""
def zeros(shape: ShapeLike, dtype: Optional[Dtype] = float32, *, stream: StreamOrDevice = None) -> array:
    """An array of zeros."""
def ones(shape: ShapeLike, dtype: Optional[Dtype] = float32, *, stream: StreamOrDevice = None) -> array:
    """An array of ones."""
def full_like(a: ArrayLike, vals: Union[Scalar, array], dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """An array shaped like ``a`` filled with ``vals``, of ``a``'s dtype unless ``dtype`` is given."""
def zeros_like(a: ArrayLike, /, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """Zeros shaped like ``a``."""
def ones_like(a: ArrayLike, /, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """Ones shaped like ``a``."""
def arange(start: Union[int, float, None] = None, stop: Union[int, float, None] = None, step: Union[int, float, None] = None, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """``start, start + step, ...`` below ``stop``; ``arange(stop)`` starts at 0. int32 when every
    argument is an int (int64 when one does not fit), else float32."""
def linspace(start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Optional[Dtype] = float32, stream: StreamOrDevice = None) -> array:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint`` is
    False)."""
def eye(n: int, m: Optional[int] = None, k: int = 0, dtype: Optional[Dtype] = float32, *, stream: StreamOrDevice = None) -> array:
    """An ``n x m`` matrix (``m = n`` when None) with ones on the ``k``-th diagonal."""
def identity(n: int, dtype: Optional[Dtype] = float32, *, stream: StreamOrDevice = None) -> array:
    """The ``n x n`` identity matrix."""

# -------------------------------------------------------------------------------- elementwise

def abs(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise absolute value (complex gives float32)."""
def negative(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise negation (not for bool arrays: use ``logical_not``)."""
def positive(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """``a`` itself."""
def sign(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise sign: -1, 0 or 1."""
def exp(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise exponential (integers give float32)."""
def expm1(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise ``exp(x) - 1``, accurate near 0."""
def log(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise natural logarithm."""
def log1p(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise ``log(1 + x)``, accurate near 0."""
def log2(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise base-2 logarithm."""
def log10(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise base-10 logarithm."""
def sqrt(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise square root."""
def rsqrt(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise reciprocal square root."""
def square(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise square."""
def reciprocal(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise reciprocal."""
def sin(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise sine."""
def cos(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise cosine."""
def tan(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise tangent."""
def arcsin(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse sine (also ``asin``)."""
def arccos(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse cosine (also ``acos``)."""
def arctan(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse tangent (also ``atan``)."""
asin = arcsin
def arcsinh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse hyperbolic sine."""
def arccosh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse hyperbolic cosine."""
def arctanh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse hyperbolic tangent."""
asinh = arcsinh
acosh = arccosh
atanh = arctanh
def trunc(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise rounding toward zero (integers unchanged; complex refused)."""
def isfinite(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """True where the element is neither infinite nor NaN."""
def isposinf(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """True where the element is ``+inf``."""
def isneginf(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """True where the element is ``-inf``."""
def degrees(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Radians to degrees (float32 for integers and bool)."""
def radians(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Degrees to radians (float32 for integers and bool)."""
def nan_to_num(a: ArrayLike, nan: float = 0.0, posinf: Optional[float] = None, neginf: Optional[float] = None, *, stream: StreamOrDevice = None) -> array:
    """NaN, ``+inf`` and ``-inf`` replaced (by default with 0 and the dtype's largest and lowest
    finite values); integers and bool unchanged; complex refused."""
acos = arccos
atan = arctan
def sinh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise hyperbolic sine."""
def cosh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise hyperbolic cosine."""
def tanh(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise hyperbolic tangent."""
def sigmoid(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise logistic sigmoid ``1 / (1 + exp(-x))``."""
def erf(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise error function."""
def erfinv(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise inverse error function."""
def floor(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise floor."""
def ceil(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise ceiling."""
def round(a: ArrayLike, /, decimals: int = 0, stream: StreamOrDevice = None) -> array:
    """Elementwise rounding to ``decimals`` decimal places, half to even."""
def logical_not(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise logical not (nonzero is True)."""
def isnan(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """True where the element is NaN."""
def isinf(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """True where the element is infinite."""
def bitwise_invert(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise bitwise not of integer or bool arrays."""

def add(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a + b`` with broadcasting and MLX's type promotion."""
def subtract(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a - b``."""
def multiply(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a * b``."""
def divide(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise true division (integers divide as float32)."""
def floor_divide(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a // b``."""
def remainder(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a % b``, with the sign of ``b`` (Python's ``%``)."""
def divmod(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> tuple[array, array]:
    """``(a // b, a % b)``."""
def power(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a ** b`` (also ``pow``)."""
pow = power
def maximum(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise maximum."""
def minimum(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise minimum."""
def arctan2(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``arctan(a / b)`` with the quadrant from both signs (also ``atan2``)."""
atan2 = arctan2
def logaddexp(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``log(exp(a) + exp(b))``, computed stably."""
def equal(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a == b``."""
def not_equal(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a != b``."""
def less(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a < b``."""
def less_equal(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a <= b``."""
def greater(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a > b``."""
def greater_equal(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a >= b``."""
def logical_and(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise logical and (nonzero is True)."""
def logical_or(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise logical or."""
def logical_xor(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise logical xor."""
def bitwise_and(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise bitwise and of integer or bool arrays."""
def bitwise_or(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise bitwise or."""
def bitwise_xor(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise bitwise xor."""
def left_shift(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a << b`` of integer arrays (also ``bitwise_left_shift``)."""
def right_shift(a: ArrayLike, b: ArrayLike, stream: StreamOrDevice = None) -> array:
    """Elementwise ``a >> b`` of integer arrays (also ``bitwise_right_shift``)."""
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift
def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """Elementwise ``x`` where ``condition`` is True, else ``y``; the three broadcast together and
    Python scalars take the other operand's dtype."""
def astype(a: ArrayLike, dtype: Dtype, /, *, stream: StreamOrDevice = None) -> array:
    """``a`` converted to ``dtype``."""
def contiguous(a: ArrayLike, /, allow_col_major: bool = False, *, stream: StreamOrDevice = None) -> array:
    """A row-contiguous copy of ``a`` (``allow_col_major`` is accepted and ignored)."""

# ------------------------------------------------------------------------------------- shapes

def reshape(a: ArrayLike, /, shape: ShapeLike, *, stream: StreamOrDevice = None) -> array:
    """``a`` with shape ``shape``; one entry may be -1. A view when the layout allows."""
def flatten(a: ArrayLike, /, start_axis: int = 0, end_axis: int = -1, *, stream: StreamOrDevice = None) -> array:
    """Dimensions ``start_axis..=end_axis`` merged into one."""
def transpose(a: ArrayLike, /, axes: Optional[Sequence[int]] = None, *, stream: StreamOrDevice = None) -> array:
    """The dimensions permuted: output dim ``i`` is input dim ``axes[i]`` (reversed when None;
    also ``permute_dims``)."""
permute_dims = transpose
def swapaxes(a: ArrayLike, /, axis1: int, axis2: int, *, stream: StreamOrDevice = None) -> array:
    """Two dimensions swapped."""
def moveaxis(a: ArrayLike, /, source: int, destination: int, *, stream: StreamOrDevice = None) -> array:
    """A dimension moved from ``source`` to ``destination``."""
def expand_dims(a: ArrayLike, /, axis: ShapeLike, *, stream: StreamOrDevice = None) -> array:
    """Size-1 dimensions inserted at ``axis`` (positions in the output)."""
def squeeze(a: ArrayLike, /, axis: Union[int, Sequence[int], None] = None, *, stream: StreamOrDevice = None) -> array:
    """Size-1 dimensions removed (those in ``axis``, or all)."""
def broadcast_to(a: ArrayLike, /, shape: ShapeLike, *, stream: StreamOrDevice = None) -> array:
    """``a`` broadcast to ``shape`` (a view, no copy)."""
def broadcast_arrays(*arrays: ArrayLike, stream: StreamOrDevice = None) -> list[array]:
    """The arrays broadcast to their common shape."""
def broadcast_shapes(*shapes: ShapeLike) -> list[int]:
    """The shape that ``shapes`` broadcast to."""
def slice(a: ArrayLike, start_indices: Union[array, Sequence[int]], axes: Sequence[int], slice_size: Sequence[int], *, stream: StreamOrDevice = None) -> array:
    """The window of ``a`` of size ``slice_size`` (one entry per dimension) starting at
    ``start_indices`` along ``axes`` (at 0 along the others). An array of starts is read on the
    host (which evaluates it); a window that does not fit raises ``ValueError``."""

# ---------------------------------------------------------------------------------- reductions

Axes = Union[int, Sequence[int], None]

def sum(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The sum over ``axis`` (every axis when None; ``ValueError`` naming the op and the shape for
    a bad axis). bool and 8/16-bit integers sum in (u)int32; float sums are pairwise."""
def prod(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The product over ``axis`` (every axis when None); dtypes as ``sum``."""
def max(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The largest element over ``axis`` (NaN if any is NaN); an empty axis raises ``ValueError``."""
def min(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The smallest element over ``axis`` (NaN if any is NaN); an empty axis raises ``ValueError``."""
def all(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """True where every element over ``axis`` is nonzero."""
def any(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """True where some element over ``axis`` is nonzero."""
def mean(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The mean over ``axis``; integers and bool give float32."""
def logsumexp(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """``log(sum(exp(a)))`` over ``axis``, computed stably (the max subtracted first)."""
def var(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, ddof: int = 0, *, stream: StreamOrDevice = None) -> array:
    """The variance over ``axis``: ``sum(|x - mean|^2) / (N - ddof)``, in two passes."""
def std(a: ArrayLike, /, axis: Axes = None, keepdims: bool = False, ddof: int = 0, *, stream: StreamOrDevice = None) -> array:
    """The standard deviation over ``axis``: the square root of ``var``."""
def argmax(a: ArrayLike, /, axis: Optional[int] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The index (uint32) of the first largest element along ``axis`` (of the flattened array
    when None); NaN counts as largest."""
def argmin(a: ArrayLike, /, axis: Optional[int] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The index (uint32) of the first smallest element along ``axis`` (of the flattened array
    when None); NaN counts as smallest."""
def cumsum(a: ArrayLike, /, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, dtype: Optional[Dtype] = None, stream: StreamOrDevice = None) -> array:
    """Running sums along ``axis`` (of the flattened array when None). ``reverse`` scans from the
    end; ``inclusive=False`` leaves each element's own value out (the first output is 0);
    ``dtype`` converts the input first. bool gives int32."""
def cumprod(a: ArrayLike, /, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, dtype: Optional[Dtype] = None, stream: StreamOrDevice = None) -> array:
    """Running products along ``axis``; arguments as ``cumsum``."""
def cummax(a: ArrayLike, /, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, dtype: Optional[Dtype] = None, stream: StreamOrDevice = None) -> array:
    """Running maxima along ``axis``; arguments as ``cumsum``."""
def cummin(a: ArrayLike, /, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, dtype: Optional[Dtype] = None, stream: StreamOrDevice = None) -> array:
    """Running minima along ``axis``; arguments as ``cumsum``."""
def softmax(a: ArrayLike, /, axis: Axes = None, *, precise: bool = False, stream: StreamOrDevice = None) -> array:
    """``exp(a - max) / sum(exp(a - max))`` over ``axis`` (every axis when None). Integers give
    float32. ``precise`` is accepted; the CPU always accumulates in float32 or wider."""

# ------------------------------------------------------------------------- products, compares

def matmul(a: ArrayLike, b: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """The matrix product (``a @ b``): 1-D operands are a row (left) or column (right) vector,
    leading dims broadcast as batch dims. Integer and bool operands raise ``ValueError``."""
def addmm(c: ArrayLike, a: ArrayLike, b: ArrayLike, /, alpha: float = 1.0, beta: float = 1.0, *, stream: StreamOrDevice = None) -> array:
    """``alpha * (a @ b) + beta * c``, ``c`` broadcast to the product's shape."""
def quantize(w: array, /, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "affine", *, global_scale: Optional[array] = None, stream: StreamOrDevice = None) -> Union[tuple[array, array, array], tuple[array, array]]:
    """Affine quantization by groups of ``group_size`` (32, 64 default, 128) of each row, in
    ``bits`` (1, 2, 3, 4 default, 5, 6, 8): ``(w_q, scales, biases)``, packed as MLX packs them.
    The microscaling float modes give ``(w_q, scales)`` with uint8 scales: ``"mxfp4"`` (e2m1
    elements, groups of 32, e8m0 scales), ``"mxfp8"`` (e4m3, 32, e8m0) and ``"nvfp4"`` (e2m1,
    16, e4m3 scales over an optional float32 ``global_scale``)."""
def dequantize(w: array, /, scales: array, biases: Optional[array] = None, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "affine", global_scale: Optional[array] = None, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """``scales * q + biases`` per group of the packed ``w``, in ``dtype`` (default the scales');
    in the float modes, the element values times the decoded scales (default dtype bfloat16)."""
def quantized_matmul(x: array, w: array, /, scales: array, biases: Optional[array] = None, transpose: bool = True, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "affine", *, stream: StreamOrDevice = None) -> array:
    """``x @ dequantize(w).T`` (``x @ dequantize(w)`` when not ``transpose``)."""
def gather_qmm(x: array, w: array, /, scales: array, biases: Optional[array] = None, lhs_indices: Optional[array] = None, rhs_indices: Optional[array] = None, transpose: bool = True, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "affine", global_scale: Optional[array] = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array:
    """``gather_mm`` of ``x`` with the quantized matrices of ``w``."""
def matrix_norm(a: array, /, ord: Union[None, int, float, str] = None, axis: Union[None, int, Sequence[int]] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """``linalg.norm`` under the name MLX also gives it at the top level."""
def qqmm(x: array, w: array, scales: Optional[array] = None, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "nvfp4", global_scale_x: Optional[array] = None, global_scale_w: Optional[array] = None, *, stream: StreamOrDevice = None) -> array:
    """``x @ w.T`` with ``x`` quantized on the fly in a float mode (nvfp4, mxfp8, mxfp4) and
    ``w`` packed (with ``scales``) or quantized on the fly; the result has ``x``'s dtype."""
def gather_qqmm(x: array, w: array, /, scales: Optional[array] = None, lhs_indices: Optional[array] = None, rhs_indices: Optional[array] = None, group_size: Optional[int] = None, bits: Optional[int] = None, mode: str = "nvfp4", global_scale_x: Optional[array] = None, global_scale_w: Optional[array] = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array:
    """``qqmm`` of the matrices of ``x`` and ``w`` picked by flat batch indices."""
def gather_mm(a: array, b: array, /, lhs_indices: Optional[array] = None, rhs_indices: Optional[array] = None, *, sorted_indices: bool = False, stream: StreamOrDevice = None) -> array:
    """Matmul of the matrices of ``a`` and ``b`` picked by flat indices into their batch axes;
    the index arrays broadcast together into the result's batch shape."""
def segmented_mm(a: array, b: array, /, segments: array, *, stream: StreamOrDevice = None) -> array:
    """``a[:, s:e] @ b[s:e]`` for each ``(s, e)`` of ``segments`` (shape ``(..., 2)``)."""
def block_masked_mm(a: array, b: array, /, block_size: int = 64, mask_out: Optional[array] = None, mask_lhs: Optional[array] = None, mask_rhs: Optional[array] = None, *, stream: StreamOrDevice = None) -> array:
    """Matmul with ``block_size`` (32 or 64) square blocks of the operands and the result
    zeroed (boolean masks) or scaled (numeric masks)."""
def hadamard_transform(a: array, scale: Optional[float] = None, stream: StreamOrDevice = None) -> array:
    """The Walsh-Hadamard transform along the last axis (n = m * 2^k, m in 1, 12, 20, 28),
    times ``scale`` (default ``1 / sqrt(n)``)."""
def to_fp8(x: array, *, stream: StreamOrDevice = None) -> array:
    """float8 e4m3 codes (uint8): round to nearest even, saturating at +-448 (NaN too)."""
def from_fp8(x: array, dtype: Dtype = ..., *, stream: StreamOrDevice = None) -> array:
    """Decodes float8 e4m3 codes (uint8) to ``dtype`` (default bfloat16)."""
def isclose(a: ArrayLike, b: ArrayLike, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: bool = False, stream: StreamOrDevice = None) -> array:
    """Where ``|a - b| <= atol + rtol * |b|`` (infinities close only to the same infinity; NaN to
    nothing unless ``equal_nan``)."""
def allclose(a: ArrayLike, b: ArrayLike, /, rtol: float = 1e-05, atol: float = 1e-08, *, equal_nan: bool = False, stream: StreamOrDevice = None) -> array:
    """True (a 0-d bool array) when every element is ``isclose``."""
def array_equal(a: ArrayLike, b: ArrayLike, equal_nan: bool = False, stream: StreamOrDevice = None) -> array:
    """True (a 0-d bool array) when ``a`` and ``b`` have the same shape and equal elements
    (different shapes give False); with ``equal_nan``, NaNs in the same places are equal."""
def clip(a: ArrayLike, /, a_min: Optional[ArrayLike], a_max: Optional[ArrayLike], *, stream: StreamOrDevice = None) -> array:
    """``a`` limited to ``[a_min, a_max]`` (either may be None, not both): ``minimum(maximum(a,
    a_min), a_max)``."""

# ------------------------------------------------------------------------------ data movement

def concatenate(arrays: Sequence[ArrayLike], axis: Optional[int] = 0, *, stream: StreamOrDevice = None) -> array:
    """The arrays joined along ``axis`` (all flattened first when None); shapes must match on the
    other dims (``ValueError`` listing them); dtypes promote."""
def concat(arrays: Sequence[ArrayLike], axis: Optional[int] = 0, *, stream: StreamOrDevice = None) -> array:
    """``concatenate``."""
def stack(arrays: Sequence[ArrayLike], axis: int = 0, *, stream: StreamOrDevice = None) -> array:
    """Arrays of one shape joined along a new axis ``axis``."""
def split(a: ArrayLike, /, indices_or_sections: Union[int, Sequence[int]], axis: int = 0, *, stream: StreamOrDevice = None) -> list[array]:
    """Views of parts of ``a`` along ``axis``: ``n`` equal parts (``ValueError`` unless the axis
    divides evenly), or parts starting at the given indices (``[i, j]``: ``a[:i]``, ``a[i:j]``,
    ``a[j:]``)."""
def pad(a: ArrayLike, pad_width: Union[int, tuple[int], tuple[int, int], Sequence[tuple[int, int]]], mode: Literal["constant", "edge", "reflect", "symmetric"] = "constant", constant_values: Union[Scalar, array] = 0, *, stream: StreamOrDevice = None) -> array:
    """``a`` padded with ``constant_values`` (a scalar or one-element array, cast to ``a``'s
    dtype): ``pad_width`` is ``n``, ``(n,)`` or ``(before, after)`` for every dim, or one
    ``(before, after)`` per dim. ``mode="edge"``, ``"reflect"`` and ``"symmetric"`` fill from
    ``a``'s own values instead, as NumPy's do (widths past a dim's length repeat the pattern)."""
def tile(a: ArrayLike, reps: ShapeLike, /, *, stream: StreamOrDevice = None) -> array:
    """``a`` repeated ``reps[d]`` times along each dim (NumPy's ``tile``)."""
def repeat(array: ArrayLike, repeats: int, axis: Optional[int] = None, *, stream: StreamOrDevice = None) -> array:
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened array when None)."""
def take(a: ArrayLike, /, indices: Union[int, ArrayLike], axis: Optional[int] = None, *, stream: StreamOrDevice = None) -> array:
    """Elements at ``indices`` (any integer dtype; negatives count from the end) along ``axis``
    (of the flattened array when None): shape ``a.shape[:axis] + indices.shape +
    a.shape[axis+1:]``. An index out of range raises ``RuntimeError`` when evaluated."""
def take_along_axis(a: ArrayLike, /, indices: ArrayLike, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """NumPy's ``take_along_axis``: ``indices`` has ``a``'s number of dims and broadcasts with it
    off ``axis``."""
def put_along_axis(a: ArrayLike, /, indices: ArrayLike, values: ArrayLike, axis: Optional[int] = None, *, stream: StreamOrDevice = None) -> array:
    """A copy of ``a`` with ``values`` written at ``indices`` along ``axis`` (NumPy's
    ``put_along_axis``, returning the result); repeated indices: the last write wins."""
def partition(a: ArrayLike, /, kth: int, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """``a`` arranged along ``axis`` so the element at ``kth`` is in its sorted place, none larger
    before it and none smaller after it."""
def argpartition(a: ArrayLike, /, kth: int, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """The indices (uint32) that ``partition`` ``a``."""
def searchsorted(sorted_sequence: ArrayLike, values: ArrayLike, /, side: Literal["left", "right"] = "left", *, stream: StreamOrDevice = None) -> array:
    """Insertion points (uint32) of ``values`` into the 1-D ascending ``sorted_sequence``."""
def sort(a: ArrayLike, /, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """``a`` sorted ascending along ``axis`` (flattened when None); NaN last; stable."""
def argsort(a: ArrayLike, /, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """The indices (uint32) that sort ``a`` along ``axis``; stable."""
def topk(a: ArrayLike, /, k: int, axis: Optional[int] = -1, *, stream: StreamOrDevice = None) -> array:
    """The ``k`` largest elements along ``axis``, in ascending order (``ValueError`` when ``k`` is
    larger than the axis)."""

# ---------------------------------------------------------------- structure and products

def tri(n: int, m: Optional[int] = None, k: int = 0, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """An ``n x m`` matrix with ones on and below the ``k``-th diagonal (float32 by default)."""
def tril(x: ArrayLike, k: int = 0, *, stream: StreamOrDevice = None) -> array:
    """``x`` with the elements above the ``k``-th diagonal of its last two dims zeroed."""
def triu(x: ArrayLike, k: int = 0, *, stream: StreamOrDevice = None) -> array:
    """``x`` with the elements below the ``k``-th diagonal of its last two dims zeroed."""
def diag(a: ArrayLike, /, k: int = 0, *, stream: StreamOrDevice = None) -> array:
    """A 1-D ``a`` as a matrix with ``a`` on the ``k``-th diagonal; the ``k``-th diagonal of a 2-D ``a``."""
def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1, stream: StreamOrDevice = None) -> array:
    """The ``offset``-th diagonal of the planes ``axis1, axis2``, as a new last axis."""
def trace(a: ArrayLike, /, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Optional[Dtype] = None, *, stream: StreamOrDevice = None) -> array:
    """The sum along a diagonal, summed as ``sum`` sums, converted to ``dtype`` when given."""
def matrix_transpose(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """``a`` with its last two axes swapped."""
def outer(a: ArrayLike, b: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """The outer product of the flattened ``a`` and ``b``."""
def inner(a: ArrayLike, b: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """The sum of products over the last axes (inexact dtypes, as ``matmul``)."""
def kron(a: ArrayLike, b: ArrayLike, *, stream: StreamOrDevice = None) -> array:
    """The Kronecker product."""
def tensordot(a: ArrayLike, b: ArrayLike, /, axes: Union[int, Sequence[Sequence[int]]] = 2, *, stream: StreamOrDevice = None) -> array:
    """The sum of products over the last ``axes`` axes of ``a`` and first of ``b``, or the paired axes."""
def vecdot(a: ArrayLike, b: ArrayLike, /, *, axis: int = -1, stream: StreamOrDevice = None) -> array:
    """``sum(conj(a) * b, axis)`` after broadcasting."""
def flip(a: ArrayLike, /, axis: Union[int, Sequence[int], None] = None, *, stream: StreamOrDevice = None) -> array:
    """``a`` reversed along ``axis`` (every axis when None)."""
def roll(a: ArrayLike, shift: Union[int, Sequence[int]], axis: Union[int, Sequence[int], None] = None, *, stream: StreamOrDevice = None) -> array:
    """``a`` shifted along ``axis`` with wrap-around (the flattened array when None)."""
def meshgrid(*arrays: ArrayLike, sparse: bool = False, indexing: Literal["xy", "ij"] = "xy", stream: StreamOrDevice = None) -> tuple[array, ...]:
    """Coordinate arrays from coordinate vectors."""
def unflatten(a: ArrayLike, /, axis: int, shape: Sequence[int], *, stream: StreamOrDevice = None) -> array:
    """``a`` with ``axis`` split into ``shape`` (one entry may be -1)."""
def unstack(x: ArrayLike, /, *, axis: int = 0, stream: StreamOrDevice = None) -> tuple[array, ...]:
    """The slices of ``x`` along ``axis``."""
def atleast_1d(*arys: ArrayLike, stream: StreamOrDevice = None) -> Union[array, list[array]]:
    """Each array with at least one dim (one array for one argument, else a list)."""
def atleast_2d(*arys: ArrayLike, stream: StreamOrDevice = None) -> Union[array, list[array]]:
    """Each array with at least two dims (``(k)`` becomes ``(1, k)``)."""
def atleast_3d(*arys: ArrayLike, stream: StreamOrDevice = None) -> Union[array, list[array]]:
    """Each array with at least three dims (``(k)`` becomes ``(1, k, 1)``)."""
def diff(a: ArrayLike, /, n: int = 1, axis: int = -1, *, stream: StreamOrDevice = None) -> array:
    """The ``n``-th discrete difference along ``axis`` (``!=`` for bool)."""
def count_nonzero(a: ArrayLike, /, *, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, stream: StreamOrDevice = None) -> array:
    """How many elements over ``axis`` are nonzero (int32)."""
def median(a: ArrayLike, /, axis: Union[int, Sequence[int], None] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> array:
    """The median over ``axis`` (float32 for integers and bool; NaN for lines with NaN)."""
def logcumsumexp(a: ArrayLike, /, axis: Optional[int] = None, *, reverse: bool = False, inclusive: bool = True, stream: StreamOrDevice = None) -> array:
    """``log(cumsum(exp(a)))`` along ``axis``, computed stably (complex refused)."""
cumulative_sum = cumsum
cumulative_prod = cumprod
def asarray(a: ArrayLike, dtype: Optional[Dtype] = None, *, copy: Optional[bool] = None) -> array:
    """``a`` as an array of ``dtype``, as ``array(a, dtype)``."""
empty = zeros
empty_like = zeros_like
def bartlett(M: int, *, stream: StreamOrDevice = None) -> array:
    """The Bartlett window of ``M`` points (float32)."""
def blackman(M: int, *, stream: StreamOrDevice = None) -> array:
    """The Blackman window of ``M`` points (float32)."""
def hamming(M: int, *, stream: StreamOrDevice = None) -> array:
    """The Hamming window of ``M`` points (float32)."""
def hanning(M: int, *, stream: StreamOrDevice = None) -> array:
    """The Hann window of ``M`` points (float32)."""

# ------------------------------------------------------------------------------------ capture

def start_capture(path: Optional[str] = None) -> None:
    """Starts recording every op that runs, on every stream; ``stop_capture`` writes the Chrome
    trace-event JSON to ``path`` (None: nothing written). ``ValueError`` if one is running."""
def stop_capture() -> dict[str, Any]:
    """Stops recording, writes the trace file (when a path was given) and returns the summary:
    ``capture_us``, ``span_us``, ``ops``; ``streams``: a dict per stream (``stream`` index,
    ``device`` like ``"cpu:0"``, ``ops``, ``errors``, ``first_us``, ``last_us``, ``busy_us``,
    ``idle_us``, ``wait_us``, ``utilization``); ``overlaps``: a dict per pair of streams (``a``,
    ``b``, ``both_busy_us``, ``fraction`` of the shorter busy time); ``waits``: every
    cross-stream wait; ``host``: a dict per thread that worked outside the streams, such as
    ``rill.data``'s prefetch workers (``lane``, the thread's name; ``spans``; ``busy_us``;
    ``with_streams_us``, the part of it while a stream was busy too). Ops still running are not
    in it. ``ValueError`` if none is running."""

def grad(fun: Callable[..., Any], argnums: Union[int, Sequence[int], None] = None, argnames: Union[str, Sequence[str]] = []) -> Callable[..., Any]:
    """A function returning the gradient of ``fun`` (which returns a scalar array) with respect to
    the arguments ``argnums`` (default 0) and keyword arguments ``argnames``, in the structure of
    those arguments (nested lists, tuples and dicts of arrays): one gradient for one argument,
    else a tuple; with ``argnames``, ``(positional gradients or None, {name: gradient})``.
    Differentiating with respect to an integer or bool array is a ``ValueError``."""

def compile(fun: Callable[..., Any], inputs: Any = None, outputs: Any = None, shapeless: bool = False) -> Callable[..., Any]:
    """``fun`` traced once per signature (argument structure, shapes, dtypes, other values,
    default stream) and replayed for later calls without running it; ``inputs``/``outputs``:
    captured state read on every call and written back after it. ``fun`` must not evaluate its
    own results (``ValueError``)."""

class ArrayAt:
    """``a.at`` and ``a.at[index]``: out-of-place updates that apply every update at a repeated
    index."""
    def __getitem__(self, index: Any) -> "ArrayAt": ...
    def add(self, values: Any) -> array: ...
    def subtract(self, values: Any) -> array: ...
    def multiply(self, values: Any) -> array: ...
    def divide(self, values: Any) -> array: ...
    def maximum(self, values: Any) -> array: ...
    def minimum(self, values: Any) -> array: ...

def vmap(fun: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0) -> Callable[..., Any]:
    """``fun`` mapped over an axis of its inputs (``in_axes``: an int, None, or a tree of them
    matching the arguments; ``out_axes`` likewise for the outputs), as one batched computation."""

class custom_function:
    """``fun`` with its own ``vjp``, ``jvp`` and ``vmap`` rules, set with the decorators of the
    same names; calls behave as ``fun``."""
    def __init__(self, fun: Callable[..., Any]) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def vjp(self, rule: Callable[..., Any]) -> Callable[..., Any]: ...
    def jvp(self, rule: Callable[..., Any]) -> Callable[..., Any]: ...
    def vmap(self, rule: Callable[..., Any]) -> Callable[..., Any]: ...

def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun``, whose gradient recomputes it instead of keeping its intermediate arrays."""

def export_function(file_or_callback: Union[str, "os.PathLike[str]"], fun: Callable[..., Any], *args: array, shapeless: bool = False, metadata: Optional[str] = None, **kwargs: array) -> None:
    """Traces ``fun`` at the example arrays (positional and keyword arrays, or one tuple and/or
    dict of them) and writes it to the file, in rill's own format (MLX cannot read it, nor rill
    MLX's ``.mlxfn``). The file name is used as given. Steps holding host code
    (``custom_function``, ``checkpoint``) or a CUDA kernel cannot be exported (``ValueError``).
    ``shapeless=True`` is stored, but a trace replays only at its own shapes."""

def import_function(file: Union[str, "os.PathLike[str]"], return_metadata: bool = False) -> Union[Callable[..., tuple[array, ...]], tuple[Callable[..., tuple[array, ...]], str]]:
    """The function exported to ``file``; calling it with arrays of an exported signature
    returns a tuple of arrays (another signature: ``ValueError`` listing the file's traces).
    A file that is missing, not rill's, truncated, corrupt or from a newer rill:
    ``RuntimeError`` naming it. With ``return_metadata``, ``(function, metadata string)``."""

class FunctionExporter:
    """Exports several traces of one function to a file (make one with ``exporter``); each
    call adds a trace and rewrites the file; a context manager, closed on exit."""
    def __call__(self, *args: array, **kwargs: array) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "FunctionExporter": ...
    def __exit__(self, *exc: Any) -> None: ...

def exporter(file: Union[str, "os.PathLike[str]"], fun: Callable[..., Any], *, shapeless: bool = False, metadata: Optional[str] = None) -> FunctionExporter:
    """A ``FunctionExporter`` writing the traces of ``fun`` to ``file``."""

def disable_compile() -> None:
    """Makes compiled functions run their Python function on every call, until ``enable_compile``."""

def enable_compile() -> None:
    """Undoes ``disable_compile``."""

def value_and_grad(fun: Callable[..., Any], argnums: Union[int, Sequence[int], None] = None, argnames: Union[str, Sequence[str]] = []) -> Callable[..., tuple[Any, Any]]:
    """Like ``grad``, returning ``(fun(...), gradients)``; ``fun`` may return a tuple whose first
    element is the scalar to differentiate (the rest is returned as it is)."""

def vjp(fun: Callable[..., Any], primals: list[array], cotangents: list[array]) -> tuple[list[array], list[array]]:
    """``(outputs of fun(*primals), the cotangents' vector-Jacobian products per primal)``."""

def jvp(fun: Callable[..., Any], primals: list[array], tangents: list[array]) -> tuple[list[array], list[array]]:
    """``(outputs of fun(*primals), the Jacobian-vector products with the tangents per output)``."""

def stop_gradient(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """``a``'s values; transforms treat the result as a constant (no gradient flows through)."""

class capture:
    """``with mx.capture(path) as c:`` starts a capture; leaving the block waits for submitted
    work (``synchronize()``), stops it, writes ``path`` (when given) and sets ``c.summary`` to
    ``stop_capture()``'s dict."""

    path: Optional[str]
    summary: Optional[dict[str, Any]]
    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None) -> None: ...
    def __enter__(self) -> capture: ...
    def __exit__(self, *args: Any) -> bool: ...

from . import fast as fast
from . import fft as fft
from . import linalg as linalg
from . import random as random


# ---- issue 10: complex parts, reinterpretation, einsum, convolutions, printing

def real(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """The real part of ``a`` (float32 for complex64; other arrays unchanged)."""
def imag(a: ArrayLike, /, *, stream: StreamOrDevice = None) -> array:
    """The imaginary part of ``a`` (float32 for complex64; zeros of ``a``'s dtype otherwise)."""
def conjugate(a: ArrayLike, *, stream: StreamOrDevice = None) -> array:
    """The elementwise complex conjugate (real arrays unchanged)."""
def conj(a: ArrayLike, *, stream: StreamOrDevice = None) -> array:
    """Alias of ``conjugate``."""
def view(a: ArrayLike, dtype: Dtype, stream: StreamOrDevice = None) -> array:
    """``a``'s bytes read as ``dtype``; the last axis rescales when the sizes differ."""
def as_strided(a: ArrayLike, /, shape: Optional[Sequence[int]] = None, strides: Optional[Sequence[int]] = None, offset: int = 0, *, stream: StreamOrDevice = None) -> array:
    """Elements at ``offset + sum(i * strides)`` of ``a`` taken as row-contiguous."""
def slice_update(a: ArrayLike, update: ArrayLike, start_indices: ArrayLike, axes: Sequence[int], *, stream: StreamOrDevice = None) -> array:
    """A copy of ``a`` with ``update`` written at the offsets ``start_indices`` along ``axes``."""
def unique(a: ArrayLike, /, size: int, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False, fill_value: Optional[ArrayLike] = None, *, stream: StreamOrDevice = None) -> Union[array, tuple[array, ...]]:
    """The ``size`` smallest distinct values of ``a`` flattened (padded with ``fill_value``)."""
def minmax(a: ArrayLike, /, axis: Union[None, int, Sequence[int]] = None, keepdims: bool = False, *, stream: StreamOrDevice = None) -> tuple[array, array]:
    """``(min, max)`` over ``axis``."""
def einsum(subscripts: str, *operands: ArrayLike, stream: StreamOrDevice = None) -> array:
    """The Einstein summation ``subscripts`` over ``operands``."""
def einsum_path(subscripts: str, *operands: ArrayLike) -> tuple[list[tuple[int, ...]], str]:
    """The contraction order ``einsum`` uses and a summary of its cost."""
def conv1d(input: array, weight: array, /, stride: int = 1, padding: int = 0, dilation: int = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """1-D convolution, input ``(N, L, C_in)``, weight ``(C_out, K, C_in / groups)``."""
def conv2d(input: array, weight: array, /, stride: Union[int, tuple[int, int]] = 1, padding: Union[int, tuple[int, int]] = 0, dilation: Union[int, tuple[int, int]] = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """2-D convolution, input ``(N, H, W, C_in)``, weight ``(C_out, KH, KW, C_in / groups)``."""
def conv3d(input: array, weight: array, /, stride: Union[int, tuple[int, int, int]] = 1, padding: Union[int, tuple[int, int, int]] = 0, dilation: Union[int, tuple[int, int, int]] = 1, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """3-D convolution, input ``(N, D, H, W, C_in)``, weight ``(C_out, KD, KH, KW, C_in / groups)``."""
def conv_transpose1d(input: array, weight: array, /, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """1-D transposed convolution."""
def conv_transpose2d(input: array, weight: array, /, stride: Union[int, tuple[int, int]] = 1, padding: Union[int, tuple[int, int]] = 0, dilation: Union[int, tuple[int, int]] = 1, output_padding: Union[int, tuple[int, int]] = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """2-D transposed convolution."""
def conv_transpose3d(input: array, weight: array, /, stride: Union[int, tuple[int, int, int]] = 1, padding: Union[int, tuple[int, int, int]] = 0, dilation: Union[int, tuple[int, int, int]] = 1, output_padding: Union[int, tuple[int, int, int]] = 0, groups: int = 1, *, stream: StreamOrDevice = None) -> array:
    """3-D transposed convolution."""
def conv_general(input: array, weight: array, /, stride: Union[int, Sequence[int]] = 1, padding: Union[int, Sequence[int], tuple[Sequence[int], Sequence[int]]] = 0, kernel_dilation: Union[int, Sequence[int]] = 1, input_dilation: Union[int, Sequence[int]] = 1, groups: int = 1, flip: bool = False, *, stream: StreamOrDevice = None) -> array:
    """General convolution with per-dim stride, (low, high) padding, kernel and input dilation."""
def convolve(a: ArrayLike, v: ArrayLike, /, mode: str = "full", *, stream: StreamOrDevice = None) -> array:
    """NumPy's discrete convolution of two 1-D arrays ("full", "same" or "valid")."""

class PrintOptions:
    """How arrays print: ``precision``, the decimals of floats (-1: six significant digits)."""
    @property
    def precision(self) -> int: ...

def set_printoptions(precision: int = -1) -> None:
    """Sets the decimals of printed floats for the process (-1: the default format)."""
def get_printoptions() -> PrintOptions:
    """The options arrays print with now."""
def printoptions(precision: int = -1) -> Any:
    """A context manager printing with ``precision`` decimals inside its block."""
