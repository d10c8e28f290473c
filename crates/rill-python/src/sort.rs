//! Sorting along an axis: `sort`, `argsort`, `topk`. `axis=None` sorts the flattened array.

use crate::array::PyArray;
use crate::errors::guard;
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops;

/// `a` sorted ascending along `axis` (NaN last; stable).
#[pyfunction]
#[pyo3(signature = (a, /, axis = -1, *, stream = None))]
pub fn sort(
    a: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::sort(&arg(a)?, axis, sod(stream))))
}

/// The indices (uint32) that sort `a` along `axis`; equal elements keep their order.
#[pyfunction]
#[pyo3(signature = (a, /, axis = -1, *, stream = None))]
pub fn argsort(
    a: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::argsort(&arg(a)?, axis, sod(stream))))
}

/// The `k` largest elements along `axis`, in ascending order.
#[pyfunction]
#[pyo3(signature = (a, /, k, axis = -1, *, stream = None))]
pub fn topk(
    a: &Bound<'_, PyAny>,
    k: i64,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let k = usize::try_from(k).map_err(|_| {
            PyValueError::new_err(format!("[topk] k must be non-negative, got {k}"))
        })?;
        out(ops::topk(&arg(a)?, k, axis, sod(stream)))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sort, m)?)?;
    m.add_function(wrap_pyfunction!(argsort, m)?)?;
    m.add_function(wrap_pyfunction!(topk, m)?)?;
    Ok(())
}
