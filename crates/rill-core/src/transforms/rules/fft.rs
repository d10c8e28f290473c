//! Rules of the one-dimensional transforms (`Op::Fft`; the n-dimensional ones are chains of
//! them, see `ops/fft.rs`). With `F` the unscaled DFT matrix and `y = c F z`, the cotangent is
//! `c Fᴴ g` (the convention of `complex.rs`): the opposite transform with the opposite scaling
//! (`norm` "backward" <-> "forward"; "ortho" is its own), written out rather than derived through
//! `complex.rs`'s conjugations.

use crate::op::{FftKind, FftNorm};
use crate::ops::{
    arange, astype, equal, fft_pass, logical_or, multiply, pad, reshape, scalar_array, where_,
};
use crate::{Array, Dtype, Result, Scalar, Stream};

pub(super) fn fft(
    axis: usize,
    kind: FftKind,
    norm: FftNorm,
    x: &Array,
    out: &Array,
    g: &Array,
    s: Stream,
) -> Result<Array> {
    let back = match norm {
        FftNorm::Backward => FftNorm::Forward,
        FftNorm::Forward => FftNorm::Backward,
        FftNorm::Ortho => FftNorm::Ortho,
    };
    let g = match kind {
        FftKind::RealInverse => astype(g, Dtype::Float32, s)?,
        _ => astype(g, Dtype::Complex64, s)?,
    };
    match kind {
        FftKind::Forward => fft_pass(&g, axis, FftKind::Inverse, x.shape()[axis], back, s),
        FftKind::Inverse => fft_pass(&g, axis, FftKind::Forward, x.shape()[axis], back, s),
        // `y` is the first `n / 2 + 1` terms of the full transform of a real `x`: the terms left
        // out get a zero cotangent, and a real input keeps the real part (`fit` casts it).
        FftKind::RealForward => {
            let n = x.shape()[axis];
            let mut w = vec![(0, 0); g.ndim()];
            w[axis] = (0, n - g.shape()[axis]);
            let full = pad(&g, &w, Scalar::Int(0), s)?;
            fft_pass(&full, axis, FftKind::Inverse, n, back, s)
        }
        // `y = c (z_0 + 2 Re Σ_{0<k<n/2} z_k e^{..} + z_{n/2} (-1)^j)` for even `n`: the terms
        // counted twice (all but the first and, for even `n`, the last) take twice the real
        // transform of `g`.
        FftKind::RealInverse => {
            let n = out.shape()[axis];
            let m = x.shape()[axis];
            let spectrum = fft_pass(&g, axis, FftKind::RealForward, n, back, s)?;
            let k = arange(0.0, m as f64, 1.0, Some(Dtype::Int32), s)?;
            let int = |v: i64| scalar_array(Scalar::Int(v), Dtype::Int32, s);
            let last = if n.is_multiple_of(2) {
                (n / 2) as i64
            } else {
                -1
            };
            let once = logical_or(&equal(&k, &int(0)?, s)?, &equal(&k, &int(last)?, s)?, s)?;
            let c = |v: f64| scalar_array(Scalar::Float(v), Dtype::Complex64, s);
            let weight = where_(&once, &c(1.0)?, &c(2.0)?, s)?;
            let mut line = vec![1isize; g.ndim()];
            line[axis] = m as isize;
            multiply(&spectrum, &reshape(&weight, &line, s)?, s)
        }
    }
}
