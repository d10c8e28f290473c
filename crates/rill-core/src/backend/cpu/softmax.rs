//! softmax and logsumexp along one axis (`Op::Softmax`, `Op::LogSumExp`), both stable: the
//! line's max is subtracted before `exp`. float16/bfloat16 compute in f32 (the sum of exps
//! included) and round once at the end; complex numbers use the lexicographic max, as MLX.
//!
//! softmax makes three passes over a line (max, sum of exps, divide); when the output type is the
//! compute type the exps are stored on the second pass and divided in place on the third, which
//! saves one `exp` per element. Lines along the last axis are walked one by one, lines along an
//! outer axis as blocks of adjacent lines, one row at a time.

use super::accum::{Acc, Extremum, Real, SoftIn};
use super::lines::{for_units, lines, SharedOut};
use super::num::cast;
use super::output;
use super::reduce::Cascade;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::{Dtype, Element, Error, Result};
use half::{bf16, f16};
use num_complex::Complex32;

/// Adjacent lines processed together when the axis is not the last.
const BLOCK: usize = 512;

pub fn softmax(axis: usize, x: &Input, out: &Output) -> Result<Data> {
    match x.dtype {
        Dtype::Float16 => softmax_typed::<f16>(axis, x, out),
        Dtype::Bfloat16 => softmax_typed::<bf16>(axis, x, out),
        Dtype::Float32 => softmax_typed::<f32>(axis, x, out),
        Dtype::Float64 => softmax_typed::<f64>(axis, x, out),
        Dtype::Complex64 => softmax_typed::<Complex32>(axis, x, out),
        d => Err(Error::runtime(
            "softmax",
            format!("no CPU kernel for {d} (the builder casts to a float type)"),
        )),
    }
}

pub fn logsumexp(axis: usize, x: &Input, out: &Output) -> Result<Data> {
    match x.dtype {
        Dtype::Float16 => lse_typed::<f16>(axis, x, out),
        Dtype::Bfloat16 => lse_typed::<bf16>(axis, x, out),
        Dtype::Float32 => lse_typed::<f32>(axis, x, out),
        Dtype::Float64 => lse_typed::<f64>(axis, x, out),
        Dtype::Complex64 => lse_typed::<Complex32>(axis, x, out),
        d => Err(Error::runtime(
            "logsumexp",
            format!("no CPU kernel for {d} (the builder casts to a float type)"),
        )),
    }
}

#[inline(always)]
fn load<T: SoftIn>(v: T) -> T::C {
    cast::<T, T::C>(v)
}

/// Rows of a block of lines summed directly before blocks are combined pairwise.
const ROWS: usize = 64;

/// `sum(term(k) for k in range)`, pairwise: the error grows with the log of the length.
fn pairwise<C: Real>(range: std::ops::Range<usize>, term: &impl Fn(usize) -> C) -> C {
    if range.len() > 4 * ROWS {
        let mid = range.start + range.len() / 2;
        return pairwise(range.start..mid, term).add(pairwise(mid..range.end, term));
    }
    let mut acc = [C::zero(); 4];
    for k in range {
        acc[k % 4] = acc[k % 4].add(term(k));
    }
    acc[0].add(acc[1]).add(acc[2].add(acc[3]))
}

/// Per column `j < w`, `sum(term(k, j) for k in 0..n)`: blocks of [`ROWS`] rows, combined pairwise.
fn column_sums<C: Real>(
    n: usize,
    w: usize,
    mut add_rows: impl FnMut(std::ops::Range<usize>, &mut [C]),
) -> Vec<C> {
    let combine = |mut a: Vec<C>, b: Vec<C>| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x = x.add(y));
        a
    };
    let mut cas = Cascade::new();
    for k0 in (0..n).step_by(ROWS) {
        let mut s = vec![C::zero(); w];
        add_rows(k0..(k0 + ROWS).min(n), &mut s);
        cas.push(s, combine);
    }
    cas.finish(combine).unwrap_or_else(|| vec![C::zero(); w])
}

fn softmax_typed<T: SoftIn>(axis: usize, x: &Input, out: &Output) -> Result<Data> {
    output::<T>("softmax", out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        let l = lines::<T>(x, axis);
        let (n, inner, xs) = (l.n, l.inner, &l.xs[..]);
        // Store the exps and divide them in place when no rounding happens in between.
        let same = T::DTYPE == <T::C as Element>::DTYPE;
        let shared = SharedOut::new(o);
        let by_line = l.by_line();
        for_units(by_line, (l.outer.len(), n, inner), BLOCK, |oi, i0, w| {
            let slab = oi * n * inner;
            if by_line {
                let at = |k: usize| load(xs[l.at(oi, k, i0)]);
                // SAFETY: line (oi, i0) is written only by its own unit, one element at a time.
                let put = |k: usize| unsafe { &mut shared.slice(slab + k * inner + i0, 1)[0] };
                let m = (0..n).fold(T::C::lowest(), |m, k| m.max(at(k)));
                let s = pairwise(0..n, &|k| {
                    let e = at(k).sub(m).exp();
                    if same {
                        *put(k) = cast::<T::C, T>(e);
                    }
                    e
                });
                for k in 0..n {
                    let e = if same {
                        load(*put(k))
                    } else {
                        at(k).sub(m).exp()
                    };
                    *put(k) = cast::<T::C, T>(e.div(s));
                }
                return;
            }
            let at = |k: usize, j: usize| {
                load(xs[(l.at(oi, k, i0) as isize + j as isize * l.si) as usize])
            };
            // SAFETY: the unit (oi, i0..i0 + w) alone touches these columns of slab oi, and each
            // row slice is dropped before the next is made.
            let row = |k: usize| unsafe { shared.slice(slab + k * inner + i0, w) };
            let mut m = vec![T::C::lowest(); w];
            for k in 0..n {
                for (j, m) in m.iter_mut().enumerate() {
                    *m = m.max(at(k, j));
                }
            }
            let s = column_sums(n, w, |rows, s: &mut [T::C]| {
                for k in rows {
                    let y = row(k);
                    for j in 0..w {
                        let e = at(k, j).sub(m[j]).exp();
                        s[j] = s[j].add(e);
                        if same {
                            y[j] = cast::<T::C, T>(e);
                        }
                    }
                }
            });
            for k in 0..n {
                let y = row(k);
                for j in 0..w {
                    let e = if same {
                        load(y[j])
                    } else {
                        at(k, j).sub(m[j]).exp()
                    };
                    y[j] = cast::<T::C, T>(e.div(s[j]));
                }
            }
        });
        Ok(())
    })
}

/// `log(sum(exp(x - m))) + m`; an infinite or NaN max is the answer itself (all -inf gives -inf,
/// any +inf gives +inf), where the formula would give NaN.
#[inline(always)]
fn lse_finish<C: Real>(m: C, s: C) -> C {
    if m.is_not_finite() {
        m
    } else {
        s.ln().add(m)
    }
}

fn lse_typed<T: SoftIn>(axis: usize, x: &Input, out: &Output) -> Result<Data> {
    output::<T>("logsumexp", out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        let l = lines::<T>(x, axis);
        let (n, inner, xs) = (l.n, l.inner, &l.xs[..]);
        let by_line = l.by_line();
        let shared = SharedOut::new(o);
        for_units(by_line, (l.outer.len(), n, inner), BLOCK, |oi, i0, w| {
            // SAFETY: the unit of lines (oi, i0..i0 + w) is the only writer of these outputs.
            let y = unsafe { shared.slice(oi * inner + i0, w) };
            if by_line {
                let at = |k: usize| load(xs[l.at(oi, k, i0)]);
                let m = (0..n).fold(T::C::lowest(), |m, k| m.max(at(k)));
                let s = if m.is_not_finite() {
                    T::C::zero()
                } else {
                    pairwise(0..n, &|k| at(k).sub(m).exp())
                };
                y[0] = cast::<T::C, T>(lse_finish(m, s));
                return;
            }
            let at = |k: usize, j: usize| {
                load(xs[(l.at(oi, k, i0) as isize + j as isize * l.si) as usize])
            };
            let mut m = vec![T::C::lowest(); w];
            for k in 0..n {
                for (j, m) in m.iter_mut().enumerate() {
                    *m = m.max(at(k, j));
                }
            }
            let s = column_sums(n, w, |rows, s: &mut [T::C]| {
                for k in rows {
                    for (j, s) in s.iter_mut().enumerate() {
                        *s = s.add(at(k, j).sub(m[j]).exp());
                    }
                }
            });
            for (j, y) in y.iter_mut().enumerate() {
                *y = cast::<T::C, T>(lse_finish(m[j], s[j]));
            }
        });
        Ok(())
    })
}
