//! softmax and logsumexp along one axis (`Op::Softmax`, `Op::LogSumExp`), both stable: the
//! line's max is subtracted before `exp`. float16/bfloat16 compute in f32 (the sum of exps
//! included) and round once at the end; complex numbers use the lexicographic max, as MLX.
//!
//! softmax makes three passes over a line (max, sum of exps, divide); when the output type is the
//! compute type the exps are stored on the second pass and divided in place on the third, which
//! saves one `exp` per element. Lines along the last axis are walked one by one, lines along an
//! outer axis as blocks of adjacent lines, one row at a time.

use super::accum::{Acc, Extremum, Real, SoftIn};
use super::lines::{for_units_with, lines, Lines, SharedOut};
use super::num::cast;
use super::output;
use super::reduce::Cascade;
use super::simd;
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
/// Independent accumulators of a line's max and sum (vectorizable).
const LANES: usize = 8;
/// Longest run summed by the lanes directly; longer runs are halved recursively.
const PAIR_BLOCK: usize = 1024;

/// The max of `xs` (NaN wins). AVX2 code where the CPU has it (`simd.rs`).
pub(super) fn max_of<C: Real>(xs: &[C]) -> C {
    #[cfg(target_arch = "x86_64")]
    if simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { max_of_avx2(xs) };
    }
    max_of_body(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn max_of_avx2<C: Real>(xs: &[C]) -> C {
    max_of_body(xs)
}

#[inline(always)]
fn max_of_body<C: Real>(xs: &[C]) -> C {
    let mut acc = [C::lowest(); LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = acc[i].max(c[i]);
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = a.max(v);
    }
    acc.iter().fold(C::lowest(), |m, &a| m.max(a))
}

/// Replaces every `x` by `exp(x - m)` and returns their sum, pairwise. For f32 on a CPU with
/// AVX-512, `exp_avx512.rs` (within the same 2 ulp, not always the same last bit); otherwise AVX2
/// code where the CPU has it (`simd.rs`): the same operations in the same order as the portable
/// code, so the same result.
pub(super) fn exp_sum<C: Real>(xs: &mut [C], m: C) -> C {
    #[cfg(target_arch = "x86_64")]
    if C::DTYPE == Dtype::Float32 && simd::has_avx512f() {
        // SAFETY: `Element::DTYPE` names the type, and only f32 has Float32, so `C` is f32 and
        // the slice is reinterpreted as itself; the CPU has AVX-512F, checked just above.
        let sum = unsafe {
            let xs = &mut *(xs as *mut [C] as *mut [f32]);
            super::exp_avx512::exp_sum(xs, m.to_f32())
        };
        return C::from_f32(sum);
    }
    #[cfg(target_arch = "x86_64")]
    if simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { exp_sum_avx2(xs, m) };
    }
    exp_sum_portable(xs, m)
}

fn exp_sum_portable<C: Real>(xs: &mut [C], m: C) -> C {
    if xs.len() > PAIR_BLOCK {
        let (a, b) = xs.split_at_mut(xs.len() / 2 / LANES * LANES);
        return exp_sum_portable(a, m).add(exp_sum_portable(b, m));
    }
    exp_sum_block(xs, m)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_sum_avx2<C: Real>(xs: &mut [C], m: C) -> C {
    if xs.len() > PAIR_BLOCK {
        let (a, b) = xs.split_at_mut(xs.len() / 2 / LANES * LANES);
        return exp_sum_avx2(a, m).add(exp_sum_avx2(b, m));
    }
    exp_sum_block(xs, m)
}

/// [`exp_sum`] of at most [`PAIR_BLOCK`] elements, with [`LANES`] accumulators.
#[inline(always)]
fn exp_sum_block<C: Real>(xs: &mut [C], m: C) -> C {
    let mut acc = [C::zero(); LANES];
    let mut chunks = xs.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            c[i] = c[i].sub(m).exp();
            acc[i] = acc[i].add(c[i]);
        }
    }
    for (a, v) in acc.iter_mut().zip(chunks.into_remainder()) {
        *v = v.sub(m).exp();
        *a = a.add(*v);
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for i in 0..w {
            acc[i] = acc[i].add(acc[i + w]);
        }
    }
    acc[0]
}

/// Per column `j < w`, the sum over `0..n` of what `add_rows` adds: blocks of [`ROWS`] rows,
/// combined pairwise.
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

/// Reads elements `k` of the `w` lines `(oi, i0..i0 + w)` into `buf`, in the compute type.
#[inline(always)]
fn read_row<T: SoftIn>(l: &Lines<T>, oi: usize, k: usize, i0: usize, buf: &mut [T::C]) {
    let (base, w) = (l.at(oi, k, i0), buf.len());
    if l.si == 1 {
        for (b, &v) in buf.iter_mut().zip(&l.xs[base..base + w]) {
            *b = load(v);
        }
    } else {
        for (j, b) in buf.iter_mut().enumerate() {
            *b = load(l.xs[(base as isize + j as isize * l.si) as usize]);
        }
    }
}

/// Line `(oi, i)` into `buf`, in the compute type.
fn read_line<T: SoftIn>(l: &Lines<T>, oi: usize, i: usize, buf: &mut Vec<T::C>) {
    buf.clear();
    let base = l.at(oi, 0, i);
    if l.sa == 1 {
        buf.extend(l.xs[base..base + l.n].iter().map(|&v| load(v)));
    } else {
        buf.extend((0..l.n).map(|k| load(l.xs[(base as isize + k as isize * l.sa) as usize])));
    }
}

/// Scratch of one task: a line (or a row of a block of lines) and per-column maxima.
type Scratch<C> = (Vec<C>, Vec<C>);

fn softmax_typed<T: SoftIn>(axis: usize, x: &Input, out: &Output) -> Result<Data> {
    output::<T>("softmax", out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        let l = lines::<T>(x, axis);
        let (n, inner) = (l.n, l.inner);
        // Keep the exps in the output between passes when that loses nothing.
        let same = T::DTYPE == <T::C as Element>::DTYPE;
        let shared = SharedOut::new(o);
        let by_line = l.by_line();
        let dims = (l.outer.len(), n, inner);
        for_units_with(
            by_line,
            dims,
            BLOCK,
            Scratch::default,
            |(buf, m), oi, i0, w| {
                let slab = oi * n * inner;
                if by_line {
                    read_line(&l, oi, i0, buf);
                    let mx = max_of(buf);
                    let inv = T::C::one().div(exp_sum(buf, mx));
                    if inner == 1 {
                        // SAFETY: the line (oi, 0) is written only by its own unit.
                        let y = unsafe { shared.slice(slab, n) };
                        for (y, &e) in y.iter_mut().zip(buf.iter()) {
                            *y = cast::<T::C, T>(e.mul(inv));
                        }
                    } else {
                        for (k, &e) in buf.iter().enumerate() {
                            // SAFETY: line (oi, i0) is written only by its own unit.
                            unsafe {
                                shared.slice(slab + k * inner + i0, 1)[0] =
                                    cast::<T::C, T>(e.mul(inv))
                            };
                        }
                    }
                    return;
                }
                // SAFETY: the unit (oi, i0..i0 + w) alone touches these columns of slab oi, and each
                // row slice is dropped before the next is made.
                let row = |k: usize| unsafe { shared.slice(slab + k * inner + i0, w) };
                buf.resize(w, T::C::zero());
                m.clear();
                m.resize(w, T::C::lowest());
                for k in 0..n {
                    read_row(&l, oi, k, i0, buf);
                    for (m, &v) in m.iter_mut().zip(buf.iter()) {
                        *m = m.max(v);
                    }
                }
                let s = column_sums(n, w, |rows, s: &mut [T::C]| {
                    for k in rows {
                        read_row(&l, oi, k, i0, buf);
                        let y = row(k);
                        for j in 0..w {
                            let e = buf[j].sub(m[j]).exp();
                            s[j] = s[j].add(e);
                            if same {
                                y[j] = cast::<T::C, T>(e);
                            }
                        }
                    }
                });
                let inv: Vec<T::C> = s.into_iter().map(|s| T::C::one().div(s)).collect();
                for k in 0..n {
                    let y = row(k);
                    if same {
                        for (y, &inv) in y.iter_mut().zip(&inv) {
                            *y = cast::<T::C, T>(load(*y).mul(inv));
                        }
                    } else {
                        read_row(&l, oi, k, i0, buf);
                        for j in 0..w {
                            y[j] = cast::<T::C, T>(buf[j].sub(m[j]).exp().mul(inv[j]));
                        }
                    }
                }
            },
        );
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
        let (n, inner) = (l.n, l.inner);
        let by_line = l.by_line();
        let shared = SharedOut::new(o);
        let dims = (l.outer.len(), n, inner);
        for_units_with(
            by_line,
            dims,
            BLOCK,
            Scratch::default,
            |(buf, m), oi, i0, w| {
                // SAFETY: the unit of lines (oi, i0..i0 + w) is the only writer of these outputs.
                let y = unsafe { shared.slice(oi * inner + i0, w) };
                if by_line {
                    read_line(&l, oi, i0, buf);
                    let mx = max_of(buf);
                    let s = if mx.is_not_finite() {
                        T::C::zero()
                    } else {
                        exp_sum(buf, mx)
                    };
                    y[0] = cast::<T::C, T>(lse_finish(mx, s));
                    return;
                }
                buf.resize(w, T::C::zero());
                m.clear();
                m.resize(w, T::C::lowest());
                for k in 0..n {
                    read_row(&l, oi, k, i0, buf);
                    for (m, &v) in m.iter_mut().zip(buf.iter()) {
                        *m = m.max(v);
                    }
                }
                let s = column_sums(n, w, |rows, s: &mut [T::C]| {
                    for k in rows {
                        read_row(&l, oi, k, i0, buf);
                        for j in 0..w {
                            s[j] = s[j].add(buf[j].sub(m[j]).exp());
                        }
                    }
                });
                for (j, y) in y.iter_mut().enumerate() {
                    *y = cast::<T::C, T>(lse_finish(m[j], s[j]));
                }
            },
        );
        Ok(())
    })
}
