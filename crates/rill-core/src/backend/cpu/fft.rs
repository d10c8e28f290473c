//! One-dimensional discrete Fourier transforms along an axis (`Op::Fft`), through `rustfft`
//! (mixed-radix plans, Bluestein's algorithm for large prime lengths; any length works).
//!
//! The input is gathered row-major, then seen as `outer x len x inner`: each of the
//! `outer * inner` lines (stride `inner`) is copied into a contiguous complex buffer, transformed
//! in place, scaled, and written to the output's line. Blocks of `len * inner` output elements
//! (one `outer` index) run in parallel, each with its own buffers.
//!
//! Real transforms use the complex plan of the full length: `rfft` transforms the real line with
//! zero imaginary parts and keeps the first `n / 2 + 1` terms; `irfft` rebuilds the Hermitian
//! spectrum from the `n / 2 + 1` terms it gets (`X[n - k] = conj(X[k])`) and keeps the real part,
//! which drops the imaginary parts of `X[0]` and of `X[n / 2]` (even `n`) as NumPy does. This
//! costs twice a real-specialized plan and keeps one code path.

use super::output;
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::{FftKind, FftNorm};
use crate::{Error, Result};
use num_complex::Complex32;
use rayon::prelude::*;
use rustfft::{Fft, FftDirection, FftPlanner};
use std::sync::Arc;

/// Below this many output elements the transform runs on one thread.
const PAR_ELEMENTS: usize = 1 << 14;

pub fn run(axis: usize, kind: FftKind, norm: FftNorm, x: &Input, out: &Output) -> Result<Data> {
    let name = kind.name();
    let n = match kind {
        FftKind::RealInverse => out.shape[axis],
        _ => x.shape[axis],
    };
    let expected_in = match kind {
        FftKind::RealInverse => n / 2 + 1,
        _ => n,
    };
    if n == 0 || x.shape[axis] != expected_in {
        return Err(Error::runtime(
            name,
            format!(
                "internal error: input shape {:?} does not fit a transform of length {n} along axis {axis}",
                x.shape
            ),
        ));
    }
    let inverse = matches!(kind, FftKind::Inverse | FftKind::RealInverse);
    let scale = match (norm, inverse) {
        (FftNorm::Backward, true) | (FftNorm::Forward, false) => 1.0 / n as f64,
        (FftNorm::Ortho, _) => 1.0 / (n as f64).sqrt(),
        _ => 1.0,
    } as f32;
    let direction = if inverse {
        FftDirection::Inverse
    } else {
        FftDirection::Forward
    };
    let plan = FftPlanner::<f32>::new().plan_fft(n, direction);
    let lines = Lines {
        outer: x.shape[..axis].iter().product(),
        inner: x.shape[axis + 1..].iter().product(),
        len_in: x.shape[axis],
        len_out: out.shape[axis],
        n,
    };
    match kind {
        FftKind::Forward | FftKind::Inverse => {
            let src: Vec<Complex32> = gather_to_vec(x.data, x.shape);
            output::<Complex32>(name, out, |o| {
                lines.run(
                    &plan,
                    &src,
                    o,
                    scale,
                    |line, buf| buf.copy_from_slice(line),
                    |v| v,
                );
                Ok(())
            })
        }
        FftKind::RealForward => {
            let src: Vec<f32> = gather_to_vec(x.data, x.shape);
            output::<Complex32>(name, out, |o| {
                lines.run(
                    &plan,
                    &src,
                    o,
                    scale,
                    |line, buf| {
                        for (b, &v) in buf.iter_mut().zip(line) {
                            *b = Complex32::new(v, 0.0);
                        }
                    },
                    |v| v,
                );
                Ok(())
            })
        }
        FftKind::RealInverse => {
            let src: Vec<Complex32> = gather_to_vec(x.data, x.shape);
            output::<f32>(name, out, |o| {
                lines.run(
                    &plan,
                    &src,
                    o,
                    scale,
                    |half, buf| {
                        buf[..half.len()].copy_from_slice(half);
                        for k in half.len()..n {
                            buf[k] = half[n - k].conj();
                        }
                    },
                    |v| v.re,
                );
                Ok(())
            })
        }
    }
}

/// The input and output seen as `outer x len x inner`.
struct Lines {
    outer: usize,
    inner: usize,
    len_in: usize,
    len_out: usize,
    n: usize,
}

impl Lines {
    /// Transforms every line: `load` fills the `n`-point buffer from the input line (contiguous,
    /// `len_in` long), `store` turns each of the first `len_out` results into an output element.
    fn run<I: Copy + Sync, O: Copy + Send>(
        &self,
        plan: &Arc<dyn Fft<f32>>,
        src: &[I],
        out: &mut [O],
        scale: f32,
        load: impl Fn(&[I], &mut [Complex32]) + Sync,
        store: impl Fn(Complex32) -> O + Sync,
    ) {
        let block_out = self.len_out * self.inner;
        if block_out == 0 || self.outer == 0 {
            return;
        }
        let block = |(o, dst): (usize, &mut [O])| {
            let mut line = Vec::with_capacity(self.len_in);
            let mut buf = vec![Complex32::new(0.0, 0.0); self.n];
            let mut scratch = vec![Complex32::new(0.0, 0.0); plan.get_inplace_scratch_len()];
            let base = o * self.len_in * self.inner;
            for j in 0..self.inner {
                line.clear();
                line.extend((0..self.len_in).map(|k| src[base + k * self.inner + j]));
                load(&line, &mut buf);
                plan.process_with_scratch(&mut buf, &mut scratch);
                for (k, v) in buf[..self.len_out].iter().enumerate() {
                    dst[k * self.inner + j] = store(v * scale);
                }
            }
        };
        let total = block_out * self.outer;
        if total < PAR_ELEMENTS || self.outer == 1 {
            out.chunks_mut(block_out).enumerate().for_each(block);
        } else {
            out.par_chunks_mut(block_out).enumerate().for_each(block);
        }
    }
}
