//! Host bytes to arrays and back.
//!
//! The JS layer turns every input (nested arrays of numbers or booleans, typed arrays) into the
//! bytes of a typed array plus the dtype those bytes hold; this file copies them into a rill
//! array. Reading back gives the bytes of the array in row-major order, in a dtype that JS has a
//! typed array for (float16 and bfloat16 are widened to float32). Native byte order throughout.

use crate::errors::{type_error, OrThrow};
use rill_core::half::{bf16, f16};
use rill_core::{Array, Dtype, Element, StreamOrDevice};

/// An element type as host bytes.
trait HostBytes: Element {
    const N: usize;
    fn read(b: &[u8]) -> Self;
    fn write(self, out: &mut Vec<u8>);
}

macro_rules! host_bytes {
    ($($t:ty),*) => {$(
        impl HostBytes for $t {
            const N: usize = std::mem::size_of::<$t>();
            fn read(b: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(b);
                <$t>::from_ne_bytes(raw)
            }
            fn write(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
        }
    )*};
}
host_bytes!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, f16, bf16);

impl HostBytes for bool {
    const N: usize = 1;
    fn read(b: &[u8]) -> Self {
        b[0] != 0
    }
    fn write(self, out: &mut Vec<u8>) {
        out.push(self as u8);
    }
}

fn build<T: HostBytes>(bytes: &[u8], shape: &[usize], s: StreamOrDevice) -> napi::Result<Array> {
    let chunks = bytes.chunks_exact(T::N);
    if !chunks.remainder().is_empty() {
        return Err(type_error(format!(
            "[array] {} bytes are not a whole number of {} elements",
            bytes.len(),
            T::DTYPE
        )));
    }
    let data: Vec<T> = chunks.map(T::read).collect();
    Array::from_slice_on(&data, shape, s).or_throw()
}

/// An array of `shape` holding `bytes`, read as elements of `dtype`.
pub fn from_bytes(
    bytes: &[u8],
    dtype: Dtype,
    shape: &[usize],
    s: StreamOrDevice,
) -> napi::Result<Array> {
    match dtype {
        Dtype::Bool => build::<bool>(bytes, shape, s),
        Dtype::Uint8 => build::<u8>(bytes, shape, s),
        Dtype::Uint16 => build::<u16>(bytes, shape, s),
        Dtype::Uint32 => build::<u32>(bytes, shape, s),
        Dtype::Uint64 => build::<u64>(bytes, shape, s),
        Dtype::Int8 => build::<i8>(bytes, shape, s),
        Dtype::Int16 => build::<i16>(bytes, shape, s),
        Dtype::Int32 => build::<i32>(bytes, shape, s),
        Dtype::Int64 => build::<i64>(bytes, shape, s),
        Dtype::Float16 => build::<f16>(bytes, shape, s),
        Dtype::Bfloat16 => build::<bf16>(bytes, shape, s),
        Dtype::Float32 => build::<f32>(bytes, shape, s),
        Dtype::Float64 => build::<f64>(bytes, shape, s),
        Dtype::Complex64 => Err(type_error(
            "[array] complex64 arrays cannot be made from JavaScript data",
        )),
    }
}

/// The dtype [`to_bytes`] writes for an array of dtype `d`.
pub fn host_dtype(d: Dtype) -> Dtype {
    match d {
        Dtype::Float16 | Dtype::Bfloat16 => Dtype::Float32,
        other => other,
    }
}

fn bytes_of<T: HostBytes>(a: &Array) -> napi::Result<Vec<u8>> {
    let v = a.to_vec::<T>().or_throw()?;
    let mut out = Vec::with_capacity(v.len() * T::N);
    for x in v {
        x.write(&mut out);
    }
    Ok(out)
}

/// The elements of `a` (evaluating it first) in row-major order, as bytes of `host_dtype`.
pub fn to_bytes(a: &Array) -> napi::Result<Vec<u8>> {
    match host_dtype(a.dtype()) {
        Dtype::Bool => bytes_of::<bool>(a),
        Dtype::Uint8 => bytes_of::<u8>(a),
        Dtype::Uint16 => bytes_of::<u16>(a),
        Dtype::Uint32 => bytes_of::<u32>(a),
        Dtype::Uint64 => bytes_of::<u64>(a),
        Dtype::Int8 => bytes_of::<i8>(a),
        Dtype::Int16 => bytes_of::<i16>(a),
        Dtype::Int32 => bytes_of::<i32>(a),
        Dtype::Int64 => bytes_of::<i64>(a),
        Dtype::Float32 => bytes_of::<f32>(a),
        Dtype::Float64 => bytes_of::<f64>(a),
        Dtype::Float16 | Dtype::Bfloat16 => unreachable!("host_dtype widens half types"),
        Dtype::Complex64 => Err(type_error(format!(
            "[toTypedArray] complex64 arrays have no JavaScript typed array (shape {:?})",
            a.shape()
        ))),
    }
}
