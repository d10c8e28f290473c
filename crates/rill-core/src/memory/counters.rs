//! The counters every device's allocator keeps: bytes in use, the peak, bytes cached, and the two
//! limits. They are the numbers `get_active_memory`, `set_memory_limit` and friends read and set.
//!
//! Rules: every field is an atomic, so reading never blocks. `active` is reserved with a
//! compare-and-swap loop *before* memory is taken from the system or a cache, so concurrent
//! allocations can never together pass the limit (MLX's limit is a throttle that an eval can pass;
//! rill's is a hard limit).
//!
//! Besides each device's counters there is one process-wide total ([`total`]): every reservation
//! is also made there, against the process-wide limit, which is what `set_memory_limit()` without
//! a device sets. MLX has one limit for all its memory; code written for it sets
//! `get_active_memory() + budget` and expects every device, host included, to honour it.

use crate::{Device, Error, Result};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counters {
    device: Device,
    active: AtomicUsize,
    peak: AtomicUsize,
    cached: AtomicUsize,
    limit: AtomicUsize,
    cache_limit: AtomicUsize,
}

impl Counters {
    pub fn new(device: Device, limit: usize, cache_limit: usize) -> Self {
        Counters {
            device,
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            cached: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit),
            cache_limit: AtomicUsize::new(cache_limit),
        }
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Counts `bytes` as in use, or fails with `OutOfMemory` naming `op` when that would pass the
    /// limit.
    pub fn reserve(&self, op: &'static str, bytes: usize) -> Result<()> {
        if !reserve_under(&self.active, &self.peak, self.limit.load(Relaxed), bytes) {
            return Err(self.out_of_memory(op, bytes));
        }
        let all = total();
        if !reserve_under(&all.active, &all.peak, all.limit.load(Relaxed), bytes) {
            self.active.fetch_sub(bytes, Relaxed);
            return Err(Error::OutOfMemory {
                op,
                device: self.device,
                requested: bytes,
                active: all.active.load(Relaxed),
                limit: all.limit.load(Relaxed),
            });
        }
        Ok(())
    }

    /// Gives back `bytes` reserved earlier.
    pub fn unreserve(&self, bytes: usize) {
        self.active.fetch_sub(bytes, Relaxed);
        total().active.fetch_sub(bytes, Relaxed);
    }

    /// The error for an allocation of `requested` bytes that could not be served.
    pub fn out_of_memory(&self, op: &'static str, requested: usize) -> Error {
        Error::OutOfMemory {
            op,
            device: self.device,
            requested,
            active: self.active(),
            limit: self.limit(),
        }
    }

    pub fn add_cached(&self, bytes: usize) {
        self.cached.fetch_add(bytes, Relaxed);
    }
    pub fn sub_cached(&self, bytes: usize) {
        self.cached.fetch_sub(bytes, Relaxed);
    }

    pub fn active(&self) -> usize {
        self.active.load(Relaxed)
    }
    pub fn peak(&self) -> usize {
        self.peak.load(Relaxed)
    }
    pub fn reset_peak(&self) {
        self.peak.store(self.active(), Relaxed);
    }
    pub fn cached(&self) -> usize {
        self.cached.load(Relaxed)
    }
    pub fn limit(&self) -> usize {
        self.limit.load(Relaxed)
    }
    pub fn set_limit(&self, bytes: usize) -> usize {
        self.limit.swap(bytes, Relaxed)
    }
    pub fn cache_limit(&self) -> usize {
        self.cache_limit.load(Relaxed)
    }
    pub fn set_cache_limit(&self, bytes: usize) -> usize {
        self.cache_limit.swap(bytes, Relaxed)
    }
}

/// Adds `bytes` to `active` unless that would pass `limit`; raises `peak`. False when refused.
fn reserve_under(active: &AtomicUsize, peak: &AtomicUsize, limit: usize, bytes: usize) -> bool {
    let mut cur = active.load(Relaxed);
    loop {
        let Some(next) = cur.checked_add(bytes).filter(|&n| n <= limit) else {
            return false;
        };
        match active.compare_exchange_weak(cur, next, Relaxed, Relaxed) {
            Ok(_) => {
                peak.fetch_max(next, Relaxed);
                return true;
            }
            Err(actual) => cur = actual,
        }
    }
}

/// The process-wide total of every device's memory, and its limit (`usize::MAX`: none set).
pub struct Total {
    active: AtomicUsize,
    peak: AtomicUsize,
    limit: AtomicUsize,
}

static TOTAL: Total = Total {
    active: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
    limit: AtomicUsize::new(usize::MAX),
};

/// The process-wide counters.
pub fn total() -> &'static Total {
    &TOTAL
}

impl Total {
    pub fn active(&self) -> usize {
        self.active.load(Relaxed)
    }
    pub fn peak(&self) -> usize {
        self.peak.load(Relaxed)
    }
    pub fn reset_peak(&self) {
        self.peak.store(self.active(), Relaxed);
    }
    /// The limit set with `set_limit`, if any.
    pub fn limit(&self) -> Option<usize> {
        Some(self.limit.load(Relaxed)).filter(|&l| l != usize::MAX)
    }
    pub fn set_limit(&self, bytes: usize) {
        self.limit.store(bytes, Relaxed);
    }
}
