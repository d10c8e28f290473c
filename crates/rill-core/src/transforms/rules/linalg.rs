//! Rules of the matrix products. The kernel's operands already have equal batch dims (the builder
//! broadcast them), so each cotangent is one product with the other operand transposed.

use super::constant;
use crate::ops::{matmul as mm, multiply, swapaxes};
use crate::{Array, Result, Stream};

/// `alpha * a @ b`: `da = alpha * g @ bᵀ`, `db = alpha * aᵀ @ g`.
pub(super) fn matmul(
    a: &Array,
    b: &Array,
    g: &Array,
    alpha: f64,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let scale = |x: Array| -> Result<Array> {
        if alpha == 1.0 {
            Ok(x)
        } else {
            multiply(&x, &constant(alpha, x.dtype(), s)?, s)
        }
    };
    let ga = if wants[0] {
        Some(scale(mm(g, &swapaxes(b, -1, -2, s)?, s)?)?)
    } else {
        None
    };
    let gb = if wants[1] {
        Some(scale(mm(&swapaxes(a, -1, -2, s)?, g, s)?)?)
    } else {
        None
    };
    Ok(vec![ga, gb])
}
