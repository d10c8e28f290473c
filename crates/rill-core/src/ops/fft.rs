//! Discrete Fourier transforms (MLX's `mx.fft`): `fft`/`ifft`/`rfft`/`irfft` in one, two and n
//! dimensions, `fftshift`/`ifftshift`, `fftfreq`/`rfftfreq`, and the short-time transform
//! `stft`/`istft` (composed: frames gathered by `take`, overlap-add by shifted sums).
//!
//! An n-dimensional transform is a chain of one-dimensional `Op::Fft` nodes, one per axis. The
//! builder first casts the input (float32 for a real forward transform, complex64 otherwise, as
//! MLX: float64 input computes in single precision), then crops or zero-pads each transformed
//! axis to its requested length, so the kernel only ever sees a line of exactly the length it
//! transforms. Real transforms put their real axis last: `rfftn` runs the real-to-complex pass on
//! the last of `axes` first and complex passes on the others after; `irfftn` runs the complex
//! passes first and the complex-to-real pass last. Scaling (`norm`) is applied per pass, with
//! that pass's length, so the chain scales by the product of the lengths, as one n-dimensional
//! transform would.

use super::{astype, make, pad, reshape, roll, slice};
use crate::op::{FftKind, FftNorm, Op};
use crate::{Array, Dtype, Error, Result, Scalar, Stream, StreamOrDevice};

impl FftNorm {
    /// MLX's and NumPy's spelling of `norm` (`"backward"`, `"ortho"`, `"forward"`).
    pub fn parse(op: &'static str, s: &str) -> Result<FftNorm> {
        FftNorm::ALL
            .iter()
            .copied()
            .find(|n| n.name() == s)
            .ok_or_else(|| {
                Error::arg(
                    op,
                    format!("invalid norm {s:?}: expected \"backward\", \"ortho\" or \"forward\""),
                )
            })
    }
}

/// The transformed axes, normalized, checked for repeats, in the caller's order.
fn fft_axes(name: &'static str, axes: &[isize], shape: &[usize]) -> Result<Vec<usize>> {
    let ndim = shape.len() as isize;
    let mut out = Vec::with_capacity(axes.len());
    for &ax in axes {
        let a = if ax < 0 { ax + ndim } else { ax };
        if a < 0 || a >= ndim {
            return Err(Error::Axis {
                op: name,
                axis: ax,
                ndim: shape.len(),
                shape: shape.to_vec(),
            });
        }
        let a = a as usize;
        if out.contains(&a) {
            return Err(Error::arg(
                name,
                format!("repeated axis {ax} in axes {axes:?} (shape {shape:?})"),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

/// `a` cropped or zero-padded to `shape` (same rank), each dim from its start.
fn fit(a: &Array, shape: &[usize], stream: Stream) -> Result<Array> {
    let mut x = a.clone();
    if shape.iter().zip(a.shape()).any(|(n, d)| n < d) {
        let stop: Vec<isize> = shape
            .iter()
            .zip(a.shape())
            .map(|(&n, &d)| n.min(d) as isize)
            .collect();
        let zeros = vec![0isize; shape.len()];
        let ones = vec![1isize; shape.len()];
        x = slice(&x, &zeros, &stop, &ones, stream)?;
    }
    if shape.iter().zip(x.shape()).any(|(n, d)| n > d) {
        let widths: Vec<(usize, usize)> = shape
            .iter()
            .zip(x.shape())
            .map(|(&n, &d)| (0, n.saturating_sub(d)))
            .collect();
        x = pad(&x, &widths, Scalar::Int(0), stream)?;
    }
    Ok(x)
}

/// One pass along `axis`; `n` is the logical length (the output's for `RealInverse`).
pub(crate) fn fft_pass(
    x: &Array,
    axis: usize,
    kind: FftKind,
    n: usize,
    norm: FftNorm,
    stream: Stream,
) -> Result<Array> {
    let name = kind.name();
    let mut shape = x.shape().to_vec();
    let dtype = match kind {
        FftKind::Forward | FftKind::Inverse => Dtype::Complex64,
        FftKind::RealForward => {
            shape[axis] = n / 2 + 1;
            Dtype::Complex64
        }
        FftKind::RealInverse => {
            shape[axis] = n;
            Dtype::Float32
        }
    };
    make(
        name,
        shape,
        dtype,
        stream,
        Op::Fft { axis, kind, norm },
        vec![x.clone()],
    )
}

/// The n-dimensional transform of `kind` over `axes` (None: every axis), each of length
/// `n[i]` (None: the input's own length; for `RealInverse` the last is `2 * (len - 1)`).
pub fn fft_general(
    name: &'static str,
    kind: FftKind,
    a: &Array,
    n: Option<&[isize]>,
    axes: Option<&[isize]>,
    norm: FftNorm,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve(name)?;
    let all: Vec<isize>;
    let axes = match axes {
        Some(axes) => axes,
        None if n.is_some() => {
            return Err(Error::arg(
                name,
                "`axes` should not be `None` if `s` is not `None`",
            ))
        }
        None => {
            all = (0..a.ndim() as isize).collect();
            &all
        }
    };
    let axes = fft_axes(name, axes, a.shape())?;
    if let Some(n) = n {
        if n.len() != axes.len() {
            return Err(Error::arg(
                name,
                format!(
                    "the sizes {n:?} and the axes {axes:?} must have the same length (input shape {:?})",
                    a.shape()
                ),
            ));
        }
        if let Some(bad) = n.iter().find(|&&v| v <= 0) {
            return Err(Error::arg(
                name,
                format!(
                    "invalid FFT size {bad} requested (sizes {n:?}, input shape {:?})",
                    a.shape()
                ),
            ));
        }
    }
    if axes.is_empty() {
        return Ok(a.clone());
    }
    let real = matches!(kind, FftKind::RealForward | FftKind::RealInverse);
    let last = *axes.last().unwrap();
    // The logical length of each transformed axis.
    let lens: Vec<usize> = match n {
        Some(n) => n.iter().map(|&v| v as usize).collect(),
        None => axes
            .iter()
            .map(|&ax| {
                let d = a.shape()[ax];
                if kind == FftKind::RealInverse && ax == last {
                    2 * d.saturating_sub(1)
                } else {
                    d
                }
            })
            .collect(),
    };
    if let Some(i) = lens.iter().position(|&v| v == 0) {
        return Err(Error::arg(
            name,
            format!(
                "invalid FFT size 0 along axis {} (input shape {:?}; irfft of a length-1 axis needs n)",
                axes[i],
                a.shape()
            ),
        ));
    }
    // What the input is fitted to: the lengths, except the half spectrum an irfft reads.
    let mut in_shape = a.shape().to_vec();
    for (&ax, &len) in axes.iter().zip(&lens) {
        in_shape[ax] = len;
    }
    if kind == FftKind::RealInverse {
        in_shape[last] = lens[lens.len() - 1] / 2 + 1;
    }
    let in_dtype = if kind == FftKind::RealForward {
        Dtype::Float32
    } else {
        Dtype::Complex64
    };
    let mut x = fit(&astype(a, in_dtype, stream)?, &in_shape, stream)?;
    let last_len = lens[lens.len() - 1];
    let others = axes[..axes.len() - 1].iter().zip(&lens[..lens.len() - 1]);
    match kind {
        FftKind::Forward | FftKind::Inverse => {
            for (&ax, &len) in axes.iter().zip(&lens) {
                x = fft_pass(&x, ax, kind, len, norm, stream)?;
            }
        }
        FftKind::RealForward => {
            x = fft_pass(&x, last, kind, last_len, norm, stream)?;
            for (&ax, &len) in others {
                x = fft_pass(&x, ax, FftKind::Forward, len, norm, stream)?;
            }
        }
        FftKind::RealInverse => {
            for (&ax, &len) in others {
                x = fft_pass(&x, ax, FftKind::Inverse, len, norm, stream)?;
            }
            x = fft_pass(&x, last, kind, last_len, norm, stream)?;
        }
    }
    debug_assert!(real || x.dtype() == Dtype::Complex64);
    Ok(x)
}

macro_rules! fft_1d {
    ($($(#[$m:meta])* $fname:ident => $kind:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(
            a: &Array,
            n: Option<isize>,
            axis: isize,
            norm: FftNorm,
            s: impl Into<StreamOrDevice>,
        ) -> Result<Array> {
            let n = n.map(|n| [n]);
            fft_general(stringify!($fname), FftKind::$kind, a, n.as_ref().map(|n| &n[..]), Some(&[axis]), norm, s)
        }
    )*};
}

fft_1d!(
    /// The discrete Fourier transform along `axis`, of length `n` (the input is cropped or
    /// zero-padded to it; None keeps the axis's length). Complex64 out.
    fft => Forward,
    /// The inverse of [`fft`].
    ifft => Inverse,
    /// The transform of a real input (cast to float32): `n / 2 + 1` complex64 terms along `axis`.
    rfft => RealForward,
    /// The inverse of [`rfft`]: `n` (default `2 * (len - 1)`) float32 values along `axis`.
    irfft => RealInverse,
);

macro_rules! fft_nd {
    ($($(#[$m:meta])* $fname:ident => $kind:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(
            a: &Array,
            n: Option<&[isize]>,
            axes: Option<&[isize]>,
            norm: FftNorm,
            s: impl Into<StreamOrDevice>,
        ) -> Result<Array> {
            fft_general(stringify!($fname), FftKind::$kind, a, n, axes, norm, s)
        }
    )*};
}

fft_nd!(
    /// The transform over `axes` (None: all), each of length `n[i]`.
    fftn => Forward,
    /// The inverse of [`fftn`].
    ifftn => Inverse,
    /// The transform of a real input over `axes`; the last axis is the real one (halved).
    rfftn => RealForward,
    /// The inverse of [`rfftn`]; the last axis gives `n[-1]` (default `2 * (len - 1)`) reals.
    irfftn => RealInverse,
);

macro_rules! fft_2d {
    ($($(#[$m:meta])* $fname:ident => $kind:ident),* $(,)?) => {$(
        $(#[$m])*
        pub fn $fname(
            a: &Array,
            n: Option<&[isize]>,
            axes: Option<&[isize]>,
            norm: FftNorm,
            s: impl Into<StreamOrDevice>,
        ) -> Result<Array> {
            let axes = axes.unwrap_or(&[-2, -1]);
            fft_general(stringify!($fname), FftKind::$kind, a, n, Some(axes), norm, s)
        }
    )*};
}

fft_2d!(
    /// [`fftn`] over `axes`, by default (None) the last two.
    fft2 => Forward,
    /// [`ifftn`] over `axes`, by default (None) the last two.
    ifft2 => Inverse,
    /// [`rfftn`] over `axes`, by default (None) the last two.
    rfft2 => RealForward,
    /// [`irfftn`] over `axes`, by default (None) the last two.
    irfft2 => RealInverse,
);

fn shift(
    name: &'static str,
    a: &Array,
    axes: Option<&[isize]>,
    inverse: bool,
    s: StreamOrDevice,
) -> Result<Array> {
    let stream = s.resolve(name)?;
    let all: Vec<isize>;
    let axes = match axes {
        Some(axes) => axes,
        None => {
            all = (0..a.ndim() as isize).collect();
            &all
        }
    };
    let normalized = fft_axes(name, axes, a.shape())?;
    if normalized.is_empty() {
        return Ok(a.clone());
    }
    let shifts: Vec<isize> = normalized
        .iter()
        .map(|&ax| {
            let d = a.shape()[ax] as isize;
            if inverse {
                -(d / 2)
            } else {
                d / 2
            }
        })
        .collect();
    let axes: Vec<isize> = normalized.iter().map(|&ax| ax as isize).collect();
    roll(a, &shifts, Some(&axes), stream)
}

/// Moves the zero-frequency term to the centre of each of `axes` (None: all), rolling each by
/// half its length.
pub fn fftshift(a: &Array, axes: Option<&[isize]>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    shift("fftshift", a, axes, false, s.into())
}

/// The inverse of [`fftshift`] (they differ on odd lengths).
pub fn ifftshift(a: &Array, axes: Option<&[isize]>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    shift("ifftshift", a, axes, true, s.into())
}

fn freqs(
    name: &'static str,
    n: isize,
    d: f64,
    values: impl Fn(usize) -> Vec<f64>,
    s: StreamOrDevice,
) -> Result<Array> {
    if n <= 0 {
        return Err(Error::arg(
            name,
            format!("`n` must be greater than 0, got {n}"),
        ));
    }
    let stream = s.resolve(name)?;
    let scale = 1.0 / (n as f64 * d);
    let v: Vec<f32> = values(n as usize)
        .into_iter()
        .map(|k| (k * scale) as f32)
        .collect();
    let len = v.len();
    Array::from_slice_on(&v, &[len], stream)
}

/// The sample frequencies of an `n`-point transform with sample spacing `d`:
/// `[0, 1, ..., (n - 1) / 2, -(n / 2), ..., -1] / (n * d)`, float32.
pub fn fftfreq(n: isize, d: f64, s: impl Into<StreamOrDevice>) -> Result<Array> {
    freqs(
        "fftfreq",
        n,
        d,
        |n| {
            let half = (n - 1) / 2 + 1;
            (0..n)
                .map(|i| {
                    if i < half {
                        i as f64
                    } else {
                        i as f64 - n as f64
                    }
                })
                .collect()
        },
        s.into(),
    )
}

/// The non-negative frequencies of [`rfft`]: `[0, 1, ..., n / 2] / (n * d)`, float32.
pub fn rfftfreq(n: isize, d: f64, s: impl Into<StreamOrDevice>) -> Result<Array> {
    freqs(
        "rfftfreq",
        n,
        d,
        |n| (0..=n / 2).map(|i| i as f64).collect(),
        s.into(),
    )
}

/// The arguments of [`stft`] and [`istft`] beyond the input (MLX's defaults: `hop_length`
/// `n_fft / 4`, `win_length` `n_fft` or the window's length, a rectangular window, `center`).
#[derive(Debug, Clone, Default)]
pub struct StftArgs<'a> {
    pub n_fft: Option<usize>,
    pub hop_length: Option<usize>,
    pub win_length: Option<usize>,
    pub window: Option<&'a Array>,
    pub center: bool,
    pub norm: Option<FftNorm>,
    pub onesided: Option<bool>,
}

/// `(n_fft, hop, window padded to n_fft, as float32)`, checked.
fn stft_window(
    name: &'static str,
    n_fft: usize,
    args: &StftArgs,
    stream: Stream,
) -> Result<(usize, Array)> {
    if n_fft == 0 {
        return Err(Error::arg(name, "n_fft must be positive, got 0"));
    }
    let hop = args.hop_length.unwrap_or((n_fft / 4).max(1));
    if hop == 0 {
        return Err(Error::arg(name, "hop_length must be positive, got 0"));
    }
    let window = match args.window {
        Some(w) => {
            if w.ndim() != 1 {
                return Err(Error::shape(
                    name,
                    format!(
                        "the window must be one-dimensional, got shape {:?}",
                        w.shape()
                    ),
                ));
            }
            astype(w, Dtype::Float32, stream)?
        }
        None => {
            let wl = args.win_length.unwrap_or(n_fft);
            super::ones(&[wl], Dtype::Float32, stream)?
        }
    };
    let wl = window.shape()[0];
    if wl > n_fft || args.win_length.is_some_and(|l| l > n_fft) {
        return Err(Error::arg(
            name,
            format!(
                "the window length ({}) must not exceed n_fft ({n_fft})",
                args.win_length.unwrap_or(wl)
            ),
        ));
    }
    let left = (n_fft - wl) / 2;
    let window = pad(
        &window,
        &[(left, n_fft - wl - left)],
        Scalar::Int(0),
        stream,
    )?;
    Ok((hop, window))
}

/// Where index `i` (which may lie outside `0..len`) of a padded line reads from.
fn pad_source(mode: &str, i: isize, len: usize) -> usize {
    let n = len as isize;
    match mode {
        "edge" => i.clamp(0, n - 1) as usize,
        _ => {
            // "reflect" (the edge is not repeated), folded again past the far end.
            if n == 1 {
                return 0;
            }
            let period = 2 * (n - 1);
            let k = i.rem_euclid(period);
            (if k >= n { period - k } else { k }) as usize
        }
    }
}

/// The short-time Fourier transform of the last axis of `x`: frames of `n_fft` samples every
/// `hop_length`, each multiplied by the window (centered in `n_fft`) and transformed. With
/// `center`, `x` is first padded by `n_fft / 2` at both ends (`pad_mode` `"reflect"`,
/// `"constant"` or `"edge"`). Shape `(..., n_freq, n_frames)`, complex64; `onesided` (the
/// default for real input) keeps the `n_fft / 2 + 1` non-negative frequencies.
pub fn stft(
    x: &Array,
    args: &StftArgs,
    pad_mode: &str,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    const NAME: &str = "stft";
    let stream = s.into().resolve(NAME)?;
    let norm = args.norm.unwrap_or(FftNorm::Backward);
    if x.ndim() == 0 {
        return Err(Error::shape(
            NAME,
            "the input must have at least one dimension, got shape []",
        ));
    }
    if !matches!(pad_mode, "reflect" | "constant" | "edge") {
        return Err(Error::arg(
            NAME,
            format!(
                "invalid pad_mode {pad_mode:?}: expected \"reflect\", \"constant\" or \"edge\""
            ),
        ));
    }
    let n_fft = args.n_fft.unwrap_or(2048);
    let (hop, window) = stft_window(NAME, n_fft, args, stream)?;
    let complex = x.dtype().is_complex();
    let onesided = args.onesided.unwrap_or(!complex);
    if onesided && complex {
        return Err(Error::arg(
            NAME,
            format!(
                "onesided needs a real input, got complex64 of shape {:?}",
                x.shape()
            ),
        ));
    }
    let x = astype(
        x,
        if complex {
            Dtype::Complex64
        } else {
            Dtype::Float32
        },
        stream,
    )?;
    let len = x.shape()[x.ndim() - 1];
    let half = if args.center { n_fft / 2 } else { 0 };
    let padded = len + 2 * half;
    if padded < n_fft || len == 0 {
        return Err(Error::shape(
            NAME,
            format!(
                "the signal (shape {:?}, {padded} samples after padding) is shorter than n_fft ({n_fft})",
                x.shape()
            ),
        ));
    }
    let frames = 1 + (padded - n_fft) / hop;
    // Frame f, sample k reads padded sample f * hop + k, which reads x at pad_source(...); a
    // constant pad reads one zero appended past the end.
    let (src, zero_at) = if pad_mode == "constant" && half > 0 {
        (
            pad(
                &x,
                &[(0, 0)]
                    .repeat(x.ndim() - 1)
                    .into_iter()
                    .chain([(0, 1)])
                    .collect::<Vec<_>>(),
                Scalar::Int(0),
                stream,
            )?,
            Some(len),
        )
    } else {
        (x.clone(), None)
    };
    let mut idx = Vec::with_capacity(frames * n_fft);
    for f in 0..frames {
        for k in 0..n_fft {
            let i = (f * hop + k) as isize - half as isize;
            let j = match zero_at {
                Some(z) if i < 0 || i >= len as isize => z,
                _ => pad_source(pad_mode, i, len),
            };
            idx.push(j as i32);
        }
    }
    let idx = Array::from_slice_on(&idx, &[frames, n_fft], stream)?;
    let framed = super::take(&src, &idx, Some(-1), stream)?;
    let windowed = super::multiply(&framed, &window, stream)?;
    let spectrum = if onesided {
        fft_general(
            "stft",
            FftKind::RealForward,
            &windowed,
            None,
            Some(&[-1]),
            norm,
            stream,
        )?
    } else {
        fft_general(
            "stft",
            FftKind::Forward,
            &windowed,
            None,
            Some(&[-1]),
            norm,
            stream,
        )?
    };
    super::swapaxes(&spectrum, -1, -2, stream)
}

/// The inverse of [`stft`]: each frame's inverse transform, windowed, overlap-added and divided
/// by the overlap-added squared window (0 where that is 0), then trimmed by `n_fft / 2` at both
/// ends when `center`, and cropped or zero-padded to `length`. Float32.
pub fn istft(
    spec: &Array,
    args: &StftArgs,
    length: Option<usize>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    const NAME: &str = "istft";
    let stream = s.into().resolve(NAME)?;
    let norm = args.norm.unwrap_or(FftNorm::Backward);
    if spec.ndim() < 2 {
        return Err(Error::shape(
            NAME,
            format!(
                "the input must have at least two dimensions (..., n_freq, n_frames), got shape {:?}",
                spec.shape()
            ),
        ));
    }
    let nd = spec.ndim();
    let (n_freq, frames) = (spec.shape()[nd - 2], spec.shape()[nd - 1]);
    let onesided = args.onesided.unwrap_or(true);
    let n_fft = args.n_fft.unwrap_or(if onesided {
        2 * n_freq.saturating_sub(1)
    } else {
        n_freq
    });
    let (hop, window) = stft_window(NAME, n_fft, args, stream)?;
    if frames == 0 {
        return Err(Error::shape(
            NAME,
            format!("no frames to invert (shape {:?})", spec.shape()),
        ));
    }
    let per_frame = super::swapaxes(spec, -1, -2, stream)?;
    let n = [n_fft as isize];
    let frames_t = if onesided {
        fft_general(
            NAME,
            FftKind::RealInverse,
            &per_frame,
            Some(&n),
            Some(&[-1]),
            norm,
            stream,
        )?
    } else {
        let c = fft_general(
            NAME,
            FftKind::Inverse,
            &per_frame,
            Some(&n),
            Some(&[-1]),
            norm,
            stream,
        )?;
        astype(&c, Dtype::Float32, stream)?
    };
    let windowed = super::multiply(&frames_t, &window, stream)?;
    let total = n_fft + hop * (frames - 1);
    let y = overlap_add(&windowed, hop, total, stream)?;
    let w2 = super::multiply(&window, &window, stream)?;
    let w2 = super::broadcast_to(&w2, &[frames, n_fft], stream)?;
    let env = overlap_add(&w2, hop, total, stream)?;
    let tiny = Array::scalar(1e-11f32);
    let ok = super::greater(&env, &tiny, stream)?;
    let safe = super::where_(&ok, &env, &Array::scalar(1.0f32), stream)?;
    let y = super::where_(
        &ok,
        &super::divide(&y, &safe, stream)?,
        &Array::scalar(0.0f32),
        stream,
    )?;
    let start = if args.center { n_fft / 2 } else { 0 };
    let end = match length {
        Some(l) => start + l,
        None if args.center => total - n_fft / 2,
        None => total,
    };
    let avail = total.min(end);
    let ynd = y.ndim();
    let mut lo = vec![0isize; ynd];
    let mut hi: Vec<isize> = y.shape().iter().map(|&d| d as isize).collect();
    lo[ynd - 1] = start.min(avail) as isize;
    hi[ynd - 1] = avail as isize;
    let y = slice(&y, &lo, &hi, &vec![1; ynd], stream)?;
    let got = y.shape()[ynd - 1];
    let want = end - start;
    if got < want {
        let mut widths = vec![(0, 0); ynd];
        widths[ynd - 1] = (0, want - got);
        return pad(&y, &widths, Scalar::Int(0), stream);
    }
    Ok(y)
}

/// Overlap-adds the frames `(..., frames, n)` spaced `hop` apart into `(..., total)`: each frame
/// is cut into `r = ceil(n / hop)` blocks of `hop` samples; block `j` of frame `f` lands on output
/// block `f + j`, so shifting block `j` of every frame by `j` blocks and summing over `j` gives
/// the result without a scatter.
fn overlap_add(frames: &Array, hop: usize, total: usize, stream: Stream) -> Result<Array> {
    let nd = frames.ndim();
    let (count, n) = (frames.shape()[nd - 2], frames.shape()[nd - 1]);
    let r = n.div_ceil(hop);
    let mut widths = vec![(0, 0); nd];
    widths[nd - 1] = (0, r * hop - n);
    let f = pad(frames, &widths, Scalar::Int(0), stream)?;
    let mut shape: Vec<isize> = f.shape()[..nd - 1].iter().map(|&d| d as isize).collect();
    shape.extend([r as isize, hop as isize]);
    let f = reshape(&f, &shape, stream)?;
    let mut sum: Option<Array> = None;
    for j in 0..r {
        let idx = Array::scalar(j as i32);
        let block = super::take(&f, &idx, Some(nd as isize - 1), stream)?; // (..., count, hop)
        let mut w = vec![(0, 0); nd];
        w[nd - 2] = (j, r - 1 - j);
        let shifted = pad(&block, &w, Scalar::Int(0), stream)?;
        sum = Some(match sum {
            None => shifted,
            Some(acc) => super::add(&acc, &shifted, stream)?,
        });
    }
    let sum = sum.expect("a frame has at least one block");
    let mut flat: Vec<isize> = sum.shape()[..nd - 2].iter().map(|&d| d as isize).collect();
    flat.push(((count + r - 1) * hop) as isize);
    let flat_sum = reshape(&sum, &flat, stream)?;
    let mut lo = vec![0isize; nd - 1];
    let mut hi: Vec<isize> = flat_sum.shape().iter().map(|&d| d as isize).collect();
    lo[nd - 2] = 0;
    hi[nd - 2] = total as isize;
    slice(&flat_sum, &lo, &hi, &vec![1; nd - 1], stream)
}
