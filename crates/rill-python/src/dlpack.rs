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
//! GPU memory goes both ways too (`rill_core::interop` holds the rules): an exported GPU array
//! makes the consumer's stream wait for its producer on the device, and its memory is freed only
//! after the consumer's work; CUDA memory is borrowed for a rill GPU stream whose handle the
//! producer is given, and given back once rill's work on it has finished.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use rill_core::interop::{self, Lent, Queue};
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

/// A DLPack managed tensor, legacy or versioned: its capsule name and its fields for rill.
trait Managed: Sized {
    const NAME: &'static CStr;
    /// The tensor over `dl_tensor`, its deleter set, its context still null.
    fn over(dl_tensor: DLTensor) -> Self;
    fn context(&self) -> *mut c_void;
    fn set_context(&mut self, ctx: *mut c_void);
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)>;
}

impl Managed for DLManagedTensor {
    const NAME: &'static CStr = LEGACY;
    fn over(dl_tensor: DLTensor) -> Self {
        DLManagedTensor {
            dl_tensor,
            manager_ctx: std::ptr::null_mut(),
            deleter: Some(delete::<DLManagedTensor>),
        }
    }
    fn context(&self) -> *mut c_void {
        self.manager_ctx
    }
    fn set_context(&mut self, ctx: *mut c_void) {
        self.manager_ctx = ctx;
    }
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

impl Managed for DLManagedTensorVersioned {
    const NAME: &'static CStr = VERSIONED;
    fn over(dl_tensor: DLTensor) -> Self {
        DLManagedTensorVersioned {
            version: DLPackVersion { major: 1, minor: 0 },
            manager_ctx: std::ptr::null_mut(),
            deleter: Some(delete::<DLManagedTensorVersioned>),
            flags: READ_ONLY,
            dl_tensor,
        }
    }
    fn context(&self) -> *mut c_void {
        self.manager_ctx
    }
    fn set_context(&mut self, ctx: *mut c_void) {
        self.manager_ctx = ctx;
    }
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

/// What an exported tensor points into (the lent memory, which goes back to rill when this
/// drops), and the tensor itself (at a stable address: boxed).
struct Exported<T> {
    _lent: Lent,
    shape: Vec<i64>,
    strides: Vec<i64>,
    tensor: T,
}

unsafe extern "C" fn delete<T: Managed>(t: *mut T) {
    // SAFETY: the context is the box `export` leaked for this tensor; the standard calls the
    // deleter once, so the box is freed once. Dropping it touches no Python object.
    unsafe { drop(Box::from_raw((*t).context() as *mut Exported<T>)) }
}

/// Frees the tensor of `capsule` if it is still under `T`'s name (nobody took it).
///
/// # Safety
/// `capsule` is a live capsule, with the GIL held.
unsafe fn free_untaken<T: Managed>(capsule: *mut ffi::PyObject) {
    // SAFETY: IsValid checks the type and the name; under its first name the capsule holds a
    // live `T` made by `export`.
    unsafe {
        if ffi::PyCapsule_IsValid(capsule, T::NAME.as_ptr()) == 1 {
            let t = ffi::PyCapsule_GetPointer(capsule, T::NAME.as_ptr()) as *mut T;
            if let Some(d) = (*t).deleter() {
                d(t);
            }
        }
    }
}

/// The capsule's destructor: frees the tensor unless a consumer took it (renamed the capsule).
unsafe extern "C" fn capsule_destructor(capsule: *mut ffi::PyObject) {
    // SAFETY: Python calls this with the dying capsule, holding the GIL.
    unsafe {
        free_untaken::<DLManagedTensor>(capsule);
        free_untaken::<DLManagedTensorVersioned>(capsule);
    }
}

/// A capsule holding a `T` over the lent memory of `a`, on DLPack device `device`.
fn export<'py, T: Managed>(
    py: Python<'py>,
    lent: Lent,
    a: &Array,
    device: DLDevice,
) -> PyResult<Bound<'py, PyAny>> {
    let data = lent.data();
    let offset = if a.size() == 0 {
        0
    } else {
        data.layout.offset * a.itemsize()
    };
    let mut ex = Box::new(Exported {
        shape: a.shape().iter().map(|&d| d as i64).collect(),
        strides: data.layout.strides.iter().map(|&s| s as i64).collect(),
        _lent: lent,
        tensor: T::over(empty_tensor()),
    });
    let dl = DLTensor {
        // Data pointer plus byte_offset is the first element; the pointer stays the buffer's own
        // (a device address for device memory).
        data: ex._lent.data().buffer.as_ptr() as *mut c_void,
        device,
        ndim: a.ndim() as i32,
        dtype: dl_dtype(a.dtype()),
        shape: ex.shape.as_mut_ptr(),
        strides: ex.strides.as_mut_ptr(),
        byte_offset: offset as u64,
    };
    ex.tensor = T::over(dl);
    let raw = Box::into_raw(ex);
    // SAFETY: `raw` is the box just leaked; the tensor points back at its own box so the deleter
    // can free it (its shape and strides live in the box's vectors, which do not move).
    let ptr = unsafe {
        (*raw).tensor.set_context(raw as *mut c_void);
        &mut (*raw).tensor as *mut T as *mut c_void
    };
    // SAFETY: `ptr` is a live tensor owned by its box until its deleter runs; the name is a
    // static string; the destructor frees the tensor only if no consumer took it.
    let capsule = unsafe { ffi::PyCapsule_New(ptr, T::NAME.as_ptr(), Some(capsule_destructor)) };
    if capsule.is_null() {
        // SAFETY: the capsule was not made, so nothing else frees the tensor.
        unsafe { delete::<T>(ptr as *mut T) };
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `capsule` is a new reference.
    Ok(unsafe { Bound::from_owned_ptr(py, capsule) })
}

/// The consumer's queue from `__dlpack__`'s `stream` for an array on a CUDA device: the standard
/// reads None as the legacy default stream (1), -1 as "do not synchronize", and refuses 0.
fn consumer_queue(stream: Option<&Bound<'_, PyAny>>) -> PyResult<Queue> {
    let Some(s) = stream.filter(|s| !s.is_none()) else {
        return Ok(Queue::Raw(1));
    };
    let v: i64 = s.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "__dlpack__: stream must be an integer (a CUDA stream handle) or None, not {}",
            s.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    match v {
        -1 => Ok(Queue::Unordered),
        0 => Err(PyValueError::new_err(
            "__dlpack__: stream=0 is ambiguous for CUDA and not allowed (1: the legacy default stream, 2: the per-thread default stream)",
        )),
        v if v > 0 => Ok(Queue::Raw(v as usize)),
        v => Err(PyValueError::new_err(format!(
            "__dlpack__: stream={v} is not a CUDA stream handle"
        ))),
    }
}

#[pymethods]
impl PyArray {
    /// A DLPack capsule of the array's memory (no copy). `max_version >= (1, 0)` gets the
    /// versioned form, flagged read-only. For an array on a GPU, the consumer's `stream` waits on
    /// the device for the array's producer (the host does not), and the memory is freed only
    /// after the work the consumer queued there.
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
            let on = a.stream().device();
            let here = match on.kind {
                DeviceType::Cpu => (KDL_CPU, 0),
                DeviceType::Gpu => (KDL_CUDA, on.index as i32),
            };
            let wanted = dl_device.unwrap_or(here);
            let (a, device, queue) = if wanted == here {
                let queue = if on.kind == DeviceType::Cpu {
                    // CPU producers take no stream: None, or -1 ("no synchronization").
                    if let Some(s) = stream {
                        if !s.is_none() && s.extract::<i64>().ok() != Some(-1) {
                            return Err(PyValueError::new_err(
                                "__dlpack__: a CPU array takes stream=None (a stream is for GPU memory)",
                            ));
                        }
                    }
                    Queue::Unordered
                } else {
                    consumer_queue(stream)?
                };
                (a, here, queue)
            } else if wanted.0 == KDL_CPU && copy != Some(false) {
                // A host copy of a GPU array, as the standard allows when the consumer asks for
                // the host and permits a copy.
                let c = rill_core::ops::copy(&a, rill_core::Device::cpu()).or_raise()?;
                (c, (KDL_CPU, 0), Queue::Unordered)
            } else {
                return Err(PyBufferError::new_err(format!(
                    "__dlpack__: cannot export an array on {on} to DLPack device {wanted:?}{}",
                    if wanted.0 == KDL_CPU {
                        " without a copy (copy=False)"
                    } else {
                        ""
                    }
                )));
            };
            let copied = copy == Some(true) && device == here;
            let lent = py
                .detach(|| interop::lend("__dlpack__", &a, queue, copied))
                .or_raise()?;
            let device = DLDevice {
                device_type: device.0,
                device_id: device.1,
            };
            if max_version.is_some_and(|(major, _)| major >= 1) {
                export::<DLManagedTensorVersioned>(py, lent, &a, device)
            } else {
                export::<DLManagedTensor>(py, lent, &a, device)
            }
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

/// An array over the memory of any object with `__dlpack__` (NumPy, PyTorch, JAX, CuPy), without
/// a copy; it keeps the producer's memory alive while rill uses it. CUDA memory is borrowed for
/// the default stream of its GPU (or `stream`, a GPU stream of that device): the producer is
/// handed that stream's handle, and orders its own work before it, as the standard's handshake
/// says.
#[pyfunction]
#[pyo3(signature = (x, *, stream = None))]
pub fn from_dlpack(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    stream: Option<crate::stream::StreamArg>,
) -> PyResult<Py<PyArray>> {
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
        let (kind, id): (i32, i32) = if x.hasattr("__dlpack_device__")? {
            x.call_method0("__dlpack_device__")?.extract()?
        } else {
            (KDL_CPU, 0)
        };
        // The stream rill will read the memory on, and the producer's part of the handshake.
        let target = match kind {
            KDL_CPU | KDL_CUDA_HOST => None,
            KDL_CUDA => {
                let device = rill_core::Device::gpu(usize::try_from(id).unwrap_or(usize::MAX));
                if !rill_core::is_available(device) {
                    return Err(PyValueError::new_err(format!(
                        "from_dlpack: the tensor is in the memory of CUDA device {id}, and rill has no GPU {id} here; copy it to the host first (e.g. tensor.cpu())"
                    )));
                }
                let s = match stream {
                    Some(s) => s.0,
                    None => StreamOrDevice::Device(device),
                }
                .resolve("from_dlpack")
                .or_raise()?;
                if s.device() != device {
                    return Err(PyValueError::new_err(format!(
                        "from_dlpack: the memory is on {device}, but the stream given is {s} on {}",
                        s.device()
                    )));
                }
                let queue = interop::raw_queue(s).ok_or_else(|| {
                    PyValueError::new_err(format!("from_dlpack: {s} has no CUDA stream"))
                })?;
                Some((s, queue))
            }
            KDL_CUDA_MANAGED => {
                return Err(PyValueError::new_err(
                    "from_dlpack: CUDA managed memory is not borrowed; copy it to the device or the host first",
                ))
            }
            t => {
                return Err(PyValueError::new_err(format!(
                    "from_dlpack: DLPack device type {t} is neither host memory nor a CUDA device"
                )))
            }
        };
        // Ask for DLPack 1.0 first; older producers do not know the keyword.
        let kwargs = pyo3::types::PyDict::new(py);
        if let Some((_, queue)) = target {
            kwargs.set_item("stream", queue)?;
        }
        kwargs.set_item("max_version", (1u32, 0u32))?;
        let capsule = match x.call_method("__dlpack__", (), Some(&kwargs)) {
            Ok(c) => c,
            Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                kwargs.del_item("max_version")?;
                x.call_method("__dlpack__", (), Some(&kwargs))?
            }
            Err(e) => return Err(e),
        };
        Py::new(py, PyArray::new(import(capsule, target.map(|(s, _)| s))?))
    })
}

/// The array over the tensor in `capsule`: host memory, or device memory borrowed for `on`.
fn import(capsule: Bound<'_, PyAny>, on: Option<rill_core::Stream>) -> PyResult<Array> {
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
    let (dtype, shape, strides, base, device) = unsafe {
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
        (dtype, shape, strides, base, t.device)
    };
    let expected = match on {
        None => [KDL_CPU, KDL_CUDA_HOST].contains(&device.device_type),
        Some(s) => device.device_type == KDL_CUDA && device.device_id as usize == s.device().index,
    };
    if !expected {
        return Err(PyValueError::new_err(format!(
            "from_dlpack: the tensor is on DLPack device ({}, {}), not the one __dlpack_device__ named",
            device.device_type, device.device_id
        )));
    }
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
    let layout = Layout {
        strides,
        offset: (-lo) as usize,
    };
    let (buffer, s) = match on {
        None => {
            let nn = NonNull::new(start).unwrap_or(NonNull::dangling());
            // SAFETY: the producer guarantees `len` readable bytes at the span computed from its
            // shape and strides for as long as its tensor lives; the capsule (the owner) keeps
            // it alive, and rill never writes memory it did not allocate.
            let b = unsafe { Buffer::external_host(nn, len, owner) };
            (b, StreamOrDevice::Default)
        }
        Some(s) => {
            if empty {
                // Nothing to borrow: an empty array of the shape, on the stream.
                return rill_core::ops::zeros(&shape, dtype, s).or_raise();
            }
            // SAFETY: as above, on the device; the producer ordered its writes before the work
            // rill queues on `s` (it was handed `s`'s handle by `from_dlpack`).
            let b = unsafe { interop::borrow_device("from_dlpack", s, start as usize, len, owner) }
                .or_raise()?;
            (b, StreamOrDevice::Stream(s))
        }
    };
    Array::from_data(&shape, dtype, Data::new(buffer, layout), s).or_raise()
}
