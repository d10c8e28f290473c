//! Matrix structure and tensor products: `tril`, `triu`, `diag`, `diagonal`, `trace`,
//! `matrix_transpose`, `outer`, `inner`, `kron`, `tensordot`, `vecdot`, with the array methods
//! MLX has for them (`a.diag()`, `a.diagonal()`). The core composes them from other ops.

use crate::array::PyArray;
use crate::dtype::PyDtype;
use crate::errors::guard;
use crate::ops::{arg, function_operands, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops::{self, TensordotAxes};

/// `x` with the elements above the `k`-th diagonal of its last two dims set to zero.
#[pyfunction]
#[pyo3(signature = (x, k = 0, *, stream = None))]
pub fn tril(x: &Bound<'_, PyAny>, k: isize, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::tril(&arg(x)?, k, sod(stream))))
}

/// `x` with the elements below the `k`-th diagonal of its last two dims set to zero.
#[pyfunction]
#[pyo3(signature = (x, k = 0, *, stream = None))]
pub fn triu(x: &Bound<'_, PyAny>, k: isize, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::triu(&arg(x)?, k, sod(stream))))
}

/// A 1-D `a` as a square matrix with `a` on the `k`-th diagonal; the `k`-th diagonal of a 2-D `a`.
#[pyfunction]
#[pyo3(signature = (a, /, k = 0, *, stream = None))]
pub fn diag(a: &Bound<'_, PyAny>, k: isize, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::diag(&arg(a)?, k, sod(stream))))
}

/// The `offset`-th diagonal of the planes `axis1, axis2`, as a new last axis.
#[pyfunction]
#[pyo3(signature = (a, offset = 0, axis1 = 0, axis2 = 1, stream = None))]
pub fn diagonal(
    a: &Bound<'_, PyAny>,
    offset: isize,
    axis1: isize,
    axis2: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::diagonal(&arg(a)?, offset, axis1, axis2, sod(stream))))
}

/// The sum along the `offset`-th diagonal of the planes `axis1, axis2` (in `dtype` when given).
#[pyfunction]
#[pyo3(signature = (a, /, offset = 0, axis1 = 0, axis2 = 1, dtype = None, *, stream = None))]
pub fn trace(
    a: &Bound<'_, PyAny>,
    offset: isize,
    axis1: isize,
    axis2: isize,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::trace(
            &arg(a)?,
            offset,
            axis1,
            axis2,
            dtype.map(|d| d.0),
            sod(stream),
        ))
    })
}

/// `a` with its last two axes swapped.
#[pyfunction]
#[pyo3(signature = (a, /, *, stream = None))]
pub fn matrix_transpose(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::matrix_transpose(&arg(a)?, sod(stream))))
}

/// The outer product of the flattened `a` and `b`.
#[pyfunction]
#[pyo3(signature = (a, b, /, *, stream = None))]
pub fn outer(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::outer(&x, &y, s))
    })
}

/// The sum of products over the last axes of `a` and `b`.
#[pyfunction]
#[pyo3(signature = (a, b, /, *, stream = None))]
pub fn inner(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::inner(&x, &y, s))
    })
}

/// The Kronecker product of `a` and `b`.
#[pyfunction]
#[pyo3(signature = (a, b, *, stream = None))]
pub fn kron(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::kron(&x, &y, s))
    })
}

/// The sum of products over the last `axes` axes of `a` and the first of `b`, or over the axes
/// paired by `axes = [a_axes, b_axes]`.
#[pyfunction]
#[pyo3(signature = (a, b, /, axes = None, *, stream = None))]
pub fn tensordot(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let axes = match axes {
            None => TensordotAxes::Count(2),
            Some(x) => {
                if let Ok(n) = x.extract::<isize>() {
                    TensordotAxes::Count(n)
                } else {
                    let pair: Vec<Bound<'_, PyAny>> = x.extract().map_err(|_| {
                        PyValueError::new_err(
                            "[tensordot] axes must be an int or a pair of sequences of ints",
                        )
                    })?;
                    if pair.len() != 2 {
                        return Err(PyValueError::new_err(
                            "[tensordot] axes must be an int or a pair of sequences of ints",
                        ));
                    }
                    let side = |o: &Bound<'_, PyAny>| -> PyResult<Vec<isize>> {
                        match o.extract::<isize>() {
                            Ok(i) => Ok(vec![i]),
                            Err(_) => o.extract(),
                        }
                    };
                    TensordotAxes::Pairs(side(&pair[0])?, side(&pair[1])?)
                }
            }
        };
        let (x, y) = function_operands(a, b, s)?;
        out(ops::tensordot(&x, &y, axes, s))
    })
}

/// `sum(conj(a) * b, axis)` after broadcasting `a` and `b` together.
#[pyfunction]
#[pyo3(signature = (a, b, /, *, axis = -1, stream = None))]
pub fn vecdot(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(ops::vecdot(&x, &y, axis, s))
    })
}

#[pymethods]
impl PyArray {
    /// See `rill.core.diag`.
    #[pyo3(name = "diag", signature = (k = 0, *, stream = None))]
    fn diag_method(&self, k: isize, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| out(ops::diag(&self.get(), k, sod(stream))))
    }

    /// See `rill.core.diagonal`.
    #[pyo3(name = "diagonal", signature = (offset = 0, axis1 = 0, axis2 = 1, stream = None))]
    fn diagonal_method(
        &self,
        offset: isize,
        axis1: isize,
        axis2: isize,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            out(ops::diagonal(
                &self.get(),
                offset,
                axis1,
                axis2,
                sod(stream),
            ))
        })
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),* $(,)?) => {$( m.add_function(wrap_pyfunction!($f, m)?)?; )*};
    }
    add!(
        tril,
        triu,
        diag,
        diagonal,
        trace,
        matrix_transpose,
        outer,
        inner,
        kron,
        tensordot,
        vecdot
    );
    Ok(())
}
