//! Memory: buffers on any device, each device's counters and hard limit, and the host allocator.
//!
//! Every backend gives each of its devices a [`DeviceMemory`] (counters plus a cache it can
//! trim); the public functions here read them through the backend registry. They take
//! `Option<Device>`: `Some(d)` for one device, `None` for every device together (the form MLX's
//! functions have; its one limit is the process-wide limit of `counters::total`).

pub(crate) mod allocator;
mod buffer;
mod constants;
mod counters;

pub use allocator::Allocator;
pub(crate) use allocator::ForkGuard;
pub use buffer::{Buffer, Data, DeviceBlock};
pub(crate) use constants::constant;
pub use counters::Counters;

use crate::{backend, Device};

/// What the memory functions need from a device's allocator.
pub trait DeviceMemory: Send + Sync {
    fn counters(&self) -> &Counters;
    /// Bytes freed by arrays but kept for reuse.
    fn cached_bytes(&self) -> usize {
        self.counters().cached()
    }
    /// Returns cached blocks to the system until at most `keep` bytes stay cached.
    fn trim_cache(&self, keep: usize);
}

fn each<T>(device: Option<Device>, f: impl Fn(&dyn DeviceMemory) -> T) -> Vec<T> {
    match device {
        Some(d) => backend::memory(d).map(&f).into_iter().collect(),
        None => backend::memories().into_iter().map(f).collect(),
    }
}

/// Bytes held by live arrays (on every device when `device` is `None`).
pub fn active_memory(device: Option<Device>) -> usize {
    match device {
        Some(_) => each(device, |m| m.counters().active()).into_iter().sum(),
        None => counters::total().active(),
    }
}

/// The most bytes held at once since the start or the last `reset_peak_memory` (by every device
/// together when `device` is `None`).
pub fn peak_memory(device: Option<Device>) -> usize {
    match device {
        Some(_) => each(device, |m| m.counters().peak()).into_iter().sum(),
        None => counters::total().peak(),
    }
}

pub fn reset_peak_memory(device: Option<Device>) {
    each(device, |m| m.counters().reset_peak());
    if device.is_none() {
        counters::total().reset_peak();
    }
}

/// Bytes kept in the cache for reuse (not held by any array).
pub fn cache_memory(device: Option<Device>) -> usize {
    each(device, |m| m.cached_bytes()).into_iter().sum()
}

/// Returns every cached buffer to the system.
pub fn clear_cache(device: Option<Device>) {
    each(device, |m| m.trim_cache(0));
}

/// Sets the hard limit on active memory: one device's, or without a device the process-wide one
/// (every device's memory together, as MLX's single limit). Returns the previous value (as
/// `memory_limit` gives it). An allocation beyond it fails with [`crate::Error::OutOfMemory`] and
/// the array that needed it carries the error.
pub fn set_memory_limit(device: Option<Device>, bytes: usize) -> usize {
    match device {
        Some(_) => each(device, |m| m.counters().set_limit(bytes))
            .into_iter()
            .next()
            .unwrap_or(0),
        None => {
            let old = memory_limit(None);
            counters::total().set_limit(bytes);
            old
        }
    }
}

/// One device's limit, or the process-wide one; while none was set, the devices' limits summed.
pub fn memory_limit(device: Option<Device>) -> usize {
    match (device, counters::total().limit()) {
        (None, Some(limit)) => limit,
        _ => each(device, |m| m.counters().limit())
            .into_iter()
            .fold(0usize, usize::saturating_add),
    }
}

/// Sets how many bytes of freed buffers are kept for reuse; returns the previous value.
pub fn set_cache_limit(device: Option<Device>, bytes: usize) -> usize {
    each(device, |m| {
        let old = m.counters().set_cache_limit(bytes);
        m.trim_cache(bytes);
        old
    })
    .into_iter()
    .next()
    .unwrap_or(0)
}

pub fn cache_limit(device: Option<Device>) -> usize {
    each(device, |m| m.counters().cache_limit())
        .into_iter()
        .next()
        .unwrap_or(0)
}
