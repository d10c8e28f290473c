//! `rill.core.Dtype` (the objects `mx.float32`, `mx.int32`, ...), `DtypeCategory` and
//! `issubdtype`, with NumPy's hierarchy as MLX has it; `finfo`, `iinfo`, `result_type`,
//! `can_cast` and `isdtype` (the rules themselves live on the core's `Dtype`).

use pyo3::prelude::*;
use pyo3::types::PyModule;
use rill_core::{Dtype, DtypeKind};

/// An element type. The module holds one instance per type (`rill.core.float32`, ...); they
/// compare equal by type and are hashable.
#[pyclass(name = "Dtype", module = "rill.core", frozen, eq, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDtype(pub Dtype);

#[pymethods]
impl PyDtype {
    /// Bytes per element.
    #[getter]
    fn size(&self) -> usize {
        self.0.size()
    }
    fn __repr__(&self) -> String {
        format!("rill.core.{}", self.0.name())
    }
    fn __str__(&self) -> String {
        self.__repr__()
    }
    /// Pickles as a reference to the module's instance (`rill.core.float32`).
    fn __reduce__(&self) -> &'static str {
        python_name(self.0)
    }
}

/// The module attribute that names `d` (`bool_` for bool, as MLX and NumPy).
pub fn python_name(d: Dtype) -> &'static str {
    if d == Dtype::Bool {
        "bool_"
    } else {
        d.name()
    }
}

/// A family of dtypes, for `issubdtype`: NumPy's abstract types.
#[pyclass(
    name = "DtypeCategory",
    module = "rill.core",
    frozen,
    eq,
    eq_int,
    hash,
    from_py_object
)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DtypeCategory {
    complexfloating,
    floating,
    inexact,
    signedinteger,
    unsignedinteger,
    integer,
    number,
    generic,
}

impl DtypeCategory {
    /// The category directly above this one (None for `generic`).
    fn parent(self) -> Option<DtypeCategory> {
        use DtypeCategory::*;
        match self {
            complexfloating | floating => Some(inexact),
            signedinteger | unsignedinteger => Some(integer),
            inexact | integer => Some(number),
            number => Some(generic),
            generic => None,
        }
    }
    fn is_within(self, other: DtypeCategory) -> bool {
        let mut c = Some(self);
        while let Some(x) = c {
            if x == other {
                return true;
            }
            c = x.parent();
        }
        false
    }
    /// The most specific category of a dtype (bool belongs to `generic` only).
    fn of(d: Dtype) -> DtypeCategory {
        match d.kind() {
            DtypeKind::Bool => DtypeCategory::generic,
            DtypeKind::Unsigned => DtypeCategory::unsignedinteger,
            DtypeKind::Signed => DtypeCategory::signedinteger,
            DtypeKind::Float => DtypeCategory::floating,
            DtypeKind::Complex => DtypeCategory::complexfloating,
        }
    }
}

/// A dtype or a category, as `issubdtype` takes them.
#[derive(FromPyObject)]
pub enum DtypeOrCategory {
    Dtype(PyDtype),
    Category(DtypeCategory),
}

/// True when `arg1` is `arg2` or lies under it in the hierarchy
/// generic > number > {integer > {signed, unsigned}, inexact > {floating, complexfloating}};
/// bool is only a `generic`. Two dtypes are related only when equal.
#[pyfunction]
pub fn issubdtype(arg1: &Bound<'_, PyAny>, arg2: &Bound<'_, PyAny>) -> PyResult<bool> {
    use DtypeOrCategory::*;
    // pyo3's own failure names the enum's variants ("failed to extract field
    // DtypeOrCategory::Dtype.0"), which tells the caller nothing; say what is accepted instead.
    let extract = |which: &str, x: &Bound<'_, PyAny>| {
        x.extract::<DtypeOrCategory>().map_err(|_| {
            let ty = x.get_type();
            let name = ty
                .module()
                .map(|m| m.to_string())
                .ok()
                .filter(|m| m != "builtins")
                .map_or_else(
                    || ty.name().map(|n| n.to_string()).unwrap_or_default(),
                    |m| format!("{m}.{}", ty.name().map(|n| n.to_string()).unwrap_or_default()),
                );
            pyo3::exceptions::PyValueError::new_err(format!(
                "[issubdtype] the {which} argument must be a rill dtype (mx.int8, ...) or dtype category (mx.integer, mx.floating, ...), got {} of type {name}",
                x.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        })
    };
    let (arg1, arg2) = (extract("first", arg1)?, extract("second", arg2)?);
    Ok(match (arg1, arg2) {
        (Dtype(a), Dtype(b)) => a == b,
        (Dtype(a), Category(b)) => DtypeCategory::of(a.0).is_within(b),
        (Category(_), Dtype(_)) => false,
        (Category(a), Category(b)) => a.is_within(b),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDtype>()?;
    m.add_class::<DtypeCategory>()?;
    for d in Dtype::ALL {
        m.add(python_name(d), PyDtype(d))?;
    }
    use DtypeCategory::*;
    for (name, c) in [
        ("complexfloating", complexfloating),
        ("floating", floating),
        ("inexact", inexact),
        ("signedinteger", signedinteger),
        ("unsignedinteger", unsignedinteger),
        ("integer", integer),
        ("number", number),
        ("generic", generic),
    ] {
        m.add(name, c)?;
    }
    m.add_function(wrap_pyfunction!(issubdtype, m)?)?;
    register_info(m)
}

/// What `finfo` reports about a float type (MLX's attributes).
#[pyclass(name = "finfo", module = "rill.core", frozen)]
pub struct PyFinfo {
    #[pyo3(get)]
    min: f64,
    #[pyo3(get)]
    max: f64,
    #[pyo3(get)]
    eps: f64,
    #[pyo3(get)]
    smallest_normal: f64,
    #[pyo3(get)]
    bits: u32,
    #[pyo3(get)]
    dtype: PyDtype,
}

/// `v` as Python's `%g` would write it (`65504`, `3.40282e+38`).
fn short(v: f64) -> String {
    let e = format!("{v:e}");
    let exp: i32 = e
        .split('e')
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    if (-5..6).contains(&exp) {
        let s = format!("{:.*}", (5 - exp).max(0) as usize, v);
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        return s;
    }
    let m = v / 10f64.powi(exp);
    let ms = format!("{m:.5}");
    let ms = ms.trim_end_matches('0').trim_end_matches('.');
    format!("{ms}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

#[pymethods]
impl PyFinfo {
    #[new]
    fn py_new(dtype: PyDtype) -> PyResult<Self> {
        let info = dtype.0.finfo().ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "[finfo] dtype {} is not inexact.",
                dtype.0
            ))
        })?;
        Ok(PyFinfo {
            min: info.min,
            max: info.max,
            eps: info.eps,
            smallest_normal: info.smallest_normal,
            bits: info.bits,
            dtype: PyDtype(info.dtype),
        })
    }
    fn __repr__(&self) -> String {
        format!(
            "finfo(min={}, max={}, dtype={})",
            short(self.min),
            short(self.max),
            self.dtype.0
        )
    }
}

/// What `iinfo` reports about an integer type.
#[pyclass(name = "iinfo", module = "rill.core", frozen)]
pub struct PyIinfo {
    #[pyo3(get)]
    min: i128,
    #[pyo3(get)]
    max: i128,
    #[pyo3(get)]
    dtype: PyDtype,
}

#[pymethods]
impl PyIinfo {
    #[new]
    fn py_new(dtype: PyDtype) -> PyResult<Self> {
        let d = dtype.0;
        match d.int_range() {
            Some((min, max)) if d.is_integer() => Ok(PyIinfo { min, max, dtype }),
            _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "[iinfo] Only integer types supported but {d} was provided"
            ))),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "iinfo(min={}, max={}, dtype={})",
            self.min, self.max, self.dtype.0
        )
    }
}

/// The dtype of an array or a dtype (None for anything else).
fn dtype_of(x: &Bound<'_, PyAny>) -> Option<Dtype> {
    if let Ok(d) = x.extract::<PyDtype>() {
        return Some(d.0);
    }
    x.cast::<crate::array::PyArray>()
        .ok()
        .map(|a| a.get().get().dtype())
}

/// The dtype that arrays of these dtypes promote to (MLX's table).
#[pyfunction]
#[pyo3(signature = (*arrays_and_dtypes))]
pub fn result_type(arrays_and_dtypes: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<PyDtype> {
    let mut out: Option<Dtype> = None;
    for x in arrays_and_dtypes.iter() {
        let d = dtype_of(&x).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(
                "[result_type] Inputs must be arrays or dtypes.",
            )
        })?;
        out = Some(out.map_or(d, |o| rill_core::promote_types(o, d)));
    }
    out.map(PyDtype).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(
            "[result_type] At least one array or dtype is required.",
        )
    })
}

/// Whether `from_` (an array or a dtype) converts to `to` by promotion: `result_type(from_, to)`
/// is `to`.
#[pyfunction]
pub fn can_cast(from_: &Bound<'_, PyAny>, to: PyDtype) -> PyResult<bool> {
    let d = dtype_of(from_).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err("[can_cast] from_ must be an array or a dtype.")
    })?;
    Ok(d.can_cast(to.0))
}

/// Whether `dtype` is `kind`: a dtype, an array API kind name ("bool", "signed integer",
/// "unsigned integer", "integral", "real floating", "complex floating", "numeric"), or a tuple of
/// these (any of them).
#[pyfunction]
pub fn isdtype(dtype: PyDtype, kind: &Bound<'_, PyAny>) -> PyResult<bool> {
    fn one(d: Dtype, k: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(other) = k.extract::<PyDtype>() {
            return Ok(other.0 == d);
        }
        if let Ok(name) = k.extract::<String>() {
            return d.is_kind(&name).ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "[isdtype] Unknown data type kind: '{name}'."
                ))
            });
        }
        Err(pyo3::exceptions::PyValueError::new_err(
            "[isdtype] `kind` must be a dtype, a string, or a tuple of dtypes and strings.",
        ))
    }
    if let Ok(t) = kind.cast::<pyo3::types::PyTuple>() {
        let mut any = false;
        for k in t.iter() {
            any |= one(dtype.0, &k)?;
        }
        return Ok(any);
    }
    one(dtype.0, kind)
}

pub fn register_info(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFinfo>()?;
    m.add_class::<PyIinfo>()?;
    m.add_function(wrap_pyfunction!(result_type, m)?)?;
    m.add_function(wrap_pyfunction!(can_cast, m)?)?;
    m.add_function(wrap_pyfunction!(isdtype, m)?)?;
    Ok(())
}
