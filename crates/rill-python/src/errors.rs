//! How rill's errors and Rust panics become Python exceptions.
//!
//! The mapping is MLX's: anything wrong with the arguments of an op (shapes, axes, dtypes, other
//! arguments, devices and streams) is a `ValueError` carrying the op's message; an allocation over
//! the hard memory limit is a `MemoryError`; a failure found while running is a `RuntimeError`.
//! A Rust panic never crosses into Python: [`guard`] turns it into a `RuntimeError` (pyo3 would
//! otherwise raise its `PanicException`, which derives from `BaseException` and escapes
//! `except Exception:`).

use pyo3::exceptions::{PyMemoryError, PyRuntimeError, PyValueError};
use pyo3::PyErr;
use pyo3::PyResult;
use rill_core::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The Python exception for a rill error.
pub fn to_py_err(e: Error) -> PyErr {
    match e {
        Error::Shape { .. }
        | Error::Axis { .. }
        | Error::Dtype { .. }
        | Error::Argument { .. }
        | Error::Device { .. } => PyValueError::new_err(e.to_string()),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(e.to_string()),
        Error::Runtime { .. } => PyRuntimeError::new_err(e.to_string()),
    }
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
