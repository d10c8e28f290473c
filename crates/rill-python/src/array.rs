//! `rill.core.array`: the Python face of a lazy [`Array`].
//!
//! The object holds its array behind a mutex so that in-place operators (`a += 1`) can replace it,
//! as MLX and NumPy do for every reference to the same object, while Python threads share arrays
//! freely. Reading an array's values (`item`, `tolist`, `repr`, NumPy conversion) evaluates it with
//! the GIL released.

use crate::convert::{self, to_array};
use crate::dtype::PyDtype;
use crate::errors::{guard, OrRaise};
use crate::indexing;
use crate::ops::{self as pyops, BinaryFn};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use rill_core::{ops, Array, StreamOrDevice};
use std::sync::Mutex;

/// An n-dimensional array, evaluated lazily.
///
/// `array(val, dtype=None)` makes one from a Python scalar, nested lists or tuples, a NumPy array
/// (or anything with `__array__` or the buffer protocol) or another array. Without `dtype`, the
/// type is inferred as MLX does: bool, int32 (int64 for large ints), float32, complex64; NumPy
/// float64 becomes float32.
#[pyclass(name = "array", module = "rill.core", frozen, weakref)]
pub struct PyArray {
    inner: Mutex<Array>,
}

impl PyArray {
    pub fn new(a: Array) -> Self {
        PyArray {
            inner: Mutex::new(a),
        }
    }
    /// The array this object holds now.
    pub fn get(&self) -> Array {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Replaces the array this object holds (in-place operators, item assignment).
    pub(crate) fn set(&self, a: Array) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = a;
    }
    /// Replaces the array this object holds with `f` of it, atomically with respect to other
    /// updates: `f` runs on a snapshot without the lock held (it may release the GIL, and another
    /// thread may update meanwhile), and the result is stored only if the object still holds that
    /// snapshot; otherwise `f` runs again on the newer array. So `a[i] = v` from two threads never
    /// loses one of the writes. Building an update is lazy and cheap, so a retry costs little.
    pub(crate) fn update(&self, f: impl Fn(&Array) -> PyResult<Array>) -> PyResult<()> {
        loop {
            let current = self.get();
            let updated = f(&current)?;
            let mut held = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if held.id() == current.id() {
                *held = updated;
                return Ok(());
            }
        }
    }
}

/// `op(self, other)` for an operator: `NotImplemented` when `other` is not something arrays
/// combine with, so Python can try the other operand.
fn operator(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    f: BinaryFn,
) -> PyResult<Py<PyAny>> {
    guard(|| match pyops::operator_operands(a, b)? {
        Some((x, y)) => Ok(Py::new(
            py,
            PyArray::new(f(&x, &y, StreamOrDevice::Default).or_raise()?),
        )?
        .into_any()),
        None => Ok(py.NotImplemented()),
    })
}

/// `self op= other`: replaces the array this object holds.
/// `division`: `/=`, which would turn an integer array into a float one under every name bound to
/// it; MLX refuses it (and NumPy), while `+= 1.5` promotes as `+` does in both.
fn inplace(
    slf: &Bound<'_, PyArray>,
    other: &Bound<'_, PyAny>,
    f: BinaryFn,
    division: bool,
) -> PyResult<()> {
    if division && !slf.get().get().dtype().is_inexact() {
        return Err(PyValueError::new_err(
            "In place division cannot cast to non-floating point type.",
        ));
    }
    guard(|| match pyops::operator_operands(slf.as_any(), other)? {
        Some((x, y)) => {
            slf.get()
                .set(f(&x, &y, StreamOrDevice::Default).or_raise()?);
            Ok(())
        }
        None => Err(PyTypeError::new_err(format!(
            "unsupported operand type for an in-place operator: {}",
            other
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))),
    })
}

/// Whether an `operators!` entry is marked `division`.
macro_rules! is_division {
    () => {
        false
    };
    (division) => {
        true
    };
}

macro_rules! operators {
    ($($fwd:ident, $rev:ident, $inp:ident => $f:path $(, $division:ident)?);* $(;)?) => {
        #[pymethods]
        impl PyArray {
            $(
                fn $fwd(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                    operator(slf.py(), slf.as_any(), other, $f)
                }
                fn $rev(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                    operator(slf.py(), other, slf.as_any(), $f)
                }
                fn $inp(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<()> {
                    inplace(slf, other, $f, is_division!($($division)?))
                }
            )*
        }
    };
}

operators!(
    __add__, __radd__, __iadd__ => ops::add;
    __sub__, __rsub__, __isub__ => ops::subtract;
    __mul__, __rmul__, __imul__ => ops::multiply;
    __truediv__, __rtruediv__, __itruediv__ => ops::divide, division;
    __floordiv__, __rfloordiv__, __ifloordiv__ => ops::floor_divide;
    __mod__, __rmod__, __imod__ => ops::remainder;
    __and__, __rand__, __iand__ => ops::bitwise_and;
    __or__, __ror__, __ior__ => ops::bitwise_or;
    __xor__, __rxor__, __ixor__ => ops::bitwise_xor;
    __lshift__, __rlshift__, __ilshift__ => ops::left_shift;
    __rshift__, __rrshift__, __irshift__ => ops::right_shift;
);

fn wrap(py: Python<'_>, a: Array) -> PyResult<Py<PyArray>> {
    Py::new(py, PyArray::new(a))
}

#[pymethods]
impl PyArray {
    #[new]
    #[pyo3(signature = (val, dtype = None))]
    fn py_new(val: &Bound<'_, PyAny>, dtype: Option<PyDtype>) -> PyResult<Self> {
        guard(|| Ok(PyArray::new(to_array(val, dtype.map(|d| d.0))?)))
    }

    /// The shape, a tuple of ints.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.get().shape())
    }
    /// The element type.
    #[getter]
    fn dtype(&self) -> PyDtype {
        PyDtype(self.get().dtype())
    }
    /// The number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.get().ndim()
    }
    /// The number of elements.
    #[getter]
    fn size(&self) -> usize {
        self.get().size()
    }
    /// The bytes the elements take (`size * itemsize`).
    #[getter]
    fn nbytes(&self) -> usize {
        self.get().nbytes()
    }
    /// The bytes one element takes.
    #[getter]
    fn itemsize(&self) -> usize {
        self.get().itemsize()
    }
    /// The array with its dimensions reversed (`transpose()`).
    #[getter(T)]
    fn t(&self) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::transpose(&self.get(), None, ()).or_raise()?,
            ))
        })
    }

    /// The array with its last two dimensions swapped (a batch of matrices transposed).
    #[getter(mT)]
    fn m_t(&self) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::swapaxes(&self.get(), -2, -1, ()).or_raise()?,
            ))
        })
    }

    /// The one element as a Python scalar (bool, int, float or complex). Evaluates the array;
    /// `ValueError` unless it has exactly one element.
    fn item(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| convert::item(py, &self.get()))
    }

    /// The elements as nested lists of Python scalars (a scalar for a 0-d array). Evaluates.
    fn tolist(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| convert::tolist(py, &self.get()))
    }

    /// The array converted to `dtype`.
    #[pyo3(signature = (dtype, stream = None))]
    fn astype(&self, dtype: PyDtype, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::astype(&self.get(), dtype.0, sod(stream)).or_raise()?,
            ))
        })
    }

    /// NumPy's array protocol: a read-only view of the array's memory when `copy` is not True and
    /// no `dtype` is asked for, else a new NumPy array.
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let a = self.get();
            if copy == Some(false) && a.dtype() == rill_core::Dtype::Bfloat16 {
                return Err(PyValueError::new_err(
                    "a bfloat16 array cannot be viewed by NumPy without a copy",
                ));
            }
            let view = convert::to_numpy(py, &a)?;
            match (dtype, copy) {
                (Some(d), _) if !d.is_none() => view.call_method1("astype", (d,)),
                (_, Some(true)) => view.call_method0("copy"),
                _ => Ok(view),
            }
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| {
            let a = self.get();
            py.detach(|| a.eval()).or_raise()?;
            let data = py.detach(|| a.host_data()).or_raise()?;
            Ok(crate::format::repr(&a, &data))
        })
    }
    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.__repr__(py)
    }

    fn __len__(&self) -> PyResult<usize> {
        let a = self.get();
        match a.shape().first() {
            Some(&n) => Ok(n),
            None => Err(PyTypeError::new_err("len() of a 0-d array")),
        }
    }

    /// Iterates over the first dimension.
    fn __iter__(&self) -> PyResult<ArrayIterator> {
        let a = self.get();
        match a.shape().first() {
            Some(&n) => Ok(ArrayIterator {
                array: a,
                next: Mutex::new(0),
                len: n,
            }),
            None => Err(PyTypeError::new_err("iteration over a 0-d array")),
        }
    }

    /// Truth of a one-element array (`ValueError` otherwise, as NumPy).
    fn __bool__(&self, py: Python<'_>) -> PyResult<bool> {
        guard(|| {
            let a = self.get();
            if a.size() == 0 {
                return Err(PyValueError::new_err(format!(
                    "The truth value of an empty array is ambiguous (shape {:?}); use `a.size > 0` to test for elements",
                    a.shape()
                )));
            }
            if a.size() != 1 {
                return Err(PyValueError::new_err(format!(
                    "The truth value of an array with more than one element is ambiguous (shape {:?})",
                    a.shape()
                )));
            }
            convert::item(py, &a)?.bind(py).is_truthy()
        })
    }
    fn __int__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| {
            let v = convert::item(py, &self.get())?;
            Ok(py.import("builtins")?.getattr("int")?.call1((v,))?.unbind())
        })
    }
    fn __float__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| {
            let v = convert::item(py, &self.get())?;
            Ok(py
                .import("builtins")?
                .getattr("float")?
                .call1((v,))?
                .unbind())
        })
    }
    fn __complex__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| {
            let v = convert::item(py, &self.get())?;
            Ok(py
                .import("builtins")?
                .getattr("complex")?
                .call1((v,))?
                .unbind())
        })
    }
    /// Integer arrays of one element act as integers (`range(mx.array(3))`, `lst[a]`).
    fn __index__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| {
            let a = self.get();
            if !(a.dtype().is_integer() || a.dtype().is_bool()) {
                return Err(PyTypeError::new_err(format!(
                    "only integer arrays can be used as an index, not {}",
                    a.dtype()
                )));
            }
            convert::item(py, &a)
        })
    }

    /// Arrays hash by identity (as in MLX): `==` compares elementwise, so equal values do not mean
    /// equal keys.
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        (slf.as_ptr() as isize) >> 4
    }

    fn __copy__(&self) -> PyArray {
        PyArray::new(self.get())
    }
    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(&self, _memo: Option<&Bound<'_, PyAny>>) -> PyArray {
        // Arrays are immutable values; sharing the node is a deep copy.
        PyArray::new(self.get())
    }

    fn __getitem__(&self, py: Python<'_>, index: &Bound<'_, PyAny>) -> PyResult<Py<PyArray>> {
        guard(|| wrap(py, indexing::getitem(&self.get(), index)?))
    }

    /// `a[index] = value`: this object then holds a new array with `value` (broadcast, cast to
    /// the array's dtype) written at `index`; other arrays built from the old one are unchanged.
    fn __setitem__(&self, index: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| self.update(|a| indexing::setitem(a, index, value)))
    }

    // --- comparisons: elementwise, returning arrays ---
    fn __eq__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::equal)
    }
    fn __ne__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::not_equal)
    }
    fn __lt__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::less)
    }
    fn __le__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::less_equal)
    }
    fn __gt__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::greater)
    }
    fn __ge__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::greater_equal)
    }

    fn __pow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        _modulo: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        operator(slf.py(), slf.as_any(), other, ops::power)
    }
    fn __rpow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        _modulo: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        operator(slf.py(), other, slf.as_any(), ops::power)
    }
    fn __ipow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        _modulo: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        inplace(slf, other, ops::power, false)
    }

    // --- unary operators ---
    fn __neg__(&self) -> PyResult<PyArray> {
        guard(|| Ok(PyArray::new(ops::negative(&self.get(), ()).or_raise()?)))
    }
    fn __pos__(&self) -> PyArray {
        PyArray::new(self.get())
    }
    fn __abs__(&self) -> PyResult<PyArray> {
        guard(|| Ok(PyArray::new(ops::abs(&self.get(), ()).or_raise()?)))
    }
    /// `~a`: logical not for bool arrays, bitwise not for integers.
    fn __invert__(&self) -> PyResult<PyArray> {
        guard(|| {
            let a = self.get();
            let r = if a.dtype().is_bool() {
                ops::logical_not(&a, ())
            } else {
                ops::bitwise_invert(&a, ())
            };
            Ok(PyArray::new(r.or_raise()?))
        })
    }

    // --- methods that mirror functions ---
    /// The array with a new shape: `a.reshape(2, 3)` or `a.reshape((2, 3))`; one entry may be -1.
    #[pyo3(signature = (*shape, stream = None))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| {
            let shape = pyops::int_list_from_varargs(shape)?;
            Ok(PyArray::new(
                ops::reshape(&self.get(), &shape, sod(stream)).or_raise()?,
            ))
        })
    }
    /// The dimensions permuted: `a.transpose(1, 0)`, `a.transpose((1, 0))`; reversed with no axes.
    #[pyo3(signature = (*axes, stream = None))]
    fn transpose(&self, axes: &Bound<'_, PyTuple>, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| {
            let axes = if axes.is_empty() {
                None
            } else {
                Some(pyops::int_list_from_varargs(axes)?)
            };
            Ok(PyArray::new(
                ops::transpose(&self.get(), axes.as_deref(), sod(stream)).or_raise()?,
            ))
        })
    }
    /// Dims `start_axis..=end_axis` merged into one.
    #[pyo3(signature = (start_axis = 0, end_axis = -1, *, stream = None))]
    fn flatten(
        &self,
        start_axis: isize,
        end_axis: isize,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::flatten(&self.get(), start_axis, end_axis, sod(stream)).or_raise()?,
            ))
        })
    }
    /// Size-1 dims removed (those in `axis`, or all).
    #[pyo3(signature = (axis = None, *, stream = None))]
    fn squeeze(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(pyops::squeeze_impl(
                &self.get(),
                axis,
                sod(stream),
            )?))
        })
    }
    /// Two dims swapped.
    #[pyo3(signature = (axis1, axis2, *, stream = None))]
    fn swapaxes(&self, axis1: isize, axis2: isize, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::swapaxes(&self.get(), axis1, axis2, sod(stream)).or_raise()?,
            ))
        })
    }
    /// A dim moved from `source` to `destination`.
    #[pyo3(signature = (source, destination, *, stream = None))]
    fn moveaxis(
        &self,
        source: isize,
        destination: isize,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(
                ops::moveaxis(&self.get(), source, destination, sod(stream)).or_raise()?,
            ))
        })
    }
    /// Rounded to `decimals` decimal places (half to even).
    #[pyo3(signature = (decimals = 0, *, stream = None))]
    fn round(&self, decimals: i32, stream: Option<StreamArg>) -> PyResult<PyArray> {
        guard(|| {
            Ok(PyArray::new(pyops::round_impl(
                &self.get(),
                decimals,
                sod(stream),
            )?))
        })
    }
}

macro_rules! unary_methods {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {
        #[pymethods]
        impl PyArray {
            $(
                #[doc = $doc]
                #[pyo3(signature = (*, stream = None))]
                fn $name(&self, stream: Option<StreamArg>) -> PyResult<PyArray> {
                    guard(|| Ok(PyArray::new($f(&self.get(), sod(stream)).or_raise()?)))
                }
            )*
        }
    };
}

unary_methods!(
    abs => ops::abs, "Elementwise absolute value.";
    exp => ops::exp, "Elementwise exponential.";
    log => ops::log, "Elementwise natural logarithm.";
    log1p => ops::log1p, "Elementwise `log(1 + x)`.";
    log2 => ops::log2, "Elementwise base-2 logarithm.";
    log10 => ops::log10, "Elementwise base-10 logarithm.";
    sqrt => ops::sqrt, "Elementwise square root.";
    rsqrt => ops::rsqrt, "Elementwise reciprocal square root.";
    square => ops::square, "Elementwise square.";
    reciprocal => ops::reciprocal, "Elementwise reciprocal.";
    sin => ops::sin, "Elementwise sine.";
    cos => ops::cos, "Elementwise cosine.";
);

/// Iterates over the first dimension of an array (`for row in a`).
#[pyclass(name = "_ArrayIterator", module = "rill.core", frozen)]
pub struct ArrayIterator {
    array: Array,
    next: Mutex<usize>,
    len: usize,
}

#[pymethods]
impl ArrayIterator {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }
    fn __next__(&self) -> PyResult<Option<PyArray>> {
        guard(|| {
            let i = {
                let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
                let i = *n;
                *n += 1;
                i
            };
            if i >= self.len {
                return Ok(None);
            }
            let a = &self.array;
            let mut dims: Vec<ops::SliceDim> = a
                .shape()
                .iter()
                .map(|&n| ops::SliceDim {
                    start: 0,
                    step: 1,
                    len: n,
                })
                .collect();
            dims[0] = ops::SliceDim {
                start: i,
                step: 1,
                len: 1,
            };
            let row = ops::slice_dims(a, &dims, ()).or_raise()?;
            let shape: Vec<isize> = a.shape()[1..].iter().map(|&n| n as isize).collect();
            Ok(Some(PyArray::new(
                ops::reshape(&row, &shape, ()).or_raise()?,
            )))
        })
    }
}
