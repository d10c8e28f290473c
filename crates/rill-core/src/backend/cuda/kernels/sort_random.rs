//! sort/argsort and random bits on the GPU.
//!
//! Sorting: lines of up to `SORT_MAX` (2048) elements of real types, one block per line, a
//! bitonic network over (value, index) pairs in shared memory, ordered as the CPU's stable sort
//! (numbers ascending, NaN last, ties by position). Longer lines and complex numbers run through
//! the CPU fallback.
//!
//! Random bits: threefry2x32 in the CPU's exact layout, so a key gives the same numbers on the GPU.

use super::super::launch::{grid_for, launch, BLOCK};
use super::super::stream::GpuStream;
use super::common::*;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::shape::{contiguous_strides, numel};
use crate::{Dtype, Result};

const SORT: &str = include_str!("sort.cu");
const RANDOM: &str = include_str!("random.cu");
const SORT_MAX: usize = 2048;

/// `struct Sort` in sort.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct SortParams {
    out: u64,
    input: u64,
    n_lines: i64,
    n: i64,
    ndim: i64,
    shape: [i64; MAXD],
    in_strides: [i64; MAXD],
    out_strides: [i64; MAXD],
    in_axis: i64,
    out_axis: i64,
    offset: i64,
    pow2: i64,
}

/// `struct Rand` in random.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct RandParams {
    out: u64,
    key: u64,
    n: i64,
    key_offset: i64,
    key_stride: i64,
}

fn sort_source(t: &str) -> String {
    format!(
        "{PRELUDE}{SORT}extern \"C\" __global__ void k_sort(const Sort p) {{ sort_lines<{t}, false>(p); }}\n\
         extern \"C\" __global__ void k_argsort(const Sort p) {{ sort_lines<{t}, true>(p); }}\n"
    )
}

fn random_source() -> String {
    format!("{PRELUDE}{RANDOM}")
}

pub(super) fn all_modules() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Dtype::ALL
        .into_iter()
        .filter(|d| !d.is_complex())
        .map(|d| (format!("sort/{}", ctype(d)), sort_source(ctype(d))))
        .collect();
    v.push(("random/bits".into(), random_source()));
    v
}

pub(super) fn sort(
    arg: bool,
    axis: usize,
    x: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let n = x.shape[axis];
    if x.dtype.is_complex() || n > SORT_MAX {
        return Ok(None);
    }
    let kept: Vec<usize> = (0..x.shape.len()).filter(|&d| d != axis).collect();
    if kept.len() > MAXD {
        return Ok(None);
    }
    let name = if arg { "argsort" } else { "sort" };
    let data = output(name, out, s)?;
    let n_lines: usize = kept.iter().map(|&d| x.shape[d]).product();
    if n_lines == 0 || n == 0 {
        return Ok(Some(data));
    }
    let out_strides = contiguous_strides(x.shape);
    let p = SortParams {
        out: data.buffer.as_ptr() as u64,
        input: x.data.buffer.as_ptr() as u64,
        n_lines: n_lines as i64,
        n: n as i64,
        ndim: kept.len() as i64,
        shape: shape64(&kept.iter().map(|&d| x.shape[d]).collect::<Vec<_>>()),
        in_strides: strides64(
            &kept
                .iter()
                .map(|&d| x.data.layout.strides[d])
                .collect::<Vec<_>>(),
        ),
        out_strides: strides64(&kept.iter().map(|&d| out_strides[d]).collect::<Vec<_>>()),
        in_axis: x.data.layout.strides[axis] as i64,
        out_axis: out_strides[axis] as i64,
        offset: x.data.layout.offset as i64,
        pow2: n.next_power_of_two() as i64,
    };
    let t = ctype(x.dtype);
    let kernel = if arg { "k_argsort" } else { "k_sort" };
    let f = function(s, &format!("sort/{t}"), kernel, || sort_source(t))?;
    let grid = n_lines.min(65535 * 16) as u32;
    launch(name, f, s, (grid, 1, 1), 512, 0, &p)?;
    Ok(Some(data))
}

pub(super) fn random_bits(
    key: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    if key.dtype != Dtype::Uint32 || key.shape != [2] {
        // The CPU kernel reports the bad key.
        return Ok(None);
    }
    let data = output("random_bits", out, s)?;
    let n = numel(out.shape);
    if n == 0 {
        return Ok(Some(data));
    }
    let p = RandParams {
        out: data.buffer.as_ptr() as u64,
        key: key.data.buffer.as_ptr() as u64,
        n: n as i64,
        key_offset: key.data.layout.offset as i64,
        key_stride: key.data.layout.strides[0] as i64,
    };
    let f = function(s, "random/bits", "k_bits", random_source)?;
    let grid = grid_for(n.div_ceil(2) as u64, BLOCK as u64, s.gpu.sm_count);
    launch("random_bits", f, s, (grid, 1, 1), BLOCK, 0, &p)?;
    Ok(Some(data))
}
