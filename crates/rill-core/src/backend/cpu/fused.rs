//! `Op::Fused` on the CPU: a fused elementwise program (`fusion.rs`), a block of elements at a
//! time, and the reduction after it.
//!
//! Each instruction runs over a block of [`BLOCK`] elements into a buffer of its own, with the
//! element function its own kernel uses (`unary::with_float_fn`, `binary::Arith`), so a block's
//! values stay in the L1 cache from the first op to the last and only the inputs and the result
//! travel through memory. The loops are the unfused kernels' loops over slices, so they vectorize
//! the same way. The last instruction writes straight into the output (or, with a reduction, into
//! a row buffer that the reduction kernel's own `reduce_contig` then reduces, chunked exactly as
//! `reduce.rs` chunks a row, so a fused sum is the unfused sum bit for bit).

use super::accum::{Accumulate, Extremum};
use super::binary::{Arith, PowKind};
use super::output;
use super::reduce::{reduce_contig, Cascade, Max, Min, Prod, Reducer, Sum, FEW, RED_CHUNK};
use super::strided::{map1, par_chunks, PAR_CHUNK};
use super::unary::{fix_far, near_or_exact, with_float_fn, FloatFns, WithFloatFn};
use crate::backend::{Input, Output};
use crate::fusion::{leading_broadcast, FusedKernel, Inst, Operand};
use crate::memory::Data;
use crate::op::{BinaryOp, ReduceOp};
use crate::shape::numel;
use crate::{Dtype, Element, Error, Result};
use rayon::prelude::*;

/// Elements an instruction computes at a time: its buffer (4 KiB of f32) and its operands' stay in
/// the L1 cache, and the per-block dispatch over instructions is amortized over this many.
const BLOCK: usize = 1024;

/// The float types a fused kernel computes in.
trait FusedFloat: FloatFns + Arith + Accumulate<A = Self> + Extremum + Element {}
impl FusedFloat for f32 {}
impl FusedFloat for f64 {}

pub fn run(k: &FusedKernel, inputs: &[Input], out: &Output) -> Result<Data> {
    k.check(inputs.iter().map(|x| x.dtype), out.shape, out.dtype)?;
    match k.dtype {
        Dtype::Float32 => typed::<f32>(k, inputs, out),
        Dtype::Float64 => typed::<f64>(k, inputs, out),
        d => Err(Error::runtime(
            "fused",
            format!("no fused CPU kernel computes in {d}"),
        )),
    }
}

/// An input as a block reads it.
enum Source<'a, T> {
    /// One value for every element.
    Splat(T),
    /// `values[i]` for element `i`.
    Whole(&'a [T]),
    /// `values[i % len]` (broadcast along leading dims).
    Periodic(&'a [T]),
}

/// A value an instruction reads for the current block.
#[derive(Clone, Copy)]
enum Val<'a, T> {
    Splat(T),
    Block(&'a [T]),
}

fn typed<T: FusedFloat>(k: &FusedKernel, inputs: &[Input], out: &Output) -> Result<Data> {
    let n = numel(&k.shape);
    // Inputs that are not row-contiguous (views) are copied first; so are broadcasts that are not
    // along leading dims (the fusion pass does not build those, but the kernel stays general).
    let mut copies: Vec<Option<Vec<T>>> = Vec::with_capacity(inputs.len());
    for x in inputs {
        let len = numel(x.shape);
        let contiguous = x.data.layout.is_row_contiguous(x.shape);
        copies.push(
            if len == 1 || (contiguous && leading_broadcast(x.shape, &k.shape)) {
                None
            } else if leading_broadcast(x.shape, &k.shape) {
                let mut v = vec![T::default(); len];
                map1::<T, T>(x, x.shape, &mut v, |e| e);
                Some(v)
            } else {
                let mut v = vec![T::default(); n];
                map1::<T, T>(x, &k.shape, &mut v, |e| e);
                Some(v)
            },
        );
    }
    let sources: Vec<Source<T>> = inputs
        .iter()
        .zip(&copies)
        .map(|(x, copy)| {
            let values: &[T] = match copy {
                Some(v) => v,
                None => {
                    let all: &[T] = x.data.buffer.as_slice();
                    &all[x.data.layout.offset..x.data.layout.offset + numel(x.shape)]
                }
            };
            match values.len() {
                1 => Source::Splat(values[0]),
                l if l == n => Source::Whole(values),
                _ => Source::Periodic(values),
            }
        })
        .collect();
    let program = Program {
        k,
        sources: &sources,
    };
    match k.reduce {
        None => output::<T>("fused", out, |o| {
            par_chunks(o, |range, chunk| {
                program.fill(range.start, chunk, &mut Scratch::empty())
            });
            Ok(())
        }),
        Some(r) => match r.op {
            ReduceOp::Sum => reduce(&program, &Sum::<T, T>::default(), r.row, out),
            ReduceOp::Prod => reduce(&program, &Prod::<T, T>::default(), r.row, out),
            ReduceOp::Max => reduce(&program, &Max::<T>::default(), r.row, out),
            ReduceOp::Min => reduce(&program, &Min::<T>::default(), r.row, out),
            op => Err(Error::runtime(
                "fused",
                format!("a fused kernel cannot end with {}", op.name()),
            )),
        },
    }
}

/// A fused kernel with its inputs resolved.
struct Program<'a, T> {
    k: &'a FusedKernel,
    sources: &'a [Source<'a, T>],
}

/// Per-thread buffers: one block per instruction, one per periodic input, each `width` elements
/// (a block, or fewer for a shorter range: a fused chain over a handful of elements must not
/// allocate and clear a block per instruction).
struct Scratch<T> {
    width: usize,
    regs: Vec<T>,
    gathered: Vec<Vec<T>>,
}

impl<T: FusedFloat> Scratch<T> {
    /// No buffers yet: `Program::fill` sizes them to its first range.
    fn empty() -> Scratch<T> {
        Scratch {
            width: 0,
            regs: Vec::new(),
            gathered: Vec::new(),
        }
    }
}

impl<T: FusedFloat> Program<'_, T> {
    /// Makes `scratch` at least `width` wide for this program (buffers kept from an earlier range
    /// serve as they are: a reduction fills row after row with one scratch).
    fn fit(&self, scratch: &mut Scratch<T>, width: usize) {
        if scratch.width >= width && scratch.gathered.len() == self.sources.len() {
            return;
        }
        *scratch = Scratch {
            width,
            regs: vec![T::default(); self.k.insts.len() * width],
            gathered: self
                .sources
                .iter()
                .map(|s| match s {
                    Source::Periodic(_) => vec![T::default(); width],
                    _ => Vec::new(),
                })
                .collect(),
        };
    }

    /// The results of elements `start..start + dst.len()` into `dst`, the loops compiled for the
    /// widest vector instructions the CPU has (`simd.rs`; the unfused kernels' unit-stride loops
    /// make the same choice in `strided::map_unit`): the same operations each way, so the same
    /// bits.
    fn fill(&self, start: usize, dst: &mut [T], scratch: &mut Scratch<T>) {
        #[cfg(target_arch = "x86_64")]
        if super::simd::has_avx512() {
            // SAFETY: the CPU has the AVX-512 subsets, AVX2 and FMA, checked just above.
            return unsafe { self.fill_avx512(start, dst, scratch) };
        }
        #[cfg(target_arch = "x86_64")]
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { self.fill_avx2(start, dst, scratch) };
        }
        self.fill_body(start, dst, scratch)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
    unsafe fn fill_avx512(&self, start: usize, dst: &mut [T], scratch: &mut Scratch<T>) {
        self.fill_body(start, dst, scratch)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn fill_avx2(&self, start: usize, dst: &mut [T], scratch: &mut Scratch<T>) {
        self.fill_body(start, dst, scratch)
    }

    #[inline(always)]
    fn fill_body(&self, start: usize, dst: &mut [T], scratch: &mut Scratch<T>) {
        self.fit(scratch, dst.len().min(BLOCK));
        for (b, block) in dst.chunks_mut(BLOCK).enumerate() {
            self.block(start + b * BLOCK, block, scratch);
        }
    }

    /// One block (`dst.len() <= scratch.width`) from element `start`.
    #[inline(always)]
    fn block(&self, start: usize, dst: &mut [T], scratch: &mut Scratch<T>) {
        let len = dst.len();
        for (s, g) in self.sources.iter().zip(&mut scratch.gathered) {
            if let Source::Periodic(v) = s {
                // Runs of the period copied whole (a division per element cost more than the op).
                let (mut filled, mut k) = (0, start % v.len());
                while filled < len {
                    let run = (len - filled).min(v.len() - k);
                    g[filled..filled + run].copy_from_slice(&v[k..k + run]);
                    filled += run;
                    k = 0;
                }
            }
        }
        let last = self.k.insts.len() - 1;
        for (i, inst) in self.k.insts.iter().enumerate() {
            let w = scratch.width;
            let (done, rest) = scratch.regs.split_at_mut(i * w);
            let target: &mut [T] = if i == last { dst } else { &mut rest[..len] };
            let val = |o: Operand| -> Val<T> {
                match o {
                    Operand::Inst(j) => Val::Block(&done[j * w..j * w + len]),
                    Operand::Input(x) => match &self.sources[x] {
                        Source::Splat(v) => Val::Splat(*v),
                        Source::Whole(v) => Val::Block(&v[start..start + len]),
                        Source::Periodic(_) => Val::Block(&scratch.gathered[x][..len]),
                    },
                }
            };
            match *inst {
                Inst::Unary(op, a) => {
                    // `check` let only float functions through.
                    let _ = with_float_fn::<T, _>(
                        op,
                        UnaryBlock {
                            x: val(a),
                            out: target,
                        },
                    );
                }
                Inst::Binary(op, a, b) => binary(op, val(a), val(b), target),
            }
            if i == last {
                return;
            }
        }
    }
}

/// A unary op over one block.
struct UnaryBlock<'a, 'o, T> {
    x: Val<'a, T>,
    out: &'o mut [T],
}

impl<T: FusedFloat> WithFloatFn<T> for UnaryBlock<'_, '_, T> {
    type Out = ();
    #[inline(always)]
    fn call<F: Fn(T) -> T + Copy + Send + Sync>(self, f: F) {
        match self.x {
            Val::Block(x) => {
                for (o, &v) in self.out.iter_mut().zip(x) {
                    *o = f(v);
                }
            }
            Val::Splat(v) => self.out.fill(f(v)),
        }
    }
    #[inline(always)]
    fn call_split<F, G, P>(self, fast: F, exact: G, near: P)
    where
        F: Fn(T) -> T + Copy + Send + Sync,
        G: Fn(T) -> T + Copy + Send + Sync,
        P: Fn(T) -> bool + Copy + Send + Sync,
    {
        match self.x {
            Val::Block(x) => {
                let x = &x[..self.out.len()];
                for (o, &v) in self.out.iter_mut().zip(x) {
                    *o = fast(v);
                }
                fix_far(x, self.out, |v| v, |v| v, exact, near);
            }
            Val::Splat(v) => self.out.fill(near_or_exact(fast, exact, near)(v)),
        }
    }
}

/// A binary op over one block, with the element function `Arith` gives the binary kernels.
#[inline(always)]
fn binary<T: FusedFloat>(op: BinaryOp, a: Val<T>, b: Val<T>, out: &mut [T]) {
    use BinaryOp::*;
    match op {
        Add => zip(T::add, a, b, out),
        Subtract => zip(T::sub, a, b, out),
        Multiply => zip(T::mul, a, b, out),
        Divide => zip(T::div, a, b, out),
        FloorDivide => zip(T::floor_div, a, b, out),
        Remainder => zip(T::rem, a, b, out),
        // One exponent for the block: its way (`PowKind`) chosen once, as the binary kernel does
        // (the per-element choice inside `Arith::pow` is not hoisted out of this loop:
        // `((m - b) ** 2).sum(-1)` over 2048 x 2048 took 2.0 ms, 0.9 with this). Same bits.
        Power => match b {
            Val::Splat(y) => match T::pow_kind(y) {
                PowKind::Square => zip(|x: T, y| x.pow_as(PowKind::Square, y), a, b, out),
                PowKind::Root => zip(|x: T, y| x.pow_as(PowKind::Root, y), a, b, out),
                PowKind::Int(n) => zip(move |x: T, y| x.pow_as(PowKind::Int(n), y), a, b, out),
                PowKind::General => zip(T::pow, a, b, out),
            },
            Val::Block(_) => zip(T::pow, a, b, out),
        },
        Maximum => zip(<T as Arith>::max, a, b, out),
        Minimum => zip(<T as Arith>::min, a, b, out),
        ArcTan2 => zip(T::atan2, a, b, out),
        LogAddExp => zip(T::logaddexp, a, b, out),
        // `check` let only the ops above through.
        _ => {}
    }
}

#[inline(always)]
fn zip<T: Copy>(f: impl Fn(T, T) -> T, a: Val<T>, b: Val<T>, out: &mut [T]) {
    match (a, b) {
        (Val::Block(a), Val::Block(b)) => {
            let (a, b) = (&a[..out.len()], &b[..out.len()]);
            for i in 0..out.len() {
                out[i] = f(a[i], b[i]);
            }
        }
        (Val::Block(a), Val::Splat(y)) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x, y);
            }
        }
        (Val::Splat(x), Val::Block(b)) => {
            for (o, &y) in out.iter_mut().zip(b) {
                *o = f(x, y);
            }
        }
        (Val::Splat(x), Val::Splat(y)) => out.fill(f(x, y)),
    }
}

/// The program's results reduced over rows of `row` elements, split as `reduce.rs`'s `rows` splits
/// a contiguous input reduced over its last dims (so the order of every combination is the same).
fn reduce<T: FusedFloat, R: Reducer<In = T, A = T, Out = T>>(
    p: &Program<T>,
    r: &R,
    row: usize,
    out: &Output,
) -> Result<Data> {
    let rows = numel(&p.k.shape) / row;
    output::<T>("fused", out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        // One buffer and one scratch per task, row after row (allocating them per row cost as
        // much as the row's work for rows of a few thousand elements).
        let reduce_range = |from: usize, len: usize, buf: &mut Vec<T>, scratch: &mut Scratch<T>| {
            buf.resize(len, T::default());
            p.fill(from, buf, scratch);
            reduce_contig(r, buf)
        };
        if rows < FEW && row >= 2 * RED_CHUNK {
            for (i, y) in o.iter_mut().enumerate() {
                let parts: Vec<T> = (0..row.div_ceil(RED_CHUNK))
                    .into_par_iter()
                    .map(|c| {
                        let len = RED_CHUNK.min(row - c * RED_CHUNK);
                        let (mut buf, mut scratch) = (Vec::new(), Scratch::empty());
                        reduce_range(i * row + c * RED_CHUNK, len, &mut buf, &mut scratch)
                    })
                    .collect();
                let mut cascade = Cascade::new();
                for a in parts {
                    cascade.push(a, |a, b| r.combine(a, b));
                }
                *y = r.finish(
                    cascade
                        .finish(|a, b| r.combine(a, b))
                        .unwrap_or_else(|| r.init()),
                );
            }
            return Ok(());
        }
        let fill = |first: usize, chunk: &mut [T]| {
            let (mut buf, mut scratch) = (Vec::new(), Scratch::empty());
            for (i, y) in chunk.iter_mut().enumerate() {
                *y = r.finish(reduce_range((first + i) * row, row, &mut buf, &mut scratch));
            }
        };
        if rows.saturating_mul(row) < 2 * PAR_CHUNK {
            fill(0, o);
        } else {
            let per_task = (PAR_CHUNK / row)
                .max(1)
                .max(rows.div_ceil(4 * rayon::current_num_threads()));
            o.par_chunks_mut(per_task)
                .enumerate()
                .for_each(|(i, c)| fill(i * per_task, c));
        }
        Ok(())
    })
}
