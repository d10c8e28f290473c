//! Comparisons of whole arrays: `isclose` elementwise, `allclose` and `array_equal` as 0-d bools.
//! All three are compositions of elementwise ops (and, for the last two, an `all` reduction).

use super::{
    abs, add, all, astype, equal, full, isinf, isnan, less_equal, logical_and, logical_not,
    logical_or, multiply, subtract,
};
use crate::shape::broadcast_shapes;
use crate::{promote_types, Array, Dtype, Result, StreamOrDevice};

/// Where `a` and `b` are equal within a tolerance, NumPy's way: `|a - b| <= atol + rtol * |b|`
/// (not symmetric in `a` and `b`), with infinities close only to an infinity of the same sign and
/// NaN close to nothing, unless `equal_nan`, where NaN is close to NaN (for complex numbers, a NaN
/// in either part). `a` and `b` broadcast together.
///
/// Integers and bool compare in float32, so that `|a - b|` cannot wrap; float16 and bfloat16
/// compare in float32 too, so that small tolerances (`atol = 1e-8`) do not underflow to zero.
pub fn isclose(
    a: &Array,
    b: &Array,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("isclose")?;
    broadcast_shapes("isclose", a.shape(), b.shape())?;
    let compute = match promote_types(a.dtype(), b.dtype()) {
        dt @ (Dtype::Float32 | Dtype::Float64 | Dtype::Complex64) => dt,
        _ => Dtype::Float32,
    };
    // |z| of complex numbers is float32.
    let real = if compute.is_complex() {
        Dtype::Float32
    } else {
        compute
    };
    let a = astype(a, compute, stream)?;
    let b = astype(b, compute, stream)?;
    let diff = abs(&subtract(&a, &b, stream)?, stream)?;
    let atol = full(&[], atol, Some(real), stream)?;
    let rtol = full(&[], rtol, Some(real), stream)?;
    let tol = add(&atol, &multiply(&rtol, &abs(&b, stream)?, stream)?, stream)?;
    let within = less_equal(&diff, &tol, stream)?;
    // `|finite - inf| <= rtol * inf` holds, but they are not close; equal infinities are, through
    // the `a == b` term (which also makes exactly equal values close whatever the tolerances).
    let finite = logical_not(
        &logical_or(&isinf(&a, stream)?, &isinf(&b, stream)?, stream)?,
        stream,
    )?;
    let mut out = logical_or(
        &logical_and(&within, &finite, stream)?,
        &equal(&a, &b, stream)?,
        stream,
    )?;
    if equal_nan {
        let both_nan = logical_and(&isnan(&a, stream)?, &isnan(&b, stream)?, stream)?;
        out = logical_or(&out, &both_nan, stream)?;
    }
    Ok(out)
}

/// True (a 0-d bool) when every element of `a` is close to the matching one of `b`, by
/// [`isclose`]; `a` and `b` broadcast together.
pub fn allclose(
    a: &Array,
    b: &Array,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("allclose")?;
    let close = isclose(a, b, rtol, atol, equal_nan, stream)?;
    all(&close, None, false, stream)
}

/// True (a 0-d bool) when `a` and `b` have the same shape and equal elements, compared after
/// promotion to a common dtype. Different shapes give false, not an error. With `equal_nan`, NaNs
/// in the same places count as equal.
pub fn array_equal(
    a: &Array,
    b: &Array,
    equal_nan: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("array_equal")?;
    if a.shape() != b.shape() {
        return full(&[], false, Some(Dtype::Bool), stream);
    }
    let dt = promote_types(a.dtype(), b.dtype());
    let a = astype(a, dt, stream)?;
    let b = astype(b, dt, stream)?;
    let mut eq = equal(&a, &b, stream)?;
    if equal_nan && dt.is_inexact() {
        let both_nan = logical_and(&isnan(&a, stream)?, &isnan(&b, stream)?, stream)?;
        eq = logical_or(&eq, &both_nan, stream)?;
    }
    all(&eq, None, false, stream)
}
