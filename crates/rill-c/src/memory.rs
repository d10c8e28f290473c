//! Memory counters and limits, summed over every device (MLX's functions, which take no device).
//!
//! The limit is hard: an allocation past it fails, and the array that needed it carries
//! `RILL_ERR_OUT_OF_MEMORY` (reported by `rill_eval` or when its value is read); every other
//! array is unaffected.

use crate::array::value_out;
use crate::error::guard;
use crate::handles::Out;
use rill_core::memory;
use std::ffi::c_int;

/// Bytes held by live arrays, on every device.
#[no_mangle]
pub unsafe extern "C" fn rill_get_active_memory(out: *mut usize) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out("rill_get_active_memory", out, || {
        Ok(memory::active_memory(None))
    })
}

/// The most bytes held at once since the start or the last `rill_reset_peak_memory`.
#[no_mangle]
pub unsafe extern "C" fn rill_get_peak_memory(out: *mut usize) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out("rill_get_peak_memory", out, || {
        Ok(memory::peak_memory(None))
    })
}

/// Restarts the peak at the bytes held now.
#[no_mangle]
pub extern "C" fn rill_reset_peak_memory() -> c_int {
    guard("rill_reset_peak_memory", || {
        memory::reset_peak_memory(None);
        Ok(())
    })
}

/// Bytes of freed buffers kept for reuse.
#[no_mangle]
pub unsafe extern "C" fn rill_get_cache_memory(out: *mut usize) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out("rill_get_cache_memory", out, || {
        Ok(memory::cache_memory(None))
    })
}

/// Returns every cached buffer to the system.
#[no_mangle]
pub extern "C" fn rill_clear_cache() -> c_int {
    guard("rill_clear_cache", || {
        memory::clear_cache(None);
        Ok(())
    })
}

/// Sets the hard limit on the bytes held by arrays of every device together, and writes the
/// previous limit to `*previous` (which may be NULL).
#[no_mangle]
pub unsafe extern "C" fn rill_set_memory_limit(limit: usize, previous: *mut usize) -> c_int {
    guard("rill_set_memory_limit", || {
        let old = memory::set_memory_limit(None, limit);
        if !previous.is_null() {
            // SAFETY: non-NULL `previous` is writable (the crate's rules).
            unsafe { previous.write(old) };
        }
        Ok(())
    })
}

/// The hard limit on the bytes held by arrays.
#[no_mangle]
pub unsafe extern "C" fn rill_get_memory_limit(out: *mut usize) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out("rill_get_memory_limit", out, || {
        Ok(memory::memory_limit(None))
    })
}

/// Sets how many bytes of freed buffers are kept for reuse, and writes the previous value to
/// `*previous` (which may be NULL).
#[no_mangle]
pub unsafe extern "C" fn rill_set_cache_limit(limit: usize, previous: *mut usize) -> c_int {
    guard("rill_set_cache_limit", || {
        let old = memory::set_cache_limit(None, limit);
        if !previous.is_null() {
            // SAFETY: non-NULL `previous` is writable (the crate's rules).
            unsafe { previous.write(old) };
        }
        Ok(())
    })
}
