//! Reductions (`sum`, `mean`, `var`, `argmax`, ...), cumulative scans (`cumsum`, ...) and
//! `softmax`: the functions with MLX's arguments, and the array methods that mirror them
//! (`a.sum(axis=1)`).
//!
//! `axis` is None (every axis), an int or a sequence of ints; the core checks the axes and names
//! the op and the shape in its `ValueError`.

use crate::array::PyArray;
use crate::dtype::PyDtype;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, int_or_ints, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::{ops, Array, Dtype, StreamOrDevice};

type ReduceFn = fn(&Array, Option<&[isize]>, bool, StreamOrDevice) -> rill_core::Result<Array>;
type ArgReduceFn = fn(&Array, Option<isize>, bool, StreamOrDevice) -> rill_core::Result<Array>;
type VarFn = fn(&Array, Option<&[isize]>, bool, usize, StreamOrDevice) -> rill_core::Result<Array>;
type ScanFn = fn(&Array, Option<isize>, bool, bool, StreamOrDevice) -> rill_core::Result<Array>;

/// An `axis` argument: None, an int or a sequence of ints.
fn axes_arg(axis: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match axis {
        Some(x) if !x.is_none() => Ok(Some(int_or_ints(x)?)),
        _ => Ok(None),
    }
}

fn reduce(
    f: ReduceFn,
    a: &Array,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    out(f(a, axes_arg(axis)?.as_deref(), keepdims, sod(stream)))
}

fn arg_reduce(
    f: ArgReduceFn,
    a: &Array,
    axis: Option<isize>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    out(f(a, axis, keepdims, sod(stream)))
}

/// `ddof`, or MLX's `correction` (its other name, which wins when given).
fn dof(ddof: i64, correction: Option<i64>, op: &str) -> PyResult<usize> {
    let d = correction.unwrap_or(ddof);
    usize::try_from(d)
        .map_err(|_| PyValueError::new_err(format!("[{op}] ddof must be non-negative, got {d}")))
}

fn variance(
    f: VarFn,
    a: &Array,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: usize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    out(f(
        a,
        axes_arg(axis)?.as_deref(),
        keepdims,
        ddof,
        sod(stream),
    ))
}

/// A scan, with `dtype` (cumsum and cumprod) converting the input first.
fn scan(
    f: ScanFn,
    a: &Array,
    axis: Option<isize>,
    reverse: bool,
    inclusive: bool,
    dtype: Option<Dtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    let s = sod(stream);
    let a = match dtype {
        Some(d) => ops::astype(a, d, s).or_raise()?,
        None => a.clone(),
    };
    out(f(&a, axis, reverse, inclusive, s))
}

macro_rules! reductions {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {
        $(
            #[doc = $doc]
            #[pyfunction]
            #[pyo3(signature = (a, /, axis = None, keepdims = false, *, stream = None))]
            pub fn $name(
                a: &Bound<'_, PyAny>,
                axis: Option<&Bound<'_, PyAny>>,
                keepdims: bool,
                stream: Option<StreamArg>,
            ) -> PyResult<PyArray> {
                guard(|| reduce($f, &arg(a)?, axis, keepdims, stream))
            }
        )*
        #[pymethods]
        impl PyArray {
            $(
                #[doc = $doc]
                #[pyo3(signature = (axis = None, keepdims = false, *, stream = None))]
                fn $name(
                    &self,
                    axis: Option<&Bound<'_, PyAny>>,
                    keepdims: bool,
                    stream: Option<StreamArg>,
                ) -> PyResult<PyArray> {
                    guard(|| reduce($f, &self.get(), axis, keepdims, stream))
                }
            )*
        }
    };
}

reductions!(
    sum => ops::sum, "The sum over `axis` (every axis when None). bool and 8/16-bit integers sum in (u)int32.";
    prod => ops::prod, "The product over `axis` (every axis when None).";
    max => ops::max, "The largest element over `axis` (every axis when None); an empty axis raises ValueError.";
    min => ops::min, "The smallest element over `axis` (every axis when None); an empty axis raises ValueError.";
    all => ops::all, "True where every element over `axis` is nonzero (every axis when None).";
    any => ops::any, "True where some element over `axis` is nonzero (every axis when None).";
    mean => ops::mean, "The mean over `axis` (every axis when None); integers and bool give float32.";
    logsumexp => ops::logsumexp, "`log(sum(exp(a)))` over `axis` (every axis when None), computed stably.";
);

macro_rules! arg_reductions {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {
        $(
            #[doc = $doc]
            #[pyfunction]
            #[pyo3(signature = (a, /, axis = None, keepdims = false, *, stream = None))]
            pub fn $name(
                a: &Bound<'_, PyAny>,
                axis: Option<isize>,
                keepdims: bool,
                stream: Option<StreamArg>,
            ) -> PyResult<PyArray> {
                guard(|| arg_reduce($f, &arg(a)?, axis, keepdims, stream))
            }
        )*
        #[pymethods]
        impl PyArray {
            $(
                #[doc = $doc]
                #[pyo3(signature = (axis = None, keepdims = false, *, stream = None))]
                fn $name(
                    &self,
                    axis: Option<isize>,
                    keepdims: bool,
                    stream: Option<StreamArg>,
                ) -> PyResult<PyArray> {
                    guard(|| arg_reduce($f, &self.get(), axis, keepdims, stream))
                }
            )*
        }
    };
}

arg_reductions!(
    argmax => ops::argmax, "The index (uint32) of the first largest element along `axis` (of the flattened array when None).";
    argmin => ops::argmin, "The index (uint32) of the first smallest element along `axis` (of the flattened array when None).";
);

macro_rules! scans {
    ($($name:ident => $f:path, $doc:literal);* $(;)?) => {
        $(
            #[doc = $doc]
            #[pyfunction]
            #[pyo3(signature = (a, /, axis = None, *, reverse = false, inclusive = true, dtype = None, stream = None))]
            pub fn $name(
                a: &Bound<'_, PyAny>,
                axis: Option<isize>,
                reverse: bool,
                inclusive: bool,
                dtype: Option<PyDtype>,
                stream: Option<StreamArg>,
            ) -> PyResult<PyArray> {
                guard(|| scan($f, &arg(a)?, axis, reverse, inclusive, dtype.map(|d| d.0), stream))
            }
        )*
        #[pymethods]
        impl PyArray {
            $(
                #[doc = $doc]
                #[pyo3(signature = (axis = None, *, reverse = false, inclusive = true, stream = None))]
                fn $name(
                    &self,
                    axis: Option<isize>,
                    reverse: bool,
                    inclusive: bool,
                    stream: Option<StreamArg>,
                ) -> PyResult<PyArray> {
                    guard(|| scan($f, &self.get(), axis, reverse, inclusive, None, stream))
                }
            )*
        }
    };
}

scans!(
    cumsum => ops::cumsum, "Running sums along `axis` (of the flattened array when None); `reverse` scans from the end, `inclusive=False` leaves each element's own value out.";
    cumprod => ops::cumprod, "Running products along `axis` (of the flattened array when None); `reverse` and `inclusive` as in `cumsum`.";
    cummax => ops::cummax, "Running maxima along `axis` (of the flattened array when None); `reverse` and `inclusive` as in `cumsum`.";
    cummin => ops::cummin, "Running minima along `axis` (of the flattened array when None); `reverse` and `inclusive` as in `cumsum`.";
);

/// `log(cumsum(exp(a)))` along `axis` (of the flattened array when None), computed stably;
/// `reverse` and `inclusive` as in `cumsum`.
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, *, reverse = false, inclusive = true, stream = None))]
pub fn logcumsumexp(
    a: &Bound<'_, PyAny>,
    axis: Option<isize>,
    reverse: bool,
    inclusive: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        scan(
            ops::logcumsumexp,
            &arg(a)?,
            axis,
            reverse,
            inclusive,
            None,
            stream,
        )
    })
}

/// How many elements over `axis` (every axis when None) are nonzero, as int32.
#[pyfunction]
#[pyo3(signature = (a, /, *, axis = None, keepdims = false, stream = None))]
pub fn count_nonzero(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| reduce(ops::count_nonzero, &arg(a)?, axis, keepdims, stream))
}

/// The median over `axis` (every axis when None), in the input's float type (float32 for
/// integers and bool).
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, keepdims = false, *, stream = None))]
pub fn median(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| reduce(ops::median, &arg(a)?, axis, keepdims, stream))
}

/// The variance over `axis` (every axis when None): `sum(|x - mean|^2) / (N - ddof)`.
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, keepdims = false, ddof = 0, *, stream = None))]
pub fn var(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: i64,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        variance(
            ops::var,
            &arg(a)?,
            axis,
            keepdims,
            dof(ddof, None, "var")?,
            stream,
        )
    })
}

/// The standard deviation over `axis` (every axis when None): the square root of `var`.
#[pyfunction(name = "std")]
#[pyo3(signature = (a, /, axis = None, keepdims = false, ddof = 0, *, stream = None))]
pub fn std_dev(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: i64,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        variance(
            ops::std,
            &arg(a)?,
            axis,
            keepdims,
            dof(ddof, None, "std")?,
            stream,
        )
    })
}

/// `exp(a - max) / sum(exp(a - max))` over `axis` (every axis when None), computed stably.
/// Integers and bool give float32. `precise` is accepted: the CPU always accumulates in float32
/// or wider.
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, *, precise = false, stream = None))]
pub fn softmax(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    precise: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::softmax(
            &arg(a)?,
            axes_arg(axis)?.as_deref(),
            precise,
            sod(stream),
        ))
    })
}

#[pymethods]
impl PyArray {
    /// See `rill.core.logcumsumexp`.
    #[pyo3(name = "logcumsumexp", signature = (axis = None, *, reverse = false, inclusive = true, stream = None))]
    fn logcumsumexp_method(
        &self,
        axis: Option<isize>,
        reverse: bool,
        inclusive: bool,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            scan(
                ops::logcumsumexp,
                &self.get(),
                axis,
                reverse,
                inclusive,
                None,
                stream,
            )
        })
    }

    /// The variance over `axis` (every axis when None); `correction` is another name for `ddof`.
    #[pyo3(signature = (axis = None, keepdims = false, ddof = 0, *, correction = None, stream = None))]
    fn var(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: i64,
        correction: Option<i64>,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            let d = dof(ddof, correction, "var")?;
            variance(ops::var, &self.get(), axis, keepdims, d, stream)
        })
    }

    /// The standard deviation over `axis` (every axis when None); `correction` is another name
    /// for `ddof`.
    #[pyo3(signature = (axis = None, keepdims = false, ddof = 0, *, correction = None, stream = None))]
    fn std(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        ddof: i64,
        correction: Option<i64>,
        stream: Option<StreamArg>,
    ) -> PyResult<PyArray> {
        guard(|| {
            let d = dof(ddof, correction, "std")?;
            variance(ops::std, &self.get(), axis, keepdims, d, stream)
        })
    }
}

/// The minimum and the maximum over `axis` (every axis when None), as `(min, max)`.
#[pyfunction]
#[pyo3(signature = (a, /, axis = None, keepdims = false, *, stream = None))]
pub fn minmax(
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    stream: Option<StreamArg>,
) -> PyResult<(PyArray, PyArray)> {
    guard(|| {
        let (lo, hi) =
            ops::minmax(&arg(a)?, axes_arg(axis)?.as_deref(), keepdims, sod(stream)).or_raise()?;
        Ok((PyArray::new(lo), PyArray::new(hi)))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(minmax, m)?)?;
    macro_rules! add {
        ($($f:ident),* $(,)?) => {$( m.add_function(wrap_pyfunction!($f, m)?)?; )*};
    }
    add!(
        sum,
        prod,
        max,
        min,
        all,
        any,
        mean,
        logsumexp,
        argmax,
        argmin,
        cumsum,
        cumprod,
        cummax,
        cummin,
        var,
        std_dev,
        softmax,
        logcumsumexp,
        count_nonzero,
        median,
    );
    // MLX's array-API names for the scans.
    m.add("cumulative_sum", m.getattr("cumsum")?)?;
    m.add("cumulative_prod", m.getattr("cumprod")?)?;
    Ok(())
}
