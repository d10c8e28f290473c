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

/// `kth` checked against the size `n` of the partitioned axis (negatives count from the end).
fn check_kth(op: &'static str, kth: isize, n: usize, shape: &[usize], axis: usize) -> Result<()> {
    if kth >= n as isize || kth < -(n as isize) {
        return Err(Error::arg(
            op,
            format!("invalid kth {kth} along axis {axis} for an array of shape {shape:?}"),
        ));
    }
    Ok(())
}

/// `a` rearranged along `axis` (of the flattened `a` when None) so that the element at `kth` is
/// the one a sort would put there, with no larger element before it and no smaller one after.
/// Built on the full sort, which is one such arrangement.
pub fn partition(
    a: &Array,
    kth: isize,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let s = s.into();
    let (x, ax) = prepare("partition", a, axis, s)?;
    check_kth("partition", kth, x.shape()[ax], a.shape(), ax)?;
    sort(&x, Some(ax as isize), s)
}

/// The indices (uint32) that [`partition`] `a` along `axis`.
pub fn argpartition(
    a: &Array,
    kth: isize,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let s = s.into();
    let (x, ax) = prepare("argpartition", a, axis, s)?;
    check_kth("argpartition", kth, x.shape()[ax], a.shape(), ax)?;
    argsort(&x, Some(ax as isize), s)
}

/// Where each of `values` would be inserted into the 1-D ascending `sorted_sequence` to keep it
/// sorted (uint32 indices, `values`'s shape): before equal elements (`right == false`) or after
/// them. NaN sorts last, as in [`sort`]. Each value is compared with every element (`O(n m)`).
pub fn searchsorted(
    sorted_sequence: &Array,
    values: &Array,
    right: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    use super::{astype, expand_dims, isnan, less, logical_and, logical_not, logical_or, sum};
    let stream = s.into().resolve("searchsorted")?;
    if sorted_sequence.ndim() != 1 {
        return Err(Error::shape(
            "searchsorted",
            format!(
                "the sorted sequence must be 1-D, got shape {:?}",
                sorted_sequence.shape()
            ),
        ));
    }
    let dt = crate::promote_types(sorted_sequence.dtype(), values.dtype());
    let seq = astype(sorted_sequence, dt, stream)?;
    let v = expand_dims(&astype(values, dt, stream)?, &[-1], stream)?;
    // `x < y` in sort order: NaN after every number.
    let before = |x: &Array, y: &Array| -> Result<Array> {
        if !dt.is_inexact() {
            return less(x, y, stream);
        }
        let nan_order = logical_and(
            &isnan(y, stream)?,
            &logical_not(&isnan(x, stream)?, stream)?,
            stream,
        )?;
        logical_or(&less(x, y, stream)?, &nan_order, stream)
    };
    let counted = if right {
        logical_not(&before(&v, &seq)?, stream)?
    } else {
        before(&seq, &v)?
    };
    astype(
        &sum(&counted, Some(&[-1]), false, stream)?,
        Dtype::Uint32,
        stream,
    )
}
