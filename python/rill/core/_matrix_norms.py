"""``mx.linalg.norm`` for the matrix norms made of singular values: ``ord=2`` (the largest),
``ord=-2`` (the smallest) and ``ord='nuc'`` (their sum).

They are read off ``linalg.svd``'s singular values. The square roots of the eigenvalues of
``AᵀA`` would give the same numbers in exact arithmetic, but forming ``AᵀA`` squares the
condition number: the small singular values of an ill-conditioned matrix drown in the rounding
of the large ones (with a condition number of 1e6 in float32, ``ord=-2`` would come back as
noise or NaN). Every other ``ord`` is the native ``norm``'s.
"""

from rill import _core as _mx

#: The native norm, which handles the vector norms and the other matrix norms.
_native_norm = _mx.linalg.norm


def _is_singular_value_ord(ord):
    if isinstance(ord, str):
        return ord == "nuc"
    return ord is not None and not isinstance(ord, bool) and ord in (2, -2)


def _matrix_axes(a, axis):
    """The two axes (non-negative) holding the matrices, or None for a vector norm."""
    if axis is None:
        return (0, 1) if a.ndim == 2 else None
    if isinstance(axis, int):
        return None
    axis = tuple(axis)
    if len(axis) != 2:
        return None
    return tuple(ax + a.ndim if ax < 0 else ax for ax in axis)


def norm(a, /, ord=None, axis=None, keepdims=False, *, stream=None):
    """Matrix or vector norm, as MLX's ``mx.linalg.norm``; the matrix norms 2, -2 and 'nuc'
    come from the singular values (see the module's doc)."""
    if not isinstance(a, _mx.array):
        a = _mx.array(a)
    wanted = _is_singular_value_ord(ord) and a.dtype != _mx.complex64
    axes = _matrix_axes(a, axis) if wanted else None
    if axes is None or len(set(axes)) != 2 or not all(0 <= ax < a.ndim for ax in axes):
        # Vector norms, other orders, and malformed axes (whose errors the native norm names).
        return _native_norm(a, ord, axis, keepdims, stream=stream)
    s = stream
    if not _mx.issubdtype(a.dtype, _mx.inexact):
        a = a.astype(_mx.float32, stream=s)
    out_dtype = a.dtype
    # svd runs in float32 or float64; half-precision matrices are widened for it.
    if a.dtype in (_mx.float16, _mx.bfloat16):
        a = a.astype(_mx.float32, stream=s)
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    matrices = _mx.transpose(a, rest + list(axes), stream=s)
    singular = _mx.linalg.svd(matrices, compute_uv=False, stream=s)
    if ord == 2:
        out = _mx.max(singular, axis=-1, stream=s)
    elif ord == -2:
        out = _mx.min(singular, axis=-1, stream=s)
    else:
        out = _mx.sum(singular, axis=-1, stream=s)
    if keepdims:
        for ax in sorted(axes):
            out = _mx.expand_dims(out, ax, stream=s)
    return out.astype(out_dtype, stream=s) if out.dtype != out_dtype else out
