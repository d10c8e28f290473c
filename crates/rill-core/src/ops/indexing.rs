//! Indexing by arrays of indices (take, take_along_axis, put_along_axis) and writing into a slice
//! (slice_update).
//!
//! Shapes and dtypes are checked here, when the op is built. The values of the indices are known
//! only when the op runs: an index out of range is a runtime error that stays on the result (and
//! on whatever depends on it), not a panic.

use super::{astype, broadcast_to, make, reshape, SliceDim};
use crate::op::{Op, ScatterReduce};
use crate::shape::{broadcast_shapes, normalize_axis, numel};
use crate::{Array, Element, Error, Result, Scalar, StreamOrDevice};

fn check_indices(op: &'static str, indices: &Array) -> Result<()> {
    if indices.dtype().is_integer() {
        return Ok(());
    }
    Err(Error::dtype(
        op,
        format!(
            "indices must be integers, got {} (shape {:?})",
            indices.dtype(),
            indices.shape()
        ),
    ))
}

/// Fails with [`Error::Index`] naming the first value of `indices` outside `-size..size`, in
/// NumPy's words (`index 10 is out of bounds for axis 0 with size 6`), where `axis` is the axis
/// of the user's array that `indices` indexes. Unlike the ops below, which find a bad index only
/// when they run, this evaluates `indices` (waiting for it) so that a front-end can refuse the
/// index before building anything: an assignment that would fail leaves its array intact.
pub fn check_index_values(indices: &Array, axis: usize, size: usize) -> Result<()> {
    check_indices("index", indices)?;
    indices.eval()?;
    let n = size as i128;
    let bad = crate::dispatch_dtype!(indices.dtype(), T => indices
        .to_vec::<T>()?
        .into_iter()
        .map(|x| match x.to_scalar() {
            Scalar::Int(i) => i as i128,
            Scalar::UInt(u) => u as i128,
            _ => 0,
        })
        .find(|&i| i < -n || i >= n));
    match bad {
        None => Ok(()),
        Some(i) => Err(Error::index(
            "index",
            format!("index {i} is out of bounds for axis {axis} with size {size}"),
        )),
    }
}

/// Elements of `a` at `indices` along `axis` (of the flattened `a` when None). The output's shape is
/// `a.shape[..axis] + indices.shape + a.shape[axis + 1..]`. Indices may be of any integer dtype;
/// negatives count from the end, and one out of range makes evaluating the result fail.
pub fn take(
    a: &Array,
    indices: &Array,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("take")?;
    check_indices("take", indices)?;
    let (a, ax) = match axis {
        None => (reshape(a, &[-1], stream)?, 0),
        Some(axis) => (a.clone(), normalize_axis("take", axis, a.shape())?),
    };
    let mut shape = a.shape()[..ax].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&a.shape()[ax + 1..]);
    make(
        "take",
        shape,
        a.dtype(),
        stream,
        Op::Gather { axis: ax },
        vec![a, indices.clone()],
    )
}

/// Flattens `a` when `axis` is None (then `indices` must be 1-D), checks that `indices` has as
/// many dims as `a`, and returns them with the axis.
fn along_axis(
    op: &'static str,
    a: &Array,
    indices: &Array,
    axis: Option<isize>,
    stream: crate::Stream,
) -> Result<(Array, usize)> {
    check_indices(op, indices)?;
    let (a, ax) = match axis {
        None => {
            if indices.ndim() != 1 {
                return Err(Error::shape(
                    op,
                    format!(
                        "with axis None the indices must be 1-D, got shape {:?}",
                        indices.shape()
                    ),
                ));
            }
            (reshape(a, &[-1], stream)?, 0)
        }
        Some(axis) => (a.clone(), normalize_axis(op, axis, a.shape())?),
    };
    if indices.ndim() != a.ndim() {
        return Err(Error::shape(
            op,
            format!(
                "indices of shape {:?} must have as many dimensions as the array of shape {:?}",
                indices.shape(),
                a.shape()
            ),
        ));
    }
    Ok((a, ax))
}

/// `shape` with dim `ax` replaced by `n`.
fn with_dim(shape: &[usize], ax: usize, n: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s[ax] = n;
    s
}

/// NumPy's `take_along_axis`: `out[.., j, ..] = a[.., indices[.., j, ..], ..]` along `axis` (of the
/// flattened `a` when None, with 1-D indices). `indices` has as many dims as `a` and broadcasts
/// against it on every dim but `axis`.
pub fn take_along_axis(
    a: &Array,
    indices: &Array,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "take_along_axis";
    let stream = s.into().resolve(op)?;
    let (a, ax) = along_axis(op, a, indices, axis, stream)?;
    let common = broadcast_shapes(
        op,
        &with_dim(a.shape(), ax, 1),
        &with_dim(indices.shape(), ax, 1),
    )
    .map_err(|_| {
        Error::shape(
            op,
            format!(
                "indices of shape {:?} do not broadcast against the array of shape {:?} outside axis {ax}",
                indices.shape(),
                a.shape()
            ),
        )
    })?;
    let a = broadcast_to(&a, &with_dim(&common, ax, a.shape()[ax]), stream)?;
    let indices = broadcast_to(indices, &with_dim(&common, ax, indices.shape()[ax]), stream)?;
    make(
        op,
        indices.shape().to_vec(),
        a.dtype(),
        stream,
        Op::TakeAlongAxis { axis: ax },
        vec![a, indices],
    )
}

/// NumPy's `put_along_axis`, returning a new array: a copy of `a` with
/// `out[.., indices[.., j, ..], ..] = values[.., j, ..]` along `axis` (of the flattened `a` when
/// None, with 1-D indices; the result keeps `a`'s shape). `indices` has as many dims as `a` and
/// broadcasts to `a`'s shape on every dim but `axis`; `values` broadcasts to the indices' shape and
/// is cast to `a`'s dtype. Where indices repeat, the last write (in row-major order) wins.
pub fn put_along_axis(
    a: &Array,
    indices: &Array,
    values: &Array,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "put_along_axis";
    let stream = s.into().resolve(op)?;
    let (flat, ax) = along_axis(op, a, indices, axis, stream)?;
    let target = with_dim(flat.shape(), ax, indices.shape()[ax]);
    let fits = broadcast_shapes(op, indices.shape(), &target).is_ok_and(|b| b == target);
    if !fits {
        return Err(Error::shape(
            op,
            format!(
                "indices of shape {:?} do not broadcast to the array of shape {:?} outside axis {ax}",
                indices.shape(),
                flat.shape()
            ),
        ));
    }
    let fits = broadcast_shapes(op, values.shape(), &target).is_ok_and(|b| b == target);
    if !fits {
        return Err(Error::shape(
            op,
            format!(
                "values of shape {:?} do not broadcast to the indices' shape {target:?}",
                values.shape()
            ),
        ));
    }
    let indices = broadcast_to(indices, &target, stream)?;
    let values = broadcast_to(&astype(values, flat.dtype(), stream)?, &target, stream)?;
    let out = make(
        op,
        flat.shape().to_vec(),
        flat.dtype(),
        stream,
        Op::PutAlongAxis { axis: ax },
        vec![flat, indices, values],
    )?;
    if out.shape() == a.shape() {
        return Ok(out);
    }
    let shape: Vec<isize> = a.shape().iter().map(|&d| d as isize).collect();
    reshape(&out, &shape, stream)
}

/// A copy of `a` with `a[start:stop:step] = update` (per dim, with `slice`'s conventions: Python
/// bounds, shorter lists leave trailing dims whole). `update` broadcasts to the slice's shape and is
/// cast to `a`'s dtype.
pub fn slice_update(
    a: &Array,
    update: &Array,
    start: &[isize],
    stop: &[isize],
    step: &[isize],
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = "slice_update";
    let stream = s.into().resolve(op)?;
    if start.len() > a.ndim() || stop.len() != start.len() || step.len() != start.len() {
        return Err(Error::arg(
            op,
            format!(
                "start {start:?}, stop {stop:?} and step {step:?} do not fit shape {:?}",
                a.shape()
            ),
        ));
    }
    let dims = (0..a.ndim())
        .map(|d| {
            if d < start.len() {
                SliceDim::normalize(op, Some(start[d]), Some(stop[d]), step[d], a.shape()[d])
            } else {
                Ok(SliceDim {
                    start: 0,
                    step: 1,
                    len: a.shape()[d],
                })
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let slice_shape: Vec<usize> = dims.iter().map(|d| d.len).collect();
    let fits = broadcast_shapes(op, update.shape(), &slice_shape).is_ok_and(|b| b == slice_shape);
    if !fits {
        return Err(Error::shape(
            op,
            format!(
                "update of shape {:?} does not broadcast to the slice's shape {slice_shape:?} (array of shape {:?})",
                update.shape(),
                a.shape()
            ),
        ));
    }
    if numel(&slice_shape) == 0 {
        return Ok(a.clone());
    }
    let update = broadcast_to(&astype(update, a.dtype(), stream)?, &slice_shape, stream)?;
    let op = Op::SliceUpdate {
        start: dims.iter().map(|d| d.start).collect(),
        step: dims.iter().map(|d| d.step).collect(),
    };
    make(
        "slice_update",
        a.shape().to_vec(),
        a.dtype(),
        stream,
        op,
        vec![a.clone(), update],
    )
}

/// `a` with `updates` added at `indices` along `axis` (of the flattened `a` when None): the
/// transpose of [`take`], whose gradient it is, and MLX's `a.at[indices].add(updates)`.
/// `updates` broadcasts to take's output shape, `a.shape[..axis] + indices.shape +
/// a.shape[axis + 1..]`, and is cast to `a`'s dtype; repeated indices add up.
pub fn scatter_add(
    a: &Array,
    indices: &Array,
    updates: &Array,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    scatter(a, indices, updates, axis, ScatterReduce::Add, s)
}

/// `a` with `updates` combined into it by `reduce` (add, multiply, maximum, minimum) at
/// `indices` along `axis` (of the flattened `a` when None): MLX's `a.at[indices]` updates.
/// `updates` broadcasts to take's output shape and is cast to `a`'s dtype; every update at a
/// repeated index is combined.
pub fn scatter(
    a: &Array,
    indices: &Array,
    updates: &Array,
    axis: Option<isize>,
    reduce: ScatterReduce,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let op = reduce.name();
    let stream = s.into().resolve(op)?;
    check_indices(op, indices)?;
    let (flat, ax) = match axis {
        None => (reshape(a, &[-1], stream)?, 0),
        Some(axis) => (a.clone(), normalize_axis(op, axis, a.shape())?),
    };
    let mut shape = flat.shape()[..ax].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&flat.shape()[ax + 1..]);
    let updates = super::broadcast_to(&astype(updates, a.dtype(), stream)?, &shape, stream)?;
    let out = make(
        op,
        flat.shape().to_vec(),
        a.dtype(),
        stream,
        Op::Scatter { axis: ax, reduce },
        vec![flat, indices.clone(), updates],
    )?;
    match axis {
        None => reshape(
            &out,
            &a.shape().iter().map(|&d| d as isize).collect::<Vec<_>>(),
            stream,
        ),
        Some(_) => Ok(out),
    }
}

/// A copy of `a` with `update` written at the offsets held in the integer array `start` (one
/// per entry of `axes`; the other axes start at 0), MLX's `slice_update` with array indices.
/// `update` must fit inside `a`'s trailing dims; along the leading dims it lacks it is written
/// whole (broadcast), as in MLX, unless `axes` names them (then at one offset). The offsets
/// are data, not known when the op is built: each is clamped so that the update fits (MLX
/// leaves an offset out of range undefined). Built from `take` and `where`: along each axis the
/// update is gathered out to `a`'s length and a mask marks the updated positions.
pub fn slice_update_at(
    a: &Array,
    update: &Array,
    start: &Array,
    axes: &[isize],
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    use super::{
        arange, full, greater_equal, less, logical_and, maximum, minimum, subtract, where_,
    };
    use crate::shape::normalize_axes;
    use crate::Dtype;
    let op = "slice_update";
    let stream = s.into().resolve(op)?;
    let axes = normalize_axes(op, axes, a.shape())?;
    if !start.dtype().is_integer() {
        return Err(Error::dtype(
            op,
            format!("start indices must be integers, got {}", start.dtype()),
        ));
    }
    if start.size() != axes.len() || start.ndim() > 1 {
        return Err(Error::shape(
            op,
            format!(
                "expected one start index per axis ({} axes {axes:?}), got start indices of shape {:?}",
                axes.len(),
                start.shape()
            ),
        ));
    }
    if update.ndim() > a.ndim()
        || update
            .shape()
            .iter()
            .rev()
            .zip(a.shape().iter().rev())
            .any(|(u, n)| u > n)
    {
        return Err(Error::shape(
            op,
            format!(
                "update of shape {:?} does not fit in the array of shape {:?}",
                update.shape(),
                a.shape()
            ),
        ));
    }
    let lead = a.ndim() - update.ndim();
    let mut ushape: Vec<isize> = vec![1; lead];
    ushape.extend(update.shape().iter().map(|&d| d as isize));
    let mut u = reshape(&astype(update, a.dtype(), stream)?, &ushape, stream)?;
    if u.size() == 0 {
        return Ok(a.clone());
    }
    let start = reshape(&astype(start, Dtype::Int64, stream)?, &[-1], stream)?;
    let int = |v: i64| full(&[], v, Some(Dtype::Int64), stream);
    let mut mask: Option<Array> = None;
    for d in 0..a.ndim() {
        let (n, len) = (a.shape()[d], u.shape()[d]);
        let offset = match axes.iter().position(|&ax| ax == d) {
            Some(i) => {
                let s = take(&start, &int(i as i64)?, Some(0), stream)?;
                minimum(
                    &maximum(&s, &int(0)?, stream)?,
                    &int((n - len) as i64)?,
                    stream,
                )?
            }
            // Dims `update` lacks (and dims it fills) are covered whole: `where` broadcasts it.
            None if len == n || d < lead => continue,
            None => int(0)?,
        };
        let local = subtract(
            &arange(0.0, n as f64, 1.0, Some(Dtype::Int64), stream)?,
            &offset,
            stream,
        )?;
        let inside = logical_and(
            &greater_equal(&local, &int(0)?, stream)?,
            &less(&local, &int(len as i64)?, stream)?,
            stream,
        )?;
        let clamped = minimum(
            &maximum(&local, &int(0)?, stream)?,
            &int(len as i64 - 1)?,
            stream,
        )?;
        u = take(&u, &clamped, Some(d as isize), stream)?;
        let mut placed = vec![1isize; a.ndim()];
        placed[d] = n as isize;
        let inside = reshape(&inside, &placed, stream)?;
        mask = Some(match mask {
            None => inside,
            Some(m) => logical_and(&m, &inside, stream)?,
        });
    }
    match mask {
        None => broadcast_to(&u, a.shape(), stream),
        Some(m) => where_(&m, &u, a, stream),
    }
}
