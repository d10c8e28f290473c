//! Indexing by arrays of indices: `take`, `take_along_axis`, `put_along_axis`. An index out of
//! range is found when the op runs: evaluating the result raises RuntimeError.

use crate::array::PyArray;
use crate::convert::py_scalar;
use crate::errors::guard;
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use rill_core::op::ScatterReduce;
use rill_core::ops;

/// Elements of `a` at `indices` along `axis` (of the flattened `a` when None); the result's shape
/// is `a.shape[:axis] + indices.shape + a.shape[axis+1:]`. Negative indices count from the end.
#[pyfunction]
#[pyo3(signature = (a, /, indices, axis = None, *, stream = None))]
pub fn take(
    a: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::take(&arg(a)?, &arg(indices)?, axis, sod(stream))))
}

/// `out[..., j, ...] = a[..., indices[..., j, ...], ...]` along `axis` (NumPy's
/// `take_along_axis`; of the flattened `a` with 1-D indices when None).
#[pyfunction]
#[pyo3(signature = (a, /, indices, axis = Some(-1), *, stream = None))]
pub fn take_along_axis(
    a: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::take_along_axis(
            &arg(a)?,
            &arg(indices)?,
            axis,
            sod(stream),
        ))
    })
}

/// A copy of `a` with `values` written at `indices` along `axis` (NumPy's `put_along_axis`,
/// returning the result). Where indices repeat, the last write wins.
#[pyfunction]
#[pyo3(signature = (a, /, indices, values, axis = None, *, stream = None))]
pub fn put_along_axis(
    a: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let a = arg(a)?;
        let values = match py_scalar(values)? {
            Some(v) => crate::convert::weak_scalar(&a, v, s)?,
            None => arg(values)?,
        };
        out(ops::put_along_axis(&a, &arg(indices)?, &values, axis, s))
    })
}

/// A copy of `a` with `updates` combined into it at `indices` along `axis` (of the flattened `a`
/// when None) by `reduce`: "add", "prod", "max" or "min"; every update at a repeated index
/// combines. The native half of `array.at[...]` (`python/rill/core/_array_at.py`).
#[pyfunction]
#[pyo3(signature = (a, indices, updates, axis, reduce, *, stream = None))]
pub fn _scatter(
    a: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    updates: &Bound<'_, PyAny>,
    axis: Option<isize>,
    reduce: &str,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let a = arg(a)?;
        let reduce = match reduce {
            "add" => ScatterReduce::Add,
            "prod" => ScatterReduce::Prod,
            "max" => ScatterReduce::Max,
            "min" => ScatterReduce::Min,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "[scatter] unknown reduction {other:?}: expected add, prod, max or min"
                )))
            }
        };
        let updates = match py_scalar(updates)? {
            Some(v) => crate::convert::weak_scalar(&a, v, s)?,
            None => arg(updates)?,
        };
        out(ops::scatter(&a, &arg(indices)?, &updates, axis, reduce, s))
    })
}

/// A copy of `a` with `update` written at the offsets `start_indices` (an integer array, one
/// per entry of `axes`; the other axes start at 0).
#[pyfunction]
#[pyo3(signature = (a, update, start_indices, axes, *, stream = None))]
pub fn slice_update(
    a: &Bound<'_, PyAny>,
    update: &Bound<'_, PyAny>,
    start_indices: &Bound<'_, PyAny>,
    axes: Vec<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::slice_update_at(
            &arg(a)?,
            &arg(update)?,
            &arg(start_indices)?,
            &axes,
            sod(stream),
        ))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(slice_update, m)?)?;
    m.add_function(wrap_pyfunction!(_scatter, m)?)?;
    m.add_function(wrap_pyfunction!(take, m)?)?;
    m.add_function(wrap_pyfunction!(take_along_axis, m)?)?;
    m.add_function(wrap_pyfunction!(put_along_axis, m)?)?;
    Ok(())
}
