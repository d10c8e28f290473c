"""rill.core.fast: MLX's ``mx.fast`` namespace (normalizations, rotary embeddings, attention, the
cross-entropy loss), with MLX's signatures and numerics: reductions and the softmax accumulate
in float32 whatever the input's precision, and results come back in the input's dtype.

Each function is built from rill's primitives, so it runs on every device and stream, is lazy,
and differentiates with ``grad``/``vjp`` like any other composition. They are not single fused
kernels yet (issue 10): they cost what their parts cost. ``cuda_kernel`` and
``precompiled_cuda_kernel`` run a user's own CUDA kernel on a GPU stream (the core's
``ops/cuda_kernel.rs``).
"""

import math

import rill._core as _c


# What a masked-out score becomes: float32's lowest finite value, not -inf, so that a row with
# every key masked averages the values evenly instead of turning into NaN (as MLX does).
_MASKED = -3.4028234663852886e38


def _float32(x, stream):
    return x if x.dtype == _c.float32 else _c.astype(x, _c.float32, stream=stream)


def _check_weight(op, name, w, x):
    if w is None:
        return
    if w.ndim != 1 or (x.ndim > 0 and w.shape[0] != x.shape[-1]):
        raise ValueError(
            f"[{op}] {name} must have one dimension of the size of the input's last axis "
            f"({x.shape[-1] if x.ndim else 'none'}), got shape {tuple(w.shape)}")


def _as_array(x):
    return x if isinstance(x, _c.array) else _c.array(x)


def rms_norm(x, weight, eps, *, stream=None):
    """Root-mean-square normalization over the last axis: ``x / sqrt(mean(x**2) + eps) * weight``
    (``weight`` of the last axis's size, or None)."""
    x = _as_array(x)
    if x.ndim == 0:
        raise ValueError("[rms_norm] the input must have at least one dimension")
    weight = None if weight is None else _as_array(weight)
    _check_weight("rms_norm", "weight", weight, x)
    x32 = _float32(x, stream)
    ms = _c.mean(_c.square(x32, stream=stream), axis=-1, keepdims=True, stream=stream)
    out = _c.multiply(x32, _c.rsqrt(_c.add(ms, float(eps), stream=stream), stream=stream),
                      stream=stream)
    out = _c.astype(out, x.dtype, stream=stream)
    if weight is not None:
        out = _c.multiply(out, weight, stream=stream)
    return out


def layer_norm(x, weight, bias, eps, *, stream=None):
    """Layer normalization over the last axis: ``(x - mean) / sqrt(var + eps) * weight + bias``
    (``weight`` and ``bias`` of the last axis's size, or None)."""
    x = _as_array(x)
    if x.ndim == 0:
        raise ValueError("[layer_norm] the input must have at least one dimension")
    weight = None if weight is None else _as_array(weight)
    bias = None if bias is None else _as_array(bias)
    _check_weight("layer_norm", "weight", weight, x)
    _check_weight("layer_norm", "bias", bias, x)
    x32 = _float32(x, stream)
    mu = _c.mean(x32, axis=-1, keepdims=True, stream=stream)
    centered = _c.subtract(x32, mu, stream=stream)
    var = _c.mean(_c.square(centered, stream=stream), axis=-1, keepdims=True, stream=stream)
    out = _c.multiply(centered, _c.rsqrt(_c.add(var, float(eps), stream=stream), stream=stream),
                      stream=stream)
    out = _c.astype(out, x.dtype, stream=stream)
    if weight is not None:
        out = _c.multiply(out, weight, stream=stream)
    if bias is not None:
        out = _c.add(out, bias, stream=stream)
    return out


def rope(a, dims, *, traditional, base, scale, offset, freqs=None, stream=None):
    """Rotary positional encoding of the first ``dims`` features of ``a`` (shape ``(B, *, T, D)``),
    positions ``(offset + t) * scale``; ``traditional`` rotates consecutive pairs, else the two
    halves. Exactly one of ``base`` and ``freqs`` is given; ``offset`` is an int, a scalar array
    or one offset per batch entry."""
    a = _as_array(a)
    if a.ndim < 3:
        raise ValueError(f"[rope] the input must have at least 3 dimensions, got shape "
                         f"{tuple(a.shape)}")
    if dims <= 0 or dims % 2 or dims > a.shape[-1]:
        raise ValueError(f"[rope] dims must be even, positive and at most the feature size "
                         f"{a.shape[-1]}, got {dims}")
    if (base is None) == (freqs is None):
        raise ValueError("[rope] exactly one of base and freqs must be None")
    half = dims // 2
    if freqs is not None:
        freqs = _as_array(freqs)
        if freqs.ndim != 1 or freqs.shape[0] != half:
            raise ValueError(f"[rope] freqs must have shape ({half},), got {tuple(freqs.shape)}")
        inv = _c.reciprocal(_float32(freqs, stream), stream=stream)
    else:
        inv = _c.exp(_c.multiply(_c.arange(0, half, dtype=_c.float32, stream=stream),
                                 -math.log(base) / half, stream=stream), stream=stream)
    t = a.shape[-2]
    pos = _c.arange(0, t, dtype=_c.float32, stream=stream)
    if isinstance(offset, _c.array) and offset.ndim > 0:
        if offset.ndim != 1 or offset.shape[0] != a.shape[0]:
            raise ValueError(f"[rope] an array offset is a scalar or one offset per batch entry "
                             f"({a.shape[0]}), got shape {tuple(offset.shape)}")
        off = _c.reshape(_float32(offset, stream), (a.shape[0],) + (1,) * (a.ndim - 1),
                         stream=stream)
        pos = _c.add(off, _c.reshape(pos, (t, 1)), stream=stream)  # (B, 1.., T, 1)
    else:
        off = _float32(_as_array(offset), stream)
        pos = _c.reshape(_c.add(pos, off, stream=stream), (t, 1), stream=stream)
    theta = _c.multiply(_c.multiply(pos, float(scale), stream=stream), inv, stream=stream)
    cos = _c.cos(theta, stream=stream)
    sin = _c.sin(theta, stream=stream)
    x = _float32(a, stream)
    if traditional:
        x1 = x[..., 0:dims:2]
        x2 = x[..., 1:dims:2]
    else:
        x1 = x[..., :half]
        x2 = x[..., half:dims]
    r1 = _c.subtract(_c.multiply(x1, cos, stream=stream), _c.multiply(x2, sin, stream=stream),
                     stream=stream)
    r2 = _c.add(_c.multiply(x1, sin, stream=stream), _c.multiply(x2, cos, stream=stream),
                stream=stream)
    if traditional:
        rotated = _c.reshape(_c.stack([r1, r2], axis=-1, stream=stream),
                             tuple(r1.shape[:-1]) + (dims,), stream=stream)
    else:
        rotated = _c.concatenate([r1, r2], axis=-1, stream=stream)
    rotated = _c.astype(rotated, a.dtype, stream=stream)
    if dims < a.shape[-1]:
        rest = a[..., dims:]
        rotated = _c.concatenate([_c.broadcast_to(rotated, tuple(rest.shape[:-1]) + (dims,),
                                                  stream=stream), rest], axis=-1, stream=stream)
    return rotated


def scaled_dot_product_attention(q, k, v, *, scale, mask=None, sinks=None, force_fused=False,
                                 stream=None):
    """``softmax(q @ k.T * scale + mask) @ v`` for ``q`` of shape ``(B, N_q, T_q, D)`` and ``k``,
    ``v`` of shape ``(B, N_kv, T_kv, D)`` (grouped-query attention when ``N_kv`` divides
    ``N_q``). ``mask``: None, ``"causal"`` (lower-right aligned), a boolean mask (False: masked
    out) or an additive one, broadcastable to ``(B, N_q, T_q, T_kv)``. ``sinks``: one extra
    logit per query head that takes part in the softmax. The softmax runs in float32."""
    q, k, v = _as_array(q), _as_array(k), _as_array(v)
    if force_fused and sinks is not None:
        raise ValueError("[scaled_dot_product_attention] force_fused=True but there is no "
                         "fused kernel with sinks")
    for name, x in (("q", q), ("k", k), ("v", v)):
        if x.ndim != 4:
            raise ValueError(f"[scaled_dot_product_attention] {name} must have 4 dimensions "
                             f"(B, N, T, D), got shape {tuple(x.shape)}")
    b, nq, tq, d = q.shape
    nkv, tkv = k.shape[1], k.shape[2]
    if k.shape[3] != d or tuple(v.shape[:3]) != tuple(k.shape[:3]) or k.shape[0] != b:
        raise ValueError(
            f"[scaled_dot_product_attention] shapes do not match: q {tuple(q.shape)}, "
            f"k {tuple(k.shape)}, v {tuple(v.shape)}")
    if nq % nkv:
        raise ValueError(f"[scaled_dot_product_attention] the number of query heads ({nq}) must "
                         f"be a multiple of the number of key/value heads ({nkv})")
    reps = nq // nkv
    if sinks is None:
        # The core: one fused node on a CPU stream, the same composition as below elsewhere.
        return _c._scaled_dot_product_attention(q, k, v, scale, mask, force_fused, stream=stream)
    dtype = _c.result_type(q, k, v)
    qs = _c.multiply(q, _c.array(scale, dtype=dtype), stream=stream)
    if reps > 1:
        qs = _c.reshape(qs, (b, nkv, reps, tq, d), stream=stream)
        k = _c.expand_dims(k, 2, stream=stream)
        v = _c.expand_dims(v, 2, stream=stream)
    scores = _c.matmul(qs, _c.swapaxes(k, -1, -2, stream=stream), stream=stream)
    scores = _float32(scores, stream)
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"[scaled_dot_product_attention] the only string mask is 'causal', "
                             f"got {mask!r}")
        rows = _c.reshape(_c.arange(0, tq, stream=stream), (tq, 1), stream=stream)
        keep = _c.greater_equal(_c.add(rows, tkv - tq, stream=stream),
                                _c.arange(0, tkv, stream=stream), stream=stream)
        scores = _c.where(keep, scores, _c.array(_MASKED, dtype=_c.float32), stream=stream)
    elif mask is not None:
        mask = _as_array(mask)
        if mask.ndim > 4:
            raise ValueError(f"[scaled_dot_product_attention] the mask has at most 4 dimensions, "
                             f"got shape {tuple(mask.shape)}")
        if reps > 1 and mask.ndim >= 3:
            # (..., N_q, T_q, T_kv) -> (..., N_kv, reps, T_q, T_kv), or a new axis for a
            # mask shared by all heads.
            if mask.shape[-3] == nq:
                mask = _c.reshape(mask, tuple(mask.shape[:-3]) + (nkv, reps) +
                                  tuple(mask.shape[-2:]), stream=stream)
            else:
                mask = _c.expand_dims(mask, -3, stream=stream)
        if mask.dtype == _c.bool_:
            scores = _c.where(mask, scores, _c.array(_MASKED, dtype=_c.float32),
                              stream=stream)
        else:
            scores = _c.add(scores, _float32(mask, stream), stream=stream)
    if sinks is not None:
        sinks = _float32(_as_array(sinks), stream)
        if sinks.ndim != 1 or sinks.shape[0] != nq:
            raise ValueError(f"[scaled_dot_product_attention] sinks must have shape ({nq},), "
                             f"got {tuple(sinks.shape)}")
        shape = (1, nkv, reps, 1, 1) if reps > 1 else (1, nq, 1, 1)
        col = _c.broadcast_to(_c.reshape(sinks, shape, stream=stream),
                              tuple(scores.shape[:-1]) + (1,), stream=stream)
        probs = _c.softmax(_c.concatenate([col, scores], axis=-1, stream=stream), axis=-1,
                           stream=stream)[..., 1:]
    else:
        probs = _c.softmax(scores, axis=-1, stream=stream)
    out = _c.matmul(_c.astype(probs, v.dtype, stream=stream), v, stream=stream)
    if reps > 1:
        out = _c.reshape(out, (b, nq, tq, v.shape[-1]), stream=stream)
    return _c.astype(out, dtype, stream=stream)


def cross_entropy(logits, targets, *, stream=None):
    """``logsumexp(logits, -1) - logits[..., targets]`` in float32, of ``targets``' shape
    (class indices into the last axis of ``logits``)."""
    logits, targets = _as_array(logits), _as_array(targets)
    if logits.ndim == 0 or tuple(targets.shape) != tuple(logits.shape[:-1]):
        raise ValueError(f"[cross_entropy] targets must have the shape of logits without its last "
                         f"axis: logits {tuple(logits.shape)}, targets {tuple(targets.shape)}")
    if not _c.issubdtype(targets.dtype, _c.integer):
        raise ValueError(f"[cross_entropy] targets must be integer class indices, got "
                         f"{targets.dtype}")
    x = _float32(logits, stream)
    picked = _c.take_along_axis(x, _c.expand_dims(targets, -1, stream=stream), axis=-1,
                                stream=stream)
    return _c.subtract(_c.logsumexp(x, axis=-1, stream=stream),
                       _c.squeeze(picked, -1, stream=stream), stream=stream)


def gated_delta_update(q, k, v, gamma, beta, initial_state=None, mask=None, stream=None):
    """The gated delta rule (a linear-attention recurrence) over the time axis, as MLX's.

    Shapes: ``q`` and ``k`` ``(B, T, Hk, Dk)``, ``v`` ``(B, T, Hv, Dv)`` with ``Hv`` a multiple
    of ``Hk`` (each key head serves ``Hv / Hk`` value heads), ``gamma`` (the decay, linear
    space) ``(B, T, Hv)`` or ``(B, T, Hv, Dk)``, ``beta`` (the update rate) ``(B, T, Hv)``,
    ``initial_state`` ``(B, Hv, Dv, Dk)`` (zeros when None) and ``mask`` ``(B, T)`` (False: the
    step leaves the state alone and outputs zeros). Per step ``t``::

        S = gamma_t * S
        S = S + outer((v_t - S @ k_t) * beta_t, k_t)
        out_t = S @ q_t

    Returns ``(out (B, T, Hv, Dv) in q's dtype, final state in float32)``. rill unrolls the
    steps into ordinary lazy ops (no chunked kernel yet), the state in float32 as MLX keeps it.
    """
    q, k, v = _as_array(q), _as_array(k), _as_array(v)
    gamma, beta = _as_array(gamma), _as_array(beta)
    op = "gated_delta_update"
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"[{op}] q, k and v must have 4 dimensions (B, T, H, D), got shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)} and {tuple(v.shape)}")
    b, t, hk, dk = q.shape
    hv, dv = v.shape[2], v.shape[3]
    if tuple(k.shape) != tuple(q.shape) or tuple(v.shape[:2]) != (b, t) or hv % hk:
        raise ValueError(f"[{op}] shapes do not match: q {tuple(q.shape)}, k {tuple(k.shape)}, "
                         f"v {tuple(v.shape)} (k must have q's shape, v the same B and T and a "
                         "multiple of its heads)")
    if tuple(gamma.shape) not in ((b, t, hv), (b, t, hv, dk)):
        raise ValueError(f"[{op}] gamma must have shape {(b, t, hv)} or {(b, t, hv, dk)}, got "
                         f"{tuple(gamma.shape)}")
    if tuple(beta.shape) != (b, t, hv):
        raise ValueError(f"[{op}] beta must have shape {(b, t, hv)}, got {tuple(beta.shape)}")
    s = stream
    f32 = _c.float32
    if initial_state is None:
        state = _c.zeros((b, hv, dv, dk), dtype=f32, stream=s)
    else:
        state = _as_array(initial_state)
        if tuple(state.shape) != (b, hv, dv, dk):
            raise ValueError(f"[{op}] initial_state must have shape {(b, hv, dv, dk)}, got "
                             f"{tuple(state.shape)}")
        state = _float32(state, s)
    if mask is not None:
        mask = _as_array(mask)
        if tuple(mask.shape) != (b, t):
            raise ValueError(f"[{op}] mask must have shape {(b, t)}, got {tuple(mask.shape)}")
        mask = mask.astype(_c.bool_, stream=s)
    reps = hv // hk
    # Each key head repeated for its value heads: (B, T, Hv, Dk).
    if reps > 1:
        q = _c.repeat(q, reps, axis=2, stream=s)
        k = _c.repeat(k, reps, axis=2, stream=s)
    q32, k32, v32 = _float32(q, s), _float32(k, s), _float32(v, s)
    decay = _float32(gamma, s)
    # Broadcast the decay over the state's (Dv, Dk) matrix: per head, or per head and key dim.
    decay = (_c.reshape(decay, (b, t, hv, 1, 1), stream=s) if decay.ndim == 3
             else _c.expand_dims(decay, 3, stream=s))
    rate = _c.reshape(_float32(beta, s), (b, t, hv, 1), stream=s)
    outs = []
    for step in range(t):
        k_t = k32[:, step]  # (B, Hv, Dk)
        decayed = _c.multiply(state, decay[:, step], stream=s)
        recalled = _c.squeeze(_c.matmul(decayed, _c.expand_dims(k_t, -1, stream=s), stream=s),
                              -1, stream=s)  # (B, Hv, Dv)
        delta = _c.multiply(_c.subtract(v32[:, step], recalled, stream=s), rate[:, step],
                            stream=s)
        updated = _c.add(decayed, _c.multiply(_c.expand_dims(delta, -1, stream=s),
                                              _c.expand_dims(k_t, -2, stream=s), stream=s),
                         stream=s)
        out = _c.squeeze(_c.matmul(updated, _c.expand_dims(q32[:, step], -1, stream=s),
                                   stream=s), -1, stream=s)
        if mask is not None:
            keep = mask[:, step]
            updated = _c.where(_c.reshape(keep, (b, 1, 1, 1), stream=s), updated, state,
                               stream=s)
            out = _c.where(_c.reshape(keep, (b, 1, 1), stream=s), out, 0.0, stream=s)
        state = updated
        outs.append(out)
    out = _c.stack(outs, axis=1, stream=s) if outs else _c.zeros((b, 0, hv, dv), stream=s)
    return [_c.astype(out, q.dtype, stream=s), state]


def metal_kernel(*args, **kwargs):
    """MLX's custom Metal kernels: rill has no Metal device (as MLX without Metal)."""
    raise RuntimeError("[metal_kernel] Metal is not available: rill runs on the CPU and on "
                       "NVIDIA GPUs through CUDA")


_include_dirs_added = False


def _add_pip_cuda_headers():
    """Lets NVRTC find CUDA's headers where pip put them (the ``nvidia-cuda-runtime`` wheels that
    PyTorch and CuPy install): ``nvidia/cu13/include`` or, for CUDA 12, ``nvidia/cuda_runtime``
    and ``nvidia/cuda_cccl``. The core also looks in the toolkit's usual places."""
    global _include_dirs_added
    if _include_dirs_added:
        return
    _include_dirs_added = True
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return
    for root in (spec.submodule_search_locations or []) if spec else []:
        for sub in ("cu13", "cuda_runtime", "cuda_cccl"):
            inc = os.path.join(root, sub, "include")
            if os.path.isdir(inc):
                _c._add_cuda_include_dir(inc)


class _CudaKernelFunction:
    """The callable ``cuda_kernel`` returns: each call is one launch, lazily, on a GPU stream."""

    def __init__(self, kernel, name):
        self._kernel = kernel
        self._name = name

    def __call__(self, *, inputs, output_shapes, output_dtypes, grid, threadgroup, template=None,
                 init_value=None, verbose=False, stream=None):
        template = [(str(n), v) for n, v in (template or [])]
        inputs = list(inputs)
        output_dtypes = list(output_dtypes)
        if verbose:
            src = self._kernel.source(inputs, output_dtypes, template)
            print(f"Generated source code for `{self._name}`:\n```\n{src}\n```")
        return self._kernel.launch(inputs, list(output_shapes), output_dtypes, tuple(grid),
                                   tuple(threadgroup), template,
                                   None if init_value is None else float(init_value), stream)

    def __repr__(self):
        return f"<cuda_kernel {self._name}>"


def cuda_kernel(name, input_names, output_names, source, header="", ensure_row_contiguous=True,
                shared_memory=0):
    """A custom CUDA kernel compiled at run time by NVRTC from the body ``source``; its signature
    is generated from ``input_names`` and ``output_names`` as MLX generates it (each input
    ``const T*``, with ``<input>_shape``/``_strides``/``_ndim`` when the body names them; each
    output ``T*``). Call the result with ``inputs``, ``output_shapes``, ``output_dtypes``,
    ``grid`` (in threads), ``threadgroup`` and optionally ``template``, ``init_value``,
    ``verbose`` and ``stream``; it returns the list of outputs."""
    _add_pip_cuda_headers()
    kernel = _c._CudaKernel(name, list(input_names), list(output_names), source, header,
                            bool(ensure_row_contiguous), int(shared_memory))
    return _CudaKernelFunction(kernel, name)


def precompiled_cuda_kernel(*, name, compiled_source, inputs, output_shapes, output_dtypes,
                            scalars, grid, threadgroup, shared_memory=0, init_value=None,
                            ensure_row_contiguous=False, stream=None):
    """Runs the kernel ``name`` of ``compiled_source`` (PTX or a CUBIN, as bytes) with the
    inputs' pointers, the outputs' pointers and then ``scalars`` (bool, int or float) as its
    parameters; ``grid`` counts threads, as in ``cuda_kernel``."""
    if isinstance(compiled_source, str):
        compiled_source = compiled_source.encode()
    return _c._precompiled_cuda_kernel(name, bytes(compiled_source), list(inputs),
                                       list(output_shapes), list(output_dtypes), list(scalars),
                                       tuple(grid), tuple(threadgroup), int(shared_memory),
                                       None if init_value is None else float(init_value),
                                       bool(ensure_row_contiguous), stream)
