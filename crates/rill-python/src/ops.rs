//! The op functions of `rill.core`, with MLX's names and arguments. Each takes `stream=` (a
//! Stream, a Device, a DeviceType or None) and only builds: nothing runs until a value is needed.
//!
//! Python scalars meet arrays the way MLX types them ("weakly"): `int8_array + 1` stays int8,
//! `int8_array + 1.5` is float32, and an integer that does not fit the array's integer type raises
//! `ValueError`. NumPy arrays that meet a rill array take its dtype, as in MLX.

use crate::array::PyArray;
use crate::convert::{self, from_numpy, py_scalar, scalar_array, to_array, weak_scalar};
use crate::dtype::PyDtype;
use crate::errors::{guard, OrRaise};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PySequence, PyTuple};
use rill_core::{ops, Array, Dtype, Scalar, StreamOrDevice};

/// A core binary builder with its stream argument fixed to `StreamOrDevice`.
pub type BinaryFn = fn(&Array, &Array, StreamOrDevice) -> rill_core::Result<Array>;
type UnaryFn = fn(&Array, StreamOrDevice) -> rill_core::Result<Array>;

/// What one operand of a binary op is.
enum Operand<'py> {
    Array(Array),
    Scalar(Scalar),
    Numpy(Bound<'py, PyAny>),
    /// Lists, tuples and other array-likes: converted as `array()` would.
    Other(Bound<'py, PyAny>),
}

fn classify<'py>(obj: &Bound<'py, PyAny>, allow_other: bool) -> PyResult<Option<Operand<'py>>> {
    if let Ok(a) = obj.cast::<PyArray>() {
        return Ok(Some(Operand::Array(a.get().get())));
    }
    if let Some(s) = py_scalar(obj)? {
        return Ok(Some(Operand::Scalar(s)));
    }
    if convert::is_numpy_array(obj)? {
        return Ok(Some(Operand::Numpy(obj.clone())));
    }
    if allow_other {
        return Ok(Some(Operand::Other(obj.clone())));
    }
    Ok(None)
}

/// Both operands as arrays, typed as MLX types them.
fn pair(a: Operand<'_>, b: Operand<'_>, s: StreamOrDevice) -> PyResult<(Array, Array)> {
    use Operand::*;
    fn strong(o: Operand<'_>) -> PyResult<Operand<'_>> {
        Ok(match o {
            Operand::Other(x) => Operand::Array(to_array(&x, None)?),
            o => o,
        })
    }
    Ok(match (strong(a)?, strong(b)?) {
        (Array(x), Array(y)) => (x, y),
        (Array(x), Scalar(v)) => {
            let y = weak_scalar(&x, v, s)?;
            (x, y)
        }
        (Scalar(v), Array(y)) => (weak_scalar(&y, v, s)?, y),
        (Scalar(v), Scalar(w)) => (
            scalar_array(v, v.lone_dtype(), s)?,
            scalar_array(w, w.lone_dtype(), s)?,
        ),
        (Array(x), Numpy(n)) => {
            let y = from_numpy(&n, None, Some(x.dtype()))?;
            (x, y)
        }
        (Numpy(n), Array(y)) => (from_numpy(&n, None, Some(y.dtype()))?, y),
        (Numpy(n), Scalar(v)) => {
            let x = from_numpy(&n, None, None)?;
            let y = weak_scalar(&x, v, s)?;
            (x, y)
        }
        (Scalar(v), Numpy(n)) => {
            let y = from_numpy(&n, None, None)?;
            (weak_scalar(&y, v, s)?, y)
        }
        (Numpy(n), Numpy(m)) => (from_numpy(&n, None, None)?, from_numpy(&m, None, None)?),
        (Other(_), _) | (_, Other(_)) => unreachable!("made strong above"),
    })
}

/// Operands of an operator (`a + b`): None when one of them is not a number, an array or a NumPy
/// array, so the operator returns `NotImplemented`.
pub fn operator_operands(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Option<(Array, Array)>> {
    match (classify(a, false)?, classify(b, false)?) {
        (Some(x), Some(y)) => pair(x, y, StreamOrDevice::Default).map(Some),
        _ => Ok(None),
    }
}

/// Operands of a binary function (`add(a, b)`): anything `array()` accepts.
pub(crate) fn function_operands(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    s: StreamOrDevice,
) -> PyResult<(Array, Array)> {
    let x = classify(a, true)?.expect("allow_other accepts everything");
    let y = classify(b, true)?.expect("allow_other accepts everything");
    pair(x, y, s)
}

/// An array and another operand (anything `array()` accepts), typed as in a binary op: a Python
/// scalar takes the array's dtype (weakly).
pub(crate) fn array_and_operand(
    x: Array,
    b: &Bound<'_, PyAny>,
    s: StreamOrDevice,
) -> PyResult<(Array, Array)> {
    let y = classify(b, true)?.expect("allow_other accepts everything");
    pair(Operand::Array(x), y, s)
}

/// One array argument: an array, or anything `array()` accepts.
pub(crate) fn arg(obj: &Bound<'_, PyAny>) -> PyResult<Array> {
    to_array(obj, None)
}

pub(crate) fn out(a: rill_core::Result<Array>) -> PyResult<PyArray> {
    Ok(PyArray::new(a.or_raise()?))
}

/// A list of ints from a method's `*args`: `f(2, 3)` or `f((2, 3))` / `f([2, 3])`.
pub fn int_list_from_varargs(args: &Bound<'_, PyTuple>) -> PyResult<Vec<isize>> {
    if args.len() == 1 {
        let first = args.get_item(0)?;
        if first.is_instance_of::<PyTuple>() || first.is_instance_of::<PyList>() {
            return first.extract();
        }
    }
    args.iter().map(|x| x.extract::<isize>()).collect()
}

/// An int or a sequence of ints.
pub(crate) fn int_or_ints(obj: &Bound<'_, PyAny>) -> PyResult<Vec<isize>> {
    if let Ok(i) = obj.extract::<isize>() {
        return Ok(vec![i]);
    }
    if obj.cast::<PySequence>().is_ok() {
        return obj.extract();
    }
    Err(PyTypeError::new_err(format!(
        "expected an int or a sequence of ints, got {}",
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

/// A shape argument: an int or a sequence of non-negative ints.
pub(crate) fn shape_arg(op: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    int_or_ints(obj)?
        .into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| {
                PyValueError::new_err(format!("[{op}] Negative dimensions not allowed (got {d})."))
            })
        })
        .collect()
}

pub fn squeeze_impl(
    a: &Array,
    axis: Option<&Bound<'_, PyAny>>,
    s: StreamOrDevice,
) -> PyResult<Array> {
    let axes = match axis {
        Some(x) if !x.is_none() => Some(int_or_ints(x)?),
        _ => None,
    };
    ops::squeeze(a, axes.as_deref(), s).or_raise()
}

/// `round(a, decimals)`: half to even, to `decimals` decimal places (the core's `round`).
pub fn round_impl(a: &Array, decimals: i32, s: StreamOrDevice) -> PyResult<Array> {
    ops::round(a, decimals, s).or_raise()
}

// ---------------------------------------------------------------- creation

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

// ---------------------------------------------------------------- elementwise

fn unary(f: UnaryFn, a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(f(&arg(a)?, sod(stream))))
}

fn binary(
    f: BinaryFn,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        out(f(&x, &y, s))
    })
}

macro_rules! unary_fns {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (a, /, *, stream = None))]
        pub fn $name(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
            unary($f, a, stream)
        }
    )*};
}

unary_fns!(
    abs => ops::abs, "Elementwise absolute value.";
    negative => ops::negative, "Elementwise negation (not for bool arrays: use `logical_not`).";
    sign => ops::sign, "Elementwise sign: -1, 0 or 1.";
    exp => ops::exp, "Elementwise exponential.";
    expm1 => ops::expm1, "Elementwise `exp(x) - 1`, accurate near 0.";
    log => ops::log, "Elementwise natural logarithm.";
    log1p => ops::log1p, "Elementwise `log(1 + x)`, accurate near 0.";
    log2 => ops::log2, "Elementwise base-2 logarithm.";
    log10 => ops::log10, "Elementwise base-10 logarithm.";
    sqrt => ops::sqrt, "Elementwise square root.";
    rsqrt => ops::rsqrt, "Elementwise reciprocal square root.";
    square => ops::square, "Elementwise square.";
    reciprocal => ops::reciprocal, "Elementwise reciprocal.";
    sin => ops::sin, "Elementwise sine.";
    cos => ops::cos, "Elementwise cosine.";
    tan => ops::tan, "Elementwise tangent.";
    arcsin => ops::arcsin, "Elementwise inverse sine.";
    arccos => ops::arccos, "Elementwise inverse cosine.";
    arctan => ops::arctan, "Elementwise inverse tangent.";
    sinh => ops::sinh, "Elementwise hyperbolic sine.";
    cosh => ops::cosh, "Elementwise hyperbolic cosine.";
    tanh => ops::tanh, "Elementwise hyperbolic tangent.";
    sigmoid => ops::sigmoid, "Elementwise logistic sigmoid `1 / (1 + exp(-x))`.";
    erf => ops::erf, "Elementwise error function.";
    erfinv => ops::erfinv, "Elementwise inverse error function.";
    floor => ops::floor, "Elementwise floor.";
    ceil => ops::ceil, "Elementwise ceiling.";
    logical_not => ops::logical_not, "Elementwise logical not (nonzero is True).";
    isnan => ops::isnan, "True where the element is NaN.";
    isinf => ops::isinf, "True where the element is infinite.";
    bitwise_invert => ops::bitwise_invert, "Elementwise bitwise not of integer or bool arrays.";
    arcsinh => ops::arcsinh, "Elementwise inverse hyperbolic sine.";
    arccosh => ops::arccosh, "Elementwise inverse hyperbolic cosine.";
    arctanh => ops::arctanh, "Elementwise inverse hyperbolic tangent.";
    trunc => ops::trunc, "Elementwise rounding toward zero.";
    isfinite => ops::isfinite, "True where the element is neither infinite nor NaN.";
    isposinf => ops::isposinf, "True where the element is positive infinity.";
    isneginf => ops::isneginf, "True where the element is negative infinity.";
    degrees => ops::degrees, "Elementwise conversion from radians to degrees.";
    radians => ops::radians, "Elementwise conversion from degrees to radians.";
);

/// `a` with NaN replaced by `nan`, positive infinity by `posinf` and negative infinity by
/// `neginf` (the dtype's largest and lowest finite values when None).
#[pyfunction]
#[pyo3(signature = (a, nan = 0.0, posinf = None, neginf = None, *, stream = None))]
pub fn nan_to_num(
    a: &Bound<'_, PyAny>,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::nan_to_num(&arg(a)?, nan, posinf, neginf, sod(stream))))
}

/// Elementwise rounding to `decimals` decimal places, half to even.
#[pyfunction]
#[pyo3(signature = (a, /, decimals = 0, stream = None))]
pub fn round(a: &Bound<'_, PyAny>, decimals: i32, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| Ok(PyArray::new(round_impl(&arg(a)?, decimals, sod(stream))?)))
}

/// `a` itself (`+a`).
#[pyfunction]
#[pyo3(signature = (a, /, *, stream = None))]
pub fn positive(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    let _ = stream;
    guard(|| Ok(PyArray::new(arg(a)?)))
}

macro_rules! binary_fns {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (a, b, stream = None))]
        pub fn $name(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
            binary($f, a, b, stream)
        }
    )*};
}

binary_fns!(
    add => ops::add, "Elementwise `a + b` with broadcasting.";
    subtract => ops::subtract, "Elementwise `a - b` with broadcasting.";
    multiply => ops::multiply, "Elementwise `a * b` with broadcasting.";
    divide => ops::divide, "Elementwise true division `a / b` (integers divide as float32).";
    floor_divide => ops::floor_divide, "Elementwise `a // b`.";
    remainder => ops::remainder, "Elementwise `a % b`, with the sign of `b` (Python's `%`).";
    power => ops::power, "Elementwise `a ** b`.";
    maximum => ops::maximum, "Elementwise maximum.";
    minimum => ops::minimum, "Elementwise minimum.";
    arctan2 => ops::arctan2, "Elementwise `arctan(a / b)` using the signs of both for the quadrant.";
    logaddexp => ops::logaddexp, "Elementwise `log(exp(a) + exp(b))`, computed stably.";
    equal => ops::equal, "Elementwise `a == b`.";
    not_equal => ops::not_equal, "Elementwise `a != b`.";
    less => ops::less, "Elementwise `a < b`.";
    less_equal => ops::less_equal, "Elementwise `a <= b`.";
    greater => ops::greater, "Elementwise `a > b`.";
    greater_equal => ops::greater_equal, "Elementwise `a >= b`.";
    logical_and => ops::logical_and, "Elementwise logical and (nonzero is True).";
    logical_or => ops::logical_or, "Elementwise logical or (nonzero is True).";
    bitwise_and => ops::bitwise_and, "Elementwise bitwise and of integer or bool arrays.";
    bitwise_or => ops::bitwise_or, "Elementwise bitwise or of integer or bool arrays.";
    bitwise_xor => ops::bitwise_xor, "Elementwise bitwise xor of integer or bool arrays.";
    left_shift => ops::left_shift, "Elementwise `a << b` of integer arrays.";
    right_shift => ops::right_shift, "Elementwise `a >> b` of integer arrays.";
);

/// Elementwise logical xor (nonzero is True).
#[pyfunction]
#[pyo3(signature = (a, b, stream = None))]
pub fn logical_xor(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        let x = ops::astype(&x, Dtype::Bool, s).or_raise()?;
        let y = ops::astype(&y, Dtype::Bool, s).or_raise()?;
        out(ops::not_equal(&x, &y, s))
    })
}

/// `(a // b, a % b)`.
#[pyfunction]
#[pyo3(signature = (a, b, stream = None))]
pub fn divmod(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<(PyArray, PyArray)> {
    guard(|| {
        let s = sod(stream);
        let (x, y) = function_operands(a, b, s)?;
        Ok((
            out(ops::floor_divide(&x, &y, s))?,
            out(ops::remainder(&x, &y, s))?,
        ))
    })
}

/// Elementwise `x` where `condition` is True, else `y`; the three broadcast together. Python
/// scalars for `x` or `y` take the other's dtype as in binary ops.
#[pyfunction]
#[pyo3(signature = (condition, x, y, /, *, stream = None))]
pub fn r#where(
    condition: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = sod(stream);
        let c = arg(condition)?;
        let (x, y) = function_operands(x, y, s)?;
        out(ops::where_(&c, &x, &y, s))
    })
}

/// `a` converted to `dtype`.
#[pyfunction]
#[pyo3(signature = (a, dtype, /, *, stream = None))]
pub fn astype(
    a: &Bound<'_, PyAny>,
    dtype: PyDtype,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(ops::astype(&arg(a)?, dtype.0, sod(stream))))
}

/// A row-contiguous copy of `a` (MLX's `contiguous`; `allow_col_major` is accepted and ignored:
/// the copy is always row-major).
#[pyfunction]
#[pyo3(signature = (a, /, allow_col_major = false, *, stream = None))]
pub fn contiguous(
    a: &Bound<'_, PyAny>,
    allow_col_major: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    let _ = allow_col_major;
    guard(|| out(ops::copy(&arg(a)?, sod(stream))))
}

// ---------------------------------------------------------------- shapes

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),* $(,)?) => {$( m.add_function(wrap_pyfunction!($f, m)?)?; )*};
    }
    add!(
        full,
        zeros,
        ones,
        full_like,
        zeros_like,
        ones_like,
        arange,
        linspace,
        eye,
        identity,
        abs,
        negative,
        sign,
        exp,
        expm1,
        log,
        log1p,
        log2,
        log10,
        sqrt,
        rsqrt,
        square,
        reciprocal,
        sin,
        cos,
        tan,
        arcsin,
        arccos,
        arctan,
        sinh,
        cosh,
        tanh,
        sigmoid,
        erf,
        erfinv,
        floor,
        ceil,
        logical_not,
        isnan,
        isinf,
        bitwise_invert,
        arcsinh,
        arccosh,
        arctanh,
        trunc,
        isfinite,
        isposinf,
        isneginf,
        degrees,
        radians,
        nan_to_num,
        round,
        positive,
        add,
        subtract,
        multiply,
        divide,
        floor_divide,
        remainder,
        power,
        maximum,
        minimum,
        arctan2,
        logaddexp,
        equal,
        not_equal,
        less,
        less_equal,
        greater,
        greater_equal,
        logical_and,
        logical_or,
        logical_xor,
        bitwise_and,
        bitwise_or,
        bitwise_xor,
        left_shift,
        right_shift,
        divmod,
        r#where,
        astype,
        contiguous,
        reshape,
        flatten,
        transpose,
        swapaxes,
        moveaxis,
        expand_dims,
        squeeze,
        broadcast_to,
        broadcast_arrays,
        broadcast_shapes,
        slice,
    );
    // MLX's other names for the same ops.
    for (alias, name) in [
        ("asin", "arcsin"),
        ("acos", "arccos"),
        ("atan", "arctan"),
        ("asinh", "arcsinh"),
        ("acosh", "arccosh"),
        ("atanh", "arctanh"),
        ("atan2", "arctan2"),
        ("pow", "power"),
        ("bitwise_left_shift", "left_shift"),
        ("bitwise_right_shift", "right_shift"),
        ("permute_dims", "transpose"),
    ] {
        m.add(alias, m.getattr(name)?)?;
    }
    Ok(())
}
