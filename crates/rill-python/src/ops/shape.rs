//! Shape ops: `reshape`, `flatten`, `transpose`, `swapaxes`, `moveaxis`, `expand_dims`,
//! `squeeze`, the broadcasts and `slice`.

use super::*;

/// `a` with shape `shape`; one entry may be -1.
#[pyfunction]
#[pyo3(signature = (a, /, shape, *, stream = None))]
pub fn reshape(
    a: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::reshape(&arg(a)?, &int_or_ints(shape)?, sod(stream))))
}

/// Dims `start_axis..=end_axis` merged into one.
#[pyfunction]
#[pyo3(signature = (a, /, start_axis = 0, end_axis = -1, *, stream = None))]
pub fn flatten(
    a: &Bound<'_, PyAny>,
    start_axis: isize,
    end_axis: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::flatten(&arg(a)?, start_axis, end_axis, sod(stream))))
}

/// The dims permuted: output dim `i` is input dim `axes[i]` (reversed when None).
#[pyfunction]
#[pyo3(signature = (a, /, axes = None, *, stream = None))]
pub fn transpose(
    a: &Bound<'_, PyAny>,
    axes: Option<Vec<isize>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::transpose(&arg(a)?, axes.as_deref(), sod(stream))))
}

/// Two dims swapped.
#[pyfunction]
#[pyo3(signature = (a, /, axis1, axis2, *, stream = None))]
pub fn swapaxes(
    a: &Bound<'_, PyAny>,
    axis1: isize,
    axis2: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::swapaxes(&arg(a)?, axis1, axis2, sod(stream))))
}

/// A dim moved from `source` to `destination`.
#[pyfunction]
#[pyo3(signature = (a, /, source, destination, *, stream = None))]
pub fn moveaxis(
    a: &Bound<'_, PyAny>,
    source: isize,
    destination: isize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::moveaxis(&arg(a)?, source, destination, sod(stream))))
}

/// Size-1 dims inserted at `axis` (an int or a sequence; positions in the output).
#[pyfunction]
#[pyo3(signature = (a, /, axis, *, stream = None))]
pub fn expand_dims(
    a: &Bound<'_, PyAny>,
    axis: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::expand_dims(&arg(a)?, &int_or_ints(axis)?, sod(stream))))
}

/// Size-1 dims removed (those in `axis`, or all when None).
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, *, stream = None))]
pub fn squeeze(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| Ok(PyArray::new(squeeze_impl(&arg(a)?, axis, sod(stream))?)))
}

/// `a` broadcast to `shape` (a view; no copy).
#[pyfunction]
#[pyo3(signature = (a, /, shape, *, stream = None))]
pub fn broadcast_to(
    a: &Bound<'_, PyAny>,
    shape: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::broadcast_to(
            &arg(a)?,
            &shape_arg("broadcast_to", shape)?,
            sod(stream),
        ))
    })
}

/// The arrays broadcast to their common shape.
#[pyfunction]
#[pyo3(signature = (*arrays, stream = None))]
pub fn broadcast_arrays(
    arrays: &Bound<'_, PyTuple>,
    stream: Option<StreamArg>,
) -> PyResult<Vec<PyArray>> {
    guard(|| {
        let arrays: Vec<Array> = arrays.iter().map(|a| arg(&a)).collect::<PyResult<_>>()?;
        Ok(ops::broadcast_arrays(&arrays, sod(stream))
            .or_raise()?
            .into_iter()
            .map(PyArray::new)
            .collect())
    })
}

/// The shape that `shapes` broadcast to.
#[pyfunction]
#[pyo3(signature = (*shapes))]
pub fn broadcast_shapes(shapes: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    guard(|| {
        let mut out: Vec<usize> = vec![];
        for s in shapes.iter() {
            let s = shape_arg("broadcast_shapes", &s)?;
            out = rill_core::shape::broadcast_shapes("broadcast_shapes", &out, &s).or_raise()?;
        }
        Ok(out)
    })
}

/// The window of `a` of size `slice_size` (one entry per dim) starting at `start_indices` along
/// `axes` (at 0 along the other dims). `start_indices` may be an array (read on the host, which
/// evaluates it) or a sequence of ints; a window that does not fit raises `ValueError`.
#[pyfunction]
#[pyo3(signature = (a, start_indices, axes, slice_size, *, stream = None))]
pub fn slice(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    start_indices: &Bound<'_, PyAny>,
    axes: Vec<isize>,
    slice_size: Vec<usize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let a = arg(a)?;
        let starts: Vec<i64> = if let Ok(arr) = start_indices.cast::<PyArray>() {
            let arr = arr.get().get();
            convert::tolist(py, &ops::flatten(&arr, 0, -1, ()).or_raise()?)?
                .bind(py)
                .extract()?
        } else {
            start_indices.extract()?
        };
        if slice_size.len() != a.ndim() || starts.len() != axes.len() {
            return Err(PyValueError::new_err(format!(
                "[slice] need one slice size per dim of shape {:?} and one start per axis; got sizes {slice_size:?}, starts {starts:?}, axes {axes:?}",
                a.shape()
            )));
        }
        let mut begin = vec![0isize; a.ndim()];
        for (&ax, &st) in axes.iter().zip(&starts) {
            let d = rill_core::shape::normalize_axis("slice", ax, a.shape()).or_raise()?;
            begin[d] = st as isize;
        }
        let mut dims = Vec::with_capacity(a.ndim());
        for d in 0..a.ndim() {
            let n = a.shape()[d];
            if begin[d] < 0 || begin[d] as usize + slice_size[d] > n {
                return Err(PyValueError::new_err(format!(
                    "[slice] a window of size {} starting at {} does not fit axis {d} of shape {:?}",
                    slice_size[d],
                    begin[d],
                    a.shape()
                )));
            }
            dims.push(ops::SliceDim {
                start: begin[d] as usize,
                step: 1,
                len: slice_size[d],
            });
        }
        out(ops::slice_dims(&a, &dims, sod(stream)))
    })
}
