//! Device-side timing of ops for timeline captures: a timing event before and after an op's work
//! on its stream, read back when the capture stops.
//!
//! Device times become host `Instant`s through an epoch per GPU: an event recorded on the GPU's
//! (normally idle) free stream together with the host time, once per capture; an op's device
//! time is the epoch's host time plus the device time elapsed since the epoch event.
//!
//! Rules: spans exist only while a capture runs; their events are made and destroyed here (not
//! the recycled, timing-free events of `event.rs`).

use super::driver::{check, make_current};
use super::gpu::Gpu;
use super::stream::GpuStream;
use crate::backend::DeviceSpan;
use crate::Result;
use cudarc::driver::sys;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Epoch {
    generation: u64,
    event: sys::CUevent,
    host: Instant,
}

// SAFETY: the event handle is valid on any thread with the GPU's context current.
unsafe impl Send for Epoch {}
// SAFETY: as above; it is only read after creation.
unsafe impl Sync for Epoch {}

/// The current capture's epoch of each GPU.
#[derive(Default)]
pub(super) struct Epochs {
    current: Mutex<Option<Arc<Epoch>>>,
}

fn timing_event(gpu: &Gpu, stream: sys::CUstream) -> Result<sys::CUevent> {
    make_current(gpu.ctx)?;
    let mut e = std::ptr::null_mut();
    // SAFETY: valid out-pointer; default flags give a timing event; the context is current.
    check("capture", "cuEventCreate", unsafe {
        sys::cuEventCreate(&mut e, 0)
    })?;
    // SAFETY: event and stream belong to the current context.
    check("capture", "cuEventRecord", unsafe {
        sys::cuEventRecord(e, stream)
    })?;
    Ok(e)
}

fn epoch(gpu: &'static Gpu) -> Result<Arc<Epoch>> {
    let generation = crate::trace::capture_generation();
    let mut cur = gpu.epochs.current.lock().unwrap();
    if let Some(e) = cur.as_ref().filter(|e| e.generation == generation) {
        return Ok(e.clone());
    }
    let event = timing_event(gpu, gpu.free_stream)?;
    let e = Arc::new(Epoch {
        generation,
        event,
        host: Instant::now(),
    });
    *cur = Some(e.clone());
    Ok(e)
}

struct Span {
    gpu: &'static Gpu,
    stream: sys::CUstream,
    epoch: Arc<Epoch>,
    start: sys::CUevent,
    end: Option<sys::CUevent>,
}

// SAFETY: event and stream handles are valid on any thread with the context current.
unsafe impl Send for Span {}
// SAFETY: as above.
unsafe impl Sync for Span {}

pub(super) fn begin(s: &'static GpuStream) -> Option<Box<dyn DeviceSpan>> {
    let epoch = epoch(s.gpu).ok()?;
    let start = timing_event(s.gpu, s.raw).ok()?;
    Some(Box::new(Span {
        gpu: s.gpu,
        stream: s.raw,
        epoch,
        start,
        end: None,
    }))
}

impl Span {
    fn at(&self, e: sys::CUevent) -> Option<Instant> {
        let mut ms = 0f32;
        // SAFETY: both events belong to this GPU's context (made current by the caller) and
        // have completed (the caller synchronized on the later one, recorded after both).
        let status = unsafe { sys::cuEventElapsedTime_v2(&mut ms, self.epoch.event, e) };
        (status == sys::CUresult::CUDA_SUCCESS)
            .then(|| self.epoch.host + Duration::from_secs_f64(ms.max(0.0) as f64 / 1e3))
    }
}

impl DeviceSpan for Span {
    fn end(&mut self) {
        self.end = timing_event(self.gpu, self.stream).ok();
    }
    fn resolve(&self) -> Option<(Instant, Instant)> {
        let end = self.end?;
        make_current(self.gpu.ctx).ok()?;
        // SAFETY: a live event of the current context.
        unsafe { sys::cuEventSynchronize(end) };
        Some((self.at(self.start)?, self.at(end)?))
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if make_current(self.gpu.ctx).is_ok() {
            // SAFETY: the events were made by this span and are destroyed once.
            unsafe {
                sys::cuEventDestroy_v2(self.start);
                if let Some(e) = self.end {
                    sys::cuEventDestroy_v2(e);
                }
            }
        }
    }
}
