//! The ops: each builds a lazy array (nothing runs until `rill_eval`) and writes it to `*out`.
//!
//! Every op takes its stream last: NULL runs it on the default stream (the innermost
//! `rill_scope_push_*` of this thread, else the default stream of the default device), a stream
//! handle on that stream (MLX's `stream=`). Shapes, axes and dtypes are checked when the op is
//! built: a mismatch fails here, with a message naming the op and the shapes, never later.
//! Broadcasting and type promotion are NumPy's and MLX's.
//!
//! Axes are C `int`s; negative ones count from the end. A reduction's `axes` may be NULL (with
//! `naxes` 0) for every axis.

use crate::array::array_out;
use crate::error::Result;
use crate::handles::{
    array, dtype_from_c, rill_array, rill_dtype, rill_stream, slice, stream_arg, Out,
};
use rill_core::{ops, random, Array, StreamOrDevice};
use std::ffi::c_int;

type Binary = fn(&Array, &Array, StreamOrDevice) -> rill_core::Result<Array>;
type Unary = fn(&Array, StreamOrDevice) -> rill_core::Result<Array>;
type Reduce = fn(&Array, Option<&[isize]>, bool, StreamOrDevice) -> rill_core::Result<Array>;

/// # Safety
/// The crate's rules: `out` points to a `rill_array*`; `a`, `b` and `s` are NULL or live handles.
unsafe fn binary(
    op: &'static str,
    f: Binary,
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(op, out, || {
        // SAFETY: `a`, `b` and `s` are NULL or live handles (the contract).
        let (a, b, s) = unsafe { (array(op, "a", a)?, array(op, "b", b)?, stream_arg(s)) };
        Ok(f(a, b, s)?)
    })
}

/// # Safety
/// As [`binary`].
unsafe fn unary(
    op: &'static str,
    f: Unary,
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(op, out, || {
        // SAFETY: `a` and `s` are NULL or live handles (the contract).
        let (a, s) = unsafe { (array(op, "a", a)?, stream_arg(s)) };
        Ok(f(a, s)?)
    })
}

/// C's axes as rill's: `None` (every axis) for NULL with no axes.
///
/// # Safety
/// Non-NULL `axes` points to `naxes` ints.
unsafe fn axes_arg(op: &str, axes: *const c_int, naxes: usize) -> Result<Option<Vec<isize>>> {
    if axes.is_null() && naxes == 0 {
        return Ok(None);
    }
    // SAFETY: `axes` points to `naxes` ints (the contract).
    let axes = unsafe { slice(op, "axes", axes, naxes) }?;
    Ok(Some(axes.iter().map(|&a| a as isize).collect()))
}

/// # Safety
/// As [`binary`], and non-NULL `axes` points to `naxes` ints.
#[allow(clippy::too_many_arguments)] // the C function's six, the op's name and its builder
unsafe fn reduce(
    op: &'static str,
    f: Reduce,
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(op, out, || {
        // SAFETY: `a`, `axes` and `s` are as the contract says.
        let (a, axes, s) = unsafe {
            (
                array(op, "a", a)?,
                axes_arg(op, axes, naxes)?,
                stream_arg(s),
            )
        };
        Ok(f(a, axes.as_deref(), keepdims, s)?)
    })
}

// ---------------------------------------------------------------- elementwise, two arrays

/// `a + b`.
#[no_mangle]
pub unsafe extern "C" fn rill_add(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_add", ops::add, out, a, b, s) }
}

/// `a - b` (bool arrays are refused, as MLX).
#[no_mangle]
pub unsafe extern "C" fn rill_subtract(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_subtract", ops::subtract, out, a, b, s) }
}

/// `a * b`.
#[no_mangle]
pub unsafe extern "C" fn rill_multiply(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_multiply", ops::multiply, out, a, b, s) }
}

/// `a / b`, true division (integers divide as float32).
#[no_mangle]
pub unsafe extern "C" fn rill_divide(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_divide", ops::divide, out, a, b, s) }
}

/// `a` to the power `b`, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_power(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_power", ops::power, out, a, b, s) }
}

/// The larger of `a` and `b`, elementwise (NaN if either is NaN).
#[no_mangle]
pub unsafe extern "C" fn rill_maximum(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_maximum", ops::maximum, out, a, b, s) }
}

/// The smaller of `a` and `b`, elementwise (NaN if either is NaN).
#[no_mangle]
pub unsafe extern "C" fn rill_minimum(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_minimum", ops::minimum, out, a, b, s) }
}

/// `a == b`, elementwise, as a bool array.
#[no_mangle]
pub unsafe extern "C" fn rill_equal(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_equal", ops::equal, out, a, b, s) }
}

/// `a < b`, elementwise, as a bool array.
#[no_mangle]
pub unsafe extern "C" fn rill_less(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_less", ops::less, out, a, b, s) }
}

/// `a > b`, elementwise, as a bool array.
#[no_mangle]
pub unsafe extern "C" fn rill_greater(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_greater", ops::greater, out, a, b, s) }
}

/// The matrix product of `a` and `b` (NumPy's rules: 1-D operands, batch dims broadcast).
#[no_mangle]
pub unsafe extern "C" fn rill_matmul(
    out: *mut *mut rill_array,
    a: *const rill_array,
    b: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { binary("rill_matmul", ops::matmul, out, a, b, s) }
}

/// `x` where `cond` is true, else `y` (the three broadcast together).
#[no_mangle]
pub unsafe extern "C" fn rill_where(
    out: *mut *mut rill_array,
    cond: *const rill_array,
    x: *const rill_array,
    y: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_where";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        // SAFETY: the handles are NULL or live (the crate's rules).
        let (c, x, y, s) = unsafe {
            (
                array(OP, "cond", cond)?,
                array(OP, "x", x)?,
                array(OP, "y", y)?,
                stream_arg(s),
            )
        };
        Ok(ops::where_(c, x, y, s)?)
    })
}

// ---------------------------------------------------------------- elementwise, one array

/// `e` to the power `a`, elementwise (integers and bool give float32).
#[no_mangle]
pub unsafe extern "C" fn rill_exp(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_exp", ops::exp, out, a, s) }
}

/// The natural logarithm, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_log(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_log", ops::log, out, a, s) }
}

/// The square root, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_sqrt(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_sqrt", ops::sqrt, out, a, s) }
}

/// The absolute value, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_abs(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_abs", ops::abs, out, a, s) }
}

/// `-a`, elementwise (bool arrays are refused).
#[no_mangle]
pub unsafe extern "C" fn rill_negative(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_negative", ops::negative, out, a, s) }
}

/// The sine, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_sin(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_sin", ops::sin, out, a, s) }
}

/// The cosine, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_cos(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_cos", ops::cos, out, a, s) }
}

/// The hyperbolic tangent, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_tanh(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_tanh", ops::tanh, out, a, s) }
}

/// `1 / (1 + exp(-a))`, elementwise.
#[no_mangle]
pub unsafe extern "C" fn rill_sigmoid(
    out: *mut *mut rill_array,
    a: *const rill_array,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { unary("rill_sigmoid", ops::sigmoid, out, a, s) }
}

// ---------------------------------------------------------------- reductions

/// The sum over `axes` (every axis when `axes` is NULL); `keepdims` keeps them with size 1.
#[no_mangle]
pub unsafe extern "C" fn rill_sum(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { reduce("rill_sum", ops::sum, out, a, axes, naxes, keepdims, s) }
}

/// The mean over `axes` (integers and bool give float32).
#[no_mangle]
pub unsafe extern "C" fn rill_mean(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { reduce("rill_mean", ops::mean, out, a, axes, naxes, keepdims, s) }
}

/// The largest element over `axes` (an axis of size 0 is an error).
#[no_mangle]
pub unsafe extern "C" fn rill_max(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { reduce("rill_max", ops::max, out, a, axes, naxes, keepdims, s) }
}

/// The smallest element over `axes` (an axis of size 0 is an error).
#[no_mangle]
pub unsafe extern "C" fn rill_min(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { reduce("rill_min", ops::min, out, a, axes, naxes, keepdims, s) }
}

/// The product over `axes`.
#[no_mangle]
pub unsafe extern "C" fn rill_prod(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    keepdims: bool,
    s: *const rill_stream,
) -> c_int {
    // SAFETY: the caller keeps the crate's rules.
    unsafe { reduce("rill_prod", ops::prod, out, a, axes, naxes, keepdims, s) }
}

/// `exp(a) / sum(exp(a))` over `axes` (every axis when NULL), computed stably.
#[no_mangle]
pub unsafe extern "C" fn rill_softmax(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_softmax";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        // SAFETY: `a`, `axes` and `s` are as the crate's rules say.
        let (a, axes, s) = unsafe {
            (
                array(OP, "a", a)?,
                axes_arg(OP, axes, naxes)?,
                stream_arg(s),
            )
        };
        Ok(ops::softmax(a, axes.as_deref(), false, s)?)
    })
}

// ---------------------------------------------------------------- shapes and dtypes

/// `a` with the shape `shape[0..ndim]` (one size may be -1: inferred), as a view where possible.
#[no_mangle]
pub unsafe extern "C" fn rill_reshape(
    out: *mut *mut rill_array,
    a: *const rill_array,
    shape: *const i64,
    ndim: usize,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_reshape";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        // SAFETY: `a`, `shape` and `s` are as the crate's rules say.
        let (a, shape, s) = unsafe {
            (
                array(OP, "a", a)?,
                slice(OP, "shape", shape, ndim)?,
                stream_arg(s),
            )
        };
        // A size that does not fit isize cannot be any array's: saturating keeps it refused.
        let shape: Vec<isize> = shape
            .iter()
            .map(|&d| isize::try_from(d).unwrap_or(isize::MAX))
            .collect();
        Ok(ops::reshape(a, &shape, s)?)
    })
}

/// `a` with its dims permuted: output dim `i` is input dim `axes[i]`; NULL `axes` (with `naxes`
/// 0) reverses them.
#[no_mangle]
pub unsafe extern "C" fn rill_transpose(
    out: *mut *mut rill_array,
    a: *const rill_array,
    axes: *const c_int,
    naxes: usize,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_transpose";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        // SAFETY: `a`, `axes` and `s` are as the crate's rules say.
        let (a, axes, s) = unsafe {
            (
                array(OP, "a", a)?,
                axes_arg(OP, axes, naxes)?,
                stream_arg(s),
            )
        };
        Ok(ops::transpose(a, axes.as_deref(), s)?)
    })
}

/// `a` broadcast to `shape[0..ndim]`.
#[no_mangle]
pub unsafe extern "C" fn rill_broadcast_to(
    out: *mut *mut rill_array,
    a: *const rill_array,
    shape: *const usize,
    ndim: usize,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_broadcast_to";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        // SAFETY: `a`, `shape` and `s` are as the crate's rules say.
        let (a, shape, s) = unsafe {
            (
                array(OP, "a", a)?,
                slice(OP, "shape", shape, ndim)?,
                stream_arg(s),
            )
        };
        Ok(ops::broadcast_to(a, shape, s)?)
    })
}

/// `a` converted to `dtype` (floats to integers as NumPy and MLX do on x86-64).
#[no_mangle]
pub unsafe extern "C" fn rill_astype(
    out: *mut *mut rill_array,
    a: *const rill_array,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_astype";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `a` and `s` are NULL or live handles (the crate's rules).
        let (a, s) = unsafe { (array(OP, "a", a)?, stream_arg(s)) };
        Ok(ops::astype(a, dtype, s)?)
    })
}

// ---------------------------------------------------------------- arrays from nothing

/// An array of `dtype` and shape `shape[0..ndim]`, every element `value` (converted to `dtype`).
#[no_mangle]
pub unsafe extern "C" fn rill_full(
    out: *mut *mut rill_array,
    shape: *const usize,
    ndim: usize,
    value: f64,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_full";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes and `s` is NULL or live (the crate's rules).
        let (shape, s) = unsafe { (slice(OP, "shape", shape, ndim)?, stream_arg(s)) };
        Ok(ops::full(shape, value, Some(dtype), s)?)
    })
}

/// An array of `dtype` and shape `shape[0..ndim]` filled with zeros.
#[no_mangle]
pub unsafe extern "C" fn rill_zeros(
    out: *mut *mut rill_array,
    shape: *const usize,
    ndim: usize,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_zeros";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes and `s` is NULL or live (the crate's rules).
        let (shape, s) = unsafe { (slice(OP, "shape", shape, ndim)?, stream_arg(s)) };
        Ok(ops::zeros(shape, dtype, s)?)
    })
}

/// An array of `dtype` and shape `shape[0..ndim]` filled with ones.
#[no_mangle]
pub unsafe extern "C" fn rill_ones(
    out: *mut *mut rill_array,
    shape: *const usize,
    ndim: usize,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_ones";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes and `s` is NULL or live (the crate's rules).
        let (shape, s) = unsafe { (slice(OP, "shape", shape, ndim)?, stream_arg(s)) };
        Ok(ops::ones(shape, dtype, s)?)
    })
}

/// `start, start + step, ...` up to (not including) `stop`, of `dtype`.
#[no_mangle]
pub unsafe extern "C" fn rill_arange(
    out: *mut *mut rill_array,
    start: f64,
    stop: f64,
    step: f64,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_arange";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `s` is NULL or a live stream handle (the crate's rules).
        let s = unsafe { stream_arg(s) };
        Ok(ops::arange(start, stop, step, Some(dtype), s)?)
    })
}

// ---------------------------------------------------------------- random

/// Restarts the global random key sequence from `seed` (MLX's `random.seed`).
#[no_mangle]
pub extern "C" fn rill_random_seed(seed: u64) -> c_int {
    crate::error::guard("rill_random_seed", || {
        random::seed(seed);
        Ok(())
    })
}

/// Uniform draws from `[low, high)` of shape `shape[0..ndim]` in the float `dtype`, with the
/// next key of the global sequence (the same numbers on every device for the same seed).
#[no_mangle]
pub unsafe extern "C" fn rill_random_uniform(
    out: *mut *mut rill_array,
    low: f64,
    high: f64,
    shape: *const usize,
    ndim: usize,
    dtype: rill_dtype,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_random_uniform";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes and `s` is NULL or live (the crate's rules).
        let (shape, s) = unsafe { (slice(OP, "shape", shape, ndim)?, stream_arg(s)) };
        Ok(random::uniform(low, high, shape, dtype, None, s)?)
    })
}

/// Normal draws with mean `loc` and standard deviation `scale`, of shape `shape[0..ndim]` in the
/// float `dtype`, with the next key of the global sequence.
#[no_mangle]
pub unsafe extern "C" fn rill_random_normal(
    out: *mut *mut rill_array,
    shape: *const usize,
    ndim: usize,
    dtype: rill_dtype,
    loc: f64,
    scale: f64,
    s: *const rill_stream,
) -> c_int {
    const OP: &str = "rill_random_normal";
    // SAFETY: `out` is NULL or writable (the crate's rules).
    let out = unsafe { Out::new(out) };
    array_out(OP, out, || {
        let dtype = dtype_from_c(OP, dtype)?;
        // SAFETY: `shape` points to `ndim` sizes and `s` is NULL or live (the crate's rules).
        let (shape, s) = unsafe { (slice(OP, "shape", shape, ndim)?, stream_arg(s)) };
        Ok(random::normal(shape, dtype, loc, scale, None, s)?)
    })
}
