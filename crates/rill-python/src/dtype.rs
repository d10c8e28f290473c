//! `rill.core.Dtype` (the objects `mx.float32`, `mx.int32`, ...), `DtypeCategory` and
//! `issubdtype`, with NumPy's hierarchy as MLX has it.

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
    Ok(())
}
