//! Small device blocks freed by one stream, kept for that stream's next allocations: the common
//! small op then costs no driver call for its memory (a stream-ordered allocation and free from
//! the pool cost about as much host time as the kernel launch itself).
//!
//! Rules:
//! - Only blocks whose every use was queued on their home stream come here (no other stream read
//!   them, `memory.rs` checks), and only that stream takes them again. Work the stream queues next
//!   runs after every earlier use, so a block can be rewritten at once, with no event: the same
//!   reasoning as the pool's own same-stream reuse.
//! - Sizes are classes: powers of two from [`MIN`] to [`MAX`] bytes. Larger blocks go straight to
//!   the pool, whose cost is small beside the kernels that fill them.
//! - The bytes here count as the device's cache (`Counters::cached`), within its cache limit;
//!   `drain` gives them back to the pool (on their stream), for `clear_cache`, a lower cache limit,
//!   or an allocation the pool could not serve.
//! - The mutex is held only to push or pop; almost always only the thread draining the stream
//!   takes it, so it is uncontended.

use cudarc::driver::sys;
use std::sync::Mutex;

/// The smallest class: the pool's own granularity.
pub const MIN: usize = 512;
/// The largest class (1 MiB).
pub const MAX: usize = 1 << 20;
pub const CLASSES: usize = (MAX / MIN).trailing_zeros() as usize + 1;

/// The class of a request of `len` bytes and the capacity it rounds up to; None past [`MAX`].
pub fn class_of(len: usize) -> Option<(usize, usize)> {
    let cap = len.max(MIN).checked_next_power_of_two()?;
    (cap <= MAX).then(|| ((cap / MIN).trailing_zeros() as usize, cap))
}

#[derive(Default)]
pub struct BlockCache {
    classes: Mutex<[Vec<sys::CUdeviceptr>; CLASSES]>,
}

impl BlockCache {
    /// A cached block of class `class`, if there is one.
    pub fn take(&self, class: usize) -> Option<sys::CUdeviceptr> {
        self.classes.lock().unwrap()[class].pop()
    }

    /// Keeps `ptr`, a block of class `class` whose uses were all on this cache's stream.
    pub fn put(&self, class: usize, ptr: sys::CUdeviceptr) {
        self.classes.lock().unwrap()[class].push(ptr);
    }

    /// Takes every cached block out, with its capacity.
    pub fn drain(&self) -> Vec<(sys::CUdeviceptr, usize)> {
        let mut classes = self.classes.lock().unwrap();
        let mut all = Vec::new();
        for (k, list) in classes.iter_mut().enumerate() {
            all.extend(list.drain(..).map(|p| (p, MIN << k)));
        }
        all
    }
}
