//! The op functions of `rill.core`, with MLX's names and arguments. Each takes `stream=` (a
//! Stream, a Device, a DeviceType or None) and only builds: nothing runs until a value is needed.
//!
//! Python scalars meet arrays the way MLX types them ("weakly"): `int8_array + 1` stays int8,
//! `int8_array + 1.5` is float32, and an integer that does not fit the array's integer type raises
//! `ValueError`. NumPy arrays that meet a rill array take its dtype, as in MLX.
//!
//! This file holds the argument handling the families share and the registration; the functions
//! are by family: `creation.rs` (fills, ranges, identity), `elementwise.rs` (unary, binary,
//! comparison and logical ops, `where`, `astype`), `shape.rs` (reshapes, transposes, broadcasts,
//! slices).

mod creation;
mod elementwise;
mod shape;

pub use creation::*;
pub use elementwise::*;
pub use shape::*;

use crate::array::PyArray;
use crate::convert::{self, from_numpy, py_scalar, scalar_array, to_array, weak_operand};
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
            let y = weak_operand(&x, v, s)?;
            (x, y)
        }
        (Scalar(v), Array(y)) => (weak_operand(&y, v, s)?, y),
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
            let y = weak_operand(&x, v, s)?;
            (x, y)
        }
        (Scalar(v), Numpy(n)) => {
            let y = from_numpy(&n, None, None)?;
            (weak_operand(&y, v, s)?, y)
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
