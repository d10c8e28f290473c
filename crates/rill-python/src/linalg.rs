//! `matmul`, `addmm` and the `@` operator.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use rill_core::ops;

/// The matrix product, NumPy's way: 1-D operands are a row (left) or a column (right) vector,
/// leading dims are batch dims and broadcast. Integer and bool operands raise ValueError (as MLX).
#[pyfunction]
#[pyo3(signature = (a, b, /, *, stream = None))]
pub fn matmul(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::matmul(&arg(a)?, &arg(b)?, sod(stream))))
}

/// `alpha * (a @ b) + beta * c`, with `c` broadcast to the product's shape.
#[pyfunction]
#[pyo3(signature = (c, a, b, /, alpha = 1.0, beta = 1.0, *, stream = None))]
pub fn addmm(
    c: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    alpha: f64,
    beta: f64,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::addmm(
            &arg(c)?,
            &arg(a)?,
            &arg(b)?,
            alpha,
            beta,
            sod(stream),
        ))
    })
}

/// `x @ y` for an operator: NotImplemented when `other` is not an array or a NumPy array, so
/// Python can try the other operand.
fn matmul_operator(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let is_operand = |o: &Bound<'_, PyAny>| -> PyResult<bool> {
        Ok(o.is_instance_of::<PyArray>() || crate::convert::is_numpy_array(o)?)
    };
    if !(is_operand(x)? && is_operand(y)?) {
        return Ok(py.NotImplemented());
    }
    guard(|| {
        let r = ops::matmul(&arg(x)?, &arg(y)?, ()).or_raise()?;
        Ok(Py::new(py, PyArray::new(r))?.into_any())
    })
}

#[pymethods]
impl PyArray {
    fn __matmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        matmul_operator(slf.py(), slf.as_any(), other)
    }
    fn __rmatmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        matmul_operator(slf.py(), other, slf.as_any())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(addmm, m)?)?;
    Ok(())
}
