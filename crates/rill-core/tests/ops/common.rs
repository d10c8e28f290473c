//! Helpers shared by the op tests: arrays of any dtype from f64 values, and f64 rounded to a
//! float dtype's precision.

use rill_core::half::{bf16, f16};
use rill_core::{Array, Dtype, Element};

/// An array of `dtype` holding `vals` (which the caller keeps representable in `dtype`).
pub fn arr(dtype: Dtype, vals: &[f64], shape: &[usize]) -> Array {
    fn mk<T: Element>(v: Vec<T>, shape: &[usize]) -> Array {
        Array::from_slice(&v, shape).unwrap()
    }
    let v = vals.iter().copied();
    match dtype {
        Dtype::Float16 => mk(v.map(f16::from_f64).collect(), shape),
        Dtype::Bfloat16 => mk(v.map(bf16::from_f64).collect(), shape),
        Dtype::Float32 => mk(v.map(|x| x as f32).collect(), shape),
        Dtype::Float64 => mk(v.collect(), shape),
        Dtype::Int8 => mk(v.map(|x| x as i8).collect(), shape),
        Dtype::Int16 => mk(v.map(|x| x as i16).collect(), shape),
        Dtype::Int32 => mk(v.map(|x| x as i32).collect(), shape),
        Dtype::Int64 => mk(v.map(|x| x as i64).collect(), shape),
        Dtype::Uint8 => mk(v.map(|x| x as u8).collect(), shape),
        Dtype::Uint16 => mk(v.map(|x| x as u16).collect(), shape),
        Dtype::Uint32 => mk(v.map(|x| x as u32).collect(), shape),
        Dtype::Uint64 => mk(v.map(|x| x as u64).collect(), shape),
        Dtype::Bool => mk(v.map(|x| x != 0.0).collect(), shape),
        other => panic!("arr: no helper for {other}"),
    }
}

/// `v` rounded to the precision of the float dtype `dtype` (other dtypes: unchanged).
pub fn round_to(dtype: Dtype, v: f64) -> f64 {
    match dtype {
        Dtype::Float16 => f16::from_f64(v).to_f64(),
        Dtype::Bfloat16 => bf16::from_f64(v).to_f64(),
        Dtype::Float32 => v as f32 as f64,
        _ => v,
    }
}
