//! Kernels with no inputs: full, arange, eye.

use super::num::{cast, Num};
use super::output;
use super::strided::par_chunks;
use crate::backend::Output;
use crate::memory::Data;
use crate::op::Op;
use crate::{dispatch_dtype, Result, Scalar};

pub fn run(op: &Op, out: &Output) -> Result<Data> {
    dispatch_dtype!(out.dtype, T => typed::<T>(op, out))
}

fn typed<T: Num>(op: &Op, out: &Output) -> Result<Data> {
    output::<T>(op.name(), out, |o| {
        match *op {
            Op::Full(v) => {
                let v = scalar_to::<T>(v);
                par_chunks(o, |_, c| c.fill(v));
            }
            Op::Arange { start, step } => par_chunks(o, |r, c| {
                for (i, x) in r.zip(c.iter_mut()) {
                    *x = T::from_f64(start + i as f64 * step);
                }
            }),
            Op::Eye { k } => {
                let cols = out.shape[1];
                o.fill(T::from_u64(0));
                for r in 0..out.shape[0] {
                    let c = r as isize + k;
                    if c >= 0 && (c as usize) < cols {
                        o[r * cols + c as usize] = T::from_u64(1);
                    }
                }
            }
            _ => unreachable!("not a creation op: {op:?}"),
        }
        Ok(())
    })
}

/// A host scalar as an element of `T`, converted with the same rules as `astype`.
pub fn scalar_to<T: Num>(v: Scalar) -> T {
    match v {
        Scalar::Bool(b) => cast::<bool, T>(b),
        Scalar::Int(i) => cast::<i64, T>(i),
        Scalar::UInt(u) => cast::<u64, T>(u),
        Scalar::Float(f) => cast::<f64, T>(f),
        Scalar::Complex(re, im) => {
            cast::<num_complex::Complex32, T>(num_complex::Complex32::new(re, im))
        }
    }
}
