//! Elementwise functions of two arrays, `where`, and the comparisons built from them.

use super::{astype, make};
use crate::op::{BinaryOp, Op};
use crate::shape::{broadcast_dims, broadcast_shapes};
use crate::{promote_types, Array, Dtype, Error, Result, StreamOrDevice};

/// The dtype `op` computes in and the dtype it returns, given the promoted input dtype; an error
/// for dtypes the op does not accept.
fn binary_dtypes(op: BinaryOp, dt: Dtype) -> std::result::Result<(Dtype, Dtype), String> {
    use BinaryOp::*;
    let name = op.name();
    Ok(match op {
        Add | Multiply | Maximum | Minimum => (dt, dt),
        Subtract if dt.is_bool() => {
            return Err(format!(
                "{name} does not accept bool arrays; use logical_xor or bitwise_xor"
            ))
        }
        Subtract => (dt, dt),
        Divide | ArcTan2 | LogAddExp => {
            let t = dt.to_inexact();
            if t.is_complex() && op != Divide {
                return Err(format!("{name} does not accept complex64 arrays"));
            }
            (t, t)
        }
        FloorDivide | Remainder => {
            if dt.is_complex() {
                return Err(format!("{name} does not accept complex64 arrays"));
            }
            // bool behaves as the smallest integer, as NumPy (True // True == 1).
            let t = if dt.is_bool() { Dtype::Int8 } else { dt };
            (t, t)
        }
        Power => {
            let t = if dt.is_bool() { Dtype::Int8 } else { dt };
            (t, t)
        }
        Equal | NotEqual => (dt, Dtype::Bool),
        Less | LessEqual | Greater | GreaterEqual => (dt, Dtype::Bool),
        LogicalAnd | LogicalOr => (Dtype::Bool, Dtype::Bool),
        BitwiseAnd | BitwiseOr | BitwiseXor => {
            if !(dt.is_integer() || dt.is_bool()) {
                return Err(format!("{name} needs integer or bool arrays, got {dt}"));
            }
            (dt, dt)
        }
        LeftShift | RightShift => {
            if !(dt.is_integer() || dt.is_bool()) {
                return Err(format!("{name} needs integer arrays, got {dt}"));
            }
            let t = if dt.is_bool() { Dtype::Uint8 } else { dt };
            (t, t)
        }
    })
}

/// Builds `op(a, b)` with NumPy broadcasting and MLX's type promotion.
pub fn binary(op: BinaryOp, a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let name = op.name();
    let stream = s.into().resolve(name)?;
    let shape = broadcast_dims(name, a.shape(), b.shape())?;
    let promoted = promote_types(a.dtype(), b.dtype());
    let (compute, out) = binary_dtypes(op, promoted).map_err(|msg| {
        Error::dtype(
            name,
            format!(
                "{msg} (inputs {} {:?} and {} {:?})",
                a.dtype(),
                a.shape(),
                b.dtype(),
                b.shape()
            ),
        )
    })?;
    let a = astype(a, compute, stream)?;
    let b = astype(b, compute, stream)?;
    make(name, shape, out, stream, Op::Binary(op), vec![a, b])
}

macro_rules! binary_fns {
    ($($(#[$m:meta])* $fname:ident => $variant:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
            binary(BinaryOp::$variant, a, b, s)
        }
    )*};
}

binary_fns!(
    add => Add, subtract => Subtract, multiply => Multiply,
    /// True division: integers divide as float32.
    divide => Divide,
    floor_divide => FloorDivide,
    /// The remainder with the sign of the divisor (Python's `%`).
    remainder => Remainder,
    power => Power, maximum => Maximum, minimum => Minimum,
    arctan2 => ArcTan2, logaddexp => LogAddExp,
    equal => Equal, not_equal => NotEqual, less => Less, less_equal => LessEqual,
    greater => Greater, greater_equal => GreaterEqual,
    logical_and => LogicalAnd, logical_or => LogicalOr,
    bitwise_and => BitwiseAnd, bitwise_or => BitwiseOr, bitwise_xor => BitwiseXor,
    left_shift => LeftShift, right_shift => RightShift,
);

/// `cond ? x : y` elementwise, the three broadcast together; `x` and `y` are promoted.
pub fn where_(cond: &Array, x: &Array, y: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("where")?;
    let shape = broadcast_shapes("where", cond.shape(), x.shape())?;
    let shape = broadcast_shapes("where", &shape, y.shape())?;
    let dt = promote_types(x.dtype(), y.dtype());
    let cond = astype(cond, Dtype::Bool, stream)?;
    let x = astype(x, dt, stream)?;
    let y = astype(y, dt, stream)?;
    make("where", shape, dt, stream, Op::Where, vec![cond, x, y])
}
