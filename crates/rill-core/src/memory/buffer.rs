//! Buffers (owned device memory) and `Data` (a buffer seen through a layout).

use super::Allocator;
use crate::shape::Layout;
use crate::{Device, Element};
use std::ptr::NonNull;
use std::sync::Arc;

/// A block of device memory from an [`Allocator`], returned to it on drop.
///
/// A buffer is written only by the kernel that produced it, before it is shared (wrapped in `Arc`
/// and published as an array's result); after that it is read-only. That discipline, not the type
/// system, is what makes `Buffer: Sync` sound; `as_mut_slice` is the one place it is relied on.
pub struct Buffer {
    ptr: NonNull<u8>,
    /// Bytes asked for.
    len: usize,
    /// Bytes reserved (the bucket size); what the counters see.
    capacity: usize,
    allocator: &'static Allocator,
}

// SAFETY: the buffer owns its memory exclusively; the write-before-share discipline above means no
// two threads ever write it, and reads after sharing see memory that no longer changes.
unsafe impl Send for Buffer {}
// SAFETY: as above.
unsafe impl Sync for Buffer {}

impl Buffer {
    pub(super) fn new(
        ptr: NonNull<u8>,
        len: usize,
        capacity: usize,
        allocator: &'static Allocator,
    ) -> Self {
        Buffer {
            ptr,
            len,
            capacity,
            allocator,
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn device(&self) -> Device {
        self.allocator.device()
    }
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The whole buffer as elements of `T`.
    pub fn as_slice<T: Element>(&self) -> &[T] {
        debug_assert_eq!(self.ptr.as_ptr() as usize % std::mem::align_of::<T>(), 0);
        // SAFETY: the allocation is at least `len` bytes, 64-byte aligned, and initialized by the
        // kernel that produced it before it was shared (every kernel writes its whole output).
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr() as *const T, self.len / size_of::<T>())
        }
    }

    /// The whole buffer as writable elements of `T`. For the kernel that owns a fresh buffer.
    ///
    /// The memory may hold stale bytes from an earlier use; kernels write every element.
    pub fn as_mut_slice<T: Element>(&mut self) -> &mut [T] {
        // SAFETY: `&mut self` means no one else can see this buffer (it is not yet in an `Arc`), the
        // allocation is `len` bytes and aligned for any element type. Elements of every `Element`
        // type are valid for any bit pattern except `bool`, which kernels only write.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut T, self.len / size_of::<T>())
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.allocator.release(self.ptr, self.capacity);
    }
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({} bytes on {})", self.len, self.device())
    }
}

/// An evaluated array's storage: a shared buffer and the layout its elements have in it.
#[derive(Debug, Clone)]
pub struct Data {
    pub buffer: Arc<Buffer>,
    pub layout: Layout,
}

impl Data {
    pub fn new(buffer: Buffer, layout: Layout) -> Self {
        Data {
            buffer: Arc::new(buffer),
            layout,
        }
    }
    pub fn contiguous(buffer: Buffer, shape: &[usize]) -> Self {
        Data::new(buffer, Layout::contiguous(shape))
    }
}
