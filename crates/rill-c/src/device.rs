//! Devices, streams, and the defaults ops use when given no stream: process-wide ones and the
//! calling thread's scoped ones.
//!
//! A GPU this process lacks can be named only to be refused: `rill_new_stream`,
//! `rill_default_stream`, `rill_set_default_device` and `rill_scope_push_device` fail for it with
//! `RILL_ERR_DEVICE` and a message saying how many GPUs the process has. `rill_is_available` is
//! how a program finds out first.

use crate::array::value_out;
use crate::error::{guard, Failure, Result, RILL_ERR_ARGUMENT};
use crate::handles::{
    device_from_c, device_to_c, new_stream, rill_device, rill_stream, stream, Out,
};
use rill_core::{DeviceScope, Stream, StreamScope};
use std::cell::RefCell;
use std::ffi::c_int;
use std::ptr::null_mut;

/// Writes to `*out` whether this process can use `device` (the CPU always; a GPU when the CUDA
/// libraries and a GPU with that index are present).
#[no_mangle]
pub unsafe extern "C" fn rill_is_available(device: rill_device, out: *mut bool) -> c_int {
    const OP: &str = "rill_is_available";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || {
        Ok(rill_core::is_available(device_from_c(OP, device)?))
    })
}

/// Writes to `*out` how many devices of `kind` (`RILL_CPU` or `RILL_GPU`) this process can use.
#[no_mangle]
pub unsafe extern "C" fn rill_device_count(
    kind: crate::handles::rill_device_type,
    out: *mut usize,
) -> c_int {
    const OP: &str = "rill_device_count";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || {
        let d = device_from_c(OP, rill_device { kind, index: 0 })?;
        Ok(rill_core::device_count(d.kind))
    })
}

/// Writes to `*out` the device ops use when given no stream: this thread's innermost scope, else
/// the process-wide default (the first GPU when there is one, else the CPU).
#[no_mangle]
pub unsafe extern "C" fn rill_default_device(out: *mut rill_device) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out("rill_default_device", out, || {
        Ok(device_to_c(rill_core::default_device()))
    })
}

/// Makes `device` the process-wide default device (every thread without a scope of its own).
#[no_mangle]
pub extern "C" fn rill_set_default_device(device: rill_device) -> c_int {
    const OP: &str = "rill_set_default_device";
    guard(OP, || {
        rill_core::set_default_device(device_from_c(OP, device)?)?;
        Ok(())
    })
}

/// Runs the entry point `op`, whose result is a new stream handle written to `*out` (set to NULL
/// first, so it is NULL whenever the call fails).
pub(crate) fn stream_out(
    op: &'static str,
    out: Out<*mut rill_stream>,
    body: impl FnOnce() -> Result<Stream>,
) -> c_int {
    guard(op, || {
        out.check(op, "out")?;
        out.write(null_mut());
        out.write(new_stream(body()?));
        Ok(())
    })
}

/// A new stream on `device`, independent of every other stream; free the handle with
/// `rill_stream_free`.
#[no_mangle]
pub unsafe extern "C" fn rill_new_stream(device: rill_device, out: *mut *mut rill_stream) -> c_int {
    const OP: &str = "rill_new_stream";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    stream_out(OP, out, || {
        Ok(rill_core::new_stream(device_from_c(OP, device)?)?)
    })
}

/// The default stream of `device` for this thread: the innermost scoped stream on that device,
/// else the process-wide one (made on first use). Free the handle with `rill_stream_free`.
#[no_mangle]
pub unsafe extern "C" fn rill_default_stream(
    device: rill_device,
    out: *mut *mut rill_stream,
) -> c_int {
    const OP: &str = "rill_default_stream";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    stream_out(OP, out, || {
        Ok(rill_core::default_stream(device_from_c(OP, device)?)?)
    })
}

/// Makes `s` the process-wide default stream of its device.
#[no_mangle]
pub unsafe extern "C" fn rill_set_default_stream(s: *const rill_stream) -> c_int {
    const OP: &str = "rill_set_default_stream";
    guard(OP, || {
        // SAFETY: `s` is NULL or a live stream handle (the crate's rules).
        let s = unsafe { stream(OP, "s", s) }?;
        rill_core::set_default_stream(*s)?;
        Ok(())
    })
}

/// Writes to `*out` the device `s` runs on.
#[no_mangle]
pub unsafe extern "C" fn rill_stream_device(s: *const rill_stream, out: *mut rill_device) -> c_int {
    const OP: &str = "rill_stream_device";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || {
        // SAFETY: `s` is NULL or a live stream handle (the crate's rules).
        let s = unsafe { stream(OP, "s", s) }?;
        Ok(device_to_c(s.device()))
    })
}

/// Writes to `*out` the number of `s`, unique among the streams of the process: two handles
/// with the same number are the same stream.
#[no_mangle]
pub unsafe extern "C" fn rill_stream_index(s: *const rill_stream, out: *mut usize) -> c_int {
    const OP: &str = "rill_stream_index";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || {
        // SAFETY: `s` is NULL or a live stream handle (the crate's rules).
        Ok(unsafe { stream(OP, "s", s) }?.index())
    })
}

/// Frees the handle `s` (NULL: nothing happens). The stream itself stays (work queued on it
/// runs; other handles to it still work): streams live as long as the process.
#[no_mangle]
pub unsafe extern "C" fn rill_stream_free(s: *mut rill_stream) -> c_int {
    guard("rill_stream_free", || {
        if !s.is_null() {
            // SAFETY: non-NULL `s` came from `Box::into_raw` in this library and is freed once
            // (the crate's rules).
            drop(unsafe { Box::from_raw(s) });
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- scoped defaults

/// A scope opened through the C API: rill-core's RAII guard, kept until `rill_scope_pop`.
enum Scope {
    Device(#[allow(dead_code)] DeviceScope),
    Stream(#[allow(dead_code)] StreamScope),
}

thread_local! {
    /// This thread's open scopes, innermost last. rill-core's scopes are per thread and so are
    /// these: a pop on another thread finds none of them. Registered after rill-core's own scope
    /// stack (a push opens the core scope first), so at thread exit it is destroyed first and
    /// its guards still find that stack.
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
}

/// Until the matching `rill_scope_pop`, makes `device` this thread's default device: ops given
/// no stream run on that device's default stream. Other threads are unaffected. Scopes nest.
#[no_mangle]
pub extern "C" fn rill_scope_push_device(device: rill_device) -> c_int {
    const OP: &str = "rill_scope_push_device";
    guard(OP, || {
        let scope = DeviceScope::new(device_from_c(OP, device)?)?;
        SCOPES.with(|s| s.borrow_mut().push(Scope::Device(scope)));
        Ok(())
    })
}

/// Until the matching `rill_scope_pop`, makes `s` this thread's default stream (and its device
/// the default device): MLX's `with mx.stream(s)`. Other threads are unaffected. Scopes nest. The
/// scope keeps the stream, not the handle: `s` may be freed while the scope is open.
#[no_mangle]
pub unsafe extern "C" fn rill_scope_push_stream(s: *const rill_stream) -> c_int {
    const OP: &str = "rill_scope_push_stream";
    guard(OP, || {
        // SAFETY: `s` is NULL or a live stream handle (the crate's rules).
        let s = unsafe { stream(OP, "s", s) }?;
        let scope = StreamScope::new(*s)?;
        SCOPES.with(|v| v.borrow_mut().push(Scope::Stream(scope)));
        Ok(())
    })
}

/// Closes this thread's innermost scope opened by `rill_scope_push_device` or
/// `rill_scope_push_stream`, restoring the defaults that were in force before it.
/// `RILL_ERR_ARGUMENT` when this thread has no open scope. Close every scope a thread opens
/// before the thread ends.
#[no_mangle]
pub extern "C" fn rill_scope_pop() -> c_int {
    const OP: &str = "rill_scope_pop";
    guard(OP, || {
        let scope = SCOPES.with(|s| s.borrow_mut().pop());
        match scope {
            Some(scope) => {
                drop(scope);
                Ok(())
            }
            None => Err(Failure::new(
                RILL_ERR_ARGUMENT,
                OP,
                "this thread has no open scope (rill_scope_push_device or rill_scope_push_stream)",
            )),
        }
    })
}
