//! The arithmetic that reductions, scans and softmax accumulate with, per element type.
//!
//! - [`Acc`]: a type sums and products accumulate in. Integers wrap (as NumPy and MLX do); for
//!   bool, sum is OR and product AND (only `cumprod` of bool stays bool; every other bool sum is
//!   promoted to int32 before it gets here).
//! - [`Accumulate`]: an element type's accumulator: itself, or f32 for float16/bfloat16, so half
//!   precision sums do not lose bits at every step.
//! - [`Extremum`]: max/min with NaN propagation (NumPy's rule: a NaN wins), complex numbers
//!   ordered lexicographically (real part, then imaginary), as MLX.
//! - [`Real`]: the type softmax and logsumexp compute in (f32, f64 or complex64).

use super::num::Num;
use half::{bf16, f16};
use num_complex::Complex32;

pub trait Acc: Num {
    /// False for integers and bool, whose sums do not depend on the order of the additions; for
    /// floats it does, and long float sums are pairwise for accuracy.
    const ROUNDS: bool;
    fn zero() -> Self;
    fn one() -> Self;
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
}

macro_rules! int_acc {
    ($($t:ty),*) => {$(
        impl Acc for $t {
            const ROUNDS: bool = false;
            #[inline(always)] fn zero() -> Self { 0 }
            #[inline(always)] fn one() -> Self { 1 }
            #[inline(always)] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
        }
    )*};
}
int_acc!(u8, u16, u32, u64, i8, i16, i32, i64);

macro_rules! float_acc {
    ($($t:ty),*) => {$(
        impl Acc for $t {
            const ROUNDS: bool = true;
            #[inline(always)] fn zero() -> Self { 0.0 }
            #[inline(always)] fn one() -> Self { 1.0 }
            #[inline(always)] fn add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
        }
    )*};
}
float_acc!(f32, f64);

impl Acc for Complex32 {
    const ROUNDS: bool = true;
    #[inline(always)]
    fn zero() -> Self {
        Complex32::new(0.0, 0.0)
    }
    #[inline(always)]
    fn one() -> Self {
        Complex32::new(1.0, 0.0)
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
}

impl Acc for bool {
    const ROUNDS: bool = false;
    #[inline(always)]
    fn zero() -> Self {
        false
    }
    #[inline(always)]
    fn one() -> Self {
        true
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self & o
    }
}

pub trait Accumulate: Num {
    type A: Acc;
}

macro_rules! accumulate_self {
    ($($t:ty),*) => {$( impl Accumulate for $t { type A = $t; } )*};
}
accumulate_self!(bool, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, Complex32);
impl Accumulate for f16 {
    type A = f32;
}
impl Accumulate for bf16 {
    type A = f32;
}

pub trait Extremum: Num {
    /// The identity of `max` (what an exclusive `cummax` starts from) and of `min`.
    fn lowest() -> Self;
    fn highest() -> Self;
    fn is_nan(self) -> bool;
    /// Strict orderings (false when either side is NaN).
    fn gt(self, o: Self) -> bool;
    fn lt(self, o: Self) -> bool;
    /// `max` and `min` that return a NaN operand.
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
}

macro_rules! int_extremum {
    ($($t:ty),*) => {$(
        impl Extremum for $t {
            #[inline(always)] fn lowest() -> Self { <$t>::MIN }
            #[inline(always)] fn highest() -> Self { <$t>::MAX }
            #[inline(always)] fn is_nan(self) -> bool { false }
            #[inline(always)] fn gt(self, o: Self) -> bool { self > o }
            #[inline(always)] fn lt(self, o: Self) -> bool { self < o }
            #[inline(always)] fn max(self, o: Self) -> Self { if o > self { o } else { self } }
            #[inline(always)] fn min(self, o: Self) -> Self { if o < self { o } else { self } }
        }
    )*};
}
int_extremum!(u8, u16, u32, u64, i8, i16, i32, i64);

macro_rules! float_extremum {
    ($($t:ty),*) => {$(
        impl Extremum for $t {
            #[inline(always)] fn lowest() -> Self { <$t>::NEG_INFINITY }
            #[inline(always)] fn highest() -> Self { <$t>::INFINITY }
            #[inline(always)] fn is_nan(self) -> bool { self.is_nan() }
            #[inline(always)] fn gt(self, o: Self) -> bool { self > o }
            #[inline(always)] fn lt(self, o: Self) -> bool { self < o }
            // `o` replaces `self` when it is larger or NaN; a NaN `self` is never replaced
            // (every comparison with it is false), so NaN sticks.
            #[inline(always)] fn max(self, o: Self) -> Self { if o > self || o.is_nan() { o } else { self } }
            #[inline(always)] fn min(self, o: Self) -> Self { if o < self || o.is_nan() { o } else { self } }
        }
    )*};
}
float_extremum!(f32, f64, f16, bf16);

impl Extremum for bool {
    #[inline(always)]
    fn lowest() -> Self {
        false
    }
    #[inline(always)]
    fn highest() -> Self {
        true
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn gt(self, o: Self) -> bool {
        self & !o
    }
    #[inline(always)]
    fn lt(self, o: Self) -> bool {
        !self & o
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self & o
    }
}

impl Extremum for Complex32 {
    #[inline(always)]
    fn lowest() -> Self {
        Complex32::new(f32::NEG_INFINITY, f32::NEG_INFINITY)
    }
    #[inline(always)]
    fn highest() -> Self {
        Complex32::new(f32::INFINITY, f32::INFINITY)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }
    #[inline(always)]
    fn gt(self, o: Self) -> bool {
        self.re > o.re || (self.re == o.re && self.im > o.im)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> bool {
        self.re < o.re || (self.re == o.re && self.im < o.im)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        if Extremum::is_nan(self) || !(Extremum::is_nan(o) || o.gt(self)) {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        if Extremum::is_nan(self) || !(Extremum::is_nan(o) || o.lt(self)) {
            self
        } else {
            o
        }
    }
}

pub trait Real: Acc + Extremum {
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    /// True when the value's real part is ±infinity or NaN: a softmax/logsumexp max with which
    /// `x - max` cannot be formed (it would give NaN for the max element itself).
    fn is_not_finite(self) -> bool;
}

macro_rules! float_real {
    ($($t:ty => $exp:path),*) => {$(
        impl Real for $t {
            #[inline(always)] fn exp(self) -> Self { $exp(self) }
            #[inline(always)] fn ln(self) -> Self { <$t>::ln(self) }
            #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)] fn div(self, o: Self) -> Self { self / o }
            #[inline(always)] fn is_not_finite(self) -> bool { !self.is_finite() }
        }
    )*};
}
float_real!(f32 => super::vector_math::exp_f32, f64 => f64::exp);

impl Real for Complex32 {
    #[inline(always)]
    fn exp(self) -> Self {
        Complex32::exp(self)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        Complex32::ln(self)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    fn is_not_finite(self) -> bool {
        !self.re.is_finite()
    }
}

/// The type an element type's softmax and logsumexp compute in.
pub trait SoftIn: Num {
    type C: Real;
}
impl SoftIn for f16 {
    type C = f32;
}
impl SoftIn for bf16 {
    type C = f32;
}
impl SoftIn for f32 {
    type C = f32;
}
impl SoftIn for f64 {
    type C = f64;
}
impl SoftIn for Complex32 {
    type C = Complex32;
}
