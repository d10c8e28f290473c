//! Matrix products: `matmul` and `addmm`, with NumPy's rules for 1-D operands and batch dims.
//!
//! The graph a product builds is: each operand cast to the promoted dtype, a 1-D operand reshaped
//! to a matrix (a row for the left operand, a column for the right), both broadcast to the common
//! batch dims (views, stride 0), the `Matmul`/`AddMm` node, and a reshape dropping the dims that
//! the 1-D promotion added. So the kernel only ever sees `(..., m, k) @ (..., k, n)` with equal
//! batch dims.

use super::{astype, broadcast_to, make, reshape};
use crate::op::Op;
use crate::shape::{as_isize, broadcast_dims, Dims};
use crate::{promote_types, Array, Dtype, Error, Result, Stream, StreamOrDevice};

/// The shapes of one product, worked out once for both builders. Inline (`Dims`): a product is
/// often one op of a hot loop, and these were seven allocations per product.
struct Plan {
    /// Broadcast batch dims, then `m, k` for the left operand.
    a_shape: Dims,
    /// Broadcast batch dims, then `k, n` for the right operand.
    b_shape: Dims,
    /// What the kernel writes: batch dims, then `m, n`.
    inner: Dims,
    /// What the user gets: `inner` without the dims a 1-D operand added.
    result: Dims,
}

fn plan(op: &'static str, a: &[usize], b: &[usize]) -> Result<Plan> {
    if a.is_empty() || b.is_empty() {
        return Err(Error::shape(
            op,
            format!("inputs must have at least one dimension, got shapes {a:?} and {b:?}"),
        ));
    }
    // NumPy: a 1-D left operand is a row (1, k), a 1-D right operand a column (k, 1).
    let a2: Dims = if a.len() == 1 {
        smallvec::smallvec![1, a[0]]
    } else {
        Dims::from_slice(a)
    };
    let b2: Dims = if b.len() == 1 {
        smallvec::smallvec![b[0], 1]
    } else {
        Dims::from_slice(b)
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (kb, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != kb {
        return Err(Error::shape(
            op,
            format!(
                "the last dimension of the first input (shape {a:?}) must match the second-to-last \
                 dimension of the second input (shape {b:?}): {k} != {kb}"
            ),
        ));
    }
    let batch = broadcast_dims(op, &a2[..a2.len() - 2], &b2[..b2.len() - 2]).map_err(|_| {
        Error::shape(
            op,
            format!("the batch dimensions of shapes {a:?} and {b:?} cannot be broadcast together"),
        )
    })?;
    // Pushed onto a copy of `batch`: collecting a chained iterator into a `SmallVec` took a
    // third of `matmul`'s build (a profile of 128x128 chains).
    let with = |x: usize, y: usize| {
        let mut d = batch.clone();
        d.push(x);
        d.push(y);
        d
    };
    let mut result = batch.clone();
    if a.len() > 1 {
        result.push(m);
    }
    if b.len() > 1 {
        result.push(n);
    }
    Ok(Plan {
        a_shape: with(m, k),
        b_shape: with(k, n),
        inner: with(m, n),
        result,
    })
}

/// The dtype a product of these inputs computes in; only inexact types are accepted (as MLX).
fn product_dtype(op: &'static str, inputs: &[&Array]) -> Result<Dtype> {
    let dt = inputs
        .iter()
        .map(|x| x.dtype())
        .reduce(promote_types)
        .expect("at least one input");
    if !dt.is_inexact() {
        let names: Vec<String> = inputs
            .iter()
            .map(|x| format!("{} {:?}", x.dtype(), x.shape()))
            .collect();
        return Err(Error::dtype(
            op,
            format!(
                "only floating point and complex arrays are supported, got {} which promote to {dt}",
                names.join(", ")
            ),
        ));
    }
    Ok(dt)
}

/// `x` cast to `dt`, made 2-D if it is 1-D, broadcast to `shape` (all views but the cast).
fn prepare(x: &Array, dt: Dtype, shape: &[usize], stream: Stream) -> Result<Array> {
    let x = astype(x, dt, stream)?;
    let x = if x.ndim() == 1 {
        let nd = shape.len();
        reshape(&x, &as_isize(&shape[nd - 2..]), stream)?
    } else {
        x
    };
    if x.shape() == shape {
        return Ok(x);
    }
    broadcast_to(&x, shape, stream)
}

/// `out` (the kernel's shape, `p.inner`) as the user sees it: without the dims a 1-D operand
/// added, if any.
fn finish(out: Array, p: &Plan, stream: Stream) -> Result<Array> {
    if p.inner == p.result {
        return Ok(out);
    }
    reshape(&out, &as_isize(&p.result), stream)
}

/// The matrix product of `a` and `b`, with NumPy/MLX semantics: a 1-D `a` is a row vector and a
/// 1-D `b` a column vector (the added dim is removed from the result), dims before the last two are
/// batch dims and broadcast, and the inputs are promoted to a common floating point or complex
/// dtype (integer and bool products are rejected, as MLX rejects them).
pub fn matmul(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("matmul")?;
    let p = plan("matmul", a.shape(), b.shape())?;
    let dt = product_dtype("matmul", &[a, b])?;
    let a = prepare(a, dt, &p.a_shape, stream)?;
    let b = prepare(b, dt, &p.b_shape, stream)?;
    let out = make(
        "matmul",
        p.inner.clone(),
        dt,
        stream,
        Op::Matmul,
        vec![a, b],
    )?;
    finish(out, &p, stream)
}

/// `alpha * (a @ b) + beta * c`, with `a @ b` as [`matmul`] computes it and `c` broadcast to its
/// shape (`c` must broadcast to the result's shape without changing it). The dtype is the
/// promotion of all three inputs. With `beta == 0`, `c` is not read (a NaN in it does not spread),
/// as BLAS and MLX do.
pub fn addmm(
    c: &Array,
    a: &Array,
    b: &Array,
    alpha: f64,
    beta: f64,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("addmm")?;
    let p = plan("addmm", a.shape(), b.shape())?;
    let dt = product_dtype("addmm", &[c, a, b])?;
    match broadcast_dims("addmm", c.shape(), &p.result) {
        Ok(shape) if shape[..] == p.result[..] => {}
        _ => {
            return Err(Error::shape(
                "addmm",
                format!(
                    "c of shape {:?} must broadcast to the shape of a @ b, {:?} (a {:?}, b {:?})",
                    c.shape(),
                    p.result,
                    a.shape(),
                    b.shape()
                ),
            ))
        }
    }
    let c = astype(c, dt, stream)?;
    // The kernel broadcasts `c` against its output's shape (`inner`), which differs from the
    // result's only by the dims a 1-D operand added; put those dims into `c` as well.
    let c = if p.inner.len() != p.result.len() {
        let c = broadcast_to(&c, &p.result, stream)?;
        reshape(&c, &as_isize(&p.inner), stream)?
    } else {
        c
    };
    let a = prepare(a, dt, &p.a_shape, stream)?;
    let b = prepare(b, dt, &p.b_shape, stream)?;
    let out = make(
        "addmm",
        p.inner.clone(),
        dt,
        stream,
        Op::AddMm { alpha, beta },
        vec![c, a, b],
    )?;
    finish(out, &p, stream)
}
