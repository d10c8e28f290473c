//! Batching rules: how each op runs over a batch of examples at once (`vmap`), one file per op
//! family (mirroring `rules/` and `op.rs`).
//!
//! `vmap` replays what a function built for one example. A replayed node gets its inputs as
//! [`Arg`]s: an array that carries the batch as its first dim, or one that does not (a constant
//! of the function, the same for every example). A rule builds the node for the whole batch: an
//! array of shape `[n] + out.shape()` whose slice `b` is what the node computes for example `b`.
//! Rules put the batch first in every result, so no rule needs to know where a caller's batch
//! dim was.
//!
//! Every op has a rule. Ops whose kernels already loop over leading dims (elementwise ops,
//! reductions along named axes, matmul, the factorizations) shift their axes by one and run once;
//! the few whose batched form would need another kernel (a gather with per-example indices,
//! random bits from per-example keys, a convolution with per-example weights) run once per
//! example and stack the results ([`per_example`]): correct, and as fast as a Python loop.

mod elementwise;
mod linalg;
mod movement;
mod reduce;
mod shape;

use crate::op::Op;
use crate::{ops, Array, Error, Result, Stream};

/// An input of a replayed node.
#[derive(Clone)]
pub(crate) struct Arg {
    pub(crate) array: Array,
    /// True when `array`'s first dim is the batch.
    pub(crate) batched: bool,
}

impl Arg {
    /// The dims of one example.
    fn example_ndim(&self) -> usize {
        self.array.ndim() - usize::from(self.batched)
    }
}

/// `op` over a batch of `n` examples, for a node whose one-example output is `out`.
pub(crate) fn batch(op: &Op, args: &[Arg], out: &Array, n: usize) -> Result<Array> {
    let s = out.stream();
    match op {
        Op::Full(_) | Op::Arange { .. } | Op::Eye { .. } => per_example(op, args, out, n),
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::AsType | Op::Copy => {
            elementwise::aligned(op, args, out, n, s)
        }
        Op::View => elementwise::view(op, args, out, n, s),
        Op::Reshape | Op::Transpose(_) | Op::Slice { .. } | Op::BroadcastTo => {
            shape::view(op, args, out, n, s)
        }
        Op::Reduce { .. }
        | Op::ArgReduce { .. }
        | Op::Scan { .. }
        | Op::Softmax { .. }
        | Op::LogSumExp { .. }
        | Op::Sort { .. }
        | Op::ArgSort { .. }
        | Op::Fft { .. } => reduce::along_axes(op, args, out, n, s),
        Op::Matmul | Op::AddMm { .. } => linalg::product(op, args, out, n, s),
        Op::Factor(_) => linalg::factor(op, args, out, n, s),
        Op::Conv(_) => linalg::conv(op, args, out, n, s),
        Op::Attention(_) => linalg::attention(op, args, out, n, s),
        Op::Concatenate { .. }
        | Op::Pad { .. }
        | Op::TakeAlongAxis { .. }
        | Op::SliceUpdate { .. }
        | Op::PutAlongAxis { .. } => movement::shifted(op, args, out, n, s),
        Op::Gather { axis } => movement::gather(*axis, op, args, out, n, s),
        Op::Scatter { .. } => movement::scatter(op, args, out, n, s),
        // A user kernel knows nothing of a batch: it runs once per example.
        Op::RandomBits | Op::CudaKernel(_) => per_example(op, args, out, n),
        // The value (input 0) gets the batch; the dependencies are kept as they are, batched or
        // not: they are only waited for. (MLX has no batching rule for depends.)
        Op::Depends => {
            let mut inputs = vec![with_batch(&args[0], n, s)?];
            inputs.extend(args[1..].iter().map(|a| a.array.clone()));
            whole(Op::Depends, inputs, out, n, s)
        }
        // compile builds fused nodes only for replays outside every transform (`fuse.rs`).
        Op::Fused(_) => Err(Error::runtime(
            "fused",
            "a fused node was met while batching; compile builds them only outside transforms",
        )),
    }
}

/// The node built once for the whole batch with `op` (the rule's version of the node's op) over
/// `inputs`: shape `[n] + out.shape()`, the node's dtype, on its stream.
fn whole(op: Op, inputs: Vec<Array>, out: &Array, n: usize, s: Stream) -> Result<Array> {
    ops::make(
        op.name(),
        batched_shape(n, out.shape()),
        out.dtype(),
        s,
        op,
        inputs,
    )
}

fn batched_shape(n: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(n).chain(shape.iter().copied()).collect()
}

/// `arg` with the batch as its first dim: a constant is broadcast along a new first dim (a view:
/// nothing is copied).
fn with_batch(arg: &Arg, n: usize, s: Stream) -> Result<Array> {
    if arg.batched {
        Ok(arg.array.clone())
    } else {
        ops::broadcast_to(&arg.array, &batched_shape(n, arg.array.shape()), s)
    }
}

/// Example `b` of `arg`: its slice along the batch, or the constant itself.
fn example(arg: &Arg, b: usize, s: Stream) -> Result<Array> {
    if !arg.batched {
        return Ok(arg.array.clone());
    }
    let nd = arg.array.ndim() as isize;
    let mut start = vec![0isize; nd as usize];
    let mut stop: Vec<isize> = arg.array.shape().iter().map(|&d| d as isize).collect();
    start[0] = b as isize;
    stop[0] = b as isize + 1;
    let one = ops::slice(&arg.array, &start, &stop, &vec![1; nd as usize], s)?;
    ops::squeeze(&one, Some(&[0]), s)
}

/// The fallback rule: the node built for each example and the results stacked along a new first
/// dim.
fn per_example(op: &Op, args: &[Arg], out: &Array, n: usize) -> Result<Array> {
    let s = out.stream();
    let each = (0..n)
        .map(|b| {
            let inputs = args
                .iter()
                .map(|a| example(a, b, s))
                .collect::<Result<Vec<_>>>()?;
            ops::make(
                op.name(),
                out.shape().to_vec(),
                out.dtype(),
                s,
                op.clone(),
                inputs,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    if each.is_empty() {
        return ops::zeros(&batched_shape(0, out.shape()), out.dtype(), s);
    }
    ops::stack(&each, 0, s)
}

/// Every axis of an op shifted past the batch dim.
fn shift(axis: usize) -> usize {
    axis + 1
}
