//! softmax over one or several axes.

use super::reduce::{axes_last, reduction_axes};
use super::{astype, full, make, reshape, transpose};
use crate::op::Op;
use crate::{Array, Result, StreamOrDevice};

/// `exp(a - max) / sum(exp(a - max))` over `axes` (every axis when None), computed stably.
/// Integers and bool give float32. float16/bfloat16 always compute in f32 on the CPU (the sum
/// included), so `precise` (MLX's request for exactly that) changes nothing there.
/// Over no axis at all every element is its own group: the result is all ones.
pub fn softmax(
    a: &Array,
    axes: Option<&[isize]>,
    precise: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    // The CPU kernel is always precise; see above.
    let _ = precise;
    let stream = s.into().resolve("softmax")?;
    let axes = reduction_axes("softmax", a, axes)?;
    let x = astype(a, a.dtype().to_inexact(), stream)?;
    match axes[..] {
        [] => full(x.shape(), 1, Some(x.dtype()), stream),
        [axis] => make(
            "softmax",
            x.shape().to_vec(),
            x.dtype(),
            stream,
            Op::Softmax { axis },
            vec![x],
        ),
        _ => {
            // Move the axes last, merge them into one, and undo both afterwards.
            let (moved, kept_shape) = axes_last(&x, &axes, stream)?;
            let last = moved.ndim() - 1;
            let y = make(
                "softmax",
                moved.shape().to_vec(),
                x.dtype(),
                stream,
                Op::Softmax { axis: last },
                vec![moved],
            )?;
            let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).collect();
            let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
            let split: Vec<isize> = perm.iter().map(|&d| x.shape()[d] as isize).collect();
            debug_assert_eq!(kept_shape.len(), kept.len());
            let y = reshape(&y, &split, stream)?;
            let mut inverse = vec![0isize; perm.len()];
            for (j, &d) in perm.iter().enumerate() {
                inverse[d] = j as isize;
            }
            transpose(&y, Some(&inverse), stream)
        }
    }
}
