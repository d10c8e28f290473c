//! Data movement kernels: concatenate, pad, slice_update. They do no arithmetic: each one copies
//! elements of one dtype from strided inputs into a fresh row-contiguous output.
//!
//! Concatenate and pad keep every input's row-major order in the output, so the input elements
//! that land in any contiguous chunk of the output are a contiguous range of that input: each
//! parallel chunk finds its ranges by counting, then copies them with [`copy_to_view`].

use super::creation::scalar_to;
use super::output;
use super::strided::{for_each_row, par_chunks};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::shape::{contiguous_strides, numel};
use crate::{dispatch_dtype, Element, Result, Scalar};
use std::ops::Range;

/// Copies the elements of `x` at row-major positions `range` into `dst`: element `idx` goes to
/// `dst[dst_base + sum(idx[d] * dst_strides[d]) - dst_first]`. Runs contiguous on both sides are
/// slice copies; broadcast runs are fills.
pub(super) fn copy_to_view<T: Element>(
    x: &Input,
    dst_strides: &[isize],
    dst_base: usize,
    range: Range<usize>,
    dst: &mut [T],
    dst_first: usize,
) {
    let src: &[T] = x.data.buffer.as_slice();
    let strides = [&x.data.layout.strides[..], dst_strides];
    let base = [x.data.layout.offset, dst_base];
    let first = dst_first as isize;
    for_each_row(x.shape, strides, base, range, |_, len, [s, d], [ss, ds]| {
        let d = d - first;
        match (ss, ds) {
            (1, 1) => {
                let (s, d) = (s as usize, d as usize);
                dst[d..d + len].copy_from_slice(&src[s..s + len]);
            }
            (0, 1) => dst[d as usize..d as usize + len].fill(src[s as usize]),
            _ => {
                for t in 0..len as isize {
                    dst[(d + t * ds) as usize] = src[(s + t * ss) as usize];
                }
            }
        }
    });
}

pub fn concatenate(inputs: &[Input], axis: usize, out: &Output) -> Result<Data> {
    dispatch_dtype!(out.dtype, T => output::<T>("concatenate", out, |o| {
        concatenate_typed::<T>(inputs, axis, out.shape, o);
        Ok(())
    }))
}

fn concatenate_typed<T: Element>(inputs: &[Input], axis: usize, shape: &[usize], o: &mut [T]) {
    if o.is_empty() {
        return;
    }
    let out_strides = contiguous_strides(shape);
    let inner: usize = shape[axis + 1..].iter().product();
    // A slab is one index of the dims before `axis`: every input contributes a block to it.
    let slab = shape[axis] * inner;
    let mut parts = Vec::with_capacity(inputs.len());
    let mut at = 0;
    for x in inputs {
        let len = x.shape[axis] * inner;
        parts.push((at, len));
        at += len;
    }
    // Elements of the input owning `part` that sit before output position `p`.
    let before = |p: usize, (at, len): (usize, usize)| {
        (p / slab) * len + (p % slab).saturating_sub(at).min(len)
    };
    par_chunks(o, |range, chunk| {
        for (x, &part) in inputs.iter().zip(&parts) {
            let r = before(range.start, part)..before(range.end, part);
            copy_to_view(x, &out_strides, part.0, r, chunk, range.start);
        }
    });
}

pub fn pad(x: &Input, low: &[usize], value: Scalar, out: &Output) -> Result<Data> {
    dispatch_dtype!(out.dtype, T => output::<T>("pad", out, |o| {
        pad_typed::<T>(x, low, scalar_to::<T>(value), out.shape, o);
        Ok(())
    }))
}

fn pad_typed<T: Element>(x: &Input, low: &[usize], value: T, shape: &[usize], o: &mut [T]) {
    let out_strides = contiguous_strides(shape);
    let base: usize = low
        .iter()
        .zip(&out_strides)
        .map(|(&l, &s)| l * s as usize)
        .sum();
    let (total, count) = (o.len(), numel(x.shape));
    let inner: Vec<usize> = contiguous_strides(x.shape)
        .iter()
        .map(|&s| s as usize)
        .collect();
    // Elements of `x` whose output position is before `p`: walk `p`'s multi-index, counting the
    // input elements that precede it lexicographically.
    let before = |p: usize| {
        if count == 0 || p >= total {
            return count;
        }
        let mut n = 0;
        for d in 0..shape.len() {
            let i = (p / out_strides[d] as usize) % shape[d];
            let Some(j) = i.checked_sub(low[d]) else {
                return n;
            };
            if j >= x.shape[d] {
                return n + x.shape[d] * inner[d];
            }
            n += j * inner[d];
        }
        n
    };
    par_chunks(o, |range, chunk| {
        chunk.fill(value);
        let r = before(range.start)..before(range.end);
        copy_to_view(x, &out_strides, base, r, chunk, range.start);
    });
}

pub fn slice_update(
    a: &Input,
    update: &Input,
    start: &[usize],
    step: &[isize],
    out: &Output,
) -> Result<Data> {
    dispatch_dtype!(out.dtype, T => output::<T>("slice_update", out, |o| {
        slice_update_typed::<T>(a, update, start, step, out.shape, o);
        Ok(())
    }))
}

fn slice_update_typed<T: Element>(
    a: &Input,
    update: &Input,
    start: &[usize],
    step: &[isize],
    shape: &[usize],
    o: &mut [T],
) {
    let out_strides = contiguous_strides(shape);
    par_chunks(o, |range, chunk| {
        copy_to_view(a, &out_strides, 0, range.clone(), chunk, range.start);
    });
    // The slice is a strided view of the output; with negative steps its row-major order runs
    // backwards through the output, so it is written on one thread.
    let base: isize = start
        .iter()
        .zip(&out_strides)
        .map(|(&s, &st)| s as isize * st)
        .sum();
    let view: Vec<isize> = out_strides.iter().zip(step).map(|(&s, &k)| s * k).collect();
    copy_to_view(update, &view, base as usize, 0..numel(update.shape), o, 0);
}
