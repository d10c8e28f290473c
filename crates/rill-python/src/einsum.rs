//! `einsum` and `einsum_path` (the core parses the subscripts and plans the contractions).

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use rill_core::{ops, Array};

fn operands(args: &Bound<'_, PyTuple>) -> PyResult<Vec<Array>> {
    args.iter().map(|a| arg(&a)).collect()
}

/// The Einstein summation `subscripts` over `operands`.
#[pyfunction]
#[pyo3(signature = (subscripts, *operands, stream = None))]
pub fn einsum(
    subscripts: &str,
    operands: &Bound<'_, PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::einsum(
            subscripts,
            &self::operands(operands)?,
            sod(stream),
        ))
    })
}

/// The contraction order `einsum` uses, as pairs of operand positions, and a summary string.
#[pyfunction]
#[pyo3(signature = (subscripts, *operands))]
pub fn einsum_path(
    subscripts: &str,
    operands: &Bound<'_, PyTuple>,
) -> PyResult<(Vec<Py<PyTuple>>, String)> {
    guard(|| {
        let arrays = self::operands(operands)?;
        let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
        let (path, info) = ops::einsum_path(subscripts, &shapes).or_raise()?;
        let py = operands.py();
        let path = path
            .into_iter()
            .map(|step| Ok(PyTuple::new(py, step)?.unbind()))
            .collect::<PyResult<_>>()?;
        Ok((path, info))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(einsum, m)?)?;
    m.add_function(wrap_pyfunction!(einsum_path, m)?)?;
    Ok(())
}
