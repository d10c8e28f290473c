//! Comparisons of whole arrays (`isclose`, `allclose`, `array_equal`) and `clip`.
//!
//! Python scalars are weak here as in binary ops: `isclose(int8_array, 1)` compares as int8.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, array_and_operand, function_operands, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops;

/// Where `|a - b| <= atol + rtol * |b|` (NumPy's rule; infinities are close only to the same
/// infinity, NaN to nothing unless `equal_nan`).
#[pyfunction]
#[pyo3(signature = (a, b, /, rtol = 1e-5, atol = 1e-8, *, equal_nan = false, stream = None))]
pub fn isclose(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::isclose(&x, &y, rtol, atol, equal_nan, s))
    })
}

/// True (a 0-d bool array) when every element of `a` is close to `b`'s (see `isclose`).
#[pyfunction]
#[pyo3(signature = (a, b, /, rtol = 1e-5, atol = 1e-8, *, equal_nan = false, stream = None))]
pub fn allclose(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::allclose(&x, &y, rtol, atol, equal_nan, s))
    })
}

/// True (a 0-d bool array) when `a` and `b` have the same shape and equal elements (different
/// shapes give False, not an error); with `equal_nan`, NaNs in the same places are equal.
#[pyfunction]
#[pyo3(signature = (a, b, equal_nan = false, stream = None))]
pub fn array_equal(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    equal_nan: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::array_equal(&x, &y, equal_nan, s))
    })
}

/// `a` with values below `a_min` raised to it and values above `a_max` lowered to it (either
/// may be None, not both; scalars or arrays that broadcast).
#[pyfunction]
#[pyo3(signature = (a, /, a_min, a_max, *, stream = None))]
pub fn clip(
    a: &Bound<'_, PyAny>,
    a_min: Option<&Bound<'_, PyAny>>,
    a_max: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let a_min = a_min.filter(|x| !x.is_none());
        let a_max = a_max.filter(|x| !x.is_none());
        if a_min.is_none() && a_max.is_none() {
            return Err(PyValueError::new_err(
                "[clip] at most one of a_min and a_max may be None",
            ));
        }
        let mut r = arg(a)?;
        if let Some(lo) = a_min {
            let (x, y) = array_and_operand(r, lo, s)?;
            r = ops::maximum(&x, &y, s).or_raise()?;
        }
        if let Some(hi) = a_max {
            let (x, y) = array_and_operand(r, hi, s)?;
            r = ops::minimum(&x, &y, s).or_raise()?;
        }
        Ok(PyArray::new(r))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(isclose, m)?)?;
    m.add_function(wrap_pyfunction!(allclose, m)?)?;
    m.add_function(wrap_pyfunction!(array_equal, m)?)?;
    m.add_function(wrap_pyfunction!(clip, m)?)?;
    Ok(())
}
