//! GPU streams: each rill stream on a GPU is its own non-blocking CUDA stream.
//!
//! Rules: a [`GpuStream`] is made when its rill stream is (`Backend::new_stream`) and lives for
//! the rest of the process, as rill streams do; the registry maps a rill stream's index to it.
//! Any thread may queue work on any GPU stream (the driver serializes submissions to one CUDA
//! stream); rill's scheduler already guarantees that one stream's tasks are submitted in order,
//! by one thread at a time. Host callbacks (`when_ready`) go to a second CUDA stream per GPU stream,
//! the *notify* stream, so a callback waits only for the event it is about, never for work queued
//! on the stream after it.

use super::block_cache::BlockCache;
use super::driver::{check, make_current};
use super::gpu::Gpu;
use crate::{Error, Result, Stream};
use cudarc::driver::sys;
use std::sync::{Mutex, OnceLock, RwLock};

pub(super) struct GpuStream {
    pub(super) gpu: &'static Gpu,
    pub(super) raw: sys::CUstream,
    notify: OnceLock<sys::CUstream>,
    /// cuBLASLt's workspace for matmuls on this stream: device memory that only this stream's
    /// work uses, so two streams' matmuls never share scratch space.
    pub(super) workspace: Mutex<Option<crate::memory::Buffer>>,
    /// Small blocks freed after being used only here, for this stream's next allocations.
    pub(super) cache: BlockCache,
}

// SAFETY: the CUDA stream handles are usable from any thread with the context current (the driver
// serializes submissions); the rest is plain data or behind a mutex.
unsafe impl Send for GpuStream {}
// SAFETY: as above.
unsafe impl Sync for GpuStream {}

static STREAMS: RwLock<Vec<Option<&'static GpuStream>>> = RwLock::new(Vec::new());

fn create_raw(op: &'static str) -> Result<sys::CUstream> {
    let mut raw = std::ptr::null_mut();
    // SAFETY: `raw` is a valid out-pointer; the caller made the context current.
    check(op, "cuStreamCreate", unsafe {
        sys::cuStreamCreate(&mut raw, sys::CUstream_flags::CU_STREAM_NON_BLOCKING as u32)
    })?;
    Ok(raw)
}

/// Makes the CUDA stream of the new rill stream `stream` on `gpu`.
pub(super) fn create(gpu: &'static Gpu, stream: Stream) -> Result<()> {
    make_current(gpu.ctx)?;
    let raw = create_raw("new_stream")?;
    let s: &'static GpuStream = Box::leak(Box::new(GpuStream {
        gpu,
        raw,
        notify: OnceLock::new(),
        workspace: Mutex::new(None),
        cache: BlockCache::default(),
    }));
    let mut all = STREAMS.write().unwrap();
    if all.len() <= stream.index() {
        all.resize(stream.index() + 1, None);
    }
    all[stream.index()] = Some(s);
    Ok(())
}

/// The GPU stream of a rill stream.
pub(super) fn get(op: &'static str, stream: Stream) -> Result<&'static GpuStream> {
    // A thread drains one stream for many tasks in a row: remembering the last answer skips the
    // registry's lock, whose reader count two threads draining two streams would otherwise bounce
    // between their cores on every op. An entry never changes once set, so this cannot go stale.
    thread_local! {
        static LAST: std::cell::Cell<Option<(usize, &'static GpuStream)>> =
            const { std::cell::Cell::new(None) };
    }
    let index = stream.index();
    if let Some((i, s)) = LAST.with(|l| l.get()) {
        if i == index {
            return Ok(s);
        }
    }
    let s = STREAMS
        .read()
        .unwrap()
        .get(index)
        .copied()
        .flatten()
        .ok_or_else(|| Error::device(op, format!("{stream} has no CUDA stream")))?;
    LAST.with(|l| l.set(Some((index, s))));
    Ok(s)
}

impl GpuStream {
    /// The stream host callbacks about this stream's work are queued on.
    pub(super) fn notify(&self) -> Result<sys::CUstream> {
        if let Some(&n) = self.notify.get() {
            return Ok(n);
        }
        make_current(self.gpu.ctx)?;
        let raw = create_raw("eval")?;
        if let Err(raw) = self.notify.set(raw) {
            // Another thread made one first: keep theirs.
            // SAFETY: `raw` was just created here and nothing was queued on it.
            unsafe { sys::cuStreamDestroy_v2(raw) };
        }
        Ok(*self.notify.get().unwrap())
    }

    /// Blocks until everything queued on this stream has finished.
    pub(super) fn synchronize(&self, op: &'static str) -> Result<()> {
        make_current(self.gpu.ctx)?;
        // SAFETY: the stream is valid for the life of the process.
        check(op, "cuStreamSynchronize", unsafe {
            sys::cuStreamSynchronize(self.raw)
        })
    }
}

/// Every GPU stream.
pub(super) fn all() -> Vec<&'static GpuStream> {
    STREAMS.read().unwrap().iter().flatten().copied().collect()
}
