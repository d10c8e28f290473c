//! `scaled_dot_product_attention`: `softmax(scale * q @ k^T + mask) @ v`, MLX's
//! `fast.scaled_dot_product_attention` without its `sinks`.
//!
//! On a CPU stream, floating inputs become one `Op::Attention` node, whose kernel
//! (`backend/cpu/attention.rs`) keeps a block of scores in cache instead of writing the whole
//! `(B, N_q, T_q, T_kv)` score matrix to memory and reading it back twice. Elsewhere (the GPU,
//! where cuBLAS runs the two products) and for other dtypes, the same function is built from
//! primitives ([`attention_composed`]); the node's gradient is built from the same pieces
//! (`transforms/rules/linalg.rs`).

use super::{
    add, arange, astype, broadcast_to, expand_dims, greater_equal, make, matmul, multiply, reshape,
    scalar_array, softmax, swapaxes, where_,
};
use crate::dtype::promote_types;
use crate::op::{AttentionMask, AttentionParams, Op};
use crate::{Array, DeviceType, Dtype, Error, Result, Scalar, Stream, StreamOrDevice};

const NAME: &str = "scaled_dot_product_attention";

/// The mask argument of [`scaled_dot_product_attention`].
#[derive(Clone, Debug)]
pub enum AttentionMaskArg {
    None,
    /// Lower-right aligned: query `i` sees keys `j <= i + T_kv - T_q`.
    Causal,
    /// Broadcastable to `(B, N_q, T_q, T_kv)`: bool (false masks out) or added to the scores.
    Array(Array),
}

/// `softmax(scale * q @ k^T + mask) @ v` for `q (B, N_q, T_q, D)`, `k (B, N_kv, T_kv, D)` and
/// `v (B, N_kv, T_kv, D_v)`, with grouped-query attention when `N_kv` divides `N_q`. The softmax
/// runs in float32 (float64 for float64 inputs); the result has the inputs' promoted dtype.
pub fn scaled_dot_product_attention(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f64,
    mask: AttentionMaskArg,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve(NAME)?;
    check_shapes(q, k, v)?;
    let dtype = promote_types(promote_types(q.dtype(), k.dtype()), v.dtype());
    let (b, nq, tq) = (q.shape()[0], q.shape()[1], q.shape()[2]);
    let tkv = k.shape()[2];
    let full_mask = [b, nq, tq, tkv];
    let mask = match mask {
        AttentionMaskArg::Array(m) => {
            if m.ndim() > 4 {
                return Err(Error::shape(
                    NAME,
                    format!(
                        "the mask has at most 4 dimensions, got shape {:?}",
                        m.shape()
                    ),
                ));
            }
            let fits = crate::shape::broadcast_shapes(NAME, m.shape(), &full_mask)
                .is_ok_and(|sh| sh == full_mask);
            if !fits {
                return Err(Error::shape(
                    NAME,
                    format!(
                        "the mask of shape {:?} does not broadcast to the scores' shape \
                         {full_mask:?} (B, N_q, T_q, T_kv)",
                        m.shape()
                    ),
                ));
            }
            AttentionMaskArg::Array(m)
        }
        other => other,
    };
    if !has_fused_attention(dtype, stream) {
        return attention_composed(q, k, v, scale, &mask, stream);
    }
    let (q, k, v) = (
        astype(q, dtype, stream)?,
        astype(k, dtype, stream)?,
        astype(v, dtype, stream)?,
    );
    let mut inputs = vec![q, k, v];
    let mask = match mask {
        AttentionMaskArg::None => AttentionMask::None,
        AttentionMaskArg::Causal => AttentionMask::Causal,
        AttentionMaskArg::Array(m) => {
            let (kind, m) = if m.dtype() == Dtype::Bool {
                (AttentionMask::Boolean, m)
            } else {
                (
                    AttentionMask::Additive,
                    astype(&m, score_dtype(dtype), stream)?,
                )
            };
            inputs.push(broadcast_to(&m, &full_mask, stream)?);
            kind
        }
    };
    let out_shape = vec![b, nq, tq, inputs[2].shape()[3]];
    make(
        NAME,
        out_shape,
        dtype,
        stream,
        Op::Attention(AttentionParams { scale, mask }),
        inputs,
    )
}

/// Whether attention of `dtype` on `stream` runs as one fused node (MLX's `force_fused` asks for
/// that): float dtypes on a CPU stream.
pub fn has_fused_attention(dtype: Dtype, stream: Stream) -> bool {
    stream.device().kind == DeviceType::Cpu
        && matches!(
            dtype,
            Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 | Dtype::Float64
        )
}

/// The dtype the scores and the softmax use for inputs of `dtype`.
pub(crate) fn score_dtype(dtype: Dtype) -> Dtype {
    if dtype == Dtype::Float64 {
        Dtype::Float64
    } else {
        Dtype::Float32
    }
}

fn check_shapes(q: &Array, k: &Array, v: &Array) -> Result<()> {
    for (name, x) in [("q", q), ("k", k), ("v", v)] {
        if x.ndim() != 4 {
            return Err(Error::shape(
                NAME,
                format!(
                    "{name} must have 4 dimensions (B, N, T, D), got shape {:?}",
                    x.shape()
                ),
            ));
        }
    }
    let (qs, ks, vs) = (q.shape(), k.shape(), v.shape());
    if ks[3] != qs[3] || vs[..3] != ks[..3] || ks[0] != qs[0] {
        return Err(Error::shape(
            NAME,
            format!("shapes do not match: q {qs:?}, k {ks:?}, v {vs:?}"),
        ));
    }
    if ks[1] == 0 || qs[1] % ks[1] != 0 {
        return Err(Error::shape(
            NAME,
            format!(
                "the number of query heads ({}) must be a multiple of the number of key/value \
                 heads ({})",
                qs[1], ks[1]
            ),
        ));
    }
    Ok(())
}

/// The attention probabilities `softmax(scale * q @ k^T + mask)` in the score dtype, of shape
/// `(B, N_kv, reps, T_q, T_kv)` when heads are grouped (`reps > 1`), `(B, N_q, T_q, T_kv)`
/// otherwise. `k` is expected already expanded for grouped heads (see [`grouped`]).
pub(crate) fn attention_probs(
    q: &Array,
    k: &Array,
    scale: f64,
    mask: &AttentionMaskArg,
    reps: usize,
    s: Stream,
) -> Result<Array> {
    let dtype = q.dtype();
    let sd = score_dtype(dtype);
    let qs = multiply(q, &scalar_array(Scalar::Float(scale), dtype, s)?, s)?;
    let scores = astype(&matmul(&qs, &swapaxes(k, -1, -2, s)?, s)?, sd, s)?;
    let (tq, tkv) = (
        scores.shape()[scores.ndim() - 2],
        scores.shape()[scores.ndim() - 1],
    );
    let masked = || scalar_array(Scalar::Float(AttentionMask::MASKED), sd, s);
    let scores = match mask {
        AttentionMaskArg::None => scores,
        AttentionMaskArg::Causal => {
            let rows = reshape(
                &arange(0.0, tq as f64, 1.0, Some(Dtype::Int32), s)?,
                &[tq as isize, 1],
                s,
            )?;
            let offset = scalar_array(Scalar::Int(tkv as i64 - tq as i64), Dtype::Int32, s)?;
            let cols = arange(0.0, tkv as f64, 1.0, Some(Dtype::Int32), s)?;
            let keep = greater_equal(&add(&rows, &offset, s)?, &cols, s)?;
            where_(&keep, &scores, &masked()?, s)?
        }
        AttentionMaskArg::Array(m) => {
            let m = grouped_mask(m, q.shape()[1], reps, s)?;
            if m.dtype() == Dtype::Bool {
                where_(&m, &scores, &masked()?, s)?
            } else {
                add(&scores, &astype(&m, sd, s)?, s)?
            }
        }
    };
    softmax(&scores, Some(&[-1]), true, s)
}

/// A mask broadcastable to `(B, N_q, T_q, T_kv)`, reshaped for scores of shape
/// `(B, N_kv, reps, T_q, T_kv)` when heads are grouped.
fn grouped_mask(m: &Array, nkv: usize, reps: usize, s: Stream) -> Result<Array> {
    if reps == 1 || m.ndim() < 3 {
        return Ok(m.clone());
    }
    let sh = m.shape();
    let n = sh.len();
    if sh[n - 3] == nkv * reps {
        let mut shape: Vec<isize> = sh[..n - 3].iter().map(|&d| d as isize).collect();
        shape.extend([
            nkv as isize,
            reps as isize,
            sh[n - 2] as isize,
            sh[n - 1] as isize,
        ]);
        reshape(m, &shape, s)
    } else {
        expand_dims(m, &[-3], s)
    }
}

/// `q (B, N_q, T_q, D)` as `(B, N_kv, reps, T_q, D)` and `k`, `v` with a new axis 2, for grouped
/// heads (`reps > 1`); unchanged otherwise.
pub(crate) fn grouped(
    q: &Array,
    k: &Array,
    v: &Array,
    s: Stream,
) -> Result<(Array, Array, Array, usize)> {
    let (b, nq, tq, d) = (q.shape()[0], q.shape()[1], q.shape()[2], q.shape()[3]);
    let nkv = k.shape()[1];
    let reps = nq / nkv;
    if reps == 1 {
        return Ok((q.clone(), k.clone(), v.clone(), 1));
    }
    let q = reshape(
        q,
        &[
            b as isize,
            nkv as isize,
            reps as isize,
            tq as isize,
            d as isize,
        ],
        s,
    )?;
    Ok((q, expand_dims(k, &[2], s)?, expand_dims(v, &[2], s)?, reps))
}

/// The attention built from primitives: what the GPU runs (cuBLAS does the products) and what
/// dtypes without a fused kernel get.
pub(crate) fn attention_composed(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: f64,
    mask: &AttentionMaskArg,
    s: Stream,
) -> Result<Array> {
    let dtype = promote_types(promote_types(q.dtype(), k.dtype()), v.dtype());
    let (q, k, v) = (
        astype(q, dtype, s)?,
        astype(k, dtype, s)?,
        astype(v, dtype, s)?,
    );
    let (b, nq, tq) = (q.shape()[0], q.shape()[1], q.shape()[2]);
    let (qg, kg, vg, reps) = grouped(&q, &k, &v, s)?;
    let probs = attention_probs(&qg, &kg, scale, mask, reps, s)?;
    let out = matmul(&astype(&probs, dtype, s)?, &vg, s)?;
    let out = if reps > 1 {
        reshape(
            &out,
            &[b as isize, nq as isize, tq as isize, v.shape()[3] as isize],
            s,
        )?
    } else {
        out
    };
    astype(&out, dtype, s)
}
