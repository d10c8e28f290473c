//! Evaluation: `rill_eval` (compute and wait), `rill_async_eval` (start and return) and
//! `rill_synchronize` (wait for what streams were given).

use crate::error::{guard, Failure, Result};
use crate::handles::{array, rill_array, rill_stream, slice, stream};
use rill_core::Array;
use std::ffi::c_int;

/// The arrays behind `arrays[0..n]`, each checked for NULL.
///
/// # Safety
/// Non-NULL `arrays` points to `n` pointers, each NULL or a live array handle.
unsafe fn arrays_arg<'a>(
    op: &str,
    arrays: *const *const rill_array,
    n: usize,
) -> Result<Vec<&'a Array>> {
    // SAFETY: `arrays` points to `n` pointers (the contract).
    let handles = unsafe { slice(op, "arrays", arrays, n) }?;
    handles
        .iter()
        .enumerate()
        // SAFETY: each pointer is NULL or a live array handle (the contract).
        .map(|(i, &p)| unsafe { array(op, &format!("arrays[{i}]"), p) })
        .collect()
}

/// Computes `arrays[0..n]` and everything they depend on, and waits for them. Fails with the
/// error of the first array that failed (out of memory, say); arrays that did not fail keep
/// their values.
#[no_mangle]
pub unsafe extern "C" fn rill_eval(arrays: *const *const rill_array, n: usize) -> c_int {
    const OP: &str = "rill_eval";
    guard(OP, || {
        // SAFETY: `arrays` points to `n` handles (the crate's rules).
        let arrays = unsafe { arrays_arg(OP, arrays, n) }?;
        rill_core::eval(&arrays)?;
        Ok(())
    })
}

/// Starts computing `arrays[0..n]` on their streams and returns at once (MLX's `async_eval`).
/// Wait with `rill_eval` (which then only waits), `rill_synchronize`, or by reading a value;
/// `rill_array_is_ready` asks without waiting. Errors of the work are found then, not here.
#[no_mangle]
pub unsafe extern "C" fn rill_async_eval(arrays: *const *const rill_array, n: usize) -> c_int {
    const OP: &str = "rill_async_eval";
    guard(OP, || {
        // SAFETY: `arrays` points to `n` handles (the crate's rules).
        let arrays = unsafe { arrays_arg(OP, arrays, n) }?;
        // The returned handle only waits; dropping it lets the work go on.
        let _started = rill_core::async_eval(&arrays);
        Ok(())
    })
}

/// Waits until every task submitted to `s` so far has run and its device work has finished; with
/// NULL, every stream of every device. Errors of the work stay on the arrays that failed.
#[no_mangle]
pub unsafe extern "C" fn rill_synchronize(s: *const rill_stream) -> c_int {
    const OP: &str = "rill_synchronize";
    guard(OP, || {
        if s.is_null() {
            rill_core::synchronize_all();
            return Ok(());
        }
        // SAFETY: `s` is a live stream handle (the crate's rules).
        let s = unsafe { stream(OP, "s", s) }?;
        rill_core::synchronize(*s).map_err(Failure::from)
    })
}
