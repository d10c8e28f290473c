//! The `rill.core.fft` submodule: MLX's discrete Fourier transforms, with its arguments (`n`/`s`,
//! `axis`/`axes`, `norm`, `stream`). The core builds them (`rill_core::ops::fft*`).

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, int_or_ints, out};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use rill_core::op::FftNorm;
use rill_core::{ops, Array, StreamOrDevice};

type Fft1 = fn(&Array, Option<isize>, isize, FftNorm, StreamOrDevice) -> rill_core::Result<Array>;
type FftN = fn(
    &Array,
    Option<&[isize]>,
    Option<&[isize]>,
    FftNorm,
    StreamOrDevice,
) -> rill_core::Result<Array>;

fn norm_arg(op: &'static str, norm: &str) -> PyResult<FftNorm> {
    FftNorm::parse(op, norm).or_raise()
}

fn ints_or_none(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match obj {
        Some(x) if !x.is_none() => Ok(Some(int_or_ints(x)?)),
        _ => Ok(None),
    }
}

fn one_dim(
    f: Fft1,
    op: &'static str,
    a: &Bound<'_, PyAny>,
    n: Option<isize>,
    axis: isize,
    norm: &str,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| out(f(&arg(a)?, n, axis, norm_arg(op, norm)?, sod(stream))))
}

/// `axes` as given (None stays None for the n-dimensional functions; the 2-D ones default to
/// `[-2, -1]` in their signatures).
#[allow(clippy::too_many_arguments)]
fn n_dim(
    f: FftN,
    op: &'static str,
    a: &Bound<'_, PyAny>,
    s: Option<&Bound<'_, PyAny>>,
    axes: Option<&Bound<'_, PyAny>>,
    norm: &str,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let s = ints_or_none(s)?;
        let axes = ints_or_none(axes)?;
        out(f(
            &arg(a)?,
            s.as_deref(),
            axes.as_deref(),
            norm_arg(op, norm)?,
            sod(stream),
        ))
    })
}

macro_rules! fft_1d {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[pyfunction]
        #[pyo3(signature = (a, n = None, axis = -1, norm = "backward", stream = None))]
        pub fn $name(
            a: &Bound<'_, PyAny>,
            n: Option<isize>,
            axis: isize,
            norm: &str,
            stream: Option<StreamArg>,
        ) -> PyResult<PyArray> {
            one_dim(ops::$name, stringify!($name), a, n, axis, norm, stream)
        }
    )*};
}

fft_1d!(
    /// The discrete Fourier transform along `axis` (complex64).
    fft,
    /// The inverse discrete Fourier transform along `axis`.
    ifft,
    /// The transform of a real input along `axis`: `n // 2 + 1` terms.
    rfft,
    /// The inverse of `rfft`: `n` (default `2 * (len - 1)`) real values along `axis`.
    irfft,
);

// `axes=None` given explicitly means every axis, as in NumPy and MLX (the n-dimensional
// transform), and is refused beside `s`, as MLX refuses it.
macro_rules! fft_2d {
    ($($(#[$m:meta])* $name:ident / $all:ident),* $(,)?) => {$(
        $(#[$m])*
        #[pyfunction]
        #[pyo3(signature = (a, s = None, axes = Some(vec![-2, -1]), norm = "backward", stream = None))]
        pub fn $name(
            a: &Bound<'_, PyAny>,
            s: Option<&Bound<'_, PyAny>>,
            axes: Option<Vec<isize>>,
            norm: &str,
            stream: Option<StreamArg>,
        ) -> PyResult<PyArray> {
            guard(|| {
                let s = ints_or_none(s)?;
                let f: FftN = match (&axes, &s) {
                    (Some(_), _) => ops::$name,
                    (None, None) => ops::$all,
                    (None, Some(_)) => {
                        return Err(pyo3::exceptions::PyValueError::new_err(concat!(
                            "[",
                            stringify!($name),
                            "] `axes` should not be `None` if `s` is not `None`."
                        )))
                    }
                };
                out(f(
                    &arg(a)?,
                    s.as_deref(),
                    axes.as_deref(),
                    norm_arg(stringify!($name), norm)?,
                    sod(stream),
                ))
            })
        }
    )*};
}

fft_2d!(
    /// The two-dimensional transform over `axes` (default the last two; None: every axis).
    fft2 / fftn,
    /// The inverse of `fft2`.
    ifft2 / ifftn,
    /// The two-dimensional transform of a real input (the last of `axes` is halved).
    rfft2 / rfftn,
    /// The inverse of `rfft2`.
    irfft2 / irfftn,
);

macro_rules! fft_nd {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[pyfunction]
        #[pyo3(signature = (a, s = None, axes = None, norm = "backward", stream = None))]
        pub fn $name(
            a: &Bound<'_, PyAny>,
            s: Option<&Bound<'_, PyAny>>,
            axes: Option<&Bound<'_, PyAny>>,
            norm: &str,
            stream: Option<StreamArg>,
        ) -> PyResult<PyArray> {
            n_dim(ops::$name, stringify!($name), a, s, axes, norm, stream)
        }
    )*};
}

fft_nd!(
    /// The n-dimensional transform over `axes` (default all), sizes `s`.
    fftn,
    /// The inverse of `fftn`.
    ifftn,
    /// The n-dimensional transform of a real input (the last of `axes` is halved).
    rfftn,
    /// The inverse of `rfftn`.
    irfftn,
);

/// Rolls the zero-frequency term to the centre of `axes` (default all).
#[pyfunction]
#[pyo3(signature = (a, axes = None, stream = None))]
pub fn fftshift(
    a: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let axes = ints_or_none(axes)?;
        out(ops::fftshift(&arg(a)?, axes.as_deref(), sod(stream)))
    })
}

/// The inverse of `fftshift`.
#[pyfunction]
#[pyo3(signature = (a, axes = None, stream = None))]
pub fn ifftshift(
    a: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let axes = ints_or_none(axes)?;
        out(ops::ifftshift(&arg(a)?, axes.as_deref(), sod(stream)))
    })
}

/// The sample frequencies of an `n`-point transform with spacing `d` (float32).
#[pyfunction]
#[pyo3(signature = (n, d = 1.0, stream = None))]
pub fn fftfreq(n: isize, d: f64, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::fftfreq(n, d, sod(stream))))
}

/// The non-negative sample frequencies of `rfft` (float32).
#[pyfunction]
#[pyo3(signature = (n, d = 1.0, stream = None))]
pub fn rfftfreq(n: isize, d: f64, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| out(ops::rfftfreq(n, d, sod(stream))))
}

/// The short-time Fourier transform of the last axis: `(..., n_freq, n_frames)` complex64.
#[pyfunction]
#[pyo3(signature = (x, n_fft = 2048, hop_length = None, win_length = None, window = None, center = true, pad_mode = "reflect", norm = "backward", onesided = None, stream = None))]
#[allow(clippy::too_many_arguments)]
pub fn stft(
    x: &Bound<'_, PyAny>,
    n_fft: isize,
    hop_length: Option<isize>,
    win_length: Option<isize>,
    window: Option<&Bound<'_, PyAny>>,
    center: bool,
    pad_mode: &str,
    norm: &str,
    onesided: Option<bool>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let window = window.filter(|w| !w.is_none()).map(arg).transpose()?;
        let args = ops::StftArgs {
            n_fft: Some(size_arg("stft", "n_fft", n_fft)?),
            hop_length: hop_length
                .map(|h| size_arg("stft", "hop_length", h))
                .transpose()?,
            win_length: win_length
                .map(|w| size_arg("stft", "win_length", w))
                .transpose()?,
            window: window.as_ref(),
            center,
            norm: Some(norm_arg("stft", norm)?),
            onesided,
        };
        out(ops::stft(&arg(x)?, &args, pad_mode, sod(stream)))
    })
}

/// The inverse of `stft` (float32).
#[pyfunction]
#[pyo3(signature = (stft_matrix, n_fft = None, hop_length = None, win_length = None, window = None, center = true, norm = "backward", onesided = None, length = None, stream = None))]
#[allow(clippy::too_many_arguments)]
pub fn istft(
    stft_matrix: &Bound<'_, PyAny>,
    n_fft: Option<isize>,
    hop_length: Option<isize>,
    win_length: Option<isize>,
    window: Option<&Bound<'_, PyAny>>,
    center: bool,
    norm: &str,
    onesided: Option<bool>,
    length: Option<isize>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let window = window.filter(|w| !w.is_none()).map(arg).transpose()?;
        let args = ops::StftArgs {
            n_fft: n_fft.map(|n| size_arg("istft", "n_fft", n)).transpose()?,
            hop_length: hop_length
                .map(|h| size_arg("istft", "hop_length", h))
                .transpose()?,
            win_length: win_length
                .map(|w| size_arg("istft", "win_length", w))
                .transpose()?,
            window: window.as_ref(),
            center,
            norm: Some(norm_arg("istft", norm)?),
            onesided,
        };
        let length = length.map(|l| size_arg("istft", "length", l)).transpose()?;
        out(ops::istft(&arg(stft_matrix)?, &args, length, sod(stream)))
    })
}

/// A size argument: non-negative (zero is the core's to refuse, with its message).
fn size_arg(op: &str, name: &str, v: isize) -> PyResult<usize> {
    usize::try_from(v).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!("[{op}] {name} must be positive, got {v}"))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let f = PyModule::new(m.py(), "fft")?;
    f.add_function(wrap_pyfunction!(fft, &f)?)?;
    f.add_function(wrap_pyfunction!(ifft, &f)?)?;
    f.add_function(wrap_pyfunction!(rfft, &f)?)?;
    f.add_function(wrap_pyfunction!(irfft, &f)?)?;
    f.add_function(wrap_pyfunction!(fft2, &f)?)?;
    f.add_function(wrap_pyfunction!(ifft2, &f)?)?;
    f.add_function(wrap_pyfunction!(rfft2, &f)?)?;
    f.add_function(wrap_pyfunction!(irfft2, &f)?)?;
    f.add_function(wrap_pyfunction!(fftn, &f)?)?;
    f.add_function(wrap_pyfunction!(ifftn, &f)?)?;
    f.add_function(wrap_pyfunction!(rfftn, &f)?)?;
    f.add_function(wrap_pyfunction!(irfftn, &f)?)?;
    f.add_function(wrap_pyfunction!(fftshift, &f)?)?;
    f.add_function(wrap_pyfunction!(ifftshift, &f)?)?;
    f.add_function(wrap_pyfunction!(fftfreq, &f)?)?;
    f.add_function(wrap_pyfunction!(rfftfreq, &f)?)?;
    f.add_function(wrap_pyfunction!(stft, &f)?)?;
    f.add_function(wrap_pyfunction!(istft, &f)?)?;
    m.add_submodule(&f)?;
    Ok(())
}
