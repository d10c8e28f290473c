//! Vector-Jacobian products, one file per op family (mirroring `op.rs` and `backend/cpu/`).
//!
//! A rule gets the forward node (its op, its inputs as the kernel saw them, its output), the
//! output's cotangent `g`, which inputs need a cotangent (`wants`), and the stream of the forward
//! node; it returns one cotangent per input (`None` where not wanted or not differentiable), of
//! the input's shape or of a shape that broadcasts from it (the walk sums it down). Rules build
//! their results with the op builders, so a backward pass is an ordinary lazy graph: recorded by
//! an enclosing transform (grad of grad) and run on the forward node's stream.
//!
//! Complex arrays follow `complex.rs`'s convention. Ops without a rule (`lu_factor`, `eig`,
//! `View` other than between complex64 and float32 pairs, users' CUDA kernels) fail with an
//! error naming the op, when a gradient has to go through them.

mod complex;
mod conv;
mod elementwise;
mod factor;
mod fft;
mod linalg;
mod movement;
mod reduce;
mod scan;
mod scatter;
mod shape;

use crate::op::Op;
use crate::{ops, Array, Dtype, Error, Result, Scalar, Stream};

pub(crate) fn vjp(
    op: &Op,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    if let Op::Fft { axis, kind, norm } = op {
        return Ok(vec![Some(fft::fft(
            *axis, *kind, *norm, &inputs[0], out, g, s,
        )?)]);
    }
    if let (Op::View, [x]) = (op, inputs) {
        return Ok(vec![Some(complex::view(x, out, g, s)?)]);
    }
    if out.dtype().is_complex() {
        return complex::holomorphic(op, inputs, out, g, wants, s);
    }
    if inputs
        .iter()
        .zip(wants)
        .any(|(x, &w)| w && x.dtype().is_complex())
    {
        complex::check_real_of_complex(op, inputs, out)?;
    }
    transposed(op, inputs, out, g, wants, s)
}

/// The rules as written for real numbers: the transposed Jacobian applied to `g`.
fn transposed(
    op: &Op,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    match op {
        Op::Full(_) | Op::Arange { .. } | Op::Eye { .. } | Op::RandomBits => {
            Ok(vec![None; inputs.len()])
        }
        Op::Unary(u) => Ok(vec![elementwise::unary(*u, &inputs[0], out, g, s)?]),
        Op::Binary(b) => elementwise::binary(*b, &inputs[0], &inputs[1], out, g, wants, s),
        Op::Where => elementwise::where_rule(&inputs[0], g, s),
        Op::AsType | Op::Copy => Ok(vec![Some(g.clone())]),
        // The value is input 0's; the dependencies only order work (MLX gives them zeros).
        Op::Depends => {
            let mut r = vec![None; inputs.len()];
            r[0] = Some(g.clone());
            Ok(r)
        }
        Op::Reshape | Op::Transpose(_) | Op::Slice { .. } | Op::BroadcastTo => {
            Ok(vec![Some(shape::view(op, &inputs[0], g, s)?)])
        }
        Op::Reduce { op: r, axes } => Ok(vec![reduce::reduce(*r, axes, &inputs[0], out, g, s)?]),
        Op::Scan { .. } => Ok(vec![Some(scan::scan(op, &inputs[0], out, g, s)?)]),
        Op::Softmax { axis } => Ok(vec![Some(reduce::softmax(*axis, out, g, s)?)]),
        Op::LogSumExp { .. } => Ok(vec![Some(reduce::logsumexp(&inputs[0], out, g, s)?)]),
        Op::Matmul => linalg::matmul(&inputs[0], &inputs[1], g, 1.0, wants, s),
        Op::AddMm { alpha, beta } => {
            let mut r = vec![if wants[0] {
                Some(ops::multiply(g, &constant(*beta, g.dtype(), s)?, s)?)
            } else {
                None
            }];
            r.extend(linalg::matmul(
                &inputs[1],
                &inputs[2],
                g,
                *alpha,
                &wants[1..],
                s,
            )?);
            Ok(r)
        }
        Op::Concatenate { axis } => movement::concatenate(*axis, inputs, g, wants, s),
        Op::Pad { low, .. } => Ok(vec![Some(movement::slice_of(
            g,
            low,
            &vec![1; low.len()],
            inputs[0].shape(),
            s,
        )?)]),
        Op::Gather { axis } => Ok(vec![
            Some(movement::gather(*axis, &inputs[0], &inputs[1], g, s)?),
            None,
        ]),
        Op::TakeAlongAxis { axis } => Ok(vec![
            Some(movement::take_along_axis(
                *axis, &inputs[0], &inputs[1], g, s,
            )?),
            None,
        ]),
        Op::SliceUpdate { start, step } => {
            movement::slice_update(start, step, &inputs[1], g, wants, s)
        }
        Op::PutAlongAxis { axis } => {
            movement::put_along_axis(*axis, &inputs[1], &inputs[2], g, wants, s)
        }
        Op::Scatter { axis, reduce } => scatter::scatter(*reduce, *axis, inputs, out, g, s),
        Op::Sort { axis } => Ok(vec![Some(movement::sort(*axis, &inputs[0], g, s)?)]),
        Op::ArgReduce { .. } | Op::ArgSort { .. } => Ok(vec![None; inputs.len()]),
        Op::Attention(p) => linalg::attention(p, inputs, g, wants, s),
        Op::Conv(p) => conv::conv(p, &inputs[0], &inputs[1], g, wants, s),
        Op::Fft { .. } => unreachable!("`vjp` takes the transforms first"),
        Op::Factor(f) => factor::factor(*f, inputs, out, g, wants, s),
        Op::View | Op::CudaKernel(_) => Err(no_rule(op)),
        // compile builds fused nodes only for replays outside every transform (`fuse.rs`).
        Op::Fused(_) => Err(Error::runtime(
            "fused",
            "a fused node was met while differentiating; compile builds them only outside \
             transforms",
        )),
    }
}

/// The error for differentiating through an op that has no rule yet.
pub(super) fn no_rule(op: &Op) -> Error {
    Error::arg(
        op.name(),
        format!(
            "cannot differentiate through {}: it has no vector-Jacobian product yet",
            op.name()
        ),
    )
}

/// A 0-d array of `value` in `dtype`, made at once on the host (a constant of a rule).
pub(super) fn constant(value: f64, dtype: Dtype, s: Stream) -> Result<Array> {
    ops::scalar_array(Scalar::Float(value), dtype, s)
}

/// Zeros of `shape` in `dtype`.
pub(super) fn zeros(shape: &[usize], dtype: Dtype, s: Stream) -> Result<Array> {
    ops::zeros(shape, dtype, s)
}

/// `shape` as the signed dims the shape builders take.
pub(super) fn dims(shape: &[usize]) -> Vec<isize> {
    shape.iter().map(|&d| d as isize).collect()
}

/// `a[from..to]` along `axis`, every other dim whole.
pub(super) fn cut(a: &Array, axis: usize, from: usize, to: usize, s: Stream) -> Result<Array> {
    let mut start = vec![0isize; a.ndim()];
    let mut stop = dims(a.shape());
    start[axis] = from as isize;
    stop[axis] = to as isize;
    ops::slice(a, &start, &stop, &vec![1; a.ndim()], s)
}
