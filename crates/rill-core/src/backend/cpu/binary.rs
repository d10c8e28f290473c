//! Elementwise binary kernels. The builder (`ops::binary`) has already promoted both inputs to one
//! dtype (the kernel broadcasts them to the output shape) and rejected dtypes an op does not accept, so each
//! kernel is one loop over one element type. Comparisons and logical ops write bool.

use super::num::Num;
use super::output;
use super::strided::map2;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::BinaryOp;
use crate::{dispatch_dtype, Element, Result};
use half::{bf16, f16};
use num_complex::Complex32;

/// Arithmetic with NumPy's semantics per element type: integers wrap, integer division by zero
/// gives 0, `remainder` and `floor_divide` round toward negative infinity, and `maximum`/`minimum`
/// propagate NaN. Ops a type does not support are rejected when the op is built; reaching one here
/// is a bug, reported as an error on the array.
pub trait Arith: Num {
    /// `<` and `<=`; complex numbers compare lexicographically (real, then imaginary), as NumPy.
    fn lt(self, o: Self) -> bool;
    fn le(self, o: Self) -> bool;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn floor_div(self, o: Self) -> Self;
    fn rem(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
    /// How `pow` computes for the exponent `y`; a kernel whose exponent is one broadcast value
    /// asks once and runs a loop for that way alone (which then vectorizes).
    #[inline]
    fn pow_kind(_y: Self) -> PowKind {
        PowKind::General
    }
    /// `self ** y` computed as `kind` says; `kind` must be `Self::pow_kind(y)`. `pow` is
    /// `pow_as(pow_kind(y), y)` for every type, so both give the same bits.
    #[inline]
    fn pow_as(self, _kind: PowKind, y: Self) -> Self {
        self.pow(y)
    }
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
    fn atan2(self, o: Self) -> Self;
    fn logaddexp(self, o: Self) -> Self;
    fn bitand(self, o: Self) -> Self;
    fn bitor(self, o: Self) -> Self;
    fn bitxor(self, o: Self) -> Self;
    fn shl(self, o: Self) -> Self;
    fn shr(self, o: Self) -> Self;
}

fn unsupported(op: &str, t: &str) -> ! {
    panic!("{op} reached the CPU kernel for {t}; the op builder should have rejected it")
}

macro_rules! int_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn lt(self, o: Self) -> bool { self < o }
            #[inline] fn le(self, o: Self) -> bool { self <= o }
            #[inline] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline] fn div(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            #[inline] fn floor_div(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let q = self.wrapping_div(o);
                #[allow(unused_comparisons)]
                // wrapping_rem: `MIN % -1` overflows (and `%` panics on it even in release).
                if (self.wrapping_rem(o) != 0) && ((self < 0) != (o < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[inline] fn rem(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let r = self.wrapping_rem(o);
                #[allow(unused_comparisons)]
                if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
            }
            #[inline] fn pow(self, o: Self) -> Self {
                #[allow(unused_comparisons)]
                if o < 0 {
                    // Integer to a negative power: only 1 and -1 give integers (NumPy raises;
                    // MLX returns 0 for the rest, as we do).
                    return match self as i64 { 1 => 1 as $t, -1 => if (o as i64) % 2 == 0 { 1 as $t } else { self }, _ => 0 as $t };
                }
                let (mut base, mut exp, mut acc) = (self, o as u64, 1 as $t);
                while exp > 0 {
                    if exp & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    exp >>= 1;
                }
                acc
            }
            #[inline] fn max(self, o: Self) -> Self { if self >= o { self } else { o } }
            #[inline] fn min(self, o: Self) -> Self { if self <= o { self } else { o } }
            fn atan2(self, _: Self) -> Self { unsupported("arctan2", stringify!($t)) }
            fn logaddexp(self, _: Self) -> Self { unsupported("logaddexp", stringify!($t)) }
            #[inline] fn bitand(self, o: Self) -> Self { self & o }
            #[inline] fn bitor(self, o: Self) -> Self { self | o }
            #[inline] fn bitxor(self, o: Self) -> Self { self ^ o }
            #[inline] fn shl(self, o: Self) -> Self {
                #[allow(unused_comparisons)]
                if o < 0 || (o as u64) >= <$t>::BITS as u64 { 0 } else { self << o }
            }
            #[inline] fn shr(self, o: Self) -> Self {
                #[allow(unused_comparisons)]
                if o < 0 || (o as u64) >= <$t>::BITS as u64 {
                    #[allow(unused_comparisons)]
                    if self < 0 { !0 } else { 0 }
                } else { self >> o }
            }
        }
    )*};
}
int_arith!(u8, u16, u32, u64, i8, i16, i32, i64);

/// How a float `x ** y` is computed. `powf` (glibc's) is a call per element that no loop
/// vectorizes: a 2048 x 2048 `((m - b) ** 2).sum(-1)` spent 16.7 of its 17.1 ms in it on 2 cores,
/// and `x ** 3` (GELU's tanh form) took 16.6 ms where PyTorch's took 0.34. The exponents users
/// write most are computed directly instead, each at least as accurate as `powf`:
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PowKind {
    /// `y == 2`: `x * x`, correctly rounded.
    Square,
    /// `y == 0.5`: the square root, correctly rounded (`-0` and `-inf` give `+0` and `+inf`, as
    /// `pow` does).
    Root,
    /// A whole `y` with `|y| <= 15`, float32 only: products of `x` in float64 (at most 8
    /// roundings of 2^-53, far below float32's 2^-24; `x ** 0` is 1, NaN included, as `pow`).
    Int(i32),
    /// Anything else: `powf`.
    General,
}

/// Classifies a float exponent; `int` allows `PowKind::Int` (float32).
#[inline]
fn float_pow_kind(y: f64, int: bool) -> PowKind {
    if y == 2.0 {
        PowKind::Square
    } else if y == 0.5 {
        PowKind::Root
    } else if int && y == y.trunc() && y.abs() <= 15.0 {
        PowKind::Int(y as i32)
    } else {
        PowKind::General
    }
}

/// `x ** n` for `|n| <= 15` by products in float64: four square-and-multiply steps whose choices
/// are selects on `n`'s bits, not branches, so a loop over `x` with one `n` vectorizes.
#[inline(always)]
fn powi_f32(x: f32, n: i32) -> f32 {
    let m = n.unsigned_abs();
    let (mut acc, mut base) = (1.0f64, x as f64);
    for bit in 0..4 {
        let t = acc * base;
        acc = if (m >> bit) & 1 == 1 { t } else { acc };
        base *= base;
    }
    (if n < 0 { 1.0 / acc } else { acc }) as f32
}

/// `pow_as` for float32 and float64.
macro_rules! float_pow_as {
    ($x:expr, $kind:expr, $y:expr) => {{
        let (x, y) = ($x, $y);
        match $kind {
            PowKind::Square => x * x,
            PowKind::Root => {
                if x == Self::NEG_INFINITY {
                    Self::INFINITY
                } else {
                    // `+ 0.0` turns the square root of -0 (-0) into pow's +0.
                    x.sqrt() + 0.0
                }
            }
            PowKind::Int(n) => powi_f32(x as f32, n) as Self,
            PowKind::General => x.powf(y),
        }
    }};
}

/// `$int`: whether whole exponents take `PowKind::Int`.
macro_rules! float_arith {
    ($($t:ty: $int:expr),*) => {$(
        impl Arith for $t {
            #[inline] fn lt(self, o: Self) -> bool { self < o }
            #[inline] fn le(self, o: Self) -> bool { self <= o }
            #[inline] fn add(self, o: Self) -> Self { self + o }
            #[inline] fn sub(self, o: Self) -> Self { self - o }
            #[inline] fn mul(self, o: Self) -> Self { self * o }
            #[inline] fn div(self, o: Self) -> Self { self / o }
            /// NumPy's: the floor of the exact quotient, consistent with `rem` (`a == b * q + r`),
            /// not the floor of the rounded quotient (`floor_divide(1, 0.1)` is 9, as `1 - 9 * 0.1`
            /// leaves a positive remainder).
            #[inline] fn floor_div(self, o: Self) -> Self {
                if o == 0.0 { return self / o; }
                let m = self % o;
                let mut d = (self - m) / o;
                if m != 0.0 && ((o < 0.0) != (m < 0.0)) { d -= 1.0; }
                if d == 0.0 { return (0.0 as $t).copysign(self / o); }
                // `d` is a whole number up to the rounding of the division; snap it.
                let f = d.floor();
                if d - f > 0.5 { f + 1.0 } else { f }
            }
            #[inline] fn rem(self, o: Self) -> Self {
                let r = self % o;
                if r != 0.0 && ((r < 0.0) != (o < 0.0)) { r + o } else { r }
            }
            #[inline] fn pow(self, o: Self) -> Self { self.pow_as(Self::pow_kind(o), o) }
            #[inline] fn pow_kind(y: Self) -> PowKind { float_pow_kind(y as f64, $int) }
            #[inline(always)] fn pow_as(self, kind: PowKind, y: Self) -> Self { float_pow_as!(self, kind, y) }
            #[inline] fn max(self, o: Self) -> Self { if self.is_nan() || self >= o { self } else { o } }
            #[inline] fn min(self, o: Self) -> Self { if self.is_nan() || self <= o { self } else { o } }
            #[inline] fn atan2(self, o: Self) -> Self { self.atan2(o) }
            #[inline] fn logaddexp(self, o: Self) -> Self {
                // A NaN operand gives NaN even beside an infinity (which `m` would return).
                if self.is_nan() || o.is_nan() { return self + o; }
                let m = if self > o { self } else { o };
                if m == <$t>::NEG_INFINITY { return m; }
                if m == <$t>::INFINITY { return m; }
                // ln1p: ln(1 + tiny) would round the tiny term away (logaddexp(0, -15) ~ 3e-7).
                m + (-(self - o).abs()).exp().ln_1p()
            }
            fn bitand(self, _: Self) -> Self { unsupported("bitwise_and", stringify!($t)) }
            fn bitor(self, _: Self) -> Self { unsupported("bitwise_or", stringify!($t)) }
            fn bitxor(self, _: Self) -> Self { unsupported("bitwise_xor", stringify!($t)) }
            fn shl(self, _: Self) -> Self { unsupported("left_shift", stringify!($t)) }
            fn shr(self, _: Self) -> Self { unsupported("right_shift", stringify!($t)) }
        }
    )*};
}
// float64 keeps `powf` for whole exponents: products in float64 would round more than it does.
float_arith!(f32: true, f64: false);

// Half types compute in f32 and round once.
macro_rules! half_arith {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline] fn lt(self, o: Self) -> bool { self < o }
            #[inline] fn le(self, o: Self) -> bool { self <= o }
            #[inline] fn add(self, o: Self) -> Self { Self::from_f32(self.to_f32() + o.to_f32()) }
            #[inline] fn sub(self, o: Self) -> Self { Self::from_f32(self.to_f32() - o.to_f32()) }
            #[inline] fn mul(self, o: Self) -> Self { Self::from_f32(self.to_f32() * o.to_f32()) }
            #[inline] fn div(self, o: Self) -> Self { Self::from_f32(self.to_f32() / o.to_f32()) }
            #[inline] fn floor_div(self, o: Self) -> Self { Self::from_f32(self.to_f32().floor_div(o.to_f32())) }
            #[inline] fn rem(self, o: Self) -> Self { Self::from_f32(Arith::rem(self.to_f32(), o.to_f32())) }
            #[inline] fn pow(self, o: Self) -> Self { Self::from_f32(Arith::pow(self.to_f32(), o.to_f32())) }
            #[inline] fn max(self, o: Self) -> Self { Self::from_f32(Arith::max(self.to_f32(), o.to_f32())) }
            #[inline] fn min(self, o: Self) -> Self { Self::from_f32(Arith::min(self.to_f32(), o.to_f32())) }
            #[inline] fn atan2(self, o: Self) -> Self { Self::from_f32(self.to_f32().atan2(o.to_f32())) }
            #[inline] fn logaddexp(self, o: Self) -> Self { Self::from_f32(self.to_f32().logaddexp(o.to_f32())) }
            fn bitand(self, _: Self) -> Self { unsupported("bitwise_and", stringify!($t)) }
            fn bitor(self, _: Self) -> Self { unsupported("bitwise_or", stringify!($t)) }
            fn bitxor(self, _: Self) -> Self { unsupported("bitwise_xor", stringify!($t)) }
            fn shl(self, _: Self) -> Self { unsupported("left_shift", stringify!($t)) }
            fn shr(self, _: Self) -> Self { unsupported("right_shift", stringify!($t)) }
        }
    )*};
}
half_arith!(f16, bf16);

impl Arith for bool {
    #[inline]
    fn lt(self, o: Self) -> bool {
        !self & o
    }
    #[inline]
    fn le(self, o: Self) -> bool {
        self <= o
    }
    #[inline]
    fn add(self, o: Self) -> Self {
        self | o
    }
    #[inline]
    fn sub(self, o: Self) -> Self {
        self ^ o
    }
    #[inline]
    fn mul(self, o: Self) -> Self {
        self & o
    }
    fn div(self, _: Self) -> Self {
        unsupported("divide", "bool")
    }
    fn floor_div(self, _: Self) -> Self {
        unsupported("floor_divide", "bool")
    }
    fn rem(self, _: Self) -> Self {
        unsupported("remainder", "bool")
    }
    fn pow(self, _: Self) -> Self {
        unsupported("power", "bool")
    }
    #[inline]
    fn max(self, o: Self) -> Self {
        self | o
    }
    #[inline]
    fn min(self, o: Self) -> Self {
        self & o
    }
    fn atan2(self, _: Self) -> Self {
        unsupported("arctan2", "bool")
    }
    fn logaddexp(self, _: Self) -> Self {
        unsupported("logaddexp", "bool")
    }
    #[inline]
    fn bitand(self, o: Self) -> Self {
        self & o
    }
    #[inline]
    fn bitor(self, o: Self) -> Self {
        self | o
    }
    #[inline]
    fn bitxor(self, o: Self) -> Self {
        self ^ o
    }
    fn shl(self, _: Self) -> Self {
        unsupported("left_shift", "bool")
    }
    fn shr(self, _: Self) -> Self {
        unsupported("right_shift", "bool")
    }
}

impl Arith for Complex32 {
    #[inline]
    fn lt(self, o: Self) -> bool {
        self.re < o.re || (self.re == o.re && self.im < o.im)
    }
    #[inline]
    fn le(self, o: Self) -> bool {
        self.re < o.re || (self.re == o.re && self.im <= o.im)
    }
    #[inline]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline]
    fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline]
    fn div(self, o: Self) -> Self {
        if o.re == 0.0 && o.im == 0.0 && !(self.re.is_nan() && self.im.is_nan()) {
            // By zero: an infinity in each part that is not zero (C99 Annex G, NumPy, MLX),
            // where the quotient's formula would give NaNs.
            let inf = f32::INFINITY.copysign(o.re);
            return Complex32::new(inf * self.re, inf * self.im);
        }
        self / o
    }
    fn floor_div(self, _: Self) -> Self {
        unsupported("floor_divide", "complex64")
    }
    fn rem(self, _: Self) -> Self {
        unsupported("remainder", "complex64")
    }
    #[inline]
    fn pow(self, o: Self) -> Self {
        if o == Complex32::new(0.0, 0.0) {
            Complex32::new(1.0, 0.0)
        } else if self == Complex32::new(0.0, 0.0) {
            self
        } else {
            self.powc(o)
        }
    }
    /// Lexicographic, as the comparisons; a NaN in either part of either input wins (MLX).
    #[inline]
    fn max(self, o: Self) -> Self {
        if self.is_nan() || (!o.is_nan() && o.le(self)) {
            self
        } else {
            o
        }
    }
    #[inline]
    fn min(self, o: Self) -> Self {
        if self.is_nan() || (!o.is_nan() && self.le(o)) {
            self
        } else {
            o
        }
    }
    fn atan2(self, _: Self) -> Self {
        unsupported("arctan2", "complex64")
    }
    fn logaddexp(self, _: Self) -> Self {
        unsupported("logaddexp", "complex64")
    }
    fn bitand(self, _: Self) -> Self {
        unsupported("bitwise_and", "complex64")
    }
    fn bitor(self, _: Self) -> Self {
        unsupported("bitwise_or", "complex64")
    }
    fn bitxor(self, _: Self) -> Self {
        unsupported("bitwise_xor", "complex64")
    }
    fn shl(self, _: Self) -> Self {
        unsupported("left_shift", "complex64")
    }
    fn shr(self, _: Self) -> Self {
        unsupported("right_shift", "complex64")
    }
}

/// The value of a one-element input (a broadcast scalar), which every output element reads.
fn splat<T: Element>(x: &Input) -> Option<T> {
    (crate::shape::numel(x.shape) == 1).then(|| x.data.buffer.as_slice::<T>()[x.data.layout.offset])
}

pub fn run(op: BinaryOp, a: &Input, b: &Input, out: &Output) -> Result<Data> {
    dispatch_dtype!(a.dtype, T => typed::<T>(op, a, b, out))
}

fn typed<T: Arith>(op: BinaryOp, a: &Input, b: &Input, out: &Output) -> Result<Data> {
    use BinaryOp::*;
    let name = op.name();
    macro_rules! same {
        ($f:expr) => {
            output::<T>(name, out, |o| {
                map2::<T, T, T>(a, b, out.shape, o, $f);
                Ok(())
            })
        };
    }
    macro_rules! test {
        ($f:expr) => {
            output::<bool>(name, out, |o| {
                map2::<T, T, bool>(a, b, out.shape, o, $f);
                Ok(())
            })
        };
    }
    match op {
        Add => same!(T::add),
        Subtract => same!(T::sub),
        Multiply => same!(T::mul),
        Divide => same!(T::div),
        FloorDivide => same!(T::floor_div),
        Remainder => same!(T::rem),
        Power => match splat::<T>(b).map(T::pow_kind) {
            // One exponent for all: a loop for its way alone (`PowKind`).
            Some(PowKind::Square) => same!(|x: T, y: T| x.pow_as(PowKind::Square, y)),
            Some(PowKind::Root) => same!(|x: T, y: T| x.pow_as(PowKind::Root, y)),
            Some(PowKind::Int(n)) => same!(move |x: T, y: T| x.pow_as(PowKind::Int(n), y)),
            _ => same!(T::pow),
        },
        Maximum => same!(T::max),
        Minimum => same!(T::min),
        ArcTan2 => same!(T::atan2),
        LogAddExp => same!(T::logaddexp),
        BitwiseAnd => same!(T::bitand),
        BitwiseOr => same!(T::bitor),
        BitwiseXor => same!(T::bitxor),
        LeftShift => same!(T::shl),
        RightShift => same!(T::shr),
        Equal => test!(|x: T, y: T| x == y),
        NotEqual => test!(|x: T, y: T| x != y),
        Less => test!(|x: T, y: T| x.lt(y)),
        LessEqual => test!(|x: T, y: T| x.le(y)),
        Greater => test!(|x: T, y: T| y.lt(x)),
        GreaterEqual => test!(|x: T, y: T| y.le(x)),
        LogicalAnd => test!(|x: T, y: T| x.is_nonzero() && y.is_nonzero()),
        LogicalOr => test!(|x: T, y: T| x.is_nonzero() || y.is_nonzero()),
    }
}
