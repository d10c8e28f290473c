//! Batching of the view ops: reshape, transpose, slice and broadcast_to keep the batch dim first
//! and leave it whole.

use super::elementwise::align;
use super::{shift, whole, Arg};
use crate::op::Op;
use crate::{Array, Result, Stream};

pub(super) fn view(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let x = &args[0];
    let op = match op {
        Op::Reshape => Op::Reshape,
        Op::Transpose(perm) => Op::Transpose(
            std::iter::once(0)
                .chain(perm.iter().map(|&p| shift(p)))
                .collect(),
        ),
        Op::Slice { start, step } => Op::Slice {
            start: std::iter::once(0).chain(start.iter().copied()).collect(),
            step: std::iter::once(1).chain(step.iter().copied()).collect(),
        },
        // broadcast_to may add leading dims: they go after the batch dim.
        Op::BroadcastTo => {
            let x = align(x, out.ndim(), n, s)?;
            return whole(Op::BroadcastTo, vec![x], out, n, s);
        }
        _ => unreachable!("shape::view is only dispatched the view ops"),
    };
    whole(op, vec![x.array.clone()], out, n, s)
}
