//! Batching of matrix products, factorizations and convolutions: their kernels already loop over
//! leading (batch) dims, so the vmap batch becomes one more of them.

use super::{batched_shape, per_example, whole, with_batch, Arg};
use crate::op::Op;
use crate::{ops, Array, Result, Stream};

/// Matmul and addmm. Their inputs reach the op with batch dims already broadcast (`ops::matmul`),
/// so every input gets the vmap batch in front. A batch of matrices times one matrix is one
/// taller product instead (`[n * m, k] @ [k, p]`): one large product runs faster than `n` small
/// ones.
pub(super) fn product(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    if let (Op::Matmul, [a, b]) = (op, args) {
        if a.batched && !b.batched && a.example_ndim() == 2 && b.array.ndim() == 2 && n > 0 {
            let (m, k) = (a.array.shape()[1], a.array.shape()[2]);
            let tall = ops::reshape(&a.array, &[(n * m) as isize, k as isize], s)?;
            let p = b.array.shape()[1];
            let prod = ops::make(
                "matmul",
                vec![n * m, p],
                out.dtype(),
                s,
                Op::Matmul,
                vec![tall, b.array.clone()],
            )?;
            return ops::reshape(&prod, &[n as isize, m as isize, p as isize], s);
        }
    }
    let inputs = args
        .iter()
        .map(|a| with_batch(a, n, s))
        .collect::<Result<Vec<_>>>()?;
    whole(op.clone(), inputs, out, n, s)
}

/// The factorizations and solves work on the last two dims of every input and write
/// `batch + [packed]`: the vmap batch is one more batch dim.
pub(super) fn factor(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let inputs = args
        .iter()
        .map(|a| with_batch(a, n, s))
        .collect::<Result<Vec<_>>>()?;
    whole(op.clone(), inputs, out, n, s)
}

/// A convolution of a batch of inputs `[n, N, spatial.., c]` with shared weights is one
/// convolution of `n * N` inputs; per-example weights run one convolution per example.
pub(super) fn conv(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    let (x, w) = (&args[0], &args[1]);
    if w.batched || !x.batched || n == 0 {
        return per_example(op, args, out, n);
    }
    let mut merged: Vec<isize> = x.array.shape()[1..].iter().map(|&d| d as isize).collect();
    merged[0] *= n as isize;
    let flat = ops::reshape(&x.array, &merged, s)?;
    let mut flat_out = out.shape().to_vec();
    flat_out[0] *= n;
    let y = ops::make(
        op.name(),
        flat_out,
        out.dtype(),
        s,
        op.clone(),
        vec![flat, w.array.clone()],
    )?;
    let shape: Vec<isize> = batched_shape(n, out.shape())
        .iter()
        .map(|&d| d as isize)
        .collect();
    ops::reshape(&y, &shape, s)
}

/// Attention over a batch: the batch folds into the attention's own batch dim (every input,
/// the mask included, has it first), one node for all examples.
pub(super) fn attention(op: &Op, args: &[Arg], out: &Array, n: usize, s: Stream) -> Result<Array> {
    if n == 0 {
        return per_example(op, args, out, n);
    }
    let fold = |arg: &Arg| -> Result<Array> {
        let a = with_batch(arg, n, s)?;
        let mut merged: Vec<isize> = a.shape()[1..].iter().map(|&d| d as isize).collect();
        merged[0] *= n as isize;
        ops::reshape(&a, &merged, s)
    };
    let inputs = args.iter().map(fold).collect::<Result<Vec<_>>>()?;
    let mut flat_out = out.shape().to_vec();
    flat_out[0] *= n;
    let y = ops::make(op.name(), flat_out, out.dtype(), s, op.clone(), inputs)?;
    let shape: Vec<isize> = batched_shape(n, out.shape())
        .iter()
        .map(|&d| d as isize)
        .collect();
    ops::reshape(&y, &shape, s)
}
