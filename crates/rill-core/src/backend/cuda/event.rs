//! CUDA events, recycled: creating one costs a driver call, and rill records one for every buffer
//! that another stream or the host waits for.
//!
//! Rules: an [`Event`] is recorded once, at creation, and never re-recorded, so every clone of it
//! names the same point in its stream. When the last clone drops, the event goes back to its
//! GPU's pool; a recycled event is re-recorded before anyone sees it again, which resets it.

use super::driver::{check, make_current};
use super::gpu::Gpu;
use crate::Result;
use cudarc::driver::sys;
use std::sync::{Arc, Mutex};

/// Events not in use, per GPU.
#[derive(Default)]
pub(super) struct EventPool {
    free: Mutex<Vec<sys::CUevent>>,
}

// SAFETY: CUevent handles are plain driver handles, usable from any thread that has the context
// current; the pool only stores them.
unsafe impl Send for EventPool {}
// SAFETY: as above; the mutex serializes access to the list.
unsafe impl Sync for EventPool {}

struct Inner {
    event: sys::CUevent,
    gpu: &'static Gpu,
}

// SAFETY: as for EventPool: the handle is valid on any thread with the GPU's context current, and
// `Inner` only hands it to driver calls.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        self.gpu.events.free.lock().unwrap().push(self.event);
    }
}

/// A point in one CUDA stream's work.
#[derive(Clone)]
pub(super) struct Event(Arc<Inner>);

impl Event {
    /// An event recorded now on `stream` of `gpu`: it completes when everything queued on
    /// `stream` so far has finished.
    pub(super) fn record(gpu: &'static Gpu, stream: sys::CUstream) -> Result<Event> {
        make_current(gpu.ctx)?;
        let recycled = gpu.events.free.lock().unwrap().pop();
        let event = match recycled {
            Some(e) => e,
            None => {
                let mut e = std::ptr::null_mut();
                // SAFETY: `e` is a valid out-pointer; the flags ask for an event without timing,
                // the cheapest kind.
                check("cuda", "cuEventCreate", unsafe {
                    sys::cuEventCreate(&mut e, sys::CUevent_flags::CU_EVENT_DISABLE_TIMING as u32)
                })?;
                e
            }
        };
        let ev = Event(Arc::new(Inner { event, gpu }));
        // SAFETY: the event and the stream belong to `gpu`'s context, which is current.
        check("cuda", "cuEventRecord", unsafe {
            sys::cuEventRecord(event, stream)
        })?;
        Ok(ev)
    }

    /// True when the work before the event has finished (never blocks). A driver error counts as
    /// finished: `wait` reports it.
    pub(super) fn is_done(&self) -> bool {
        // SAFETY: the event is valid (owned by `self`); querying needs no current context.
        let status = unsafe { sys::cuEventQuery(self.0.event) };
        status != sys::CUresult::CUDA_ERROR_NOT_READY
    }

    /// Blocks until the work before the event has finished.
    pub(super) fn wait(&self, op: &'static str) -> Result<()> {
        make_current(self.0.gpu.ctx)?;
        // SAFETY: the event is valid (owned by `self`) and was recorded.
        check(op, "cuEventSynchronize", unsafe {
            sys::cuEventSynchronize(self.0.event)
        })
    }

    /// Makes `stream` wait (on the device, not the host) for the work before the event.
    pub(super) fn wait_on(&self, stream: sys::CUstream) -> Result<()> {
        // SAFETY: event and stream are valid handles of the same context, which the caller made
        // current.
        check("cuda", "cuStreamWaitEvent", unsafe {
            sys::cuStreamWaitEvent(stream, self.0.event, 0)
        })
    }
}
