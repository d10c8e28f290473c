//! The CPU backend: kernels over host memory.
//!
//! Each op family has its own file. Kernels write a fresh, row-contiguous output buffer (from
//! [`allocator`]) and read inputs through their layouts (`strided`), so views never need copying
//! first. Large ops split their output across rayon's pool (`strided::par_chunks`); the pool is the
//! same one the scheduler drains streams on, so intra-op and inter-stream parallelism share the
//! cores instead of oversubscribing them.

pub(crate) mod accum;
mod argreduce;
mod attention;
mod binary;
mod conv;
mod conv_shifted;
mod conv_winograd;
mod copy;
mod creation;
#[cfg(target_arch = "x86_64")]
pub(crate) mod exp_avx512;
mod factor;
mod fft;
mod fused;
mod simd;
pub(crate) use creation::scalar_to;
mod gather;
mod info;
mod jobs;
mod lines;
mod matmul;
mod movement;
pub mod num;
pub(crate) mod random;
mod reduce;
mod scan;
mod softmax;
mod sort;
pub(crate) mod special;
mod spectral;
pub mod strided;
pub(crate) mod trig_f32;
mod unary;
pub(crate) mod vector_math;

pub use info::{cores, info, total_memory};

use crate::backend::{Backend, Input, Output, ReadyFn};
use crate::device::InfoValue;
use crate::memory::{Allocator, Data, DeviceMemory};
use crate::op::Op;
use crate::shape::numel;
use crate::{Device, DeviceType, Element, Error, Result, Stream};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The CPU as a [`Backend`]: host memory, synchronous kernels (data is ready when `run` returns).
struct Cpu;

pub(crate) fn backend() -> &'static dyn Backend {
    static CPU: Cpu = Cpu;
    &CPU
}

impl Backend for Cpu {
    fn kind(&self) -> DeviceType {
        DeviceType::Cpu
    }
    fn device_count(&self) -> usize {
        1
    }
    fn info(&self, _index: usize) -> Result<BTreeMap<String, InfoValue>> {
        Ok(info())
    }
    fn memory(&self, _index: usize) -> &dyn DeviceMemory {
        allocator()
    }
    fn new_stream(&self, _stream: Stream) -> Result<()> {
        Ok(())
    }
    fn run(&self, op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
        run(op, inputs, out)
    }
    fn upload(&self, host: &Input, _stream: Stream) -> Result<Data> {
        Ok(host.data.clone())
    }
    fn download(&self, data: &Input) -> Result<Data> {
        Ok(data.data.clone())
    }
    fn when_ready(&self, _data: &Data, f: ReadyFn) {
        f()
    }
    fn synchronize(&self, _stream: Stream) -> Result<()> {
        Ok(())
    }
    /// The CPU runs any fused program at once (`fused.rs` interprets it).
    fn fusion_ready(
        &self,
        _kernel: &std::sync::Arc<crate::fusion::FusedKernel>,
        _stream: Stream,
    ) -> bool {
        true
    }
}

/// The host allocator. Defaults: a hard limit of 90% of physical memory, and a cache of up to a
/// quarter of it (large enough that steady-state work on big arrays reuses buffers instead of
/// page-faulting fresh ones; see docs/benchmarks.md for the effect).
pub fn allocator() -> &'static Allocator {
    static ALLOC: OnceLock<Allocator> = OnceLock::new();
    ALLOC.get_or_init(|| {
        let total = total_memory();
        Allocator::new(Device::cpu(), total / 10 * 9, total / 4)
    })
}

/// A fresh output buffer for `out`, filled by `fill` (which must write every element).
pub(crate) fn output<O: Element>(
    op: &'static str,
    out: &Output,
    fill: impl FnOnce(&mut [O]) -> Result<()>,
) -> Result<Data> {
    debug_assert_eq!(O::DTYPE, out.dtype, "[{op}] kernel output type");
    let mut buf = allocator().allocate(op, numel(out.shape) * out.dtype.size())?;
    fill(buf.as_mut_slice::<O>())?;
    Ok(Data::contiguous(buf, out.shape))
}

pub fn run(op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
    match op {
        Op::Full(_) | Op::Arange { .. } | Op::Eye { .. } => creation::run(op, out),
        Op::Unary(u) => unary::run(*u, &inputs[0], out),
        Op::Binary(b) => binary::run(*b, &inputs[0], &inputs[1], out),
        Op::AsType | Op::Copy | Op::Reshape => copy::astype(op.name(), &inputs[0], out),
        Op::View => copy::view(&inputs[0], out),
        Op::Where => copy::select(&inputs[0], &inputs[1], &inputs[2], out),
        Op::Reduce { op, axes } => reduce::run(*op, axes, &inputs[0], out),
        Op::ArgReduce { op, axis } => argreduce::run(*op, *axis, &inputs[0], out),
        Op::Scan {
            op,
            axis,
            reverse,
            inclusive,
        } => scan::run(*op, *axis, *reverse, *inclusive, &inputs[0], out),
        Op::Softmax { axis } => softmax::softmax(*axis, &inputs[0], out),
        Op::LogSumExp { axis } => softmax::logsumexp(*axis, &inputs[0], out),
        Op::Sort { .. } | Op::ArgSort { .. } => sort::run(op, &inputs[0], out),
        Op::RandomBits => random::run(&inputs[0], out),
        Op::Fused(k) => fused::run(k, inputs, out),
        // The builder refuses CPU streams (`ops/cuda_kernel.rs`); this is the backstop.
        Op::CudaKernel(_) => Err(crate::Error::device(
            "cuda_kernel",
            "user CUDA kernels run on GPU streams only",
        )),
        Op::Concatenate { axis } => movement::concatenate(inputs, *axis, out),
        Op::Pad { low, value } => movement::pad(&inputs[0], low, *value, out),
        Op::SliceUpdate { start, step } => {
            movement::slice_update(&inputs[0], &inputs[1], start, step, out)
        }
        Op::Gather { axis } => gather::take(&inputs[0], &inputs[1], *axis, out),
        Op::TakeAlongAxis { axis } => gather::take_along_axis(&inputs[0], &inputs[1], *axis, out),
        Op::PutAlongAxis { axis } => {
            gather::put_along_axis(&inputs[0], &inputs[1], &inputs[2], *axis, out)
        }
        Op::Scatter { axis, reduce } => {
            gather::scatter(&inputs[0], &inputs[1], &inputs[2], *axis, *reduce, out)
        }
        Op::Matmul | Op::AddMm { .. } => matmul::run(op, inputs, out),
        Op::Conv(p) => conv::run(p, &inputs[0], &inputs[1], out),
        Op::Attention(p) => attention::run(p, inputs, out),
        Op::Factor(f) => factor::run(*f, inputs, out),
        Op::Fft { axis, kind, norm } => fft::run(*axis, *kind, *norm, &inputs[0], out),
        // Views never reach a backend: `backend::views` resolves them first.
        Op::Transpose(_) | Op::Slice { .. } | Op::BroadcastTo => Err(Error::runtime(
            op.name(),
            "internal error: a view reached the CPU backend",
        )),
        // The scheduler completes it with its first input's data (`scheduler/task.rs`).
        Op::Depends => Err(Error::runtime(
            op.name(),
            "internal error: a depends node reached the CPU backend",
        )),
    }
}
