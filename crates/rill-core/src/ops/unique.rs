//! `unique`: the sorted distinct values of a flattened array, with MLX's static output size.
//!
//! The output's size is an argument, so nothing is evaluated to build it. The values are sorted
//! (`argsort`), and a position starts a new group where it differs from the one before. Group
//! `g`'s first sorted position is found by sorting the positions with the group starts first
//! (their keys are their positions, the rest come after `n`, so every key is distinct and the
//! sort's stability does not matter). The first occurrence of a value in `a` is the smallest
//! original index in its group; `argsort` of the values gives it only if the sort is stable, so
//! the builder sorts once more by a key with no ties, `group * n + original index`.

use super::{
    add, arange, argsort, astype, concatenate, cumsum, full, less, maximum, minimum, multiply,
    not_equal, pad, reshape, slice, subtract, sum, take, where_,
};
use crate::{Array, Dtype, Error, Result, Scalar, Stream, StreamOrDevice};

/// What `unique` returns: the values, and the arrays asked for.
pub struct Unique {
    /// The `size` smallest distinct values, ascending, then `fill_value`.
    pub values: Array,
    /// For each value, the index in the flattened input of its first occurrence (uint32).
    pub index: Array,
    /// For each input element, the position of its value in `values` (uint32, `a`'s shape).
    pub inverse: Array,
    /// For each value, how often it occurs (int32; 0 past the last distinct value).
    pub counts: Array,
}

fn int(v: i64, stream: Stream) -> Result<Array> {
    full(&[], v, Some(Dtype::Int64), stream)
}

/// The first `size` entries of the 1-D `x`, padded with `value` when `x` is shorter.
fn fit(x: &Array, size: usize, value: i64, stream: Stream) -> Result<Array> {
    let n = x.shape()[0];
    if size <= n {
        return slice(x, &[0], &[size as isize], &[1], stream);
    }
    pad(x, &[(0, size - n)], Scalar::Int(value), stream)
}

/// The sorted unique elements of `a` flattened, `size` of them: truncated to the smallest `size`,
/// or padded with `fill_value` (default: the smallest element). See [`Unique`] for the rest; the
/// arrays are all built, unused ones cost nothing unless evaluated.
pub fn unique(
    a: &Array,
    size: usize,
    fill_value: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Unique> {
    let stream = s.into().resolve("unique")?;
    let flat = reshape(a, &[-1], stream)?;
    let n = flat.shape()[0];
    if n == 0 {
        let values = match fill_value {
            Some(f) => super::broadcast_to(&astype(f, a.dtype(), stream)?, &[size], stream)?,
            None if size == 0 => super::zeros(&[0], a.dtype(), stream)?,
            None => {
                return Err(Error::shape(
                    "unique",
                    format!(
                    "cannot pad an empty array (shape {:?}) to size {size} without a fill_value",
                    a.shape()
                ),
                ))
            }
        };
        return Ok(Unique {
            values,
            index: super::zeros(&[size], Dtype::Uint32, stream)?,
            inverse: super::zeros(a.shape(), Dtype::Uint32, stream)?,
            counts: super::zeros(&[size], Dtype::Int32, stream)?,
        });
    }
    let ni = n as i64;
    let order = astype(&argsort(&flat, Some(0), stream)?, Dtype::Int64, stream)?;
    let sorted = take(&flat, &order, Some(0), stream)?;
    let differs = not_equal(
        &slice(&sorted, &[1], &[ni as isize], &[1], stream)?,
        &slice(&sorted, &[0], &[ni as isize - 1], &[1], stream)?,
        stream,
    )?;
    let first = full(&[1], true, Some(Dtype::Bool), stream)?;
    let is_new = concatenate(&[first, differs], Some(0), stream)?;
    let group = subtract(
        &cumsum(
            &astype(&is_new, Dtype::Int64, stream)?,
            Some(0),
            false,
            true,
            stream,
        )?,
        &int(1, stream)?,
        stream,
    )?;
    let groups = sum(&astype(&is_new, Dtype::Int64, stream)?, None, false, stream)?;
    let positions = arange(0.0, n as f64, 1.0, Some(Dtype::Int64), stream)?;
    // Group starts first, in order; every key distinct.
    let start_key = where_(
        &is_new,
        &positions,
        &add(&positions, &int(ni, stream)?, stream)?,
        stream,
    )?;
    let starts = take(
        &positions,
        &argsort(&start_key, Some(0), stream)?,
        Some(0),
        stream,
    )?;
    let slot = arange(0.0, size as f64, 1.0, Some(Dtype::Int64), stream)?;
    let valid = less(&slot, &groups, stream)?;
    // Entries past the last group read group 0's start (MLX's index and default fill there).
    let start_at = where_(
        &valid,
        &fit(&starts, size, 0, stream)?,
        &int(0, stream)?,
        stream,
    )?;

    let first_value = take(&sorted, &int(0, stream)?, Some(0), stream)?;
    let fill = match fill_value {
        Some(f) => astype(f, a.dtype(), stream)?,
        None => first_value,
    };
    let values = where_(
        &valid,
        &take(&sorted, &start_at, Some(0), stream)?,
        &fill,
        stream,
    )?;

    // The first occurrence: the smallest original index in each group. Sorting by
    // `group * n + index` orders each group's elements by index, so its first is at its start.
    let by_index = argsort(
        &add(
            &multiply(&group, &int(ni, stream)?, stream)?,
            &order,
            stream,
        )?,
        Some(0),
        stream,
    )?;
    let earliest = take(&order, &by_index, Some(0), stream)?;
    let index = astype(
        &take(&earliest, &start_at, Some(0), stream)?,
        Dtype::Uint32,
        stream,
    )?;

    // Counts: the distance from each group start to the next (or to `n`), over all n slots.
    let all_starts = where_(
        &less(&positions, &groups, stream)?,
        &starts,
        &int(ni, stream)?,
        stream,
    )?;
    let next = concatenate(
        &[
            slice(&all_starts, &[1], &[ni as isize], &[1], stream)?,
            full(&[1], ni, Some(Dtype::Int64), stream)?,
        ],
        Some(0),
        stream,
    )?;
    let counts = astype(
        &fit(&subtract(&next, &all_starts, stream)?, size, 0, stream)?,
        Dtype::Int32,
        stream,
    )?;

    // Inverse: each element's group, moved back from sorted to original order, clamped into the
    // output.
    let back = argsort(&order, Some(0), stream)?;
    let last = int(size.max(1) as i64 - 1, stream)?;
    let inverse = minimum(&take(&group, &back, Some(0), stream)?, &last, stream)?;
    let inverse = maximum(&inverse, &int(0, stream)?, stream)?;
    let inverse = astype(&inverse, Dtype::Uint32, stream)?;
    let shape: Vec<isize> = a.shape().iter().map(|&d| d as isize).collect();
    let inverse = reshape(&inverse, &shape, stream)?;
    Ok(Unique {
        values,
        index,
        inverse,
        counts,
    })
}
