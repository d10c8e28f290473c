"""MLX's float8 (e4m3) conversions, ``to_fp8`` and ``from_fp8``, composed from rill's integer
and float ops on the float32 bits, so they are lazy and run on any stream. The microscaling
quantization modes (``_microscaling.py``) encode their elements and nvfp4 scales with them.
"""

from rill import _core as _mx


def _is_float(dtype):
    return _mx.issubdtype(dtype, _mx.floating)


def _as_array(x):
    return x if isinstance(x, _mx.array) else _mx.array(x)


def _dtype_name(dtype):
    return repr(dtype).split(".")[-1]


_F32_BITS_448 = 0x43E00000  # 448.0, the largest finite e4m3 value
_F32_BITS_MIN_NORMAL = 0x3C800000  # 2^-6, the smallest normal e4m3 value


def to_fp8(x, *, stream=None):
    """Encodes floats as float8 e4m3 (1 sign, 4 exponent bits of bias 7, 3 mantissa bits) in
    uint8, as MLX does: round to nearest, ties to even; magnitudes above 448, infinities and
    NaN saturate to +-448 (0x7e / 0xfe, the sign kept), so no NaN code is ever produced.

    Works on the float32 bits (every float16 and bfloat16 value is exact in float32)."""
    x = _as_array(x)
    if not _is_float(x.dtype):
        raise ValueError("[to_fp8] Only real floating types are supported but x.dtype() == "
                         f"{_dtype_name(x.dtype)}.")
    s = stream
    u32 = _mx.uint32
    bits = _mx.view(x.astype(_mx.float32, stream=s), u32, stream=s)
    sign = _mx.bitwise_and(_mx.right_shift(bits, 24, stream=s), 0x80, stream=s)
    magnitude_bits = _mx.bitwise_and(bits, 0x7FFFFFFF, stream=s)
    # Normal range: move the exponent from bias 127 to bias 7 and round the 23-bit mantissa to
    # 3 bits, ties to even (add just under half a step, plus one when the kept bit is odd).
    normal_bits = _mx.maximum(magnitude_bits, _F32_BITS_MIN_NORMAL, stream=s)
    odd = _mx.bitwise_and(_mx.right_shift(normal_bits, 20, stream=s), 1, stream=s)
    normal = _mx.right_shift(
        _mx.add(_mx.subtract(normal_bits, (127 - 7) << 23, stream=s),
                _mx.add(odd, 0x7FFFF, stream=s), stream=s), 20, stream=s)
    # Below 2^-6 the codes are multiples of 2^-9: scaling by 2^9 is exact and round() is
    # ties-to-even; 2^-6 itself rounds up into the first normal code, 8.
    magnitude = _mx.view(magnitude_bits, _mx.float32, stream=s)
    subnormal = _mx.round(_mx.multiply(magnitude, 512.0, stream=s), stream=s).astype(u32,
                                                                                    stream=s)
    code = _mx.where(_mx.less(magnitude_bits, _F32_BITS_MIN_NORMAL, stream=s), subnormal, normal,
                     stream=s)
    # NaN's bits lie above infinity's, so one comparison saturates both.
    code = _mx.where(_mx.greater(magnitude_bits, _F32_BITS_448, stream=s), 0x7E, code, stream=s)
    return _mx.bitwise_or(code, sign, stream=s).astype(_mx.uint8, stream=s)


def from_fp8(x, dtype=None, *, stream=None):
    """Decodes float8 e4m3 codes (uint8) to ``dtype`` (default bfloat16): 0x7f and 0xff are
    NaN, exponent 0 holds the subnormals (multiples of 2^-9). Every e4m3 value is exact in each
    float dtype, so the result is exact."""
    if dtype is None:
        dtype = _mx.bfloat16
    x = _as_array(x)
    if x.dtype != _mx.uint8:
        raise ValueError("[from_fp8] Input must have type uint8 but x.dtype() == "
                         f"{_dtype_name(x.dtype)}.")
    if not _is_float(dtype):
        raise ValueError("[from_fp8] Only real floating types are supported but dtype == "
                         f"{_dtype_name(dtype)}.")
    s = stream
    u32 = _mx.uint32
    code = x.astype(u32, stream=s)
    exponent = _mx.bitwise_and(_mx.right_shift(code, 3, stream=s), 0xF, stream=s)
    mantissa = _mx.bitwise_and(code, 7, stream=s)
    # Normal: rebias the exponent to float32's and put the mantissa at its top.
    normal = _mx.bitwise_or(_mx.left_shift(_mx.add(exponent, 127 - 7, stream=s), 23, stream=s),
                            _mx.left_shift(mantissa, 20, stream=s), stream=s)
    magnitude = _mx.where(
        _mx.equal(exponent, 0, stream=s),
        _mx.multiply(mantissa.astype(_mx.float32, stream=s), 2.0 ** -9, stream=s),
        _mx.view(normal, _mx.float32, stream=s), stream=s)
    magnitude = _mx.where(_mx.equal(_mx.bitwise_and(code, 0x7F, stream=s), 0x7F, stream=s),
                          float("nan"), magnitude, stream=s)
    negative = _mx.not_equal(_mx.bitwise_and(code, 0x80, stream=s), 0, stream=s)
    value = _mx.where(negative, _mx.negative(magnitude, stream=s), magnitude, stream=s)
    return value.astype(dtype, stream=s)
