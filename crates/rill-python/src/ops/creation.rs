//! Creation: `full`/`zeros`/`ones` and their `_like` forms, `arange`, `linspace`, `eye`,
//! `identity` (more creation functions live in `crate::creation`).

use super::*;

/// An array of `shape` filled with `vals` (a scalar, or an array broadcast to `shape`), of
/// `dtype` (the value's own when None).
#[pyfunction]
#[pyo3(signature = (shape, vals, dtype = None, *, stream = None))]
pub fn full(
    shape: &Bound<'_, PyAny>,
    vals: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let shape = shape_arg("full", shape)?;
        full_impl(&shape, vals, dtype.map(|d| d.0), s)
    })
}

fn full_impl(
    shape: &[usize],
    vals: &Bound<'_, PyAny>,
    dtype: Option<Dtype>,
    s: StreamOrDevice,
) -> PyResult<PyArray> {
    if let Some(v) = py_scalar(vals)? {
        let dt = dtype.unwrap_or_else(|| v.lone_dtype());
        return out(ops::full(shape, v, Some(dt), s));
    }
    let v = to_array(vals, dtype)?;
    out(ops::broadcast_to(&v, shape, s))
}

/// An array of zeros.
#[pyfunction]
#[pyo3(signature = (shape, dtype = None, *, stream = None))]
pub fn zeros(
    shape: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_arg("zeros", shape)?;
        out(ops::zeros(
            &shape,
            dtype.map_or(Dtype::Float32, |d| d.0),
            sod(stream),
        ))
    })
}

/// An array of ones.
#[pyfunction]
#[pyo3(signature = (shape, dtype = None, *, stream = None))]
pub fn ones(
    shape: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_arg("ones", shape)?;
        out(ops::ones(
            &shape,
            dtype.map_or(Dtype::Float32, |d| d.0),
            sod(stream),
        ))
    })
}

/// An array shaped like `a` filled with `vals`, of `a`'s dtype unless `dtype` is given.
#[pyfunction]
#[pyo3(signature = (a, vals, dtype = None, *, stream = None))]
pub fn full_like(
    a: &Bound<'_, PyAny>,
    vals: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let a = arg(a)?;
        let dt = dtype.map_or(a.dtype(), |d| d.0);
        full_impl(a.shape(), vals, Some(dt), sod(stream))
    })
}

/// Zeros shaped like `a`, of `a`'s dtype unless `dtype` is given.
#[pyfunction]
#[pyo3(signature = (a, /, dtype = None, *, stream = None))]
pub fn zeros_like(
    a: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let a = arg(a)?;
        out(ops::zeros(
            a.shape(),
            dtype.map_or(a.dtype(), |d| d.0),
            sod(stream),
        ))
    })
}

/// Ones shaped like `a`, of `a`'s dtype unless `dtype` is given.
#[pyfunction]
#[pyo3(signature = (a, /, dtype = None, *, stream = None))]
pub fn ones_like(
    a: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let a = arg(a)?;
        out(ops::ones(
            a.shape(),
            dtype.map_or(a.dtype(), |d| d.0),
            sod(stream),
        ))
    })
}

/// `start, start + step, ...` below `stop`. `arange(stop)` starts at 0. The dtype is int32 when
/// every argument is an int (int64 when one does not fit), else float32.
#[pyfunction]
#[pyo3(signature = (start = None, stop = None, step = None, dtype = None, *, stream = None))]
pub fn arange(
    start: Option<&Bound<'_, PyAny>>,
    stop: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let num = |o: Option<&Bound<'_, PyAny>>| -> PyResult<Option<Scalar>> {
            match o {
                None => Ok(None),
                Some(x) if x.is_none() => Ok(None),
                Some(x) => match py_scalar(x)? {
                    Some(Scalar::Complex(..)) | None => {
                        Err(PyTypeError::new_err("arange takes real numbers"))
                    }
                    Some(v) => Ok(Some(v)),
                },
            }
        };
        let (start, stop, step) = (num(start)?, num(stop)?, num(step)?);
        let (start, stop) = match (start, stop) {
            (Some(a), Some(b)) => (a, b),
            (Some(b), None) | (None, Some(b)) => (Scalar::Int(0), b),
            (None, None) => return Err(PyTypeError::new_err("arange needs at least `stop`")),
        };
        let step = step.unwrap_or(Scalar::Int(1));
        let all_int = [start, stop, step]
            .iter()
            .all(|v| matches!(v, Scalar::Int(_) | Scalar::UInt(_) | Scalar::Bool(_)));
        let dt = match dtype {
            Some(d) => d.0,
            None if all_int => {
                if [start, stop, step]
                    .iter()
                    .all(|v| v.lone_dtype() == Dtype::Int32 || matches!(v, Scalar::Bool(_)))
                {
                    Dtype::Int32
                } else {
                    Dtype::Int64
                }
            }
            None => Dtype::Float32,
        };
        out(ops::arange(
            start.as_f64(),
            stop.as_f64(),
            step.as_f64(),
            Some(dt),
            sod(stream),
        ))
    })
}

/// `num` evenly spaced values from `start` to `stop` (included unless `endpoint` is False).
#[pyfunction]
#[pyo3(signature = (start, stop, num = 50, endpoint = true, dtype = None, stream = None))]
pub fn linspace(
    start: f64,
    stop: f64,
    num: i64,
    endpoint: bool,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        if num < 0 {
            return Err(PyValueError::new_err(format!(
                "[linspace] number of samples, {num}, must be non-negative."
            )));
        }
        let n = num as usize;
        // Without the endpoint the values are those of `num + 1` points, less the last.
        let stop = if endpoint || n == 0 {
            stop
        } else {
            start + (stop - start) * (n as f64 - 1.0) / n as f64
        };
        out(ops::linspace(
            start,
            stop,
            n,
            Some(dtype.map_or(Dtype::Float32, |d| d.0)),
            sod(stream),
        ))
    })
}

/// An `n x m` matrix (`m = n` when None) with ones on the `k`-th diagonal.
#[pyfunction]
#[pyo3(signature = (n, m = None, k = 0, dtype = None, *, stream = None))]
pub fn eye(
    n: i64,
    m: Option<i64>,
    k: isize,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let dim = |x: i64| {
            usize::try_from(x).map_err(|_| {
                PyValueError::new_err(format!(
                    "[eye] N and M must be non-negative integers, got N={n}, M={}",
                    m.map_or("None".to_string(), |m| m.to_string())
                ))
            })
        };
        out(ops::eye(
            dim(n)?,
            m.map(dim).transpose()?,
            k,
            dtype.map_or(Dtype::Float32, |d| d.0),
            sod(stream),
        ))
    })
}

/// The `n x n` identity matrix.
#[pyfunction]
#[pyo3(signature = (n, dtype = None, *, stream = None))]
pub fn identity(n: i64, dtype: Option<PyDtype>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| {
        let n = usize::try_from(n).map_err(|_| {
            PyValueError::new_err(format!(
                "[identity] N must be a non-negative integer, got {n}"
            ))
        })?;
        out(ops::identity(
            n,
            dtype.map_or(Dtype::Float32, |d| d.0),
            sod(stream),
        ))
    })
}
