//! Memory counters and limits, summed over every device (MLX's functions have no device argument).
//!
//! Unlike MLX, where the limit only slows allocation down, rill's memory limit is hard: an
//! allocation past it fails, the array that needed it carries the error, and reading that array
//! raises `MemoryError` (the interpreter and every other array are unaffected).

use pyo3::prelude::*;
use rill_core::memory;

/// Bytes held by live arrays.
#[pyfunction]
pub fn get_active_memory() -> usize {
    memory::active_memory(None)
}

/// The most bytes held at once since the start or the last `reset_peak_memory()`.
#[pyfunction]
pub fn get_peak_memory() -> usize {
    memory::peak_memory(None)
}

/// Restarts the peak at the bytes held now.
#[pyfunction]
pub fn reset_peak_memory() {
    memory::reset_peak_memory(None)
}

/// Bytes of freed buffers kept for reuse.
#[pyfunction]
pub fn get_cache_memory() -> usize {
    memory::cache_memory(None)
}

/// Returns every cached buffer to the system.
#[pyfunction]
pub fn clear_cache() {
    memory::clear_cache(None)
}

/// Sets the hard limit on bytes held by arrays; returns the previous limit.
#[pyfunction]
pub fn set_memory_limit(limit: usize) -> usize {
    memory::set_memory_limit(None, limit)
}

/// The hard limit on bytes held by arrays.
#[pyfunction]
pub fn get_memory_limit() -> usize {
    memory::memory_limit(None)
}

/// Sets how many bytes of freed buffers are kept for reuse; returns the previous value.
#[pyfunction]
pub fn set_cache_limit(limit: usize) -> usize {
    memory::set_cache_limit(None, limit)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(get_active_memory, m)?)?;
    m.add_function(wrap_pyfunction!(get_peak_memory, m)?)?;
    m.add_function(wrap_pyfunction!(reset_peak_memory, m)?)?;
    m.add_function(wrap_pyfunction!(get_cache_memory, m)?)?;
    m.add_function(wrap_pyfunction!(clear_cache, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_limit, m)?)?;
    m.add_function(wrap_pyfunction!(get_memory_limit, m)?)?;
    m.add_function(wrap_pyfunction!(set_cache_limit, m)?)?;
    Ok(())
}
