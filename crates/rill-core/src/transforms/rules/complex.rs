//! Cotangents of complex arrays, with MLX's (and PyTorch's) convention: for a real loss `L`, the
//! cotangent of a complex array `z` is `∂L/∂Re z + i ∂L/∂Im z`. So `grad` of a real function of
//! `z` points where `L` grows fastest, and a real input fed into complex ops gets the real part of
//! its complex cotangent (`vjp.rs`'s cast).
//!
//! For an op holomorphic in its inputs, `y = f(z)` with derivative `J`, that cotangent is
//! `Jᴴ g`. The rules of this folder are written for real numbers, where they compute `Jᵀ g`, and
//! they only ever multiply `g` by functions of the primals that are themselves holomorphic
//! (`f'(z)`, the other operand of a product, the selection masks of maximum and sort), so
//! `conj(Jᵀ conj(g)) = Jᴴ g` reuses every one of them: this file conjugates on the way in and on
//! the way out. The parts of complex numbers need one rule: `real` is a cast, and `imag` and
//! `conjugate` read complex64 values as float32 pairs (`ops/complex.rs`), a `view` whose
//! cotangent is the opposite view (the pair `(∂L/∂Re z, ∂L/∂Im z)` *is* `∂L/∂Re z + i ∂L/∂Im z`
//! read as complex64). The real functions of a complex input that have a gradient are the cast
//! (the real part), that view, and `abs`, whose real-number rule `g sign(z) = g z/|z|` is already
//! the right one.

use super::{no_rule, transposed};
use crate::op::{Op, UnaryOp};
use crate::ops::conjugate;
use crate::{Array, Dtype, Error, Result, Stream};

/// `conj(Jᵀ conj(g))` for a node with a complex output.
pub(super) fn holomorphic(
    op: &Op,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let grads = transposed(op, inputs, out, &conjugate(g, s)?, wants, s)?;
    grads
        .into_iter()
        .map(|x| x.map(|x| conjugate(&x, s)).transpose())
        .collect()
}

/// A real output of a complex input: only the real part (a cast) and `abs` are differentiable;
/// anything else is refused by name rather than given a gradient computed as if the input were
/// real.
pub(super) fn check_real_of_complex(op: &Op, inputs: &[Array], out: &Array) -> Result<()> {
    if matches!(op, Op::AsType | Op::Copy | Op::Unary(UnaryOp::Abs)) {
        return Ok(());
    }
    let shapes: Vec<_> = inputs
        .iter()
        .map(|x| (x.dtype(), x.shape().to_vec()))
        .collect();
    Err(Error::arg(
        op.name(),
        format!(
            "cannot differentiate through {} from complex inputs {shapes:?} to a real {} result",
            op.name(),
            out.dtype()
        ),
    ))
}

/// `view` between complex64 and float32 pairs relabels the same numbers, so under this file's
/// convention a cotangent goes back through the opposite view, exactly. Other views (one dtype's
/// bits read as another's) have no gradient.
pub(super) fn view(x: &Array, out: &Array, g: &Array, s: Stream) -> Result<Array> {
    match (x.dtype(), out.dtype()) {
        (Dtype::Complex64, Dtype::Float32) | (Dtype::Float32, Dtype::Complex64) => {
            crate::ops::view(g, x.dtype(), s)
        }
        _ => Err(no_rule(&Op::View)),
    }
}
