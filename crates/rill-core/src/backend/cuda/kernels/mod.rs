//! The GPU's kernels, one file per op family, each with its CUDA source beside it (`*.cu`), on
//! top of `prelude.cuh` (element types, conversions with the CPU's rules, index helpers).
//!
//! `run` tries the family's kernel and falls back to the CPU's (`fallback.rs`) when the family
//! has none for the op and types (its function returns `Ok(None)`).

mod common;
mod elementwise;
pub(super) mod fused;
mod lines;
mod movement;
mod reduce;
mod sort_random;
mod user;

pub(super) use common::collapse as collapse_dims;
pub(super) use common::output as output_buffer;
pub(super) use movement::{broadcast_into, copy_contiguous, zero};

use super::driver::make_current;
use super::fallback;
use super::memory::block;
use super::stream;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::{Error, Result};
use smallvec::SmallVec;

/// Runs `op` on its GPU stream: natively when a kernel exists, else through the CPU's.
///
/// One-element host inputs may arrive here (the scheduler does not copy scalars to the device,
/// `Backend::run`'s contract): unary, binary and `where` kernels take them by value in their
/// parameters (fused programs too), every other op gets them copied to the GPU first.
pub(super) fn run(op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
    let s = stream::get(op.name(), out.stream)?;
    make_current(s.gpu.ctx)?;
    for i in inputs {
        if let Some(b) = block(&i.data.buffer) {
            b.used_on(s)?;
        }
    }
    let by_value = matches!(op, Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Fused(_));
    let uploaded: SmallVec<[Data; 4]>;
    let moved: SmallVec<[Input; 4]>;
    let inputs = if by_value || inputs.iter().all(|i| !i.data.is_host()) {
        inputs
    } else {
        uploaded = inputs
            .iter()
            .map(|i| match i.data.is_host() {
                true => super::transfer::upload(i, s),
                false => Ok(i.data.clone()),
            })
            .collect::<Result<_>>()?;
        moved = inputs
            .iter()
            .zip(&uploaded)
            .map(|(i, data)| Input { data, ..*i })
            .collect();
        &moved[..]
    };
    let native = match op {
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::AsType | Op::Copy | Op::Reshape => {
            elementwise::run(op, inputs, out, s)?
        }
        Op::Reduce { op: r, axes } => reduce::run(*r, axes, &inputs[0], out, s)?,
        Op::ArgReduce { op: r, axis } => lines::argreduce(*r, *axis, &inputs[0], out, s)?,
        Op::Softmax { axis } => lines::softmax(false, *axis, &inputs[0], out, s)?,
        Op::LogSumExp { axis } => lines::softmax(true, *axis, &inputs[0], out, s)?,
        Op::Scan {
            op: r,
            axis,
            reverse,
            inclusive,
        } => lines::scan(*r, *axis, *reverse, *inclusive, &inputs[0], out, s)?,
        Op::Full(_)
        | Op::Arange { .. }
        | Op::Eye { .. }
        | Op::Concatenate { .. }
        | Op::Pad { .. }
        | Op::SliceUpdate { .. }
        | Op::Gather { .. }
        | Op::TakeAlongAxis { .. }
        | Op::PutAlongAxis { .. } => movement::run(op, inputs, out, s)?,
        Op::Matmul | Op::AddMm { .. } => super::matmul::run(op, inputs, out, s)?,
        Op::Sort { axis } => sort_random::sort(false, *axis, &inputs[0], out, s)?,
        Op::ArgSort { axis } => sort_random::sort(true, *axis, &inputs[0], out, s)?,
        Op::RandomBits => sort_random::random_bits(&inputs[0], out, s)?,
        Op::View => movement::view(&inputs[0], out, s)?,
        // No GPU kernels yet: transforms, factorizations, scatter-adds (gradients of take) and
        // convolutions run through the CPU's. Attention is built from primitives on a GPU
        // stream (`ops/attention.rs`); a node of it only meets this backend if made elsewhere.
        Op::Factor(_) | Op::Fft { .. } | Op::Scatter { .. } | Op::Conv(_) | Op::Attention(_) => {
            None
        }
        Op::Fused(k) => fused::run(k, inputs, out, s)?,
        // A user's kernel has no CPU form to fall back to.
        Op::CudaKernel(k) => return user::run(k, inputs, out, s),
        Op::Transpose(_) | Op::Slice { .. } | Op::BroadcastTo => None,
        // The scheduler completes it with its first input's data (`scheduler/task.rs`): it never
        // reaches a backend.
        Op::Depends => {
            return Err(Error::runtime(
                op.name(),
                "internal error: a depends node reached the CUDA backend",
            ))
        }
    };
    match native {
        Some(data) => Ok(data),
        None => fallback::run(op, inputs, out, s),
    }
}

/// Every kernel module's name and source (for compiling them all ahead of time).
pub fn all_modules() -> Vec<(String, String)> {
    let mut v = elementwise::all_modules();
    v.extend(reduce::all_modules());
    v.extend(lines::all_modules());
    v.extend(movement::all_modules());
    v.extend(sort_random::all_modules());
    v.extend(fused::sample_modules());
    v
}

/// Compiles every kernel module for `arch` (`sm_90`) with NVRTC, which needs no GPU, and returns
/// the modules that failed, with NVRTC's log. Compiled modules land in the disk cache.
pub fn compile_all_kernels(arch: &str) -> Vec<(String, String)> {
    compile_kernels(arch, |_| true)
}

/// As `compile_all_kernels`, for the modules whose names `wanted` accepts (`fused/`, say, while
/// working on one family: all of them take minutes on two cores).
pub fn compile_kernels(arch: &str, wanted: impl Fn(&str) -> bool + Sync) -> Vec<(String, String)> {
    use rayon::prelude::*;
    all_modules()
        .par_iter()
        .filter(|(name, _)| wanted(name))
        .filter_map(|(name, src)| {
            super::compile::cubin(src, arch, name)
                .err()
                .map(|e| (name.clone(), e.to_string()))
        })
        .collect()
}
