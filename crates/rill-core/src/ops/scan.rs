//! Cumulative reductions along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp.
//!
//! `axis: None` scans the flattened array. `reverse` scans from the end; an exclusive scan
//! (`inclusive: false`) leaves out each element's own value, so its first output is the identity
//! (0, 1, the lowest or the highest value of the dtype). Dtypes as MLX: the output keeps the
//! input's dtype, except that cumsum of bool gives int32 and logcumsumexp computes in the input's
//! float type (float32 for integers and bool; complex is refused). float16/bfloat16 carry the
//! running value in f32, logcumsumexp in f64.

use super::{astype, make, reshape};
use crate::op::{Op, ScanOp};
use crate::shape::normalize_axis;
use crate::{Array, Dtype, Error, Result, StreamOrDevice};

fn scan(
    op: ScanOp,
    a: &Array,
    axis: Option<isize>,
    reverse: bool,
    inclusive: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let name = op.name();
    let stream = s.resolve(name)?;
    let (x, axis) = match axis {
        None => (reshape(a, &[-1], stream)?, 0),
        Some(ax) => (a.clone(), normalize_axis(name, ax, a.shape())?),
    };
    let dtype = match op {
        ScanOp::Sum if x.dtype() == Dtype::Bool => Dtype::Int32,
        ScanOp::LogAddExp if x.dtype().is_complex() => {
            return Err(Error::dtype(
                name,
                format!(
                    "does not accept complex64 arrays (input {} {:?})",
                    x.dtype(),
                    a.shape()
                ),
            ))
        }
        ScanOp::LogAddExp => x.dtype().to_inexact(),
        _ => x.dtype(),
    };
    let x = astype(&x, dtype, stream)?;
    make(
        name,
        x.shape().to_vec(),
        dtype,
        stream,
        Op::Scan {
            op,
            axis,
            reverse,
            inclusive,
        },
        vec![x],
    )
}

macro_rules! scan_fns {
    ($($(#[$m:meta])* $fname:ident => $variant:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(
            a: &Array,
            axis: Option<isize>,
            reverse: bool,
            inclusive: bool,
            s: impl Into<StreamOrDevice>,
        ) -> Result<Array> {
            scan(ScanOp::$variant, a, axis, reverse, inclusive, s.into())
        }
    )*};
}

scan_fns!(
    /// Running sums along `axis`.
    cumsum => Sum,
    /// Running products along `axis`.
    cumprod => Prod,
    /// Running maxima along `axis` (NaN sticks once seen).
    cummax => Max,
    /// Running minima along `axis` (NaN sticks once seen).
    cummin => Min,
    /// `log(cumsum(exp(a)))` along `axis`, computed stably (an exclusive scan starts at -inf).
    logcumsumexp => LogAddExp,
);
