"""MLX's ``qqmm`` and ``gather_qqmm``: products in which both operands are quantized to a
microscaling float format (``nvfp4``, ``mxfp8`` or ``mxfp4``).

``x`` is always quantized on the fly; ``w`` is used as given when already packed (uint32, with
its ``scales``) and quantized on the fly otherwise. MLX runs these on CUDA's block-scaled
matmuls (its CPU has only the one-row case); rill composes them from ``quantize``,
``dequantize`` and a dense ``matmul`` in ``x``'s dtype, so they run on every device, any number
of rows, and with the nvfp4 global scales applied.
"""

from rill import _core as _mx
from rill.core import _microscaling
from rill.core._matmul_variants import _gathered_matmul, _shape_str, dequantize, quantize


def _dtype_name(dtype):
    return repr(dtype).split(".")[-1]


def _as_array(x):
    return x if isinstance(x, _mx.array) else _mx.array(x)


def _check_float(op, which, a):
    if not _mx.issubdtype(a.dtype, _mx.floating) or a.dtype == _mx.float64:
        raise ValueError(f"[{op}] Only real floating types except float64 are supported but "
                         f"{which} argument dtype == {_dtype_name(a.dtype)}.")


def _check_mode_and_scales(op, mode, global_scale_x, global_scale_w):
    if mode not in _microscaling.MODES:
        raise ValueError(f"[{op}] Only the microscaling modes 'nvfp4', 'mxfp8' and 'mxfp4' are "
                         f"supported but '{mode}' was provided.")
    given = (global_scale_x is not None) + (global_scale_w is not None)
    if given and mode != "nvfp4":
        raise ValueError(f"[{op}] Global scale is only supported for 'nvfp4' quantization mode.")
    if given == 1:
        raise ValueError(f"[{op}] For nvfp4 mode, either both global_scale_x and global_scale_w "
                         "must be provided, or neither.")
    _microscaling.check_global_scale(op, mode, global_scale_x)
    _microscaling.check_global_scale(op, mode, global_scale_w)


def _dense_operands(op, x, w, scales, group_size, bits, mode, global_scale_x, global_scale_w,
                    stream):
    """(x after a round trip through the format, w's values), both in x's dtype; w is
    (..., N, K) like the matrices qqmm multiplies by transposed."""
    _check_mode_and_scales(op, mode, global_scale_x, global_scale_w)
    group_size, bits = _microscaling.params(op, mode, group_size, bits)
    x, w = _as_array(x), _as_array(w)
    _check_float(op, "first", x)
    s = stream
    if w.dtype == _mx.uint32:
        if scales is None:
            raise ValueError(f"[{op}] Scales must be provided if second argument is quantized.")
        scales = _as_array(scales)
        if (w.ndim < 2 or scales.ndim != w.ndim
                or tuple(w.shape[:-1]) != tuple(scales.shape[:-1])
                or w.shape[-1] * 32 != scales.shape[-1] * group_size * bits):
            raise ValueError(
                f"[{op}] The shapes of the weight and scales are incompatible based on bits and "
                f"group_size. w.shape() == {_shape_str(w.shape)} and scales.shape() == "
                f"{_shape_str(scales.shape)} with group_size={group_size} and bits={bits}")
        k = w.shape[-1] * 32 // bits
        if x.ndim < 1 or x.shape[-1] != k:
            raise ValueError(
                f"[{op}] Last dimension of first input with shape (..., "
                f"{x.shape[-1] if x.ndim else '?'}) does not match the expanded quantized "
                f"matrix ({k}, {w.shape[-2]}) computed from shape {_shape_str(w.shape)} with "
                f"group_size={group_size}, bits={bits} and transpose=true")
        _microscaling.check_scales(op, scales)
    else:
        _check_float(op, "second", w)
        if w.ndim < 2 or x.ndim < 1 or x.shape[-1] != w.shape[-1]:
            raise ValueError(f"[{op}] Last dimension of first input with shape "
                             f"{_shape_str(x.shape)} must match last dimension of second input "
                             f"with shape {_shape_str(w.shape)}.")
        w, scales = quantize(w, group_size, bits, mode, global_scale=global_scale_w, stream=s)
    w_hat = dequantize(w, scales, None, group_size, bits, mode, global_scale_w, x.dtype,
                       stream=s).astype(x.dtype, stream=s)
    # quantize needs a matrix: a vector is one row.
    rows = x if x.ndim >= 2 else _mx.expand_dims(x, 0, stream=s)
    x_q, x_scales = quantize(rows, group_size, bits, mode, global_scale=global_scale_x, stream=s)
    x_hat = dequantize(x_q, x_scales, None, group_size, bits, mode, global_scale_x, x.dtype,
                       stream=s).astype(x.dtype, stream=s)
    if x.ndim < 2:
        x_hat = _mx.squeeze(x_hat, 0, stream=s)
    return x_hat, w_hat


def qqmm(x, w, scales=None, group_size=None, bits=None, mode="nvfp4", global_scale_x=None,
         global_scale_w=None, *, stream=None):
    """``x @ w.T`` with ``x`` quantized on the fly and ``w`` packed (with ``scales``) or
    quantized on the fly, in ``mode``; the result has ``x``'s dtype."""
    x_hat, w_hat = _dense_operands("qqmm", x, w, scales, group_size, bits, mode, global_scale_x,
                                   global_scale_w, stream)
    s = stream
    if x_hat.ndim == 1:
        return _mx.matmul(w_hat, x_hat, stream=s)
    return _mx.matmul(x_hat, _mx.swapaxes(w_hat, -1, -2, stream=s), stream=s)


def gather_qqmm(x, w, scales=None, lhs_indices=None, rhs_indices=None, group_size=None,
                bits=None, mode="nvfp4", global_scale_x=None, global_scale_w=None, *,
                sorted_indices=False, stream=None):
    """``qqmm`` of the matrices of ``x`` and ``w`` chosen by flat batch indices, as
    ``gather_mm`` chooses them (all of them, in order, where an index array is None)."""
    indices = []
    for given in (lhs_indices, rhs_indices):
        if given is not None:
            given = _as_array(given)
            if not _mx.issubdtype(given.dtype, _mx.integer):
                raise ValueError("[gather_qqmm] Got indices with invalid dtype. Indices must be "
                                 "integral.")
        indices.append(given)
    if indices == [None, None]:
        return qqmm(x, w, scales, group_size, bits, mode, global_scale_x, global_scale_w,
                    stream=stream)
    x_hat, w_hat = _dense_operands("gather_qqmm", x, w, scales, group_size, bits, mode,
                                   global_scale_x, global_scale_w, stream)
    if x_hat.ndim < 2:
        raise ValueError("[gather_qqmm] The first input must have at least two dimensions, got "
                         f"shape {_shape_str(x_hat.shape)}.")
    return _gathered_matmul(x_hat, _mx.swapaxes(w_hat, -1, -2, stream=stream), indices[0],
                            indices[1], stream)
