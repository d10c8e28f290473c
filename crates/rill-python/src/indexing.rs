//! `a[index]` with integers, slices (any step, negative included), `None` and `...`, as NumPy's
//! basic indexing. The result is a view: one `slice` and one `reshape`, no copy.
//!
//! Indexing with arrays (`a[[0, 2]]`, `a[mx.array(...)]`) needs the gather kernel (`take`), which
//! is bound in the next phase; until then it raises `ValueError` naming what is missing.

use crate::array::PyArray;
use crate::errors::OrRaise;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyList, PyNone, PySlice, PyTuple};
use rill_core::ops::{self, SliceDim};
use rill_core::Array;

enum Item {
    Int(isize),
    Slice(Option<isize>, Option<isize>, isize),
    NewAxis,
    Ellipsis,
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

fn parse(obj: &Bound<'_, PyAny>) -> PyResult<Item> {
    if obj.is_instance_of::<PyNone>() {
        return Ok(Item::NewAxis);
    }
    if obj.is_instance_of::<PyEllipsis>() {
        return Ok(Item::Ellipsis);
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        let start: Option<isize> = s.getattr("start")?.extract()?;
        let stop: Option<isize> = s.getattr("stop")?.extract()?;
        let step: Option<isize> = s.getattr("step")?.extract()?;
        return Ok(Item::Slice(start, stop, step.unwrap_or(1)));
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyValueError::new_err(
            "Cannot index a rill array with a bool.",
        ));
    }
    if let Ok(a) = obj.cast::<PyArray>() {
        let a = a.get().get();
        // A 0-d integer array selects like the integer it holds.
        if a.ndim() == 0 && a.dtype().is_integer() {
            let i = crate::convert::item(obj.py(), &a)?;
            return Ok(Item::Int(i.bind(obj.py()).extract()?));
        }
        return Err(array_index_error());
    }
    if obj.is_instance_of::<PyList>() {
        return Err(array_index_error());
    }
    // Integers, and objects that act as one (NumPy integer scalars).
    if let Ok(i) = obj.extract::<isize>() {
        return Ok(Item::Int(i));
    }
    if obj.hasattr("__array__")? {
        return Err(array_index_error());
    }
    Err(PyValueError::new_err(format!(
        "Cannot index a rill array with an object of type {}.",
        type_name(obj)
    )))
}

fn array_index_error() -> PyErr {
    PyValueError::new_err(
        "indexing with an array of indices needs `take`, which this build of rill.core does not bind yet",
    )
}

/// `a[index]`.
pub fn getitem(a: &Array, index: &Bound<'_, PyAny>) -> PyResult<Array> {
    let items: Vec<Item> = match index.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|x| parse(&x)).collect::<PyResult<_>>()?,
        Err(_) => vec![parse(index)?],
    };
    let ndim = a.ndim();
    let consumed = items
        .iter()
        .filter(|i| matches!(i, Item::Int(_) | Item::Slice(..)))
        .count();
    let ellipses = items.iter().filter(|i| matches!(i, Item::Ellipsis)).count();
    if ellipses > 1 {
        return Err(PyValueError::new_err(
            "An index can only have a single ellipsis (...).",
        ));
    }
    if consumed > ndim {
        return Err(PyValueError::new_err(format!(
            "Too many indices for array with {ndim} dimensions (shape {:?}).",
            a.shape()
        )));
    }
    let mut dims: Vec<SliceDim> = Vec::with_capacity(ndim);
    let mut out_shape: Vec<isize> = Vec::with_capacity(ndim + items.len());
    let mut d = 0usize;
    let whole = |d: usize| SliceDim {
        start: 0,
        step: 1,
        len: a.shape()[d],
    };
    for item in &items {
        match *item {
            Item::Int(i) => {
                let n = a.shape()[d];
                let j = if i < 0 { i + n as isize } else { i };
                if j < 0 || j >= n as isize {
                    return Err(PyIndexError::new_err(format!(
                        "index {i} is out of bounds for axis {d} with size {n}"
                    )));
                }
                dims.push(SliceDim {
                    start: j as usize,
                    step: 1,
                    len: 1,
                });
                d += 1;
            }
            Item::Slice(start, stop, step) => {
                let sd =
                    SliceDim::normalize("slice", start, stop, step, a.shape()[d]).or_raise()?;
                out_shape.push(sd.len as isize);
                dims.push(sd);
                d += 1;
            }
            Item::NewAxis => out_shape.push(1),
            Item::Ellipsis => {
                for _ in 0..ndim - consumed {
                    dims.push(whole(d));
                    out_shape.push(a.shape()[d] as isize);
                    d += 1;
                }
            }
        }
    }
    while d < ndim {
        dims.push(whole(d));
        out_shape.push(a.shape()[d] as isize);
        d += 1;
    }
    let view = ops::slice_dims(a, &dims, ()).or_raise()?;
    ops::reshape(&view, &out_shape, ()).or_raise()
}
