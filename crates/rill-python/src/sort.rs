//! Sorting along an axis: `sort`, `argsort`, `topk`, `partition`, `argpartition`, and
//! `searchsorted`. `axis=None` sorts the flattened array.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
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

/// The sorted unique elements of `a` flattened, exactly `size` of them (truncated, or padded with
/// `fill_value`, by default the smallest element); with the first-occurrence indices, the
/// inverse and the counts when asked, in that order.
#[pyfunction]
#[pyo3(signature = (a, /, size, return_index = false, return_inverse = false, return_counts = false, fill_value = None, *, stream = None))]
#[allow(clippy::too_many_arguments)]
pub fn unique(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    size: usize,
    return_index: bool,
    return_inverse: bool,
    return_counts: bool,
    fill_value: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        let x = arg(a)?;
        let fill = match fill_value {
            Some(f) if !f.is_none() => Some(arg(f)?),
            _ => None,
        };
        let u = ops::unique(&x, size, fill.as_ref(), sod(stream)).or_raise()?;
        let values = PyArray::new(u.values)
            .into_pyobject(py)?
            .into_any()
            .unbind();
        if !(return_index || return_inverse || return_counts) {
            return Ok(values);
        }
        let mut items = vec![values];
        for (wanted, a) in [
            (return_index, u.index),
            (return_inverse, u.inverse),
            (return_counts, u.counts),
        ] {
            if wanted {
                items.push(PyArray::new(a).into_pyobject(py)?.into_any().unbind());
            }
        }
        Ok(pyo3::types::PyTuple::new(py, items)?.into_any().unbind())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(unique, m)?)?;
    m.add_function(wrap_pyfunction!(sort, m)?)?;
    m.add_function(wrap_pyfunction!(argsort, m)?)?;
    m.add_function(wrap_pyfunction!(topk, m)?)?;
    m.add_function(wrap_pyfunction!(partition, m)?)?;
    m.add_function(wrap_pyfunction!(argpartition, m)?)?;
    m.add_function(wrap_pyfunction!(searchsorted, m)?)?;
    Ok(())
}
