"""MLX's matmul variants and quantization, composed from rill's lazy ops.

Everything here builds a graph of existing primitives (reshape, take, matmul, shifts, where...),
so the results stay lazy, run on whatever stream is given (or the default one), and
differentiate through ``grad`` wherever the ops they are made of do. Shapes, dtypes and errors
follow MLX 0.32.4; ``quantize`` reproduces MLX's packed layout bit for bit in every mode (the
affine mode here, the microscaling float modes in ``_microscaling.py``).
"""

import math
import warnings

from rill import _core as _mx
from rill.core import _microscaling
from rill.core._float8 import from_fp8, to_fp8  # noqa: F401 (re-exported)

_AFFINE_BITS = (1, 2, 3, 4, 5, 6, 8)
_AFFINE_GROUP_SIZES = (32, 64, 128)


def _is_float(dtype):
    return _mx.issubdtype(dtype, _mx.floating)


def _shape_str(shape):
    """A shape as MLX prints it in messages: (4,128)."""
    return "(" + ",".join(str(d) for d in shape) + ")"


def _check_mode(op, mode):
    if mode != "affine" and mode not in _microscaling.MODES:
        raise ValueError(f"[{op}] Invalid quantization mode '{mode}'.")


def _affine_params(group_size, bits):
    """MLX's defaults for the affine mode: groups of 64, 4 bits."""
    return (64 if group_size is None else int(group_size)), (4 if bits is None else int(bits))


def _as_array(x):
    return x if isinstance(x, _mx.array) else _mx.array(x)


# ------------------------------------------------------------------------------ quantization


def _pack(q, bits, stream):
    """Packs unsigned integers `q` (uint32, last axis a multiple of 32) of `bits` bits each into
    uint32 words: a little-endian bit stream along the last axis, the first element in the lowest
    bits. For 3, 5 and 6 bits an element may straddle two words, exactly as MLX lays them out."""
    lead = tuple(q.shape[:-1])
    if 32 % bits == 0:
        per_word = 32 // bits
        q = _mx.reshape(q, lead + (-1, per_word), stream=stream)
        shifts = _mx.arange(0, 32, bits, dtype=_mx.uint32, stream=stream)
        # The fields do not overlap, so a sum is their bitwise or.
        return _mx.sum(_mx.left_shift(q, shifts, stream=stream), axis=-1, stream=stream)
    # Spell every element out as its bits, regroup the stream by 32 and weigh each bit.
    one_bits = _mx.bitwise_and(
        _mx.right_shift(_mx.expand_dims(q, -1, stream=stream),
                        _mx.arange(bits, dtype=_mx.uint32, stream=stream), stream=stream),
        1, stream=stream)
    one_bits = _mx.reshape(one_bits, lead + (-1, 32), stream=stream)
    return _mx.sum(_mx.left_shift(one_bits, _mx.arange(32, dtype=_mx.uint32, stream=stream),
                                  stream=stream), axis=-1, stream=stream)


def _unpack(w, bits, stream):
    """The inverse of `_pack`: uint32 words to one uint32 per `bits`-bit element."""
    lead = tuple(w.shape[:-1])
    if 32 % bits == 0:
        shifts = _mx.arange(0, 32, bits, dtype=_mx.uint32, stream=stream)
        q = _mx.bitwise_and(_mx.right_shift(_mx.expand_dims(w, -1, stream=stream), shifts,
                                            stream=stream), (1 << bits) - 1, stream=stream)
        return _mx.reshape(q, lead + (-1,), stream=stream)
    one_bits = _mx.bitwise_and(
        _mx.right_shift(_mx.expand_dims(w, -1, stream=stream),
                        _mx.arange(32, dtype=_mx.uint32, stream=stream), stream=stream),
        1, stream=stream)
    one_bits = _mx.reshape(one_bits, lead + (-1, bits), stream=stream)
    return _mx.sum(_mx.left_shift(one_bits, _mx.arange(bits, dtype=_mx.uint32, stream=stream),
                                  stream=stream), axis=-1, stream=stream)


def quantize(w, group_size=None, bits=None, mode="affine", *, global_scale=None, stream=None):
    """Quantizes ``w`` by groups of ``group_size`` consecutive elements of its rows.

    Returns ``(w_q, scales, biases)``: ``w_q`` packs each element in ``bits`` bits of uint32
    words (the first element in the lowest bits), ``scales`` and ``biases`` (``w``'s dtype) hold
    one value per group, so that ``w ≈ scales * q + biases``.

    The float modes ``"mxfp4"``, ``"mxfp8"`` and ``"nvfp4"`` return ``(w_q, scales)``: small
    floats packed in uint32 words and one uint8 scale per group (``_microscaling.py``);
    ``global_scale`` (a float32 scalar) applies to ``"nvfp4"`` only.
    """
    _check_mode("quantize", mode)
    w = _as_array(w)
    if mode != "affine":
        return _quantize_float(w, group_size, bits, mode, global_scale, stream)
    if global_scale is not None:
        raise ValueError("[quantize] Global scale is only supported for 'nvfp4' quantization "
                         "mode.")
    group_size, bits = _affine_params(group_size, bits)
    if not _is_float(w.dtype) or w.dtype == _mx.float64:
        # MLX's float64 quantize fails when evaluated; here it is refused up front.
        raise ValueError("[quantize] Only real floating types can be quantized but w has type "
                         f"{_dtype_name(w.dtype)}.")
    if w.ndim < 2:
        raise ValueError("[quantize] The matrix to be quantized must have at least 2 dimension "
                         f"but it has only {w.ndim}.")
    if w.shape[-1] % group_size != 0:
        raise ValueError("[quantize] The last dimension of the matrix needs to be divisible by "
                         f"the quantization group size {group_size}. However the provided  "
                         f"matrix has shape {_shape_str(w.shape)}")
    if group_size not in _AFFINE_GROUP_SIZES:
        raise ValueError(f"[quantize] The requested group size {group_size} is not supported. "
                         "The supported group sizes are 32, 64, and 128.")
    if bits not in _AFFINE_BITS:
        raise ValueError(f"[quantize] The requested number of bits {bits} is not supported. "
                         "The supported bits are 1, 2, 3, 4, 5, 6 and 8.")
    s = stream
    lead = tuple(w.shape[:-1])
    # MLX computes the group statistics and the codes in float32 whatever w's dtype, and
    # rounds only the stored scales and biases to it: the same here, for the same bits.
    groups = _mx.reshape(w.astype(_mx.float32, stream=s), lead + (-1, group_size), stream=s)
    w_max = _mx.max(groups, axis=-1, keepdims=True, stream=s)
    w_min = _mx.min(groups, axis=-1, keepdims=True, stream=s)
    n_bins = float((1 << bits) - 1)
    eps = 1e-7
    if bits == 1:
        # One bit: the two levels are the group's minimum and maximum.
        scales = _mx.maximum(_mx.subtract(w_max, w_min, stream=s), eps, stream=s)
        biases = w_min
    else:
        # The edge of larger magnitude is represented exactly: the scale is signed so that the
        # edge is a whole number of steps from zero, and zero itself stays representable.
        min_is_edge = _mx.greater(_mx.abs(w_min, stream=s), _mx.abs(w_max, stream=s), stream=s)
        step = _mx.maximum(_mx.divide(_mx.subtract(w_max, w_min, stream=s), n_bins, stream=s),
                           eps, stream=s)
        step = _mx.where(min_is_edge, step, _mx.negative(step, stream=s), stream=s)
        edge = _mx.where(min_is_edge, w_min, w_max, stream=s)
        q0 = _mx.round(_mx.divide(edge, step, stream=s), stream=s)
        q0_nonzero = _mx.not_equal(q0, 0.0, stream=s)
        safe_q0 = _mx.where(q0_nonzero, q0, 1.0, stream=s)
        scales = _mx.where(q0_nonzero, _mx.divide(edge, safe_q0, stream=s), step, stream=s)
        biases = _mx.where(q0_nonzero, edge, 0.0, stream=s)
    codes = _mx.round(_mx.divide(_mx.subtract(groups, biases, stream=s), scales, stream=s),
                      stream=s)
    codes = _mx.clip(codes, 0.0, n_bins, stream=s).astype(_mx.uint32, stream=s)
    codes = _mx.reshape(codes, lead + (-1,), stream=s)
    w_q = _pack(codes, bits, s)
    scales = _mx.squeeze(scales, -1, stream=s).astype(w.dtype, stream=s)
    biases = _mx.squeeze(biases, -1, stream=s).astype(w.dtype, stream=s)
    return w_q, scales, biases


def _quantize_float(w, group_size, bits, mode, global_scale, stream):
    """quantize's checks in MLX's order for a microscaling mode, then the mode itself. (MLX
    quantizes float64 in these modes, so rill does too.)"""
    group_size, bits = _microscaling.params("quantize", mode, group_size, bits)
    if not _is_float(w.dtype):
        raise ValueError("[quantize] Only real floating types can be quantized but w has type "
                         f"{_dtype_name(w.dtype)}.")
    if w.ndim < 2:
        raise ValueError("[quantize] The matrix to be quantized must have at least 2 dimension "
                         f"but it has only {w.ndim}.")
    if w.shape[-1] % group_size != 0:
        raise ValueError("[quantize] The last dimension of the matrix needs to be divisible by "
                         f"the quantization group size {group_size}. However the provided  "
                         f"matrix has shape {_shape_str(w.shape)}")
    return _microscaling.quantize(w, group_size, bits, mode, global_scale, stream)


def dequantize(w, scales, biases=None, group_size=None, bits=None, mode="affine",
               global_scale=None, dtype=None, *, stream=None):
    """Expands the packed ``w`` made by ``quantize``: ``scales * q + biases`` per group.

    The arithmetic runs in the scales' dtype (as MLX: the code is converted, multiplied by the
    scale, then the bias added, each rounded to that dtype); the result is then converted to
    ``dtype`` (default: the scales' dtype). The float modes take no biases and compute in
    ``dtype`` (default bfloat16, as MLX).
    """
    _check_mode("dequantize", mode)
    w, scales = _as_array(w), _as_array(scales)
    if mode != "affine":
        return _dequantize_float(w, scales, biases, group_size, bits, mode, global_scale, dtype,
                                 stream)
    if global_scale is not None:
        raise ValueError("[dequantize] Global scale is only supported for 'nvfp4' quantization "
                         "mode.")
    group_size, bits = _affine_params(group_size, bits)
    if biases is None:
        raise ValueError("[dequantize] Biases must be provided for affine quantization.")
    biases = _as_array(biases)
    if dtype is not None and not _is_float(dtype):
        raise ValueError("[dequantize] Only real floating types are supported but output dtype "
                         f"== {_dtype_name(dtype)}.")
    if w.dtype != _mx.uint32:
        raise ValueError("[dequantize] The matrix should be given as a uint32")
    if w.ndim < 2:
        raise ValueError("[dequantize] The matrix to be dequantized must have at least 2 "
                         f"dimension but it has only {w.ndim}.")
    if (scales.ndim != w.ndim or tuple(w.shape[:-1]) != tuple(scales.shape[:-1])
            or w.shape[-1] * 32 != scales.shape[-1] * group_size * bits):
        raise ValueError(
            "[dequantize] Shape of scales and biases does not match the matrix given the "
            f"quantization parameters. Provided matrix of shape {_shape_str(w.shape)} and "
            f"scales/biases of shape {_shape_str(scales.shape)} with group_size={group_size} "
            f"and bits={bits}.")
    if group_size not in _AFFINE_GROUP_SIZES:
        raise ValueError(f"[dequantize] The requested group size {group_size} is not supported. "
                         "The supported group sizes are 32, 64, and 128.")
    if bits not in _AFFINE_BITS:
        raise ValueError(f"[dequantize] The requested number of bits {bits} is not supported. "
                         "The supported bits are 1, 2, 3, 4, 5, 6 and 8.")
    s = stream
    lead = tuple(w.shape[:-1])
    codes = _unpack(w, bits, s).astype(scales.dtype, stream=s)
    codes = _mx.reshape(codes, lead + (-1, group_size), stream=s)
    out = _mx.multiply(codes, _mx.expand_dims(scales, -1, stream=s), stream=s)
    out = _mx.add(out, _mx.expand_dims(biases, -1, stream=s), stream=s)
    out = _mx.reshape(out, lead + (-1,), stream=s)
    return out if dtype is None else out.astype(dtype, stream=s)


def _dequantize_float(w, scales, biases, group_size, bits, mode, global_scale, dtype, stream):
    """dequantize's checks in MLX's order for a microscaling mode, then the mode itself."""
    if dtype is not None and not _is_float(dtype):
        raise ValueError("[dequantize] Only real floating types are supported but output dtype "
                         f"== {_dtype_name(dtype)}.")
    if biases is not None:
        raise ValueError(f"[dequantize] Biases must be null for quantization mode '{mode}'.")
    if w.dtype != _mx.uint32:
        raise ValueError("[dequantize] The matrix should be given as a uint32")
    if w.ndim < 2:
        raise ValueError("[dequantize] The matrix to be dequantized must have at least 2 "
                         f"dimension but it has only {w.ndim}.")
    return _microscaling.dequantize(w, scales, group_size, bits, mode, global_scale,
                                    _mx.bfloat16 if dtype is None else dtype, stream)


def _dequantized_operand(x, w, scales, biases, transpose, group_size, bits, mode, stream,
                         global_scale=None):
    """(x, the dense right operand of the product) after MLX's checks of quantized_matmul, both
    in the dtype of the result."""
    _check_mode("quantized_matmul", mode)
    x, w, scales = _as_array(x), _as_array(w), _as_array(scales)
    if mode != "affine":
        return _float_dequantized_operand(x, w, scales, biases, transpose, group_size, bits,
                                          mode, global_scale, stream)
    if global_scale is not None:
        raise ValueError("[quantized_matmul] Global scale is only supported for 'nvfp4' "
                         "quantization mode.")
    group_size, bits = _affine_params(group_size, bits)
    if biases is None:
        raise ValueError("[quantized_matmul] Biases must be provided for affine quantization.")
    biases = _as_array(biases)
    if w.dtype != _mx.uint32:
        raise ValueError("[quantized_matmul] The weight matrix should be uint32 but received "
                         f"{_dtype_name(w.dtype)}")
    if tuple(scales.shape) != tuple(biases.shape):
        raise ValueError("[quantized_matmul] Scales and biases should have the same shape. "
                         f"Received scales with shape {_shape_str(scales.shape)} and biases with "
                         f"{_shape_str(biases.shape)}")
    _check_product_shapes(x, w, scales, transpose, group_size, bits)
    dense = dequantize(w, scales, biases, group_size, bits, stream=stream)
    if transpose:
        dense = _mx.swapaxes(dense, -1, -2, stream=stream)
    out_dtype = _mx.result_type(x, scales)
    if not _is_float(out_dtype):
        out_dtype = _mx.float32
    return x.astype(out_dtype, stream=stream), dense.astype(out_dtype, stream=stream)


def _check_product_shapes(x, w, scales, transpose, group_size, bits):
    """MLX's checks of the packed matrix against its scales and against x."""
    if (w.ndim < 2 or scales.ndim != w.ndim or tuple(w.shape[:-1]) != tuple(scales.shape[:-1])
            or w.shape[-1] * 32 != scales.shape[-1] * group_size * bits):
        raise ValueError(
            "[quantized_matmul] The shapes of the weight and scales are incompatible based on "
            f"bits and group_size. w.shape() == {_shape_str(w.shape)} and scales.shape() == "
            f"{_shape_str(scales.shape)} with group_size={group_size} and bits={bits}")
    unpacked = w.shape[-1] * 32 // bits
    k, n = (unpacked, w.shape[-2]) if transpose else (w.shape[-2], unpacked)
    if x.ndim < 1 or x.shape[-1] != k:
        last = x.shape[-1] if x.ndim else "?"
        raise ValueError(
            f"[quantized_matmul] Last dimension of first input with shape (..., {last}) does not "
            f"match the expanded quantized matrix ({k}, {n}) computed from shape "
            f"{_shape_str(w.shape)} with group_size={group_size}, bits={bits} and "
            f"transpose={'true' if transpose else 'false'}")


def _float_dequantized_operand(x, w, scales, biases, transpose, group_size, bits, mode,
                               global_scale, stream):
    """_dequantized_operand for a microscaling mode: no biases, uint8 scales, and the product
    in x's dtype (MLX's CPU kernel multiplies in it)."""
    if biases is not None:
        raise ValueError(f"[quantized_matmul] Biases must be null for quantization mode "
                         f"'{mode}'.")
    group_size, bits = _microscaling.params("quantized_matmul", mode, group_size, bits)
    _microscaling.check_scales("quantized_matmul", scales)
    if w.dtype != _mx.uint32:
        raise ValueError("[quantized_matmul] The weight matrix should be uint32 but received "
                         f"{_dtype_name(w.dtype)}")
    _check_product_shapes(x, w, scales, transpose, group_size, bits)
    if not _is_float(x.dtype):
        raise ValueError("[quantized_matmul] Only real floating types are supported but "
                         f"x.dtype() == {_dtype_name(x.dtype)}.")
    if x.dtype == _mx.float64:
        # MLX accepts it here and fails when evaluating; rill refuses it up front.
        raise ValueError("[quantized_matmul] only floating types are supported (float32, "
                         "float16 and bfloat16), got x.dtype() == float64.")
    dense = _microscaling.dequantize(w, scales, group_size, bits, mode, global_scale, x.dtype,
                                     stream)
    if transpose:
        dense = _mx.swapaxes(dense, -1, -2, stream=stream)
    return x, dense


def quantized_matmul(x, w, scales, biases=None, transpose=True, group_size=None, bits=None,
                     mode="affine", *, stream=None):
    """``x @ dequantize(w).T`` (or ``x @ dequantize(w)`` when ``transpose`` is false).

    rill expands ``w`` and runs a dense matmul; the result's dtype is that of ``x`` and the
    scales together (float32 for integer ``x`` with float32 scales), as MLX's.
    """
    x, dense = _dequantized_operand(x, w, scales, biases, transpose, group_size, bits,
                                    mode, stream)
    if x.ndim == 1:
        return _mx.squeeze(_mx.matmul(_mx.expand_dims(x, 0, stream=stream), dense,
                                      stream=stream), -2, stream=stream)
    return _mx.matmul(x, dense, stream=stream)


# ---------------------------------------------------------------------- gathered products


def _check_indices(op, indices):
    if indices is None:
        return None
    indices = _as_array(indices)
    if not _mx.issubdtype(indices.dtype, _mx.integer):
        raise ValueError(f"[{op}] Got indices with invalid dtype. Indices must be integral.")
    return indices


def _float_result(op, a, b):
    out = _mx.result_type(a, b)
    if not _is_float(out):
        raise ValueError(
            f"[{op}] Only real floating point types are supported but {_dtype_name(a.dtype)} and "
            f"{_dtype_name(b.dtype)} were provided which results in {_dtype_name(out)}, which is "
            "not a real floating point type.")
    return out


def _gathered_matmul(a, b, lhs_indices, rhs_indices, stream):
    """The batched product of `a`'s and `b`'s matrices chosen by the flat batch indices (all of
    each batch, in order, where an index array is None); the index arrays broadcast together
    and give the batch shape of the result. `a` and `b` are at least 2-D here."""
    s = stream
    m, k = a.shape[-2:]
    n = b.shape[-1]
    lhs = lhs_indices
    if lhs is None:
        lhs = _mx.reshape(_mx.arange(math.prod(a.shape[:-2]), stream=s), a.shape[:-2], stream=s)
    rhs = rhs_indices
    if rhs is None:
        rhs = _mx.reshape(_mx.arange(math.prod(b.shape[:-2]), stream=s), b.shape[:-2], stream=s)
    batch = tuple(_mx.broadcast_shapes(tuple(lhs.shape), tuple(rhs.shape)))
    lhs = _mx.flatten(_mx.broadcast_to(lhs, batch, stream=s), stream=s)
    rhs = _mx.flatten(_mx.broadcast_to(rhs, batch, stream=s), stream=s)
    a_mats = _mx.take(_mx.reshape(a, (-1, m, k), stream=s), lhs, axis=0, stream=s)
    b_mats = _mx.take(_mx.reshape(b, (-1, k, n), stream=s), rhs, axis=0, stream=s)
    out = _mx.matmul(a_mats, b_mats, stream=s)
    return _mx.reshape(out, batch + (m, n), stream=s)


def gather_mm(a, b, lhs_indices=None, rhs_indices=None, *, sorted_indices=False, stream=None):
    """Matmul of the matrices of ``a`` and ``b`` picked by flat indices into their batch axes.

    ``lhs_indices`` index ``a.shape[:-2]`` flattened, ``rhs_indices`` ``b.shape[:-2]``; a missing
    one stands for all of that batch (``arange`` in its batch shape). The two index arrays
    broadcast together and give the result's batch shape. ``sorted_indices`` is a hint for
    MLX's kernels; the result does not depend on it.
    """
    a, b = _as_array(a), _as_array(b)
    lhs_indices = _check_indices("gather_mm", lhs_indices)
    rhs_indices = _check_indices("gather_mm", rhs_indices)
    out_dtype = _float_result("gather_mm", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("[gather_mm] Got 0 dimension input. Inputs must have at least one "
                         "dimension.")
    s = stream
    squeeze = []
    if a.ndim == 1:
        a = _mx.expand_dims(a, 0, stream=s)
        squeeze.append(-2)
    if b.ndim == 1:
        b = _mx.expand_dims(b, -1, stream=s)
        squeeze.append(-1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"[gather_mm] Last dimension of first input with shape {_shape_str(a.shape)} must "
            f"match second to last dimension of second input with shape {_shape_str(b.shape)}.")
    out = _gathered_matmul(a.astype(out_dtype, stream=s),
                           b.astype(out_dtype, stream=s), lhs_indices, rhs_indices, s)
    for axis in squeeze:
        out = _mx.squeeze(out, axis, stream=s)
    return out


def gather_qmm(x, w, scales, biases=None, lhs_indices=None, rhs_indices=None, transpose=True,
               group_size=None, bits=None, mode="affine", global_scale=None, *,
               sorted_indices=False, stream=None):
    """``gather_mm`` with a quantized right operand: the matrices of ``w`` (with their scales
    and biases, which share ``w``'s batch axes) are expanded, then gathered and multiplied."""
    x = _as_array(x)
    lhs_indices = _check_indices("gather_qmm", lhs_indices)
    rhs_indices = _check_indices("gather_qmm", rhs_indices)
    if x.ndim < 2:
        raise ValueError("[gather_qmm] Input must have at least two dimensions but got input "
                         f"with shape ({','.join(str(d) for d in x.shape)}).")
    x, dense = _dequantized_operand(x, w, scales, biases, transpose, group_size, bits,
                                    mode, stream, global_scale)
    return _gathered_matmul(x, dense, lhs_indices, rhs_indices, stream)


def segmented_mm(a, b, segments, *, stream=None):
    """One product ``a[:, s:e] @ b[s:e, :]`` per ``(s, e)`` pair of ``segments`` (shape
    ``(..., 2)``): the result has shape ``segments.shape[:-1] + (M, N)``.

    The segments stay on the device: each becomes a mask of the inner axis, built lazily from
    ``arange`` and comparisons, that zeroes ``a`` outside it before a batched matmul.
    """
    a, b, segments = _as_array(a), _as_array(b), _as_array(segments)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("[segmented_mm] Batched matmul not supported")
    if not _mx.issubdtype(segments.dtype, _mx.integer):
        raise ValueError("[segmented_mm] Got segments with invalid dtype. Segments must be "
                         "integral.")
    if segments.ndim < 1 or segments.shape[-1] != 2:
        raise ValueError("[segmented_mm] The segments should have shape (..., 2) but "
                         f"{_shape_str(segments.shape)} was provided.")
    out_dtype = _float_result("segmented_mm", a, b)
    if a.shape[1] != b.shape[0]:
        # MLX does not check this (and reads past the end); rill refuses it.
        raise ValueError(f"[segmented_mm] The inner dimensions of a {_shape_str(a.shape)} and b "
                         f"{_shape_str(b.shape)} differ.")
    s = stream
    inner = _mx.arange(a.shape[1], stream=s)
    starts = _mx.take(segments, _mx.array([0]), axis=-1, stream=s)
    ends = _mx.take(segments, _mx.array([1]), axis=-1, stream=s)
    inside = _mx.logical_and(_mx.greater_equal(inner, starts, stream=s),
                             _mx.less(inner, ends, stream=s), stream=s)  # (..., K)
    a = a.astype(out_dtype, stream=s)
    # where, not a product: a NaN outside a segment must not leak into it.
    masked = _mx.where(_mx.expand_dims(inside, -2, stream=s), a, 0.0, stream=s)  # (..., M, K)
    return _mx.matmul(masked, b.astype(out_dtype, stream=s), stream=s)


def _block_mask(mask, batch, rows, cols, block_size, dtype, stream):
    """A mask of whole blocks expanded to the elements: broadcast to `batch` plus its own last
    two axes, each block repeated `block_size` times along both, cut to `rows` x `cols`."""
    mask = _as_array(mask)
    s = stream
    tiles = (-(-rows // block_size), -(-cols // block_size))
    mask = _mx.broadcast_to(mask, tuple(batch) + tiles, stream=s)
    mask = _mx.repeat(_mx.repeat(mask, block_size, axis=-2, stream=s), block_size, axis=-1,
                      stream=s)
    mask = mask[..., :rows, :cols]
    if mask.dtype != _mx.bool_:
        mask = mask.astype(dtype, stream=s)
    return mask


def _apply_mask(x, mask, stream):
    if mask.dtype == _mx.bool_:
        return _mx.where(mask, x, 0.0, stream=stream)
    return _mx.multiply(x, mask, stream=stream)


def block_masked_mm(a, b, block_size=64, mask_out=None, mask_lhs=None, mask_rhs=None, *,
                    stream=None):
    """Matmul with ``block_size x block_size`` blocks of ``a``, ``b`` and the result masked.

    Each mask has one entry per block (``ceil(M / block_size) x ceil(K / block_size)`` for
    ``mask_lhs``, and so on) and broadcasts over the batch axes. A boolean mask keeps or zeroes
    a block; a numeric one scales it. Without any mask this is ``matmul``.
    """
    a, b = _as_array(a), _as_array(b)
    out_dtype = _float_result("block_masked_mm", a, b)
    s = stream
    a, b = a.astype(out_dtype, stream=s), b.astype(out_dtype, stream=s)
    if mask_out is None and mask_lhs is None and mask_rhs is None:
        return _mx.matmul(a, b, stream=s)
    if block_size not in (32, 64):
        raise ValueError("[block_masked_mm] Only block_sizes 32, 64 are supported."
                         f"Got block size {block_size}.")
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError("[block_masked_mm] Both inputs need at least 2 dimensions, got shapes "
                         f"{_shape_str(a.shape)} and {_shape_str(b.shape)}.")
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if b.shape[-2] != k:
        raise ValueError(
            f"[block_masked_mm] Last dimension of first input with shape {_shape_str(a.shape)} "
            f"must match second to last dimension of second input with shape "
            f"{_shape_str(b.shape)}.")
    batch = tuple(_mx.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    if mask_lhs is not None:
        a = _apply_mask(a, _block_mask(mask_lhs, a.shape[:-2], m, k, block_size, out_dtype, s), s)
    if mask_rhs is not None:
        b = _apply_mask(b, _block_mask(mask_rhs, b.shape[:-2], k, n, block_size, out_dtype, s), s)
    out = _mx.matmul(a, b, stream=s)
    if mask_out is not None:
        out = _apply_mask(out, _block_mask(mask_out, batch, m, n, block_size, out_dtype, s), s)
    return out


# ------------------------------------------------------------------------ Hadamard transform

# The transforms of MLX's orders 12, 20 and 28 (m, not a power of two), read off MLX's output for
# the unit vectors: row i is the transform of the i-th unit vector (unscaled), '+' for 1, '-' for
# -1. An order m * 2^k transforms as kron(H_m, H_2^k), H_2^k being Sylvester's matrix.
_HADAMARD_UNIT_TRANSFORMS = {
    12: (
        '+-++++++++++', '--+-+-+-+-+-', '+++-++----++',
        '+---+--+-++-', '+++++-++----', '+-+---+--+-+',
        '++--+++-++--', '+--++---+--+', '++----+++-++',
        '+--+-++---+-', '++++----+++-', '+-+--+-++---',
    ),
    20: (
        '+-----++++--++--+--+', '-+---+-+++---+++-+--', '--+--++-+++---+-+-+-',
        '---+-+++-+++-----+-+', '----+++++--++--+--+-', '+----+----+-++---++-',
        '-+----+----+-++---++', '--+----+--+-+-++---+', '---+----+-++-+-++---',
        '----+----+-++-+-++--', '++--+-+--++----+----', '+++--+-+---+----+---',
        '-+++--+-+---+----+--', '--+++--+-+---+----+-', '+--+++--+-----+----+',
        '+-++-++--+-+++++----', '-+-+++++--+-+++-+---', '+-+-+-+++-++-++--+--',
        '++-+---++++++-+---+-', '-++-++--++++++-----+',
    ),
    28: (
        '+--------++++--+-++-+-++--++', '-+--------+++++-+-++-+-++--+',
        '--+----+---+++-+-+-++++-++--', '---+---++---+++-+-+-+-++-++-',
        '----+--+++---+++-+-+---++-++', '-----+-++++----++-+-++--++-+',
        '------+-++++--+-++-+-++--++-', '++----++------+--++---+-++-+',
        '+++-----+------+--++-+-+-++-', '-+++-----+------+--++-+-+-++',
        '--+++-----+---+--+--++-+-+-+', '---+++-----+--++--+--++-+-+-',
        '----+++-----+--++--+--++-+-+', '+----++------+--++--++-++-+-',
        '+-+--+--++--+++------++----+', '-+-+--++-++--+-+-----+++----',
        '+-+-+--++-++----+-----+++---', '-+-+-+--++-++----+-----+++--',
        '--+-+-+--++-++----+-----+++-', '+--+-+-+--++-+-----+-----+++',
        '-+--+-+++--++-------++----++', '+--++--+-+--+---++++-+------',
        '-+--++--+-+--+---++++-+-----', '--+--+++-+-+--+---+++--+----',
        '+--+--+-+-+-+-++---++---+---', '++--+----+-+-++++---+----+--',
        '-++--+-+--+-+-++++--------+-', '--++--+-+--+-+-++++--------+',
    ),
}


def _hadamard_factors(n):
    """(m, 2^k) with n = m * 2^k and m in (1, 12, 20, 28), or None."""
    power = n & -n  # the largest power of two dividing n
    odd = n // power
    if odd == 1:
        return 1, n
    for m in (12, 20, 28):
        # m = 4 * (its odd part): n needs that odd part and at least 4 as a factor.
        if odd == m // 4 and power >= 4:
            return m, n // m
    return None


def hadamard_transform(a, scale=None, stream=None):
    """The Walsh-Hadamard transform along the last axis: ``(H @ x) * scale`` per vector, with
    ``scale`` defaulting to ``1 / sqrt(n)`` (orthonormal).

    ``n`` must be ``m * 2^k`` with ``m`` in (1, 12, 20, 28). The power-of-two part runs as ``k``
    butterfly passes (never an ``n x n`` matrix); the order-``m`` part as a small matmul.
    Integer and boolean inputs give float32; the sums run in float32 for 16-bit floats.
    """
    a = _as_array(a)
    s = stream
    out_dtype = a.dtype if _is_float(a.dtype) else _mx.float32
    shape = tuple(a.shape)
    n = shape[-1] if shape else 1
    if a.size == 0:
        raise ValueError("[hadamard_transform] Does not support empty arrays.")
    factors = _hadamard_factors(n)
    if factors is None:
        raise ValueError("[hadamard] Only supports n = m*2^k where m in (1, 12, 20, 28).")
    m, power = factors
    compute = _mx.float64 if out_dtype == _mx.float64 else _mx.float32
    x = _mx.reshape(a.astype(compute, stream=s), (-1, m, power), stream=s)
    rows = x.shape[0]
    # Sylvester's H_2^k is the product of H_2 applied to each bit of the index: a pass per bit.
    half = 1
    while half < power:
        x = _mx.reshape(x, (rows, m, power // (2 * half), 2, half), stream=s)
        low = _mx.take(x, 0, axis=3, stream=s)
        high = _mx.take(x, 1, axis=3, stream=s)
        x = _mx.stack([_mx.add(low, high, stream=s), _mx.subtract(low, high, stream=s)], axis=3,
                      stream=s)
        half *= 2
    x = _mx.reshape(x, (rows, m, power), stream=s)
    if m > 1:
        unit = _mx.array([[1.0 if c == "+" else -1.0 for c in row]
                          for row in _HADAMARD_UNIT_TRANSFORMS[m]], dtype=compute)
        # y[i, j] = sum_i' H[i, i'] x[i', j], and H's transpose is the table above.
        x = _mx.swapaxes(_mx.matmul(_mx.swapaxes(x, -1, -2, stream=s), unit, stream=s), -1, -2,
                         stream=s)
    if scale is None:
        scale = 1.0 / math.sqrt(n)
    x = _mx.multiply(x, float(scale), stream=s)
    return _mx.reshape(x, shape, stream=s).astype(out_dtype, stream=s)


# ------------------------------------------------------------------------- streams, memory

_wired_limit = 0


def new_thread_unsafe_stream(device):
    """A new stream on ``device``. rill's streams may be used from any thread, so this is
    ``new_stream``; MLX's name (a stream not tied to the creating thread) is kept."""
    if device is None:
        raise TypeError("new_thread_unsafe_stream(): device must be a Device or DeviceType, "
                        "not None")
    if not _mx.is_available(device):
        raise ValueError("[new_thread_unsafe_stream] Cannot make gpu stream without gpu "
                         "backend.")
    return _mx.new_stream(device)


def set_wired_limit(limit):
    """Sets the wired (kept resident) memory limit and returns the previous one (initially 0).

    Wired memory is a Metal notion; rill has none (its GPU is CUDA), so the value is only kept,
    and returned by the next call. (MLX's CPU build keeps nothing and always returns 0.)"""
    global _wired_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise TypeError("set_wired_limit(): limit must be a non-negative int, got "
                        f"{limit!r}")
    previous, _wired_limit = _wired_limit, limit
    return previous


def _dtype_name(dtype):
    return repr(dtype).split(".")[-1]


def _deprecated(old, new):
    warnings.warn(f"{old} is deprecated and will be removed in a future version. Use {new} "
                  "instead.", DeprecationWarning, stacklevel=3)
