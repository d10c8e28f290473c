//! Sorting along an axis: `sort`, `argsort`, `topk`, `partition`, `argpartition`, and
//! `searchsorted`. `axis=None` sorts the flattened array.

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

/// `a` arranged along `axis` so that the element at `kth` is in its sorted place, none larger
/// before it and none smaller after it.
#[pyfunction]
#[pyo3(signature = (a, /, kth, axis = -1, *, stream = None))]
pub fn partition(
    a: &Bound<'_, PyAny>,
    kth: isize,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::partition(&arg(a)?, kth, axis, sod(stream))))
}

/// The indices (uint32) that `partition` `a` along `axis`.
#[pyfunction]
#[pyo3(signature = (a, /, kth, axis = -1, *, stream = None))]
pub fn argpartition(
    a: &Bound<'_, PyAny>,
    kth: isize,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::argpartition(&arg(a)?, kth, axis, sod(stream))))
}

/// Where `values` would be inserted into the 1-D ascending `sorted_sequence` (uint32 indices);
/// `side` is "left" (before equal elements) or "right".
#[pyfunction]
#[pyo3(signature = (sorted_sequence, values, /, side = "left", *, stream = None))]
pub fn searchsorted(
    sorted_sequence: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    side: &str,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let right = match side {
            "left" => false,
            "right" => true,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "[searchsorted] invalid side {side:?}; expected 'left' or 'right'"
                )))
            }
        };
        out(ops::searchsorted(
            &arg(sorted_sequence)?,
            &arg(values)?,
            right,
            sod(stream),
        ))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sort, m)?)?;
    m.add_function(wrap_pyfunction!(argsort, m)?)?;
    m.add_function(wrap_pyfunction!(topk, m)?)?;
    m.add_function(wrap_pyfunction!(partition, m)?)?;
    m.add_function(wrap_pyfunction!(argpartition, m)?)?;
    m.add_function(wrap_pyfunction!(searchsorted, m)?)?;
    Ok(())
}
