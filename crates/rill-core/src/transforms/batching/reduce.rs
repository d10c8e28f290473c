//! Batching of the ops that work along named axes (reductions, scans, softmax, sorts, FFTs): the
//! batch dim goes first and every axis moves one place to the right.

use super::{shift, whole, with_batch, Arg};
use crate::op::Op;
use crate::{Array, Result, Stream};

pub(super) fn along_axes(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let op = match op.clone() {
        Op::Reduce { op, axes } => Op::Reduce {
            op,
            axes: axes.into_iter().map(shift).collect(),
        },
        Op::ArgReduce { op, axis } => Op::ArgReduce {
            op,
            axis: shift(axis),
        },
        Op::Scan {
            op,
            axis,
            reverse,
            inclusive,
        } => Op::Scan {
            op,
            axis: shift(axis),
            reverse,
            inclusive,
        },
        Op::Softmax { axis } => Op::Softmax { axis: shift(axis) },
        Op::LogSumExp { axis } => Op::LogSumExp { axis: shift(axis) },
        Op::Sort { axis } => Op::Sort { axis: shift(axis) },
        Op::ArgSort { axis } => Op::ArgSort { axis: shift(axis) },
        Op::Fft { axis, kind, norm } => Op::Fft {
            axis: shift(axis),
            kind,
            norm,
        },
        other => unreachable!("reduce::along_axes is not dispatched {other:?}"),
    };
    let inputs = args
        .iter()
        .map(|a| with_batch(a, n, s))
        .collect::<Result<Vec<_>>>()?;
    whole(op, inputs, out, n, s)
}
