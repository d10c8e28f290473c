//! Pickling arrays (`pickle`, `copy`, `multiprocessing`).
//!
//! An array pickles as a call to the class method `array._from_bytes` with its row-major bytes,
//! its dtype's name and its shape: no NumPy in between (MLX goes through a NumPy array, which
//! has no bfloat16 and needs NumPy to unpickle), and bfloat16 and every other dtype keep their
//! exact bits. Pickle finds the method as `getattr(rill.core.array, "_from_bytes")`, so the class
//! method needs no module-level name of its own. The array is evaluated to be pickled; the copy
//! is a new array on the default stream.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyType};
use rill_core::{Array, Dtype};

#[pymethods]
impl PyArray {
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        guard(|| {
            let py = slf.py();
            let a = slf.get().get();
            let bytes = py.detach(|| rill_core::io::to_bytes(&a)).or_raise()?;
            let rebuild = slf.get_type().getattr("_from_bytes")?;
            let args = (
                PyBytes::new(py, &bytes),
                a.dtype().name(),
                PyTuple::new(py, a.shape())?,
            );
            PyTuple::new(py, [rebuild, args.into_pyobject(py)?.into_any()])
        })
    }

    /// An array of `dtype` (its name) and `shape` holding a copy of `data`, row-major bytes in
    /// native order: what `__reduce__` pickles.
    #[classmethod]
    fn _from_bytes(
        _cls: &Bound<'_, PyType>,
        data: &[u8],
        dtype: &str,
        shape: Vec<usize>,
    ) -> PyResult<PyArray> {
        guard(|| {
            let dtype = Dtype::from_name(dtype)
                .ok_or_else(|| PyValueError::new_err(format!("unknown dtype '{dtype}'")))?;
            let a = Array::from_bytes(data, dtype, &shape, ()).or_raise()?;
            Ok(PyArray::new(a))
        })
    }
}
