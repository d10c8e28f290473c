//! Sorting along an axis: sort, argsort and topk.
//!
//! The order is NumPy's: ascending, NaN after every number (complex numbers lexicographically,
//! with NumPy's placement of NaN parts), false before true. Sorts are stable, so argsort gives
//! equal elements in their original order. `axis = None` sorts the flattened array.

use super::{make, reshape, slice_dims, SliceDim};
use crate::op::Op;
use crate::shape::normalize_axis;
use crate::{Array, Dtype, Error, Result, StreamOrDevice};

/// `a` flattened when `axis` is None; the (normalized) axis to sort along.
fn prepare(
    op: &'static str,
    a: &Array,
    axis: Option<isize>,
    s: StreamOrDevice,
) -> Result<(Array, usize)> {
    match axis {
        None => Ok((reshape(a, &[-1], s)?, 0)),
        Some(ax) => Ok((a.clone(), normalize_axis(op, ax, a.shape())?)),
    }
}

/// `a` sorted along `axis` (the flattened array when None).
pub fn sort(a: &Array, axis: Option<isize>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let s = s.into();
    let stream = s.resolve("sort")?;
    let (a, axis) = prepare("sort", a, axis, s)?;
    make(
        "sort",
        a.shape().to_vec(),
        a.dtype(),
        stream,
        Op::Sort { axis },
        vec![a],
    )
}

/// The indices (uint32, as MLX) that sort `a` along `axis` (the flattened array when None).
/// Stable: equal elements keep their order.
pub fn argsort(a: &Array, axis: Option<isize>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let s = s.into();
    let stream = s.resolve("argsort")?;
    let (a, axis) = prepare("argsort", a, axis, s)?;
    let n = a.shape()[axis];
    if n > u32::MAX as usize + 1 {
        return Err(Error::shape(
            "argsort",
            format!(
                "axis {axis} of shape {:?} has {n} elements, more than uint32 indices can address",
                a.shape()
            ),
        ));
    }
    make(
        "argsort",
        a.shape().to_vec(),
        Dtype::Uint32,
        stream,
        Op::ArgSort { axis },
        vec![a],
    )
}

/// The `k` largest elements of `a` along `axis` (of the flattened array when None), in ascending
/// order. NaN counts as the largest value.
pub fn topk(
    a: &Array,
    k: usize,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let s = s.into();
    let (flat, ax) = prepare("topk", a, axis, s)?;
    let n = flat.shape()[ax];
    if k > n {
        return Err(Error::arg(
            "topk",
            format!(
                "k={k} is larger than axis {ax} (size {n}) of an array of shape {:?}",
                a.shape()
            ),
        ));
    }
    let sorted = sort(&flat, Some(ax as isize), s)?;
    let dims: Vec<SliceDim> = sorted
        .shape()
        .iter()
        .enumerate()
        .map(|(d, &len)| {
            if d == ax {
                SliceDim {
                    start: n - k,
                    step: 1,
                    len: k,
                }
            } else {
                SliceDim {
                    start: 0,
                    step: 1,
                    len,
                }
            }
        })
        .collect();
    slice_dims(&sorted, &dims, s)
}
