//! Batching of elementwise ops: the kernels broadcast their inputs to the output's shape, so a
//! batched input only needs size-1 dims between its batch dim and its example dims to line up
//! with the output's (`[n, 1, .., 1] + shape`); constants broadcast as they are. Nothing is
//! copied.

use super::{batched_shape, whole, Arg};
use crate::op::Op;
use crate::{ops, Array, Result, Stream};

/// Unary, binary, where, astype, copy.
pub(super) fn aligned(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let rank = out.ndim();
    let inputs = args
        .iter()
        .map(|a| align(a, rank, n, s))
        .collect::<Result<Vec<_>>>()?;
    whole(op.clone(), inputs, out, n, s)
}

/// `view` reinterprets the bytes of the last dim, so the batch dim in front is left alone. (A 0-d
/// example is only viewed as a type of the same size, which leaves a batch dim unchanged too.)
pub(super) fn view(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    whole(op.clone(), vec![args[0].array.clone()], out, n, s)
}

/// A batched `arg` reshaped to `[n] + [1] * (rank - its rank) + its example shape`; a constant as
/// it is (it broadcasts from the right, past the batch dim).
pub(super) fn align(arg: &Arg, rank: usize, n: usize, s: Stream) -> Result<Array> {
    let own = arg.example_ndim();
    if !arg.batched || own == rank {
        return Ok(arg.array.clone());
    }
    let mut shape = vec![1usize; rank - own];
    shape.extend_from_slice(&arg.array.shape()[1..]);
    let shape: Vec<isize> = batched_shape(n, &shape)
        .iter()
        .map(|&d| d as isize)
        .collect();
    ops::reshape(&arg.array, &shape, s)
}
