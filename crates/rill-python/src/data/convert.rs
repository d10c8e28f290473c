//! Samples between Python and rill-data: dicts of NumPy arrays (or anything `np.asarray` takes,
//! `str` and `bytes` as uint8 bytes) in, `rill.data.Sample` dicts of NumPy arrays out.
//!
//! Both ways avoid copies: a C-contiguous NumPy array enters as a view (the sample keeps the
//! array alive), and an array leaves as a NumPy view of its memory (the view keeps the sample's
//! array alive), writable when no one else holds that memory (a fresh batch), read-only when it
//! is shared (a buffer's sample, a NumPy array lent by the user). bfloat16 leaves as
//! `ml_dtypes.bfloat16` when that package is installed, else as a float32 copy.

use numpy::npyffi::{self, npy_intp, PY_ARRAY_API};
use numpy::{Element as NpElement, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyType};
use rill_core::half::{bf16, f16};
use rill_core::num_complex::Complex32;
use rill_core::Dtype;
use rill_data::{Error, HostArray, Owner, Sample};
use std::sync::Arc;

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
static SAMPLE_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static BF16: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();

fn numpy(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    NUMPY
        .get_or_try_init(py, || {
            let np = py.import("numpy")?;
            if py.import("numpy._core.multiarray").is_err() {
                py.import("numpy.core.multiarray")?;
            }
            Ok(np.unbind())
        })
        .map(|m| m.bind(py).clone())
}

/// `ml_dtypes.bfloat16`'s NumPy dtype, when the package is installed.
fn bf16_dtype(py: Python<'_>) -> PyResult<Option<Bound<'_, PyAny>>> {
    let d = BF16.get_or_try_init(py, || -> PyResult<Option<Py<PyAny>>> {
        match py.import("ml_dtypes") {
            Ok(m) => Ok(Some(
                numpy(py)?
                    .getattr("dtype")?
                    .call1((m.getattr("bfloat16")?,))?
                    .unbind(),
            )),
            Err(_) => Ok(None),
        }
    })?;
    Ok(d.as_ref().map(|d| d.bind(py).clone()))
}

/// A NumPy array's memory, lent to a sample.
struct NumpyOwner {
    /// Keeps the array (and so its data) alive; dropped off the GIL, pyo3 defers the decref.
    _array: Py<PyAny>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the pointer addresses the data of the NumPy array `_array` keeps alive; that memory
// neither moves nor is freed while the array lives (NumPy refuses to resize an array that other
// references hold), and rill-data only reads it. Writing to the array while a pipeline reads it
// is the user's race, as with any consumer of NumPy's buffer protocol (docs/data.md says so).
unsafe impl Send for NumpyOwner {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for NumpyOwner {}

impl Owner for NumpyOwner {
    fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` and `len` describe the array's C-contiguous data, alive (see above).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

fn dtype_of(kind: u8, size: usize) -> Option<Dtype> {
    Some(match (kind, size) {
        (b'b', 1) => Dtype::Bool,
        (b'i', 1) => Dtype::Int8,
        (b'i', 2) => Dtype::Int16,
        (b'i', 4) => Dtype::Int32,
        (b'i', 8) => Dtype::Int64,
        (b'u', 1) => Dtype::Uint8,
        (b'u', 2) => Dtype::Uint16,
        (b'u', 4) => Dtype::Uint32,
        (b'u', 8) => Dtype::Uint64,
        (b'f', 2) => Dtype::Float16,
        (b'f', 4) => Dtype::Float32,
        (b'f', 8) => Dtype::Float64,
        (b'c', 8) => Dtype::Complex64,
        _ => return None,
    })
}

/// A sample's value: `str`/`bytes` as uint8 bytes, anything else through `np.asarray`.
pub fn to_host(v: &Bound<'_, PyAny>, key: &str) -> PyResult<HostArray> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(HostArray::from_text(s.to_str()?));
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(HostArray::from_bytes(b.as_bytes()));
    }
    let py = v.py();
    let np = numpy(py)?;
    let kw = PyDict::new(py);
    kw.set_item("order", "C")?;
    let mut arr = np.call_method("asarray", (v,), Some(&kw))?;
    let mut descr = arr.cast::<PyUntypedArray>()?.dtype();
    if descr.is_native_byteorder() == Some(false) {
        arr = arr.call_method1("astype", (descr.call_method1("newbyteorder", ("=",))?,))?;
        descr = arr.cast::<PyUntypedArray>()?.dtype();
    }
    let is_bf16 = match bf16_dtype(py)? {
        Some(b) => descr.as_any().eq(b)?,
        None => false,
    };
    let dtype = if is_bf16 {
        Dtype::Bfloat16
    } else {
        dtype_of(descr.kind(), descr.itemsize()).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "key '{key}': a sample cannot hold a value of type {} (NumPy dtype {}); \
                 give arrays of bool, integers, floats or complex64, or str/bytes",
                v.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                descr
            ))
        })?
    };
    let a = arr.cast::<PyUntypedArray>()?;
    let shape = a.shape().to_vec();
    let len = a.len() * dtype.size();
    // SAFETY: `as_array_ptr` is a live array object (bound above); its `data` field is the
    // address of its first element.
    let ptr = unsafe { (*a.as_array_ptr()).fields.data as *const u8 };
    let owner = NumpyOwner {
        _array: arr.clone().unbind(),
        ptr,
        len,
    };
    HostArray::from_owner(dtype, shape, Arc::new(owner))
        .map_err(|e| PyValueError::new_err(format!("key '{key}': {e}")))
}

/// A Python mapping of str keys as a sample.
pub fn to_sample(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Sample> {
    let d = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what}: a sample is a dict of str keys to arrays, got {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let mut s = Sample::new();
    for (k, v) in d.iter() {
        let key: String = k.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what}: sample keys must be str, got {}",
                k.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })?;
        let a = to_host(&v, &key)?;
        s.insert(key, a);
    }
    Ok(s)
}

/// Keeps a sample's array alive while a NumPy view of it exists (the view's `base`).
#[pyclass(name = "_SampleMemory", module = "rill.data", frozen)]
pub struct SampleMemory {
    _array: HostArray,
}

fn descr_of<T: NpElement>(py: Python<'_>) -> *mut npyffi::PyArray_Descr {
    T::get_dtype(py).into_dtype_ptr()
}

/// A NumPy view of `a` (see the module doc for when it is writable).
pub fn to_numpy(py: Python<'_>, mut a: HostArray) -> PyResult<Bound<'_, PyAny>> {
    numpy(py)?;
    let descr = match a.dtype() {
        Dtype::Bool => descr_of::<bool>(py),
        Dtype::Uint8 => descr_of::<u8>(py),
        Dtype::Uint16 => descr_of::<u16>(py),
        Dtype::Uint32 => descr_of::<u32>(py),
        Dtype::Uint64 => descr_of::<u64>(py),
        Dtype::Int8 => descr_of::<i8>(py),
        Dtype::Int16 => descr_of::<i16>(py),
        Dtype::Int32 => descr_of::<i32>(py),
        Dtype::Int64 => descr_of::<i64>(py),
        Dtype::Float16 => descr_of::<f16>(py),
        Dtype::Float32 => descr_of::<f32>(py),
        Dtype::Float64 => descr_of::<f64>(py),
        Dtype::Complex64 => descr_of::<Complex32>(py),
        Dtype::Bfloat16 => match bf16_dtype(py)? {
            Some(d) => d.into_ptr() as *mut npyffi::PyArray_Descr,
            None => {
                let v: Vec<f32> = a
                    .to_vec::<bf16>()
                    .expect("the dtype is bfloat16")
                    .into_iter()
                    .map(f32::from)
                    .collect();
                let flat = numpy::PyArray1::from_vec(py, v);
                return flat.call_method1("reshape", (a.shape().to_vec(),));
            }
        },
    };
    let dims: Vec<npy_intp> = a.shape().iter().map(|&d| d as npy_intp).collect();
    let writable = a.bytes_mut().map(|b| b.as_mut_ptr());
    let (ptr, flags) = match writable {
        Some(p) => (p, npyffi::NPY_ARRAY_WRITEABLE),
        None => (a.bytes().as_ptr() as *mut u8, 0),
    };
    let owner = Py::new(py, SampleMemory { _array: a })?;
    // SAFETY: `descr` is a new reference that PyArray_NewFromDescr steals; `dims` has `ndim`
    // entries and the memory at `ptr` holds the C-ordered array they describe (null strides:
    // NumPy computes C strides). The memory belongs to the array moved into `owner`, which
    // SetBaseObject (stealing the reference) ties to the view's lifetime. The view is writable
    // only when `bytes_mut` gave exclusive access, and nothing else uses that memory afterwards.
    unsafe {
        let arr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            descr,
            dims.len() as std::os::raw::c_int,
            dims.as_ptr() as *mut npy_intp,
            std::ptr::null_mut(),
            ptr as *mut std::ffi::c_void,
            flags,
            std::ptr::null_mut(),
        );
        if arr.is_null() {
            return Err(PyErr::fetch(py));
        }
        if PY_ARRAY_API.PyArray_SetBaseObject(
            py,
            arr as *mut npyffi::PyArrayObject,
            owner.into_ptr(),
        ) != 0
        {
            pyo3::ffi::Py_DecRef(arr);
            return Err(PyErr::fetch(py));
        }
        Ok(Bound::from_owned_ptr(py, arr))
    }
}

/// `rill.data.Sample`, the dict class of the samples and batches given to Python.
pub fn sample_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    SAMPLE_CLASS
        .get_or_try_init(py, || {
            Ok(py
                .import("rill.data")?
                .getattr("Sample")?
                .cast_into::<PyType>()?
                .unbind())
        })
        .map(|t| t.bind(py))
}

/// A sample as a `rill.data.Sample` of NumPy arrays.
pub fn from_sample(py: Python<'_>, s: Sample) -> PyResult<Bound<'_, PyAny>> {
    let d = sample_class(py)?.call0()?;
    for (k, a) in s {
        d.set_item(k, to_numpy(py, a)?)?;
    }
    Ok(d)
}

/// The Python exception for a pipeline error. A callback's own exception is raised again, with
/// a note naming the step and the sample.
pub fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Callback { source, .. } => match source.downcast_ref::<PyErr>() {
            Some(err) => {
                let err = err.clone_ref(py);
                // add_note exists from Python 3.11; on 3.10 the exception stays as it was.
                let _ = err.value(py).call_method1("add_note", (msg,));
                err
            }
            None => PyRuntimeError::new_err(msg),
        },
        Error::MissingKey { .. } => PyKeyError::new_err(msg),
        Error::Sample { .. } | Error::Argument { .. } => PyValueError::new_err(msg),
        Error::Index { .. } => pyo3::exceptions::PyIndexError::new_err(msg),
        Error::File { .. } | Error::Panic { .. } | Error::Thread { .. } => {
            PyRuntimeError::new_err(msg)
        }
    }
}

/// A Python error as a callback's error (to travel through rill-data and come back whole).
pub fn boxed(e: PyErr) -> rill_data::BoxError {
    Arc::new(e)
}
