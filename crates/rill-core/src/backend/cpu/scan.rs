//! Cumulative sum, product, max and min along one axis (`Op::Scan`), inclusive or exclusive,
//! forward or reversed.
//!
//! The input is first copied into the (row-major) output, then each line is scanned in place:
//! lines along the last axis one by one, lines along an outer axis as blocks of adjacent lines,
//! one row at a time (so every access is contiguous). A few very long lines are scanned in
//! parallel chunks: chunk totals first, then each chunk from the carry of those before it.
//! float16/bfloat16 carry their running value in f32 (each output is rounded once).

use super::accum::{Accumulate, Extremum};
use super::lines::{for_units, items_per_task, SharedOut};
use super::num::Num;
use super::output;
use super::reduce::{reduce_contig, Max, Min, Prod, Reducer, Sum, FEW, RED_CHUNK};
use super::strided::{map1, PAR_CHUNK};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ScanOp;
use crate::{dispatch_dtype, Element, Error, Result};
use rayon::prelude::*;

/// Adjacent lines scanned together when the axis is not the last.
const BLOCK: usize = 1024;

#[derive(Clone, Copy)]
struct Spec {
    outer: usize,
    n: usize,
    inner: usize,
    reverse: bool,
    inclusive: bool,
}

pub fn run(
    op: ScanOp,
    axis: usize,
    reverse: bool,
    inclusive: bool,
    x: &Input,
    out: &Output,
) -> Result<Data> {
    if x.dtype != out.dtype {
        return Err(Error::runtime(
            op.name(),
            format!("no CPU kernel scans {} into {}", x.dtype, out.dtype),
        ));
    }
    let shape = out.shape;
    let spec = Spec {
        outer: shape[..axis].iter().product(),
        n: shape[axis],
        inner: shape[axis + 1..].iter().product(),
        reverse,
        inclusive,
    };
    dispatch_dtype!(out.dtype, T => typed::<T>(op, spec, x, out))
}

fn typed<T: Accumulate + Extremum>(
    op: ScanOp,
    spec: Spec,
    x: &Input,
    out: &Output,
) -> Result<Data> {
    output::<T>(op.name(), out, |o| {
        map1::<T, T>(x, x.shape, o, |v| v);
        match op {
            ScanOp::Sum => scan(&Sum::<T, T>::default(), o, spec),
            ScanOp::Prod => scan(&Prod::<T, T>::default(), o, spec),
            ScanOp::Max => scan(&Max::<T>::default(), o, spec),
            ScanOp::Min => scan(&Min::<T>::default(), o, spec),
            ScanOp::LogAddExp => scan(&LogAddExp::<T>(std::marker::PhantomData), o, spec),
        }
        Ok(())
    })
}

/// `log(exp(a) + exp(b))` carried in f64 (the builder sends only float types): the identity is
/// -inf, and each step adds the smaller term to the larger, so nothing overflows or underflows
/// to a wrong total.
struct LogAddExp<T>(std::marker::PhantomData<fn() -> T>);

impl<T: Num> Reducer for LogAddExp<T> {
    type In = T;
    type A = f64;
    type Out = T;
    const PAIRWISE: bool = false;
    fn init(&self) -> f64 {
        f64::NEG_INFINITY
    }
    fn load(&self, x: T) -> f64 {
        x.to_f64()
    }
    fn combine(&self, a: f64, b: f64) -> f64 {
        let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
        if lo == f64::NEG_INFINITY || hi.is_nan() || lo.is_nan() {
            // -inf is the identity; NaN spreads (`hi + ...` of a NaN is NaN).
            return if lo.is_nan() { lo } else { hi };
        }
        if hi == f64::INFINITY {
            return hi;
        }
        hi + (lo - hi).exp().ln_1p()
    }
    fn finish(&self, a: f64) -> T {
        T::from_f64(a)
    }
}

fn scan<T: Element, R: Reducer<In = T, Out = T>>(r: &R, o: &mut [T], s: Spec) {
    if o.is_empty() {
        return;
    }
    if s.inner == 1 {
        if s.outer < FEW && s.n >= 2 * RED_CHUNK {
            o.chunks_mut(s.n).for_each(|line| long_line(r, line, s));
            return;
        }
        let per = items_per_task(s.outer, s.n) * s.n;
        if o.len() < 2 * PAR_CHUNK {
            for line in o.chunks_mut(s.n) {
                scan_line(r, line, s, r.init());
            }
        } else {
            o.par_chunks_mut(per).for_each(|c| {
                for line in c.chunks_mut(s.n) {
                    scan_line(r, line, s, r.init());
                }
            });
        }
        return;
    }
    let shared = SharedOut::new(o);
    for_units(false, (s.outer, s.n, s.inner), BLOCK, |oi, j0, w| {
        let mut acc = vec![r.init(); w];
        let base = oi * s.n * s.inner + j0;
        for step in 0..s.n {
            let k = if s.reverse { s.n - 1 - step } else { step };
            // SAFETY: the unit (oi, j0..j0 + w) alone touches these columns of slab oi.
            let row = unsafe { shared.slice(base + k * s.inner, w) };
            if s.inclusive {
                for (a, v) in acc.iter_mut().zip(row) {
                    *a = r.combine(*a, r.load(*v));
                    *v = r.finish(*a);
                }
            } else {
                for (a, v) in acc.iter_mut().zip(row) {
                    let x = r.load(*v);
                    *v = r.finish(*a);
                    *a = r.combine(*a, x);
                }
            }
        }
    });
}

/// Scans one contiguous line in place starting from `acc`; returns the running value at the end.
fn scan_line<T: Element, R: Reducer<In = T, Out = T>>(
    r: &R,
    line: &mut [T],
    s: Spec,
    mut acc: R::A,
) -> R::A {
    let mut step = |v: &mut T| {
        let x = r.load(*v);
        if s.inclusive {
            acc = r.combine(acc, x);
            *v = r.finish(acc);
        } else {
            *v = r.finish(acc);
            acc = r.combine(acc, x);
        }
    };
    if s.reverse {
        line.iter_mut().rev().for_each(&mut step);
    } else {
        line.iter_mut().for_each(&mut step);
    }
    acc
}

/// One long line in parallel chunks: each chunk's total, the carry into each chunk (in scan
/// order), then every chunk scanned from its carry.
fn long_line<T: Element, R: Reducer<In = T, Out = T>>(r: &R, line: &mut [T], s: Spec) {
    let totals: Vec<R::A> = line
        .par_chunks(RED_CHUNK)
        .map(|c| reduce_contig(r, c))
        .collect();
    let mut carries = vec![r.init(); totals.len()];
    let order: Vec<usize> = if s.reverse {
        (0..totals.len()).rev().collect()
    } else {
        (0..totals.len()).collect()
    };
    for w in order.windows(2) {
        carries[w[1]] = r.combine(carries[w[0]], totals[w[0]]);
    }
    line.par_chunks_mut(RED_CHUNK)
        .zip(carries)
        .for_each(|(c, carry)| {
            scan_line(r, c, s, carry);
        });
}
