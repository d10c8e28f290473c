//! Element types and MLX's type promotion.

use std::fmt;

/// The element type of an array. The names (`Display`) are MLX's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dtype {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Float16,
    Bfloat16,
    Float32,
    Float64,
    Complex64,
}

/// The broad family of a dtype, as `mx.issubdtype` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtypeKind {
    Bool,
    Unsigned,
    Signed,
    Float,
    Complex,
}

impl Dtype {
    pub const ALL: [Dtype; 14] = [
        Dtype::Bool,
        Dtype::Uint8,
        Dtype::Uint16,
        Dtype::Uint32,
        Dtype::Uint64,
        Dtype::Int8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Int64,
        Dtype::Float16,
        Dtype::Bfloat16,
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Complex64,
    ];

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::Uint8 | Dtype::Int8 => 1,
            Dtype::Uint16 | Dtype::Int16 | Dtype::Float16 | Dtype::Bfloat16 => 2,
            Dtype::Uint32 | Dtype::Int32 | Dtype::Float32 => 4,
            Dtype::Uint64 | Dtype::Int64 | Dtype::Float64 | Dtype::Complex64 => 8,
        }
    }

    pub const fn kind(self) -> DtypeKind {
        match self {
            Dtype::Bool => DtypeKind::Bool,
            Dtype::Uint8 | Dtype::Uint16 | Dtype::Uint32 | Dtype::Uint64 => DtypeKind::Unsigned,
            Dtype::Int8 | Dtype::Int16 | Dtype::Int32 | Dtype::Int64 => DtypeKind::Signed,
            Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 | Dtype::Float64 => DtypeKind::Float,
            Dtype::Complex64 => DtypeKind::Complex,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::Uint8 => "uint8",
            Dtype::Uint16 => "uint16",
            Dtype::Uint32 => "uint32",
            Dtype::Uint64 => "uint64",
            Dtype::Int8 => "int8",
            Dtype::Int16 => "int16",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::Float16 => "float16",
            Dtype::Bfloat16 => "bfloat16",
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
            Dtype::Complex64 => "complex64",
        }
    }

    /// The smallest and largest value of a bool or integer dtype; None for the others. The one
    /// table of integer limits: overflow checks of scalars and `randint`'s bounds read it.
    pub const fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            Dtype::Bool => (0, 1),
            Dtype::Uint8 => (0, u8::MAX as i128),
            Dtype::Uint16 => (0, u16::MAX as i128),
            Dtype::Uint32 => (0, u32::MAX as i128),
            Dtype::Uint64 => (0, u64::MAX as i128),
            Dtype::Int8 => (i8::MIN as i128, i8::MAX as i128),
            Dtype::Int16 => (i16::MIN as i128, i16::MAX as i128),
            Dtype::Int32 => (i32::MIN as i128, i32::MAX as i128),
            Dtype::Int64 => (i64::MIN as i128, i64::MAX as i128),
            _ => return None,
        })
    }

    /// The dtype an array of integers from `lo` to `hi` gets when none is asked for: int32 when
    /// they fit it (MLX's default), else int64, else uint64 for non-negative ones; None when no
    /// integer dtype holds them all (`[2**63, -1]`).
    pub fn for_int_values(lo: i128, hi: i128) -> Option<Dtype> {
        [Dtype::Int32, Dtype::Int64, Dtype::Uint64]
            .into_iter()
            .find(|d| {
                d.int_range()
                    .is_some_and(|(min, max)| min <= lo && hi <= max)
            })
    }

    pub fn from_name(name: &str) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| d.name() == name)
    }

    pub const fn is_float(self) -> bool {
        matches!(self.kind(), DtypeKind::Float)
    }
    /// Float or complex: the types that `exp`, `sin` and friends produce.
    pub const fn is_inexact(self) -> bool {
        matches!(self.kind(), DtypeKind::Float | DtypeKind::Complex)
    }
    pub const fn is_integer(self) -> bool {
        matches!(self.kind(), DtypeKind::Unsigned | DtypeKind::Signed)
    }
    pub const fn is_signed_integer(self) -> bool {
        matches!(self.kind(), DtypeKind::Signed)
    }
    pub const fn is_unsigned_integer(self) -> bool {
        matches!(self.kind(), DtypeKind::Unsigned)
    }
    pub const fn is_complex(self) -> bool {
        matches!(self.kind(), DtypeKind::Complex)
    }
    pub const fn is_bool(self) -> bool {
        matches!(self, Dtype::Bool)
    }

    /// The float type that an op such as `exp` or `mean` turns this type into (MLX: integers and
    /// bool become float32, inexact types stay).
    /// The limits of a float type (complex64: those of its float32 parts), MLX's `finfo`; None for
    /// integers and bool.
    pub fn finfo(self) -> Option<FloatInfo> {
        let (max, eps, smallest_normal, bits, dtype) = match self {
            Dtype::Float16 => (65504.0, 2f64.powi(-10), 2f64.powi(-14), 16, self),
            Dtype::Bfloat16 => (
                f32::from_bits(0x7f7f_0000) as f64,
                2f64.powi(-7),
                2f64.powi(-126),
                16,
                self,
            ),
            Dtype::Float32 | Dtype::Complex64 => (
                f32::MAX as f64,
                f32::EPSILON as f64,
                f32::MIN_POSITIVE as f64,
                32,
                Dtype::Float32,
            ),
            Dtype::Float64 => (f64::MAX, f64::EPSILON, f64::MIN_POSITIVE, 64, self),
            _ => return None,
        };
        Some(FloatInfo {
            min: -max,
            max,
            eps,
            smallest_normal,
            bits,
            dtype,
        })
    }

    /// Whether this dtype belongs to the array API's dtype kind `kind` ("bool", "signed integer",
    /// "unsigned integer", "integral", "real floating", "complex floating", "numeric"), MLX's
    /// `isdtype`; None for a name that is no kind.
    pub fn is_kind(self, kind: &str) -> Option<bool> {
        Some(match kind {
            "bool" => self.is_bool(),
            "signed integer" => self.is_signed_integer(),
            "unsigned integer" => self.is_unsigned_integer(),
            "integral" => self.is_integer(),
            "real floating" => self.is_float(),
            "complex floating" => self.is_complex(),
            "numeric" => !self.is_bool(),
            _ => return None,
        })
    }

    /// Whether a value of this dtype converts to `to` without loss by MLX's rule (`can_cast`):
    /// promoting the two gives `to`.
    pub fn can_cast(self, to: Dtype) -> bool {
        promote_types(self, to) == to
    }

    pub const fn to_inexact(self) -> Dtype {
        if self.is_inexact() {
            self
        } else {
            Dtype::Float32
        }
    }
}

/// What MLX's `finfo` reports about a float type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatInfo {
    /// The lowest finite value (`-max`).
    pub min: f64,
    /// The largest finite value.
    pub max: f64,
    /// The gap between 1 and the next larger value.
    pub eps: f64,
    /// The smallest positive normal value.
    pub smallest_normal: f64,
    pub bits: u32,
    /// The float type described (float32 for complex64).
    pub dtype: Dtype,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dtype two arrays are promoted to in a binary op, exactly as MLX 0.32 does it (the table was
/// checked against `mx.promote_types` for every pair; see tests/dtype_promotion.rs).
pub fn promote_types(a: Dtype, b: Dtype) -> Dtype {
    use Dtype::*;
    use DtypeKind as K;
    if a == b {
        return a;
    }
    match (a.kind(), b.kind()) {
        (K::Bool, _) => b,
        (_, K::Bool) => a,
        (K::Complex, _) | (_, K::Complex) => Complex64,
        (K::Float, K::Float) => match (a, b) {
            (Float16, Bfloat16) | (Bfloat16, Float16) => Float32,
            _ => {
                if a.size() >= b.size() {
                    a
                } else {
                    b
                }
            }
        },
        (K::Float, _) => a,
        (_, K::Float) => b,
        (K::Unsigned, K::Unsigned) | (K::Signed, K::Signed) => {
            if a.size() >= b.size() {
                a
            } else {
                b
            }
        }
        (K::Unsigned, K::Signed) => mixed_sign(a, b),
        (K::Signed, K::Unsigned) => mixed_sign(b, a),
    }
}

/// Promotion of an unsigned and a signed integer: the smallest signed type that holds both, and
/// float32 when none does (uint64 with any signed type), as MLX.
fn mixed_sign(unsigned: Dtype, signed: Dtype) -> Dtype {
    use Dtype::*;
    if signed.size() > unsigned.size() {
        return signed;
    }
    match unsigned {
        Uint8 => Int16,
        Uint16 => Int32,
        Uint32 => Int64,
        _ => Float32,
    }
}
