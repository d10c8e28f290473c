//! Elementwise functions of one array.

use super::{astype, make};
use crate::op::{Op, UnaryOp};
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
        Floor | Ceil | Round => {
            if dt.is_complex() {
                return Err(format!("{name} does not accept complex64 arrays"));
            }
            (dt, dt)
        }
        Exp | Expm1 | Log | Log1p | Log2 | Log10 | Sqrt | Rsqrt | Reciprocal | Sin | Cos | Tan
        | ArcSin | ArcCos | ArcTan | Sinh | Cosh | Tanh | Sigmoid => {
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
    Ok(make(
        a.shape().to_vec(),
        out,
        stream,
        Op::Unary(op),
        vec![a],
    ))
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
    erfinv => ErfInv, floor => Floor, ceil => Ceil, round => Round, logical_not => LogicalNot,
    isnan => IsNan, isinf => IsInf, bitwise_invert => BitwiseInvert,
);
