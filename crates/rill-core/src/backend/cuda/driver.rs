//! Calls into the CUDA driver: turning its status codes into rill errors, and making a GPU's
//! context current on the calling thread.
//!
//! rill uses each GPU's *primary* context (the one the runtime API and PyTorch share), retained
//! once at start-up and never released. The driver keeps the current context per thread; every
//! entry point that calls the driver first calls [`make_current`], which costs one thread-local
//! read when the context is already current (the common case: a pool thread keeps it).

use crate::{Error, Result};
use cudarc::driver::sys;
use std::cell::Cell;

/// Ok for `CUDA_SUCCESS`, else an error naming `op` and the driver call that failed.
pub(super) fn check(op: &'static str, what: &str, status: sys::CUresult) -> Result<()> {
    match status.result() {
        Ok(()) => Ok(()),
        Err(e) => Err(driver_error(op, what, e.0)),
    }
}

pub(super) fn driver_error(op: &'static str, what: &str, status: sys::CUresult) -> Error {
    let name = cudarc::driver::result::DriverError(status)
        .error_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("{status:?}"));
    let text = cudarc::driver::result::DriverError(status)
        .error_string()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if status == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
        return Error::device(op, format!("out of GPU memory in {what}: {text}"));
    }
    Error::device(op, format!("CUDA error in {what}: {name} ({text})"))
}

thread_local! {
    static CURRENT: Cell<sys::CUcontext> = const { Cell::new(std::ptr::null_mut()) };
}

/// Makes `ctx` the calling thread's current context.
pub(super) fn make_current(ctx: sys::CUcontext) -> Result<()> {
    if CURRENT.with(|c| c.get()) == ctx {
        return Ok(());
    }
    // SAFETY: `ctx` is a primary context retained at start-up and never released, so it is valid
    // for the life of the process.
    check("cuda", "cuCtxSetCurrent", unsafe {
        sys::cuCtxSetCurrent(ctx)
    })?;
    CURRENT.with(|c| c.set(ctx));
    Ok(())
}
