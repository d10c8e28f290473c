//! Sort and argsort along one axis.
//!
//! Each row (the elements along the axis, for one position of the other dims) is gathered from the
//! strided input, sorted with a stable sort, and written out. Rows are independent, so large inputs
//! sort many rows at once on rayon's pool; a few very long rows are each sorted with rayon's
//! parallel (also stable) merge sort. A stable sort under a total order has one result, so the
//! output never depends on the number of threads.

use super::output;
use super::strided::{offsets, par_chunks, PAR_CHUNK};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::{dispatch_dtype, Dtype, Element, Result};
use half::{bf16, f16};
use num_complex::Complex32;
use rayon::prelude::*;
use std::cmp::Ordering;

/// NumPy's sort order for an element type.
pub trait SortKey: Element {
    fn order(a: &Self, b: &Self) -> Ordering;
}

macro_rules! ord_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            #[inline]
            fn order(a: &Self, b: &Self) -> Ordering { a.cmp(b) }
        }
    )*};
}
ord_key!(bool, u8, u16, u32, u64, i8, i16, i32, i64);

/// Numbers in ascending order, then every NaN (NaNs are equal to each other).
#[inline]
fn nan_last<T: PartialOrd>(a: &T, b: &T, a_nan: bool, b_nan: bool) -> Ordering {
    match (a_nan, b_nan) {
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

macro_rules! float_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            #[inline]
            fn order(a: &Self, b: &Self) -> Ordering { nan_last(a, b, a.is_nan(), b.is_nan()) }
        }
    )*};
}
float_key!(f16, bf16, f32, f64);

impl SortKey for Complex32 {
    /// NumPy's complex order: `R + Rj < R + nanj < nan + Rj < nan + nanj`, and within each class
    /// by the parts that are not NaN, real first.
    #[inline]
    fn order(a: &Self, b: &Self) -> Ordering {
        let class = |z: &Complex32| (z.re.is_nan(), z.im.is_nan());
        let (ca, cb) = (class(a), class(b));
        ca.cmp(&cb)
            .then_with(|| {
                if ca.0 {
                    Ordering::Equal
                } else {
                    nan_last(&a.re, &b.re, false, false)
                }
            })
            .then_with(|| {
                if ca.1 {
                    Ordering::Equal
                } else {
                    nan_last(&a.im, &b.im, false, false)
                }
            })
    }
}

pub fn run(op: &Op, x: &Input, out: &Output) -> Result<Data> {
    match *op {
        Op::Sort { axis } => dispatch_dtype!(x.dtype, T => sort::<T>(x, axis, out)),
        Op::ArgSort { axis } => dispatch_dtype!(x.dtype, T => argsort::<T>(x, axis, out)),
        _ => unreachable!("not a sort op: {op:?}"),
    }
}

/// Where the rows of `x` along `axis` lie: the buffer offset of each row's first element (rows in
/// row-major order of the other dims), the stride between its elements, its length, and how many
/// elements follow the axis in a row-major array of `x.shape` (the output's stride along `axis`).
struct Rows {
    starts: Vec<usize>,
    step: isize,
    len: usize,
    inner: usize,
}

impl Rows {
    fn new(x: &Input, axis: usize) -> Rows {
        let mut reduced = x.shape.to_vec();
        reduced[axis] = 1;
        let starts = offsets(&Input {
            shape: &reduced,
            dtype: x.dtype,
            data: x.data,
        });
        Rows {
            starts,
            step: x.data.layout.strides[axis],
            len: x.shape[axis],
            inner: x.shape[axis + 1..].iter().product(),
        }
    }

    /// Element `k` of row `r`, read from the input buffer `src`.
    #[inline]
    fn get<T: Copy>(&self, src: &[T], r: usize, k: usize) -> T {
        src[(self.starts[r] as isize + k as isize * self.step) as usize]
    }
}

/// Fills and sorts every row of `buf` (rows of `len` elements, back to back): `fill(r, row)`
/// writes row `r`, then the row is sorted by `cmp`.
fn sort_rows<E: Send>(
    buf: &mut [E],
    len: usize,
    fill: impl Fn(usize, &mut [E]) + Sync,
    cmp: impl Fn(&E, &E) -> Ordering + Sync,
) {
    if buf.is_empty() || len == 0 {
        return;
    }
    let rows = buf.len() / len;
    if buf.len() < 2 * PAR_CHUNK {
        for (r, row) in buf.chunks_mut(len).enumerate() {
            fill(r, row);
            row.sort_by(&cmp);
        }
    } else if rows >= rayon::current_num_threads() {
        buf.par_chunks_mut(len).enumerate().for_each(|(r, row)| {
            fill(r, row);
            row.sort_by(&cmp);
        });
    } else {
        for (r, row) in buf.chunks_mut(len).enumerate() {
            fill(r, row);
            row.par_sort_by(&cmp);
        }
    }
}

/// Writes the sorted rows `rows_buf` (axis last) to `out` (row-major, axis in place), mapping each
/// element through `f`.
fn scatter<E: Sync, O: Send>(
    rows_buf: &[E],
    out: &mut [O],
    geo: &Rows,
    f: impl Fn(&E) -> O + Sync,
) {
    let (len, inner) = (geo.len, geo.inner);
    par_chunks(out, |range, chunk| {
        for (p, o) in range.zip(chunk.iter_mut()) {
            // Output position p is (outer, k, i); its row is outer * inner + i.
            let (outer, rest) = (p / (len * inner), p % (len * inner));
            let (k, i) = (rest / inner, rest % inner);
            *o = f(&rows_buf[(outer * inner + i) * len + k]);
        }
    });
}

fn sort<T: SortKey>(x: &Input, axis: usize, out: &Output) -> Result<Data> {
    let src: &[T] = x.data.buffer.as_slice();
    let geo = Rows::new(x, axis);
    let fill = |r: usize, row: &mut [T]| {
        for (k, v) in row.iter_mut().enumerate() {
            *v = geo.get(src, r, k);
        }
    };
    output::<T>("sort", out, |o| {
        if geo.inner == 1 {
            // Rows are contiguous in the output: sort them in place.
            sort_rows(o, geo.len, fill, T::order);
        } else {
            let mut rows = vec![T::default(); o.len()];
            sort_rows(&mut rows, geo.len, fill, T::order);
            scatter(&rows, o, &geo, |&v| v);
        }
        Ok(())
    })
}

fn argsort<T: SortKey>(x: &Input, axis: usize, out: &Output) -> Result<Data> {
    debug_assert_eq!(out.dtype, Dtype::Uint32);
    let src: &[T] = x.data.buffer.as_slice();
    let geo = Rows::new(x, axis);
    output::<u32>("argsort", out, |o| {
        let mut rows = vec![(T::default(), 0u32); o.len()];
        sort_rows(
            &mut rows,
            geo.len,
            |r, row| {
                for (k, v) in row.iter_mut().enumerate() {
                    *v = (geo.get(src, r, k), k as u32);
                }
            },
            |a, b| T::order(&a.0, &b.0),
        );
        scatter(&rows, o, &geo, |&(_, i)| i);
        Ok(())
    })
}
