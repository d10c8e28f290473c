//! Memory counters and limits, summed over every device, as Python's `get_active_memory` and
//! friends (MLX's functions have no device argument). Byte counts are JS numbers: exact up to
//! 2^53 bytes (8 PiB).
//!
//! The limit is hard, as in Python: an allocation past it fails and the array that needed it
//! carries the error (reading it throws); every other array is unaffected.

use crate::errors::{guard, type_error};
use napi_derive::napi;
use rill_core::memory;

/// A byte count given by JS: a finite, non-negative whole number.
fn bytes(what: &str, v: f64) -> napi::Result<usize> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= usize::MAX as f64 {
        Ok(v as usize)
    } else {
        Err(type_error(format!(
            "[{what}] expected a whole number of bytes >= 0, got {v}"
        )))
    }
}

/// Bytes held by live arrays.
#[napi]
pub fn get_active_memory() -> f64 {
    memory::active_memory(None) as f64
}

/// The most bytes held at once since the start or the last `resetPeakMemory()`.
#[napi]
pub fn get_peak_memory() -> f64 {
    memory::peak_memory(None) as f64
}

/// Restarts the peak at the bytes held now.
#[napi]
pub fn reset_peak_memory() {
    memory::reset_peak_memory(None)
}

/// Bytes of freed buffers kept for reuse.
#[napi]
pub fn get_cache_memory() -> f64 {
    memory::cache_memory(None) as f64
}

/// Returns every cached buffer to the system.
#[napi]
pub fn clear_cache() {
    memory::clear_cache(None)
}

/// Sets the hard limit on bytes held by arrays; returns the previous limit.
#[napi]
pub fn set_memory_limit(limit: f64) -> napi::Result<f64> {
    guard(|| Ok(memory::set_memory_limit(None, bytes("setMemoryLimit", limit)?) as f64))
}

/// The hard limit on bytes held by arrays.
#[napi]
pub fn get_memory_limit() -> f64 {
    memory::memory_limit(None) as f64
}

/// Sets how many bytes of freed buffers are kept for reuse; returns the previous value.
#[napi]
pub fn set_cache_limit(limit: f64) -> napi::Result<f64> {
    guard(|| Ok(memory::set_cache_limit(None, bytes("setCacheLimit", limit)?) as f64))
}
