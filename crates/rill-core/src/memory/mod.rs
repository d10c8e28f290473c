//! Memory: per-device allocators with a size-bucketed cache, counters and a hard limit.
//!
//! The public functions take `Option<Device>`: `Some(d)` for one device, `None` for the sum over
//! every device (the form MLX's functions have).

mod allocator;
mod buffer;

pub use allocator::Allocator;
pub use buffer::{Buffer, Data};

use crate::{backend, Device};

fn each<T>(device: Option<Device>, f: impl Fn(&Allocator) -> T) -> Vec<T> {
    match device {
        Some(d) => backend::allocator(d).map(&f).into_iter().collect(),
        None => backend::allocators().into_iter().map(f).collect(),
    }
}

/// Bytes held by live arrays.
pub fn active_memory(device: Option<Device>) -> usize {
    each(device, |a| a.active()).into_iter().sum()
}

/// The most bytes held at once since the start or the last `reset_peak_memory`.
pub fn peak_memory(device: Option<Device>) -> usize {
    each(device, |a| a.peak()).into_iter().sum()
}

pub fn reset_peak_memory(device: Option<Device>) {
    each(device, |a| a.reset_peak());
}

/// Bytes kept in the cache for reuse (not held by any array).
pub fn cache_memory(device: Option<Device>) -> usize {
    each(device, |a| a.cached()).into_iter().sum()
}

/// Returns every cached buffer to the system.
pub fn clear_cache(device: Option<Device>) {
    each(device, |a| a.clear_cache());
}

/// Sets the hard limit on active memory; returns the previous limit. An allocation beyond it fails
/// with [`crate::Error::OutOfMemory`] and the array that needed it carries the error.
pub fn set_memory_limit(device: Option<Device>, bytes: usize) -> usize {
    each(device, |a| a.set_limit(bytes))
        .into_iter()
        .next()
        .unwrap_or(0)
}

pub fn memory_limit(device: Option<Device>) -> usize {
    each(device, |a| a.limit()).into_iter().next().unwrap_or(0)
}

/// Sets how many bytes of freed buffers are kept for reuse; returns the previous value.
pub fn set_cache_limit(device: Option<Device>, bytes: usize) -> usize {
    each(device, |a| a.set_cache_limit(bytes))
        .into_iter()
        .next()
        .unwrap_or(0)
}

pub fn cache_limit(device: Option<Device>) -> usize {
    each(device, |a| a.cache_limit())
        .into_iter()
        .next()
        .unwrap_or(0)
}
