//! DLPack: `array.__dlpack__()`, `array.__dlpack_device__()` and `mx.from_dlpack(obj)`, without
//! copies for host memory in both directions (NumPy, PyTorch's CPU tensors, JAX on the CPU).
//!
//! Export: the capsule holds a `DLManagedTensor` (or, when the consumer asks for DLPack 1.0 with
//! `max_version`, a `DLManagedTensorVersioned` flagged read-only, so that NumPy's view cannot be
//! written: rill's arrays are values) whose context box owns the array's `Data`; the tensor's
//! deleter frees that box, and touches no Python object, so a consumer may call it on any thread.
//! The capsule's destructor calls the deleter only when no consumer took the tensor (renamed the
//! capsule to `used_dltensor`/`used_dltensor_versioned`), as the standard says.
//!
//! Import: the producer's capsule itself is kept as the owner of the memory rill reads (an
//! external host buffer), so the producer's deleter runs when the capsule dies, under the GIL, as
//! the producer expects; the capsule is never handed to anyone else.
//!
//! Arrays on a GPU are not exchanged through DLPack yet (export raises `BufferError`, import of
//! CUDA memory raises `ValueError`); `np.asarray(a)` and `mx.array(t.cpu())` copy instead.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use rill_core::memory::{Buffer, Data};
use rill_core::shape::Layout;
use rill_core::{Array, DeviceType, Dtype, StreamOrDevice};
use std::ffi::{c_void, CStr};
use std::ptr::NonNull;

const KDL_CPU: i32 = 1;
const KDL_CUDA: i32 = 2;
const KDL_CUDA_HOST: i32 = 3;
const KDL_CUDA_MANAGED: i32 = 13;
/// `DLPACK_FLAG_BITMASK_READ_ONLY`.
const READ_ONLY: u64 = 1;

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DLTensor {
    data: *mut c_void,
    device: DLDevice,
    ndim: i32,
    dtype: DLDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DLManagedTensor {
    dl_tensor: DLTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

#[repr(C)]
struct DLPackVersion {
    major: u32,
    minor: u32,
}

#[repr(C)]
struct DLManagedTensorVersioned {
    version: DLPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DLTensor,
}

const LEGACY: &CStr = c"dltensor";
const VERSIONED: &CStr = c"dltensor_versioned";

fn dl_dtype(d: Dtype) -> DLDataType {
    let (code, bits) = match d {
        Dtype::Bool => (6, 8),
        Dtype::Int8 => (0, 8),
        Dtype::Int16 => (0, 16),
        Dtype::Int32 => (0, 32),
        Dtype::Int64 => (0, 64),
        Dtype::Uint8 => (1, 8),
        Dtype::Uint16 => (1, 16),
        Dtype::Uint32 => (1, 32),
        Dtype::Uint64 => (1, 64),
        Dtype::Float16 => (2, 16),
        Dtype::Float32 => (2, 32),
        Dtype::Float64 => (2, 64),
        Dtype::Bfloat16 => (4, 16),
        Dtype::Complex64 => (5, 64),
    };
    DLDataType {
        code,
        bits,
        lanes: 1,
    }
}

fn rill_dtype(t: DLDataType) -> Option<Dtype> {
    if t.lanes != 1 {
        return None;
    }
    Some(match (t.code, t.bits) {
        (6, 8) => Dtype::Bool,
        (0, 8) => Dtype::Int8,
        (0, 16) => Dtype::Int16,
        (0, 32) => Dtype::Int32,
        (0, 64) => Dtype::Int64,
        (1, 8) => Dtype::Uint8,
        (1, 16) => Dtype::Uint16,
        (1, 32) => Dtype::Uint32,
        (1, 64) => Dtype::Uint64,
        (2, 16) => Dtype::Float16,
        (2, 32) => Dtype::Float32,
        (2, 64) => Dtype::Float64,
        (4, 16) => Dtype::Bfloat16,
        (5, 64) => Dtype::Complex64,
        _ => return None,
    })
}

/// What an exported tensor points into, and the tensor itself (at a stable address: boxed).
struct Exported<T> {
    _data: Data,
    shape: Vec<i64>,
    strides: Vec<i64>,
    tensor: T,
}

unsafe extern "C" fn delete_legacy(t: *mut DLManagedTensor) {
    // SAFETY: `manager_ctx` is the box `export` leaked for this tensor; the standard calls the
    // deleter once, so the box is freed once.
    unsafe {
        drop(Box::from_raw(
            (*t).manager_ctx as *mut Exported<DLManagedTensor>,
        ))
    }
}

unsafe extern "C" fn delete_versioned(t: *mut DLManagedTensorVersioned) {
    // SAFETY: as `delete_legacy`.
    unsafe {
        drop(Box::from_raw(
            (*t).manager_ctx as *mut Exported<DLManagedTensorVersioned>,
        ))
    }
}

/// The capsule's destructor: frees the tensor unless a consumer took it (renamed the capsule).
unsafe extern "C" fn capsule_destructor(capsule: *mut ffi::PyObject) {
    // SAFETY: Python calls this with the dying capsule, holding the GIL. Only a capsule still
    // under its first name holds a tensor nobody took; `GetPointer` with that name cannot fail.
    unsafe {
        if ffi::PyCapsule_IsValid(capsule, LEGACY.as_ptr()) == 1 {
            let t = ffi::PyCapsule_GetPointer(capsule, LEGACY.as_ptr()) as *mut DLManagedTensor;
            if let Some(d) = (*t).deleter {
                d(t);
            }
        } else if ffi::PyCapsule_IsValid(capsule, VERSIONED.as_ptr()) == 1 {
            let t = ffi::PyCapsule_GetPointer(capsule, VERSIONED.as_ptr())
                as *mut DLManagedTensorVersioned;
            if let Some(d) = (*t).deleter {
                d(t);
            }
        }
    }
}

fn dl_tensor(data: &Data, a: &Array, shape: &mut [i64], strides: &mut [i64]) -> DLTensor {
    let offset = if a.size() == 0 {
        0
    } else {
        data.layout.offset * a.itemsize()
    };
    DLTensor {
        // Data pointer plus byte_offset is the first element; the pointer stays the buffer's own.
        data: data.buffer.as_ptr() as *mut c_void,
        device: DLDevice {
            device_type: KDL_CPU,
            device_id: 0,
        },
        ndim: a.ndim() as i32,
        dtype: dl_dtype(a.dtype()),
        shape: shape.as_mut_ptr(),
        strides: strides.as_mut_ptr(),
        byte_offset: offset as u64,
    }
}

/// The array's host data with non-negative strides (NumPy refuses others from DLPack).
fn exportable(a: &Array) -> rill_core::Result<Data> {
    a.eval()?;
    let d = a.host_data()?;
    if d.layout.strides.iter().all(|&s| s >= 0) {
        return Ok(d);
    }
    let c = rill_core::ops::copy(a, rill_core::Device::cpu())?;
    c.eval()?;
    c.host_data()
}

#[pymethods]
impl PyArray {
    /// A DLPack capsule of the array's memory (no copy). `max_version >= (1, 0)` gets the
    /// versioned form, flagged read-only.
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<&Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let a = self.get();
            if a.stream().device().kind != DeviceType::Cpu {
                return Err(PyBufferError::new_err(
                    "__dlpack__: arrays on a GPU are not exported through DLPack yet; evaluate on a CPU stream or use np.asarray",
                ));
            }
            if let Some(s) = stream {
                // CPU producers take no stream: None, or -1 ("no synchronization") by convention.
                if !s.is_none() && s.extract::<i64>().ok() != Some(-1) {
                    return Err(PyValueError::new_err(
                        "__dlpack__: a CPU array takes stream=None (a stream is for GPU memory)",
                    ));
                }
            }
            if let Some((t, _)) = dl_device {
                if t != KDL_CPU {
                    return Err(PyBufferError::new_err(format!(
                        "__dlpack__: cannot export to DLPack device type {t} (the array is in host memory)"
                    )));
                }
            }
            let data = py.detach(|| exportable(&a)).or_raise()?;
            let data = if copy == Some(true) {
                let c = rill_core::ops::copy(&a, rill_core::Device::cpu()).or_raise()?;
                py.detach(|| {
                    c.eval()?;
                    c.host_data()
                })
                .or_raise()?
            } else {
                data
            };
            let shape: Vec<i64> = a.shape().iter().map(|&d| d as i64).collect();
            let strides: Vec<i64> = data.layout.strides.iter().map(|&s| s as i64).collect();
            let versioned = max_version.is_some_and(|(major, _)| major >= 1);
            let ptr = if versioned {
                let mut ex = Box::new(Exported {
                    _data: data,
                    shape,
                    strides,
                    tensor: DLManagedTensorVersioned {
                        version: DLPackVersion { major: 1, minor: 0 },
                        manager_ctx: std::ptr::null_mut(),
                        deleter: Some(delete_versioned),
                        flags: READ_ONLY,
                        dl_tensor: empty_tensor(),
                    },
                });
                let ex_ref = &mut *ex;
                ex_ref.tensor.dl_tensor =
                    dl_tensor(&ex_ref._data, &a, &mut ex_ref.shape, &mut ex_ref.strides);
                let raw = Box::into_raw(ex);
                // SAFETY: `raw` is the box just leaked; the tensor points back at its own box so
                // the deleter can free it.
                unsafe {
                    (*raw).tensor.manager_ctx = raw as *mut c_void;
                    &mut (*raw).tensor as *mut DLManagedTensorVersioned as *mut c_void
                }
            } else {
                let mut ex = Box::new(Exported {
                    _data: data,
                    shape,
                    strides,
                    tensor: DLManagedTensor {
                        dl_tensor: empty_tensor(),
                        manager_ctx: std::ptr::null_mut(),
                        deleter: Some(delete_legacy),
                    },
                });
                let ex_ref = &mut *ex;
                ex_ref.tensor.dl_tensor =
                    dl_tensor(&ex_ref._data, &a, &mut ex_ref.shape, &mut ex_ref.strides);
                let raw = Box::into_raw(ex);
                // SAFETY: as above.
                unsafe {
                    (*raw).tensor.manager_ctx = raw as *mut c_void;
                    &mut (*raw).tensor as *mut DLManagedTensor as *mut c_void
                }
            };
            let name = if versioned { VERSIONED } else { LEGACY };
            // SAFETY: `ptr` is a live tensor owned by its box until its deleter runs; the name
            // is a static string; the destructor frees the tensor only if no consumer took it.
            let capsule =
                unsafe { ffi::PyCapsule_New(ptr, name.as_ptr(), Some(capsule_destructor)) };
            if capsule.is_null() {
                // SAFETY: the capsule was not made, so nothing else frees the tensor.
                unsafe {
                    if versioned {
                        delete_versioned(ptr as *mut DLManagedTensorVersioned);
                    } else {
                        delete_legacy(ptr as *mut DLManagedTensor);
                    }
                }
                return Err(PyErr::fetch(py));
            }
            // SAFETY: `capsule` is a new reference.
            Ok(unsafe { Bound::from_owned_ptr(py, capsule) })
        })
    }

    /// `(device type, device id)` in DLPack's terms: (1, 0) for host memory, (2, n) for GPU n.
    fn __dlpack_device__(&self) -> (i32, i32) {
        let d = self.get().stream().device();
        match d.kind {
            DeviceType::Cpu => (KDL_CPU, 0),
            DeviceType::Gpu => (KDL_CUDA, d.index as i32),
        }
    }
}

fn empty_tensor() -> DLTensor {
    DLTensor {
        data: std::ptr::null_mut(),
        device: DLDevice {
            device_type: KDL_CPU,
            device_id: 0,
        },
        ndim: 0,
        dtype: DLDataType {
            code: 0,
            bits: 0,
            lanes: 0,
        },
        shape: std::ptr::null_mut(),
        strides: std::ptr::null_mut(),
        byte_offset: 0,
    }
}

/// An array over the memory of any object with `__dlpack__` (NumPy, PyTorch and JAX on the CPU),
/// without a copy; it keeps the producer's memory alive while rill uses it.
#[pyfunction]
pub fn from_dlpack(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyArray>> {
    guard(|| {
        if let Ok(a) = x.cast::<PyArray>() {
            return Py::new(py, PyArray::new(a.get().get()));
        }
        if !x.hasattr("__dlpack__")? {
            return Err(PyTypeError::new_err(format!(
                "from_dlpack: {} has no __dlpack__ method",
                x.get_type().name()?
            )));
        }
        if x.hasattr("__dlpack_device__")? {
            let (t, _): (i32, i32) = x.call_method0("__dlpack_device__")?.extract()?;
            if matches!(t, KDL_CUDA | KDL_CUDA_MANAGED) {
                return Err(PyValueError::new_err(
                    "from_dlpack: CUDA memory is not imported through DLPack yet; copy it to the host first (e.g. tensor.cpu())",
                ));
            }
            if !matches!(t, KDL_CPU | KDL_CUDA_HOST) {
                return Err(PyValueError::new_err(format!(
                    "from_dlpack: DLPack device type {t} is not host memory"
                )));
            }
        }
        // Ask for DLPack 1.0 first; older producers do not know the keyword.
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("max_version", (1u32, 0u32))?;
        let capsule = match x.call_method("__dlpack__", (), Some(&kwargs)) {
            Ok(c) => c,
            Err(e) if e.is_instance_of::<PyTypeError>(py) => x.call_method0("__dlpack__")?,
            Err(e) => return Err(e),
        };
        Py::new(py, PyArray::new(import(capsule)?))
    })
}

fn import(capsule: Bound<'_, PyAny>) -> PyResult<Array> {
    let cap = capsule.as_ptr();
    // SAFETY: `cap` is a live object (we hold `capsule`); IsValid checks its type and name.
    // (rill never writes the memory it imports, so a read-only flag changes nothing here.)
    let tensor: *const DLTensor = unsafe {
        if ffi::PyCapsule_IsValid(cap, VERSIONED.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(cap, VERSIONED.as_ptr())
                as *const DLManagedTensorVersioned;
            if (*m).version.major > 1 {
                return Err(PyValueError::new_err(format!(
                    "from_dlpack: DLPack version {}.{} is newer than rill reads (1.x)",
                    (*m).version.major,
                    (*m).version.minor
                )));
            }
            &(*m).dl_tensor
        } else if ffi::PyCapsule_IsValid(cap, LEGACY.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(cap, LEGACY.as_ptr()) as *const DLManagedTensor;
            &(*m).dl_tensor
        } else {
            return Err(PyValueError::new_err(
                "from_dlpack: __dlpack__ did not return an unused DLPack capsule",
            ));
        }
    };
    // SAFETY: the tensor lives as long as the capsule, which we hold; its shape (and strides,
    // when not null) have `ndim` entries, as the standard requires.
    let (dtype, shape, strides, base) = unsafe {
        let t = &*tensor;
        let dtype = rill_dtype(t.dtype).ok_or_else(|| {
            PyValueError::new_err(format!(
                "from_dlpack: DLPack dtype (code {}, {} bits, {} lanes) has no rill dtype",
                t.dtype.code, t.dtype.bits, t.dtype.lanes
            ))
        })?;
        let nd = t.ndim.max(0) as usize;
        let shape: Vec<usize> = (0..nd)
            .map(|i| *t.shape.add(i))
            .map(|d| {
                usize::try_from(d)
                    .map_err(|_| PyValueError::new_err(format!("from_dlpack: negative dim {d}")))
            })
            .collect::<PyResult<_>>()?;
        let strides: Vec<isize> = if t.strides.is_null() {
            rill_core::shape::contiguous_strides(&shape)
        } else {
            (0..nd).map(|i| *t.strides.add(i) as isize).collect()
        };
        let base = (t.data as *mut u8).wrapping_add(t.byte_offset as usize);
        (dtype, shape, strides, base)
    };
    let size = dtype.size();
    let empty = shape.contains(&0);
    // The elements' span, in elements from the first one: negative strides reach below it.
    let (mut lo, mut hi) = (0isize, 0isize);
    if !empty {
        for (&d, &s) in shape.iter().zip(&strides) {
            let reach = (d as isize - 1) * s;
            if reach < 0 {
                lo += reach;
            } else {
                hi += reach;
            }
        }
    }
    let len = if empty {
        0
    } else {
        ((hi - lo) as usize + 1) * size
    };
    let start = base.wrapping_offset(lo * size as isize);
    let owner: Box<dyn std::any::Any + Send + Sync> = Box::new(capsule.unbind());
    let nn = NonNull::new(start).unwrap_or(NonNull::dangling());
    // SAFETY: the producer guarantees `len` readable bytes at the span computed from its shape
    // and strides for as long as its tensor lives; the capsule (the owner) keeps it alive, and
    // rill never writes memory it did not allocate.
    let buffer = unsafe { Buffer::external_host(nn, len, owner) };
    let layout = Layout {
        strides,
        offset: (-lo) as usize,
    };
    Array::from_data(
        &shape,
        dtype,
        Data::new(buffer, layout),
        StreamOrDevice::Default,
    )
    .or_raise()
}
