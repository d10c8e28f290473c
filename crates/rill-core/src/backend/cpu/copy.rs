//! Copies: astype (a cast), copy (make contiguous), a reshape that cannot be a view, and where.

use super::num::{cast, Num};
use super::output;
use super::strided::{map1, map3};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::{dispatch_dtype, Result};

/// Writes `x`'s elements, in row-major order of `x.shape`, cast to `out.dtype`, into a fresh buffer
/// of `out.shape` (same element count). Serves astype, copy and a reshape that must copy.
pub fn astype(op: &'static str, x: &Input, out: &Output) -> Result<Data> {
    dispatch_dtype!(x.dtype, A => dispatch_dtype!(out.dtype, B => output::<B>(op, out, |o| {
        map1::<A, B>(x, x.shape, o, cast::<A, B>);
        Ok(())
    })))
}

/// `where(cond, x, y)`, the three broadcast to the output shape.
pub fn select(cond: &Input, x: &Input, y: &Input, out: &Output) -> Result<Data> {
    fn typed<T: Num>(cond: &Input, x: &Input, y: &Input, out: &Output) -> Result<Data> {
        output::<T>("where", out, |o| {
            map3::<bool, T, T, T>(cond, x, y, out.shape, o, |c, a, b| if c { a } else { b });
            Ok(())
        })
    }
    dispatch_dtype!(out.dtype, T => typed::<T>(cond, x, y, out))
}

/// `view`: `x`'s bytes in row-major order read as `out.dtype`. The row-contiguous copy is a fresh,
/// aligned buffer, so any dtype may read it; bool is the exception, whose bytes must be 0 or 1,
/// so viewing as bool writes `byte != 0` instead of sharing the bytes.
pub fn view(x: &Input, out: &Output) -> Result<Data> {
    let laid_out = astype(
        "view",
        x,
        &Output {
            shape: x.shape,
            dtype: x.dtype,
            stream: out.stream,
        },
    )?;
    if out.dtype == crate::Dtype::Bool {
        let bytes = laid_out.buffer.as_bytes();
        return output::<bool>("view", out, |o| {
            o.iter_mut().zip(bytes).for_each(|(o, &b)| *o = b != 0);
            Ok(())
        });
    }
    Ok(Data {
        buffer: laid_out.buffer,
        layout: crate::shape::Layout::contiguous(out.shape),
    })
}
