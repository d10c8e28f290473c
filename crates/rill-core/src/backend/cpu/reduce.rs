//! Reductions over any set of axes: sum, prod, max, min, all, any (`Op::Reduce`).
//!
//! The input (any strided view) is first described as two lists of dims: the kept ones, in output
//! order, and the reduced ones, sorted by stride with negative strides flipped (the order of a
//! reduction does not matter) and contiguous runs merged. Then one of two strategies runs:
//!
//! - **rows**, when the reduced dims are the innermost in memory: each output element reduces a
//!   (usually contiguous) run with 16 independent accumulators, which the compiler vectorizes.
//!   Outputs are split across threads; when there are only a few (a full reduction), each
//!   reduction is split into fixed-size chunks instead.
//! - **columns**, when a kept dim is innermost (a reduction over the first axis, say): a block of
//!   adjacent outputs is accumulated as a vector, one input row at a time, so every read is
//!   contiguous. Blocks are split across threads, and the reduced range too when blocks are few.
//!
//! Float sums are pairwise (lanes of 16 over blocks of [`PAIR_BLOCK`], then halving; columns sum
//! blocks of [`ROW_BLOCK`] rows and combine the blocks pairwise), so their error grows with the log
//! of the length, not the length. How work is split depends only on the shapes, never on the
//! thread count, so results are the same on every machine.

use super::accum::{Acc, Accumulate, Extremum};
use super::num::{cast, Num};
use super::output;
use super::strided::{for_each_row, PAR_CHUNK};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ReduceOp;
use crate::shape::numel;
use crate::{dispatch_dtype, Dtype, Element, Error, Result};
use half::{bf16, f16};
use num_complex::Complex32;
use rayon::prelude::*;
use std::marker::PhantomData;
use std::ops::Range;

/// Independent accumulators of a contiguous run (two or four SIMD registers for 32-bit types).
const LANES: usize = 16;
/// Longest run summed by the lanes directly; longer float runs are halved recursively.
const PAIR_BLOCK: usize = 2048;
/// Elements of one chunk when a single long reduction is split across threads.
pub(crate) const RED_CHUNK: usize = 1 << 16;
/// Rows a column block sums directly before blocks are combined pairwise.
const ROW_BLOCK: usize = 64;
/// Bytes of accumulators in one column block (fits the L1 cache with room for the rows).
const COL_BYTES: usize = 16 << 10;
/// Below this many independent outputs (or column blocks), long reductions are split instead.
pub(crate) const FEW: usize = 8;

/// One reduction: how an element enters the accumulator, how accumulators combine, and how the
/// result becomes an output element.
pub(crate) trait Reducer: Sync {
    type In: Element;
    type A: Copy + Send + Sync;
    type Out: Element;
    /// Float sums, whose accuracy depends on the order: summed pairwise.
    const PAIRWISE: bool;
    fn init(&self) -> Self::A;
    fn load(&self, x: Self::In) -> Self::A;
    fn combine(&self, a: Self::A, b: Self::A) -> Self::A;
    fn finish(&self, a: Self::A) -> Self::Out;
}

/// The dtype MLX sums and multiplies a type in: small integers and bool widen to 32 bits.
pub(crate) trait SumType: Num {
    type S: Accumulate;
}
macro_rules! sum_type {
    ($($t:ty => $s:ty),*) => {$( impl SumType for $t { type S = $s; } )*};
}
sum_type!(bool => i32, u8 => u32, u16 => u32, u32 => u32, u64 => u64, i8 => i32, i16 => i32, i32 => i32,
    i64 => i64, f16 => f16, bf16 => bf16, f32 => f32, f64 => f64, Complex32 => Complex32);

macro_rules! reducer {
    ($name:ident<$($g:ident),*>) => {
        pub(crate) struct $name<$($g),*>(PhantomData<fn() -> ($($g,)*)>);
        impl<$($g),*> Default for $name<$($g),*> {
            fn default() -> Self {
                $name(PhantomData)
            }
        }
    };
}

reducer!(Sum<T, O>);
impl<T: Num, O: Accumulate> Reducer for Sum<T, O> {
    type In = T;
    type A = O::A;
    type Out = O;
    const PAIRWISE: bool = <O::A as Acc>::ROUNDS;
    #[inline(always)]
    fn init(&self) -> O::A {
        O::A::zero()
    }
    #[inline(always)]
    fn load(&self, x: T) -> O::A {
        cast::<T, O::A>(x)
    }
    #[inline(always)]
    fn combine(&self, a: O::A, b: O::A) -> O::A {
        a.add(b)
    }
    #[inline(always)]
    fn finish(&self, a: O::A) -> O {
        cast::<O::A, O>(a)
    }
}

reducer!(Prod<T, O>);
impl<T: Num, O: Accumulate> Reducer for Prod<T, O> {
    type In = T;
    type A = O::A;
    type Out = O;
    const PAIRWISE: bool = false;
    #[inline(always)]
    fn init(&self) -> O::A {
        O::A::one()
    }
    #[inline(always)]
    fn load(&self, x: T) -> O::A {
        cast::<T, O::A>(x)
    }
    #[inline(always)]
    fn combine(&self, a: O::A, b: O::A) -> O::A {
        a.mul(b)
    }
    #[inline(always)]
    fn finish(&self, a: O::A) -> O {
        cast::<O::A, O>(a)
    }
}

macro_rules! extremum_reducer {
    ($name:ident, $init:ident, $f:ident) => {
        reducer!($name<T>);
        impl<T: Extremum> Reducer for $name<T> {
            type In = T;
            type A = T;
            type Out = T;
            const PAIRWISE: bool = false;
            #[inline(always)]
            fn init(&self) -> T {
                T::$init()
            }
            #[inline(always)]
            fn load(&self, x: T) -> T {
                x
            }
            #[inline(always)]
            fn combine(&self, a: T, b: T) -> T {
                a.$f(b)
            }
            #[inline(always)]
            fn finish(&self, a: T) -> T {
                a
            }
        }
    };
}
extremum_reducer!(Max, lowest, max);
extremum_reducer!(Min, highest, min);

macro_rules! logical_reducer {
    ($name:ident, $init:expr, $op:tt) => {
        reducer!($name<T>);
        impl<T: Num> Reducer for $name<T> {
            type In = T;
            type A = bool;
            type Out = bool;
            const PAIRWISE: bool = false;
            #[inline(always)]
            fn init(&self) -> bool {
                $init
            }
            #[inline(always)]
            fn load(&self, x: T) -> bool {
                x.is_nonzero()
            }
            #[inline(always)]
            fn combine(&self, a: bool, b: bool) -> bool {
                a $op b
            }
            #[inline(always)]
            fn finish(&self, a: bool) -> bool {
                a
            }
        }
    };
}
logical_reducer!(All, true, &);
logical_reducer!(Any, false, |);

pub fn run(op: ReduceOp, axes: &[usize], x: &Input, out: &Output) -> Result<Data> {
    dispatch_dtype!(x.dtype, T => typed::<T>(op, axes, x, out))
}

fn typed<T: SumType + Extremum>(
    op: ReduceOp,
    axes: &[usize],
    x: &Input,
    out: &Output,
) -> Result<Data> {
    let name = op.name();
    match op {
        // The builders ask for the dtype MLX gives, or float32 (mean and var of integers and halves
        // accumulate straight into float32).
        ReduceOp::Sum if out.dtype == <T::S as Element>::DTYPE => {
            reduce(&Sum::<T, T::S>::default(), name, axes, x, out)
        }
        ReduceOp::Sum if out.dtype == Dtype::Float32 && !T::DTYPE.is_complex() => {
            reduce(&Sum::<T, f32>::default(), name, axes, x, out)
        }
        ReduceOp::Prod if out.dtype == <T::S as Element>::DTYPE => {
            reduce(&Prod::<T, T::S>::default(), name, axes, x, out)
        }
        ReduceOp::Max if out.dtype == T::DTYPE => reduce(&Max::<T>::default(), name, axes, x, out),
        ReduceOp::Min if out.dtype == T::DTYPE => reduce(&Min::<T>::default(), name, axes, x, out),
        ReduceOp::All if out.dtype == Dtype::Bool => {
            reduce(&All::<T>::default(), name, axes, x, out)
        }
        ReduceOp::Any if out.dtype == Dtype::Bool => {
            reduce(&Any::<T>::default(), name, axes, x, out)
        }
        _ => Err(Error::runtime(
            name,
            format!("no CPU kernel reduces {} to {}", x.dtype, out.dtype),
        )),
    }
}

/// The input seen as kept dims (output order) and reduced dims (outermost first, strides >= 0),
/// each as `(size, stride)` with size-1 dims dropped and contiguous runs merged.
struct Plan {
    kept_sizes: Vec<usize>,
    kept_strides: Vec<isize>,
    red_sizes: Vec<usize>,
    red_strides: Vec<isize>,
    /// Element offset of the first element (after flipping negative reduced strides).
    base: usize,
    out_n: usize,
    red_n: usize,
}

fn merge(dims: Vec<(usize, isize)>) -> (Vec<usize>, Vec<isize>) {
    let mut out: Vec<(usize, isize)> = Vec::with_capacity(dims.len());
    for (n, s) in dims {
        if let Some(last) = out.last_mut() {
            if last.1 == s * n as isize {
                *last = (last.0 * n, s);
                continue;
            }
        }
        out.push((n, s));
    }
    out.into_iter().unzip()
}

/// Needs every dim non-empty (empty reductions are handled before planning).
fn plan(x: &Input, axes: &[usize]) -> Plan {
    let layout = &x.data.layout;
    let mut base = layout.offset as isize;
    let (mut kept, mut red) = (vec![], vec![]);
    for (d, (&n, &s)) in x.shape.iter().zip(&layout.strides).enumerate() {
        if n == 1 {
            continue;
        }
        if axes.contains(&d) {
            if s < 0 {
                base += (n - 1) as isize * s;
                red.push((n, -s));
            } else {
                red.push((n, s));
            }
        } else {
            kept.push((n, s));
        }
    }
    red.sort_by_key(|d| std::cmp::Reverse(d.1));
    let (kept_sizes, kept_strides) = merge(kept);
    let (red_sizes, red_strides) = merge(red);
    Plan {
        out_n: numel(&kept_sizes),
        red_n: numel(&red_sizes),
        kept_sizes,
        kept_strides,
        red_sizes,
        red_strides,
        base: base as usize,
    }
}

fn reduce<R: Reducer>(
    r: &R,
    name: &'static str,
    axes: &[usize],
    x: &Input,
    out: &Output,
) -> Result<Data> {
    output::<R::Out>(name, out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        if axes.iter().any(|&d| x.shape[d] == 0) {
            o.fill(r.finish(r.init()));
            return Ok(());
        }
        let p = plan(x, axes);
        let xs: &[R::In] = x.data.buffer.as_slice();
        let column = match (p.kept_strides.last(), p.red_strides.iter().min()) {
            (Some(&ks), Some(&rmin)) => ks != 0 && ks.unsigned_abs() < rmin as usize,
            _ => false,
        };
        if column {
            columns(r, xs, &p, o);
        } else {
            rows(r, xs, &p, o);
        }
        Ok(())
    })
}

/// Combines values pairwise in the order they are pushed (a binary counter of partial sums), so
/// `n` values meet in a balanced tree of depth `log2(n)` using `log2(n)` slots.
pub(crate) struct Cascade<A> {
    stack: Vec<(u32, A)>,
}

impl<A> Cascade<A> {
    pub fn new() -> Self {
        Cascade { stack: Vec::new() }
    }
    pub fn push(&mut self, mut a: A, combine: impl Fn(A, A) -> A) {
        let mut level = 0;
        while self.stack.last().is_some_and(|&(l, _)| l == level) {
            let (_, b) = self.stack.pop().expect("checked non-empty");
            a = combine(b, a);
            level += 1;
        }
        self.stack.push((level, a));
    }
    pub fn finish(mut self, combine: impl Fn(A, A) -> A) -> Option<A> {
        let (_, mut acc) = self.stack.pop()?;
        while let Some((_, b)) = self.stack.pop() {
            acc = combine(b, acc);
        }
        Some(acc)
    }
}

/// A contiguous run, with [`LANES`] accumulators; float sums halve runs longer than [`PAIR_BLOCK`].
pub(crate) fn reduce_contig<R: Reducer>(r: &R, xs: &[R::In]) -> R::A {
    if R::PAIRWISE && xs.len() > PAIR_BLOCK {
        let mid = xs.len() / 2 / LANES * LANES;
        return r.combine(reduce_contig(r, &xs[..mid]), reduce_contig(r, &xs[mid..]));
    }
    let mut acc = [r.init(); LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = r.combine(acc[i], r.load(c[i]));
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = r.combine(*a, r.load(v));
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            acc[i] = r.combine(acc[i], acc[i + w]);
        }
    }
    acc[0]
}

/// `len` elements from `off`, `st` apart (`st >= 0`).
fn reduce_strided<R: Reducer>(r: &R, xs: &[R::In], off: usize, len: usize, st: isize) -> R::A {
    if st == 1 {
        return reduce_contig(r, &xs[off..off + len]);
    }
    if R::PAIRWISE && len > PAIR_BLOCK {
        let mid = len / 2;
        let second = (off as isize + mid as isize * st) as usize;
        return r.combine(
            reduce_strided(r, xs, off, mid, st),
            reduce_strided(r, xs, second, len - mid, st),
        );
    }
    let st = st as usize;
    let mut acc = [r.init(); 4];
    let mut p = off;
    for _ in 0..len / 4 {
        for (k, a) in acc.iter_mut().enumerate() {
            *a = r.combine(*a, r.load(xs[p + k * st]));
        }
        p += 4 * st;
    }
    for _ in 0..len % 4 {
        acc[0] = r.combine(acc[0], r.load(xs[p]));
        p += st;
    }
    r.combine(r.combine(acc[0], acc[1]), r.combine(acc[2], acc[3]))
}

/// The reduced elements `range` (flat indices over the reduced dims) of the output whose first
/// element is at `base`.
fn reduce_red<R: Reducer>(r: &R, xs: &[R::In], p: &Plan, base: usize, range: Range<usize>) -> R::A {
    match p.red_strides[..] {
        [] => r.combine(r.init(), r.load(xs[base])),
        [s] => reduce_strided(
            r,
            xs,
            (base as isize + range.start as isize * s) as usize,
            range.len(),
            s,
        ),
        _ => {
            let mut c = Cascade::new();
            for_each_row(
                &p.red_sizes,
                [&p.red_strides],
                [base],
                range,
                |_, len, [o], [s]| {
                    c.push(reduce_strided(r, xs, o as usize, len, s), |a, b| {
                        r.combine(a, b)
                    })
                },
            );
            c.finish(|a, b| r.combine(a, b)).unwrap_or_else(|| r.init())
        }
    }
}

/// Element offsets of the first reduced element of each output in `range`.
fn kept_offsets(p: &Plan, sizes: &[usize], strides: &[isize], range: Range<usize>) -> Vec<usize> {
    let mut offs = Vec::with_capacity(range.len());
    for_each_row(sizes, [strides], [p.base], range, |_, len, [o], [s]| {
        offs.extend((0..len).map(|i| (o + i as isize * s) as usize));
    });
    offs
}

fn rows<R: Reducer>(r: &R, xs: &[R::In], p: &Plan, out: &mut [R::Out]) {
    let combine = |a, b| r.combine(a, b);
    if p.out_n < FEW && p.red_n >= 2 * RED_CHUNK {
        // A few long reductions (a full sum, say): split each into chunks.
        for (o, base) in
            out.iter_mut()
                .zip(kept_offsets(p, &p.kept_sizes, &p.kept_strides, 0..p.out_n))
        {
            let parts: Vec<R::A> = (0..p.red_n.div_ceil(RED_CHUNK))
                .into_par_iter()
                .map(|c| {
                    reduce_red(
                        r,
                        xs,
                        p,
                        base,
                        c * RED_CHUNK..((c + 1) * RED_CHUNK).min(p.red_n),
                    )
                })
                .collect();
            let mut cas = Cascade::new();
            for a in parts {
                cas.push(a, combine);
            }
            *o = r.finish(cas.finish(combine).unwrap_or_else(|| r.init()));
        }
        return;
    }
    let fill = |start: usize, chunk: &mut [R::Out]| {
        let range = start..start + chunk.len();
        for_each_row(
            &p.kept_sizes,
            [&p.kept_strides],
            [p.base],
            range,
            |pos, len, [o], [s]| {
                for (i, y) in chunk[pos - start..pos - start + len].iter_mut().enumerate() {
                    *y = r.finish(reduce_red(
                        r,
                        xs,
                        p,
                        (o + i as isize * s) as usize,
                        0..p.red_n,
                    ));
                }
            },
        );
    };
    let work = p.out_n.saturating_mul(p.red_n);
    if work < 2 * PAR_CHUNK {
        fill(0, out);
    } else {
        // Tasks of at least PAR_CHUNK elements of work, about four per thread.
        let per_task = (PAR_CHUNK / p.red_n)
            .max(1)
            .max(p.out_n.div_ceil(4 * rayon::current_num_threads()));
        out.par_chunks_mut(per_task)
            .enumerate()
            .for_each(|(i, c)| fill(i * per_task, c));
    }
}

fn columns<R: Reducer>(r: &R, xs: &[R::In], p: &Plan, out: &mut [R::Out]) {
    let nk = p.kept_sizes.len();
    let (kn, ks) = (p.kept_sizes[nk - 1], p.kept_strides[nk - 1]);
    let outer_n = p.out_n / kn;
    let outer = kept_offsets(
        p,
        &p.kept_sizes[..nk - 1],
        &p.kept_strides[..nk - 1],
        0..outer_n,
    );
    let width = (COL_BYTES / size_of::<R::A>().max(1)).max(LANES).min(kn);
    let blocks = kn.div_ceil(width);
    // The columns `j0..j0 + w` of outer index `oi`, over the reduced `range`.
    let block = |oi: usize, j0: usize, w: usize, range: Range<usize>| -> Vec<R::A> {
        let start = (outer[oi] as isize + j0 as isize * ks) as usize;
        col_block(r, xs, p, start, ks, w, range)
    };
    let write = |y: &mut [R::Out], acc: Vec<R::A>| {
        for (y, a) in y.iter_mut().zip(acc) {
            *y = r.finish(a);
        }
    };
    if outer_n * blocks < FEW && p.red_n * width >= 2 * RED_CHUNK {
        // Few blocks, long reductions: split the reduced range into chunks of whole row blocks.
        let rows = (RED_CHUNK / width).max(1).next_multiple_of(ROW_BLOCK);
        let vcombine = |a: Vec<R::A>, b: Vec<R::A>| vec_combine(r, a, b);
        for (oi, row) in out.chunks_mut(kn).enumerate() {
            for (bi, y) in row.chunks_mut(width).enumerate() {
                let parts: Vec<Vec<R::A>> = (0..p.red_n.div_ceil(rows))
                    .into_par_iter()
                    .map(|c| {
                        block(
                            oi,
                            bi * width,
                            y.len(),
                            c * rows..((c + 1) * rows).min(p.red_n),
                        )
                    })
                    .collect();
                let mut cas = Cascade::new();
                for a in parts {
                    cas.push(a, vcombine);
                }
                write(y, cas.finish(vcombine).expect("at least one chunk"));
            }
        }
        return;
    }
    let fill = |oi: usize, row: &mut [R::Out]| {
        for (bi, y) in row.chunks_mut(width).enumerate() {
            let w = y.len();
            write(y, block(oi, bi * width, w, 0..p.red_n));
        }
    };
    if p.out_n.saturating_mul(p.red_n) < 2 * PAR_CHUNK {
        out.chunks_mut(kn)
            .enumerate()
            .for_each(|(oi, row)| fill(oi, row));
    } else if outer_n >= FEW {
        out.par_chunks_mut(kn)
            .enumerate()
            .for_each(|(oi, row)| fill(oi, row));
    } else {
        out.chunks_mut(kn).enumerate().for_each(|(oi, row)| {
            row.par_chunks_mut(width).enumerate().for_each(|(bi, y)| {
                let w = y.len();
                write(y, block(oi, bi * width, w, 0..p.red_n));
            })
        });
    }
}

fn vec_combine<R: Reducer>(r: &R, mut a: Vec<R::A>, b: Vec<R::A>) -> Vec<R::A> {
    for (x, y) in a.iter_mut().zip(b) {
        *x = r.combine(*x, y);
    }
    a
}

/// Accumulates `w` adjacent outputs (the first at `start`, the next `ks` further) over the reduced
/// rows `range`. Float sums add [`ROW_BLOCK`] rows at a time and combine the blocks pairwise.
fn col_block<R: Reducer>(
    r: &R,
    xs: &[R::In],
    p: &Plan,
    start: usize,
    ks: isize,
    w: usize,
    range: Range<usize>,
) -> Vec<R::A> {
    let add_rows = |acc: &mut [R::A], rows: Range<usize>| {
        for_each_row(
            &p.red_sizes,
            [&p.red_strides],
            [start],
            rows,
            |_, len, [o], [s]| {
                for i in 0..len as isize {
                    let ro = o + i * s;
                    if ks == 1 {
                        let ro = ro as usize;
                        for (a, &v) in acc.iter_mut().zip(&xs[ro..ro + w]) {
                            *a = r.combine(*a, r.load(v));
                        }
                    } else {
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a = r.combine(*a, r.load(xs[(ro + j as isize * ks) as usize]));
                        }
                    }
                }
            },
        );
    };
    if !R::PAIRWISE {
        let mut acc = vec![r.init(); w];
        add_rows(&mut acc, range);
        return acc;
    }
    let mut cas = Cascade::new();
    let mut r0 = range.start;
    while r0 < range.end {
        let r1 = (r0 + ROW_BLOCK).min(range.end);
        let mut acc = vec![r.init(); w];
        add_rows(&mut acc, r0..r1);
        cas.push(acc, |a, b| vec_combine(r, a, b));
        r0 = r1;
    }
    cas.finish(|a, b| vec_combine(r, a, b))
        .unwrap_or_else(|| vec![r.init(); w])
}
