//! The parts of complex numbers: `real`, `imag` and `conjugate`.
//!
//! None has a kernel of its own. A cast from complex64 to float32 keeps the real part (MLX's and
//! NumPy's rule). The imaginary part and the conjugate read a complex64 array's bytes as float32
//! pairs (`view`, real part first): `imag` slices the second of each pair and `conjugate`
//! multiplies the pairs by `[1, -1]` and reads them back as complex64. Both are exact for every
//! value, infinities, NaNs and signed zeros included (an earlier version multiplied by `-i`,
//! which turned `inf + 0j` into NaNs), and differentiable (`view`'s rule in
//! `transforms/rules/complex.rs`). Real inputs follow MLX: `real` and `conjugate` return them
//! unchanged (their dtype kept), `imag` returns zeros of their dtype.

use super::{astype, expand_dims, multiply, reshape, slice, view, zeros_like};
use crate::shape::as_isize;
use crate::{Array, Dtype, Result, Stream, StreamOrDevice};

/// A complex64 `a` of shape `s` as float32 pairs of shape `s + [2]`, the real part first.
fn pairs(a: &Array, stream: Stream) -> Result<Array> {
    view(&expand_dims(a, &[-1], stream)?, Dtype::Float32, stream)
}

/// The real part of `a`: float32 for complex64, `a` itself otherwise.
pub fn real(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("real")?;
    if !a.dtype().is_complex() {
        return Ok(a.clone());
    }
    astype(a, Dtype::Float32, stream)
}

/// The imaginary part of `a`: float32 for complex64, zeros of `a`'s dtype otherwise.
pub fn imag(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("imag")?;
    if !a.dtype().is_complex() {
        return zeros_like(a, stream);
    }
    let p = pairs(a, stream)?;
    let last = p.ndim() - 1;
    let mut start = vec![0isize; last + 1];
    let mut stop = as_isize(p.shape());
    start[last] = 1;
    stop[last] = 2;
    let step = vec![1isize; last + 1];
    reshape(
        &slice(&p, &start, &stop, &step, stream)?,
        &as_isize(a.shape()),
        stream,
    )
}

/// The complex conjugate of `a` (`re - i im`, exact for every value); real arrays are returned
/// unchanged.
pub fn conjugate(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("conjugate")?;
    if !a.dtype().is_complex() {
        return Ok(a.clone());
    }
    let signs = Array::from_slice_on(&[1.0f32, -1.0], &[2], stream)?;
    let flipped = multiply(&pairs(a, stream)?, &signs, stream)?;
    reshape(
        &view(&flipped, Dtype::Complex64, stream)?,
        &as_isize(a.shape()),
        stream,
    )
}

/// `round` of a complex64 `a`: both parts rounded alike, half to even (MLX's rule), through the
/// float32 pairs.
pub(super) fn round_parts(a: &Array, decimals: i32, stream: Stream) -> Result<Array> {
    let rounded = super::round(&pairs(a, stream)?, decimals, stream)?;
    reshape(
        &view(&rounded, Dtype::Complex64, stream)?,
        &as_isize(a.shape()),
        stream,
    )
}
