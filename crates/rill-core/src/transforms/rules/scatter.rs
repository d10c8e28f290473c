//! Rules of `scatter` (MLX's `a.at[idx].add/multiply/maximum/minimum(updates)`). The node's
//! inputs are `a`, the indices along `axis` and the updates, already broadcast to the rows they
//! land on; update `m` meets `a`'s row `idx[m]`, and several updates may meet one row.

use super::constant;
use crate::op::{Op, ScatterReduce};
use crate::ops::{
    astype, divide, equal, make, multiply, ones_like, scatter as scatter_op, where_, zeros_like,
};
use crate::{Array, Dtype, Result, Stream};

pub(super) fn scatter(
    reduce: ScatterReduce,
    axis: usize,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let (a, idx, u) = (&inputs[0], &inputs[1], &inputs[2]);
    let (ga, gu) = match reduce {
        ScatterReduce::Add => (g.clone(), rows(axis, u, g, idx, s)?),
        // Whatever equals the result gets the whole cotangent (MLX's rule: ties are not shared).
        ScatterReduce::Max | ScatterReduce::Min => {
            let zero = constant(0.0, g.dtype(), s)?;
            let ga = where_(&equal(a, out, s)?, g, &zero, s)?;
            let won = equal(&rows(axis, u, out, idx, s)?, u, s)?;
            (ga, where_(&won, &rows(axis, u, g, idx, s)?, &zero, s)?)
        }
        ScatterReduce::Prod => prod(axis, a, idx, u, g, s)?,
    };
    Ok(vec![Some(ga), None, Some(gu)])
}

/// `out_k = a_k Π_{idx_m = k} u_m`. `a`'s cotangent is `g` times the updates' product; update
/// `m`'s is `g a` times the product of the other updates of its row, computed without dividing
/// by a zero: the product of the row's nonzero updates, divided by `u_m` when the row has no zero,
/// taken as it is for the row's only zero, and zero when the row has another zero.
fn prod(
    axis: usize,
    a: &Array,
    idx: &Array,
    u: &Array,
    g: &Array,
    s: Stream,
) -> Result<(Array, Array)> {
    let ax = Some(axis as isize);
    let zero = constant(0.0, u.dtype(), s)?;
    let one = constant(1.0, u.dtype(), s)?;
    let ga = multiply(
        g,
        &scatter_op(&ones_like(a, s)?, idx, u, ax, ScatterReduce::Prod, s)?,
        s,
    )?;
    let is_zero = equal(u, &zero, s)?;
    let nonzero = scatter_op(
        &ones_like(a, s)?,
        idx,
        &where_(&is_zero, &one, u, s)?,
        ax,
        ScatterReduce::Prod,
        s,
    )?;
    let zeros_in_row = scatter_op(
        &zeros_like(a, s)?,
        idx,
        &astype(&is_zero, Dtype::Float32, s)?,
        ax,
        ScatterReduce::Add,
        s,
    )?;
    let zeros_in_row = rows(axis, u, &zeros_in_row, idx, s)?;
    let count =
        |n: f64| -> Result<Array> { equal(&zeros_in_row, &constant(n, Dtype::Float32, s)?, s) };
    let safe_u = where_(&is_zero, &one, u, s)?;
    let others = where_(
        &is_zero,
        &where_(&count(1.0)?, &one, &zero, s)?,
        &where_(&count(0.0)?, &divide(&one, &safe_u, s)?, &zero, s)?,
        s,
    )?;
    let base = rows(
        axis,
        u,
        &multiply(&multiply(g, a, s)?, &nonzero, s)?,
        idx,
        s,
    )?;
    Ok((ga, multiply(&base, &others, s)?))
}

/// The rows of `x` (shaped like `a`) that the updates met: `take(x, idx, axis)`, shaped like
/// the updates.
pub(super) fn rows(
    axis: usize,
    updates: &Array,
    x: &Array,
    idx: &Array,
    s: Stream,
) -> Result<Array> {
    make(
        "take",
        updates.shape().to_vec(),
        x.dtype(),
        s,
        Op::Gather { axis },
        vec![x.clone(), idx.clone()],
    )
}
