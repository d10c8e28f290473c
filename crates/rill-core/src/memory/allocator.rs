//! The host allocator: [`Counters`] (a hard limit), and a cache of freed host buffers by size.
//!
//! Rules: the counters are atomics so reading them never blocks. The cache is split into shards,
//! each behind its own mutex held only to push or pop a pointer; a thread frees into, and first
//! allocates from, its home shard, and looks in the others only when its own has no block of the
//! size. Bytes are reserved in the counters before memory is taken, so concurrent allocations can
//! never together pass the limit.
//!
//! Why a cache at all: a fresh multi-megabyte allocation from the system is zeroed page by page
//! on first touch, which costs more than the kernel that writes it (MLX's 32 MiB CPU cache makes a
//! 4096x4096 add 5x slower for this reason). Reusing freed buffers skips those page faults.
//!
//! Why shards: with one shared last-in-first-out cache, two streams running on two cores kept
//! handing each other the block the *other* core had just written, so every kernel began by pulling
//! its output's cache lines across cores, and both threads fought over one lock; two chains of small
//! ops ran no faster on two streams than on one. A block freed on a thread is now reused on that
//! thread while it is still in its core's cache.

use super::{Buffer, Counters, DeviceMemory};
use crate::{Device, Result};
use std::alloc::{alloc, dealloc, Layout};
use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// How many shards the cache is split into; threads are assigned to them round-robin.
pub const SHARDS: usize = 8;

/// Every buffer is aligned for SIMD loads of any element type.
const ALIGN: usize = 64;
/// Below this, sizes round up to a power of two; above, to a multiple of a page.
const SMALL: usize = 1 << 14;
const PAGE: usize = 1 << 14;

pub struct Allocator {
    counters: Counters,
    cache: [Shard; SHARDS],
}

/// Free blocks by capacity. Aligned to its own cache lines so that two threads working on their
/// own shards do not contend through false sharing.
#[repr(align(128))]
#[derive(Default)]
struct Shard {
    /// Bytes in this shard, readable without the lock (to skip empty shards).
    bytes: AtomicUsize,
    /// Lists of small blocks stay in the map when they empty (a fixed handful of power-of-two
    /// sizes, and removing and re-inserting them cost a map node per allocation); lists of large
    /// blocks are removed, so a range lookup never walks many empty ones.
    blocks: Mutex<BTreeMap<usize, Vec<NonNull<u8>>>>,
}

/// One shard of the host cache, locked across a `fork()` (see `scheduler/fork.rs`).
pub(crate) type ForkGuard = std::sync::MutexGuard<'static, BTreeMap<usize, Vec<NonNull<u8>>>>;

impl Allocator {
    /// Locks every shard, in order, so that no other thread is inside one when the process
    /// forks; the child's copies are then consistent and released by the forking thread.
    pub(crate) fn lock_for_fork(&'static self) -> Vec<ForkGuard> {
        self.cache
            .iter()
            .map(|s| s.blocks.lock().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

/// The shard the current thread frees into and looks in first.
pub fn home_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HOME: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    HOME.with(|h| *h)
}

// SAFETY: the raw pointers in the cache are owned blocks not referenced by anyone else; each shard's mutex
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
            counters: Counters::new(device, limit, cache_limit),
            cache: Default::default(),
        }
    }

    pub fn device(&self) -> Device {
        self.counters.device()
    }

    /// A buffer of at least `len` bytes, or `OutOfMemory` naming `op`.
    pub fn allocate(&'static self, op: &'static str, len: usize) -> Result<Buffer> {
        let cap = bucket(len);
        if let Some((ptr, size)) = self.take_cached(cap) {
            if self.counters.reserve(op, size).is_ok() {
                return Ok(Buffer::pooled(ptr, len, size, self));
            }
            self.put_cached(ptr, size);
        }
        self.counters.reserve(op, cap)?;
        let ptr = match self.fresh(cap) {
            Some(p) => p,
            None => {
                // The system refused: give the cache back and try once more.
                self.clear_cache();
                match self.fresh(cap) {
                    Some(p) => p,
                    None => {
                        self.counters.unreserve(cap);
                        return Err(self.counters.out_of_memory(op, len));
                    }
                }
            }
        };
        Ok(Buffer::pooled(ptr, len, cap, self))
    }

    /// A cached block of exactly `cap` bytes, or of up to 1.25x for large ones (a little waste
    /// buys many more hits when sizes vary slightly), from this thread's shard if it has one.
    /// Returns the block and its true size.
    fn take_cached(&self, cap: usize) -> Option<(NonNull<u8>, usize)> {
        let max = if cap <= SMALL { cap } else { cap + cap / 4 };
        let home = home_shard();
        (0..SHARDS).find_map(|i| {
            let shard = &self.cache[(home + i) % SHARDS];
            if shard.bytes.load(Relaxed) < cap {
                return None;
            }
            let mut blocks = shard.blocks.lock().unwrap();
            let (&size, list) = blocks
                .range_mut(cap..=max)
                .find(|(_, list)| !list.is_empty())?;
            let p = list.pop()?;
            if list.is_empty() && size > SMALL {
                blocks.remove(&size);
            }
            shard.bytes.fetch_sub(size, Relaxed);
            self.counters.sub_cached(size);
            Some((p, size))
        })
    }

    fn put_cached(&self, ptr: NonNull<u8>, size: usize) {
        self.counters.add_cached(size);
        let shard = &self.cache[home_shard()];
        shard.bytes.fetch_add(size, Relaxed);
        shard
            .blocks
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
        self.counters.unreserve(cap);
        if self.counters.cached() + cap <= self.counters.cache_limit() {
            self.put_cached(ptr, cap);
        } else {
            // SAFETY: allocated by `fresh` with exactly this capacity and alignment.
            unsafe { dealloc(ptr.as_ptr(), Layout::from_size_align_unchecked(cap, ALIGN)) };
        }
    }

    pub fn cached(&self) -> usize {
        self.counters.cached()
    }

    pub fn clear_cache(&self) {
        self.trim_cache(0);
    }
}

impl DeviceMemory for Allocator {
    fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Frees cached blocks, largest first within each shard, until at most `keep` bytes remain.
    fn trim_cache(&self, keep: usize) {
        for shard in &self.cache {
            let mut blocks = shard.blocks.lock().unwrap();
            while self.counters.cached() > keep {
                let Some(mut entry) = blocks.last_entry() else {
                    break;
                };
                let size = *entry.key();
                let Some(p) = entry.get_mut().pop() else {
                    entry.remove();
                    continue;
                };
                if entry.get().is_empty() {
                    entry.remove();
                }
                shard.bytes.fetch_sub(size, Relaxed);
                self.counters.sub_cached(size);
                // SAFETY: a cached block allocated by `fresh` with this size and alignment.
                unsafe { dealloc(p.as_ptr(), Layout::from_size_align_unchecked(size, ALIGN)) };
            }
        }
    }
}
