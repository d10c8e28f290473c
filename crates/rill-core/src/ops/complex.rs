//! The parts of complex numbers: `real`, `imag` and `conjugate`.
//!
//! None has a kernel. A cast from complex64 to float32 keeps the real part (MLX's and NumPy's
//! rule), and multiplying by `-i` moves the imaginary part into the real one
//! (`(x + iy)(-i) = y - ix`), so both parts are a multiply and a cast. Real inputs follow MLX:
//! `real` and `conjugate` return them unchanged (their dtype kept), `imag` returns zeros of their
//! dtype.

use super::{add, astype, full, multiply, zeros_like};
use crate::{Array, Dtype, Result, Scalar, Stream, StreamOrDevice};

fn minus_i(stream: Stream) -> Result<Array> {
    full(
        &[],
        Scalar::Complex(0.0, -1.0),
        Some(Dtype::Complex64),
        stream,
    )
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
    astype(
        &multiply(a, &minus_i(stream)?, stream)?,
        Dtype::Float32,
        stream,
    )
}

/// The complex conjugate of `a` (`re - i im`); real arrays are returned unchanged. Exact for
/// finite values.
pub fn conjugate(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("conjugate")?;
    if !a.dtype().is_complex() {
        return Ok(a.clone());
    }
    let re = astype(&real(a, stream)?, Dtype::Complex64, stream)?;
    let im = astype(&imag(a, stream)?, Dtype::Complex64, stream)?;
    add(&re, &multiply(&minus_i(stream)?, &im, stream)?, stream)
}
