//! `set_printoptions`, `get_printoptions` and the `PrintOptions` they read: how arrays print
//! (`format.rs` reads the precision). The `printoptions` context manager is Python, in
//! `python/rill/core/__init__.py`.

use crate::format;
use pyo3::prelude::*;

/// The options arrays print with: `precision`, the decimals of floats (-1: six significant
/// digits, C's `%g`).
#[pyclass(name = "PrintOptions", module = "rill.core", frozen)]
pub struct PrintOptions {
    #[pyo3(get)]
    precision: i64,
}

#[pymethods]
impl PrintOptions {
    fn __repr__(&self) -> String {
        format!("PrintOptions(precision={})", self.precision)
    }
}

/// Sets the decimals of printed floats for the whole process (-1: the default format).
#[pyfunction]
#[pyo3(signature = (precision = -1))]
pub fn set_printoptions(precision: i64) {
    format::set_precision(precision);
}

/// The options arrays print with now.
#[pyfunction]
pub fn get_printoptions() -> PrintOptions {
    PrintOptions {
        precision: format::precision(),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PrintOptions>()?;
    m.add_function(wrap_pyfunction!(set_printoptions, m)?)?;
    m.add_function(wrap_pyfunction!(get_printoptions, m)?)?;
    Ok(())
}
