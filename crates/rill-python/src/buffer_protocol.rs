//! The buffer protocol for `rill.core.array`: `memoryview(a)`, `bytes(a)`, `np.frombuffer(a)`
//! and every C extension that reads buffers see the evaluated array's host memory, read-only and
//! C-contiguous (a strided view or an array on a GPU is copied to a contiguous host array first).
//!
//! Rules: a view keeps what it points at alive by itself. `internal` holds a boxed [`Exported`]
//! (the `Data`, which owns its buffer, and the shape and strides the view points to), freed by
//! `__releasebuffer__`; `obj` holds a reference to the array object, as the protocol requires.
//! Assigning into the array later (`a[0] = 1` puts a new array inside the same object) leaves an
//! exported view as it was: it keeps the data it was made from. The export is read-only (rill's
//! arrays are values); asking for a writable buffer raises `BufferError`.
//!
//! The stable ABI has the buffer protocol from Python 3.11 on, which is why the package's
//! minimum is 3.11 (3.10 reached its end of life in October 2026).

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use rill_core::memory::Data;
use rill_core::{Device, Dtype};
use std::ffi::{c_char, c_int, c_void, CStr};

/// What an exported view points into, owned by the view.
struct Exported {
    _data: Data,
    shape: Vec<ffi::Py_ssize_t>,
    strides: Vec<ffi::Py_ssize_t>,
}

/// The `struct` module's format of a dtype. bfloat16 has none: MLX exports it as "bfloat16", which
/// NumPy rejects, so `np.asarray` of a bfloat16 MLX array fails; rill refuses the export instead
/// (`BufferError`), and NumPy, which tries the buffer protocol first, falls back to `__array__`
/// (a float32 copy).
fn format_of(d: Dtype) -> Option<&'static CStr> {
    Some(match d {
        Dtype::Bool => c"?",
        Dtype::Int8 => c"b",
        Dtype::Uint8 => c"B",
        Dtype::Int16 => c"h",
        Dtype::Uint16 => c"H",
        Dtype::Int32 => c"i",
        Dtype::Uint32 => c"I",
        Dtype::Int64 => c"q",
        Dtype::Uint64 => c"Q",
        Dtype::Float16 => c"e",
        Dtype::Float32 => c"f",
        Dtype::Float64 => c"d",
        Dtype::Complex64 => c"Zf",
        Dtype::Bfloat16 => return None,
    })
}

/// The array's data on the host, row-contiguous (copied when it is a strided view).
fn contiguous_host_data(a: &rill_core::Array) -> rill_core::Result<Data> {
    a.eval()?;
    let d = a.host_data()?;
    if d.layout.is_row_contiguous(a.shape()) {
        return Ok(d);
    }
    let c = rill_core::ops::copy(a, Device::cpu())?;
    c.eval()?;
    c.host_data()
}

#[pymethods]
impl PyArray {
    /// # Safety
    /// Called by Python with a `view` to fill (never null for a `getbufferproc`).
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        guard(|| {
            if view.is_null() {
                return Err(PyBufferError::new_err("memoryview: no view to fill"));
            }
            if flags & ffi::PyBUF_WRITABLE == ffi::PyBUF_WRITABLE {
                return Err(PyBufferError::new_err(
                    "rill arrays are read-only: their buffer cannot be exported writable",
                ));
            }
            let py = slf.py();
            let a = slf.get().get();
            let Some(fmt) = format_of(a.dtype()) else {
                return Err(PyBufferError::new_err(
                    "bfloat16 has no buffer-protocol format: use a.astype(mx.float32) (or np.asarray(a), which copies to float32)",
                ));
            };
            let data = py.detach(|| contiguous_host_data(&a)).or_raise()?;
            let itemsize = a.itemsize();
            let offset = if a.size() == 0 {
                0
            } else {
                data.layout.offset * itemsize
            };
            // SAFETY: the offset addresses the first element inside the buffer (for an empty
            // array it is 0: the buffer's start, never read).
            let ptr = unsafe { data.buffer.as_ptr().add(offset) };
            let mut ex = Box::new(Exported {
                _data: data,
                shape: a.shape().iter().map(|&d| d as ffi::Py_ssize_t).collect(),
                strides: rill_core::shape::contiguous_strides(a.shape())
                    .iter()
                    .map(|&s| s as ffi::Py_ssize_t * itemsize as ffi::Py_ssize_t)
                    .collect(),
            });
            let format = if flags & ffi::PyBUF_FORMAT == ffi::PyBUF_FORMAT {
                fmt.as_ptr() as *mut c_char
            } else {
                std::ptr::null_mut()
            };
            let wants_shape = flags & ffi::PyBUF_ND == ffi::PyBUF_ND;
            let wants_strides = flags & ffi::PyBUF_STRIDES == ffi::PyBUF_STRIDES;
            // SAFETY: `view` is the caller's Py_buffer (checked non-null). Every pointer stored
            // in it stays valid until `__releasebuffer__`: the elements and the shape/strides
            // arrays belong to the `Exported` box, which `internal` owns until then; `format`
            // is a static string; `obj` is a new reference to the array object.
            unsafe {
                (*view).buf = ptr as *mut c_void;
                (*view).obj = slf.clone().into_any().into_ptr();
                (*view).len = (a.size() * itemsize) as ffi::Py_ssize_t;
                (*view).readonly = 1;
                (*view).itemsize = itemsize as ffi::Py_ssize_t;
                (*view).format = format;
                (*view).ndim = a.ndim() as c_int;
                (*view).shape = if wants_shape {
                    ex.shape.as_mut_ptr()
                } else {
                    std::ptr::null_mut()
                };
                (*view).strides = if wants_strides {
                    ex.strides.as_mut_ptr()
                } else {
                    std::ptr::null_mut()
                };
                (*view).suboffsets = std::ptr::null_mut();
                (*view).internal = Box::into_raw(ex) as *mut c_void;
            }
            Ok(())
        })
    }

    /// The elements' bytes in row-major order (`bytes(a)`, as MLX gives), through the buffer
    /// export: `bytes()` would otherwise try `__index__` first and fail on a non-scalar array.
    fn __bytes__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.get_type::<pyo3::types::PyMemoryView>()
            .call1((slf,))?
            .call_method0("tobytes")
    }

    /// # Safety
    /// Called by Python once per successful `__getbuffer__`, with the view it filled.
    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
        // SAFETY: `internal` is the box `__getbuffer__` leaked into this view (or null if the
        // view was never filled); it is taken once and cleared, so it is freed once.
        unsafe {
            if view.is_null() || (*view).internal.is_null() {
                return;
            }
            drop(Box::from_raw((*view).internal as *mut Exported));
            (*view).internal = std::ptr::null_mut();
        }
    }
}
