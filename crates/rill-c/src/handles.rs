//! The types C sees, and the checked conversions from what C passes to what rill takes.
//!
//! Arrays and streams are opaque heap handles (`Box`es C holds by pointer); devices are a small
//! struct passed by value; dtypes and device types are plain integers with named constants, so
//! that an out-of-range value from C is an error instead of an invalid Rust enum.

use crate::error::{Failure, Result, RILL_ERR_DEVICE, RILL_ERR_DTYPE};
use rill_core::{Array, Device, DeviceType, Dtype, Stream, StreamOrDevice};
use std::ffi::c_int;

/// An array: a lazy or evaluated rill array. Made by the `rill_*` functions that return one;
/// freed by `rill_array_free`.
pub struct rill_array(pub(crate) Array);

/// A stream: an in-order queue of work bound to a device. Made by `rill_new_stream`,
/// `rill_default_stream` or `rill_array_stream`; freed by `rill_stream_free` (which frees only
/// the handle: the stream itself lives as long as the process).
pub struct rill_stream(pub(crate) Stream);

/// An element type: one of the `RILL_<DTYPE>` constants.
pub type rill_dtype = i32;

pub const RILL_BOOL: rill_dtype = 0;
pub const RILL_UINT8: rill_dtype = 1;
pub const RILL_UINT16: rill_dtype = 2;
pub const RILL_UINT32: rill_dtype = 3;
pub const RILL_UINT64: rill_dtype = 4;
pub const RILL_INT8: rill_dtype = 5;
pub const RILL_INT16: rill_dtype = 6;
pub const RILL_INT32: rill_dtype = 7;
pub const RILL_INT64: rill_dtype = 8;
/// IEEE half precision, 2 bytes.
pub const RILL_FLOAT16: rill_dtype = 9;
/// bfloat16, 2 bytes (the upper half of a float32).
pub const RILL_BFLOAT16: rill_dtype = 10;
pub const RILL_FLOAT32: rill_dtype = 11;
/// CPU only.
pub const RILL_FLOAT64: rill_dtype = 12;
/// Two float32s, real then imaginary.
pub const RILL_COMPLEX64: rill_dtype = 13;

/// The `rill_dtype` constants in order; the value is the index.
const DTYPES: [Dtype; 14] = [
    Dtype::Bool,
    Dtype::Uint8,
    Dtype::Uint16,
    Dtype::Uint32,
    Dtype::Uint64,
    Dtype::Int8,
    Dtype::Int16,
    Dtype::Int32,
    Dtype::Int64,
    Dtype::Float16,
    Dtype::Bfloat16,
    Dtype::Float32,
    Dtype::Float64,
    Dtype::Complex64,
];

/// The rill dtype a C value names, or an error naming `op`.
pub(crate) fn dtype_from_c(op: &str, dtype: rill_dtype) -> Result<Dtype> {
    usize::try_from(dtype)
        .ok()
        .and_then(|i| DTYPES.get(i).copied())
        .ok_or_else(|| {
            Failure::new(
                RILL_ERR_DTYPE,
                op,
                format!(
                    "{dtype} is not a rill_dtype (RILL_BOOL = 0 .. RILL_COMPLEX64 = {})",
                    DTYPES.len() - 1
                ),
            )
        })
}

pub(crate) fn dtype_to_c(dtype: Dtype) -> rill_dtype {
    DTYPES
        .iter()
        .position(|&d| d == dtype)
        .expect("every rill dtype has a C value") as rill_dtype
}

/// A device type: `RILL_CPU` or `RILL_GPU`.
pub type rill_device_type = i32;

pub const RILL_CPU: rill_device_type = 0;
pub const RILL_GPU: rill_device_type = 1;

/// A device: a type and an index among the devices of that type (`{RILL_GPU, 0}` is the first
/// GPU). A plain value: nothing to free.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct rill_device {
    pub kind: rill_device_type,
    pub index: c_int,
}

/// The rill device a C value names (whether or not this process has it), or an error.
pub(crate) fn device_from_c(op: &str, d: rill_device) -> Result<Device> {
    let kind = match d.kind {
        RILL_CPU => DeviceType::Cpu,
        RILL_GPU => DeviceType::Gpu,
        other => {
            return Err(Failure::new(
                RILL_ERR_DEVICE,
                op,
                format!("{other} is not a rill_device_type (RILL_CPU = 0, RILL_GPU = 1)"),
            ))
        }
    };
    let index = usize::try_from(d.index).map_err(|_| {
        Failure::new(
            RILL_ERR_DEVICE,
            op,
            format!("a device index cannot be negative ({})", d.index),
        )
    })?;
    Ok(Device::new(kind, index))
}

pub(crate) fn device_to_c(d: Device) -> rill_device {
    rill_device {
        kind: match d.kind {
            DeviceType::Cpu => RILL_CPU,
            DeviceType::Gpu => RILL_GPU,
        },
        // Device indices come from the backends' device counts: a handful.
        index: c_int::try_from(d.index).unwrap_or(c_int::MAX),
    }
}

/// The array behind a handle C passed as the argument `arg` of `op`.
///
/// # Safety
/// `p` is NULL or a pointer returned by this library and not yet freed (the crate's rules).
pub(crate) unsafe fn array<'a>(op: &str, arg: &str, p: *const rill_array) -> Result<&'a Array> {
    // SAFETY: non-NULL `p` points to a live `rill_array` (the caller's contract).
    unsafe { p.as_ref() }
        .map(|a| &a.0)
        .ok_or_else(|| Failure::null(op, arg))
}

/// The stream an op runs on: the stream behind `s`, or the default (this thread's scope, else
/// the default stream of the default device) when `s` is NULL.
///
/// # Safety
/// `s` is NULL or a pointer returned by this library and not yet freed.
pub(crate) unsafe fn stream_arg(s: *const rill_stream) -> StreamOrDevice {
    // SAFETY: non-NULL `s` points to a live `rill_stream` (the caller's contract).
    match unsafe { s.as_ref() } {
        Some(s) => StreamOrDevice::Stream(s.0),
        None => StreamOrDevice::Default,
    }
}

/// The stream behind a handle C passed as the argument `arg` of `op` (NULL is an error).
///
/// # Safety
/// `s` is NULL or a pointer returned by this library and not yet freed.
pub(crate) unsafe fn stream<'a>(op: &str, arg: &str, s: *const rill_stream) -> Result<&'a Stream> {
    // SAFETY: non-NULL `s` points to a live `rill_stream` (the caller's contract).
    unsafe { s.as_ref() }
        .map(|s| &s.0)
        .ok_or_else(|| Failure::null(op, arg))
}

/// `n` elements at `p`, the argument `arg` of `op`: NULL is allowed only when `n` is 0.
///
/// # Safety
/// Non-NULL `p` points to `n` readable, initialized, aligned `T`s that stay unchanged during the
/// call.
pub(crate) unsafe fn slice<'a, T>(op: &str, arg: &str, p: *const T, n: usize) -> Result<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(op, arg));
    }
    // SAFETY: `p` is non-NULL and points to `n` valid `T`s (the caller's contract).
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// An out-pointer C passed: where a function writes its result. Made only by [`Out::new`],
/// whose contract makes the later writes sound.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// # Safety
    /// `p` is NULL or aligned and writable for a `T` for the rest of the call.
    pub(crate) unsafe fn new(p: *mut T) -> Out<T> {
        Out(p)
    }

    /// An error naming `op` when C passed NULL; entry points check before doing any work.
    pub(crate) fn check(&self, op: &str, arg: &str) -> Result<()> {
        if self.0.is_null() {
            Err(Failure::null(op, arg))
        } else {
            Ok(())
        }
    }

    /// Writes `value` (nothing when NULL). The previous contents are not dropped: for C they
    /// are uninitialized or a plain value.
    pub(crate) fn write(&self, value: T) {
        if !self.0.is_null() {
            // SAFETY: non-NULL and writable for a `T` (the contract of `Out::new`).
            unsafe { self.0.write(value) }
        }
    }
}

/// A new heap handle for `a`, owned by C from here on.
pub(crate) fn new_array(a: Array) -> *mut rill_array {
    Box::into_raw(Box::new(rill_array(a)))
}

pub(crate) fn new_stream(s: Stream) -> *mut rill_stream {
    Box::into_raw(Box::new(rill_stream(s)))
}
