"""``rill.core.fft``: discrete Fourier transforms with MLX's API.

Real inputs compute in float32 and complex ones in complex64 (float64 too, as MLX); results are
complex64, except ``irfft*`` (float32). ``n``/``s`` crop or zero-pad the transformed axes;
``norm`` is ``"backward"`` (scale the inverse by ``1/n``), ``"ortho"`` or ``"forward"``. Every
function runs on any stream (a GPU stream runs the CPU kernel).
"""

from collections.abc import Sequence
from typing import Optional, Union

from . import StreamOrDevice, array

def fft(a: array, n: Optional[int] = None, axis: int = -1, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The discrete Fourier transform along ``axis``, of length ``n`` (default the axis's)."""
def ifft(a: array, n: Optional[int] = None, axis: int = -1, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``fft``."""
def rfft(a: array, n: Optional[int] = None, axis: int = -1, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The transform of a real input along ``axis``: ``n // 2 + 1`` terms."""
def irfft(a: array, n: Optional[int] = None, axis: int = -1, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``rfft``: ``n`` (default ``2 * (len - 1)``) float32 values along ``axis``."""
def fft2(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = [-2, -1], norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The two-dimensional transform over ``axes`` (the last two by default)."""
def ifft2(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = [-2, -1], norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``fft2``."""
def rfft2(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = [-2, -1], norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The two-dimensional transform of a real input (the last of ``axes`` is halved)."""
def irfft2(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = [-2, -1], norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``rfft2``."""
def fftn(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The transform over ``axes`` (all by default; ``s`` needs ``axes``)."""
def ifftn(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``fftn``."""
def rfftn(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The transform of a real input over ``axes`` (the last of them is halved)."""
def irfftn(a: array, s: Optional[Sequence[int]] = None, axes: Optional[Sequence[int]] = None, norm: str = "backward", stream: StreamOrDevice = None) -> array:
    """The inverse of ``rfftn``."""
def fftshift(a: array, axes: Union[int, Sequence[int], None] = None, stream: StreamOrDevice = None) -> array:
    """Rolls the zero-frequency term to the centre of ``axes`` (all by default)."""
def ifftshift(a: array, axes: Union[int, Sequence[int], None] = None, stream: StreamOrDevice = None) -> array:
    """The inverse of ``fftshift``."""
def fftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array:
    """The sample frequencies of an ``n``-point transform with spacing ``d`` (float32)."""
def rfftfreq(n: int, d: float = 1.0, stream: StreamOrDevice = None) -> array:
    """The non-negative sample frequencies of ``rfft`` (float32)."""
def stft(x: array, n_fft: int = 2048, hop_length: Optional[int] = None, win_length: Optional[int] = None, window: Optional[array] = None, center: bool = True, pad_mode: str = "reflect", norm: str = "backward", onesided: Optional[bool] = None, stream: StreamOrDevice = None) -> array:
    """The short-time transform of the last axis: ``(..., n_freq, n_frames)`` complex64."""
def istft(stft_matrix: array, n_fft: Optional[int] = None, hop_length: Optional[int] = None, win_length: Optional[int] = None, window: Optional[array] = None, center: bool = True, norm: str = "backward", onesided: Optional[bool] = None, length: Optional[int] = None, stream: StreamOrDevice = None) -> array:
    """The inverse of ``stft``: overlap-added frames divided by the squared-window envelope."""
