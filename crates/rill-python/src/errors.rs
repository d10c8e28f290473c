//! How rill's errors and Rust panics become Python exceptions.
//!
//! The mapping is MLX's: anything wrong with the arguments of an op (shapes, axes, dtypes, other
//! arguments, devices and streams, integers too large for their dtype) is a `ValueError` carrying
//! the op's message; an index out of range is an `IndexError`; a shape too large
//! to exist raises `ShapeOverflowError`, which is both a `ValueError` and an `OverflowError` (MLX
//! raises `OverflowError` for dims past its int32 limit); an allocation over
//! the hard memory limit is a `MemoryError`; a failure found while running, or a file that cannot
//! be read or written, is a `RuntimeError`.
//! A Rust panic never crosses into Python: [`guard`] turns it into a `RuntimeError` (pyo3 would
//! otherwise raise its `PanicException`, which derives from `BaseException` and escapes
//! `except Exception:`).

use pyo3::exceptions::{
    PyIndexError, PyMemoryError, PyOverflowError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use rill_core::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The Python exception for a rill error.
pub fn to_py_err(e: Error) -> PyErr {
    match e {
        Error::Shape { .. }
        | Error::Axis { .. }
        | Error::Dtype { .. }
        | Error::Argument { .. }
        | Error::Device { .. }
        | Error::Overflow { .. } => PyValueError::new_err(e.to_string()),
        Error::Index { .. } => PyIndexError::new_err(e.to_string()),
        Error::TooLarge { .. } => shape_overflow_err(e.to_string()),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(e.to_string()),
        // MLX raises `RuntimeError` for a file it cannot open or parse.
        Error::Runtime { .. } | Error::File { .. } => PyRuntimeError::new_err(e.to_string()),
    }
}

static SHAPE_OVERFLOW: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `rill.core.ShapeOverflowError`: a class of both `ValueError` and `OverflowError`, so code
/// written for either (the issue's `ValueError`, MLX's `OverflowError`) catches it. pyo3's
/// exception macro takes one base, so the class is made by calling `type`.
pub fn shape_overflow_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    SHAPE_OVERFLOW
        .get_or_try_init(py, || {
            let bases = PyTuple::new(
                py,
                [
                    py.get_type::<PyValueError>(),
                    py.get_type::<PyOverflowError>(),
                ],
            )?;
            let ns = PyDict::new(py);
            ns.set_item("__module__", "rill.core")?;
            ns.set_item(
                "__doc__",
                "An array shape whose element count or byte size overflows.",
            )?;
            let t = py
                .get_type::<PyType>()
                .call1(("ShapeOverflowError", bases, ns))?;
            Ok(t.cast_into::<PyType>()?.unbind())
        })
        .map(|t| t.bind(py))
}

fn shape_overflow_err(msg: String) -> PyErr {
    Python::attach(|py| match shape_overflow_type(py) {
        Ok(t) => PyErr::from_type(t.clone(), msg),
        Err(e) => e,
    })
}

/// `?` on a rill result inside a binding.
pub trait OrRaise<T> {
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for rill_core::Result<T> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// Runs the body of a Python entry point, turning a panic into a `RuntimeError`.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!(
                "internal error in rill (a Rust panic): {msg}"
            )))
        }
    }
}
