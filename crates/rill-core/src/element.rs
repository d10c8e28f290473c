//! Rust types that can live in an array, and host scalars.

use crate::Dtype;
use half::{bf16, f16};
use num_complex::Complex32;

/// A Rust type whose values are the elements of an array of dtype `DTYPE`.
///
/// The conversions through `f64`/`i64`/`u64` are for host-side scalar work (fill values, `item`);
/// kernels cast with `as`-style monomorphic loops instead.
pub trait Element: Copy + Send + Sync + PartialEq + std::fmt::Debug + Default + 'static {
    const DTYPE: Dtype;
    fn to_scalar(self) -> Scalar;
    fn from_scalar(s: Scalar) -> Self;
}

/// A host scalar of any kind: a fill value, a Python number, the result of `item`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Complex(f32, f32),
}

impl Scalar {
    pub fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::UInt(u) => u as f64,
            Scalar::Float(f) => f,
            Scalar::Complex(re, _) => re as f64,
        }
    }
    pub fn as_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::UInt(u) => u as i64,
            Scalar::Float(f) => f as i64,
            Scalar::Complex(re, _) => re as i64,
        }
    }
    pub fn as_u64(self) -> u64 {
        match self {
            Scalar::Bool(b) => b as u64,
            Scalar::Int(i) => i as u64,
            Scalar::UInt(u) => u,
            Scalar::Float(f) => f as u64,
            Scalar::Complex(re, _) => re as u64,
        }
    }
    pub fn as_bool(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Int(i) => i != 0,
            Scalar::UInt(u) => u != 0,
            Scalar::Float(f) => f != 0.0,
            Scalar::Complex(re, im) => re != 0.0 || im != 0.0,
        }
    }
    /// The dtype an array made from this scalar alone gets (`mx.array(x)`): the kind's default,
    /// except integers past int32, which take int64, or uint64 past int64 (MLX raises there).
    pub fn lone_dtype(self) -> Dtype {
        match self {
            Scalar::Int(i) => Dtype::for_int_values(i as i128, i as i128),
            Scalar::UInt(u) => Dtype::for_int_values(u as i128, u as i128),
            _ => None,
        }
        .unwrap_or_else(|| self.default_dtype())
    }

    /// Fails with [`crate::Error::Overflow`] when this is an integer that `dtype`, an integer
    /// type, cannot hold (MLX's check: `uint8_array + 300` raises rather than wrapping). Other
    /// scalars and dtypes pass: floats convert as `astype` does.
    pub fn check_fits(self, dtype: Dtype, op: &'static str) -> crate::Result<()> {
        let v: i128 = match self {
            Scalar::Int(i) => i as i128,
            Scalar::UInt(u) => u as i128,
            _ => return Ok(()),
        };
        match dtype.int_range() {
            Some((lo, hi)) if dtype != Dtype::Bool && (v < lo || v > hi) => {
                Err(crate::Error::overflow(
                    op,
                    format!("Converting {v} to {dtype} would result in overflow."),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The dtype MLX gives an array made from this scalar alone.
    pub fn default_dtype(self) -> Dtype {
        match self {
            Scalar::Bool(_) => Dtype::Bool,
            Scalar::Int(_) | Scalar::UInt(_) => Dtype::Int32,
            Scalar::Float(_) => Dtype::Float32,
            Scalar::Complex(..) => Dtype::Complex64,
        }
    }
}

impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::Float(v as f64)
    }
}
impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::Int(v as i64)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl From<u32> for Scalar {
    fn from(v: u32) -> Self {
        Scalar::UInt(v as u64)
    }
}
impl From<u64> for Scalar {
    fn from(v: u64) -> Self {
        Scalar::UInt(v)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

macro_rules! int_element {
    ($t:ty, $d:ident, $variant:ident, $conv:ident) => {
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$d;
            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self as _)
            }
            fn from_scalar(s: Scalar) -> Self {
                // A float becomes an integer by the same rule as `astype` (`-1.0` fills a uint8
                // array with 255, as MLX does), not by Rust's saturating `as`.
                match s {
                    Scalar::Float(f) => {
                        crate::float_to_int::float_to_int_bits(f, Dtype::$d, false) as $t
                    }
                    Scalar::Complex(re, _) => {
                        crate::float_to_int::float_to_int_bits(re as f64, Dtype::$d, false) as $t
                    }
                    _ => s.$conv() as $t,
                }
            }
        }
    };
}
int_element!(u8, Uint8, UInt, as_u64);
int_element!(u16, Uint16, UInt, as_u64);
int_element!(u32, Uint32, UInt, as_u64);
int_element!(u64, Uint64, UInt, as_u64);
int_element!(i8, Int8, Int, as_i64);
int_element!(i16, Int16, Int, as_i64);
int_element!(i32, Int32, Int, as_i64);
int_element!(i64, Int64, Int, as_i64);

impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    fn to_scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    fn from_scalar(s: Scalar) -> Self {
        s.as_bool()
    }
}
impl Element for f32 {
    const DTYPE: Dtype = Dtype::Float32;
    fn to_scalar(self) -> Scalar {
        Scalar::Float(self as f64)
    }
    fn from_scalar(s: Scalar) -> Self {
        s.as_f64() as f32
    }
}
impl Element for f64 {
    const DTYPE: Dtype = Dtype::Float64;
    fn to_scalar(self) -> Scalar {
        Scalar::Float(self)
    }
    fn from_scalar(s: Scalar) -> Self {
        s.as_f64()
    }
}
impl Element for f16 {
    const DTYPE: Dtype = Dtype::Float16;
    fn to_scalar(self) -> Scalar {
        Scalar::Float(self.to_f64())
    }
    fn from_scalar(s: Scalar) -> Self {
        f16::from_f64(s.as_f64())
    }
}
impl Element for bf16 {
    const DTYPE: Dtype = Dtype::Bfloat16;
    fn to_scalar(self) -> Scalar {
        Scalar::Float(self.to_f64())
    }
    fn from_scalar(s: Scalar) -> Self {
        bf16::from_f64(s.as_f64())
    }
}
impl Element for Complex32 {
    const DTYPE: Dtype = Dtype::Complex64;
    fn to_scalar(self) -> Scalar {
        Scalar::Complex(self.re, self.im)
    }
    fn from_scalar(s: Scalar) -> Self {
        match s {
            Scalar::Complex(re, im) => Complex32::new(re, im),
            other => Complex32::new(other.as_f64() as f32, 0.0),
        }
    }
}

/// Runs `$body` with `$T` bound to the Rust type of `$dtype`.
#[macro_export]
macro_rules! dispatch_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::Dtype as __D;
        match $dtype {
            __D::Bool => {
                type $T = bool;
                $body
            }
            __D::Uint8 => {
                type $T = u8;
                $body
            }
            __D::Uint16 => {
                type $T = u16;
                $body
            }
            __D::Uint32 => {
                type $T = u32;
                $body
            }
            __D::Uint64 => {
                type $T = u64;
                $body
            }
            __D::Int8 => {
                type $T = i8;
                $body
            }
            __D::Int16 => {
                type $T = i16;
                $body
            }
            __D::Int32 => {
                type $T = i32;
                $body
            }
            __D::Int64 => {
                type $T = i64;
                $body
            }
            __D::Float16 => {
                type $T = $crate::half::f16;
                $body
            }
            __D::Bfloat16 => {
                type $T = $crate::half::bf16;
                $body
            }
            __D::Float32 => {
                type $T = f32;
                $body
            }
            __D::Float64 => {
                type $T = f64;
                $body
            }
            __D::Complex64 => {
                type $T = $crate::num_complex::Complex32;
                $body
            }
        }
    }};
}
