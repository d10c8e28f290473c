//! Indexing kernels: take (`Op::Gather`), take_along_axis, put_along_axis, and the scatters (take's
//! transpose).
//!
//! Every kernel first turns the indices into element offsets along the axis (checking each one:
//! an index out of range is an error on the output array, found before anything is written),
//! then copies elements of one dtype with no arithmetic.

use super::binary::Arith;
use super::movement::copy_to_view;
use super::num::Num;
use super::output;
use super::strided::{for_each_row, gather_to_vec, map1, par_chunks, PAR_CHUNK};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ScatterReduce;
use crate::shape::{contiguous_strides, numel};
use crate::{dispatch_dtype, Dtype, Element, Error, Result};

/// Marks an index out of range; no real offset can be this far below zero. (Offsets are i64, an
/// element type that `map1` can write, and are read back as isize.)
const BAD: i64 = i64::MIN;

/// The indices in row-major order, each checked against the axis size `n` (negatives count from
/// the end) and turned into an element offset `index * stride`.
fn index_offsets(
    op: &'static str,
    idx: &Input,
    axis: usize,
    n: usize,
    stride: isize,
) -> Result<Vec<i64>> {
    macro_rules! ints {
        ($($d:ident => $t:ty),*) => {
            match idx.dtype {
                $(Dtype::$d => offsets_typed::<$t>(op, idx, axis, n, stride),)*
                other => Err(Error::dtype(op, format!("indices must be integers, got {other}"))),
            }
        };
    }
    ints!(Uint8 => u8, Uint16 => u16, Uint32 => u32, Uint64 => u64,
          Int8 => i8, Int16 => i16, Int32 => i32, Int64 => i64)
}

fn offsets_typed<I: Num>(
    op: &'static str,
    idx: &Input,
    axis: usize,
    n: usize,
    stride: isize,
) -> Result<Vec<i64>> {
    // i128 holds every value of every index type, so nothing wraps before the range check.
    let value = |i: I| -> i128 {
        if I::DTYPE.is_unsigned_integer() {
            i.to_u64() as i128
        } else {
            i.to_i64() as i128
        }
    };
    let n_ = n as i128;
    let mut offs = vec![0i64; numel(idx.shape)];
    map1::<I, i64>(idx, idx.shape, &mut offs, |i| {
        let v = value(i);
        let v = if v < 0 { v + n_ } else { v };
        if (0..n_).contains(&v) {
            v as i64 * stride as i64
        } else {
            BAD
        }
    });
    if let Some(p) = offs.iter().position(|&o| o == BAD) {
        let bad = value(gather_to_vec::<I>(idx.data, idx.shape)[p]);
        return Err(Error::runtime(
            op,
            format!("index {bad} is out of bounds for axis {axis} with size {n}"),
        ));
    }
    Ok(offs)
}

/// `out[pos] = a[a_off(pos) + offs[i_off(pos)]]`, where `a_off` walks `a` through `sa` and `i_off`
/// walks the offsets through `si` (both given as strides over the output's shape).
fn gather_rows<T: Element>(
    a: &Input,
    sa: &[isize],
    offs: &[i64],
    si: &[isize],
    shape: &[usize],
    o: &mut [T],
) {
    let src: &[T] = a.data.buffer.as_slice();
    let base = [a.data.layout.offset, 0];
    par_chunks(o, |range, chunk| {
        let first = range.start;
        for_each_row(
            shape,
            [sa, si],
            base,
            range,
            |pos, len, [ao, io], [sa, si]| {
                let dst = &mut chunk[pos - first..pos - first + len];
                if si == 0 {
                    // One index for the whole run: a row of `a`.
                    let b = ao + offs[io as usize] as isize;
                    if sa == 1 {
                        dst.copy_from_slice(&src[b as usize..b as usize + len]);
                    } else {
                        for (t, d) in dst.iter_mut().enumerate() {
                            *d = src[(b + t as isize * sa) as usize];
                        }
                    }
                } else {
                    for (t, d) in dst.iter_mut().enumerate() {
                        let t = t as isize;
                        *d = src[(ao + t * sa + offs[(io + t * si) as usize] as isize) as usize];
                    }
                }
            },
        );
    });
}

/// `take`: the output's dims are `a`'s before `axis`, the indices' dims, then `a`'s after `axis`.
pub fn take(a: &Input, idx: &Input, axis: usize, out: &Output) -> Result<Data> {
    let strides = &a.data.layout.strides;
    let offs = index_offsets("take", idx, axis, a.shape[axis], strides[axis])?;
    let k = idx.shape.len();
    // Over the output's dims: `a` moves on its own dims and stays put on the index dims; the
    // offsets move on the index dims only.
    let mut sa = strides[..axis].to_vec();
    sa.extend(std::iter::repeat_n(0, k));
    sa.extend_from_slice(&strides[axis + 1..]);
    let mut si = vec![0isize; axis];
    si.extend(contiguous_strides(idx.shape));
    si.extend(std::iter::repeat_n(0, a.shape.len() - axis - 1));
    dispatch_dtype!(out.dtype, T => output::<T>("take", out, |o| {
        gather_rows::<T>(a, &sa, &offs, &si, out.shape, o);
        Ok(())
    }))
}

/// `take_along_axis`; `a` and `idx` already have the same shape except on `axis` (the builder
/// broadcast them), and the output has `idx`'s shape.
pub fn take_along_axis(a: &Input, idx: &Input, axis: usize, out: &Output) -> Result<Data> {
    let strides = &a.data.layout.strides;
    let offs = index_offsets("take_along_axis", idx, axis, a.shape[axis], strides[axis])?;
    let mut sa = strides.clone();
    sa[axis] = 0;
    let si = contiguous_strides(out.shape);
    dispatch_dtype!(out.dtype, T => output::<T>("take_along_axis", out, |o| {
        gather_rows::<T>(a, &sa, &offs, &si, out.shape, o);
        Ok(())
    }))
}

/// `put_along_axis`; `idx` and `values` already have one shape, `a`'s except on `axis`.
pub fn put_along_axis(
    a: &Input,
    idx: &Input,
    values: &Input,
    axis: usize,
    out: &Output,
) -> Result<Data> {
    let out_strides = contiguous_strides(out.shape);
    let offs = index_offsets(
        "put_along_axis",
        idx,
        axis,
        out.shape[axis],
        out_strides[axis],
    )?;
    dispatch_dtype!(out.dtype, T => output::<T>("put_along_axis", out, |o| {
        put_typed::<T>(a, idx.shape, values, axis, &offs, &out_strides, o);
        Ok(())
    }))
}

fn put_typed<T: Element>(
    a: &Input,
    idx_shape: &[usize],
    values: &Input,
    axis: usize,
    offs: &[i64],
    out_strides: &[isize],
    o: &mut [T],
) {
    let inner: usize = idx_shape[axis + 1..].iter().product();
    // A slab is one index of the dims before `axis`. Every write of a slab lands in that slab, so
    // slabs go to different threads while each slab's writes keep their row-major order (the
    // last of repeated indices wins, as NumPy).
    let out_slab = a.shape[axis] * inner;
    let idx_slab = idx_shape[axis] * inner;
    if out_slab == 0 {
        return;
    }
    let mut view = out_strides.to_vec();
    view[axis] = 0;
    let src: &[T] = values.data.buffer.as_slice();
    let strides = [&values.data.layout.strides[..], &view[..]];
    let base = [values.data.layout.offset, 0];
    let run = |first: usize, chunk: &mut [T]| {
        let slabs = chunk.len() / out_slab;
        let lo = (first * out_slab) as isize;
        let range = first * out_slab..(first + slabs) * out_slab;
        copy_to_view(a, out_strides, 0, range, chunk, first * out_slab);
        let range = first * idx_slab..(first + slabs) * idx_slab;
        for_each_row(
            idx_shape,
            strides,
            base,
            range,
            |pos, len, [v, d], [sv, sd]| {
                for t in 0..len {
                    let t_ = t as isize;
                    chunk[(d + t_ * sd + offs[pos + t] as isize - lo) as usize] =
                        src[(v + t_ * sv) as usize];
                }
            },
        );
    };
    if o.len() < 2 * PAR_CHUNK {
        run(0, o);
        return;
    }
    let per = out_slab * (PAR_CHUNK / out_slab).max(1);
    use rayon::prelude::*;
    o.par_chunks_mut(per)
        .enumerate()
        .for_each(|(i, c)| run(i * per / out_slab, c));
}

/// A scatter: a copy of `a` with `updates` (take's output shape for these indices) combined by
/// `reduce` at the indices along `axis`; repeated indices all combine, in row-major order of the
/// updates.
pub fn scatter(
    a: &Input,
    idx: &Input,
    updates: &Input,
    axis: usize,
    reduce: ScatterReduce,
    out: &Output,
) -> Result<Data> {
    let name = reduce.name();
    let out_strides = contiguous_strides(out.shape);
    let offs = index_offsets(name, idx, axis, out.shape[axis], out_strides[axis])?;
    dispatch_dtype!(out.dtype, T => output::<T>(name, out, |o| {
        let combine: fn(T, T) -> T = match reduce {
            ScatterReduce::Add => <T as Arith>::add,
            ScatterReduce::Prod => <T as Arith>::mul,
            ScatterReduce::Max => <T as Arith>::max,
            ScatterReduce::Min => <T as Arith>::min,
        };
        scatter_typed::<T>(a, updates, axis, &offs, combine, o);
        Ok(())
    }))
}

fn scatter_typed<T: Element + Arith>(
    a: &Input,
    updates: &Input,
    axis: usize,
    offs: &[i64],
    combine: fn(T, T) -> T,
    o: &mut [T],
) {
    let n = o.len();
    copy_to_view(a, &contiguous_strides(a.shape), 0, 0..n, o, 0);
    // Serial: repeated indices write the same elements, and one pass over the updates is as
    // much work as the gradient it serves already did forwards.
    let upd = gather_to_vec::<T>(updates.data, updates.shape);
    let before: usize = a.shape[..axis].iter().product();
    let after: usize = a.shape[axis + 1..].iter().product();
    let slab = a.shape[axis] * after;
    let k = offs.len();
    for p in 0..before {
        for (j, &off) in offs.iter().enumerate() {
            let dst = p * slab + off as usize;
            let src = (p * k + j) * after;
            for q in 0..after {
                o[dst + q] = combine(o[dst + q], upd[src + q]);
            }
        }
    }
}
