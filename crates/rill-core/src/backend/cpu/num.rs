//! Numeric conversions for kernels: every element type to and from f32/f64/i64/u64, and `cast`
//! between any two element types with NumPy's and MLX's rules on x86-64: int to int wraps;
//! complex to real keeps the real part; float to int truncates toward zero, and a value that does
//! not fit (or NaN) gives what their C casts give there (see [`crate::float_to_int`]).
//!
//! All of it is `#[inline]` and the branches depend only on constants of the types, so each
//! monomorphized `cast::<A, B>` is a single conversion in the loop that uses it.

use crate::{DtypeKind, Element};
use half::{bf16, f16};
use num_complex::Complex32;

/// The element types `gemm` multiplies natively (f32, f64): what convolutions and attention
/// accumulate in (half types are widened to f32 first).
pub(super) trait GemmNative:
    Num + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self> + std::ops::Mul<Output = Self>
{
}
impl GemmNative for f32 {}
impl GemmNative for f64 {}

pub trait Num: Element {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
    fn to_i64(self) -> i64;
    fn from_i64(v: i64) -> Self;
    fn to_u64(self) -> u64;
    fn from_u64(v: u64) -> Self;
    fn is_nonzero(self) -> bool;
}

macro_rules! prim_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            #[inline] fn to_f64(self) -> f64 { self as f64 }
            #[inline] fn from_f64(v: f64) -> Self { v as $t }
            #[inline] fn to_f32(self) -> f32 { self as f32 }
            #[inline] fn from_f32(v: f32) -> Self { v as $t }
            #[inline] fn to_i64(self) -> i64 { self as i64 }
            #[inline] fn from_i64(v: i64) -> Self { v as $t }
            #[inline] fn to_u64(self) -> u64 { self as u64 }
            #[inline] fn from_u64(v: u64) -> Self { v as $t }
            #[inline] fn is_nonzero(self) -> bool { self != (0 as $t) }
        }
    )*};
}
prim_num!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Num for bool {
    #[inline]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self as u8 as f32
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        v != 0.0
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    #[inline]
    fn to_u64(self) -> u64 {
        self as u64
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        v != 0
    }
    #[inline]
    fn is_nonzero(self) -> bool {
        self
    }
}

macro_rules! half_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            #[inline] fn to_f64(self) -> f64 { self.to_f64() }
            #[inline] fn from_f64(v: f64) -> Self { <$t>::from_f64(v) }
            #[inline] fn to_f32(self) -> f32 { self.to_f32() }
            #[inline] fn from_f32(v: f32) -> Self { <$t>::from_f32(v) }
            #[inline] fn to_i64(self) -> i64 { self.to_f32() as i64 }
            #[inline] fn from_i64(v: i64) -> Self { <$t>::from_f32(v as f32) }
            #[inline] fn to_u64(self) -> u64 { self.to_f32() as u64 }
            #[inline] fn from_u64(v: u64) -> Self { <$t>::from_f32(v as f32) }
            #[inline] fn is_nonzero(self) -> bool { self.to_f32() != 0.0 }
        }
    )*};
}
half_num!(f16, bf16);

impl Num for Complex32 {
    #[inline]
    fn to_f64(self) -> f64 {
        self.re as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        Complex32::new(v as f32, 0.0)
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self.re
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        Complex32::new(v, 0.0)
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self.re as i64
    }
    #[inline]
    fn from_i64(v: i64) -> Self {
        Complex32::new(v as f32, 0.0)
    }
    #[inline]
    fn to_u64(self) -> u64 {
        self.re as u64
    }
    #[inline]
    fn from_u64(v: u64) -> Self {
        Complex32::new(v as f32, 0.0)
    }
    #[inline]
    fn is_nonzero(self) -> bool {
        self.re != 0.0 || self.im != 0.0
    }
}

/// Converts one element between any two element types (see the module docs for the rules).
#[inline(always)]
pub fn cast<A: Num, B: Num>(a: A) -> B {
    use DtypeKind as K;
    match (A::DTYPE.kind(), B::DTYPE.kind()) {
        (_, K::Bool) => B::from_u64(a.is_nonzero() as u64),
        (K::Complex, K::Complex) => B::from_scalar(a.to_scalar()),
        (K::Bool | K::Unsigned, _) => B::from_u64(a.to_u64()),
        (K::Signed, _) => B::from_i64(a.to_i64()),
        (K::Float | K::Complex, K::Float | K::Complex) => {
            if A::DTYPE.size() <= 4 && B::DTYPE.size() <= 4 {
                B::from_f32(a.to_f32())
            } else {
                B::from_f64(a.to_f64())
            }
        }
        (K::Float | K::Complex, K::Signed | K::Unsigned) => {
            B::from_u64(crate::float_to_int::float_to_int_bits(
                a.to_f64(),
                B::DTYPE,
                A::DTYPE == crate::Dtype::Float16,
            ))
        }
    }
}
