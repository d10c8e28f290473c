//! The parts of complex numbers: `real`, `imag`, `conj` and `conjugate` (the core builds them).

use crate::array::PyArray;
use crate::errors::guard;
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use rill_core::ops;

/// The real part of `a` (float32 for complex64; other arrays unchanged).
#[pyfunction]
#[pyo3(signature = (a, /, *, stream = None))]
pub fn real(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::real(&arg(a)?, sod(stream))))
}

/// The imaginary part of `a` (float32 for complex64; zeros of `a`'s dtype otherwise).
#[pyfunction]
#[pyo3(signature = (a, /, *, stream = None))]
pub fn imag(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::imag(&arg(a)?, sod(stream))))
}

/// The elementwise complex conjugate of `a` (real arrays unchanged).
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn conjugate(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::conjugate(&arg(a)?, sod(stream))))
}

/// Alias of `conjugate`.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn conj(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    conjugate(a, stream)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(real, m)?)?;
    m.add_function(wrap_pyfunction!(imag, m)?)?;
    m.add_function(wrap_pyfunction!(conjugate, m)?)?;
    m.add_function(wrap_pyfunction!(conj, m)?)?;
    Ok(())
}
