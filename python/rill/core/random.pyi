"""``rill.core.random``: random numbers from counter-based keys, with MLX's API.

A key is a uint32 array of shape [2]; every draw is a pure function of its key, so a key gives
the same numbers on every stream and thread. ``split``, ``uniform`` and ``bernoulli`` give MLX's
numbers bit for bit for a given key. Without a key, draws take the next key of a process-wide
sequence that ``seed`` restarts.
"""

from collections.abc import Sequence
from typing import Optional, Union

from . import Dtype, StreamOrDevice, array

Scalar = Union[bool, int, float]

def seed(seed: int) -> None:
    """Restarts the global key sequence from ``seed``."""
def key(seed: int) -> array:
    """The key of ``seed``: uint32 ``[seed >> 32, seed & 0xffffffff]``."""
def split(key: array, num: int = 2, stream: StreamOrDevice = None) -> array:
    """``num`` new keys from ``key``: the rows of a uint32 array of shape ``[num, 2]``."""
def uniform(low: Union[Scalar, array] = 0, high: Union[Scalar, array] = 1, shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Uniform draws from ``[low, high)`` of ``shape`` in ``dtype`` (float32 by default; float16
    and bfloat16 too). Array bounds broadcast to ``shape``; scalar bounds need ``low < high``."""
def normal(shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., loc: Union[Scalar, array, None] = None, scale: Union[Scalar, array, None] = None, key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Normal draws with mean ``loc`` (0) and standard deviation ``scale`` (1), of ``shape`` in
    the float ``dtype``. Array ``loc``/``scale`` broadcast to ``shape`` (then the values are
    ``loc + scale * normal(0, 1)``, statistically MLX's but not bit for bit)."""
def randint(low: Union[int, array], high: Union[int, array], shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Uniform integers from ``[low, high)`` of ``shape`` in the integer ``dtype`` (int32), exact
    for any bounds. Bounds are ints or one-element arrays (larger arrays raise ``ValueError``)."""
def bernoulli(p: Union[Scalar, array] = 0.5, shape: Optional[Sequence[int]] = None, key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """True with probability ``p`` (a scalar in [0, 1], or a float array broadcast to
    ``shape``), of ``shape`` (``p``'s shape when None)."""
def truncated_normal(lower: Union[Scalar, array], upper: Union[Scalar, array], shape: Optional[Sequence[int]] = None, dtype: Optional[Dtype] = ..., key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Normal draws truncated to ``[lower, upper]`` (scalars or one-element arrays; infinite
    bounds allowed), of ``shape`` (``[]`` when None) in ``dtype`` (float32)."""
def categorical(logits: array, axis: int = -1, shape: Optional[Sequence[int]] = None, num_samples: Optional[int] = None, key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Samples (uint32) from the categorical distributions whose unnormalized log-probabilities
    lie along ``axis`` of ``logits``. The result has ``logits``'s shape without ``axis``;
    ``shape`` asks for a shape that it broadcasts to, ``num_samples`` for that many samples per
    distribution in a new last dim (not both: ``ValueError``)."""
def gumbel(shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Gumbel draws ``-log(-log(u))`` of ``shape`` in ``dtype`` (float32; float16, bfloat16)."""
def laplace(shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., loc: float = 0.0, scale: float = 1.0, key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Laplace draws with location ``loc`` and scale ``scale`` in the float ``dtype``."""
def permutation(x: Union[int, array], axis: int = 0, key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """``x`` shuffled along ``axis``; for an int, ``arange(x)`` shuffled (uint32)."""
def multivariate_normal(mean: array, cov: array, shape: Sequence[int] = [], dtype: Optional[Dtype] = ..., key: Optional[array] = None, stream: StreamOrDevice = None) -> array:
    """Jointly normal draws with ``mean`` ``(..., n)`` and covariance ``cov`` ``(..., n, n)``; float32."""
