//! The `rill.core.linalg` submodule: MLX's `mx.linalg` with its arguments. The core builds
//! every function (`rill_core::ops`, `ops/factor.rs`); matrices batch over leading dims.
//!
//! MLX asks for `stream=mx.cpu` for most of these (it has no GPU kernels); rill runs them on any
//! stream (a GPU stream falls back to the CPU kernels), so the default stream works.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, int_or_ints, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;
use rill_core::ops::{self, NormOrd};

fn norm_ord(ord: Option<&Bound<'_, PyAny>>) -> PyResult<Option<NormOrd>> {
    let Some(o) = ord.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = o.cast::<PyString>() {
        return match s.to_str()? {
            "fro" => Ok(Some(NormOrd::Fro)),
            "nuc" => Ok(Some(NormOrd::Nuc)),
            other => Err(PyValueError::new_err(format!(
                "[norm] invalid ord {other:?}: expected a number, 'fro' or 'nuc'"
            ))),
        };
    }
    if o.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyTypeError::new_err(
            "[norm] ord must be a number or a string",
        ));
    }
    match o.extract::<f64>() {
        Ok(p) => Ok(Some(NormOrd::P(p))),
        Err(_) => Err(PyTypeError::new_err(
            "[norm] ord must be None, a number, 'fro' or 'nuc'",
        )),
    }
}

/// Vector and matrix norms (NumPy's and MLX's `norm`).
#[pyfunction]
#[pyo3(signature = (a, /, ord = None, axis = None, keepdims = false, *, stream = None))]
pub fn norm(
    a: &Bound<'_, PyAny>,
    ord: Option<&Bound<'_, PyAny>>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let ord = norm_ord(ord)?;
        let axes = match axis {
            Some(x) if !x.is_none() => Some(int_or_ints(x)?),
            _ => None,
        };
        out(ops::norm(
            &arg(a)?,
            ord,
            axes.as_deref(),
            keepdims,
            sod(stream),
        ))
    })
}

macro_rules! unary_fns {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[pyfunction]
        #[pyo3(signature = (a, *, stream = None))]
        pub fn $name(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
            guard(|| out(ops::$name(&arg(a)?, sod(stream))))
        }
    )*};
}

unary_fns!(
    /// The inverse of each square matrix.
    inv,
    /// The determinant of each square matrix.
    det,
);

macro_rules! triangle_fns {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[pyfunction]
        #[pyo3(signature = (a, upper = false, *, stream = None))]
        pub fn $name(a: &Bound<'_, PyAny>, upper: bool, stream: Option<StreamArg>) -> PyResult<PyArray> {
            guard(|| out(ops::$name(&arg(a)?, upper, sod(stream))))
        }
    )*};
}

triangle_fns!(
    /// The Cholesky factor (lower, or `upper`) of each symmetric positive definite matrix.
    cholesky,
    /// The inverse of `L Lᵀ` (or `Uᵀ U`) from its Cholesky factor.
    cholesky_inv,
    /// The inverse of the lower (or `upper`) triangle of each square matrix.
    tri_inv,
);

fn pair(
    r: rill_core::Result<(rill_core::Array, rill_core::Array)>,
) -> PyResult<(PyArray, PyArray)> {
    let (a, b) = r.map_err(crate::errors::to_py_err)?;
    Ok((PyArray::new(a), PyArray::new(b)))
}

/// `(Q, R)` of each matrix.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn qr(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<(PyArray, PyArray)> {
    guard(|| pair(ops::qr(&arg(a)?, sod(stream))))
}

/// `(sign, log|det|)` of each square matrix.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn slogdet(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<(PyArray, PyArray)> {
    guard(|| pair(ops::slogdet(&arg(a)?, sod(stream))))
}

/// The packed LU factors and the pivots (uint32) of each matrix.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn lu_factor(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<(PyArray, PyArray)> {
    guard(|| pair(ops::lu_factor(&arg(a)?, sod(stream))))
}

/// `(p, L, U)` with `a = L[p] @ U`.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn lu(
    a: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<(PyArray, PyArray, PyArray)> {
    guard(|| {
        let (p, l, u) = ops::lu(&arg(a)?, sod(stream)).map_err(crate::errors::to_py_err)?;
        Ok((PyArray::new(p), PyArray::new(l), PyArray::new(u)))
    })
}

/// `x` with `a @ x = b`.
#[pyfunction]
#[pyo3(signature = (a, b, *, stream = None))]
pub fn solve(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::solve(&arg(a)?, &arg(b)?, sod(stream))))
}

/// `x` with `tri(a) @ x = b` for the lower (or `upper`) triangle of `a`.
#[pyfunction]
#[pyo3(signature = (a, b, *, upper = false, stream = None))]
pub fn solve_triangular(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    upper: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::solve_triangular(
            &arg(a)?,
            &arg(b)?,
            upper,
            sod(stream),
        ))
    })
}

/// Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix.
#[pyfunction]
#[pyo3(signature = (a, UPLO = "L", *, stream = None))]
#[allow(non_snake_case)]
pub fn eigh(
    a: &Bound<'_, PyAny>,
    UPLO: &str,
    stream: Option<StreamArg>,
) -> PyResult<(PyArray, PyArray)> {
    guard(|| pair(ops::eigh(&arg(a)?, UPLO, sod(stream))))
}

/// The eigenvalues (ascending) of each symmetric matrix.
#[pyfunction]
#[pyo3(signature = (a, UPLO = "L", *, stream = None))]
#[allow(non_snake_case)]
pub fn eigvalsh(a: &Bound<'_, PyAny>, UPLO: &str, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::eigvalsh(&arg(a)?, UPLO, sod(stream))))
}

/// The singular value decomposition: `(U, S, Vt)` (full `U` and `Vt`), or `S` alone without
/// `compute_uv`.
#[pyfunction]
#[pyo3(signature = (a, compute_uv = true, *, stream = None))]
pub fn svd(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    compute_uv: bool,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        let parts = ops::svd(&arg(a)?, compute_uv, sod(stream)).or_raise()?;
        let mut arrays = parts
            .into_iter()
            .map(|x| Py::new(py, PyArray::new(x)))
            .collect::<PyResult<Vec<_>>>()?;
        if compute_uv {
            Ok(pyo3::types::PyTuple::new(py, arrays)?.into_any().unbind())
        } else {
            Ok(arrays.remove(0).into_any())
        }
    })
}

/// The Moore-Penrose pseudo-inverse of each matrix.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn pinv(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::pinv(&arg(a)?, sod(stream))))
}

/// The eigenvalues and unit eigenvectors (columns) of each general square matrix, complex64.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn eig(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<(PyArray, PyArray)> {
    guard(|| pair(ops::eig(&arg(a)?, sod(stream))))
}

/// The eigenvalues of each general square matrix, complex64.
#[pyfunction]
#[pyo3(signature = (a, *, stream = None))]
pub fn eigvals(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::eigvals(&arg(a)?, sod(stream))))
}

/// The cross product of 3-vectors (or 2-vectors) along `axis`.
#[pyfunction]
#[pyo3(signature = (a, b, axis = -1, *, stream = None))]
pub fn cross(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::cross(&arg(a)?, &arg(b)?, axis, sod(stream))))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let l = PyModule::new(m.py(), "linalg")?;
    l.add_function(wrap_pyfunction!(norm, &l)?)?;
    l.add_function(wrap_pyfunction!(inv, &l)?)?;
    l.add_function(wrap_pyfunction!(det, &l)?)?;
    l.add_function(wrap_pyfunction!(slogdet, &l)?)?;
    l.add_function(wrap_pyfunction!(cholesky, &l)?)?;
    l.add_function(wrap_pyfunction!(cholesky_inv, &l)?)?;
    l.add_function(wrap_pyfunction!(tri_inv, &l)?)?;
    l.add_function(wrap_pyfunction!(qr, &l)?)?;
    l.add_function(wrap_pyfunction!(lu, &l)?)?;
    l.add_function(wrap_pyfunction!(lu_factor, &l)?)?;
    l.add_function(wrap_pyfunction!(solve, &l)?)?;
    l.add_function(wrap_pyfunction!(solve_triangular, &l)?)?;
    l.add_function(wrap_pyfunction!(eigh, &l)?)?;
    l.add_function(wrap_pyfunction!(eigvalsh, &l)?)?;
    l.add_function(wrap_pyfunction!(cross, &l)?)?;
    l.add_function(wrap_pyfunction!(svd, &l)?)?;
    l.add_function(wrap_pyfunction!(pinv, &l)?)?;
    l.add_function(wrap_pyfunction!(eig, &l)?)?;
    l.add_function(wrap_pyfunction!(eigvals, &l)?)?;
    m.add_submodule(&l)?;
    Ok(())
}
