//! Convolutions with unit strides and dilations and one group, as one product per kernel tap
//! over a zero-padded copy of the input (`conv.rs` chooses this path).
//!
//! With the input padded to `P_i = In_i + lo_i + hi_i` positions per spatial dim and flattened
//! (channels last), output position `o` reads, for tap `k`, the padded position `o + k`, whose
//! flat index is `flat(o) + flat(k)`. So if the output is computed over the *extended* grid
//! `(Out_0, P_1, ..., P_{d-1})`, a run of consecutive extended positions reads, for each tap, a
//! run of consecutive rows of the padded input shifted by that tap's offset: a plain matrix, with
//! no gathering. A block of extended rows is `taps` products of `(rows x c_in) @ (c_in x c_out)`
//! added together; the rows whose position lies outside the real output (`p_i >= Out_i` for some
//! `i >= 1`, a few columns per row) are computed and dropped.
//!
//! Why: the patch path copies every input element once per tap (58 MB of patches for a ResNet
//! 3x3 layer of batch 8, 56x56, 64 channels) before its single product; this path copies the
//! input once (padded, 7 MB) and runs products with `k = c_in` instead of `taps * c_in`, which
//! `gemm` runs at 107 GFLOP/s against 112 (one thread of this machine's EPYC, measured alone).

use super::jobs;
use super::num::GemmNative;
use crate::shape::numel;
use gemm::Parallelism;

/// Extended rows per block: the block's sums (`rows x c_out`) and the input rows it reads stay
/// in cache across its products.
const BLOCK_ROWS: usize = 256;

/// The sizes of a shifted convolution, all spatial lists of one length `d`.
pub(super) struct Shifted<'a> {
    pub batch: usize,
    pub in_spatial: &'a [usize],
    pub kernel: &'a [usize],
    pub out_spatial: &'a [usize],
    pub padding_lo: &'a [usize],
    pub padding_hi: &'a [usize],
    pub flip: bool,
    pub c_in: usize,
    pub c_out: usize,
}

impl Shifted<'_> {
    fn padded(&self) -> Vec<usize> {
        (0..self.in_spatial.len())
            .map(|i| self.in_spatial[i] + self.padding_lo[i] + self.padding_hi[i])
            .collect()
    }

    /// The extended grid: the output's first spatial dim, the padded input's others.
    fn extended(&self, padded: &[usize]) -> Vec<usize> {
        let mut e = padded.to_vec();
        e[0] = self.out_spatial[0];
        e
    }

    /// How many real output positions come before extended position `e` (row-major over the
    /// extended grid): where the extended rows of a block land in the output.
    fn outputs_before(&self, mut e: usize, ext: &[usize]) -> usize {
        let d = ext.len();
        let mut coords = vec![0; d];
        for i in (0..d).rev() {
            coords[i] = e % ext[i];
            e /= ext[i];
        }
        // Whole images before this one count fully; `e` is now the batch index.
        let mut count = e * numel(self.out_spatial);
        for (i, &c) in coords.iter().enumerate() {
            let inner: usize = self.out_spatial[i + 1..].iter().product();
            if c >= self.out_spatial[i] {
                // Past the real output along dim i: every real position of this prefix is before.
                return count + self.out_spatial[i] * inner;
            }
            count += c * inner;
        }
        count
    }

    /// The input padded with zeros, `(batch, P..., c_in)` row-major, followed by enough zero rows
    /// that the last image's dropped extended rows read inside the buffer.
    fn pad<A: GemmNative>(&self, xs: &[A], padded: &[usize], tail_rows: usize) -> Vec<A> {
        let d = padded.len();
        let image = numel(padded) * self.c_in;
        let mut out = vec![A::default(); self.batch * image + tail_rows * self.c_in];
        let run = self.in_spatial[d - 1] * self.c_in;
        let in_image = numel(self.in_spatial) * self.c_in;
        let lines = numel(&self.in_spatial[..d - 1]);
        let fill = |b: usize, dst: &mut [A]| {
            let src = &xs[b * in_image..(b + 1) * in_image];
            let mut idx = vec![0; d - 1];
            for line in 0..lines {
                // The padded position of this input line's first element.
                let mut rest = line;
                for i in (0..d - 1).rev() {
                    idx[i] = rest % self.in_spatial[i];
                    rest /= self.in_spatial[i];
                }
                let mut at = 0;
                for i in 0..d - 1 {
                    at = at * padded[i] + idx[i] + self.padding_lo[i];
                }
                at = (at * padded[d - 1] + self.padding_lo[d - 1]) * self.c_in;
                dst[at..at + run].copy_from_slice(&src[line * run..(line + 1) * run]);
            }
        };
        use rayon::prelude::*;
        out[..self.batch * image]
            .par_chunks_mut(image.max(1))
            .enumerate()
            .for_each(|(b, dst)| fill(b, dst));
        out
    }

    /// The convolution of `xs` (`(batch, In..., c_in)` row-major) with `ws` (`(c_out, K...,
    /// c_in)` row-major) into `out` (`(batch, Out..., c_out)`), converting each result with
    /// `store`. `parallel`: blocks across the pool.
    pub(super) fn run<A: GemmNative, T: Send>(
        &self,
        xs: &[A],
        ws: &[A],
        out: &mut [T],
        store: impl Fn(A) -> T + Sync,
        parallel: bool,
    ) {
        let d = self.in_spatial.len();
        let padded = self.padded();
        let ext = self.extended(&padded);
        let taps = numel(self.kernel);
        // Flat offset (in padded positions) of each tap, and its index in the weights.
        let pstrides: Vec<usize> = (0..d).map(|i| padded[i + 1..].iter().product()).collect();
        let shifts: Vec<(usize, usize)> = (0..taps)
            .map(|t| {
                let (mut rest, mut shift, mut w_index, mut w_scale) = (t, 0, 0, 1);
                for i in (0..d).rev() {
                    let k = rest % self.kernel[i];
                    rest /= self.kernel[i];
                    shift += k * pstrides[i];
                    let kk = if self.flip { self.kernel[i] - 1 - k } else { k };
                    w_index += kk * w_scale;
                    w_scale *= self.kernel[i];
                }
                (shift, w_index)
            })
            .collect();
        let max_shift = shifts.iter().map(|s| s.0).max().unwrap_or(0);
        let ext_image = numel(&ext);
        let pad_image = numel(&padded);
        // Extended rows of one image reach past it by up to this many rows (dropped rows only).
        let overrun = (ext_image + max_shift).saturating_sub(pad_image);
        let xp = self.pad(xs, &padded, overrun);
        let (c_in, c_out) = (self.c_in, self.c_out);

        // Blocks of extended rows within one image, each with the run of output rows it fills.
        let blocks_per_image = ext_image.div_ceil(BLOCK_ROWS);
        let mut jobs = Vec::with_capacity(self.batch * blocks_per_image);
        let mut rest = out;
        for b in 0..self.batch {
            for k in 0..blocks_per_image {
                let e0 = b * ext_image + k * BLOCK_ROWS;
                let e1 = (e0 + BLOCK_ROWS).min((b + 1) * ext_image);
                let n = self.outputs_before(e1, &ext) - self.outputs_before(e0, &ext);
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n * c_out);
                rest = tail;
                jobs.push((b, e0 - b * ext_image, e1 - e0, mine));
            }
        }
        let block = |(b, e0, rows, dst): (usize, usize, usize, &mut [T]), acc: &mut Vec<A>| {
            acc.resize(rows * c_out, A::default());
            for (t, &(shift, w_index)) in shifts.iter().enumerate() {
                let first = b * pad_image + e0 + shift;
                debug_assert!((first + rows) * c_in <= xp.len());
                // SAFETY:
                // - dst: `acc` holds `rows * c_out` elements, `rows` rows of `c_out`; read (from
                //   the second tap on) only after the first tap wrote all of it.
                // - lhs: rows `first .. first + rows` of the padded input, `c_in` each: in
                //   bounds, as `xp` has `overrun` rows past the last image for the furthest tap.
                // - rhs: element (c, co) of tap `t` is `ws[(co * taps + w_index) * c_in + c]`
                //   for c < c_in, co < c_out: row stride 1, column stride `taps * c_in`.
                // - A is f32 or f64, which gemm implements; conj flags are false.
                unsafe {
                    gemm::gemm(
                        rows,
                        c_out,
                        c_in,
                        acc.as_mut_ptr(),
                        1,
                        c_out as isize,
                        t > 0,
                        xp.as_ptr().add(first * c_in),
                        1,
                        c_in as isize,
                        ws.as_ptr().add(w_index * c_in),
                        (taps * c_in) as isize,
                        1,
                        A::from_f64(1.0),
                        A::from_f64(1.0),
                        false,
                        false,
                        false,
                        Parallelism::None,
                    )
                }
            }
            // Keep the rows that are real output positions, in order.
            let last = ext.len() - 1;
            let mut written = 0;
            for r in 0..rows {
                let mut e = e0 + r;
                let mut real = true;
                for i in (1..=last).rev() {
                    real &= e % ext[i] < self.out_spatial[i];
                    e /= ext[i];
                }
                if real {
                    let src = &acc[r * c_out..(r + 1) * c_out];
                    let to = &mut dst[written * c_out..(written + 1) * c_out];
                    for (o, &a) in to.iter_mut().zip(src) {
                        *o = store(a);
                    }
                    written += 1;
                }
            }
            debug_assert_eq!(written * c_out, dst.len());
        };
        jobs::each_with_scratch(jobs, parallel, Vec::new, block);
    }
}
