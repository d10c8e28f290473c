//! Reductions: sum, prod, max, min, all, any, mean, var, std, logsumexp, argmax and argmin.
//!
//! `axes: None` reduces every axis; `Some(&[])` reduces none. A reduction node keeps the reduced
//! dims as size 1 (`Op::Reduce`); without `keepdims` the result is a reshape (a view) of it.
//!
//! Dtypes follow MLX: sum and prod widen bool and 8/16-bit integers to (u)int32, max and min keep
//! the dtype, all and any give bool, mean/var/std/logsumexp give float32 for integers and bool,
//! var and std of complex64 give float32, argmax/argmin give uint32. Also as MLX, reducing no axis
//! returns the input unchanged (no widening). float16/bfloat16 accumulate in f32.

use super::{add, astype, divide, full, make, multiply, reshape, sqrt, subtract, transpose};
use crate::op::{ArgReduceOp, Op, ReduceOp};
use crate::shape::{normalize_axes, normalize_axis};
use crate::{Array, Dtype, Error, Result, Scalar, Stream, StreamOrDevice};

/// The normalized, sorted axes a reduction named `op` runs over.
pub(crate) fn reduction_axes(
    op: &'static str,
    a: &Array,
    axes: Option<&[isize]>,
) -> Result<Vec<usize>> {
    match axes {
        None => Ok((0..a.ndim()).collect()),
        Some(axes) => normalize_axes(op, axes, a.shape()),
    }
}

/// `a`'s shape with `axes` set to 1 (`keepdims`) or removed.
fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|d| match (axes.contains(&d), keepdims) {
            (false, _) => Some(shape[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Drops the size-1 reduced dims of a keepdims result unless `keepdims` (a view).
fn finish_dims(r: Array, axes: &[usize], keepdims: bool, stream: Stream) -> Result<Array> {
    if keepdims {
        return Ok(r);
    }
    let shape: Vec<isize> = reduced_shape(r.shape(), axes, false)
        .iter()
        .map(|&d| d as isize)
        .collect();
    reshape(&r, &shape, stream)
}

/// A `Reduce` node over the (non-empty, sorted) `axes`, written as `dtype`.
fn reduce_node(
    op: ReduceOp,
    a: &Array,
    axes: &[usize],
    keepdims: bool,
    dtype: Dtype,
    stream: Stream,
) -> Result<Array> {
    let kept = reduced_shape(a.shape(), axes, true);
    let r = make(
        op.name(),
        kept,
        dtype,
        stream,
        Op::Reduce {
            op,
            axes: axes.to_vec(),
        },
        vec![a.clone()],
    )?;
    finish_dims(r, axes, keepdims, stream)
}

/// The dtype MLX sums and multiplies `dt` in.
fn sum_dtype(dt: Dtype) -> Dtype {
    match dt {
        Dtype::Bool | Dtype::Int8 | Dtype::Int16 => Dtype::Int32,
        Dtype::Uint8 | Dtype::Uint16 => Dtype::Uint32,
        d => d,
    }
}

fn reduction(
    op: ReduceOp,
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let name = op.name();
    let stream = s.resolve(name)?;
    let axes = reduction_axes(name, a, axes)?;
    let dtype = match op {
        ReduceOp::Sum | ReduceOp::Prod => sum_dtype(a.dtype()),
        ReduceOp::Max | ReduceOp::Min => a.dtype(),
        ReduceOp::All | ReduceOp::Any => Dtype::Bool,
    };
    if matches!(op, ReduceOp::Max | ReduceOp::Min) {
        if let Some(&d) = axes.iter().find(|&&d| a.shape()[d] == 0) {
            return Err(Error::shape(
                name,
                format!(
                    "cannot {name}-reduce over axis {d} of size 0 (shape {:?}): it has no identity",
                    a.shape()
                ),
            ));
        }
    }
    if axes.is_empty() {
        return astype(
            a,
            if dtype == Dtype::Bool {
                dtype
            } else {
                a.dtype()
            },
            stream,
        );
    }
    reduce_node(op, a, &axes, keepdims, dtype, stream)
}

macro_rules! reduce_fns {
    ($($(#[$m:meta])* $fname:ident => $variant:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(a: &Array, axes: Option<&[isize]>, keepdims: bool, s: impl Into<StreamOrDevice>) -> Result<Array> {
            reduction(ReduceOp::$variant, a, axes, keepdims, s.into())
        }
    )*};
}

reduce_fns!(
    /// The sum over `axes` (0 over an empty axis). Float sums are pairwise.
    sum => Sum,
    /// The product over `axes` (1 over an empty axis).
    prod => Prod,
    /// The largest element over `axes`; NaN if any is NaN. An empty axis is an error.
    max => Max,
    /// The smallest element over `axes`; NaN if any is NaN. An empty axis is an error.
    min => Min,
    /// True where every element over `axes` is nonzero (true over an empty axis).
    all => All,
    /// True where some element over `axes` is nonzero (false over an empty axis).
    any => Any,
);

/// Elements per output of a reduction over `axes`.
fn count(a: &Array, axes: &[usize]) -> usize {
    axes.iter().map(|&d| a.shape()[d]).product()
}

/// The float dtype mean/var accumulate in: float32 for integers, bool and halves.
fn accumulate_dtype(dt: Dtype) -> Dtype {
    match dt {
        Dtype::Float64 | Dtype::Complex64 => dt,
        _ => Dtype::Float32,
    }
}

/// `x / value`, the divisor a 0-d array of `x`'s dtype.
fn divide_by(x: &Array, value: f64, stream: Stream) -> Result<Array> {
    let d = full(&[], value, Some(x.dtype()), stream)?;
    divide(x, &d, stream)
}

/// The mean over `axes` (NaN over an empty axis). Integers and bool give float32; float16/bfloat16
/// are summed in f32 and divided before rounding back.
pub fn mean(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("mean")?;
    let axes = reduction_axes("mean", a, axes)?;
    let out = a.dtype().to_inexact();
    if axes.is_empty() {
        return astype(a, out, stream);
    }
    let total = reduce_node(
        ReduceOp::Sum,
        a,
        &axes,
        keepdims,
        accumulate_dtype(out),
        stream,
    )?;
    astype(
        &divide_by(&total, count(a, &axes) as f64, stream)?,
        out,
        stream,
    )
}

/// The variance over `axes`: `sum(|x - mean|^2) / (N - ddof)` (two passes, so it stays accurate
/// when the mean is large; infinite or NaN when `N <= ddof`, as MLX). Integers and bool give
/// float32, complex64 gives float32 (the variance of a complex array is real).
pub fn var(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    ddof: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("var")?;
    let v = variance("var", a, axes, keepdims, ddof, stream)?;
    astype(&v, var_dtype(a.dtype()), stream)
}

/// The standard deviation over `axes`: the square root of [`var`].
pub fn std(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    ddof: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("std")?;
    let v = variance("std", a, axes, keepdims, ddof, stream)?;
    astype(&sqrt(&v, stream)?, var_dtype(a.dtype()), stream)
}

fn var_dtype(dt: Dtype) -> Dtype {
    match dt {
        Dtype::Complex64 => Dtype::Float32,
        d => d.to_inexact(),
    }
}

/// The variance in the accumulation dtype (float32 or float64), before rounding to the result's.
fn variance(
    op: &'static str,
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    ddof: usize,
    stream: Stream,
) -> Result<Array> {
    let axes = reduction_axes(op, a, axes)?;
    let x = astype(a, accumulate_dtype(a.dtype()), stream)?;
    let n = count(a, &axes);
    let mu = mean(
        &x,
        Some(&axes.iter().map(|&d| d as isize).collect::<Vec<_>>()),
        true,
        stream,
    )?;
    let d = subtract(&x, &mu, stream)?;
    let sq = if d.dtype().is_complex() {
        // |d|^2 = re^2 + im^2; the imaginary part is the real part of d * -i.
        let re = astype(&d, Dtype::Float32, stream)?;
        let minus_i = full(&[], Scalar::Complex(0.0, -1.0), None, stream)?;
        let im = astype(&multiply(&d, &minus_i, stream)?, Dtype::Float32, stream)?;
        add(
            &multiply(&re, &re, stream)?,
            &multiply(&im, &im, stream)?,
            stream,
        )?
    } else {
        multiply(&d, &d, stream)?
    };
    let total = if axes.is_empty() {
        sq
    } else {
        reduce_node(ReduceOp::Sum, &sq, &axes, keepdims, sq.dtype(), stream)?
    };
    divide_by(&total, n.saturating_sub(ddof) as f64, stream)
}

/// `log(sum(exp(a)))` over `axes`, computed stably (the max is subtracted first); -inf over an
/// empty axis. Integers and bool give float32.
pub fn logsumexp(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("logsumexp")?;
    let axes = reduction_axes("logsumexp", a, axes)?;
    let x = astype(a, a.dtype().to_inexact(), stream)?;
    if axes.is_empty() {
        return Ok(x);
    }
    let r = if let [axis] = axes[..] {
        let shape = reduced_shape(x.shape(), &axes, true);
        make(
            "logsumexp",
            shape,
            x.dtype(),
            stream,
            Op::LogSumExp { axis },
            vec![x],
        )?
    } else {
        // Move the reduced axes last and merge them into one.
        let (moved, kept_shape) = axes_last(&x, &axes, stream)?;
        let mut shape = kept_shape.clone();
        shape.push(1);
        let r = make(
            "logsumexp",
            shape,
            x.dtype(),
            stream,
            Op::LogSumExp {
                axis: kept_shape.len(),
            },
            vec![moved],
        )?;
        let keep: Vec<isize> = reduced_shape(x.shape(), &axes, true)
            .iter()
            .map(|&d| d as isize)
            .collect();
        reshape(&r, &keep, stream)?
    };
    finish_dims(r, &axes, keepdims, stream)
}

/// `x` with `axes` moved last and merged into one dim; also returns the shape of the other dims.
/// A view when the axes already are the last ones; a copy otherwise.
pub(crate) fn axes_last(x: &Array, axes: &[usize], stream: Stream) -> Result<(Array, Vec<usize>)> {
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<isize> = kept.iter().chain(axes).map(|&d| d as isize).collect();
    let t = transpose(x, Some(&perm), stream)?;
    let kept_shape: Vec<usize> = kept.iter().map(|&d| x.shape()[d]).collect();
    let mut merged: Vec<isize> = kept_shape.iter().map(|&d| d as isize).collect();
    merged.push(count(x, axes) as isize);
    Ok((reshape(&t, &merged, stream)?, kept_shape))
}

fn arg_reduction(
    op: ArgReduceOp,
    a: &Array,
    axis: Option<isize>,
    keepdims: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let name = op.name();
    let stream = s.resolve(name)?;
    let (x, ax) = match axis {
        None => (reshape(a, &[-1], stream)?, 0),
        Some(ax) => (a.clone(), normalize_axis(name, ax, a.shape())?),
    };
    if x.shape()[ax] == 0 {
        return Err(Error::shape(
            name,
            format!("cannot {name} over an empty axis (shape {:?})", a.shape()),
        ));
    }
    let mut shape = x.shape().to_vec();
    shape[ax] = 1;
    let r = make(
        name,
        shape,
        Dtype::Uint32,
        stream,
        Op::ArgReduce { op, axis: ax },
        vec![x],
    )?;
    match (axis, keepdims) {
        (Some(_), _) => finish_dims(r, &[ax], keepdims, stream),
        // Over the flattened array: a scalar, or every dim of `a` kept as 1 (as MLX).
        (None, false) => reshape(&r, &[], stream),
        (None, true) => reshape(&r, &vec![1; a.ndim()], stream),
    }
}

/// The index of the first largest element along `axis` (over the flattened array when None);
/// NaN counts as largest. uint32, as MLX. An empty axis is an error.
pub fn argmax(
    a: &Array,
    axis: Option<isize>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    arg_reduction(ArgReduceOp::ArgMax, a, axis, keepdims, s.into())
}

/// The index of the first smallest element along `axis` (over the flattened array when None);
/// NaN counts as smallest. uint32, as MLX. An empty axis is an error.
pub fn argmin(
    a: &Array,
    axis: Option<isize>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    arg_reduction(ArgReduceOp::ArgMin, a, axis, keepdims, s.into())
}

/// How many elements over `axes` are nonzero (NaN counts), as int32 (`sum` of a bool array).
pub fn count_nonzero(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("count_nonzero")?;
    let axes: Vec<isize> = reduction_axes("count_nonzero", a, axes)?
        .into_iter()
        .map(|d| d as isize)
        .collect();
    let nz = astype(a, Dtype::Bool, stream)?;
    if axes.is_empty() {
        return astype(&nz, Dtype::Int32, stream);
    }
    sum(&nz, Some(&axes), keepdims, stream)
}

/// The median over `axes` (every axis when None): the middle of the sorted values, or the mean
/// of the two middle ones, in the input's float type (float32 for integers and bool). NaN
/// anywhere on a line makes its median NaN. An empty axis is an error.
pub fn median(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    use super::{isnan, slice_dims, sort, where_, SliceDim};
    let stream = s.into().resolve("median")?;
    let axes = reduction_axes("median", a, axes)?;
    if let Some(&d) = axes.iter().find(|&&d| a.shape()[d] == 0) {
        return Err(Error::shape(
            "median",
            format!(
                "cannot take the median along empty axis {d} (shape {:?})",
                a.shape()
            ),
        ));
    }
    let out_dtype = a.dtype().to_inexact();
    if axes.is_empty() {
        return astype(a, out_dtype, stream);
    }
    // The reduced axes last, merged into one line per output element, sorted.
    let kept: Vec<usize> = (0..a.ndim()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<isize> = kept.iter().chain(&axes).map(|&d| d as isize).collect();
    let k: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let mut lines: Vec<isize> = kept.iter().map(|&d| a.shape()[d] as isize).collect();
    lines.push(k as isize);
    let x = reshape(&transpose(a, Some(&perm), stream)?, &lines, stream)?;
    let sorted = astype(&sort(&x, Some(-1), stream)?, out_dtype, stream)?;
    let at = |i: usize| {
        let mut dims: Vec<SliceDim> = SliceDim::whole_of(sorted.shape());
        let last = dims.len() - 1;
        dims[last] = SliceDim {
            start: i,
            step: 1,
            len: 1,
        };
        slice_dims(&sorted, &dims, stream)
    };
    let mid = if k % 2 == 1 {
        at(k / 2)?
    } else {
        let half = full(&[], 0.5, Some(out_dtype), stream)?;
        multiply(&add(&at(k / 2 - 1)?, &at(k / 2)?, stream)?, &half, stream)?
    };
    let mid = if out_dtype.is_complex() {
        mid
    } else {
        // Sorting puts NaN last: the line's last value says whether it has one.
        let nan = full(&[], f64::NAN, Some(out_dtype), stream)?;
        where_(&isnan(&at(k - 1)?, stream)?, &nan, &mid, stream)?
    };
    let shape: Vec<isize> = reduced_shape(a.shape(), &axes, keepdims)
        .iter()
        .map(|&d| d as isize)
        .collect();
    reshape(&mid, &shape, stream)
}

/// The minimum and the maximum over `axes` (every axis when None), as `min` and `max` give them.
pub fn minmax(
    a: &Array,
    axes: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<(Array, Array)> {
    let stream = s.into().resolve("minmax")?;
    Ok((
        min(a, axes, keepdims, stream)?,
        max(a, axes, keepdims, stream)?,
    ))
}
