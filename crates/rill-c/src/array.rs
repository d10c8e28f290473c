//! Arrays: made from C data (copied in), read back into C buffers (copied out), asked about, freed.

use crate::error::{guard, Failure, Result, RILL_ERR_DTYPE, RILL_ERR_SHAPE};
use crate::handles::{
    self, dtype_from_c, dtype_to_c, new_array, rill_array, rill_dtype, rill_stream, slice,
    stream_arg, Out,
};
use rill_core::{dispatch_dtype, Array, Dtype, Element};
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;

/// Runs the entry point `op`, whose result is a new array written to `*out`. `*out` is set to
/// NULL first, so it is NULL whenever the call fails (`out` itself must not be NULL).
pub(crate) fn array_out(
    op: &'static str,
    out: Out<*mut rill_array>,
    body: impl FnOnce() -> Result<Array>,
) -> c_int {
    guard(op, || {
        out.check(op, "out")?;
        out.write(null_mut());
        out.write(new_array(body()?));
        Ok(())
    })
}

/// Writes a value computed by `body` to `*out` (a query's result).
pub(crate) fn value_out<T>(
    op: &'static str,
    out: Out<T>,
    body: impl FnOnce() -> Result<T>,
) -> c_int {
    guard(op, || {
        out.check(op, "out")?;
        out.write(body()?);
        Ok(())
    })
}

/// A new array of `dtype` and shape `shape[0..ndim]` holding a copy of the elements at `data`
/// (C order, native byte order; `bool` elements are the bytes 0 or 1). The number of bytes read
/// is the product of the shape times the dtype's size: `data` must hold that many. `shape` may
/// be NULL when `ndim` is 0 (a scalar), `data` when the shape has no elements. The array is
/// placed for work on `s` (NULL: the default stream).
#[no_mangle]
pub unsafe extern "C" fn rill_array_from_data(
    out: *mut *mut rill_array,
    data: *const c_void,
    shape: *const usize,
    ndim: usize,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_array_from_data";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes (the function's contract).
        let shape = unsafe { slice(OP, "shape", shape, ndim) }?;
        rill_core::shape::check_size(OP, shape, dtype)?;
        // check_size passed: the byte count fits in isize.
        let nbytes = rill_core::shape::numel(shape) * dtype.size();
        // SAFETY: `data` points to the `nbytes` bytes the shape and dtype call for (the contract).
        let bytes = unsafe { slice(OP, "data", data.cast::<u8>(), nbytes) }?;
        // SAFETY: `s` is NULL or a live stream handle.
        let s = unsafe { stream_arg(s) };
        Ok(Array::from_bytes(bytes, dtype, shape, s)?)
    })
}

/// Evaluates `a` (waiting for it) and copies its elements, in C order and in its own dtype, to
/// `buffer`, which holds `buffer_bytes` bytes. Fails with `RILL_ERR_SHAPE`, copying nothing,
/// unless `buffer_bytes` is exactly the array's byte size (`rill_array_nbytes`). A failure of the
/// evaluation (out of memory, say) is reported with its own code. `buffer` may be NULL for an
/// array of no elements.
#[no_mangle]
pub unsafe extern "C" fn rill_array_copy_to(
    a: *const rill_array,
    buffer: *mut c_void,
    buffer_bytes: usize,
) -> c_int {
    const OP: &str = "rill_array_copy_to";
    guard(OP, || {
        // SAFETY: `a` is NULL or a live array handle.
        let a = unsafe { handles::array(OP, "a", a) }?;
        let nbytes = a.nbytes();
        if buffer_bytes != nbytes {
            return Err(Failure::new(
                RILL_ERR_SHAPE,
                OP,
                format!(
                    "a buffer of {buffer_bytes} bytes cannot take a {} array of shape {:?} ({nbytes} bytes)",
                    a.dtype(),
                    a.shape()
                ),
            ));
        }
        if nbytes == 0 {
            return Ok(());
        }
        if buffer.is_null() {
            return Err(Failure::null(OP, "buffer"));
        }
        dispatch_dtype!(a.dtype(), T => {
            let elements = a.to_vec::<T>()?;
            debug_assert_eq!(std::mem::size_of_val(elements.as_slice()), nbytes);
            // SAFETY: `elements` holds `nbytes` initialized bytes (rill's element types are
            // plain numbers without padding); `buffer` is non-NULL and writable for
            // `buffer_bytes == nbytes` bytes (the contract), and cannot overlap a fresh Vec.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    elements.as_ptr().cast::<u8>(),
                    buffer.cast::<u8>(),
                    nbytes,
                )
            };
        });
        Ok(())
    })
}

/// Evaluates `a`, which must have exactly one element (of any shape), and writes that element,
/// converted to double, to `*out` (MLX's `item()`). `RILL_ERR_SHAPE` for another size.
#[no_mangle]
pub unsafe extern "C" fn rill_array_item(a: *const rill_array, out: *mut f64) -> c_int {
    const OP: &str = "rill_array_item";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || {
        // SAFETY: `a` is NULL or a live array handle.
        let a = unsafe { handles::array(OP, "a", a) }?;
        if a.dtype() == Dtype::Complex64 {
            return Err(Failure::new(
                RILL_ERR_DTYPE,
                OP,
                "a complex64 element has no double value",
            ));
        }
        // Read in the array's own dtype (a float64 copy would need a CPU stream), then widen.
        Ok(dispatch_dtype!(a.dtype(), T => a.item::<T>()?.to_scalar().as_f64()))
    })
}

/// A question about one array: `f(a)` written to `*out`.
///
/// # Safety
/// `a` is NULL or a live array handle; `out` is NULL or writable for a `T`.
unsafe fn query<T>(
    op: &'static str,
    a: *const rill_array,
    out: *mut T,
    f: impl FnOnce(&Array) -> T,
) -> c_int {
    // SAFETY: `out` is NULL or writable (the contract).
    let out = unsafe { Out::new(out) };
    value_out(op, out, || {
        // SAFETY: `a` is NULL or a live array handle (the contract).
        let a = unsafe { handles::array(op, "a", a) }?;
        Ok(f(a))
    })
}

/// The number of dimensions of `a`.
#[no_mangle]
pub unsafe extern "C" fn rill_array_ndim(a: *const rill_array, out: *mut usize) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { query("rill_array_ndim", a, out, |a| a.ndim()) }
}

/// A pointer to the `ndim` sizes of `a`'s shape (not NULL, even for a scalar, where it points to
/// no sizes). It stays valid while the handle `a` is alive; the array owns it: do not free it.
#[no_mangle]
pub unsafe extern "C" fn rill_array_shape(a: *const rill_array, out: *mut *const usize) -> c_int {
    // SAFETY: the caller keeps the crate's rules. The shape lives in the array's node, which the
    // handle keeps alive, so the pointer stays valid as long as the handle.
    unsafe { query("rill_array_shape", a, out, |a| a.shape().as_ptr()) }
}

/// The number of elements of `a` (the product of its shape).
#[no_mangle]
pub unsafe extern "C" fn rill_array_size(a: *const rill_array, out: *mut usize) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { query("rill_array_size", a, out, |a| a.size()) }
}

/// The byte size of `a`'s elements: what `rill_array_copy_to` writes.
#[no_mangle]
pub unsafe extern "C" fn rill_array_nbytes(a: *const rill_array, out: *mut usize) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { query("rill_array_nbytes", a, out, |a| a.nbytes()) }
}

/// The dtype of `a`.
#[no_mangle]
pub unsafe extern "C" fn rill_array_dtype(a: *const rill_array, out: *mut rill_dtype) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { query("rill_array_dtype", a, out, |a| dtype_to_c(a.dtype())) }
}

/// A new handle to the stream `a` is computed on (free it with `rill_stream_free`).
#[no_mangle]
pub unsafe extern "C" fn rill_array_stream(
    a: *const rill_array,
    out: *mut *mut rill_stream,
) -> c_int {
    const OP: &str = "rill_array_stream";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    crate::device::stream_out(OP, out, || {
        // SAFETY: `a` is NULL or a live array handle (the crate's rules).
        Ok(unsafe { handles::array(OP, "a", a) }?.stream())
    })
}

/// True once `a`'s value can be read without waiting (after `rill_async_eval` and the work's
/// end, or after `rill_eval`); false while it is lazy or still being computed.
#[no_mangle]
pub unsafe extern "C" fn rill_array_is_ready(a: *const rill_array, out: *mut bool) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { query("rill_array_is_ready", a, out, |a| a.is_ready()) }
}

/// The size in bytes of one element of `dtype`.
#[no_mangle]
pub unsafe extern "C" fn rill_dtype_size(dtype: rill_dtype, out: *mut usize) -> c_int {
    const OP: &str = "rill_dtype_size";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    value_out(OP, out, || Ok(dtype_from_c(OP, dtype)?.size()))
}

/// Frees the handle `a` (NULL: nothing happens). The array's memory goes back when no other
/// array needs it (an array computed from `a` keeps what it needs). `a` must not be used again.
#[no_mangle]
pub unsafe extern "C" fn rill_array_free(a: *mut rill_array) -> c_int {
    guard("rill_array_free", || {
        if !a.is_null() {
            // SAFETY: non-NULL `a` came from `Box::into_raw` in this library and is freed once
            // (the contract).
            drop(unsafe { Box::from_raw(a) });
        }
        Ok(())
    })
}
