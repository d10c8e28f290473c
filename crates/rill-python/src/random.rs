//! `rill.core.random`: keys and distributions with MLX's arguments.
//!
//! Every draw is a pure function of its key (a uint32 array of shape [2]); functions given no key
//! take the next one from the process-wide sequence that `seed` restarts. With a key, `split`,
//! `uniform` and `bernoulli` give MLX's numbers bit for bit (the core's claim, checked against
//! real MLX in the tests). Bounds and parameters given as arrays broadcast against `shape`; with
//! array `loc`/`scale`, `normal` is `loc + scale * normal(0, 1)` (statistically MLX's, not bit
//! for bit).

use crate::array::PyArray;
use crate::convert::py_scalar;
use crate::dtype::PyDtype;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, out, shape_arg};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::{ops, random, Array, Dtype, Scalar, StreamOrDevice};

fn key_arg(key: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Array>> {
    match key {
        Some(k) if !k.is_none() => Ok(Some(arg(k)?)),
        _ => Ok(None),
    }
}

/// A shape argument that may be None (then `default`).
fn shape_or(op: &str, shape: Option<&Bound<'_, PyAny>>, default: &[usize]) -> PyResult<Vec<usize>> {
    match shape {
        Some(s) if !s.is_none() => shape_arg(op, s),
        _ => Ok(default.to_vec()),
    }
}

/// A parameter: a real Python (or NumPy) scalar, or an array.
enum Param {
    Number(f64),
    Array(Array),
}

fn param(obj: &Bound<'_, PyAny>) -> PyResult<Param> {
    match py_scalar(obj)? {
        Some(Scalar::Complex(..)) => Err(PyValueError::new_err(
            "random parameters must be real numbers",
        )),
        Some(s) => Ok(Param::Number(s.as_f64())),
        None => Ok(Param::Array(arg(obj)?)),
    }
}

/// A parameter the core takes as a number: a scalar, or an array of one element (read, which
/// evaluates it).
fn number(op: &str, name: &str, obj: &Bound<'_, PyAny>) -> PyResult<f64> {
    match param(obj)? {
        Param::Number(v) => Ok(v),
        Param::Array(a) if a.size() == 1 => {
            let v = crate::convert::item(obj.py(), &a)?;
            match py_scalar(v.bind(obj.py()))? {
                Some(Scalar::Complex(..)) | None => {
                    Err(PyValueError::new_err(format!("[{op}] {name} must be real")))
                }
                Some(s) => Ok(s.as_f64()),
            }
        }
        Param::Array(a) => Err(PyValueError::new_err(format!(
            "[{op}] {name} must be a scalar or hold one element in rill, got shape {:?}",
            a.shape()
        ))),
    }
}

/// An optional parameter (None when absent or None).
fn optional_param(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Param>> {
    obj.filter(|x| !x.is_none()).map(param).transpose()
}

/// Whether an optional parameter is absent or a number (so the core's scalar form applies).
fn is_number(p: &Option<Param>) -> bool {
    !matches!(p, Some(Param::Array(_)))
}

/// The number of an optional parameter, `default` when absent.
fn number_or(p: &Option<Param>, default: f64) -> f64 {
    match p {
        Some(Param::Number(v)) => *v,
        _ => default,
    }
}

/// Checks that parameters of shape `param_shape` broadcast to `shape` without changing it.
fn check_broadcast(op: &str, param_shape: &[usize], shape: &[usize]) -> PyResult<()> {
    match rill_core::shape::broadcast_shapes("random", param_shape, shape) {
        Ok(b) if b == shape => Ok(()),
        _ => Err(PyValueError::new_err(format!(
            "[{op}] cannot generate random values of shape {shape:?} from parameters of shape {param_shape:?}"
        ))),
    }
}

fn as_array(p: Param, dtype: Dtype, s: StreamOrDevice) -> PyResult<Array> {
    match p {
        Param::Number(v) => ops::full(&[], v, Some(dtype), s).or_raise(),
        Param::Array(a) => ops::astype(&a, dtype, s).or_raise(),
    }
}

/// Restarts the global key sequence from `seed`.
#[pyfunction]
pub fn seed(seed: u64) {
    random::seed(seed)
}

/// The key (uint32, shape [2]) of `seed`.
#[pyfunction]
pub fn key(seed: u64) -> PyResult<PyArray> {
    guard(|| out(random::key(seed)))
}

/// `num` new keys from `key`, as the rows of a uint32 array of shape [num, 2].
#[pyfunction]
#[pyo3(signature = (key, num = 2, stream = None))]
pub fn split(key: &Bound<'_, PyAny>, num: usize, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(random::split(&arg(key)?, num, sod(stream))))
}

/// Uniform draws from `[low, high)` of `shape`, in `dtype` (float16, bfloat16 or float32).
#[pyfunction]
#[pyo3(signature = (low = None, high = None, shape = None, dtype = None, key = None, stream = None))]
pub fn uniform(
    low: Option<&Bound<'_, PyAny>>,
    high: Option<&Bound<'_, PyAny>>,
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let shape = shape_or("uniform", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Float32, |d| d.0);
        let key = key_arg(key)?;
        let lo = optional_param(low)?;
        let hi = optional_param(high)?;
        if is_number(&lo) && is_number(&hi) {
            let (l, h) = (number_or(&lo, 0.0), number_or(&hi, 1.0));
            return out(random::uniform(l, h, &shape, dtype, key.as_ref(), s));
        }
        // `low + (high - low) * u` with `u` uniform in [0, 1): the same steps as MLX.
        let lo = as_array(lo.unwrap_or(Param::Number(0.0)), dtype, s)?;
        let hi = as_array(hi.unwrap_or(Param::Number(1.0)), dtype, s)?;
        let range = ops::subtract(&hi, &lo, s).or_raise()?;
        check_broadcast("uniform", range.shape(), &shape)?;
        let unit = random::uniform(0.0, 1.0, &shape, dtype, key.as_ref(), s).or_raise()?;
        let scaled = ops::multiply(&range, &unit, s).or_raise()?;
        out(ops::add(&scaled, &lo, s))
    })
}

/// Normal draws of `shape` in the float `dtype`, with mean `loc` (0 when None) and standard
/// deviation `scale` (1 when None).
#[pyfunction]
#[pyo3(signature = (shape = None, dtype = None, loc = None, scale = None, key = None, stream = None))]
pub fn normal(
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    loc: Option<&Bound<'_, PyAny>>,
    scale: Option<&Bound<'_, PyAny>>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let shape = shape_or("normal", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Float32, |d| d.0);
        let key = key_arg(key)?;
        let loc = optional_param(loc)?;
        let scale = optional_param(scale)?;
        if is_number(&loc) && is_number(&scale) {
            let (l, sc) = (number_or(&loc, 0.0), number_or(&scale, 1.0));
            return out(random::normal(&shape, dtype, l, sc, key.as_ref(), s));
        }
        // Array parameters: standard draws scaled, then shifted.
        let mut z = random::normal(&shape, dtype, 0.0, 1.0, key.as_ref(), s).or_raise()?;
        if let Some(p) = scale {
            let sc = as_array(p, dtype, s)?;
            check_broadcast("normal", sc.shape(), &shape)?;
            z = ops::multiply(&sc, &z, s).or_raise()?;
        }
        if let Some(p) = loc {
            let l = as_array(p, dtype, s)?;
            check_broadcast("normal", l.shape(), &shape)?;
            z = ops::add(&l, &z, s).or_raise()?;
        }
        Ok(PyArray::new(z))
    })
}

/// Uniform integers from `[low, high)` of `shape` in the integer `dtype` (int32 by default).
#[pyfunction]
#[pyo3(signature = (low, high, shape = None, dtype = None, key = None, stream = None))]
pub fn randint(
    low: &Bound<'_, PyAny>,
    high: &Bound<'_, PyAny>,
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_or("randint", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Int32, |d| d.0);
        let int = |name: &str, o: &Bound<'_, PyAny>| -> PyResult<i64> {
            if let Ok(i) = o.extract::<i64>() {
                return Ok(i);
            }
            let v = number("randint", name, o)?;
            if v.fract() != 0.0 {
                return Err(PyValueError::new_err(format!(
                    "[randint] {name} must be an integer, got {v}"
                )));
            }
            Ok(v as i64)
        };
        let (lo, hi) = (int("low", low)?, int("high", high)?);
        out(random::randint(
            lo,
            hi,
            &shape,
            dtype,
            key_arg(key)?.as_ref(),
            sod(stream),
        ))
    })
}

/// True with probability `p` (a scalar or an array of probabilities), of `shape` (`p`'s shape
/// when None).
#[pyfunction]
#[pyo3(signature = (p = None, shape = None, key = None, stream = None))]
pub fn bernoulli(
    p: Option<&Bound<'_, PyAny>>,
    shape: Option<&Bound<'_, PyAny>>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let key = key_arg(key)?;
        let p = match p.filter(|x| !x.is_none()) {
            Some(x) => param(x)?,
            None => Param::Number(0.5),
        };
        match p {
            Param::Number(v) => {
                let shape = shape_or("bernoulli", shape, &[])?;
                out(random::bernoulli(v, &shape, key.as_ref(), s))
            }
            Param::Array(p) => {
                if !p.dtype().is_float() {
                    return Err(PyValueError::new_err(format!(
                        "[bernoulli] p must be a float array, got {}",
                        p.dtype()
                    )));
                }
                let shape = shape_or("bernoulli", shape, p.shape())?;
                check_broadcast("bernoulli", p.shape(), &shape)?;
                // The core's recipe with an array of probabilities: the bits compared, in
                // float32, with `p * nextafter(2^32, inf)`.
                let above_2_32 = f32::from_bits((u32::MAX as f32).to_bits() + 1);
                let scale = ops::full(&[], above_2_32, Some(Dtype::Float32), s).or_raise()?;
                let p32 = ops::astype(&p, Dtype::Float32, s).or_raise()?;
                let threshold = ops::multiply(&p32, &scale, s).or_raise()?;
                let bits = random::bits(&shape, key.as_ref(), s).or_raise()?;
                out(ops::less(&bits, &threshold, s))
            }
        }
    })
}

/// Normal draws truncated to `[lower, upper]` (scalars; infinite bounds allowed), of `shape`
/// (`[]` when None) in `dtype`.
#[pyfunction]
#[pyo3(signature = (lower, upper, shape = None, dtype = None, key = None, stream = None))]
pub fn truncated_normal(
    lower: &Bound<'_, PyAny>,
    upper: &Bound<'_, PyAny>,
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let lo = number("truncated_normal", "lower", lower)?;
        let hi = number("truncated_normal", "upper", upper)?;
        let shape = shape_or("truncated_normal", shape, &[])?;
        out(random::truncated_normal(
            lo,
            hi,
            &shape,
            dtype.map_or(Dtype::Float32, |d| d.0),
            key_arg(key)?.as_ref(),
            sod(stream),
        ))
    })
}

/// Samples (uint32) from the categorical distributions whose unnormalized log-probabilities lie
/// along `axis` of `logits`. The result has `logits`'s shape without `axis`; `shape` asks for
/// another shape (that shape broadcast against it), `num_samples` for that many samples per
/// distribution in a new last dim. At most one of the two may be given.
#[pyfunction]
#[pyo3(signature = (logits, axis = -1, shape = None, num_samples = None, key = None, stream = None))]
pub fn categorical(
    logits: &Bound<'_, PyAny>,
    axis: isize,
    shape: Option<&Bound<'_, PyAny>>,
    num_samples: Option<usize>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let logits = arg(logits)?;
        let key = key_arg(key)?;
        let shape = shape.filter(|x| !x.is_none());
        match (shape, num_samples) {
            (Some(_), Some(_)) => Err(PyValueError::new_err(
                "[categorical] at most one of shape or num_samples can be specified",
            )),
            (Some(shape), None) => {
                let shape = shape_arg("categorical", shape)?;
                let ax = rill_core::shape::normalize_axis("categorical", axis, logits.shape())
                    .or_raise()?;
                let mut rest = logits.shape().to_vec();
                let n = rest.remove(ax);
                check_broadcast("categorical", &rest, &shape)?;
                // The categories go back in at the same distance from the end as in `logits`.
                let at = ax + shape.len() - rest.len();
                let mut full = shape.clone();
                full.insert(at, n);
                let moved = ops::broadcast_to(
                    &ops::moveaxis(&logits, ax as isize, -1, s).or_raise()?,
                    &{
                        let mut b = shape.clone();
                        b.push(n);
                        b
                    },
                    s,
                )
                .or_raise()?;
                let wide = ops::moveaxis(&moved, -1, at as isize, s).or_raise()?;
                debug_assert_eq!(wide.shape(), &full[..]);
                out(random::categorical(
                    &wide,
                    at as isize,
                    None,
                    key.as_ref(),
                    s,
                ))
            }
            (None, n) => out(random::categorical(&logits, axis, n, key.as_ref(), s)),
        }
    })
}

/// Adds the `random` submodule to `m`.
/// Gumbel draws of `shape` in `dtype` (float16, bfloat16 or float32).
#[pyfunction]
#[pyo3(signature = (shape = None, dtype = None, key = None, stream = None))]
pub fn gumbel(
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_or("gumbel", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Float32, |d| d.0);
        out(random::gumbel(
            &shape,
            dtype,
            key_arg(key)?.as_ref(),
            sod(stream),
        ))
    })
}

/// Laplace draws of `shape` in the float `dtype`, with location `loc` and scale `scale`.
#[pyfunction]
#[pyo3(signature = (shape = None, dtype = None, loc = 0.0, scale = 1.0, key = None, stream = None))]
pub fn laplace(
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    loc: f64,
    scale: f64,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_or("laplace", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Float32, |d| d.0);
        out(random::laplace(
            &shape,
            dtype,
            loc,
            scale,
            key_arg(key)?.as_ref(),
            sod(stream),
        ))
    })
}

/// `x` shuffled along `axis`, or (for an int `x`) `arange(x)` shuffled, as uint32.
#[pyfunction]
#[pyo3(signature = (x, axis = 0, key = None, stream = None))]
pub fn permutation(
    x: &Bound<'_, PyAny>,
    axis: isize,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let key = key_arg(key)?;
        if let Some(Scalar::Int(n)) = py_scalar(x)? {
            let n = usize::try_from(n).map_err(|_| {
                PyValueError::new_err(format!(
                    "[permutation] the number of elements must be non-negative, got {n}"
                ))
            })?;
            return out(random::permutation_of(n, key.as_ref(), sod(stream)));
        }
        out(random::permutation(
            &arg(x)?,
            axis,
            key.as_ref(),
            sod(stream),
        ))
    })
}

/// Jointly normal draws with mean `mean` `(..., n)` and covariance `cov` `(..., n, n)`, of
/// `shape + [n]` (the broadcast batch shape of `mean` and `cov` when `shape` is empty); float32.
#[pyfunction]
#[pyo3(signature = (mean, cov, shape = None, dtype = None, key = None, stream = None))]
pub fn multivariate_normal(
    mean: &Bound<'_, PyAny>,
    cov: &Bound<'_, PyAny>,
    shape: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDtype>,
    key: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let shape = shape_or("multivariate_normal", shape, &[])?;
        let dtype = dtype.map_or(Dtype::Float32, |d| d.0);
        let key = key_arg(key)?;
        out(random::multivariate_normal(
            &arg(mean)?,
            &arg(cov)?,
            &shape,
            dtype,
            key.as_ref(),
            sod(stream),
        ))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let r = PyModule::new(m.py(), "random")?;
    r.add_function(wrap_pyfunction!(seed, &r)?)?;
    r.add_function(wrap_pyfunction!(key, &r)?)?;
    r.add_function(wrap_pyfunction!(split, &r)?)?;
    r.add_function(wrap_pyfunction!(uniform, &r)?)?;
    r.add_function(wrap_pyfunction!(normal, &r)?)?;
    r.add_function(wrap_pyfunction!(randint, &r)?)?;
    r.add_function(wrap_pyfunction!(bernoulli, &r)?)?;
    r.add_function(wrap_pyfunction!(truncated_normal, &r)?)?;
    r.add_function(wrap_pyfunction!(categorical, &r)?)?;
    r.add_function(wrap_pyfunction!(gumbel, &r)?)?;
    r.add_function(wrap_pyfunction!(laplace, &r)?)?;
    r.add_function(wrap_pyfunction!(permutation, &r)?)?;
    r.add_function(wrap_pyfunction!(multivariate_normal, &r)?)?;
    m.add_submodule(&r)?;
    Ok(())
}
