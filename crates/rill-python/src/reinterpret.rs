//! Reinterpretations of memory: `view` (bytes as another dtype) and `as_strided`.

use crate::array::PyArray;
use crate::dtype::PyDtype;
use crate::errors::guard;
use crate::ops::{arg, int_or_ints, out, shape_arg};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use rill_core::ops;

/// `a`'s bytes read as `dtype` (the last axis rescaled when the sizes differ).
#[pyfunction]
#[pyo3(signature = (a, dtype, stream = None))]
pub fn view(a: &Bound<'_, PyAny>, dtype: PyDtype, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::view(&arg(a)?, dtype.0, sod(stream))))
}

/// The array of `shape` whose elements sit at `offset + sum(i * strides)` in `a` taken as
/// row-contiguous (strides and offset in elements).
#[pyfunction]
#[pyo3(signature = (a, /, shape = None, strides = None, offset = 0, *, stream = None))]
pub fn as_strided(
    a: &Bound<'_, PyAny>,
    shape: Option<&Bound<'_, PyAny>>,
    strides: Option<&Bound<'_, PyAny>>,
    offset: usize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = match shape {
            Some(s) if !s.is_none() => Some(shape_arg("as_strided", s)?),
            _ => None,
        };
        let strides = match strides {
            Some(s) if !s.is_none() => Some(int_or_ints(s)?),
            _ => None,
        };
        out(ops::as_strided(
            &arg(a)?,
            shape.as_deref(),
            strides.as_deref(),
            offset,
            sod(stream),
        ))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(view, m)?)?;
    m.add_function(wrap_pyfunction!(as_strided, m)?)?;
    Ok(())
}
