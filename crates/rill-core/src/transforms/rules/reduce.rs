//! Rules of the reductions, softmax and logsumexp. A reduction node keeps its reduced dims
//! as size 1, so its cotangent broadcasts against the input directly.

use super::dims;
use crate::op::ReduceOp;
use crate::ops::{
    astype, axes_last, broadcast_to, cumprod, divide, equal, exp, multiply, reshape, subtract, sum,
    transpose,
};
use crate::{Array, Result, Stream};

pub(super) fn reduce(
    op: ReduceOp,
    axes: &[usize],
    x: &Array,
    out: &Array,
    g: &Array,
    s: Stream,
) -> Result<Option<Array>> {
    Ok(Some(match op {
        ReduceOp::Sum => broadcast_to(g, x.shape(), s)?,
        ReduceOp::Prod => prod(axes, x, g, s)?,
        // Shared equally among the elements that reach the extreme (as MLX).
        ReduceOp::Max | ReduceOp::Min => {
            let mask = astype(&equal(x, out, s)?, g.dtype(), s)?;
            let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            let count = sum(&mask, Some(&ax), true, s)?;
            multiply(&divide(g, &count, s)?, &mask, s)?
        }
        ReduceOp::All | ReduceOp::Any => return Ok(None),
    }))
}

/// The product's gradient for an element is the product of all the others, computed with an
/// exclusive running product from each side (so a zero element needs no division by it).
fn prod(axes: &[usize], x: &Array, g: &Array, s: Stream) -> Result<Array> {
    let (moved, kept_shape) = axes_last(x, axes, s)?;
    let before = cumprod(&moved, Some(-1), false, false, s)?;
    let after = cumprod(&moved, Some(-1), true, false, s)?;
    let others = multiply(&before, &after, s)?;
    let mut g_shape = dims(&kept_shape);
    g_shape.push(1);
    let r = multiply(&reshape(g, &g_shape, s)?, &others, s)?;
    // Undo `axes_last`: split the merged dim, then put every dim back where it was.
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let split: Vec<isize> = perm.iter().map(|&d| x.shape()[d] as isize).collect();
    let r = reshape(&r, &split, s)?;
    let mut inverse = vec![0isize; perm.len()];
    for (j, &d) in perm.iter().enumerate() {
        inverse[d] = j as isize;
    }
    transpose(&r, Some(&inverse), s)
}

/// `y = softmax(x)`: `dx = y * (g - sum(g * y))` along the axis.
pub(super) fn softmax(axis: usize, out: &Array, g: &Array, s: Stream) -> Result<Array> {
    let gy = multiply(g, out, s)?;
    let total = sum(&gy, Some(&[axis as isize]), true, s)?;
    multiply(out, &subtract(g, &total, s)?, s)
}

/// `y = logsumexp(x)` (keeping the axis): `dx = g * exp(x - y)`, the softmax.
pub(super) fn logsumexp(x: &Array, out: &Array, g: &Array, s: Stream) -> Result<Array> {
    multiply(g, &exp(&subtract(x, out, s)?, s)?, s)
}
