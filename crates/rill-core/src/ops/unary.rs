//! Elementwise functions of one array.

use super::{
    astype, divide, equal, full, greater, less, logical_and, logical_or, make, multiply, where_,
};
use crate::op::{Op, UnaryOp};
use crate::shape::Dims;
use crate::{Array, Dtype, Error, Result, StreamOrDevice};

/// The dtype `op` computes in and returns for an input of dtype `dt`, or why it cannot.
fn unary_dtypes(op: UnaryOp, dt: Dtype) -> std::result::Result<(Dtype, Dtype), String> {
    use UnaryOp::*;
    let name = op.name();
    Ok(match op {
        Abs | Square => (
            dt,
            if op == Abs && dt.is_complex() {
                Dtype::Float32
            } else {
                dt
            },
        ),
        Negative if dt.is_bool() => {
            return Err(format!(
                "{name} does not accept bool arrays; use logical_not"
            ))
        }
        Negative | Sign => (dt, dt),
        Floor | Ceil | Round | Trunc => {
            if dt.is_complex() {
                return Err(format!("{name} does not accept complex64 arrays"));
            }
            (dt, dt)
        }
        Exp | Expm1 | Log | Log1p | Log2 | Log10 | Sqrt | Rsqrt | Reciprocal | Sin | Cos | Tan
        | ArcSin | ArcCos | ArcTan | Sinh | Cosh | Tanh | Sigmoid | ArcSinh | ArcCosh | ArcTanh => {
            let t = dt.to_inexact();
            (t, t)
        }
        Erf | ErfInv => {
            if dt.is_complex() {
                return Err(format!("{name} does not accept complex64 arrays"));
            }
            let t = dt.to_inexact();
            (t, t)
        }
        LogicalNot => (Dtype::Bool, Dtype::Bool),
        IsNan | IsInf => (dt, Dtype::Bool),
        BitwiseInvert => {
            if !(dt.is_integer() || dt.is_bool()) {
                return Err(format!("{name} needs integer or bool arrays, got {dt}"));
            }
            (dt, dt)
        }
    })
}

/// Builds `op(a)`.
pub fn unary(op: UnaryOp, a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let name = op.name();
    let stream = s.into().resolve(name)?;
    let (compute, out) = unary_dtypes(op, a.dtype()).map_err(|msg| {
        Error::dtype(name, format!("{msg} (input {} {:?})", a.dtype(), a.shape()))
    })?;
    let a = astype(a, compute, stream)?;
    make(
        name,
        Dims::from_slice(a.shape()),
        out,
        stream,
        Op::Unary(op),
        vec![a],
    )
}

macro_rules! unary_fns {
    ($($fname:ident => $variant:ident),* $(,)?) => {$(
        pub fn $fname(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
            unary(UnaryOp::$variant, a, s)
        }
    )*};
}

unary_fns!(
    abs => Abs, negative => Negative, sign => Sign, exp => Exp, expm1 => Expm1, log => Log,
    log1p => Log1p, log2 => Log2, log10 => Log10, sqrt => Sqrt, rsqrt => Rsqrt, square => Square,
    reciprocal => Reciprocal, sin => Sin, cos => Cos, tan => Tan, arcsin => ArcSin, arccos => ArcCos,
    arctan => ArcTan, sinh => Sinh, cosh => Cosh, tanh => Tanh, sigmoid => Sigmoid, erf => Erf,
    erfinv => ErfInv, floor => Floor, ceil => Ceil, logical_not => LogicalNot,
    arcsinh => ArcSinh, arccosh => ArcCosh, arctanh => ArcTanh, trunc => Trunc,
    isnan => IsNan, isinf => IsInf, bitwise_invert => BitwiseInvert,
);

/// `a` rounded to `decimals` decimal places, halves to even (NumPy's `round`): a negative
/// `decimals` rounds to a multiple of `10^-decimals`. Floats scale, round and unscale
/// (`rint(a * 10^d) / 10^d`, or `rint(a / 10^-d) * 10^-d`, so the scale is always a whole number),
/// in the array's own type except float16/bfloat16, which compute in float32 and round once.
/// Integers (and bool) are unchanged for `decimals >= 0`; for `decimals < 0` they round in float64
/// and cast back (exact for magnitudes below 2^53).
pub fn round(a: &Array, decimals: i32, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("round")?;
    let dt = a.dtype();
    if dt.is_complex() {
        return super::complex::round_parts(a, decimals, stream);
    }
    if decimals == 0 || (decimals > 0 && !dt.is_inexact()) {
        return unary(UnaryOp::Round, a, stream);
    }
    let compute = match dt {
        Dtype::Float16 | Dtype::Bfloat16 => Dtype::Float32,
        Dtype::Float32 | Dtype::Float64 => dt,
        _ => Dtype::Float64,
    };
    let x = astype(a, compute, stream)?;
    let scale = full(
        &[],
        10f64.powi(decimals.saturating_abs()),
        Some(compute),
        stream,
    )?;
    let y = if decimals > 0 {
        divide(
            &unary(UnaryOp::Round, &multiply(&x, &scale, stream)?, stream)?,
            &scale,
            stream,
        )?
    } else {
        multiply(
            &unary(UnaryOp::Round, &divide(&x, &scale, stream)?, stream)?,
            &scale,
            stream,
        )?
    };
    astype(&y, dt, stream)
}

/// True where the element is neither infinite nor NaN (always for integers and bool).
pub fn isfinite(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("isfinite")?;
    let bad = logical_or(&isnan(a, stream)?, &isinf(a, stream)?, stream)?;
    logical_not(&bad, stream)
}

/// True where the element equals `+inf` (`positive`) or `-inf`: false for integers and bool,
/// and for complex numbers true only for `(+-inf, 0)` (MLX compares with the infinity itself).
fn is_signed_inf(
    name: &'static str,
    a: &Array,
    positive: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let stream = s.resolve(name)?;
    if !a.dtype().is_inexact() {
        return full(a.shape(), false, Some(Dtype::Bool), stream);
    }
    let inf = full(
        &[],
        if positive {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        },
        Some(a.dtype()),
        stream,
    )?;
    equal(a, &inf, stream)
}

/// True where the element is `+inf`.
pub fn isposinf(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    is_signed_inf("isposinf", a, true, s.into())
}

/// True where the element is `-inf`.
pub fn isneginf(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    is_signed_inf("isneginf", a, false, s.into())
}

/// `a * factor` in `a`'s inexact type (float32 for integers and bool; complex64 scales both
/// parts, as MLX).
fn scale_angle(name: &'static str, a: &Array, factor: f64, s: StreamOrDevice) -> Result<Array> {
    let stream = s.resolve(name)?;
    let dt = a.dtype().to_inexact();
    let x = astype(a, dt, stream)?;
    multiply(&x, &full(&[], factor, Some(dt), stream)?, stream)
}

/// Radians to degrees: `a * 180 / pi`.
pub fn degrees(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    scale_angle("degrees", a, 180.0 / std::f64::consts::PI, s.into())
}

/// Degrees to radians: `a * pi / 180`.
pub fn radians(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    scale_angle("radians", a, std::f64::consts::PI / 180.0, s.into())
}

/// `a` with NaN replaced by `nan`, `+inf` by `posinf` and `-inf` by `neginf` (the largest and
/// lowest finite values of `a`'s dtype when None). Integers and bool are returned unchanged.
pub fn nan_to_num(
    a: &Array,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("nan_to_num")?;
    let dt = a.dtype();
    if dt.is_complex() {
        return Err(Error::dtype(
            "nan_to_num",
            format!(
                "does not accept complex64 arrays (input {dt} {:?})",
                a.shape()
            ),
        ));
    }
    let Some(info) = dt.finfo() else {
        return Ok(a.clone());
    };
    let value = |v: f64| full(&[], v, Some(dt), stream);
    let zero = value(0.0)?;
    let inf = isinf(a, stream)?;
    let out = where_(&isnan(a, stream)?, &value(nan)?, a, stream)?;
    let pos = logical_and(&inf, &greater(a, &zero, stream)?, stream)?;
    let out = where_(&pos, &value(posinf.unwrap_or(info.max))?, &out, stream)?;
    let neg = logical_and(&inf, &less(a, &zero, stream)?, stream)?;
    where_(&neg, &value(neginf.unwrap_or(info.min))?, &out, stream)
}
