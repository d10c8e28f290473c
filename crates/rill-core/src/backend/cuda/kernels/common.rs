//! What every kernel family shares: C names of element types, module sources, output buffers,
//! and describing a strided input as a short list of (size, stride) dims.

use super::super::compile::Function;
use super::super::stream::GpuStream;
use crate::backend::{Input, Output};
use crate::memory::{Buffer, Data};
use crate::shape::numel;
use crate::{Dtype, Result};

/// Dims a kernel's parameter struct holds (`MAXD` in prelude.cuh); more (after merging) go to the
/// CPU fallback.
pub(super) const MAXD: usize = 8;

pub(super) const PRELUDE: &str = include_str!("prelude.cuh");

/// The C type of an element type (prelude.cuh).
pub(super) fn ctype(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::Uint8 => "u8",
        Dtype::Uint16 => "u16",
        Dtype::Uint32 => "u32",
        Dtype::Uint64 => "u64",
        Dtype::Int8 => "i8",
        Dtype::Int16 => "i16",
        Dtype::Int32 => "i32",
        Dtype::Int64 => "i64",
        Dtype::Float16 => "f16",
        Dtype::Bfloat16 => "bf16",
        Dtype::Float32 => "float",
        Dtype::Float64 => "double",
        Dtype::Complex64 => "c64",
    }
}

/// A fresh device buffer for `out` on `s`, as `Data` (contiguous).
pub(in crate::backend::cuda) fn output(
    op: &'static str,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Data> {
    let bytes = numel(out.shape) * out.dtype.size();
    let buf: Buffer = s.gpu.memory.allocate(op, bytes, s)?;
    Ok(Data::contiguous(buf, out.shape))
}

/// The device address of an input's first element (its layout's offset applied).
pub(super) fn addr(i: &Input) -> u64 {
    i.data.buffer.as_ptr() as u64 + (i.data.layout.offset * i.dtype.size()) as u64
}

/// The kernel `name` of module `module`, compiled from `source()` on first use.
pub(super) fn function(
    s: &GpuStream,
    module: &str,
    name: &str,
    source: impl FnOnce() -> String,
) -> Result<Function> {
    s.gpu.kernels.function(s.gpu, module, name, source)
}

/// The strides (in elements) of `input` broadcast to `shape` (dims it lacks or has as 1 get 0).
pub(super) fn broadcast_strides(input: &Input, shape: &[usize]) -> Vec<isize> {
    let pad = shape.len() - input.shape.len();
    (0..shape.len())
        .map(|d| {
            if d < pad || input.shape[d - pad] == 1 {
                0
            } else {
                input.data.layout.strides[d - pad]
            }
        })
        .collect()
}

/// `shape` with the per-operand `strides`, size-1 dims dropped and neighbouring dims merged where
/// every operand allows (the outer stride is the inner one times the inner size). The result
/// describes the same elements in the same row-major order with as few dims as possible.
pub(in crate::backend::cuda) fn collapse(
    shape: &[usize],
    strides: &[Vec<isize>],
) -> (Vec<usize>, Vec<Vec<isize>>) {
    let mut out_shape: Vec<usize> = Vec::new();
    let mut out_strides: Vec<Vec<isize>> = vec![Vec::new(); strides.len()];
    for d in 0..shape.len() {
        if shape[d] == 1 {
            continue;
        }
        let mergeable = !out_shape.is_empty()
            && strides
                .iter()
                .zip(&out_strides)
                .all(|(s, o)| *o.last().unwrap() == s[d] * shape[d] as isize);
        if mergeable {
            *out_shape.last_mut().unwrap() *= shape[d];
            for (o, s) in out_strides.iter_mut().zip(strides) {
                *o.last_mut().unwrap() = s[d];
            }
        } else {
            out_shape.push(shape[d]);
            for (o, s) in out_strides.iter_mut().zip(strides) {
                o.push(s[d]);
            }
        }
    }
    (out_shape, out_strides)
}

pub(super) fn strides64(v: &[isize]) -> [i64; MAXD] {
    let mut a = [0i64; MAXD];
    for (x, &s) in a.iter_mut().zip(v) {
        *x = s as i64;
    }
    a
}

pub(super) fn shape64(v: &[usize]) -> [i64; MAXD] {
    let mut a = [0i64; MAXD];
    for (x, &s) in a.iter_mut().zip(v) {
        *x = s as i64;
    }
    a
}
