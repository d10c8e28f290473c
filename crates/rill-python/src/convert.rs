//! Python values to arrays and back: scalars, nested lists, NumPy arrays.
//!
//! Type inference follows MLX: a Python `bool` makes bool, an `int` int32 (int64 when a value does
//! not fit), a `float` float32, a `complex` complex64; a list takes the promotion of its elements
//! (arrays inside it keep their dtype). NumPy arrays keep their dtype except float64, which
//! becomes float32 unless `dtype=` asks otherwise (MLX does the same, as GPUs lack float64).
//!
//! Leaving rill, `np.asarray(a)` is a read-only view of the array's memory (no copy): rill arrays
//! are immutable and may share their buffer with other arrays. `np.array(a)` copies.

use crate::array::PyArray;
use crate::errors::OrRaise;
use numpy::npyffi::{self, npy_intp, PY_ARRAY_API};
use numpy::{
    Element as NpElement, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyComplex, PyFloat, PyInt, PyList, PyTuple, PyType};
use rill_core::half::{bf16, f16};
use rill_core::memory::Data;
use rill_core::num_complex::Complex32;
use rill_core::{dispatch_dtype, Array, Dtype, Element, Scalar, StreamOrDevice};

static NUMPY_GENERIC: PyOnceLock<Py<PyType>> = PyOnceLock::new();

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// NumPy, imported with its C API's module, so that a failure while they load (Ctrl-C during the
/// first conversion: `KeyboardInterrupt`) is raised here. The `numpy` crate imports the C API on
/// its first use too, but panics if that fails; once this has succeeded both modules are loaded
/// and its import cannot fail. Every path that touches the `numpy` crate calls this first.
fn numpy(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    NUMPY
        .get_or_try_init(py, || {
            let np = py.import("numpy")?;
            // NumPy 2 keeps the C API in `numpy._core`, NumPy 1 in `numpy.core`.
            if py.import("numpy._core.multiarray").is_err() {
                py.import("numpy.core.multiarray")?;
            }
            Ok(np.unbind())
        })
        .map(|m| m.bind(py).clone())
}

/// Whether `obj` is a NumPy array (NumPy is imported first: see [`numpy`]).
pub fn is_numpy_array(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    numpy(obj.py())?;
    Ok(obj.cast::<PyUntypedArray>().is_ok())
}

/// A Python number as a scalar: `bool`, `int`, `float`, `complex`, or a NumPy scalar. None for
/// anything else. An `int` beyond 64 bits raises `OverflowError`.
pub fn py_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Some(Scalar::Bool(b.is_true())));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Some(Scalar::Int(i)));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Some(Scalar::UInt(u)));
        }
        return Err(PyOverflowError::new_err(format!(
            "Python int {obj} is too large for any integer dtype"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Some(Scalar::Float(f.value())));
    }
    if let Ok(c) = obj.cast::<PyComplex>() {
        return Ok(Some(Scalar::Complex(c.real() as f32, c.imag() as f32)));
    }
    let py = obj.py();
    // NumPy scalars (np.float32(1), np.int64(2), np.bool_(True)) behave like Python numbers, as
    // in MLX. Only look NumPy up when the object comes from it, so plain objects stay cheap.
    if is_from_numpy(obj) {
        let generic = NUMPY_GENERIC.import(py, "numpy", "generic")?;
        if obj.is_instance(generic)? {
            let item = obj.call_method0("item")?;
            if !item.is(obj) {
                return py_scalar(&item);
            }
        }
    }
    Ok(None)
}

fn is_from_numpy(obj: &Bound<'_, PyAny>) -> bool {
    obj.get_type()
        .module()
        .map(|m| {
            m.to_str()
                .map(|s| s == "numpy" || s.starts_with("numpy."))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// A 0-d array holding `s` as `dtype`, made at once on the host (no op to run later).
pub fn scalar_array(s: Scalar, dtype: Dtype, stream: StreamOrDevice) -> PyResult<Array> {
    rill_core::ops::scalar_array(s, dtype, stream).or_raise()
}

/// A scalar typed weakly against `other`, checked for integer overflow: the core's rule
/// (`ops::weak_scalar`), which Node's operators use too.
pub fn weak_scalar(other: &Array, s: Scalar, stream: StreamOrDevice) -> PyResult<Array> {
    rill_core::ops::weak_scalar(other, s, stream).or_raise()
}

/// [`weak_scalar`] for an operand an op consumes at once (`ops::weak_operand`: bytes shared per
/// thread).
pub fn weak_operand(other: &Array, s: Scalar, stream: StreamOrDevice) -> PyResult<Array> {
    rill_core::ops::weak_operand(other, s, stream).or_raise()
}

/// An array from any value `array()` accepts, converted to `dtype` when given.
pub fn to_array(obj: &Bound<'_, PyAny>, dtype: Option<Dtype>) -> PyResult<Array> {
    if let Ok(a) = obj.cast::<PyArray>() {
        let a = a.get().get();
        return match dtype {
            Some(d) => rill_core::ops::astype(&a, d, ()).or_raise(),
            None => Ok(a),
        };
    }
    // NumPy scalars keep their NumPy dtype here (`array(np.int64(7))` is int64), as in MLX; in
    // binary ops they are weak like Python numbers (see `py_scalar`).
    if is_from_numpy(obj) {
        return from_numpy(obj, dtype, None);
    }
    if let Some(s) = py_scalar(obj)? {
        return scalar_array(
            s,
            dtype.unwrap_or_else(|| s.lone_dtype()),
            StreamOrDevice::Default,
        );
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return from_nested(obj, dtype);
    }
    if is_numpy_array(obj)? || is_array_like(obj)? {
        return from_numpy(obj, dtype, None);
    }
    // Anything else that exports the buffer protocol (`array.array`, `mmap`, ctypes arrays):
    // through a memoryview, whose format NumPy reads, as MLX accepts them.
    if let Ok(view) = memoryview(obj) {
        return from_numpy(&view, dtype, None);
    }
    Err(PyValueError::new_err(format!(
        "Invalid type {} received in array initialization.",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

/// Objects NumPy can turn into an array without guessing: those with `__array__` or
/// `__array_interface__`, and buffers (bytes, memoryview, array.array).
fn is_array_like(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if obj.hasattr("__array__")? || obj.hasattr("__array_interface__")? {
        return Ok(true);
    }
    Ok(obj.is_instance_of::<pyo3::types::PyBytes>()
        || obj.is_instance_of::<pyo3::types::PyByteArray>()
        || obj.is_instance_of::<pyo3::types::PyMemoryView>())
}

/// `memoryview(obj)`: fails with `TypeError` for an object without the buffer protocol (the
/// limited C API has no cheaper test for it).
fn memoryview<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    obj.py()
        .get_type::<pyo3::types::PyMemoryView>()
        .call1((obj,))
}

/// State of a walk over nested lists: the shape found so far and the leaves in row-major order.
struct Nested {
    shape: Vec<usize>,
    /// The depth at which leaves sit, once one has been seen.
    leaf_depth: Option<usize>,
    leaves: Vec<Scalar>,
    /// The promoted dtype of the Python scalars other than integers, and of the arrays seen.
    scalar_dtype: Option<Dtype>,
    /// The smallest and largest Python integer seen: their dtype depends on all of them
    /// (`[2**63, 1]` is uint64, `[2**31, -1]` int64), not on each alone.
    int_range: Option<(i128, i128)>,
    array_dtype: Option<Dtype>,
}

fn non_uniform() -> PyErr {
    PyValueError::new_err("Initialization encountered non-uniform length.")
}

impl Nested {
    /// Records a dimension of length `n` at `depth`, or checks it against the one recorded.
    fn dim(&mut self, depth: usize, n: usize) -> PyResult<()> {
        if depth < self.shape.len() {
            if self.shape[depth] != n {
                return Err(non_uniform());
            }
        } else if self.leaf_depth.is_some() {
            return Err(non_uniform());
        } else {
            self.shape.push(n);
        }
        Ok(())
    }

    fn leaf_at(&mut self, depth: usize) -> PyResult<()> {
        match self.leaf_depth {
            Some(d) if d != depth => Err(non_uniform()),
            Some(_) => Ok(()),
            None if depth != self.shape.len() => Err(non_uniform()),
            None => {
                self.leaf_depth = Some(depth);
                Ok(())
            }
        }
    }

    /// Walks `root` in row-major order without recursing (a list nested 10 000 deep is fine, as
    /// in MLX): a stack of what to visit next, with a marker to leave each list, so the lists on
    /// the current path are known and a list that contains itself raises `ValueError` instead of
    /// growing the shape forever.
    fn walk(&mut self, root: &Bound<'_, PyAny>) -> PyResult<()> {
        enum Step<'py> {
            Visit(Bound<'py, PyAny>, usize),
            Leave(usize),
        }
        let mut path = std::collections::HashSet::new();
        let mut todo = vec![Step::Visit(root.clone(), 0)];
        while let Some(step) = todo.pop() {
            let (obj, depth) = match step {
                Step::Leave(id) => {
                    path.remove(&id);
                    continue;
                }
                Step::Visit(obj, depth) => (obj, depth),
            };
            let items: Option<Vec<Bound<'_, PyAny>>> = if let Ok(l) = obj.cast::<PyList>() {
                Some(l.iter().collect())
            } else if let Ok(t) = obj.cast::<PyTuple>() {
                Some(t.iter().collect())
            } else {
                None
            };
            match items {
                Some(items) => {
                    let id = obj.as_ptr() as usize;
                    if !path.insert(id) {
                        return Err(PyValueError::new_err(format!(
                            "[array] the input contains itself (a list or tuple that refers to itself, at depth {depth}), so it has no shape"
                        )));
                    }
                    self.dim(depth, items.len())?;
                    todo.push(Step::Leave(id));
                    todo.extend(items.into_iter().rev().map(|x| Step::Visit(x, depth + 1)));
                }
                None => self.leaf(&obj, depth)?,
            }
        }
        Ok(())
    }

    /// A leaf of the walk: a rill array or a Python number.
    fn leaf(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
        if let Ok(a) = obj.cast::<PyArray>() {
            let a = a.get().get();
            for (i, &n) in a.shape().iter().enumerate() {
                self.dim(depth + i, n)?;
            }
            self.leaf_at(depth + a.ndim())?;
            obj.py().detach(|| a.eval()).or_raise()?;
            let dt = a.dtype();
            self.array_dtype = Some(
                self.array_dtype
                    .map_or(dt, |d| rill_core::promote_types(d, dt)),
            );
            dispatch_dtype!(dt, T => {
                let v = a.to_vec::<T>().or_raise()?;
                self.leaves.extend(v.into_iter().map(|x| x.to_scalar()));
            });
            return Ok(());
        }
        match py_scalar(obj)? {
            Some(s @ (Scalar::Int(_) | Scalar::UInt(_))) => {
                self.leaf_at(depth)?;
                let v = match s {
                    Scalar::Int(i) => i as i128,
                    Scalar::UInt(u) => u as i128,
                    _ => unreachable!("matched above"),
                };
                self.int_range = Some(
                    self.int_range
                        .map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))),
                );
                self.leaves.push(s);
                Ok(())
            }
            Some(s) => {
                self.leaf_at(depth)?;
                let dt = s.lone_dtype();
                self.scalar_dtype = Some(
                    self.scalar_dtype
                        .map_or(dt, |d| rill_core::promote_types(d, dt)),
                );
                self.leaves.push(s);
                Ok(())
            }
            None => Err(PyValueError::new_err(format!(
                "Invalid type {} received in array initialization.",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))),
        }
    }
}

/// An array from nested lists and tuples of numbers and arrays.
fn from_nested(obj: &Bound<'_, PyAny>, dtype: Option<Dtype>) -> PyResult<Array> {
    let mut st = Nested {
        shape: vec![],
        leaf_depth: None,
        leaves: vec![],
        scalar_dtype: None,
        int_range: None,
        array_dtype: None,
    };
    st.walk(obj)?;
    if let Some((lo, hi)) = st.int_range {
        let ints = Dtype::for_int_values(lo, hi).ok_or_else(|| {
            PyOverflowError::new_err(format!(
                "[array] the integers in the input range from {lo} to {hi}: no integer dtype holds them all"
            ))
        })?;
        st.scalar_dtype = Some(
            st.scalar_dtype
                .map_or(ints, |d| rill_core::promote_types(d, ints)),
        );
    }
    let inferred = match (st.scalar_dtype, st.array_dtype) {
        (Some(a), Some(b)) => rill_core::promote_types(a, b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => Dtype::Float32,
    };
    let dtype = dtype.unwrap_or(inferred);
    let shape = st.shape;
    dispatch_dtype!(dtype, T => {
        let v: Vec<T> = st.leaves.into_iter().map(T::from_scalar).collect();
        Array::from_slice(&v, &shape).or_raise()
    })
}

/// The NumPy dtype name an array of `d` is read from (bfloat16, which NumPy lacks, via float32).
fn numpy_name(d: Dtype) -> &'static str {
    match d {
        Dtype::Bfloat16 => "float32",
        Dtype::Bool => "bool",
        other => other.name(),
    }
}

/// The rill dtype of a NumPy dtype (kind and item size), as MLX maps them: float64 becomes
/// float32 and complex128 complex64 unless asked otherwise.
fn from_numpy_dtype(kind: u8, size: usize) -> Option<Dtype> {
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
        (b'f', 4) | (b'f', 8) => Dtype::Float32,
        (b'c', 8) | (b'c', 16) => Dtype::Complex64,
        _ => return None,
    })
}

/// An array from a NumPy array (or anything `np.asarray` takes), copied into rill's memory.
/// `like` supplies the dtype when the array meets a rill array in a binary op (MLX converts it to
/// that array's dtype).
pub fn from_numpy(
    obj: &Bound<'_, PyAny>,
    dtype: Option<Dtype>,
    like: Option<Dtype>,
) -> PyResult<Array> {
    let py = obj.py();
    let np = numpy(py)?;
    // Bytes are uint8 elements (MLX's `array(b"...")`), not one NumPy string: read them through
    // a memoryview (format "B").
    let arr = if obj.is_instance_of::<pyo3::types::PyBytes>()
        || obj.is_instance_of::<pyo3::types::PyByteArray>()
    {
        np.call_method1("asarray", (memoryview(obj)?,))?
    } else {
        np.call_method1("asarray", (obj,))?
    };
    let arr = arr.cast::<PyUntypedArray>()?;
    let descr = arr.dtype();
    let (kind, size) = (descr.kind(), descr.itemsize());
    let target = match dtype.or(like) {
        Some(d) => d,
        None => from_numpy_dtype(kind, size).ok_or_else(|| {
            PyValueError::new_err(format!(
                "Cannot convert a NumPy array of dtype {} to a rill array.",
                descr
            ))
        })?,
    };
    if like.is_some() && dtype.is_none() && from_numpy_dtype(kind, size).is_none() {
        return Err(PyValueError::new_err(format!(
            "Cannot convert a NumPy array of dtype {} to a rill array.",
            descr
        )));
    }
    // NumPy converts and makes the data C-contiguous (copying only when needed); then one copy
    // into rill's allocator.
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", numpy_name(target))?;
    kwargs.set_item("order", "C")?;
    let mut host = np.call_method("asarray", (arr,), Some(&kwargs))?;
    // A misaligned view (`np.frombuffer(buf, np.float32, offset=3)`, common when parsing headers)
    // cannot be read as a slice of its elements: NumPy copies it into aligned memory first.
    if !host
        .getattr("flags")?
        .getattr("aligned")?
        .extract::<bool>()?
    {
        host = host.call_method0("copy")?;
    }
    let shape: Vec<usize> = host.cast::<PyUntypedArray>()?.shape().to_vec();
    fn copy<T: NpElement + Element>(host: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<Array> {
        let a = host.cast::<PyArrayDyn<T>>()?.readonly();
        let s = a
            .as_slice()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Array::from_slice(s, shape).or_raise()
    }
    match target {
        Dtype::Bool => copy::<bool>(&host, &shape),
        Dtype::Uint8 => copy::<u8>(&host, &shape),
        Dtype::Uint16 => copy::<u16>(&host, &shape),
        Dtype::Uint32 => copy::<u32>(&host, &shape),
        Dtype::Uint64 => copy::<u64>(&host, &shape),
        Dtype::Int8 => copy::<i8>(&host, &shape),
        Dtype::Int16 => copy::<i16>(&host, &shape),
        Dtype::Int32 => copy::<i32>(&host, &shape),
        Dtype::Int64 => copy::<i64>(&host, &shape),
        Dtype::Float16 => copy::<f16>(&host, &shape),
        Dtype::Float32 => copy::<f32>(&host, &shape),
        Dtype::Float64 => copy::<f64>(&host, &shape),
        Dtype::Complex64 => copy::<Complex32>(&host, &shape),
        Dtype::Bfloat16 => {
            let a = host.cast::<PyArrayDyn<f32>>()?.readonly();
            let s = a
                .as_slice()
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            let v: Vec<bf16> = s.iter().map(|&x| bf16::from_f32(x)).collect();
            Array::from_slice(&v, &shape).or_raise()
        }
    }
}

/// Keeps an array's buffer alive while a NumPy view of it exists (the view's `base`).
#[pyclass(name = "_BufferOwner", module = "rill.core", frozen)]
pub struct BufferOwner {
    _data: Data,
}

/// A read-only NumPy view of an evaluated array's memory (bfloat16 arrays, which NumPy cannot
/// hold, come back as a float32 copy).
pub fn to_numpy<'py>(py: Python<'py>, a: &Array) -> PyResult<Bound<'py, PyAny>> {
    numpy(py)?;
    py.detach(|| a.eval()).or_raise()?;
    if a.dtype() == Dtype::Bfloat16 {
        let v: Vec<f32> = a
            .to_vec::<bf16>()
            .or_raise()?
            .into_iter()
            .map(f32::from)
            .collect();
        let flat = numpy::PyArray1::from_vec(py, v);
        return flat.reshape(a.shape().to_vec()).map(|x| x.into_any());
    }
    let data = py.detach(|| a.host_data()).or_raise()?;
    let descr = dispatch_np_descr(py, a.dtype());
    let itemsize = a.itemsize() as isize;
    let dims: Vec<npy_intp> = a.shape().iter().map(|&d| d as npy_intp).collect();
    let strides: Vec<npy_intp> = data
        .layout
        .strides
        .iter()
        .map(|&s| (s * itemsize) as npy_intp)
        .collect();
    // SAFETY: the pointer is inside the buffer (the layout's offset addresses its first element;
    // for an empty array it is the buffer's start, never read).
    let ptr = unsafe {
        data.buffer.as_ptr().add(if a.size() == 0 {
            0
        } else {
            data.layout.offset * a.itemsize()
        })
    };
    let owner = Py::new(py, BufferOwner { _data: data })?;
    // SAFETY: `descr` is a new reference that PyArray_NewFromDescr steals; dims and strides
    // have `ndim` entries and describe memory inside the buffer (every index the shape allows
    // lands in it, as the layout was made by rill for this shape). Flags 0 makes the view
    // read-only. SetBaseObject steals the owner reference, which keeps the buffer alive for as long
    // as the view (or any view of it) exists.
    unsafe {
        let arr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            descr,
            dims.len() as std::os::raw::c_int,
            dims.as_ptr() as *mut npy_intp,
            strides.as_ptr() as *mut npy_intp,
            ptr as *mut std::ffi::c_void,
            0,
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

/// A new reference to the NumPy descriptor of `d` (not bfloat16).
fn dispatch_np_descr(py: Python<'_>, d: Dtype) -> *mut npyffi::PyArray_Descr {
    fn descr<T: NpElement>(py: Python<'_>) -> *mut npyffi::PyArray_Descr {
        T::get_dtype(py).into_dtype_ptr()
    }
    match d {
        Dtype::Bool => descr::<bool>(py),
        Dtype::Uint8 => descr::<u8>(py),
        Dtype::Uint16 => descr::<u16>(py),
        Dtype::Uint32 => descr::<u32>(py),
        Dtype::Uint64 => descr::<u64>(py),
        Dtype::Int8 => descr::<i8>(py),
        Dtype::Int16 => descr::<i16>(py),
        Dtype::Int32 => descr::<i32>(py),
        Dtype::Int64 => descr::<i64>(py),
        Dtype::Float16 => descr::<f16>(py),
        Dtype::Float32 => descr::<f32>(py),
        Dtype::Float64 => descr::<f64>(py),
        Dtype::Complex64 => descr::<Complex32>(py),
        Dtype::Bfloat16 => unreachable!("bfloat16 is converted to float32 before export"),
    }
}

/// A scalar as the Python number `item()` returns.
pub fn scalar_to_py(py: Python<'_>, s: Scalar) -> PyResult<Py<PyAny>> {
    Ok(match s {
        Scalar::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Scalar::UInt(u) => u.into_pyobject(py)?.into_any().unbind(),
        Scalar::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
        Scalar::Complex(re, im) => PyComplex::from_doubles(py, re as f64, im as f64)
            .into_any()
            .unbind(),
    })
}

/// The one element of a one-element array (evaluating it with the GIL released).
pub fn item(py: Python<'_>, a: &Array) -> PyResult<Py<PyAny>> {
    if a.size() != 1 {
        return Err(PyValueError::new_err(format!(
            "[item] only arrays of one element can be converted to Python scalars; this one has shape {:?}",
            a.shape()
        )));
    }
    py.detach(|| a.eval()).or_raise()?;
    let s = dispatch_dtype!(a.dtype(), T => a.item::<T>().or_raise()?.to_scalar());
    scalar_to_py(py, s)
}

/// The array as nested lists of Python numbers (a number for a 0-d array).
pub fn tolist(py: Python<'_>, a: &Array) -> PyResult<Py<PyAny>> {
    py.detach(|| a.eval()).or_raise()?;
    let flat: Vec<Scalar> = dispatch_dtype!(a.dtype(), T => {
        a.to_vec::<T>().or_raise()?.into_iter().map(|x| x.to_scalar()).collect()
    });
    if a.ndim() == 0 {
        return scalar_to_py(py, flat[0]);
    }
    fn build(py: Python<'_>, flat: &[Scalar], shape: &[usize]) -> PyResult<Py<PyAny>> {
        let list = PyList::empty(py);
        if shape.len() == 1 {
            for &s in flat {
                list.append(scalar_to_py(py, s)?)?;
            }
        } else {
            let inner: usize = shape[1..].iter().product();
            for i in 0..shape[0] {
                list.append(build(py, &flat[i * inner..(i + 1) * inner], &shape[1..])?)?;
            }
        }
        Ok(list.into_any().unbind())
    }
    build(py, &flat, a.shape())
}
