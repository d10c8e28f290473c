"""MLX's microscaling quantization modes: ``mxfp4``, ``mxfp8`` and ``nvfp4``.

Each group of consecutive elements of a row shares one 8-bit scale, and each element is stored
as a small float (no bias, unlike the affine mode):

| mode  | group | element                  | scale (uint8)                            |
|-------|-------|--------------------------|------------------------------------------|
| mxfp4 | 32    | e2m1, 8 per uint32 word  | e8m0: the power of two 2^(s - 127)       |
| mxfp8 | 32    | e4m3, 4 per uint32 word  | e8m0                                     |
| nvfp4 | 16    | e2m1, 8 per uint32 word  | e4m3 (optionally over a global scale)    |

The arithmetic follows MLX 0.32.4's CPU path step by step, in the same dtypes, so the codes
and scales are MLX's bit for bit: the scale is the group's largest magnitude over the largest
element value (6 for e2m1, 448 for e4m3), computed in ``w``'s dtype; e8m0 keeps the power of
two at or above it (an all-zero group gets 2^0), e4m3 rounds it with ``to_fp8``; the elements
are divided by the decoded scale and rounded to the element format.

Everything is a composition of rill's lazy ops, so it runs on any stream.
"""

from rill import _core as _mx
from rill.core._float8 import from_fp8, to_fp8

MODES = ("mxfp4", "mxfp8", "nvfp4")

#: (group size, bits) each mode requires; they are also its defaults.
PARAMS = {"mxfp4": (32, 4), "mxfp8": (32, 8), "nvfp4": (16, 4)}

#: The e2m1 values by code: bit 3 is the sign, bits 0-2 index the magnitudes.
E2M1_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
               -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)

#: Midpoints between consecutive e2m1 magnitudes. MLX picks the nearest value and, on a tie,
#: the one of smaller magnitude (the first in the table above), so a magnitude's code is the
#: number of midpoints it strictly exceeds.
_E2M1_MIDPOINTS = (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)

#: nvfp4's global scale maps the tensor's largest magnitude onto the largest product of an
#: e4m3 scale and an e2m1 element: 448 * 6.
_NVFP4_RANGE = 448.0 * 6.0


def _shape_str(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _dtype_name(dtype):
    return repr(dtype).split(".")[-1]


def params(op, mode, group_size, bits):
    """The mode's (group_size, bits), after MLX's checks that the given ones are its own."""
    expected_group, expected_bits = PARAMS[mode]
    group_size = expected_group if group_size is None else int(group_size)
    bits = expected_bits if bits is None else int(bits)
    if group_size != expected_group:
        raise ValueError(f"[{op}] {mode} quantization requires group size {expected_group} but "
                         f"got {group_size}.")
    if bits != expected_bits:
        raise ValueError(f"[{op}] {mode} quantization requires bits to be {expected_bits} but "
                         f"got {bits}.")
    return group_size, bits


def check_global_scale(op, mode, global_scale):
    """None, or the global scale as a float32 array of one element (nvfp4 only)."""
    if global_scale is None:
        return None
    if mode != "nvfp4":
        raise ValueError(f"[{op}] Global scale is only supported for 'nvfp4' quantization mode.")
    if not isinstance(global_scale, _mx.array):
        global_scale = _mx.array(global_scale, dtype=_mx.float32)
    if global_scale.dtype != _mx.float32:
        raise ValueError(f"[{op}] Global scale must have dtype float32 but got "
                         f"{_dtype_name(global_scale.dtype)}.")
    if global_scale.size != 1:
        raise ValueError(f"[{op}] Global scale must be a scalar but got shape "
                         f"{_shape_str(global_scale.shape)}.")
    return global_scale


def check_scales(op, scales):
    if scales.dtype != _mx.uint8:
        raise ValueError(f"[{op}] Scale type must be uint8 but received type "
                         f"{_dtype_name(scales.dtype)}.")


def _encode_e2m1(x, stream):
    """The e2m1 code (uint32, 0..15) nearest to each value of `x`, as MLX chooses it: ties go
    to the smaller magnitude, a negative value that rounds to zero is +0 (code 0), and
    infinities and NaN (the values of an all-zero nvfp4 group, or of a scale that
    underflowed) are code 0 too."""
    s = stream
    magnitude = _mx.abs(x, stream=s)
    code = _mx.zeros(x.shape, dtype=_mx.uint32, stream=s)
    for midpoint in _E2M1_MIDPOINTS:
        code = _mx.add(code, _mx.greater(magnitude, midpoint, stream=s).astype(_mx.uint32,
                                                                            stream=s), stream=s)
    code = _mx.where(_mx.isinf(x, stream=s), 0, code, stream=s).astype(_mx.uint32, stream=s)
    negative = _mx.logical_and(_mx.less(x, 0, stream=s), _mx.not_equal(code, 0, stream=s),
                               stream=s)
    return _mx.where(negative, _mx.add(code, 8, stream=s), code, stream=s).astype(_mx.uint32,
                                                                                stream=s)


def _pack_nibbles(codes, stream):
    """4-bit codes (uint32, last axis a multiple of 8) to uint32 words, the first code in the
    lowest bits."""
    s = stream
    words = _mx.reshape(codes, tuple(codes.shape[:-1]) + (-1, 8), stream=s)
    shifts = _mx.arange(0, 32, 4, dtype=_mx.uint32, stream=s)
    # The fields do not overlap, so their sum is their bitwise or.
    return _mx.sum(_mx.left_shift(words, shifts, stream=s), axis=-1, stream=s)


def _unpack_nibbles(w, stream):
    s = stream
    shifts = _mx.arange(0, 32, 4, dtype=_mx.uint32, stream=s)
    codes = _mx.bitwise_and(_mx.right_shift(_mx.expand_dims(w, -1, stream=s), shifts, stream=s),
                            15, stream=s)
    return _mx.reshape(codes, tuple(w.shape[:-1]) + (-1,), stream=s)


def quantize(w, group_size, bits, mode, global_scale, stream):
    """``(w_q, scales)`` of ``w`` (checked by the caller: floating, at least 2-D, last axis a
    multiple of the group size) in a microscaling mode."""
    group_size, bits = params("quantize", mode, group_size, bits)
    global_scale = check_global_scale("quantize", mode, global_scale)
    s = stream
    shape = tuple(w.shape)
    groups = _mx.reshape(w, (-1, group_size), stream=s)
    largest = 6.0 if bits == 4 else 448.0
    scale = _mx.divide(_mx.max(_mx.abs(groups, stream=s), axis=-1, keepdims=True, stream=s),
                       _mx.array(largest, dtype=w.dtype), stream=s)
    if mode == "nvfp4":
        if global_scale is not None:
            # The scales are stored relative to the global scale's share of the e4m3 range.
            # MLX multiplies by the inverse of the global unit (after dividing by the decoded
            # scale in w's dtype): the same steps give the same roundings and ties.
            inverse_unit = _mx.divide(_NVFP4_RANGE, global_scale.reshape(()), stream=s)
            scales = to_fp8(_mx.multiply(scale, inverse_unit, stream=s), stream=s)
            groups = _mx.divide(groups, from_fp8(scales, w.dtype, stream=s), stream=s)
            groups = _mx.multiply(groups, inverse_unit, stream=s)
        else:
            scales = to_fp8(scale, stream=s)
            groups = _mx.divide(groups, from_fp8(scales, w.dtype, stream=s), stream=s)
    else:
        # e8m0: the exponent of the power of two at or above the scale (so that no element
        # exceeds the largest element value), kept in w's dtype as MLX does; an all-zero group
        # (log2 of 0 is -inf) gets exponent 0.
        # The logarithm is taken in float32 at least: in bfloat16 it would round a scale just
        # above a power of two down onto it.
        zero = _mx.array(0, dtype=scale.dtype)
        wide = scale if scale.dtype == _mx.float64 else scale.astype(_mx.float32, stream=s)
        exponent = _mx.where(_mx.equal(scale, zero, stream=s), zero,
                             _mx.ceil(_mx.log2(wide, stream=s), stream=s).astype(_mx.int32,
                                                                                stream=s),
                             stream=s)
        groups = _mx.divide(groups, _mx.power(_mx.array(2.0, dtype=w.dtype), exponent,
                                              stream=s), stream=s)
        scales = _mx.add(exponent, _mx.array(127, dtype=_mx.int32), stream=s).astype(
            _mx.uint8, stream=s)
    if bits == 4:
        w_q = _pack_nibbles(_encode_e2m1(groups, s), s)
    else:
        w_q = _mx.view(to_fp8(groups, stream=s), _mx.uint32, stream=s)
    w_q = _mx.reshape(w_q, shape[:-1] + (-1,), stream=s)
    scales = _mx.reshape(scales, shape[:-1] + (-1,), stream=s)
    return w_q, scales


def check_packed_shapes(op, w, scales, group_size, bits):
    """MLX's checks of a packed matrix against its scales (dequantize's messages)."""
    if scales.ndim != w.ndim or tuple(w.shape[:-1]) != tuple(scales.shape[:-1]):
        raise ValueError(f"[{op}] Shape of scales does not match the matrix")
    if w.shape[-1] * 32 // bits != scales.shape[-1] * group_size:
        raise ValueError(
            f"[{op}] Shape of scales does not match the matrix given the quantization "
            f"parameters. Provided matrix of shape {_shape_str(w.shape)} and scales of shape "
            f"{_shape_str(scales.shape)}.")


def dequantize(w, scales, group_size, bits, mode, global_scale, dtype, stream):
    """The values of the packed ``w`` (uint32, checked by the caller) in ``dtype``: each
    element's float value times its group's decoded scale, computed in ``dtype`` as MLX does."""
    group_size, bits = params("dequantize", mode, group_size, bits)
    global_scale = check_global_scale("dequantize", mode, global_scale)
    check_scales("dequantize", scales)
    check_packed_shapes("dequantize", w, scales, group_size, bits)
    s = stream
    if bits == 4:
        table = _mx.array(list(E2M1_VALUES), dtype=dtype)
        values = _mx.take(table, _unpack_nibbles(w, s), stream=s)
    else:
        bytes_ = _mx.view(w, _mx.uint8, stream=s)
        values = from_fp8(bytes_, dtype, stream=s)
    values = _mx.reshape(values, (-1, group_size), stream=s)
    scales_col = _mx.reshape(scales, (-1, 1), stream=s)
    if mode == "nvfp4":
        step = from_fp8(scales_col, dtype, stream=s)
        if global_scale is not None:
            unit = _mx.divide(global_scale.reshape(()), _NVFP4_RANGE, stream=s)
            step = _mx.multiply(step, unit, stream=s)
    else:
        exponent = _mx.subtract(scales_col.astype(dtype, stream=s), _mx.array(127, dtype=dtype),
                                stream=s)
        step = _mx.power(_mx.array(2.0, dtype=dtype), exponent, stream=s)
    # With a global scale (float32) the product is float32 whatever ``dtype``, as MLX's.
    out = _mx.multiply(values, step, stream=s)
    return _mx.reshape(out, tuple(w.shape[:-1]) + (-1,), stream=s)
