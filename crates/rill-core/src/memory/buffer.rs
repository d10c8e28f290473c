//! Buffers (a block of some device's memory) and `Data` (a buffer seen through a layout).
//!
//! A buffer is one of three kinds:
//! - **pooled host memory** from the host [`Allocator`], returned to its cache on drop;
//! - **external host memory** that rill does not own (a NumPy array, a memory-mapped file), kept
//!   alive by an owner object that is dropped with the buffer;
//! - **device memory**, owned by a backend's [`DeviceBlock`], which knows when the work that
//!   writes the block is done and frees the block after the last work that reads it.
//!
//! Only host buffers can be read from the CPU (`as_slice`); device buffers are read through
//! `Array::host_data`, which copies them to the host once their data is ready.
//!
//! Rule: a buffer is written only by the kernel (or copy) that creates it, before it is shared
//! (wrapped in `Arc` and published as an array's result); after that it is read-only. That
//! discipline, not the type system, is what makes `Buffer: Sync` sound; `as_mut_slice` is the one
//! place it is relied on.

use super::Allocator;
use crate::shape::Layout;
use crate::{Device, DeviceType, Element, Result};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::Arc;

/// Device memory owned by a backend. Dropping it frees the memory, ordered after every piece of
/// device work that uses it.
pub trait DeviceBlock: Send + Sync {
    /// Blocks the calling thread until the work that writes this block has finished, and returns
    /// the error that work met, if any.
    fn wait_ready(&self) -> Result<()>;
    /// True when the work that writes this block has finished (never blocks).
    fn is_ready(&self) -> bool;
    /// For the owning backend, to reach its own state (events, the streams that used the block).
    fn as_any(&self) -> &dyn Any;
}

enum Storage {
    Pool(&'static Allocator),
    /// Dropped with the buffer; it is what keeps the memory alive.
    External(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
    Device(Box<dyn DeviceBlock>),
}

/// A block of memory on one device.
pub struct Buffer {
    /// On the host a pointer; on a device its address in the device's address space, never
    /// dereferenced by the host.
    ptr: NonNull<u8>,
    /// Bytes asked for.
    len: usize,
    /// Bytes reserved (the bucket size); what the counters see.
    capacity: usize,
    device: Device,
    storage: Storage,
}

// SAFETY: the buffer owns (or, for external memory, holds the owner of) its memory; the
// write-before-share discipline above means no two threads ever write it, and reads after sharing
// see memory that no longer changes. Device blocks are `Send + Sync` by their trait.
unsafe impl Send for Buffer {}
// SAFETY: as above.
unsafe impl Sync for Buffer {}

impl Buffer {
    pub(super) fn pooled(
        ptr: NonNull<u8>,
        len: usize,
        capacity: usize,
        allocator: &'static Allocator,
    ) -> Self {
        Buffer {
            ptr,
            len,
            capacity,
            device: allocator.device(),
            storage: Storage::Pool(allocator),
        }
    }

    /// Host memory that rill does not own: `len` bytes at `ptr`, kept alive by `owner`, which is
    /// dropped when the buffer is.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that stay valid and unchanged for as long as
    /// `owner` lives (rill never writes them).
    pub unsafe fn external_host(
        ptr: NonNull<u8>,
        len: usize,
        owner: Box<dyn Any + Send + Sync>,
    ) -> Self {
        Buffer {
            ptr,
            len,
            capacity: 0,
            device: Device::cpu(),
            storage: Storage::External(owner),
        }
    }

    /// Device memory at address `addr` of `device`, owned by `block` (for backends).
    pub fn device_block(
        device: Device,
        addr: NonNull<u8>,
        len: usize,
        capacity: usize,
        block: Box<dyn DeviceBlock>,
    ) -> Self {
        Buffer {
            ptr: addr,
            len,
            capacity,
            device,
            storage: Storage::Device(block),
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
        self.device
    }
    /// True when the CPU can read this buffer directly.
    pub fn is_host(&self) -> bool {
        self.device.kind == DeviceType::Cpu
    }
    /// The start of the buffer: a host pointer, or a device address for device buffers.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }
    /// The device block of a device buffer (for its backend).
    pub fn block(&self) -> Option<&dyn DeviceBlock> {
        match &self.storage {
            Storage::Device(b) => Some(b.as_ref()),
            _ => None,
        }
    }

    /// Blocks until the data of this buffer is written (at once for host buffers).
    pub fn wait_ready(&self) -> Result<()> {
        match &self.storage {
            Storage::Device(b) => b.wait_ready(),
            _ => Ok(()),
        }
    }
    /// True when the data of this buffer is written (never blocks).
    pub fn is_ready(&self) -> bool {
        match &self.storage {
            Storage::Device(b) => b.is_ready(),
            _ => true,
        }
    }

    /// The whole buffer as elements of `T`. Host buffers only.
    pub fn as_slice<T: Element>(&self) -> &[T] {
        assert!(
            self.is_host(),
            "a {} buffer cannot be read from the host",
            self.device
        );
        debug_assert_eq!(self.ptr.as_ptr() as usize % std::mem::align_of::<T>(), 0);
        // SAFETY: the memory is host memory (checked above) of at least `len` bytes, aligned for
        // `T` (pooled blocks are 64-byte aligned; external ones are checked by whoever wraps
        // them), and initialized by the kernel that produced it before it was shared (every
        // kernel writes its whole output).
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr() as *const T, self.len / size_of::<T>())
        }
    }

    /// The whole buffer as bytes. Host buffers only.
    pub fn as_bytes(&self) -> &[u8] {
        self.as_slice::<u8>()
    }

    /// The whole buffer as writable elements of `T`. For the kernel that owns a fresh host buffer.
    ///
    /// The memory may hold stale bytes from an earlier use; kernels write every element.
    pub fn as_mut_slice<T: Element>(&mut self) -> &mut [T] {
        assert!(
            matches!(self.storage, Storage::Pool(_)),
            "only a pooled host buffer can be written"
        );
        // SAFETY: `&mut self` means no one else can see this buffer (it is not yet in an `Arc`),
        // the allocation is pooled host memory (checked above) of `len` bytes, aligned for any
        // element type. Elements of every `Element` type are valid for any bit pattern except
        // `bool`, which kernels only write.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut T, self.len / size_of::<T>())
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Storage::Pool(a) = self.storage {
            a.release(self.ptr, self.capacity);
        }
        // External owners and device blocks free their memory when dropped with the buffer.
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
    pub fn device(&self) -> Device {
        self.buffer.device()
    }
    pub fn is_host(&self) -> bool {
        self.buffer.is_host()
    }

    /// The bits of the first element a host array of `elem_size`-byte elements sees through this
    /// layout, zero-extended to 64 (little-endian): a one-element host input read as a scalar
    /// (a GPU kernel takes it by value; auto-fusion shares one slot among equal constants).
    pub fn first_element_bits(&self, elem_size: usize) -> u64 {
        assert!(
            elem_size <= 8,
            "an element of {elem_size} bytes has no 64-bit scalar"
        );
        let start = self.layout.offset * elem_size;
        let mut bits = [0u8; 8];
        bits[..elem_size].copy_from_slice(&self.buffer.as_bytes()[start..start + elem_size]);
        u64::from_le_bytes(bits)
    }

    /// The range of elements, `[lo, hi)` from the buffer's start, that an array of `shape` seen
    /// through this layout touches (an empty range for an empty array). A copy of a view need
    /// only move these.
    pub fn span(&self, shape: &[usize]) -> (usize, usize) {
        if shape.contains(&0) {
            return (self.layout.offset, self.layout.offset);
        }
        let (mut lo, mut hi) = (self.layout.offset as isize, self.layout.offset as isize);
        for (&d, &s) in shape.iter().zip(&self.layout.strides) {
            let reach = (d as isize - 1) * s;
            if reach < 0 {
                lo += reach;
            } else {
                hi += reach;
            }
        }
        (lo.max(0) as usize, hi as usize + 1)
    }
}
