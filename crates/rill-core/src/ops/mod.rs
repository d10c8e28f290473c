//! Op builders: the public functions that make lazy arrays.
//!
//! Every builder takes its stream last, as `s: impl Into<StreamOrDevice>` (MLX's `stream=`):
//! pass `()` for the default, a `Stream`, a `Device` or a `DeviceType`. Builders check shapes,
//! axes and dtypes at once and return an error naming the op and the shapes; nothing they accept
//! can fail later for those reasons. They never evaluate anything.

mod attention;
mod binary;
mod compare;
mod complex;
mod conv;
mod convert;
mod creation;
mod cuda_kernel;
mod depends;
mod einsum;
mod factor;
mod fft;
mod indexing;
mod linalg;
mod matrix;
mod movement;
mod operators;
mod reduce;
mod scan;
mod shape;
mod softmax;
mod sort;
mod unary;
mod unique;
mod view;

pub use attention::*;
pub use binary::*;
pub use compare::*;
pub use complex::*;
pub use conv::*;
pub use convert::*;
pub use creation::*;
pub use cuda_kernel::*;
pub use depends::*;
pub use einsum::*;
pub use factor::*;
pub use fft::*;
pub use indexing::*;
pub use linalg::*;
pub use matrix::*;
pub use movement::*;
pub use reduce::*;
pub use scan::*;
pub use shape::*;
pub use softmax::*;
pub use sort::*;
pub use unary::*;
pub use unique::*;
pub use view::*;

use crate::op::Op;
use crate::shape::Dims;
use crate::{Array, Dtype, Result, Stream};

/// A lazy array on `stream`; the shared tail of every builder, named `name` in errors. It refuses
/// a shape too large to exist (see [`crate::shape::check_size`]), so no builder can make one.
/// The shape is a `Vec` or, in the builders that run once per op of a hot loop, an inline
/// [`Dims`], which spares an allocation per node.
pub(crate) fn make(
    name: &'static str,
    shape: impl Into<Dims>,
    dtype: Dtype,
    stream: Stream,
    op: Op,
    inputs: Vec<Array>,
) -> Result<Array> {
    let shape = shape.into();
    crate::shape::check_size(name, &shape, dtype)?;
    Ok(Array::lazy(shape, dtype, stream, op, inputs))
}
