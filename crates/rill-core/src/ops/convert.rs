//! Dtype conversion and copies.

use super::make;
use crate::op::Op;
use crate::{Array, Dtype, DtypeKind, Element, Result, Scalar, StreamOrDevice};

/// `a` converted to `dtype` (the same array when it already has that dtype).
pub fn astype(a: &Array, dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    if a.dtype() == dtype {
        return Ok(a.clone());
    }
    let stream = s.into().resolve("astype")?;
    make(
        "astype",
        a.shape().to_vec(),
        dtype,
        stream,
        Op::AsType,
        vec![a.clone()],
    )
}

/// A row-contiguous copy of `a`.
pub fn copy(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("copy")?;
    make(
        "copy",
        a.shape().to_vec(),
        a.dtype(),
        stream,
        Op::Copy,
        vec![a.clone()],
    )
}

/// The dtype MLX gives a host scalar that meets an array of dtype `other` in a binary op ("weak"
/// typing): `other`'s own dtype when the scalar's kind is the same or a lesser one (an int with a
/// float16 array stays float16), else the dtype the scalar would have alone (a float with an int32
/// array makes float32, `2**31` with a bool array int64: MLX wraps it into int32 instead).
pub fn weak_dtype(other: Dtype, value: Scalar) -> Dtype {
    let rank = |k: DtypeKind| match k {
        DtypeKind::Bool => 0,
        DtypeKind::Unsigned | DtypeKind::Signed => 1,
        DtypeKind::Float => 2,
        DtypeKind::Complex => 3,
    };
    let own = value.lone_dtype();
    if rank(own.kind()) <= rank(other.kind()) {
        other
    } else {
        own
    }
}

/// A 0-d array holding a host scalar that meets the array `other` in a binary op, of
/// [`weak_dtype`]; an integer that the dtype cannot hold is an [`crate::Error::Overflow`]
/// (`uint8_array + 300`), as in MLX. The one place this rule lives (`checked_weak_dtype`):
/// Python's and Node's operators reach it through [`weak_operand`], assignments through this.
/// The array is made at once on the host (a scalar needs no op to run later), with bytes of its
/// own (a value assigned into an array, `a[0] = 1.0`, is one).
pub fn weak_scalar(other: &Array, value: Scalar, s: impl Into<StreamOrDevice>) -> Result<Array> {
    scalar_array(value, checked_weak_dtype(other, value)?, s)
}

/// [`weak_scalar`] for an operand that goes straight into an op which builds a new array from it
/// (`a + 1.0`, `mx.multiply(x, 0.5)`): its bytes are shared with the thread's other operands of
/// that value and dtype (`memory/constants.rs`), which saves the allocator's round trip once per
/// op. Never for an array that could reach a user unchanged: a user's array may leave rill
/// (DLPack) for a library that writes into it.
pub fn weak_operand(other: &Array, value: Scalar, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let dtype = checked_weak_dtype(other, value)?;
    let stream = s.into().resolve("array")?;
    let data = crate::dispatch_dtype!(dtype, T => crate::memory::constant(T::from_scalar(value)));
    Ok(Array::evaluated(Vec::new(), dtype, stream, data))
}

/// [`weak_dtype`], or the overflow error when that integer dtype cannot hold `value`.
fn checked_weak_dtype(other: &Array, value: Scalar) -> Result<Dtype> {
    let dtype = weak_dtype(other.dtype(), value);
    value.check_fits(dtype, "scalar")?;
    Ok(dtype)
}

/// A 0-d array holding `value` converted to `dtype`, made at once on the host.
pub fn scalar_array(value: Scalar, dtype: Dtype, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let s = s.into();
    crate::dispatch_dtype!(dtype, T => Array::from_slice_on(&[T::from_scalar(value)], &[], s))
}
