//! Reinterpretations of an array's memory: `view` (the same bytes as another dtype) and
//! `as_strided` (a shape and strides over the row-contiguous elements).
//!
//! `view` is a node of its own (`Op::View`): its kernel lays the input out row-contiguously and
//! reads those bytes as the new dtype. `as_strided` needs no kernel: its elements are a gather
//! from the flattened input at `offset + sum(i_d * strides_d)`, so a stride that walks outside
//! the input fails when evaluated (an index out of range) instead of reading foreign memory, as
//! MLX's would.

use super::{add, arange, full, make, multiply, reshape, take};
use crate::op::Op;
use crate::shape::contiguous_strides;
use crate::{Array, Dtype, Error, Result, StreamOrDevice};

/// `a`'s bytes read as `dtype`. Between dtypes of different sizes the last axis changes length
/// (its byte length must be a multiple of the larger size); a 0-d array can only change to a
/// dtype of the same size. Viewing bytes as bool gives `true` for every nonzero byte.
pub fn view(a: &Array, dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("view")?;
    if dtype == a.dtype() {
        return Ok(a.clone());
    }
    let (old, new) = (a.dtype().size(), dtype.size());
    let mut shape = a.shape().to_vec();
    if old != new {
        let Some(last) = shape.last_mut() else {
            return Err(Error::shape(
                "view",
                format!(
                    "Changing the type of a scalar is only allowed for types with the same size ({} is {old} bytes, {dtype} is {new})",
                    a.dtype()
                ),
            ));
        };
        let bytes = *last * old;
        if bytes % new != 0 {
            return Err(Error::shape(
                "view",
                format!(
                    "When viewing as a larger dtype, the size in bytes of the last axis must be a multiple of the requested type size (shape {:?} of {} is {bytes} bytes per row, {dtype} is {new})",
                    a.shape(),
                    a.dtype()
                ),
            ));
        }
        *last = bytes / new;
    }
    make("view", shape, dtype, stream, Op::View, vec![a.clone()])
}

/// The array of `shape` (default `a`'s) whose element `i` is element
/// `offset + sum(i[d] * strides[d])` of `a` flattened in row-major order (strides in elements,
/// default row-contiguous for `shape`), whatever `a`'s own layout.
pub fn as_strided(
    a: &Array,
    shape: Option<&[usize]>,
    strides: Option<&[isize]>,
    offset: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("as_strided")?;
    let shape = shape.unwrap_or(a.shape()).to_vec();
    let strides = strides.map_or_else(|| contiguous_strides(&shape), <[isize]>::to_vec);
    if strides.len() != shape.len() {
        return Err(Error::shape(
            "as_strided",
            format!(
                "Received {} strides for a shape of {} dimensions ({shape:?}, strides {strides:?})",
                strides.len(),
                shape.len()
            ),
        ));
    }
    let flat = reshape(a, &[-1], stream)?;
    let mut index = full(&[], offset as i64, Some(Dtype::Int64), stream)?;
    for (d, (&n, &st)) in shape.iter().zip(&strides).enumerate() {
        let steps = arange(0.0, n as f64, 1.0, Some(Dtype::Int64), stream)?;
        let steps = multiply(
            &steps,
            &full(&[], st as i64, Some(Dtype::Int64), stream)?,
            stream,
        )?;
        let mut placed = vec![1isize; shape.len()];
        placed[d] = n as isize;
        index = add(&index, &reshape(&steps, &placed, stream)?, stream)?;
    }
    // A zero-size shape leaves `index` unbroadcast along its empty dims; `take` of an empty index
    // array is empty, so give it the full shape first.
    let index = super::broadcast_to(&index, &shape, stream)?;
    take(&flat, &index, Some(0), stream)
}
