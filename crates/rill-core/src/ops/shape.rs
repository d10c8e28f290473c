//! Shape ops. Most are views: they share the input's memory and cost no copy (a reshape copies
//! only when the input's strides cannot express the new shape).

use super::make;
use crate::op::Op;
use crate::shape::{broadcast_shapes, normalize_axes, normalize_axis, numel};
use crate::{Array, Error, Result, StreamOrDevice};

/// `a` with shape `shape`; one entry may be -1 (inferred).
pub fn reshape(a: &Array, shape: &[isize], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("reshape")?;
    let new_shape = infer_shape("reshape", a.shape(), shape)?;
    if new_shape == a.shape() {
        return Ok(a.clone());
    }
    make(
        "reshape",
        new_shape,
        a.dtype(),
        stream,
        Op::Reshape,
        vec![a.clone()],
    )
}

fn infer_shape(op: &'static str, old: &[usize], shape: &[isize]) -> Result<Vec<usize>> {
    let size = numel(old);
    let mut infer = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        if d == -1 {
            if infer.replace(i).is_some() {
                return Err(Error::shape(
                    op,
                    format!("can only infer one dimension, got {shape:?}"),
                ));
            }
        } else if d < 0 {
            return Err(Error::shape(
                op,
                format!("invalid dimension {d} in {shape:?}"),
            ));
        } else {
            // A product past usize cannot be the size of any array; a 0 makes the size 0 whatever
            // the other dims.
            known = match known.checked_mul(d as usize) {
                Some(k) => k,
                None if shape.contains(&0) => 0,
                None => {
                    let dims: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
                    return Err(crate::shape::too_large(op, &dims, crate::Dtype::Uint8));
                }
            };
        }
    }
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = infer {
        if known == 0 || !size.is_multiple_of(known) {
            return Err(Error::shape(
                op,
                format!("cannot reshape array of shape {old:?} into shape {shape:?}"),
            ));
        }
        out[i] = size / known;
    } else if known != size {
        return Err(Error::shape(
            op,
            format!("cannot reshape array of shape {old:?} into shape {shape:?}"),
        ));
    }
    Ok(out)
}

/// Flattens dims `start_axis..=end_axis` into one (all dims by default: `flatten(a, 0, -1)`).
pub fn flatten(
    a: &Array,
    start_axis: isize,
    end_axis: isize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    if a.ndim() == 0 {
        return reshape(a, &[1], s);
    }
    let start = normalize_axis("flatten", start_axis, a.shape())?;
    let end = normalize_axis("flatten", end_axis, a.shape())?;
    if start > end {
        return Err(Error::arg(
            "flatten",
            format!(
                "start_axis {start_axis} is after end_axis {end_axis} for shape {:?}",
                a.shape()
            ),
        ));
    }
    let sh = a.shape();
    let mut new: Vec<isize> = sh[..start].iter().map(|&d| d as isize).collect();
    new.push(sh[start..=end].iter().product::<usize>() as isize);
    new.extend(sh[end + 1..].iter().map(|&d| d as isize));
    reshape(a, &new, s)
}

/// Permutes the dims: output dim `i` is input dim `axes[i]` (reversed when None).
pub fn transpose(a: &Array, axes: Option<&[isize]>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("transpose")?;
    let perm: Vec<usize> = match axes {
        None => (0..a.ndim()).rev().collect(),
        Some(axes) => {
            if axes.len() != a.ndim() {
                return Err(Error::arg(
                    "transpose",
                    format!(
                        "axes {axes:?} do not match an array of shape {:?}",
                        a.shape()
                    ),
                ));
            }
            let perm: Vec<usize> = axes
                .iter()
                .map(|&x| normalize_axis("transpose", x, a.shape()))
                .collect::<Result<_>>()?;
            let mut seen = perm.clone();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != perm.len() {
                return Err(Error::arg(
                    "transpose",
                    format!("repeated axis in {axes:?}"),
                ));
            }
            perm
        }
    };
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(a.clone());
    }
    let shape: Vec<usize> = perm.iter().map(|&p| a.shape()[p]).collect();
    make(
        "transpose",
        shape,
        a.dtype(),
        stream,
        Op::Transpose(perm),
        vec![a.clone()],
    )
}

pub fn swapaxes(
    a: &Array,
    axis1: isize,
    axis2: isize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let i = normalize_axis("swapaxes", axis1, a.shape())?;
    let j = normalize_axis("swapaxes", axis2, a.shape())?;
    let mut perm: Vec<isize> = (0..a.ndim() as isize).collect();
    perm.swap(i, j);
    transpose(a, Some(&perm), s)
}

pub fn moveaxis(
    a: &Array,
    source: isize,
    destination: isize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let src = normalize_axis("moveaxis", source, a.shape())?;
    let dst = normalize_axis("moveaxis", destination, a.shape())?;
    let mut perm: Vec<isize> = (0..a.ndim() as isize)
        .filter(|&d| d != src as isize)
        .collect();
    perm.insert(dst, src as isize);
    transpose(a, Some(&perm), s)
}

/// Inserts size-1 dims at `axes` (positions in the output).
pub fn expand_dims(a: &Array, axes: &[isize], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let out_ndim = a.ndim() + axes.len();
    let probe = vec![1usize; out_ndim];
    let axes = normalize_axes("expand_dims", axes, &probe)?;
    let mut shape = Vec::with_capacity(out_ndim);
    let mut src = a.shape().iter();
    for d in 0..out_ndim {
        if axes.binary_search(&d).is_ok() {
            shape.push(1);
        } else {
            shape.push(*src.next().unwrap());
        }
    }
    reshape(a, &shape.iter().map(|&d| d as isize).collect::<Vec<_>>(), s)
}

/// Removes size-1 dims (`axes`, or all of them when None).
pub fn squeeze(a: &Array, axes: Option<&[isize]>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let drop: Vec<usize> = match axes {
        None => (0..a.ndim()).filter(|&d| a.shape()[d] == 1).collect(),
        Some(axes) => {
            let axes = normalize_axes("squeeze", axes, a.shape())?;
            if let Some(&d) = axes.iter().find(|&&d| a.shape()[d] != 1) {
                return Err(Error::shape(
                    "squeeze",
                    format!(
                        "cannot squeeze axis {d} of size {} in shape {:?}",
                        a.shape()[d],
                        a.shape()
                    ),
                ));
            }
            axes
        }
    };
    let shape: Vec<isize> = (0..a.ndim())
        .filter(|d| !drop.contains(d))
        .map(|d| a.shape()[d] as isize)
        .collect();
    reshape(a, &shape, s)
}

/// `a` broadcast to `shape` (a view with stride 0 where a dim is stretched).
pub fn broadcast_to(a: &Array, shape: &[usize], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("broadcast_to")?;
    let out = broadcast_shapes("broadcast_to", a.shape(), shape)?;
    if out != shape {
        return Err(Error::shape(
            "broadcast_to",
            format!("cannot broadcast shape {:?} to {shape:?}", a.shape()),
        ));
    }
    if a.shape() == shape {
        return Ok(a.clone());
    }
    make(
        "broadcast_to",
        shape.to_vec(),
        a.dtype(),
        stream,
        Op::BroadcastTo,
        vec![a.clone()],
    )
}

/// All arrays broadcast to their common shape.
pub fn broadcast_arrays(arrays: &[Array], s: impl Into<StreamOrDevice>) -> Result<Vec<Array>> {
    let s = s.into();
    let mut shape: Vec<usize> = vec![];
    for a in arrays {
        shape = broadcast_shapes("broadcast_arrays", &shape, a.shape())?;
    }
    arrays.iter().map(|a| broadcast_to(a, &shape, s)).collect()
}

/// One dimension of a slice after NumPy's normalization: the first index, the step and the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceDim {
    pub start: usize,
    pub step: isize,
    pub len: usize,
}

impl SliceDim {
    /// Every element of a dim of `len`.
    pub fn whole(len: usize) -> SliceDim {
        SliceDim {
            start: 0,
            step: 1,
            len,
        }
    }

    /// Every element of every dim of `shape`.
    pub fn whole_of(shape: &[usize]) -> Vec<SliceDim> {
        shape.iter().map(|&len| SliceDim::whole(len)).collect()
    }

    /// Python's `slice(start, stop, step).indices(n)`: negatives count from the end, out-of-range
    /// bounds clamp. `step` must not be 0.
    pub fn normalize(
        op: &'static str,
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
        n: usize,
    ) -> Result<SliceDim> {
        if step == 0 {
            return Err(Error::arg(op, "slice step cannot be zero"));
        }
        let n = n as isize;
        let clamp = |v: isize, lo: isize, hi: isize| v.max(lo).min(hi);
        let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
        let fix = |v: Option<isize>, default: isize| match v {
            None => default,
            Some(v) if v < 0 => clamp(v + n, lo, hi),
            Some(v) => clamp(v, lo, hi),
        };
        let (start, stop) = if step > 0 {
            (fix(start, 0), fix(stop, n))
        } else {
            (fix(start, n - 1), fix(stop, -1))
        };
        let len = if step > 0 {
            if stop > start {
                (stop - start + step - 1) / step
            } else {
                0
            }
        } else if start > stop {
            (start - stop + (-step) - 1) / (-step)
        } else {
            0
        };
        Ok(SliceDim {
            start: start.max(0) as usize,
            step,
            len: len as usize,
        })
    }
}

/// `a[start:stop:step]` along every dim (MLX's `slice`; negatives count from the end and bounds
/// clamp, as NumPy). Shorter argument lists leave the trailing dims whole.
pub fn slice(
    a: &Array,
    start: &[isize],
    stop: &[isize],
    step: &[isize],
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    if start.len() > a.ndim() || stop.len() != start.len() || step.len() != start.len() {
        return Err(Error::arg(
            "slice",
            format!(
                "start {start:?}, stop {stop:?} and step {step:?} do not fit shape {:?}",
                a.shape()
            ),
        ));
    }
    let dims = (0..a.ndim())
        .map(|d| {
            if d < start.len() {
                SliceDim::normalize(
                    "slice",
                    Some(start[d]),
                    Some(stop[d]),
                    step[d],
                    a.shape()[d],
                )
            } else {
                Ok(SliceDim {
                    start: 0,
                    step: 1,
                    len: a.shape()[d],
                })
            }
        })
        .collect::<Result<Vec<_>>>()?;
    slice_dims(a, &dims, s)
}

/// A view of `a` through already-normalized slice dims (one per dim of `a`).
pub fn slice_dims(a: &Array, dims: &[SliceDim], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("slice")?;
    if dims.len() != a.ndim() {
        return Err(Error::arg(
            "slice",
            format!(
                "{} slice dims for an array of shape {:?}",
                dims.len(),
                a.shape()
            ),
        ));
    }
    let shape: Vec<usize> = dims.iter().map(|d| d.len).collect();
    if shape == a.shape() && dims.iter().all(|d| d.start == 0 && d.step == 1) {
        return Ok(a.clone());
    }
    let op = Op::Slice {
        start: dims.iter().map(|d| d.start).collect(),
        step: dims.iter().map(|d| d.step).collect(),
    };
    make("slice", shape, a.dtype(), stream, op, vec![a.clone()])
}
