//! Arrays made from nothing: full, zeros, ones, arange, linspace, eye and the `*_like` forms.

use super::make;
use crate::op::Op;
use crate::{Array, Dtype, Error, Result, Scalar, StreamOrDevice};

/// An array of `shape` filled with `value`, of `dtype` (the value's own default when None).
pub fn full(
    shape: &[usize],
    value: impl Into<Scalar>,
    dtype: Option<Dtype>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    full_named("full", shape, value.into(), dtype, s.into())
}

/// [`full`], named `name` in errors (`zeros` and `ones` are fills too).
fn full_named(
    name: &'static str,
    shape: &[usize],
    value: Scalar,
    dtype: Option<Dtype>,
    s: StreamOrDevice,
) -> Result<Array> {
    let stream = s.resolve(name)?;
    let dtype = dtype.unwrap_or_else(|| value.default_dtype());
    value.check_fits(dtype, name)?;
    make(name, shape.to_vec(), dtype, stream, Op::Full(value), vec![])
}

pub fn zeros(shape: &[usize], dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    full_named("zeros", shape, Scalar::Int(0), Some(dtype), s.into())
}

pub fn ones(shape: &[usize], dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    full_named("ones", shape, Scalar::Int(1), Some(dtype), s.into())
}

pub fn full_like(
    a: &Array,
    value: impl Into<Scalar>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    full(a.shape(), value, Some(a.dtype()), s)
}

pub fn zeros_like(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    zeros(a.shape(), a.dtype(), s)
}

pub fn ones_like(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    ones(a.shape(), a.dtype(), s)
}

/// `start, start + step, ...` up to (not including) `stop`, as NumPy: `ceil((stop - start) / step)`
/// elements. The dtype defaults to float32 (MLX gives int32 when all three are integers; callers
/// that want that pass it).
pub fn arange(
    start: f64,
    stop: f64,
    step: f64,
    dtype: Option<Dtype>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(Error::arg(
            "arange",
            format!("cannot make a range from {start} to {stop} by {step}"),
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    let stream = s.into().resolve("arange")?;
    let dtype = dtype.unwrap_or(Dtype::Float32);
    if dtype == Dtype::Bool {
        return Err(Error::dtype("arange", "arange cannot make bool arrays"));
    }
    // An integer range steps by whole numbers, as NumPy's and MLX's do: the length comes from the
    // float bounds, the values from `int(start)` by `int(start + step) - int(start)` (so
    // `arange(1, -1, -0.25, int32)` counts down by one, and `arange(0, 5, 0.5, int32)` is zeros).
    let (start, step) = if dtype.is_integer() {
        (start.trunc(), (start + step).trunc() - start.trunc())
    } else {
        (start, step)
    };
    make(
        "arange",
        vec![n],
        dtype,
        stream,
        Op::Arange { start, step },
        vec![],
    )
}

/// `num` evenly spaced values from `start` to `stop`, both included.
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    dtype: Option<Dtype>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("linspace")?;
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    let dtype = dtype.unwrap_or(Dtype::Float32);
    make(
        "linspace",
        vec![num],
        dtype,
        stream,
        Op::Arange { start, step },
        vec![],
    )
}

/// An `n x m` matrix (m = n when None) with ones on the `k`-th diagonal.
pub fn eye(
    n: usize,
    m: Option<usize>,
    k: isize,
    dtype: Dtype,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("eye")?;
    make(
        "eye",
        vec![n, m.unwrap_or(n)],
        dtype,
        stream,
        Op::Eye { k },
        vec![],
    )
}

pub fn identity(n: usize, dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    eye(n, None, 0, dtype, s)
}

/// The window functions of NumPy and MLX, as cosine sums or a triangle over `n / (M - 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `1 - |2n / (M - 1) - 1|`.
    Bartlett,
    /// `0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))`.
    Blackman,
    /// `0.54 - 0.46 cos(2 pi n / (M - 1))`.
    Hamming,
    /// `0.5 - 0.5 cos(2 pi n / (M - 1))`.
    Hanning,
}

impl Window {
    pub fn name(self) -> &'static str {
        match self {
            Window::Bartlett => "bartlett",
            Window::Blackman => "blackman",
            Window::Hamming => "hamming",
            Window::Hanning => "hanning",
        }
    }
}

/// The window of `m` points (float32; empty for `m < 1`, `[1]` for `m == 1`), computed in
/// float64 and rounded once.
pub fn window(kind: Window, m: i64, s: impl Into<StreamOrDevice>) -> Result<Array> {
    use super::{abs, add, astype, cos, multiply, subtract};
    let name = kind.name();
    let stream = s.into().resolve(name)?;
    if m < 1 {
        return zeros(&[0], Dtype::Float32, stream);
    }
    if m == 1 {
        return ones(&[1], Dtype::Float32, stream);
    }
    let f64s = |v: f64| full(&[], v, Some(Dtype::Float64), stream);
    // t = n / (M - 1), in [0, 1].
    let t = linspace(0.0, 1.0, m as usize, Some(Dtype::Float64), stream)?;
    let cos_of = |k: f64| {
        cos(
            &multiply(&t, &f64s(k * std::f64::consts::PI)?, stream)?,
            stream,
        )
    };
    let w = match kind {
        Window::Bartlett => {
            let centered = subtract(&multiply(&t, &f64s(2.0)?, stream)?, &f64s(1.0)?, stream)?;
            subtract(&f64s(1.0)?, &abs(&centered, stream)?, stream)?
        }
        Window::Hamming | Window::Hanning => {
            let (a0, a1) = if kind == Window::Hamming {
                (0.54, 0.46)
            } else {
                (0.5, 0.5)
            };
            subtract(
                &f64s(a0)?,
                &multiply(&f64s(a1)?, &cos_of(2.0)?, stream)?,
                stream,
            )?
        }
        Window::Blackman => {
            let x = subtract(
                &f64s(0.42)?,
                &multiply(&f64s(0.5)?, &cos_of(2.0)?, stream)?,
                stream,
            )?;
            add(&x, &multiply(&f64s(0.08)?, &cos_of(4.0)?, stream)?, stream)?
        }
    };
    astype(&w, Dtype::Float32, stream)
}
