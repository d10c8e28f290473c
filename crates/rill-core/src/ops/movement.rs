//! Data movement: concatenate, stack, split, pad, tile, repeat.
//!
//! Only concatenate and pad have kernels. split is slice views; stack, tile and repeat are built
//! from views (expand_dims, broadcast_to) and a reshape, which copies only when the strides of the
//! broadcast view cannot express the merged shape.

use super::{astype, broadcast_to, expand_dims, make, reshape, slice_dims, SliceDim};
use crate::op::Op;
use crate::shape::{check_size, normalize_axis};
use crate::{promote_types, Array, Error, Result, Scalar, StreamOrDevice};

/// Joins `arrays` along `axis` (all flattened first when None). Shapes must match except on
/// `axis`; dtypes promote as in a binary op.
pub fn concatenate(
    arrays: &[Array],
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("concatenate")?;
    if arrays.is_empty() {
        return Err(Error::arg(
            "concatenate",
            "needs at least one array to concatenate",
        ));
    }
    let (arrays, axis) = match axis {
        Some(axis) => (arrays.to_vec(), axis),
        None => (
            arrays
                .iter()
                .map(|a| reshape(a, &[-1], stream))
                .collect::<Result<Vec<_>>>()?,
            0,
        ),
    };
    let ax = normalize_axis("concatenate", axis, arrays[0].shape())?;
    let shapes = || {
        arrays
            .iter()
            .map(|a| format!("{:?}", a.shape()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut shape = arrays[0].shape().to_vec();
    shape[ax] = 0;
    let mut dtype = arrays[0].dtype();
    for a in &arrays {
        let fits = a.ndim() == shape.len()
            && (0..shape.len()).all(|d| d == ax || a.shape()[d] == shape[d]);
        if !fits {
            return Err(Error::shape(
                "concatenate",
                format!(
                    "all arrays must have the same shape except on axis {axis}, got shapes {}",
                    shapes()
                ),
            ));
        }
        shape[ax] = shape[ax]
            .checked_add(a.shape()[ax])
            .ok_or_else(|| too_large_sum("concatenate", &format!("joining shapes {}", shapes())))?;
        dtype = promote_types(dtype, a.dtype());
    }
    let inputs = arrays
        .iter()
        .map(|a| astype(a, dtype, stream))
        .collect::<Result<Vec<_>>>()?;
    if inputs.len() == 1 {
        return Ok(inputs.into_iter().next().unwrap());
    }
    make(
        "concatenate",
        shape,
        dtype,
        stream,
        Op::Concatenate { axis: ax },
        inputs,
    )
}

/// Joins arrays of one shape along a new axis `axis` (`-1` is a new last axis).
pub fn stack(arrays: &[Array], axis: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("stack")?;
    let Some(first) = arrays.first() else {
        return Err(Error::arg("stack", "needs at least one array to stack"));
    };
    if let Some(other) = arrays.iter().find(|a| a.shape() != first.shape()) {
        return Err(Error::shape(
            "stack",
            format!(
                "all arrays must have the same shape, got {:?} and {:?}",
                first.shape(),
                other.shape()
            ),
        ));
    }
    let out_shape = vec![1usize; first.ndim() + 1];
    let ax = normalize_axis("stack", axis, &out_shape)? as isize;
    let expanded = arrays
        .iter()
        .map(|a| expand_dims(a, &[ax], stream))
        .collect::<Result<Vec<_>>>()?;
    concatenate(&expanded, Some(ax), stream)
}

/// How [`split`] divides an axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Into this many equal parts (the axis must divide evenly).
    Sections(usize),
    /// At these indices: `[i, j]` gives `a[..i]`, `a[i..j]`, `a[j..]`, each index read as a
    /// Python slice bound (negatives count from the end; out-of-order bounds give empty parts).
    Indices(Vec<isize>),
}

/// Parts of `a` along `axis`, as views (NumPy's `split`).
pub fn split(
    a: &Array,
    how: Split,
    axis: isize,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let stream = s.into().resolve("split")?;
    let ax = normalize_axis("split", axis, a.shape())?;
    let n = a.shape()[ax];
    let bounds: Vec<(isize, isize)> = match how {
        Split::Sections(0) => {
            return Err(Error::arg(
                "split",
                format!("cannot split shape {:?} into 0 sections", a.shape()),
            ))
        }
        Split::Sections(k) => {
            if !n.is_multiple_of(k) {
                return Err(Error::shape(
                    "split",
                    format!(
                        "array split does not result in an equal division: {k} sections of axis {axis} of shape {:?}",
                        a.shape()
                    ),
                ));
            }
            let part = (n / k) as isize;
            (0..k as isize)
                .map(|i| (i * part, (i + 1) * part))
                .collect()
        }
        Split::Indices(idx) => {
            let mut cuts = vec![0isize];
            cuts.extend(idx);
            cuts.push(n as isize);
            cuts.windows(2).map(|w| (w[0], w[1])).collect()
        }
    };
    bounds
        .into_iter()
        .map(|(lo, hi)| {
            let mut dims: Vec<SliceDim> = SliceDim::whole_of(a.shape());
            dims[ax] = SliceDim::normalize("split", Some(lo), Some(hi), 1, n)?;
            slice_dims(a, &dims, stream)
        })
        .collect()
}

/// `a` with `pad_width[d].0` elements of `value` before and `pad_width[d].1` after each dim `d`;
/// a single pair pads every dim alike. `value` is cast to `a`'s dtype (an integer that the dtype
/// cannot hold is an error, as in `full`).
pub fn pad(
    a: &Array,
    pad_width: &[(usize, usize)],
    value: Scalar,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("pad")?;
    value.check_fits(a.dtype(), "pad")?;
    let widths = pad_pairs(a, pad_width)?;
    if widths.iter().all(|&(lo, hi)| lo == 0 && hi == 0) {
        return Ok(a.clone());
    }
    let shape = a
        .shape()
        .iter()
        .zip(&widths)
        .map(|(&n, &(lo, hi))| n.checked_add(lo)?.checked_add(hi))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            too_large_sum(
                "pad",
                &format!("shape {:?} padded by {widths:?}", a.shape()),
            )
        })?;
    let low = widths.iter().map(|&(lo, _)| lo).collect();
    make(
        "pad",
        shape,
        a.dtype(),
        stream,
        Op::Pad { low, value },
        vec![a.clone()],
    )
}

/// `pad_width` as one pair per dim of `a` (a single pair pads every dim alike).
fn pad_pairs(a: &Array, pad_width: &[(usize, usize)]) -> Result<Vec<(usize, usize)>> {
    match pad_width.len() {
        1 => Ok(vec![pad_width[0]; a.ndim()]),
        n if n == a.ndim() => Ok(pad_width.to_vec()),
        _ => Err(Error::arg(
            "pad",
            format!(
                "pad_width {pad_width:?} needs one pair per dimension of shape {:?} (or a single pair)",
                a.shape()
            ),
        )),
    }
}

/// How [`pad_with`] fills the new elements from `a`'s own (NumPy's and MLX's modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// The nearest edge element repeated (`[1, 2, 3]` by 2: `1 1 1 2 3 3 3`).
    Edge,
    /// Mirrored about the edge element, which is not repeated (`3 2 1 2 3 2 1`).
    Reflect,
    /// Mirrored about the edge itself, the edge element repeated (`2 1 1 2 3 3 2`).
    Symmetric,
}

/// `a` padded by `pad_width` (as in [`pad`]) with values taken from `a` itself: along each padded
/// dim one `take` of precomputed source indices, so padding wider than the dim repeats the
/// pattern as NumPy's does, and gradients flow back to the elements read.
pub fn pad_with(
    a: &Array,
    pad_width: &[(usize, usize)],
    mode: PadMode,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("pad")?;
    let widths = pad_pairs(a, pad_width)?;
    let mut out = a.clone();
    for (d, &(lo, hi)) in widths.iter().enumerate() {
        if lo == 0 && hi == 0 {
            continue;
        }
        let n = a.shape()[d];
        if n == 0 {
            return Err(Error::arg(
                "pad",
                format!(
                    "cannot pad dim {d} of shape {:?} in mode {mode:?}: it has no elements to repeat",
                    a.shape()
                ),
            ));
        }
        let total = n
            .checked_add(lo)
            .and_then(|t| t.checked_add(hi))
            .ok_or_else(|| {
                too_large_sum(
                    "pad",
                    &format!("shape {:?} padded by {widths:?}", a.shape()),
                )
            })?;
        check_size("pad", &[total], crate::Dtype::Int64)?;
        let source: Vec<i64> = (0..total)
            .map(|i| pad_source(i as i64 - lo as i64, n as i64, mode))
            .collect();
        let idx = Array::from_slice_on(&source, &[total], stream)?;
        out = super::take(&out, &idx, Some(d as isize), stream)?;
    }
    Ok(out)
}

/// The element of a dim of `n` that position `j` (`0..n` inside, negative or `>= n` in the
/// padding) reads in `mode`.
fn pad_source(j: i64, n: i64, mode: PadMode) -> i64 {
    match mode {
        PadMode::Edge => j.clamp(0, n - 1),
        PadMode::Reflect if n == 1 => 0,
        PadMode::Reflect => {
            let k = j.rem_euclid(2 * (n - 1));
            if k < n {
                k
            } else {
                2 * (n - 1) - k
            }
        }
        PadMode::Symmetric => {
            let k = j.rem_euclid(2 * n);
            if k < n {
                k
            } else {
                2 * n - 1 - k
            }
        }
    }
}

/// `a` repeated `reps[d]` times along each dim (NumPy's `tile`: the shorter of `reps` and the shape
/// is padded with leading 1s).
pub fn tile(a: &Array, reps: &[usize], s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("tile")?;
    let nd = a.ndim().max(reps.len());
    let shape: Vec<usize> = std::iter::repeat_n(1, nd - a.ndim())
        .chain(a.shape().iter().copied())
        .collect();
    let reps: Vec<usize> = std::iter::repeat_n(1, nd - reps.len())
        .chain(reps.iter().copied())
        .collect();
    // (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...), then merged pairwise.
    let interleaved: Vec<isize> = shape.iter().flat_map(|&n| [1, n as isize]).collect();
    let broadcast: Vec<usize> = reps
        .iter()
        .zip(&shape)
        .flat_map(|(&r, &n)| [r, n])
        .collect();
    let merged = reps
        .iter()
        .zip(&shape)
        .map(|(&r, &n)| r.checked_mul(n))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            too_large_sum(
                "tile",
                &format!("shape {:?} tiled {reps:?} times", a.shape()),
            )
        })?;
    // Checked before any view is built, so the error names tile (and every dim fits isize).
    check_size("tile", &merged, a.dtype())?;
    let merged: Vec<isize> = merged.iter().map(|&d| d as isize).collect();
    let x = reshape(a, &interleaved, stream)?;
    let x = broadcast_to(&x, &broadcast, stream)?;
    reshape(&x, &merged, stream)
}

/// Each element of `a` repeated `repeats` times along `axis` (of the flattened `a` when None).
pub fn repeat(
    a: &Array,
    repeats: usize,
    axis: Option<isize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("repeat")?;
    let (a, ax) = match axis {
        None => (reshape(a, &[-1], stream)?, 0),
        Some(axis) => (a.clone(), normalize_axis("repeat", axis, a.shape())?),
    };
    // (.., n, ..) -> (.., n, 1, ..) broadcast to (.., n, repeats, ..), then merged.
    let mut merged = a.shape().to_vec();
    merged[ax] = merged[ax].checked_mul(repeats).ok_or_else(|| {
        too_large_sum(
            "repeat",
            &format!("shape {:?} repeated {repeats} times", a.shape()),
        )
    })?;
    check_size("repeat", &merged, a.dtype())?;
    let merged: Vec<isize> = merged.iter().map(|&d| d as isize).collect();
    let x = expand_dims(&a, &[ax as isize + 1], stream)?;
    let mut broadcast = x.shape().to_vec();
    broadcast[ax + 1] = repeats;
    let x = broadcast_to(&x, &broadcast, stream)?;
    reshape(&x, &merged, stream)
}

/// The error for an output dimension that does not even fit in `usize` (`what` says how it was
/// made).
fn too_large_sum(op: &'static str, what: &str) -> Error {
    Error::too_large(
        op,
        format!("the result of {what} has a dimension too large to exist"),
    )
}

/// `a` reversed along `axes` (every axis when None): a view with negative steps.
pub fn flip(a: &Array, axes: Option<&[isize]>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("flip")?;
    let axes: Vec<usize> = match axes {
        None => (0..a.ndim()).collect(),
        Some(ax) => crate::shape::normalize_axes("flip", ax, a.shape())?,
    };
    let dims: Vec<SliceDim> = a
        .shape()
        .iter()
        .enumerate()
        .map(|(d, &len)| {
            if axes.contains(&d) && len > 0 {
                SliceDim {
                    start: len - 1,
                    step: -1,
                    len,
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
    slice_dims(a, &dims, stream)
}

/// `a` with its elements shifted by `shift[i]` along `axes[i]`, those pushed off one end coming
/// back at the other. With no axes, the flattened array is rolled by the sum of the shifts and
/// given `a`'s shape back. Each axis needs its shift (extra shifts are ignored, as MLX does); a
/// front-end that takes one shift for every axis repeats it.
pub fn roll(
    a: &Array,
    shift: &[isize],
    axes: Option<&[isize]>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("roll")?;
    let Some(axes) = axes else {
        if a.ndim() == 0 {
            return Ok(a.clone());
        }
        let flat = reshape(a, &[-1], stream)?;
        let total = shift.iter().fold(0isize, |t, &x| t.wrapping_add(x));
        let rolled = roll(&flat, &[total], Some(&[0]), stream)?;
        let shape: Vec<isize> = a.shape().iter().map(|&d| d as isize).collect();
        return reshape(&rolled, &shape, stream);
    };
    if shift.len() < axes.len() {
        return Err(Error::arg(
            "roll",
            format!(
                "at least one shift value per axis is required, {} provided for {} axes",
                shift.len(),
                axes.len()
            ),
        ));
    }
    let pairs: Vec<(isize, isize)> = shift.iter().copied().zip(axes.iter().copied()).collect();
    let mut x = a.clone();
    for (sh, ax) in pairs {
        let d = normalize_axis("roll", ax, a.shape())?;
        let n = x.shape()[d];
        if n == 0 {
            continue;
        }
        let k = sh.rem_euclid(n as isize) as usize;
        if k == 0 {
            continue;
        }
        // The last k elements first, then the rest.
        let part = |start: usize, len: usize| {
            let dims: Vec<SliceDim> = x
                .shape()
                .iter()
                .enumerate()
                .map(|(i, &l)| {
                    if i == d {
                        SliceDim {
                            start,
                            step: 1,
                            len,
                        }
                    } else {
                        SliceDim {
                            start: 0,
                            step: 1,
                            len: l,
                        }
                    }
                })
                .collect();
            slice_dims(&x, &dims, stream)
        };
        let (tail, head) = (part(n - k, k)?, part(0, n - k)?);
        x = concatenate(&[tail, head], Some(d as isize), stream)?;
    }
    Ok(x)
}

/// Coordinate arrays from coordinate vectors (each flattened): with `indexing` "xy" (Cartesian)
/// the first two output dims are swapped, with "ij" (matrix) they are in order. `sparse` keeps
/// each output 1 along the other dims instead of broadcasting.
pub fn meshgrid(
    arrays: &[Array],
    sparse: bool,
    indexing: &str,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let stream = s.into().resolve("meshgrid")?;
    if indexing != "xy" && indexing != "ij" {
        return Err(Error::arg(
            "meshgrid",
            format!("invalid indexing value {indexing:?}; valid values are 'xy' and 'ij'"),
        ));
    }
    let n = arrays.len();
    let flat = arrays
        .iter()
        .map(|a| reshape(a, &[-1], stream))
        .collect::<Result<Vec<_>>>()?;
    let mut full: Vec<usize> = flat.iter().map(|a| a.shape()[0]).collect();
    let mut place: Vec<usize> = (0..n).collect();
    if indexing == "xy" && n >= 2 {
        full.swap(0, 1);
        place.swap(0, 1);
    }
    flat.iter()
        .zip(&place)
        .map(|(a, &p)| {
            let mut shape = vec![1isize; n];
            shape[p] = a.shape()[0] as isize;
            let x = reshape(a, &shape, stream)?;
            if sparse {
                Ok(x)
            } else {
                broadcast_to(&x, &full, stream)
            }
        })
        .collect()
}

/// `a` with `axis` split into the dims `shape` (one of which may be -1, inferred).
pub fn unflatten(
    a: &Array,
    axis: isize,
    shape: &[isize],
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("unflatten")?;
    let d = normalize_axis("unflatten", axis, a.shape())?;
    if shape.is_empty() {
        return Err(Error::arg(
            "unflatten",
            "shape to unflatten to cannot be empty",
        ));
    }
    let n = a.shape()[d];
    let mut known = 1usize;
    let mut infer = None;
    for (i, &x) in shape.iter().enumerate() {
        if x == -1 {
            if infer.replace(i).is_some() {
                return Err(Error::arg(
                    "unflatten",
                    format!("can only infer one dimension, got shape {shape:?}"),
                ));
            }
        } else if x < 0 {
            return Err(Error::arg(
                "unflatten",
                format!("invalid dimension {x} in shape {shape:?}"),
            ));
        } else {
            known = known.saturating_mul(x as usize);
        }
    }
    let mut dims: Vec<isize> = shape.to_vec();
    let fits = match infer {
        Some(i) if known != 0 && n.is_multiple_of(known) => {
            dims[i] = (n / known) as isize;
            true
        }
        Some(_) => false,
        None => known == n,
    };
    if !fits {
        return Err(Error::shape(
            "unflatten",
            format!(
                "cannot unflatten axis {axis} of size {n} (shape {:?}) into shape {shape:?}",
                a.shape()
            ),
        ));
    }
    let mut out: Vec<isize> = a.shape()[..d].iter().map(|&x| x as isize).collect();
    out.extend(dims);
    out.extend(a.shape()[d + 1..].iter().map(|&x| x as isize));
    reshape(a, &out, stream)
}

/// The slices of `a` along `axis`, each without that axis (views).
pub fn unstack(a: &Array, axis: isize, s: impl Into<StreamOrDevice>) -> Result<Vec<Array>> {
    let stream = s.into().resolve("unstack")?;
    let d = normalize_axis("unstack", axis, a.shape())?;
    let mut shape: Vec<isize> = a.shape().iter().map(|&x| x as isize).collect();
    shape.remove(d);
    (0..a.shape()[d])
        .map(|i| {
            let dims: Vec<SliceDim> = a
                .shape()
                .iter()
                .enumerate()
                .map(|(j, &len)| {
                    if j == d {
                        SliceDim {
                            start: i,
                            step: 1,
                            len: 1,
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
            reshape(&slice_dims(a, &dims, stream)?, &shape, stream)
        })
        .collect()
}

/// The `n`-th discrete difference along `axis`: `a[1:] - a[:-1]`, `n` times (`a[1:] != a[:-1]` for
/// bool, as NumPy and MLX). An axis shorter than `n` gives an empty result.
pub fn diff(a: &Array, n: isize, axis: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("diff")?;
    if n < 0 {
        return Err(Error::arg(
            "diff",
            format!("order n must be non-negative, got {n}"),
        ));
    }
    let d = normalize_axis("diff", axis, a.shape())?;
    let mut x = a.clone();
    for _ in 0..n {
        let len = x.shape()[d];
        if len == 0 {
            break;
        }
        let part = |start: usize| {
            let dims: Vec<SliceDim> = x
                .shape()
                .iter()
                .enumerate()
                .map(|(j, &l)| {
                    if j == d {
                        SliceDim {
                            start: if len > 1 { start } else { 0 },
                            step: 1,
                            len: len - 1,
                        }
                    } else {
                        SliceDim {
                            start: 0,
                            step: 1,
                            len: l,
                        }
                    }
                })
                .collect();
            slice_dims(&x, &dims, stream)
        };
        let (hi, lo) = (part(1)?, part(0)?);
        x = if x.dtype().is_bool() {
            super::not_equal(&hi, &lo, stream)?
        } else {
            super::subtract(&hi, &lo, stream)?
        };
    }
    Ok(x)
}
