//! Rules of the matrix products. The kernel's operands already have equal batch dims (the builder
//! broadcast them), so each cotangent is one product with the other operand transposed.

use super::constant;
use crate::op::{AttentionMask, AttentionParams};
use crate::ops::{
    astype, attention_probs, grouped, matmul as mm, multiply, reshape, score_dtype, subtract, sum,
    swapaxes, AttentionMaskArg,
};
use crate::{Array, Result, Stream};

/// `alpha * a @ b`: `da = alpha * g @ bᵀ`, `db = alpha * aᵀ @ g`.
pub(super) fn matmul(
    a: &Array,
    b: &Array,
    g: &Array,
    alpha: f64,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let scale = |x: Array| -> Result<Array> {
        if alpha == 1.0 {
            Ok(x)
        } else {
            multiply(&x, &constant(alpha, x.dtype(), s)?, s)
        }
    };
    let ga = if wants[0] {
        Some(scale(mm(g, &swapaxes(b, -1, -2, s)?, s)?)?)
    } else {
        None
    };
    let gb = if wants[1] {
        Some(scale(mm(&swapaxes(a, -1, -2, s)?, g, s)?)?)
    } else {
        None
    };
    Ok(vec![ga, gb])
}

/// `Op::Attention`, `O = P @ v` with `P = softmax(S)`, `S = scale * q @ kᵀ + mask`, in the score
/// dtype: `dv = Pᵀ @ g`, `dS = P * (dP - rowsum(dP * P))` with `dP = g @ vᵀ`,
/// `dq = scale * dS @ k`, `dk = scale * dSᵀ @ q`, and `dS` itself for an additive mask. `P` is
/// computed again from primitives (the fused kernel keeps no scores), so the backward pass is an
/// ordinary graph and differentiates further. Grouped heads sum `dk` and `dv` over each group.
pub(super) fn attention(
    p: &AttentionParams,
    inputs: &[Array],
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
    let dtype = q.dtype();
    let sd = score_dtype(dtype);
    let mask = match p.mask {
        AttentionMask::None => AttentionMaskArg::None,
        AttentionMask::Causal => AttentionMaskArg::Causal,
        AttentionMask::Additive | AttentionMask::Boolean => {
            AttentionMaskArg::Array(inputs[3].clone())
        }
    };
    let (qg, kg, vg, reps) = grouped(q, k, v, s)?;
    let probs = attention_probs(&qg, &kg, p.scale, &mask, reps, s)?;
    let to_sd = |x: &Array| astype(x, sd, s);
    let gg = to_sd(&reshape(g, &grouped_shape(g.shape(), reps), s)?)?;
    let t = |x: &Array| swapaxes(x, -1, -2, s);
    // Back from the grouped layout to the input's: summed over each group for k and v.
    let ungroup = |x: Array, like: &Array, summed: bool| -> Result<Array> {
        let x = if reps == 1 {
            x
        } else if summed {
            sum(&x, Some(&[2]), false, s)?
        } else {
            let shape: Vec<isize> = like.shape().iter().map(|&d| d as isize).collect();
            reshape(&x, &shape, s)?
        };
        astype(&x, like.dtype(), s)
    };
    let scaled = |x: Array| multiply(&x, &constant(p.scale, sd, s)?, s);
    let dv = if wants[2] {
        Some(ungroup(mm(&t(&probs)?, &gg, s)?, v, true)?)
    } else {
        None
    };
    let needs_ds = wants[0] || wants[1] || (wants.len() > 3 && wants[3]);
    let ds = if needs_ds {
        let dp = mm(&gg, &t(&to_sd(&vg)?)?, s)?;
        let row = sum(&multiply(&dp, &probs, s)?, Some(&[-1]), true, s)?;
        Some(multiply(&probs, &subtract(&dp, &row, s)?, s)?)
    } else {
        None
    };
    let dq = match &ds {
        Some(ds) if wants[0] => Some(ungroup(scaled(mm(ds, &to_sd(&kg)?, s)?)?, q, false)?),
        _ => None,
    };
    let dk = match &ds {
        Some(ds) if wants[1] => Some(ungroup(scaled(mm(&t(ds)?, &to_sd(&qg)?, s)?)?, k, true)?),
        _ => None,
    };
    let mut grads = vec![dq, dk, dv];
    if inputs.len() > 3 {
        grads.push(match (&ds, p.mask) {
            (Some(ds), AttentionMask::Additive) if wants[3] => {
                let m = &inputs[3];
                let shape: Vec<isize> = m.shape().iter().map(|&d| d as isize).collect();
                Some(astype(&reshape(ds, &shape, s)?, m.dtype(), s)?)
            }
            _ => None,
        });
    }
    Ok(grads)
}

/// `(B, N_q, T, D)` as `(B, N_kv, reps, T, D)` for grouped heads.
fn grouped_shape(shape: &[usize], reps: usize) -> Vec<isize> {
    let sh: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    if reps == 1 {
        return sh;
    }
    vec![sh[0], sh[1] / reps as isize, reps as isize, sh[2], sh[3]]
}
