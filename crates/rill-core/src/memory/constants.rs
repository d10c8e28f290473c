//! One-element host constants: the buffers of the 0-d operands that numbers become in ops.
//!
//! Every Python or JavaScript number that meets an array becomes a 0-d array (`a + 1.0`,
//! `mx.multiply(x, 0.5)`: `ops::weak_operand`), so a chain of small ops makes one per op. Taking
//! its few bytes from the caching allocator (a shard's lock, a search of its sizes, the counters)
//! and handing them back cost about as much as the op's own node (a profile of `mx.add(a, 1.0)`:
//! ~15% of the call).
//! A constant's bytes never change once written, so each thread keeps the buffers of the last
//! constants it made in a small table and gives every new 0-d array of the same value and dtype
//! the same buffer. Each array still gets a node of its own: transforms tell arrays apart by their
//! node, and arrays that share one buffer are already the rule for views.
//!
//! Rules:
//! - A table belongs to one thread (`thread_local!`), so it takes no lock; the buffers are `Arc`s
//!   and outlive their slot, or their thread, for as long as arrays hold them.
//! - These bytes (at most eight per constant) live outside the allocator and are not counted by
//!   the memory functions, like the nodes and shapes of arrays; a buffer is external host memory
//!   to the rest of rill, which never writes those.
//! - Only operands that an op consumes at once share (`ops::weak_operand`): an array a user can
//!   hold (`mx.array(2.0)`, a value assigned into an array: `ops::scalar_array`,
//!   `ops::weak_scalar`) has bytes of its own, since it may leave rill (DLPack) for a library
//!   that writes into it.

use super::{Buffer, Data};
use crate::shape::Layout;
use crate::{Dtype, Element};
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::Arc;

/// Constants a thread remembers; a direct-mapped table, so a new value takes its slot's place.
/// A loop uses a handful of distinct numbers; sixteen slots keep them without a search.
const SLOTS: usize = 16;

struct Slot {
    bits: u64,
    dtype: Dtype,
    buffer: Arc<Buffer>,
}

thread_local! {
    static TABLE: RefCell<[Option<Slot>; SLOTS]> = const { RefCell::new([const { None }; SLOTS]) };
}

/// The data of a 0-d host array holding `value`.
pub(crate) fn constant<T: Element>(value: T) -> Data {
    let bits = bits_of(value);
    let len = size_of::<T>();
    let buffer = TABLE
        .try_with(|table| {
            let mut table = table.borrow_mut();
            let slot = &mut table[slot_of(bits, T::DTYPE)];
            match slot {
                Some(s) if s.bits == bits && s.dtype == T::DTYPE => s.buffer.clone(),
                _ => {
                    let buffer = Arc::new(new_buffer(bits, len));
                    *slot = Some(Slot {
                        bits,
                        dtype: T::DTYPE,
                        buffer: buffer.clone(),
                    });
                    buffer
                }
            }
        })
        // The thread is exiting and its table is gone: a buffer of the constant's own.
        .unwrap_or_else(|_| Arc::new(new_buffer(bits, len)));
    Data {
        buffer,
        layout: Layout::contiguous(&[]),
    }
}

/// `value`'s bytes at the start of a zeroed `u64`: equal bits mean equal bytes, so `-0.0` and
/// `0.0`, or two NaNs with different payloads, stay different constants.
fn bits_of<T: Element>(value: T) -> u64 {
    const {
        assert!(size_of::<T>() <= 8 && align_of::<T>() <= 8);
    }
    let mut bits = 0u64;
    // SAFETY: `T` is at most 8 bytes with an alignment of at most 8 (checked at compile time
    // above), so it fits in and is aligned for the `u64`; element types are plain numbers (no
    // pointers, nothing to drop), so writing one over a `u64`'s bytes is sound.
    unsafe { std::ptr::write((&mut bits as *mut u64).cast::<T>(), value) };
    bits
}

fn slot_of(bits: u64, dtype: Dtype) -> usize {
    // Fibonacci hashing of the bits with the dtype mixed into the top byte; the top bits of the
    // product pick the slot.
    let key = bits ^ ((dtype as u64) << 56);
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// A host buffer of `len` bytes holding the start of `bits`.
fn new_buffer(bits: u64, len: usize) -> Buffer {
    let owner = Box::new(bits);
    let ptr = NonNull::from(&*owner).cast::<u8>();
    // SAFETY: `ptr` points to the eight bytes of `owner`'s heap cell (`len` is at most 8), which
    // the buffer keeps alive with it; moving a `Box` does not move what it points to, and nothing
    // writes those bytes after this point.
    unsafe { Buffer::external_host(ptr, len, owner) }
}
