//! Batching of the data-movement ops: concatenate, pad, the gathers and the updates.

use super::{per_example, shift, whole, with_batch, Arg};
use crate::op::Op;
use crate::{ops, Array, Result, Stream};

/// Ops whose inputs all get the batch in front and whose axes shift by one.
pub(super) fn shifted(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let op = match op.clone() {
        Op::Concatenate { axis } => Op::Concatenate { axis: shift(axis) },
        Op::Pad { low, value } => Op::Pad {
            low: std::iter::once(0).chain(low).collect(),
            value,
        },
        Op::TakeAlongAxis { axis } => Op::TakeAlongAxis { axis: shift(axis) },
        Op::SliceUpdate { start, step } => Op::SliceUpdate {
            start: std::iter::once(0).chain(start).collect(),
            step: std::iter::once(1).chain(step).collect(),
        },
        Op::PutAlongAxis { axis } => Op::PutAlongAxis { axis: shift(axis) },
        other => unreachable!("movement::shifted is not dispatched {other:?}"),
    };
    let inputs = args
        .iter()
        .map(|a| with_batch(a, n, s))
        .collect::<Result<Vec<_>>>()?;
    whole(op, inputs, out, n, s)
}

/// `take(a, indices, axis)`. A batched `a` with shared indices shifts the axis; shared `a` with
/// batched indices is one gather whose index dims start with the batch, which is then moved to
/// the front; both batched take a gather per example.
pub(super) fn gather(
    axis: usize,
    op: &Op,
    args: &[Arg],
    out: &Array,
    n: usize,
    s: Stream,
) -> Result<Array> {
    let (a, idx) = (&args[0], &args[1]);
    match (a.batched, idx.batched) {
        (true, false) => whole(
            Op::Gather { axis: shift(axis) },
            vec![a.array.clone(), idx.array.clone()],
            out,
            n,
            s,
        ),
        (false, true) => {
            let sh = a.array.shape();
            let shape: Vec<usize> = sh[..axis]
                .iter()
                .chain(idx.array.shape())
                .chain(&sh[axis + 1..])
                .copied()
                .collect();
            let taken = ops::make(
                "take",
                shape,
                out.dtype(),
                s,
                Op::Gather { axis },
                vec![a.array.clone(), idx.array.clone()],
            )?;
            ops::moveaxis(&taken, axis as isize, 0, s)
        }
        _ => per_example(op, args, out, n),
    }
}

/// `updates` scattered into `a` at `indices`: with shared indices, `a` and `updates` get the batch
/// in front and the axis shifts; per-example indices take one scatter per example.
pub(super) fn scatter(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let Op::Scatter { axis, reduce } = op else {
        unreachable!("movement::scatter is only dispatched Scatter")
    };
    if args[1].batched {
        return per_example(op, args, out, n);
    }
    let inputs = vec![
        with_batch(&args[0], n, s)?,
        args[1].array.clone(),
        with_batch(&args[2], n, s)?,
    ];
    whole(
        Op::Scatter {
            axis: shift(*axis),
            reduce: *reduce,
        },
        inputs,
        out,
        n,
        s,
    )
}
