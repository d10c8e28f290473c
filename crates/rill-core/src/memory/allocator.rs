//! A device allocator: counters, a hard limit, and a cache of freed buffers by size.
//!
//! Rules: the counters are atomics so reading them never blocks; the cache is one mutex, held only
//! to push or pop a pointer. `active` is reserved with a compare-and-swap loop before memory is
//! taken, so concurrent allocations can never together pass the limit.
//!
//! Why a cache at all: a fresh multi-megabyte allocation from the system is zeroed page by page
//! on first touch, which costs more than the kernel that writes it (MLX's 32 MiB CPU cache makes a
//! 4096x4096 add 5x slower for this reason). Reusing freed buffers skips those page faults.

use super::Buffer;
use crate::{Device, Error, Result};
use std::alloc::{alloc, dealloc, Layout};
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Every buffer is aligned for SIMD loads of any element type.
const ALIGN: usize = 64;
/// Below this, sizes round up to a power of two; above, to a multiple of a page.
const SMALL: usize = 1 << 14;
const PAGE: usize = 1 << 14;

pub struct Allocator {
    device: Device,
    active: AtomicUsize,
    peak: AtomicUsize,
    cached: AtomicUsize,
    limit: AtomicUsize,
    cache_limit: AtomicUsize,
    /// Free blocks by capacity.
    cache: Mutex<BTreeMap<usize, Vec<NonNull<u8>>>>,
}

// SAFETY: the raw pointers in the cache are owned blocks not referenced by anyone else; the mutex
// serializes access to them.
unsafe impl Send for Allocator {}
// SAFETY: as above.
unsafe impl Sync for Allocator {}

fn bucket(size: usize) -> usize {
    if size <= SMALL {
        size.next_power_of_two().max(ALIGN)
    } else {
        size.div_ceil(PAGE) * PAGE
    }
}

impl Allocator {
    pub fn new(device: Device, limit: usize, cache_limit: usize) -> Self {
        Allocator {
            device,
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            cached: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit),
            cache_limit: AtomicUsize::new(cache_limit),
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// A buffer of at least `len` bytes, or `OutOfMemory` naming `op`.
    pub fn allocate(&'static self, op: &'static str, len: usize) -> Result<Buffer> {
        let cap = bucket(len);
        if let Some((ptr, size)) = self.take_cached(cap) {
            if self.reserve(op, size).is_ok() {
                return Ok(Buffer::new(ptr, len, size, self));
            }
            self.put_cached(ptr, size);
        }
        self.reserve(op, cap)?;
        let ptr = match self.fresh(cap) {
            Some(p) => p,
            None => {
                // The system refused: give the cache back and try once more.
                self.clear_cache();
                match self.fresh(cap) {
                    Some(p) => p,
                    None => {
                        self.active.fetch_sub(cap, Relaxed);
                        return Err(self.oom(op, len));
                    }
                }
            }
        };
        Ok(Buffer::new(ptr, len, cap, self))
    }

    fn oom(&self, op: &'static str, requested: usize) -> Error {
        Error::OutOfMemory {
            op,
            device: self.device,
            requested,
            active: self.active(),
            limit: self.limit(),
        }
    }

    fn reserve(&self, op: &'static str, cap: usize) -> Result<()> {
        let limit = self.limit.load(Relaxed);
        let mut cur = self.active.load(Relaxed);
        loop {
            let next = cur
                .checked_add(cap)
                .filter(|&n| n <= limit)
                .ok_or_else(|| self.oom(op, cap))?;
            match self
                .active
                .compare_exchange_weak(cur, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Relaxed);
                    return Ok(());
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// A cached block of exactly `cap` bytes, or of up to 1.25x for large ones (a little waste
    /// buys many more hits when sizes vary slightly). Returns the block and its true size.
    fn take_cached(&self, cap: usize) -> Option<(NonNull<u8>, usize)> {
        let mut cache = self.cache.lock().unwrap();
        let max = if cap <= SMALL { cap } else { cap + cap / 4 };
        let (&size, list) = cache.range_mut(cap..=max).next()?;
        let p = list.pop()?;
        if list.is_empty() {
            cache.remove(&size);
        }
        self.cached.fetch_sub(size, Relaxed);
        Some((p, size))
    }

    fn put_cached(&self, ptr: NonNull<u8>, size: usize) {
        self.cached.fetch_add(size, Relaxed);
        self.cache
            .lock()
            .unwrap()
            .entry(size)
            .or_default()
            .push(ptr);
    }

    fn fresh(&self, cap: usize) -> Option<NonNull<u8>> {
        let layout = Layout::from_size_align(cap, ALIGN).ok()?;
        // SAFETY: `cap` is at least ALIGN > 0 bytes.
        NonNull::new(unsafe { alloc(layout) })
    }

    pub(super) fn release(&self, ptr: NonNull<u8>, cap: usize) {
        self.active.fetch_sub(cap, Relaxed);
        if self.cached.load(Relaxed) + cap <= self.cache_limit.load(Relaxed) {
            self.put_cached(ptr, cap);
        } else {
            // SAFETY: allocated by `fresh` with exactly this capacity and alignment.
            unsafe { dealloc(ptr.as_ptr(), Layout::from_size_align_unchecked(cap, ALIGN)) };
        }
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
        let old = self.cache_limit.swap(bytes, Relaxed);
        self.trim_cache(bytes);
        old
    }

    pub fn clear_cache(&self) {
        self.trim_cache(0);
    }

    fn trim_cache(&self, keep: usize) {
        let mut cache = self.cache.lock().unwrap();
        while self.cached.load(Relaxed) > keep {
            let Some(mut entry) = cache.last_entry() else {
                break;
            };
            let size = *entry.key();
            let p = entry.get_mut().pop();
            if entry.get().is_empty() {
                entry.remove();
            }
            if let Some(p) = p {
                self.cached.fetch_sub(size, Relaxed);
                // SAFETY: a cached block allocated by `fresh` with this size and alignment.
                unsafe { dealloc(p.as_ptr(), Layout::from_size_align_unchecked(size, ALIGN)) };
            }
        }
    }
}
