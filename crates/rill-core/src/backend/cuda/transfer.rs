//! Copies between host memory and a GPU.
//!
//! Host to device goes through *pinned staging*: the host bytes are copied (by the CPU, in
//! parallel for large copies) into page-locked blocks, and the DMA engine copies each block to the
//! device asynchronously on the consuming stream. A copy from pageable memory would make the
//! driver synchronize the stream first and stage the bytes itself; staging here lets the copy run
//! on the copy engine while the stream's earlier kernels, and other streams, keep computing.
//!
//! Device to host waits for the data (its ready event), then copies it into a host buffer of
//! rill's host allocator.
//!
//! Rules: a staging block is reused only once the event recorded after its last copy has
//! completed (oldest first); blocks are never returned to the system.

use super::driver::{check, make_current};
use super::event::Event;
use super::gpu::Gpu;
use super::memory::block;
use super::stream::GpuStream;
use crate::backend::Input;
use crate::memory::Data;
use crate::shape::Layout;
use crate::{Error, Result};
use cudarc::driver::sys;
use rayon::prelude::*;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Bytes of one staging block.
const STAGE: usize = 8 << 20;
/// Staging blocks per GPU before a copy waits for one to come free.
const MAX_BLOCKS: usize = 8;
/// Copies into staging larger than this are split across the thread pool.
const PAR_COPY: usize = 1 << 20;

struct StageBlock {
    ptr: *mut u8,
    busy: Option<Event>,
}

/// The pinned staging blocks of one GPU.
#[derive(Default)]
pub(super) struct Staging {
    free: Mutex<VecDeque<StageBlock>>,
    count: Mutex<usize>,
}

// SAFETY: the blocks are page-locked host memory owned by the pool; a block is used by one copy at
// a time (it is taken out of the list while used).
unsafe impl Send for Staging {}
// SAFETY: as above.
unsafe impl Sync for Staging {}

impl Staging {
    fn take(&self, gpu: &'static Gpu) -> Result<StageBlock> {
        let oldest = {
            let mut free = self.free.lock().unwrap();
            match free.front() {
                Some(b) if b.busy.as_ref().is_none_or(|e| e.is_done()) => free.pop_front(),
                _ => {
                    let mut count = self.count.lock().unwrap();
                    if *count < MAX_BLOCKS {
                        *count += 1;
                        None
                    } else {
                        free.pop_front()
                    }
                }
            }
        };
        if let Some(b) = oldest {
            if let Some(e) = &b.busy {
                e.wait("copy")?;
            }
            return Ok(b);
        }
        let mut ptr = std::ptr::null_mut();
        make_current(gpu.ctx)?;
        // SAFETY: valid out-pointer; the context is current. Portable so any context may use it.
        let status = unsafe { sys::cuMemHostAlloc(&mut ptr, STAGE, sys::CU_MEMHOSTALLOC_PORTABLE) };
        if let Err(e) = check("copy", "cuMemHostAlloc", status) {
            *self.count.lock().unwrap() -= 1;
            return Err(e);
        }
        Ok(StageBlock {
            ptr: ptr as *mut u8,
            busy: None,
        })
    }

    fn give_back(&self, b: StageBlock) {
        self.free.lock().unwrap().push_back(b);
    }
}

/// Copies `src` (host bytes) to device address `dst`, queued on `stream`.
pub(super) fn host_to_device(stream: &'static GpuStream, src: &[u8], dst: u64) -> Result<()> {
    let gpu = stream.gpu;
    make_current(gpu.ctx)?;
    for (i, chunk) in src.chunks(STAGE).enumerate() {
        let mut b = gpu.staging.take(gpu)?;
        // SAFETY: the block holds STAGE >= chunk.len() bytes of host memory that no copy is using
        // (its last copy's event has completed), and `chunk` does not overlap it.
        let staged = unsafe { std::slice::from_raw_parts_mut(b.ptr, chunk.len()) };
        if chunk.len() > PAR_COPY {
            staged
                .par_chunks_mut(PAR_COPY / 4)
                .zip(chunk.par_chunks(PAR_COPY / 4))
                .for_each(|(d, s)| d.copy_from_slice(s));
        } else {
            staged.copy_from_slice(chunk);
        }
        // SAFETY: `dst + i*STAGE` has room for the chunk (the caller sized the allocation); the
        // staging block is pinned and stays untouched until the event below completes.
        let status = unsafe {
            sys::cuMemcpyHtoDAsync_v2(
                dst + (i * STAGE) as u64,
                b.ptr as *const _,
                chunk.len(),
                stream.raw,
            )
        };
        let recorded =
            check("copy", "cuMemcpyHtoDAsync", status).and_then(|_| Event::record(gpu, stream.raw));
        match recorded {
            Ok(e) => {
                b.busy = Some(e);
                gpu.staging.give_back(b);
            }
            Err(e) => {
                // The block's state is unknown: wait for the stream before reusing it.
                let _ = stream.synchronize("copy");
                b.busy = None;
                gpu.staging.give_back(b);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The elements an input's layout reaches, as a byte range of its buffer, and the layout of the
/// same elements in a copy of just that range.
fn span_bytes(input: &Input) -> (usize, usize, Layout) {
    let (lo, hi) = input.data.span(input.shape);
    let size = input.dtype.size();
    let layout = Layout {
        strides: input.data.layout.strides.clone(),
        offset: input.data.layout.offset - lo,
    };
    (lo * size, hi.max(lo) * size, layout)
}

/// `host` (host memory) copied to `stream`'s GPU.
pub(super) fn upload(host: &Input, stream: &'static GpuStream) -> Result<Data> {
    let (lo, hi, layout) = span_bytes(host);
    let bytes = &host.data.buffer.as_bytes()[lo..hi];
    let buf = stream.gpu.memory.allocate("copy", bytes.len(), stream)?;
    let dst = buf.as_ptr() as u64;
    let data = Data::new(buf, layout);
    host_to_device(stream, bytes, dst)?;
    Ok(data)
}

/// `data` (GPU memory) copied to host memory, once its data is ready.
pub(super) fn download(input: &Input) -> Result<Data> {
    let blk = block(&input.data.buffer)
        .ok_or_else(|| Error::device("copy", "a GPU download of memory that is not a GPU's"))?;
    blk.ready_event()?.wait("copy")?;
    let (lo, hi, layout) = span_bytes(input);
    let mut host = crate::backend::cpu::allocator().allocate("copy", hi - lo)?;
    if hi > lo {
        make_current(blk.gpu().ctx)?;
        let dst = host.as_mut_slice::<u8>();
        // SAFETY: `dst` holds hi-lo bytes; the device range [ptr+lo, ptr+hi) is inside the block,
        // whose data is ready (waited above). The copy is synchronous.
        check("copy", "cuMemcpyDtoH", unsafe {
            sys::cuMemcpyDtoH_v2(dst.as_mut_ptr() as *mut _, blk.ptr + lo as u64, hi - lo)
        })?;
    }
    Ok(Data::new(host, layout))
}
