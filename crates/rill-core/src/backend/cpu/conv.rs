//! Convolutions (`Op::Conv`) as a direct loop over channels-last data.
//!
//! The output is computed one row of `c_out` values at a time (a batch index and an output
//! position): the kernel taps that land on a real input element (not on padding, not between
//! the elements of a dilated input) are found once per row, and each output channel is a sum of
//! dot products of contiguous runs of `c_in / groups` channels, one per tap, against the weights,
//! which are contiguous in that order too. float16 and bfloat16 accumulate in float32, float32 in
//! float32, float64 in float64. Rows split across the pool when the work is large enough.

use super::num::Num;
use super::output;
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ConvParams;
use crate::shape::numel;
use crate::{Dtype, Error, Result};
use half::{bf16, f16};
use std::ops::{Add, Mul};

/// Multiply-adds below which a convolution runs on the calling thread.
const PAR_WORK: usize = 1 << 16;

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

trait Acc: Num + Add<Output = Self> + Mul<Output = Self> + Copy + Default + Send + Sync {}
impl Acc for f32 {}
impl Acc for f64 {}

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
    /// For output row `row` (batch index times output positions), every tap that reads a real
    /// input element: (the element offset of that input position's channel run, the weight
    /// offset of the tap's channel run for output channel 0).
    fn taps(&self, row: usize, taps: &mut Vec<(usize, usize)>) {
        let d = self.in_spatial.len();
        let out_positions = numel(self.out_spatial);
        let (batch, mut pos) = (row / out_positions, row % out_positions);
        let mut o = vec![0usize; d];
        for i in (0..d).rev() {
            o[i] = pos % self.out_spatial[i];
            pos /= self.out_spatial[i];
        }
        let cig = self.c_in / self.p.groups;
        let kernel_taps = numel(self.kernel);
        taps.clear();
        'tap: for t in 0..kernel_taps {
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

    fn fill_row<A: Acc>(
        &self,
        row: usize,
        xs: &[A],
        ws: &[A],
        out: &mut [A],
        taps: &mut Vec<(usize, usize)>,
    ) {
        self.taps(row, taps);
        let cig = self.c_in / self.p.groups;
        let cog = self.c_out / self.p.groups;
        let per_out_channel = numel(self.kernel) * cig;
        for (co, o) in out.iter_mut().enumerate() {
            let g = co / cog;
            let wbase = co * per_out_channel;
            let mut acc = A::default();
            for &(xi, wi) in taps.iter() {
                let xrun = &xs[xi + g * cig..xi + (g + 1) * cig];
                let wrun = &ws[wbase + wi..wbase + wi + cig];
                for (&a, &b) in xrun.iter().zip(wrun) {
                    acc = acc + a * b;
                }
            }
            *o = acc;
        }
    }
}

fn typed<T: Num, A: Acc>(p: &ConvParams, x: &Input, w: &Input, out: &Output) -> Result<Data> {
    let d = x.shape.len() - 2;
    let geometry = Geometry {
        p,
        in_spatial: &x.shape[1..=d],
        kernel: &w.shape[1..=d],
        out_spatial: &out.shape[1..=d],
        c_in: x.shape[d + 1],
        c_out: out.shape[d + 1],
    };
    let widen = |v: Vec<T>| -> Vec<A> { v.into_iter().map(|e| A::from_f64(e.to_f64())).collect() };
    let xs = widen(gather_to_vec::<T>(x.data, x.shape));
    let ws = widen(gather_to_vec::<T>(w.data, w.shape));
    let c_out = geometry.c_out;
    let rows = numel(out.shape) / c_out.max(1);
    let work = numel(out.shape) * numel(geometry.kernel) * (geometry.c_in / p.groups);
    output::<T>("conv", out, |o| {
        if c_out == 0 || rows == 0 {
            return Ok(());
        }
        let fill =
            |row: usize, chunk: &mut [T], taps: &mut Vec<(usize, usize)>, acc: &mut Vec<A>| {
                geometry.fill_row(row, &xs, &ws, acc, taps);
                for (o, &a) in chunk.iter_mut().zip(acc.iter()) {
                    *o = T::from_f64(a.to_f64());
                }
            };
        if work < PAR_WORK || crate::kernel_threads::kernel_threads() == 1 {
            let (mut taps, mut acc) = (Vec::new(), vec![A::default(); c_out]);
            for (row, chunk) in o.chunks_mut(c_out).enumerate() {
                fill(row, chunk, &mut taps, &mut acc);
            }
        } else {
            use rayon::prelude::*;
            o.par_chunks_mut(c_out).enumerate().for_each_init(
                || (Vec::new(), vec![A::default(); c_out]),
                |(taps, acc), (row, chunk)| fill(row, chunk, taps, acc),
            );
        }
        Ok(())
    })
}
