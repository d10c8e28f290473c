//! Joining, splitting, growing and rearranging arrays: `concatenate`, `stack`, `split`, `pad`,
//! `tile`, `repeat`, `flip`, `roll`, `meshgrid`, `unflatten`, `unstack`, `atleast_1d/2d/3d`,
//! `diff`.

use crate::array::PyArray;
use crate::convert::py_scalar;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, int_or_ints, out, shape_arg};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PySequence;
use rill_core::ops::{self, Split};
use rill_core::{Array, Scalar, StreamOrDevice};

/// A sequence of array-likes as arrays.
fn arrays_arg(arrays: &Bound<'_, PyAny>) -> PyResult<Vec<Array>> {
    let seq = arrays
        .cast::<PySequence>()
        .map_err(|_| PyTypeError::new_err("expected a list or tuple of arrays"))?;
    (0..seq.len()?).map(|i| arg(&seq.get_item(i)?)).collect()
}

/// The arrays joined along `axis` (flattened first when None); shapes must match elsewhere.
#[pyfunction]
#[pyo3(signature = (arrays, axis = Some(0), *, stream = None))]
pub fn concatenate(
    arrays: &Bound<'_, PyAny>,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::concatenate(&arrays_arg(arrays)?, axis, sod(stream))))
}

/// Arrays of one shape joined along a new axis `axis`.
#[pyfunction]
#[pyo3(signature = (arrays, axis = 0, *, stream = None))]
pub fn stack(
    arrays: &Bound<'_, PyAny>,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::stack(&arrays_arg(arrays)?, axis, sod(stream))))
}

fn split_impl(
    a: &Array,
    indices_or_sections: &Bound<'_, PyAny>,
    axis: isize,
    s: StreamOrDevice,
) -> PyResult<Vec<PyArray>> {
    let how = if let Ok(k) = indices_or_sections.extract::<i64>() {
        Split::Sections(usize::try_from(k).map_err(|_| {
            PyValueError::new_err(format!(
                "[split] cannot split shape {:?} into {k} sections",
                a.shape()
            ))
        })?)
    } else {
        Split::Indices(int_or_ints(indices_or_sections)?)
    };
    Ok(ops::split(a, how, axis, s)
        .or_raise()?
        .into_iter()
        .map(PyArray::new)
        .collect())
}

/// Parts of `a` along `axis`: `indices_or_sections` is a number of equal parts, or the indices
/// where the parts begin (`[i, j]` gives `a[:i]`, `a[i:j]`, `a[j:]`).
#[pyfunction]
#[pyo3(signature = (a, /, indices_or_sections, axis = 0, *, stream = None))]
pub fn split(
    a: &Bound<'_, PyAny>,
    indices_or_sections: &Bound<'_, PyAny>,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<Vec<PyArray>> {
    guard(|| split_impl(&arg(a)?, indices_or_sections, axis, sod(stream)))
}

/// One `(before, after)` pair from an int or a sequence of one or two ints.
fn pad_pair(obj: &Bound<'_, PyAny>) -> PyResult<Option<(i64, i64)>> {
    if let Ok(n) = obj.extract::<i64>() {
        return Ok(Some((n, n)));
    }
    match obj.extract::<Vec<i64>>() {
        Ok(v) if v.len() == 1 => Ok(Some((v[0], v[0]))),
        Ok(v) if v.len() == 2 => Ok(Some((v[0], v[1]))),
        _ => Ok(None),
    }
}

/// MLX's forms of `pad_width`: `n`, `(n,)`, `(before, after)` for every dim, or one
/// `(before, after)` per dim.
fn pad_widths(pad_width: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<Vec<(usize, usize)>> {
    let bad = || {
        PyValueError::new_err(format!(
            "[pad] pad_width must be an int, (n,), (before, after) or one (before, after) per dim of shape {shape:?}, got {}",
            pad_width
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_default()
        ))
    };
    let pairs: Vec<(i64, i64)> = if let Some(p) = pad_pair(pad_width)? {
        vec![p]
    } else {
        let seq = pad_width.cast::<PySequence>().map_err(|_| bad())?;
        (0..seq.len()?)
            .map(|i| pad_pair(&seq.get_item(i)?)?.ok_or_else(bad))
            .collect::<PyResult<_>>()?
    };
    pairs
        .into_iter()
        .map(|(lo, hi)| {
            if lo < 0 || hi < 0 {
                return Err(PyValueError::new_err(format!(
                    "[pad] pad widths must be non-negative, got ({lo}, {hi}) for shape {shape:?}"
                )));
            }
            Ok((lo as usize, hi as usize))
        })
        .collect()
}

/// `a` padded by `pad_width` with `constant_values` (a scalar, or an array of one element) in
/// `mode="constant"`, or with its own values in `"edge"`, `"reflect"` and `"symmetric"`.
#[pyfunction]
#[pyo3(signature = (a, pad_width, mode = "constant", constant_values = None, *, stream = None))]
pub fn pad(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    pad_width: &Bound<'_, PyAny>,
    mode: &str,
    constant_values: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let a = arg(a)?;
        let from_a = match mode {
            "constant" => None,
            "edge" => Some(ops::PadMode::Edge),
            "reflect" => Some(ops::PadMode::Reflect),
            "symmetric" => Some(ops::PadMode::Symmetric),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "[pad] mode {mode:?} is not one of \"constant\", \"edge\", \"reflect\" and \"symmetric\""
                )))
            }
        };
        if let Some(mode) = from_a {
            let widths = pad_widths(pad_width, a.shape())?;
            return out(ops::pad_with(&a, &widths, mode, sod(stream)));
        }
        let value = match constant_values {
            None => Scalar::Int(0),
            Some(v) if v.is_none() => Scalar::Int(0),
            Some(v) => match py_scalar(v)? {
                Some(s) => s,
                None => {
                    let arr = arg(v)?;
                    if arr.size() != 1 {
                        return Err(PyValueError::new_err(format!(
                            "[pad] constant_values must be a scalar or hold one element, got shape {:?}",
                            arr.shape()
                        )));
                    }
                    let item = crate::convert::item(py, &arr)?;
                    py_scalar(item.bind(py))?.expect("an array's item is a Python scalar")
                }
            },
        };
        let widths = pad_widths(pad_width, a.shape())?;
        out(ops::pad(&a, &widths, value, sod(stream)))
    })
}

/// `a` repeated `reps[d]` times along each dim (NumPy's `tile`).
#[pyfunction]
#[pyo3(signature = (a, reps, /, *, stream = None))]
pub fn tile(
    a: &Bound<'_, PyAny>,
    reps: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let reps = shape_arg("tile", reps)?;
        out(ops::tile(&arg(a)?, &reps, sod(stream)))
    })
}

/// Each element repeated `repeats` times along `axis` (of the flattened array when None).
#[pyfunction]
#[pyo3(signature = (array, repeats, axis = None, *, stream = None))]
pub fn repeat(
    array: &Bound<'_, PyAny>,
    repeats: i64,
    axis: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let repeats = usize::try_from(repeats).map_err(|_| {
            PyValueError::new_err(format!(
                "[repeat] repeats must be non-negative, got {repeats}"
            ))
        })?;
        out(ops::repeat(&arg(array)?, repeats, axis, sod(stream)))
    })
}

#[pymethods]
impl PyArray {
    /// Parts of the array along `axis` (see `split`).
    #[pyo3(signature = (indices_or_sections, axis = 0, *, stream = None))]
    fn split(
        &self,
        indices_or_sections: &Bound<'_, PyAny>,
        axis: isize,
        stream: Option<StreamArg>,
    ) -> PyResult<Vec<PyArray>> {
        guard(|| split_impl(&self.get(), indices_or_sections, axis, sod(stream)))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(concatenate, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(split, m)?)?;
    m.add_function(wrap_pyfunction!(pad, m)?)?;
    m.add_function(wrap_pyfunction!(tile, m)?)?;
    m.add_function(wrap_pyfunction!(repeat, m)?)?;
    m.add_function(wrap_pyfunction!(flip, m)?)?;
    m.add_function(wrap_pyfunction!(roll, m)?)?;
    m.add_function(wrap_pyfunction!(meshgrid, m)?)?;
    m.add_function(wrap_pyfunction!(unflatten, m)?)?;
    m.add_function(wrap_pyfunction!(unstack, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_1d, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_2d, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_3d, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add("concat", m.getattr("concatenate")?)?;
    Ok(())
}

/// An optional `axis` argument: None, an int or a sequence of ints.
fn optional_axes(axis: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match axis {
        Some(x) if !x.is_none() => Ok(Some(int_or_ints(x)?)),
        _ => Ok(None),
    }
}

/// The arrays as a Python tuple (what MLX's `meshgrid` and `unstack` return).
fn tuple_of<'py>(
    py: Python<'py>,
    arrays: Vec<Array>,
) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    pyo3::types::PyTuple::new(py, arrays.into_iter().map(PyArray::new))
}

/// `a` reversed along `axis` (an int, a sequence, or every axis when None).
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, *, stream = None))]
pub fn flip(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::flip(
            &arg(a)?,
            optional_axes(axis)?.as_deref(),
            sod(stream),
        ))
    })
}

/// `a` shifted by `shift` along `axis` (the flattened array when None), elements wrapping around.
#[pyfunction]
#[pyo3(signature = (a, shift, axis = None, *, stream = None))]
pub fn roll(
    a: &Bound<'_, PyAny>,
    shift: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let axes = optional_axes(axis)?;
        // One int shifts every axis; a sequence gives each axis its own.
        let shift = match (shift.extract::<isize>(), &axes) {
            (Ok(k), Some(ax)) => vec![k; ax.len()],
            _ => int_or_ints(shift)?,
        };
        out(ops::roll(&arg(a)?, &shift, axes.as_deref(), sod(stream)))
    })
}

/// Coordinate arrays from coordinate vectors; `indexing` is "xy" (Cartesian) or "ij" (matrix).
#[pyfunction]
#[pyo3(signature = (*arrays, sparse = false, indexing = "xy", stream = None))]
pub fn meshgrid<'py>(
    py: Python<'py>,
    arrays: &Bound<'_, pyo3::types::PyTuple>,
    sparse: bool,
    indexing: &str,
    stream: Option<StreamArg>,
) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    guard(|| {
        let arrays: Vec<Array> = arrays.iter().map(|a| arg(&a)).collect::<PyResult<_>>()?;
        tuple_of(
            py,
            ops::meshgrid(&arrays, sparse, indexing, sod(stream)).or_raise()?,
        )
    })
}

/// `a` with `axis` split into the dims `shape` (one may be -1).
#[pyfunction]
#[pyo3(signature = (a, /, axis, shape, *, stream = None))]
pub fn unflatten(
    a: &Bound<'_, PyAny>,
    axis: isize,
    shape: Vec<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::unflatten(&arg(a)?, axis, &shape, sod(stream))))
}

/// The slices of `x` along `axis`, each without that axis.
#[pyfunction]
#[pyo3(signature = (x, /, *, axis = 0, stream = None))]
pub fn unstack<'py>(
    py: Python<'py>,
    x: &Bound<'_, PyAny>,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    guard(|| tuple_of(py, ops::unstack(&arg(x)?, axis, sod(stream)).or_raise()?))
}

/// One array for one argument, a list for several (MLX's `atleast_*d`).
fn atleast(
    py: Python<'_>,
    n: usize,
    arys: &Bound<'_, pyo3::types::PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    let s = sod(stream);
    let mut outs = arys
        .iter()
        .map(|a| Ok(PyArray::new(ops::atleast_nd(&arg(&a)?, n, s).or_raise()?)))
        .collect::<PyResult<Vec<PyArray>>>()?;
    if outs.len() == 1 {
        return Ok(Py::new(py, outs.pop().expect("one"))?.into_any());
    }
    Ok(pyo3::types::PyList::new(py, outs)?.into_any().unbind())
}

/// Each array with at least one dimension.
#[pyfunction]
#[pyo3(signature = (*arys, stream = None))]
pub fn atleast_1d(
    py: Python<'_>,
    arys: &Bound<'_, pyo3::types::PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| atleast(py, 1, arys, stream))
}

/// Each array with at least two dimensions (a 1-D `(k)` becomes `(1, k)`).
#[pyfunction]
#[pyo3(signature = (*arys, stream = None))]
pub fn atleast_2d(
    py: Python<'_>,
    arys: &Bound<'_, pyo3::types::PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| atleast(py, 2, arys, stream))
}

/// Each array with at least three dimensions (`(k)` becomes `(1, k, 1)`, `(m, k)` `(m, k, 1)`).
#[pyfunction]
#[pyo3(signature = (*arys, stream = None))]
pub fn atleast_3d(
    py: Python<'_>,
    arys: &Bound<'_, pyo3::types::PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| atleast(py, 3, arys, stream))
}

/// The `n`-th discrete difference along `axis`.
#[pyfunction]
#[pyo3(signature = (a, /, n = 1, axis = -1, *, stream = None))]
pub fn diff(
    a: &Bound<'_, PyAny>,
    n: isize,
    axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::diff(&arg(a)?, n, axis, sod(stream))))
}
