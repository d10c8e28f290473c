//! Rules of the elementwise ops: unary and binary functions, `where`. The cotangents they return
//! have the output's shape; the walk sums them down to a broadcast input's shape.

use super::constant;
use crate::op::{BinaryOp, UnaryOp};
use crate::ops::{
    add, cos, cosh, divide, exp, floor, greater, less, log, multiply, negative, rsqrt, sign, sin,
    sinh, square, subtract, where_, zeros_like,
};
use crate::{Array, Result, Stream};
use std::f64::consts::{LN_10, LN_2, PI};

pub(super) fn unary(
    op: UnaryOp,
    x: &Array,
    out: &Array,
    g: &Array,
    s: Stream,
) -> Result<Option<Array>> {
    use UnaryOp::*;
    let c = |v: f64| constant(v, x.dtype(), s);
    let mul = |a: &Array, b: &Array| multiply(a, b, s);
    let one = c(1.0)?;
    Ok(Some(match op {
        // For a complex `z`, `sign(z) = z / |z|` is no constant: written out so that second
        // derivatives see it (`sign`'s own rule gives zeros, right for real inputs only).
        Abs if x.dtype().is_complex() => {
            let r = out.clone();
            let zero = constant(0.0, r.dtype(), s)?;
            let at_zero = crate::ops::equal(&r, &zero, s)?;
            let safe = where_(&at_zero, &constant(1.0, r.dtype(), s)?, &r, s)?;
            let unit = divide(x, &safe, s)?;
            mul(g, &unit)?
        }
        Abs => mul(g, &sign(x, s)?)?,
        Negative => negative(g, s)?,
        // Piecewise constant: zero almost everywhere (MLX gives zeros too).
        Sign | Floor | Ceil | Round | Trunc => zeros_like(x, s)?,
        Exp => mul(g, out)?,
        Expm1 => mul(g, &add(out, &one, s)?)?,
        Log => divide(g, x, s)?,
        Log1p => divide(g, &add(x, &one, s)?, s)?,
        Log2 => divide(g, &mul(x, &c(LN_2)?)?, s)?,
        Log10 => divide(g, &mul(x, &c(LN_10)?)?, s)?,
        Sqrt => divide(g, &mul(out, &c(2.0)?)?, s)?,
        // d x^(-1/2) = -x^(-1/2) / (2x)
        Rsqrt => mul(g, &divide(&mul(out, &c(-0.5)?)?, x, s)?)?,
        Square => mul(g, &mul(x, &c(2.0)?)?)?,
        Reciprocal => negative(&mul(g, &square(out, s)?)?, s)?,
        Sin => mul(g, &cos(x, s)?)?,
        Cos => negative(&mul(g, &sin(x, s)?)?, s)?,
        Tan => mul(g, &add(&one, &square(out, s)?, s)?)?,
        ArcSin => mul(g, &rsqrt(&subtract(&one, &square(x, s)?, s)?, s)?)?,
        ArcCos => negative(&mul(g, &rsqrt(&subtract(&one, &square(x, s)?, s)?, s)?)?, s)?,
        ArcTan => divide(g, &add(&one, &square(x, s)?, s)?, s)?,
        Sinh => mul(g, &cosh(x, s)?)?,
        Cosh => mul(g, &sinh(x, s)?)?,
        Tanh => mul(g, &subtract(&one, &square(out, s)?, s)?)?,
        Sigmoid => mul(g, &mul(out, &subtract(&one, out, s)?)?)?,
        ArcSinh => mul(g, &rsqrt(&add(&square(x, s)?, &one, s)?, s)?)?,
        ArcCosh => mul(g, &rsqrt(&subtract(&square(x, s)?, &one, s)?, s)?)?,
        ArcTanh => divide(g, &subtract(&one, &square(x, s)?, s)?, s)?,
        Erf => mul(
            g,
            &mul(
                &c(2.0 / PI.sqrt())?,
                &exp(&negative(&square(x, s)?, s)?, s)?,
            )?,
        )?,
        // erfinv' (y) = sqrt(pi) / 2 * exp(erfinv(y)^2)
        ErfInv => mul(g, &mul(&c(PI.sqrt() / 2.0)?, &exp(&square(out, s)?, s)?)?)?,
        // Bool and integer results carry no gradient.
        LogicalNot | IsNan | IsInf | BitwiseInvert => return Ok(None),
    }))
}

pub(super) fn binary(
    op: BinaryOp,
    a: &Array,
    b: &Array,
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    use BinaryOp::*;
    let mul = |x: &Array, y: &Array| multiply(x, y, s);
    // Where a tie goes: MLX gives `maximum`'s gradient to `a` only where `a > b` (to `b` on
    // ties), `minimum`'s to `a` only where `a < b`.
    let pick = |mask: &Array| -> Result<(Array, Array)> {
        let zero = constant(0.0, g.dtype(), s)?;
        Ok((where_(mask, g, &zero, s)?, where_(mask, &zero, g, s)?))
    };
    let (ga, gb) = match op {
        Add => (g.clone(), g.clone()),
        Subtract => (g.clone(), negative(g, s)?),
        Multiply => (
            if wants[0] { mul(g, b)? } else { g.clone() },
            if wants[1] { mul(g, a)? } else { g.clone() },
        ),
        // d(a/b)/db = -a/b^2 = -out/b
        Divide => (
            divide(g, b, s)?,
            negative(&divide(&mul(g, out)?, b, s)?, s)?,
        ),
        Power => {
            let one = constant(1.0, a.dtype(), s)?;
            let ga = if wants[0] {
                mul(
                    g,
                    &mul(b, &crate::ops::power(a, &subtract(b, &one, s)?, s)?)?,
                )?
            } else {
                g.clone()
            };
            let gb = if wants[1] {
                mul(g, &mul(out, &log(a, s)?)?)?
            } else {
                g.clone()
            };
            (ga, gb)
        }
        Maximum => pick(&greater(a, b, s)?)?,
        Minimum => pick(&less(a, b, s)?)?,
        ArcTan2 => {
            // atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
            let den = add(&square(a, s)?, &square(b, s)?, s)?;
            let gd = divide(g, &den, s)?;
            (mul(&gd, b)?, negative(&mul(&gd, a)?, s)?)
        }
        // d/da log(e^a + e^b) = e^(a - out), which cannot overflow (a <= out).
        LogAddExp => (
            mul(g, &exp(&subtract(a, out, s)?, s)?)?,
            mul(g, &exp(&subtract(b, out, s)?, s)?)?,
        ),
        // a - b * floor(a / b)
        Remainder => (
            g.clone(),
            negative(&mul(g, &floor(&divide(a, b, s)?, s)?)?, s)?,
        ),
        FloorDivide => (zeros_like(g, s)?, zeros_like(g, s)?),
        Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual | LogicalAnd | LogicalOr
        | BitwiseAnd | BitwiseOr | BitwiseXor | LeftShift | RightShift => {
            return Ok(vec![None, None])
        }
    };
    Ok(vec![wants[0].then_some(ga), wants[1].then_some(gb)])
}

/// `where(cond, x, y)`: the cotangent goes to `x` where `cond` holds, to `y` elsewhere.
pub(super) fn where_rule(cond: &Array, g: &Array, s: Stream) -> Result<Vec<Option<Array>>> {
    let zero = constant(0.0, g.dtype(), s)?;
    Ok(vec![
        None,
        Some(where_(cond, g, &zero, s)?),
        Some(where_(cond, &zero, g, s)?),
    ])
}
