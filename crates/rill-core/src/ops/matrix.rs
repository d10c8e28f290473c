//! Matrix structure and products built from other ops: tri, tril, triu, diag, diagonal, trace,
//! matrix_transpose, outer, inner, kron, tensordot and vecdot.
//!
//! None of these has a kernel of its own. Triangles are a `where` against a mask made from two
//! aranges; a diagonal is a strided slice of the flattened last two dims (a view when the input is
//! row-contiguous); `diag` of a vector is the vector padded with a row of zeros and reshaped, so
//! its elements land on the diagonal; products move the contracted axes together and call
//! `matmul`, so their dtypes and errors are matmul's (inexact types only, as in MLX).

use super::{
    arange, astype, broadcast_arrays, concatenate, full, greater_equal, logical_not, matmul,
    multiply, pad, reshape, slice_dims, sum, swapaxes, transpose, where_, zeros_like, SliceDim,
};
use crate::shape::{as_isize, normalize_axis};
use crate::{Array, Dtype, Error, Result, Stream, StreamOrDevice};

/// The bool mask of an `n x m` matrix that is true on and below the `k`-th diagonal
/// (`col <= row + k`).
fn lower_mask(n: usize, m: usize, k: isize, stream: Stream) -> Result<Array> {
    let rows = arange(0.0, n as f64, 1.0, Some(Dtype::Int64), stream)?;
    let cols = arange(0.0, m as f64, 1.0, Some(Dtype::Int64), stream)?;
    let rows = reshape(&rows, &[n as isize, 1], stream)?;
    let shifted = super::add(
        &rows,
        &full(&[], k as i64, Some(Dtype::Int64), stream)?,
        stream,
    )?;
    greater_equal(&shifted, &cols, stream)
}

/// An `n x m` matrix (`m = n` when None) of `dtype` with ones on and below the `k`-th diagonal.
pub fn tri(
    n: usize,
    m: Option<usize>,
    k: isize,
    dtype: Dtype,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("tri")?;
    astype(&lower_mask(n, m.unwrap_or(n), k, stream)?, dtype, stream)
}

fn triangle(
    name: &'static str,
    x: &Array,
    k: isize,
    lower: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let stream = s.resolve(name)?;
    if x.ndim() < 2 {
        return Err(Error::shape(
            name,
            format!("array must be at least 2-D, got shape {:?}", x.shape()),
        ));
    }
    let (n, m) = (x.shape()[x.ndim() - 2], x.shape()[x.ndim() - 1]);
    let mask = if lower {
        lower_mask(n, m, k, stream)?
    } else {
        logical_not(&lower_mask(n, m, k - 1, stream)?, stream)?
    };
    where_(&mask, x, &zeros_like(x, stream)?, stream)
}

/// `x` with the elements above the `k`-th diagonal of its last two dims set to zero.
pub fn tril(x: &Array, k: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    triangle("tril", x, k, true, s.into())
}

/// `x` with the elements below the `k`-th diagonal of its last two dims set to zero.
pub fn triu(x: &Array, k: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    triangle("triu", x, k, false, s.into())
}

/// The `offset`-th diagonal of the 2-D planes of `a` given by `axis1` and `axis2`, as a new last
/// axis after the others (NumPy's `diagonal`).
pub fn diagonal(
    a: &Array,
    offset: isize,
    axis1: isize,
    axis2: isize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    diagonal_named("diagonal", a, offset, axis1, axis2, s.into())
}

fn diagonal_named(
    name: &'static str,
    a: &Array,
    offset: isize,
    axis1: isize,
    axis2: isize,
    s: StreamOrDevice,
) -> Result<Array> {
    let stream = s.resolve(name)?;
    if a.ndim() < 2 {
        return Err(Error::shape(
            name,
            format!(
                "array must have at least two dimensions, got shape {:?}",
                a.shape()
            ),
        ));
    }
    let ax1 = normalize_axis(name, axis1, a.shape())?;
    let ax2 = normalize_axis(name, axis2, a.shape())?;
    if ax1 == ax2 {
        return Err(Error::arg(
            name,
            format!(
                "axis1 and axis2 cannot be the same axis (both {ax1} for shape {:?})",
                a.shape()
            ),
        ));
    }
    // The two axes last (axis1 then axis2), the plane flattened: element (i, i + offset) is at
    // i * (m + 1) + offset, a slice with step m + 1.
    let mut perm: Vec<isize> = (0..a.ndim())
        .filter(|&d| d != ax1 && d != ax2)
        .map(|d| d as isize)
        .collect();
    perm.extend([ax1 as isize, ax2 as isize]);
    let x = transpose(a, Some(&perm), stream)?;
    let (n, m) = (a.shape()[ax1], a.shape()[ax2]);
    let (row0, col0) = if offset >= 0 {
        (0, offset.unsigned_abs())
    } else {
        (offset.unsigned_abs(), 0)
    };
    let len = n.saturating_sub(row0).min(m.saturating_sub(col0));
    let mut flat = as_isize(&x.shape()[..x.ndim() - 2]);
    flat.push((n * m) as isize);
    let x = reshape(&x, &flat, stream)?;
    let mut sl: Vec<SliceDim> = SliceDim::whole_of(x.shape());
    let last = sl.len() - 1;
    sl[last] = SliceDim {
        start: if len == 0 { 0 } else { row0 * m + col0 },
        step: (m + 1) as isize,
        len,
    };
    slice_dims(&x, &sl, stream)
}

/// A 1-D `a` as a square matrix with `a` on its `k`-th diagonal; the `k`-th diagonal of a 2-D `a`.
pub fn diag(a: &Array, k: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("diag")?;
    match a.ndim() {
        1 => {
            let l = a.shape()[0];
            // Each element followed by l zeros: in rows of l, element i lands at (i, i).
            let col = reshape(a, &[l as isize, 1], stream)?;
            let zeros = super::zeros(&[l, l], a.dtype(), stream)?;
            let rows = concatenate(&[col, zeros], Some(1), stream)?;
            let flat = reshape(&rows, &[-1], stream)?;
            let square = slice_dims(
                &flat,
                &[SliceDim {
                    start: 0,
                    step: 1,
                    len: l * l,
                }],
                stream,
            )?;
            let square = reshape(&square, &[l as isize, l as isize], stream)?;
            let kk = k.unsigned_abs();
            let widths = if k >= 0 {
                [(0, kk), (kk, 0)]
            } else {
                [(kk, 0), (0, kk)]
            };
            pad(&square, &widths, crate::Scalar::Int(0), stream)
        }
        2 => diagonal_named("diag", a, k, 0, 1, stream.into()),
        n => Err(Error::shape(
            "diag",
            format!(
                "array must be 1-D or 2-D, got array with {n} dimensions (shape {:?})",
                a.shape()
            ),
        )),
    }
}

/// The sum along the `offset`-th diagonal of the planes `axis1, axis2`, summed as `sum` sums (bool
/// and small integers widen), then converted to `dtype` when given.
pub fn trace(
    a: &Array,
    offset: isize,
    axis1: isize,
    axis2: isize,
    dtype: Option<Dtype>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("trace")?;
    let d = diagonal_named("trace", a, offset, axis1, axis2, stream.into())?;
    let t = sum(&d, Some(&[-1]), false, stream)?;
    match dtype {
        Some(dt) => astype(&t, dt, stream),
        None => Ok(t),
    }
}

/// `a` with its last two axes swapped.
pub fn matrix_transpose(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    if a.ndim() < 2 {
        return Err(Error::shape(
            "matrix_transpose",
            format!(
                "input array must have at least 2 dimensions, got shape {:?}",
                a.shape()
            ),
        ));
    }
    swapaxes(a, -1, -2, s)
}

/// The outer product of the flattened `a` and `b`: `out[i, j] = a[i] * b[j]` (any dtype, as
/// `multiply`).
pub fn outer(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("outer")?;
    let col = reshape(a, &[-1, 1], stream)?;
    let row = reshape(b, &[-1], stream)?;
    multiply(&col, &row, stream)
}

/// The sum of products over the last axes of `a` and `b`; a 0-d operand multiplies.
pub fn inner(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("inner")?;
    if a.ndim() == 0 || b.ndim() == 0 {
        return multiply(a, b, stream);
    }
    if a.shape()[a.ndim() - 1] != b.shape()[b.ndim() - 1] {
        return Err(Error::shape(
            "inner",
            format!(
                "a and b must have the same last dimension, got shapes {:?} and {:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    contract("inner", a, b, &[a.ndim() - 1], &[b.ndim() - 1], stream)
}

/// The Kronecker product: blocks `a[i, j] * b`, after the shorter shape gets leading 1s; a 0-d
/// operand multiplies.
pub fn kron(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("kron")?;
    if a.ndim() == 0 || b.ndim() == 0 {
        return multiply(a, b, stream);
    }
    let nd = a.ndim().max(b.ndim());
    let lead = |x: &Array| -> Vec<usize> {
        std::iter::repeat_n(1, nd - x.ndim())
            .chain(x.shape().iter().copied())
            .collect()
    };
    let (sa, sb) = (lead(a), lead(b));
    // a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); their product merges pairwise.
    let ia: Vec<isize> = sa.iter().flat_map(|&d| [d as isize, 1]).collect();
    let ib: Vec<isize> = sb.iter().flat_map(|&d| [1, d as isize]).collect();
    let p = multiply(&reshape(a, &ia, stream)?, &reshape(b, &ib, stream)?, stream)?;
    let merged: Vec<isize> = sa
        .iter()
        .zip(&sb)
        .map(|(&x, &y)| (x * y) as isize)
        .collect();
    reshape(&p, &merged, stream)
}

/// How [`tensordot`] pairs the axes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensordotAxes {
    /// The last `n` axes of `a` with the first `n` of `b`.
    Count(isize),
    /// `a`'s axes `.0[i]` with `b`'s axes `.1[i]`.
    Pairs(Vec<isize>, Vec<isize>),
}

/// The sum of products of `a` and `b` over the paired axes; the result has `a`'s other axes then
/// `b`'s.
pub fn tensordot(
    a: &Array,
    b: &Array,
    axes: TensordotAxes,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("tensordot")?;
    let (xa, xb): (Vec<usize>, Vec<usize>) = match axes {
        TensordotAxes::Count(n) => {
            if n < 0 {
                return Err(Error::arg(
                    "tensordot",
                    format!("axis must be greater or equal to 0, got {n}"),
                ));
            }
            let n = n as usize;
            if n > a.ndim() || n > b.ndim() {
                return Err(Error::shape(
                    "tensordot",
                    format!(
                        "cannot contract {n} axes of shapes {:?} and {:?}",
                        a.shape(),
                        b.shape()
                    ),
                ));
            }
            ((a.ndim() - n..a.ndim()).collect(), (0..n).collect())
        }
        TensordotAxes::Pairs(pa, pb) => {
            if pa.len() != pb.len() {
                return Err(Error::arg(
                    "tensordot",
                    format!("axes must have the same size, got {pa:?} and {pb:?}"),
                ));
            }
            let na = pa
                .iter()
                .map(|&x| normalize_axis("tensordot", x, a.shape()))
                .collect::<Result<Vec<_>>>()?;
            let nb = pb
                .iter()
                .map(|&x| normalize_axis("tensordot", x, b.shape()))
                .collect::<Result<Vec<_>>>()?;
            (na, nb)
        }
    };
    if xa
        .iter()
        .zip(&xb)
        .any(|(&i, &j)| a.shape()[i] != b.shape()[j])
    {
        return Err(Error::shape(
            "tensordot",
            format!(
                "a and b must have the same shape on the contracted axes, got shapes {:?} and {:?} with axes {xa:?} and {xb:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    contract("tensordot", a, b, &xa, &xb, stream)
}

/// `a` and `b` contracted over the (checked, equal-sized) axes `xa` and `xb` by one matmul.
fn contract(
    name: &'static str,
    a: &Array,
    b: &Array,
    xa: &[usize],
    xb: &[usize],
    stream: Stream,
) -> Result<Array> {
    let free_a: Vec<usize> = (0..a.ndim()).filter(|d| !xa.contains(d)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|d| !xb.contains(d)).collect();
    let to_isize = |v: &[usize]| v.iter().map(|&d| d as isize).collect::<Vec<_>>();
    let k: usize = xa.iter().map(|&d| a.shape()[d]).product();
    let ma: usize = free_a.iter().map(|&d| a.shape()[d]).product();
    let nb: usize = free_b.iter().map(|&d| b.shape()[d]).product();
    let pa: Vec<usize> = free_a.iter().chain(xa).copied().collect();
    let pb: Vec<usize> = xb.iter().chain(&free_b).copied().collect();
    let a2 = reshape(
        &transpose(a, Some(&to_isize(&pa)), stream)?,
        &[ma as isize, k as isize],
        stream,
    )?;
    let b2 = reshape(
        &transpose(b, Some(&to_isize(&pb)), stream)?,
        &[k as isize, nb as isize],
        stream,
    )?;
    let p = matmul(&a2, &b2, stream).map_err(|e| rename(e, name))?;
    let out: Vec<isize> = free_a
        .iter()
        .map(|&d| a.shape()[d] as isize)
        .chain(free_b.iter().map(|&d| b.shape()[d] as isize))
        .collect();
    reshape(&p, &out, stream)
}

/// matmul's error, named for the op the user called.
fn rename(e: Error, name: &'static str) -> Error {
    match e {
        Error::Dtype { msg, .. } => Error::dtype(name, msg),
        e => e,
    }
}

/// The dot product of `a` and `b` along `axis` after broadcasting them together:
/// `sum(conj(a) * b, axis)` (for real dtypes, `sum(a * b, axis)`, in `sum`'s dtype).
pub fn vecdot(a: &Array, b: &Array, axis: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("vecdot")?;
    let ab = broadcast_arrays(&[a.clone(), b.clone()], stream)?;
    let ax = normalize_axis("vecdot", axis, ab[0].shape())?;
    let lhs = if ab[0].dtype().is_complex() || ab[1].dtype().is_complex() {
        super::conjugate(&ab[0], stream)?
    } else {
        ab[0].clone()
    };
    let p = multiply(&lhs, &ab[1], stream)?;
    sum(&p, Some(&[ax as isize]), false, stream)
}

/// `a` expanded to at least `n` dims with NumPy's `atleast_Nd` placement (a 1-D `(k)` becomes
/// `(1, k)` and `(1, k, 1)`; a 2-D `(m, k)` becomes `(m, k, 1)`).
pub fn atleast_nd(a: &Array, n: usize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let name = match n {
        1 => "atleast_1d",
        2 => "atleast_2d",
        _ => "atleast_3d",
    };
    let stream = s.into().resolve(name)?;
    if a.ndim() >= n {
        return Ok(a.clone());
    }
    let shape: Vec<isize> = match (n, a.shape()) {
        (_, []) => vec![1; n],
        (2, [k]) => vec![1, *k as isize],
        (3, [k]) => vec![1, *k as isize, 1],
        (3, [m, k]) => vec![*m as isize, *k as isize, 1],
        _ => unreachable!("ndim below n, n in 1..=3"),
    };
    reshape(a, &shape, stream)
}
