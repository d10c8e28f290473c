//! Rules of the data movement ops: concatenate, pad, take (gather), take_along_axis,
//! slice_update, put_along_axis, scatter_add and sort. What moved forwards moves back: a slice of
//! the cotangent, or the cotangent scattered (added) to where the elements came from.

use super::zeros;
use crate::op::Op;
use crate::ops::{
    add, arange, argsort, astype, less, make, multiply, reshape, scatter_add, slice_dims, where_,
    SliceDim,
};
use crate::shape::contiguous_strides;
use crate::{Array, Dtype, Result, Stream};

/// The block of `g` of `shape` starting at `start` with `step` (the transpose of padding or of
/// writing into a slice).
pub(super) fn slice_of(
    g: &Array,
    start: &[usize],
    step: &[isize],
    shape: &[usize],
    s: Stream,
) -> Result<Array> {
    let dims: Vec<SliceDim> = start
        .iter()
        .zip(step)
        .zip(shape)
        .map(|((&start, &step), &len)| SliceDim { start, step, len })
        .collect();
    slice_dims(g, &dims, s)
}

pub(super) fn concatenate(
    axis: usize,
    inputs: &[Array],
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let mut at = 0;
    let mut r = Vec::with_capacity(inputs.len());
    for (x, &want) in inputs.iter().zip(wants) {
        let mut start = vec![0; x.ndim()];
        start[axis] = at;
        at += x.shape()[axis];
        r.push(if want {
            Some(slice_of(g, &start, &vec![1; x.ndim()], x.shape(), s)?)
        } else {
            None
        });
    }
    Ok(r)
}

/// `take(a, idx, axis)`: `g` added back at the indices.
pub(super) fn gather(axis: usize, a: &Array, idx: &Array, g: &Array, s: Stream) -> Result<Array> {
    scatter_add(
        &zeros(a.shape(), g.dtype(), s)?,
        idx,
        g,
        Some(axis as isize),
        s,
    )
}

/// `take_along_axis(a, idx, axis)`, with `idx` of `a`'s shape except on `axis`: each output
/// element came from one element of `a`, whose flat offset is its own position with the `axis`
/// coordinate replaced by the index; `g` is added back there through one flat scatter_add.
pub(super) fn take_along_axis(
    axis: usize,
    a: &Array,
    idx: &Array,
    g: &Array,
    s: Stream,
) -> Result<Array> {
    let strides = contiguous_strides(a.shape());
    let idx = astype(idx, Dtype::Int64, s)?;
    // Negative indices count from the end.
    let wrapped = add(&idx, &full_i64(a.shape()[axis] as i64, s)?, s)?;
    let idx = where_(&less(&idx, &full_i64(0, s)?, s)?, &wrapped, &idx, s)?;
    let mut offset = multiply(&idx, &full_i64(strides[axis] as i64, s)?, s)?;
    for (d, &len) in idx.shape().iter().enumerate() {
        if d == axis || len == 1 {
            continue;
        }
        let mut shape = vec![1isize; idx.ndim()];
        shape[d] = len as isize;
        let coord = arange(0.0, len as f64, 1.0, Some(Dtype::Int64), s)?;
        let coord = multiply(
            &reshape(&coord, &shape, s)?,
            &full_i64(strides[d] as i64, s)?,
            s,
        )?;
        offset = add(&offset, &coord, s)?;
    }
    let flat = scatter_add(
        &zeros(&[a.size()], g.dtype(), s)?,
        &reshape(&offset, &[-1], s)?,
        &reshape(g, &[-1], s)?,
        Some(0),
        s,
    )?;
    reshape(&flat, &super::dims(a.shape()), s)
}

fn full_i64(v: i64, s: Stream) -> Result<Array> {
    crate::ops::scalar_array(crate::Scalar::Int(v), Dtype::Int64, s)
}

/// `slice_update(a, update)`: `a` gets `g` with the slice zeroed, `update` the slice of `g`.
pub(super) fn slice_update(
    start: &[usize],
    step: &[isize],
    update: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let ga = if wants[0] {
        Some(make(
            "slice_update",
            g.shape().to_vec(),
            g.dtype(),
            s,
            Op::SliceUpdate {
                start: start.to_vec(),
                step: step.to_vec(),
            },
            vec![g.clone(), zeros(update.shape(), g.dtype(), s)?],
        )?)
    } else {
        None
    };
    let gu = if wants[1] {
        Some(slice_of(g, start, step, update.shape(), s)?)
    } else {
        None
    };
    Ok(vec![ga, gu])
}

/// `put_along_axis(a, idx, values)`: `a` gets `g` where nothing was written, `values` the
/// elements of `g` they were written to. Where indices repeat only the last write landed, yet
/// every value written there gets the element's cotangent (a subgradient; MLX does the same).
pub(super) fn put_along_axis(
    axis: usize,
    idx: &Array,
    values: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let ga = if wants[0] {
        Some(make(
            "put_along_axis",
            g.shape().to_vec(),
            g.dtype(),
            s,
            Op::PutAlongAxis { axis },
            vec![g.clone(), idx.clone(), zeros(values.shape(), g.dtype(), s)?],
        )?)
    } else {
        None
    };
    let gv = if wants[2] {
        Some(make(
            "take_along_axis",
            idx.shape().to_vec(),
            g.dtype(),
            s,
            Op::TakeAlongAxis { axis },
            vec![g.clone(), idx.clone()],
        )?)
    } else {
        None
    };
    Ok(vec![ga, None, gv])
}

/// `sort(x)` is `x` permuted by `argsort(x)`; the cotangent goes back through the permutation.
pub(super) fn sort(axis: usize, x: &Array, g: &Array, s: Stream) -> Result<Array> {
    let order = argsort(x, Some(axis as isize), s)?;
    make(
        "put_along_axis",
        x.shape().to_vec(),
        g.dtype(),
        s,
        Op::PutAlongAxis { axis },
        vec![zeros(x.shape(), g.dtype(), s)?, order, g.clone()],
    )
}
