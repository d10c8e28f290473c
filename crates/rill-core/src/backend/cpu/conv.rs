//! Convolutions (`Op::Conv`) on channels-last data, lowered to matrix products on `gemm`.
//!
//! An output row (a batch index and an output position, `c_out` values) is the product of that
//! position's *patch* (every kernel tap's run of `c_in / groups` input channels, zeros where the
//! tap lands on padding or between the elements of a dilated input) with the weights, which
//! `Op::Conv` keeps as `(c_out, *kernel, c_in / groups)`: for each group, the weights are already
//! a `(taps * c_in/groups) x (c_out/groups)` matrix read with a column stride, no copy. So the
//! output is computed a block of rows at a time: the block's patches are gathered into a buffer
//! small enough to stay in cache (im2col by blocks: the whole patch matrix of a ResNet layer is
//! 9x its input), then one `gemm` per group writes the block. A 1x1 convolution with stride 1 and
//! no padding needs no patches: its input already is the patch matrix.
//!
//! Why not a direct loop: the previous kernel summed one dot product per output element; at 7
//! GFLOP/s it was 20x slower than PyTorch's oneDNN on a 3x3 layer (docs/benchmarks.md), while
//! `gemm`'s register-tiled micro-kernel is what makes rill's matmul match OpenBLAS.
//!
//! Convolutions with unit strides and dilations and one group (most layers: ResNet's 3x3s) take
//! another path, `conv_shifted.rs`: one product per tap over a padded copy of the input, with no
//! patches gathered. Among them, float32 3x3s in two dims with at least 16 channels in and out
//! take `conv_winograd.rs`, which needs 2.25x fewer multiplications.
//!
//! float16 and bfloat16 accumulate in float32, float32 in float32, float64 in float64.
//! Parallelism: blocks of rows split across the pool when there are enough of them; a
//! convolution with few rows but long patches gives the pool to `gemm` instead.

use super::conv_shifted::Shifted;
use super::conv_winograd::{self, Winograd};
use super::num::{GemmNative, Num};
use super::output;
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ConvParams;
use crate::shape::numel;
use crate::{Dtype, Error, Result};
use gemm::Parallelism;
use half::{bf16, f16};
use std::borrow::Cow;
use std::ops::Range;

/// Multiply-adds below which a convolution runs on the calling thread.
const PAR_WORK: usize = 1 << 18;

/// Patch elements per block of rows: 128 Ki float32 values are 512 KiB, about one core's L2,
/// so a block's patches are still in cache when `gemm` packs them.
const BLOCK_ELEMENTS: usize = 128 * 1024;

pub fn run(p: &ConvParams, x: &Input, w: &Input, out: &Output) -> Result<Data> {
    match out.dtype {
        Dtype::Float64 => typed::<f64, f64>(p, x, w, out),
        Dtype::Float32 => typed::<f32, f32>(p, x, w, out),
        Dtype::Float16 => typed::<f16, f32>(p, x, w, out),
        Dtype::Bfloat16 => typed::<bf16, f32>(p, x, w, out),
        d => Err(Error::runtime(
            "conv",
            format!("internal error: no convolution kernel for {d}"),
        )),
    }
}

/// The sizes a convolution row needs, all per spatial dim except the channel counts.
struct Geometry<'a> {
    p: &'a ConvParams,
    in_spatial: &'a [usize],
    kernel: &'a [usize],
    out_spatial: &'a [usize],
    c_in: usize,
    c_out: usize,
}

impl Geometry<'_> {
    /// Input channels per group: the length of one tap's run.
    fn cig(&self) -> usize {
        self.c_in / self.p.groups
    }

    /// Length of one group's patch: every tap's run of channels.
    fn patch_len(&self) -> usize {
        numel(self.kernel) * self.cig()
    }

    /// Whether the input, as it is, is the patch matrix: one tap, landing on output position `i`'s
    /// own input position.
    fn is_pointwise(&self) -> bool {
        let p = self.p;
        numel(self.kernel) == 1
            && self.in_spatial == self.out_spatial
            && p.stride.iter().all(|&s| s == 1)
            && p.padding_lo.iter().all(|&s| s == 0)
            && p.input_dilation.iter().all(|&s| s == 1)
    }

    /// Whether `conv_shifted.rs` runs it: unit strides and dilations, one group, more than a
    /// pointwise product (which needs no patches at all).
    fn is_shiftable(&self) -> bool {
        let p = self.p;
        let ones = |v: &[usize]| v.iter().all(|&s| s == 1);
        p.groups == 1
            && ones(&p.stride)
            && ones(&p.kernel_dilation)
            && ones(&p.input_dilation)
            && !self.is_pointwise()
    }

    /// Whether `conv_winograd.rs` runs it (for float32): a shiftable 3x3 in two dims, with enough
    /// channels on both sides.
    fn is_winograd(&self) -> bool {
        self.in_spatial.len() == 2
            && self.kernel == [3, 3]
            && self.is_shiftable()
            && conv_winograd::worth_it(self.c_in, self.c_out)
    }

    /// For output row `row` (batch index times output positions), every tap that reads a real
    /// input element: (the element offset of that input position's channel run, the offset of
    /// the tap's run within a group's patch, which is also its offset in the weights).
    fn taps(&self, row: usize, o: &mut [usize], taps: &mut Vec<(usize, usize)>) {
        let d = self.in_spatial.len();
        let out_positions = numel(self.out_spatial);
        let (batch, mut pos) = (row / out_positions, row % out_positions);
        for i in (0..d).rev() {
            o[i] = pos % self.out_spatial[i];
            pos /= self.out_spatial[i];
        }
        let cig = self.cig();
        taps.clear();
        'tap: for t in 0..numel(self.kernel) {
            let mut rest = t;
            let (mut in_index, mut k_index) = (0usize, 0usize);
            let (mut in_scale, mut k_scale) = (1usize, 1usize);
            for i in (0..d).rev() {
                let k = rest % self.kernel[i];
                rest /= self.kernel[i];
                let at = (o[i] * self.p.stride[i] + k * self.p.kernel_dilation[i]) as isize
                    - self.p.padding_lo[i] as isize;
                let dil = self.p.input_dilation[i] as isize;
                if at < 0 || at % dil != 0 || (at / dil) as usize >= self.in_spatial[i] {
                    continue 'tap;
                }
                let kk = if self.p.flip {
                    self.kernel[i] - 1 - k
                } else {
                    k
                };
                in_index += (at / dil) as usize * in_scale;
                k_index += kk * k_scale;
                in_scale *= self.in_spatial[i];
                k_scale *= self.kernel[i];
            }
            let in_offset = (batch * numel(self.in_spatial) + in_index) * self.c_in;
            taps.push((in_offset, k_index * cig));
        }
    }

    /// Writes the patches of rows `first..first + count` into `patches`, row-major, each row
    /// holding every group's patch in turn (every element written, whatever `patches` held).
    fn gather_patches<A: GemmNative>(
        &self,
        first: usize,
        count: usize,
        xs: &[A],
        patches: &mut [A],
    ) {
        let (groups, cig, len) = (self.p.groups, self.cig(), self.patch_len());
        let mut o = vec![0usize; self.in_spatial.len()];
        let kernel_taps = numel(self.kernel);
        let mut taps = Vec::with_capacity(kernel_taps);
        for (r, patch) in patches
            .chunks_exact_mut(groups * len)
            .take(count)
            .enumerate()
        {
            self.taps(first + r, &mut o, &mut taps);
            // Zeros only where a tap reads padding: most rows of a padded layer have every tap,
            // and writing the patches once instead of twice is a third of the kernel's memory
            // traffic.
            if taps.len() < kernel_taps {
                patch.fill(A::default());
            }
            for g in 0..groups {
                for &(xi, wi) in &taps {
                    let src = &xs[xi + g * cig..xi + (g + 1) * cig];
                    patch[g * len + wi..g * len + wi + cig].copy_from_slice(src);
                }
            }
        }
    }

    /// `acc` (output rows `rows`, `c_out` values each) = those rows' patches times the
    /// weights, one product per group.
    fn block<A: GemmNative>(
        &self,
        rows: Range<usize>,
        (xs, ws): (&[A], &[A]),
        patches: &mut Vec<A>,
        acc: &mut [A],
        par: Parallelism,
    ) {
        let (first, count) = (rows.start, rows.len());
        let (groups, len) = (self.p.groups, self.patch_len());
        let cog = self.c_out / groups;
        debug_assert_eq!(acc.len(), count * self.c_out);
        // The patch matrix of the block: the input itself for a pointwise convolution.
        let (lhs, lhs_rs): (&[A], usize) = if self.is_pointwise() {
            (
                &xs[first * self.c_in..(first + count) * self.c_in],
                self.c_in,
            )
        } else {
            patches.resize(count * groups * len, A::default());
            self.gather_patches(first, count, xs, patches);
            (&patches[..], groups * len)
        };
        for g in 0..groups {
            // SAFETY:
            // - dst: `acc` holds `count` rows of `c_out`; group `g` writes columns
            //   `g*cog .. (g+1)*cog` of every row (row stride c_out, column stride 1), all in
            //   bounds, and `acc` is this call's own buffer. read_dst is false: not read.
            // - lhs: row `r < count`, column `c < len` of group `g` is `lhs[r*lhs_rs + g*len
            //   + c]` (patches: rows of `groups*len`; pointwise: `len == cig`, rows of c_in
            //   starting at group g's channels), in bounds of `lhs`.
            // - rhs: the weights are `(c_out, *kernel, cig)` row-major, `c_out * len` elements;
            //   element (k = c, n = co) of group g is `ws[(g*cog + co)*len + c]`: row stride 1,
            //   column stride `len`, in bounds for `c < len`, `co < cog`.
            // - A is f32 or f64, which gemm implements; conj flags are false.
            unsafe {
                gemm::gemm(
                    count,
                    cog,
                    len,
                    acc.as_mut_ptr().add(g * cog),
                    1,
                    self.c_out as isize,
                    false,
                    lhs.as_ptr().add(g * len),
                    1,
                    lhs_rs as isize,
                    ws.as_ptr().add(g * cog * len),
                    len as isize,
                    1,
                    A::default(),
                    A::from_f64(1.0),
                    false,
                    false,
                    false,
                    par,
                )
            }
        }
    }
}

/// `x`'s elements in row-major order as `A`: its own buffer when it already is that (a float32
/// or float64 input, row-contiguous), a converted copy otherwise. The copy of a ResNet layer's
/// input (6.4 MB) took ~2 ms on one thread before the parallel part started.
fn row_major<'a, T: Num, A: GemmNative>(x: &'a Input<'a>) -> Cow<'a, [A]> {
    if T::DTYPE == A::DTYPE && x.data.layout.is_row_contiguous(x.shape) {
        let start = x.data.layout.offset;
        return Cow::Borrowed(&x.data.buffer.as_slice::<A>()[start..start + numel(x.shape)]);
    }
    Cow::Owned(
        gather_to_vec::<T>(x.data, x.shape)
            .into_iter()
            .map(|e| A::from_f64(e.to_f64()))
            .collect(),
    )
}

fn typed<T: Num, A: GemmNative>(
    p: &ConvParams,
    x: &Input,
    w: &Input,
    out: &Output,
) -> Result<Data> {
    let d = x.shape.len() - 2;
    let geometry = Geometry {
        p,
        in_spatial: &x.shape[1..=d],
        kernel: &w.shape[1..=d],
        out_spatial: &out.shape[1..=d],
        c_in: x.shape[d + 1],
        c_out: out.shape[d + 1],
    };
    let xs = row_major::<T, A>(x);
    let ws = row_major::<T, A>(w);
    let (xs, ws) = (&xs[..], &ws[..]);
    let c_out = geometry.c_out;
    let rows = numel(out.shape) / c_out.max(1);
    let len = geometry.patch_len();
    output::<T>("conv", out, |o| {
        if c_out == 0 || rows == 0 {
            return Ok(());
        }
        if len == 0 {
            // Empty sums (no input channels, or an empty kernel): gemm would not write.
            o.fill(T::from_f64(0.0));
            return Ok(());
        }
        let block_rows = (BLOCK_ELEMENTS / (p.groups * len)).clamp(1, rows);
        let work = rows * c_out * len;
        let threads = crate::kernel_threads::kernel_threads();
        if A::DTYPE == Dtype::Float32 && geometry.is_winograd() {
            let winograd = Winograd {
                batch: x.shape[0],
                input: [geometry.in_spatial[0], geometry.in_spatial[1]],
                output: [geometry.out_spatial[0], geometry.out_spatial[1]],
                padding_lo: [p.padding_lo[0], p.padding_lo[1]],
                flip: p.flip,
                c_in: geometry.c_in,
                c_out,
            };
            let parallel = work >= PAR_WORK && threads > 1;
            winograd.run(xs, ws, o, |a: A| T::from_f64(a.to_f64()), parallel);
            return Ok(());
        }
        if geometry.is_shiftable() {
            let shifted = Shifted {
                batch: x.shape[0],
                in_spatial: geometry.in_spatial,
                kernel: geometry.kernel,
                out_spatial: geometry.out_spatial,
                padding_lo: &p.padding_lo,
                padding_hi: &p.padding_hi,
                flip: p.flip,
                c_in: geometry.c_in,
                c_out,
            };
            let parallel = work >= PAR_WORK && threads > 1;
            shifted.run(xs, ws, o, |a: A| T::from_f64(a.to_f64()), parallel);
            return Ok(());
        }
        let fill = |first: usize,
                    chunk: &mut [T],
                    patches: &mut Vec<A>,
                    acc: &mut Vec<A>,
                    par: Parallelism| {
            let count = chunk.len() / c_out;
            acc.resize(chunk.len(), A::default());
            geometry.block(first..first + count, (xs, ws), patches, acc, par);
            for (o, &a) in chunk.iter_mut().zip(acc.iter()) {
                *o = T::from_f64(a.to_f64());
            }
        };
        let blocks = rows.div_ceil(block_rows);
        if work < PAR_WORK || threads == 1 || blocks < threads {
            // Few blocks (or little work): the blocks in turn, each product split by gemm
            // when it is large enough to be worth it.
            let par = if work >= PAR_WORK && threads > 1 {
                Parallelism::Rayon(threads)
            } else {
                Parallelism::None
            };
            let (mut patches, mut acc) = (Vec::new(), Vec::new());
            for (b, chunk) in o.chunks_mut(block_rows * c_out).enumerate() {
                fill(b * block_rows, chunk, &mut patches, &mut acc, par);
            }
        } else {
            use rayon::prelude::*;
            o.par_chunks_mut(block_rows * c_out)
                .enumerate()
                .for_each_init(
                    || (Vec::new(), Vec::new()),
                    |(patches, acc), (b, chunk)| {
                        fill(b * block_rows, chunk, patches, acc, Parallelism::None)
                    },
                );
        }
        Ok(())
    })
}
