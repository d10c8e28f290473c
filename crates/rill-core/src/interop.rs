//! Lending an array's memory to another library, and borrowing another library's memory, without
//! copies and without stalling the host: what the front-ends' DLPack support is made of.
//!
//! Rules:
//! - A [`Lent`] array keeps its memory alive until the borrower gives it back (drops the
//!   `Lent`). On a device, lending makes the borrower's queue wait for the array's producer on
//!   the device ([`lend`]); giving it back records the borrower's queue, and the memory is freed
//!   only after the work queued there so far (or, for a queue rill was not told, after the whole
//!   device's). Host memory needs neither: it is lent once the array is computed.
//! - Borrowed device memory ([`borrow_device`]) is ready for work on the stream it is borrowed
//!   for, once the lender has ordered its own work before that stream's (the lender's part of
//!   the handshake); when rill lets go of it, the host waits for rill's work on it before the
//!   owner is dropped, since the lender cannot be told to wait on the device.
//! - A queue is a raw handle of the device's API (CUDA: a `CUstream`, 1 and 2 for the legacy and
//!   per-thread default streams): rill never dereferences it, only hands it to the driver.

use crate::backend;
use crate::memory::{Buffer, Data};
use crate::{Array, DeviceType, Error, Result, Stream};
use std::any::Any;

/// The other library's queue that will read lent memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    /// A raw queue handle of the array's device.
    Raw(usize),
    /// The borrower orders its work itself (DLPack's `stream=-1`): rill makes no queue wait.
    Unordered,
}

/// An array's memory, lent to another library until dropped.
pub struct Lent {
    data: Data,
    queue: Queue,
}

impl Lent {
    /// The lent data: its buffer (whose address the borrower reads from) and its layout.
    pub fn data(&self) -> &Data {
        &self.data
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if self.data.is_host() {
            return;
        }
        if let Ok(b) = backend::of("interop", self.data.device()) {
            let queue = match self.queue {
                Queue::Raw(q) => Some(q),
                Queue::Unordered => None,
            };
            b.returned_by(&self.data, queue);
        }
    }
}

/// Lends the memory of `a` (computed first, and copied first when `copy` or when a stride is
/// negative, which DLPack's consumers refuse) to a library that reads it on `queue`. On a device
/// the host does not wait for `a`'s work: `queue` waits for it on the device.
pub fn lend(op: &'static str, a: &Array, queue: Queue, copy: bool) -> Result<Lent> {
    let device = a.stream().device();
    let a = if copy {
        crate::ops::copy(a, a.stream())?
    } else {
        a.clone()
    };
    let mut data = a.available_data()?;
    if data.layout.strides.iter().any(|&s| s < 0) {
        data = crate::ops::copy(&a, a.stream())?.available_data()?;
    }
    if device.kind != DeviceType::Cpu && data.is_host() {
        // An array made from host data on a GPU stream stays on the host until an op needs it
        // on the device: lend the device copy (made on the array's stream, and kept).
        data = a.data_on(device, a.stream())?;
    }
    if device.kind == DeviceType::Cpu {
        data.buffer.wait_ready()?;
        return Ok(Lent {
            data,
            queue: Queue::Unordered,
        });
    }
    if let Queue::Raw(q) = queue {
        backend::of(op, device)?.order_queue_after(op, &data, q)?;
    }
    Ok(Lent { data, queue })
}

/// The raw handle of `stream`'s device queue (None on the CPU), for a lender to order its work
/// before the work rill will queue on `stream`.
pub fn raw_queue(stream: Stream) -> Option<usize> {
    backend::of("interop", stream.device())
        .ok()?
        .raw_queue(stream)
}

/// A buffer over another library's memory on `stream`'s device: `len` bytes at device address
/// `addr`, kept alive by `owner` (dropped once rill's work on it has finished), ready for work
/// queued on `stream` from now on.
///
/// # Safety
/// `addr` must address `len` bytes of memory of `stream`'s device, valid while `owner` lives and
/// written by nobody meanwhile, and the lender must have ordered the work that writes it before
/// the work queued on `stream` from now on.
pub unsafe fn borrow_device(
    op: &'static str,
    stream: Stream,
    addr: usize,
    len: usize,
    owner: Box<dyn Any + Send + Sync>,
) -> Result<Buffer> {
    if stream.device().kind == DeviceType::Cpu {
        return Err(Error::arg(
            op,
            "host memory is borrowed with Buffer::external_host, not borrow_device",
        ));
    }
    let b = backend::of(op, stream.device())?;
    // SAFETY: the caller's contract is the backend's.
    unsafe { b.borrow(op, stream, addr, len, owner) }
}
