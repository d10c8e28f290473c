//! Rules of the view ops: reshape, transpose, slice, broadcast_to.

use super::{dims, zeros};
use crate::op::Op;
use crate::ops::{make, reshape, transpose};
use crate::{Array, Result, Stream};

pub(super) fn view(op: &Op, x: &Array, g: &Array, s: Stream) -> Result<Array> {
    match op {
        Op::Reshape => reshape(g, &dims(x.shape()), s),
        Op::Transpose(perm) => {
            let mut inverse = vec![0isize; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i as isize;
            }
            transpose(g, Some(&inverse), s)
        }
        // The slice's elements get `g`, the rest zero: the update that is the slice's transpose.
        Op::Slice { start, step } => make(
            "slice",
            x.shape().to_vec(),
            g.dtype(),
            s,
            Op::SliceUpdate {
                start: start.clone(),
                step: step.clone(),
            },
            vec![zeros(x.shape(), g.dtype(), s)?, g.clone()],
        ),
        // The walk sums the broadcast dims down to `x`'s shape.
        Op::BroadcastTo => Ok(g.clone()),
        _ => Err(super::no_rule(op)),
    }
}
