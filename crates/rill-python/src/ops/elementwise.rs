//! Elementwise ops: the unary math functions, binary arithmetic with MLX's weak scalars,
//! comparisons, logical and bitwise ops, `where`, `astype`, `contiguous`.

use super::*;

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
