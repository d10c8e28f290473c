//! Rules of the scans: cumsum, cumprod, cummax, cummin, logcumsumexp.
//!
//! "Later" below means later in the scan's own order (toward the start of the axis when
//! `reverse`). Output `j` of an inclusive scan reads inputs up to `j`, so an input's cotangent
//! collects from the outputs at and after it: a scan in the opposite direction. An exclusive
//! scan's output `j` is the inclusive scan's output one step earlier (the identity first), so its
//! rule moves the cotangent one step later and applies the inclusive rule.

use super::{constant, cut};
use crate::op::{Op, ScanOp};
use crate::ops::{
    abs, add, arange, astype, cummax, cummin, cumprod, cumsum, divide, equal, exp, greater, less,
    logcumsumexp, logical_and, max, maximum, min, minimum, multiply, pad, reshape, subtract,
    take_along_axis, where_,
};
use crate::{Array, Dtype, Result, Scalar, Stream};

/// Beyond this, `exp` overflows float64 (at 709.78): the exponent clamp of `logaddexp`'s rule.
const EXP_LIMIT: f64 = 700.0;

/// The rule of an `Op::Scan` node.
pub(super) fn scan(op: &Op, x: &Array, out: &Array, g: &Array, s: Stream) -> Result<Array> {
    let Op::Scan {
        op: r,
        axis,
        reverse,
        inclusive,
    } = *op
    else {
        unreachable!("called for scans only")
    };
    if r == ScanOp::Sum {
        // Linear: the opposite scan, exclusive stays exclusive.
        return cumsum(g, Some(axis as isize), !reverse, inclusive, s);
    }
    let ax = Some(axis as isize);
    let (g, y) = if inclusive {
        (g.clone(), out.clone())
    } else {
        let y = match r {
            ScanOp::Prod => cumprod(x, ax, reverse, true, s)?,
            ScanOp::Max => cummax(x, ax, reverse, true, s)?,
            ScanOp::Min => cummin(x, ax, reverse, true, s)?,
            ScanOp::LogAddExp => logcumsumexp(x, ax, reverse, true, s)?,
            ScanOp::Sum => unreachable!("handled above"),
        };
        (one_step_later(g, axis, reverse, s)?, y)
    };
    match r {
        ScanOp::Prod => prod(axis, reverse, x, &y, &g, s),
        ScanOp::Max | ScanOp::Min => extreme(axis, reverse, x, &y, &g, s),
        ScanOp::LogAddExp => log_add_exp(axis, reverse, x, &y, &g, s),
        ScanOp::Sum => unreachable!("handled above"),
    }
}

/// The cotangent of an exclusive scan as the inclusive scan's: entry `k` takes the exclusive
/// output `k + 1`'s (in scan order), the last one nothing.
fn one_step_later(g: &Array, axis: usize, reverse: bool, s: Stream) -> Result<Array> {
    let n = g.shape()[axis];
    if n == 0 {
        return Ok(g.clone());
    }
    let (from, to, widths) = if reverse {
        (0, n - 1, (1, 0))
    } else {
        (1, n, (0, 1))
    };
    let kept = cut(g, axis, from, to, s)?;
    let mut w = vec![(0, 0); g.ndim()];
    w[axis] = widths;
    pad(&kept, &w, Scalar::Int(0), s)
}

/// Sums of `v` from each position to the end of the scan.
fn later_sums(v: &Array, axis: usize, reverse: bool, s: Stream) -> Result<Array> {
    cumsum(v, Some(axis as isize), !reverse, true, s)
}

/// `dx_i = Σ_{j ≥ i} g_j Π_{l ≤ j, l ≠ i} x_l`, without dividing by a zero: before the first zero
/// of the scan it is `Σ_{j ≥ i} g_j y_j / x_i`; at the first zero, the running product with that
/// zero replaced by one takes the place of `y / x_i`; after it, every product holds that zero.
fn prod(axis: usize, reverse: bool, x: &Array, y: &Array, g: &Array, s: Stream) -> Result<Array> {
    let ax = Some(axis as isize);
    let zero = constant(0.0, x.dtype(), s)?;
    let one = constant(1.0, x.dtype(), s)?;
    let is_zero = equal(x, &zero, s)?;
    let seen = cumsum(&astype(&is_zero, Dtype::Int32, s)?, ax, reverse, true, s)?;
    let none_yet = equal(&seen, &constant(0.0, Dtype::Int32, s)?, s)?;
    let first = logical_and(
        &is_zero,
        &equal(&seen, &constant(1.0, Dtype::Int32, s)?, s)?,
        s,
    )?;
    let safe_x = where_(&is_zero, &one, x, s)?;
    let before = divide(
        &later_sums(&multiply(g, y, s)?, axis, reverse, s)?,
        &safe_x,
        s,
    )?;
    let y_without_first = cumprod(&where_(&first, &one, x, s)?, ax, reverse, true, s)?;
    let at_first = later_sums(&multiply(g, &y_without_first, s)?, axis, reverse, s)?;
    where_(&none_yet, &before, &where_(&first, &at_first, &zero, s)?, s)
}

/// cummax / cummin: each output came from the latest input (in scan order) equal to it, as MLX
/// gives it on ties. Such an input (a "record": `x_i == y_i`) collects the cotangents from itself
/// up to the next record: the later sums at `i` minus those at the next record.
fn extreme(
    axis: usize,
    reverse: bool,
    x: &Array,
    y: &Array,
    g: &Array,
    s: Stream,
) -> Result<Array> {
    let n = x.shape()[axis];
    let record = equal(x, y, s)?;
    let mut line = vec![1isize; x.ndim()];
    line[axis] = n as isize;
    let idx = reshape(
        &arange(0.0, n as f64, 1.0, Some(Dtype::Int32), s)?,
        &line,
        s,
    )?;
    let ax = Some(axis as isize);
    let int = |v: f64| constant(v, Dtype::Int32, s);
    let sums = later_sums(g, axis, reverse, s)?;
    let mut w = vec![(0, 0); x.ndim()];
    // The next record's position, and the later sums with a zero for "past the end" appended
    // where the scan ends (read at position + 1 for a reverse scan, whose end is at -1).
    let at = if reverse {
        let key = where_(&record, &idx, &int(-1.0)?, s)?;
        let next = maximum(&cummax(&key, ax, false, false, s)?, &int(-1.0)?, s)?;
        w[axis] = (1, 0);
        add(&next, &int(1.0)?, s)?
    } else {
        let key = where_(&record, &idx, &int(n as f64)?, s)?;
        w[axis] = (0, 1);
        minimum(&cummin(&key, ax, true, false, s)?, &int(n as f64)?, s)?
    };
    let padded = pad(&sums, &w, Scalar::Int(0), s)?;
    let at_next = take_along_axis(&padded, &at, ax, s)?;
    let zero = constant(0.0, g.dtype(), s)?;
    where_(&record, &subtract(&sums, &at_next, s)?, &zero, s)
}

/// `dx_i = Σ_{j ≥ i} g_j exp(x_i - y_j)`, kept linear in `g` as written (jvp differentiates the
/// rule at `g = 0`, where the sign-split logarithm of TensorFlow's and MLX's rule gives NaN).
/// With a shift `c` constant along the scan it is `exp(x_i - c) Σ_{j ≥ i} g_j exp(c - y_j)`: one
/// running sum. In float64 that is exact for element `i` while `|y_i - c| ≤ 700` (then `x_i - c ≤
/// 700`, and `c - y_j ≤ 700` for the later, larger `y_j`; terms that underflow are below 1e-300 of
/// the result). The running values only grow along the scan, so three shifts spread over their
/// range (first finite value, middle, last) serve every element, each taking the nearest: exact
/// while one line's running values span less than 2800 (masked logits at -1e9 before ordinary
/// ones are two clusters, the first and the last shift). Exponents are clamped so the unused sums
/// stay finite (their derivatives meet `where`'s zeros, and `0 · inf` would be NaN).
fn log_add_exp(
    axis: usize,
    reverse: bool,
    x: &Array,
    y: &Array,
    g: &Array,
    s: Stream,
) -> Result<Array> {
    let dt = g.dtype();
    let wide = |a: &Array| astype(a, Dtype::Float64, s);
    let (x, y, g) = (wide(x)?, wide(y)?, wide(g)?);
    let c = |v: f64| constant(v, Dtype::Float64, s);
    let ax = [axis as isize];
    // The running values' range along each line, over the finite ones (a line may open with -inf).
    let finite = greater(&y, &c(f64::NEG_INFINITY)?, s)?;
    let lo = min(
        &where_(&finite, &y, &c(f64::INFINITY)?, s)?,
        Some(&ax),
        true,
        s,
    )?;
    let hi = max(&y, Some(&ax), true, s)?;
    let limit = c(EXP_LIMIT)?;
    let clamped_exp = |v: &Array| exp(&minimum(v, &limit, s)?, s);
    let mut best: Option<(Array, Array)> = None;
    for k in 0..3 {
        let shift = add(
            &lo,
            &multiply(&subtract(&hi, &lo, s)?, &c(k as f64 / 2.0)?, s)?,
            s,
        )?;
        let terms = multiply(&g, &clamped_exp(&subtract(&shift, &y, s)?)?, s)?;
        let dx = multiply(
            &clamped_exp(&subtract(&x, &shift, s)?)?,
            &later_sums(&terms, axis, reverse, s)?,
            s,
        )?;
        let distance = abs(&subtract(&y, &shift, s)?, s)?;
        best = Some(match best {
            None => (dx, distance),
            Some((prev, d)) => {
                let closer = less(&distance, &d, s)?;
                (
                    where_(&closer, &dx, &prev, s)?,
                    where_(&closer, &distance, &d, s)?,
                )
            }
        });
    }
    let (dx, _) = best.expect("three shifts");
    // An input of -inf reaches no output: its cotangent is 0, also where every earlier input was
    // -inf too (there `x - y` is NaN).
    let reaches = greater(&x, &c(f64::NEG_INFINITY)?, s)?;
    astype(&where_(&reaches, &dx, &c(0.0)?, s)?, dt, s)
}
