//! Dtype conversion and copies.

use super::make;
use crate::op::Op;
use crate::{Array, Dtype, DtypeKind, Result, Scalar, StreamOrDevice};

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

/// A 0-d array holding a host scalar that meets the array `other` in a binary op, typed the way
/// MLX types Python scalars ("weakly"): it takes `other`'s dtype when it is of the same kind or a
/// lesser one (an int scalar with a float16 array stays float16), and the scalar kind's default
/// dtype otherwise (a float scalar with an int32 array makes float32).
pub fn weak_scalar(other: &Array, value: Scalar, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let od = other.dtype();
    let rank = |k: DtypeKind| match k {
        DtypeKind::Bool => 0,
        DtypeKind::Unsigned | DtypeKind::Signed => 1,
        DtypeKind::Float => 2,
        DtypeKind::Complex => 3,
    };
    let sk = value.default_dtype().kind();
    let dtype = if rank(sk) <= rank(od.kind()) {
        od
    } else {
        value.default_dtype()
    };
    super::full(&[], value, Some(dtype), s)
}
