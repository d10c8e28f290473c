//! Elementwise unary kernels. The builder (`ops::unary`) has already cast the input to the dtype
//! the op computes in and rejected dtypes an op does not accept, so each kernel is one loop over
//! one element type, with the op chosen once outside the loop (each op is its own monomorphized
//! closure through `map1`, so the contiguous f32/f64 loops of the cheap ops vectorize).
//!
//! Semantics are NumPy's: integer `abs`/`negative` wrap (`abs(-128i8) == -128`), the sign of an
//! unsigned integer is 0 or 1, `round` rounds half to even, `sign(NaN)` is NaN. float16 and
//! bfloat16 compute in f32 and round once; complex64 computes in complex f64 and rounds once (the
//! textbook formulas for `arcsin`, `tan` and friends lose digits in f32 through cancellation).

use super::num::Num;
use super::output;
use super::special::{erfinv_f32, erfinv_f64};
use super::strided::{map1, map_unit, par_chunks};
use super::trig_f32::{cos_f32, cos_near, is_near, sin_f32, sin_near, tan_f32, tan_near};
use super::vector_math::{erf_f32, erf_f32_slice, exp_f32, log_f32, tanh_f32};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::UnaryOp;
use crate::shape::numel;
use crate::{dispatch_dtype, Dtype, Error, Result};
use half::{bf16, f16};
use num_complex::{Complex32, Complex64};

pub fn run(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
    // float32 erf of a contiguous array: a loop with `erf_f32` written out in it (through the
    // generic maps below it is called per element, 10x slower); the same values.
    if op == UnaryOp::Erf
        && a.dtype == Dtype::Float32
        && a.shape == out.shape
        && a.data.layout.is_row_contiguous(a.shape)
    {
        let start = a.data.layout.offset;
        let src = &a.data.buffer.as_slice::<f32>()[start..start + numel(a.shape)];
        return output::<f32>(op.name(), out, |o| {
            par_chunks(o, |r, chunk| erf_f32_slice(chunk, &src[r]));
            Ok(())
        });
    }
    match op {
        UnaryOp::IsNan | UnaryOp::IsInf => {
            dispatch_dtype!(a.dtype, T => <T as UnaryKernel>::classify(op, a, out))
        }
        _ => dispatch_dtype!(a.dtype, T => <T as UnaryKernel>::unary(op, a, out)),
    }
}

/// An op the builder should have rejected for this dtype (a bug, reported on the array).
fn unsupported(op: UnaryOp, a: &Input) -> Result<Data> {
    Err(Error::runtime(
        op.name(),
        format!(
            "{} reached the CPU kernel for {}; the op builder should have rejected it",
            op.name(),
            a.dtype
        ),
    ))
}

/// `f` over every element of `a`, into a fresh output of type `O`.
#[inline]
fn apply<A: Num, O: Num>(
    op: UnaryOp,
    a: &Input,
    out: &Output,
    f: impl Fn(A) -> O + Sync + Send,
) -> Result<Data> {
    output::<O>(op.name(), out, |o| {
        map1::<A, O>(a, out.shape, o, f);
        Ok(())
    })
}

/// The unary kernels of one element type.
trait UnaryKernel: Num {
    fn unary(op: UnaryOp, a: &Input, out: &Output) -> Result<Data>;
    /// `isnan` / `isinf`.
    fn classify(op: UnaryOp, a: &Input, out: &Output) -> Result<Data>;
}

macro_rules! int_kernels {
    ($($t:ty),*) => {$(
        impl UnaryKernel for $t {
            // `x < 0` is always false for the unsigned types; one body serves both.
            #[allow(unused_comparisons)]
            fn unary(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
                use UnaryOp::*;
                match op {
                    Abs => apply(op, a, out, |x: $t| if x < 0 { (0 as $t).wrapping_sub(x) } else { x }),
                    Negative => apply(op, a, out, |x: $t| (0 as $t).wrapping_sub(x)),
                    Sign => apply(op, a, out, |x: $t| (x > 0) as $t - ((x < 0) as $t)),
                    Square => apply(op, a, out, |x: $t| x.wrapping_mul(x)),
                    // Integers are already whole.
                    Floor | Ceil | Round | Trunc => apply(op, a, out, |x: $t| x),
                    BitwiseInvert => apply(op, a, out, |x: $t| !x),
                    _ => unsupported(op, a),
                }
            }
            fn classify(op: UnaryOp, _: &Input, out: &Output) -> Result<Data> {
                output::<bool>(op.name(), out, |o| {
                    o.fill(false);
                    Ok(())
                })
            }
        }
    )*};
}
int_kernels!(i8, i16, i32, i64, u8, u16, u32, u64);

impl UnaryKernel for bool {
    fn unary(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
        use UnaryOp::*;
        match op {
            // bool is 0/1: these are the identity.
            Abs | Sign | Square | Floor | Ceil | Round | Trunc => apply(op, a, out, |x: bool| x),
            LogicalNot | BitwiseInvert => apply(op, a, out, |x: bool| !x),
            _ => unsupported(op, a),
        }
    }
    fn classify(op: UnaryOp, _: &Input, out: &Output) -> Result<Data> {
        output::<bool>(op.name(), out, |o| {
            o.fill(false);
            Ok(())
        })
    }
}

/// Real math in the type a float kernel computes in (f32 for f32 and the half types, f64 for f64).
pub(super) trait FloatFns: Copy + Send + Sync + 'static {
    fn load<T: Num>(t: T) -> Self;
    fn store<T: Num>(self) -> T;
    fn is_nan(self) -> bool;
    fn is_inf(self) -> bool;
    fn abs(self) -> Self;
    fn neg(self) -> Self;
    fn sign(self) -> Self;
    fn exp(self) -> Self;
    fn expm1(self) -> Self;
    fn ln(self) -> Self;
    fn ln1p(self) -> Self;
    fn log2(self) -> Self;
    fn log10(self) -> Self;
    fn sqrt(self) -> Self;
    fn rsqrt(self) -> Self;
    fn square(self) -> Self;
    fn recip(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tan(self) -> Self;
    /// `sin`, `cos` and `tan` where [`FloatFns::trig_near`] holds (most arguments), anything
    /// elsewhere: loops over these vectorize; kernels take the exact ones only where needed
    /// ([`WithFloatFn::call_split`]).
    fn sin_near(self) -> Self;
    fn cos_near(self) -> Self;
    fn tan_near(self) -> Self;
    fn trig_near(self) -> bool;
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn tanh(self) -> Self;
    fn asinh(self) -> Self;
    fn acosh(self) -> Self;
    fn atanh(self) -> Self;
    fn trunc(self) -> Self;
    fn sigmoid(self) -> Self;
    fn erf(self) -> Self;
    fn erfinv(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn round(self) -> Self;
}

macro_rules! real {
    (
        $t:ident, $to:ident, $from:ident, $exp:path, $ln:path, $erf:path, $erfinv:path, $tanh:path,
        [$sin:path, $cos:path, $tan:path], [$sin_near:path, $cos_near:path, $tan_near:path, $near:path]
    ) => {
        impl FloatFns for $t {
            #[inline(always)]
            fn load<T: Num>(t: T) -> Self {
                t.$to()
            }
            #[inline(always)]
            fn store<T: Num>(self) -> T {
                T::$from(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline(always)]
            fn is_inf(self) -> bool {
                $t::is_infinite(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn neg(self) -> Self {
                -self
            }
            #[inline(always)]
            fn sign(self) -> Self {
                // 0 for both zeros, NaN for NaN (NumPy).
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else if self.is_nan() {
                    self
                } else {
                    0.0
                }
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn expm1(self) -> Self {
                $t::exp_m1(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn ln1p(self) -> Self {
                $t::ln_1p(self)
            }
            #[inline(always)]
            fn log2(self) -> Self {
                $t::log2(self)
            }
            #[inline(always)]
            fn log10(self) -> Self {
                $t::log10(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn rsqrt(self) -> Self {
                1.0 / $t::sqrt(self)
            }
            #[inline(always)]
            fn square(self) -> Self {
                self * self
            }
            #[inline(always)]
            fn recip(self) -> Self {
                1.0 / self
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $cos(self)
            }
            #[inline(always)]
            fn tan(self) -> Self {
                $tan(self)
            }
            #[inline(always)]
            fn sin_near(self) -> Self {
                $sin_near(self)
            }
            #[inline(always)]
            fn cos_near(self) -> Self {
                $cos_near(self)
            }
            #[inline(always)]
            fn tan_near(self) -> Self {
                $tan_near(self)
            }
            #[inline(always)]
            fn trig_near(self) -> bool {
                $near(self)
            }
            #[inline(always)]
            fn asin(self) -> Self {
                $t::asin(self)
            }
            #[inline(always)]
            fn acos(self) -> Self {
                $t::acos(self)
            }
            #[inline(always)]
            fn atan(self) -> Self {
                $t::atan(self)
            }
            #[inline(always)]
            fn sinh(self) -> Self {
                $t::sinh(self)
            }
            #[inline(always)]
            fn cosh(self) -> Self {
                $t::cosh(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn asinh(self) -> Self {
                // In f64: the f32 formulas lose a few ulp to cancellation near their poles.
                (self as f64).asinh() as $t
            }
            #[inline(always)]
            fn acosh(self) -> Self {
                // In f64: the f32 formulas lose a few ulp to cancellation near their poles.
                (self as f64).acosh() as $t
            }
            #[inline(always)]
            fn atanh(self) -> Self {
                // In f64: the f32 formulas lose a few ulp to cancellation near their poles.
                (self as f64).atanh() as $t
            }
            #[inline(always)]
            fn trunc(self) -> Self {
                $t::trunc(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                // exp of a non-positive number never overflows: 1/(1+e^-x) for x >= 0, and
                // e^x/(1+e^x) for x < 0, both from e = e^-|x|.
                let e = $exp(-$t::abs(self));
                let s = 1.0 / (1.0 + e);
                if self >= 0.0 {
                    s
                } else {
                    e * s
                }
            }
            #[inline(always)]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline(always)]
            fn erfinv(self) -> Self {
                $erfinv(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                $t::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                $t::ceil(self)
            }
            #[inline(always)]
            fn round(self) -> Self {
                $t::round_ties_even(self)
            }
        }
    };
}
// f32's `exp` (and `sigmoid`, built on it) is `vector_math::exp_f32` (within 2 ulp) rather than
// the C library's: a call per element kept the loop from vectorizing, 2.5x slower than NumPy on
// 4 Mi elements (docs/benchmarks.md). `ln`, `erf`, `tanh`, `sin`, `cos` and `tan` likewise.
real!(
    f32,
    to_f32,
    from_f32,
    exp_f32,
    log_f32,
    erf_f32,
    erfinv_f32,
    tanh_f32,
    [sin_f32, cos_f32, tan_f32],
    [sin_near, cos_near, tan_near, is_near]
);
real!(
    f64,
    to_f64,
    from_f64,
    f64::exp,
    f64::ln,
    libm::erf,
    erfinv_f64,
    f64::tanh,
    [f64::sin, f64::cos, f64::tan],
    [f64::sin, f64::cos, f64::tan, everywhere]
);

/// f64's trigonometric functions are the C library's, exact everywhere.
#[inline(always)]
fn everywhere(_: f64) -> bool {
    true
}

/// Something to do with the element function of a float op (`with_float_fn`): one call per op,
/// each with its own function type, so every use is monomorphized and its loop vectorizes.
pub(super) trait WithFloatFn<C: Copy> {
    type Out;
    fn call<F: Fn(C) -> C + Copy + Send + Sync>(self, f: F) -> Self::Out;

    /// `exact`, computed as `fast` wherever `near` holds and as `exact` elsewhere. A kernel whose
    /// loop allows it runs `fast` over everything and `exact` again at the few far arguments
    /// ([`fix_far`]); elsewhere it branches per element ([`near_or_exact`]), with the same results.
    fn call_split<F, G, P>(self, fast: F, exact: G, near: P) -> Self::Out
    where
        F: Fn(C) -> C + Copy + Send + Sync,
        G: Fn(C) -> C + Copy + Send + Sync,
        P: Fn(C) -> bool + Copy + Send + Sync;
}

/// [`WithFloatFn::call_split`]'s function one element at a time, for loops that cannot take two
/// passes (strided inputs, a splat).
#[inline(always)]
pub(super) fn near_or_exact<C: Copy>(
    fast: impl Fn(C) -> C + Copy + Send + Sync,
    exact: impl Fn(C) -> C + Copy + Send + Sync,
    near: impl Fn(C) -> bool + Copy + Send + Sync,
) -> impl Fn(C) -> C + Copy + Send + Sync {
    move |x| if near(x) { fast(x) } else { exact(x) }
}

/// The second pass of [`WithFloatFn::call_split`]: `out[i] = exact(src[i])` where `near(src[i])`
/// fails. The first loop only looks (it vectorizes, and finds nothing in the usual case).
#[inline(always)]
pub(super) fn fix_far<A: Copy, C: Copy>(
    src: &[A],
    out: &mut [A],
    load: impl Fn(A) -> C,
    store: impl Fn(C) -> A,
    exact: impl Fn(C) -> C,
    near: impl Fn(C) -> bool,
) {
    if src.iter().fold(true, |all, &x| all & near(load(x))) {
        return;
    }
    for (o, &x) in out.iter_mut().zip(src) {
        let c = load(x);
        if !near(c) {
            *o = store(exact(c));
        }
    }
}

/// `k.call(f)` with the function `op` computes on values of `C`; None for the ops that are not
/// float functions (logical, bitwise, classifications). The one table of what each float op
/// computes: the unary kernels and the fused kernels (`fused.rs`) both read it, so a fused chain
/// computes exactly what the ops one by one compute.
// Inlined into its callers: the fused kernel's block loop is compiled for AVX2 and AVX-512 too,
// and only code inlined into those copies gets the wider instructions.
#[inline(always)]
pub(super) fn with_float_fn<C: FloatFns, K: WithFloatFn<C>>(op: UnaryOp, k: K) -> Option<K::Out> {
    use UnaryOp::*;
    Some(match op {
        Abs => k.call(C::abs),
        Negative => k.call(C::neg),
        Sign => k.call(C::sign),
        Exp => k.call(C::exp),
        Expm1 => k.call(C::expm1),
        Log => k.call(C::ln),
        Log1p => k.call(C::ln1p),
        Log2 => k.call(C::log2),
        Log10 => k.call(C::log10),
        Sqrt => k.call(C::sqrt),
        Rsqrt => k.call(C::rsqrt),
        Square => k.call(C::square),
        Reciprocal => k.call(C::recip),
        Sin => k.call_split(C::sin_near, C::sin, C::trig_near),
        Cos => k.call_split(C::cos_near, C::cos, C::trig_near),
        Tan => k.call_split(C::tan_near, C::tan, C::trig_near),
        ArcSin => k.call(C::asin),
        ArcCos => k.call(C::acos),
        ArcTan => k.call(C::atan),
        Sinh => k.call(C::sinh),
        Cosh => k.call(C::cosh),
        Tanh => k.call(C::tanh),
        ArcSinh => k.call(C::asinh),
        ArcCosh => k.call(C::acosh),
        ArcTanh => k.call(C::atanh),
        Trunc => k.call(C::trunc),
        Sigmoid => k.call(C::sigmoid),
        Erf => k.call(C::erf),
        ErfInv => k.call(C::erfinv),
        Floor => k.call(C::floor),
        Ceil => k.call(C::ceil),
        Round => k.call(C::round),
        LogicalNot | IsNan | IsInf | BitwiseInvert => return None,
    })
}

/// The kernels of a float type `T` that computes in `C`.
fn float_unary<T: Num, C: FloatFns>(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
    struct Kernel<'a, T> {
        op: UnaryOp,
        a: &'a Input<'a>,
        out: &'a Output<'a>,
        t: std::marker::PhantomData<T>,
    }
    impl<T: Num, C: FloatFns> WithFloatFn<C> for Kernel<'_, T> {
        type Out = Result<Data>;
        fn call<F: Fn(C) -> C + Copy + Send + Sync>(self, f: F) -> Result<Data> {
            apply(self.op, self.a, self.out, move |x: T| {
                C::store::<T>(f(C::load(x)))
            })
        }
        fn call_split<F, G, P>(self, fast: F, exact: G, near: P) -> Result<Data>
        where
            F: Fn(C) -> C + Copy + Send + Sync,
            G: Fn(C) -> C + Copy + Send + Sync,
            P: Fn(C) -> bool + Copy + Send + Sync,
        {
            let (a, out) = (self.a, self.out);
            let layout = &a.data.layout;
            if a.shape != out.shape || !layout.is_row_contiguous(a.shape) {
                // Strided or broadcast: one pass, branching per element.
                return self.call(near_or_exact(fast, exact, near));
            }
            let src: &[T] = &a.data.buffer.as_slice()[layout.offset..];
            output::<T>(self.op.name(), out, |o| {
                par_chunks(o, |range, chunk| {
                    let src = &src[range];
                    map_unit(chunk, src, &move |x: T| C::store::<T>(fast(C::load(x))));
                    fix_far(src, chunk, C::load, C::store::<T>, exact, near);
                });
                Ok(())
            })
        }
    }
    let kernel = Kernel::<T> {
        op,
        a,
        out,
        t: std::marker::PhantomData,
    };
    with_float_fn::<C, _>(op, kernel).unwrap_or_else(|| unsupported(op, a))
}

fn float_classify<T: Num, C: FloatFns>(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
    if op == UnaryOp::IsNan {
        apply(op, a, out, |x: T| C::load(x).is_nan())
    } else {
        apply(op, a, out, |x: T| C::load(x).is_inf())
    }
}

macro_rules! float_kernels {
    ($($t:ty => $c:ty),*) => {$(
        impl UnaryKernel for $t {
            fn unary(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
                float_unary::<$t, $c>(op, a, out)
            }
            fn classify(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
                float_classify::<$t, $c>(op, a, out)
            }
        }
    )*};
}
float_kernels!(f32 => f32, f64 => f64, f16 => f32, bf16 => f32);

/// `e^z - 1` without the cancellation of `exp(z) - 1` for small `z`:
/// `Re = expm1(x) cos(y) - 2 sin^2(y/2)`, `Im = e^x sin(y)`.
fn c_expm1(z: Complex64) -> Complex64 {
    let s = (z.im * 0.5).sin();
    Complex64::new(
        z.re.exp_m1() * z.im.cos() - 2.0 * s * s,
        z.re.exp() * z.im.sin(),
    )
}

/// `ln(1 + z)` without the cancellation of `ln(1 + z)` for small `z`:
/// `|1 + z|^2 = 1 + (2x + x^2 + y^2)`, so `Re = ln1p(2x + x^2 + y^2) / 2`.
fn c_log1p(z: Complex64) -> Complex64 {
    let (x, y) = (z.re, z.im);
    let t = 2.0 * x + x * x + y * y;
    // For large |z| the sum above overflows or loses nothing to ln directly.
    let re = if t.abs() < 0.5 {
        0.5 * t.ln_1p()
    } else {
        (1.0 + x).hypot(y).ln()
    };
    Complex64::new(re, y.atan2(1.0 + x))
}

/// `1 / (1 + e^-z)`, from whichever of `e^-z` and `e^z` cannot overflow.
fn c_sigmoid(z: Complex64) -> Complex64 {
    let one = Complex64::new(1.0, 0.0);
    if z.re >= 0.0 {
        one / (one + (-z).exp())
    } else {
        let e = z.exp();
        e / (one + e)
    }
}

/// `1 / z`, with `1 / 0` an infinity (`inf + nan i`, as NumPy's and C99's division by zero)
/// where the quotient's formula gives NaNs.
fn c_recip(z: Complex64) -> Complex64 {
    if z.re == 0.0 && z.im == 0.0 {
        return Complex64::new(f64::INFINITY.copysign(z.re), f64::NAN);
    }
    Complex64::new(1.0, 0.0) / z
}

/// `tanh z`: past |Re z| = 20 it is `±1` to double precision, where the quotient of `sinh 2z`
/// and `cosh 2z + cos 2y` overflows to NaN (|Re z| > 355); the imaginary part there is
/// `2 sin 2y e^{-2|x|}`.
fn c_tanh(z: Complex64) -> Complex64 {
    let (x, y) = (z.re, z.im);
    if x.abs() > 20.0 {
        let im = 2.0 * (2.0 * y).sin() * (-2.0 * x.abs()).exp();
        return Complex64::new(1f64.copysign(x), if y == 0.0 { y } else { im });
    }
    z.tanh()
}

/// `sinh z` and `cosh z` of a real `z` (`y = ±0`) are real: `sinh(inf) * sin(0)` would make the
/// imaginary part NaN.
fn c_sinh(z: Complex64) -> Complex64 {
    if z.im == 0.0 {
        return Complex64::new(z.re.sinh(), z.im);
    }
    z.sinh()
}

fn c_cosh(z: Complex64) -> Complex64 {
    if z.im == 0.0 {
        return Complex64::new(z.re.cosh(), z.im * z.re.signum());
    }
    z.cosh()
}

/// `z / |z|`, in f64 so that `|z|` neither overflows (past f32's range) nor loses digits
/// (subnormal parts); 0 for 0.
fn c_sign(z: Complex32) -> Complex32 {
    let (x, y) = (z.re as f64, z.im as f64);
    let r = x.hypot(y);
    if r == 0.0 {
        return Complex32::new(0.0, 0.0);
    }
    let (x, y, r) = if r.is_infinite() {
        // inf / inf: the direction of a complex infinity is that of its infinite parts.
        let dir = |v: f64| if v.is_infinite() { v.signum() } else { 0.0 };
        let (x, y) = (dir(x), dir(y));
        (x, y, x.hypot(y))
    } else {
        (x, y, r)
    };
    Complex32::new((x / r) as f32, (y / r) as f32)
}

impl UnaryKernel for Complex32 {
    fn unary(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
        use UnaryOp::*;
        fn wide(z: Complex32) -> Complex64 {
            Complex64::new(z.re as f64, z.im as f64)
        }
        fn narrow(z: Complex64) -> Complex32 {
            Complex32::new(z.re as f32, z.im as f32)
        }
        macro_rules! k {
            ($f:expr) => {
                apply(op, a, out, |z: Complex32| narrow($f(wide(z))))
            };
        }
        match op {
            Abs => apply(op, a, out, |z: Complex32| {
                (z.re as f64).hypot(z.im as f64) as f32
            }),
            Negative => apply(op, a, out, |z: Complex32| -z),
            Sign => apply(op, a, out, c_sign),
            Square => k!(|z: Complex64| z * z),
            Reciprocal => k!(c_recip),
            Exp => k!(Complex64::exp),
            Expm1 => k!(c_expm1),
            Log => k!(Complex64::ln),
            Log1p => k!(c_log1p),
            Log2 => k!(|z: Complex64| z.ln() / std::f64::consts::LN_2),
            Log10 => k!(|z: Complex64| z.ln() / std::f64::consts::LN_10),
            Sqrt => k!(Complex64::sqrt),
            Rsqrt => k!(|z: Complex64| c_recip(z.sqrt())),
            Sin => k!(Complex64::sin),
            Cos => k!(Complex64::cos),
            Tan => k!(Complex64::tan),
            ArcSin => k!(Complex64::asin),
            ArcCos => k!(Complex64::acos),
            ArcTan => k!(Complex64::atan),
            Sinh => k!(c_sinh),
            Cosh => k!(c_cosh),
            Tanh => k!(c_tanh),
            ArcSinh => k!(Complex64::asinh),
            ArcCosh => k!(Complex64::acosh),
            ArcTanh => k!(Complex64::atanh),
            Sigmoid => k!(c_sigmoid),
            Erf | ErfInv | Floor | Ceil | Round | Trunc | LogicalNot | IsNan | IsInf
            | BitwiseInvert => unsupported(op, a),
        }
    }
    fn classify(op: UnaryOp, a: &Input, out: &Output) -> Result<Data> {
        if op == UnaryOp::IsNan {
            apply(op, a, out, |z: Complex32| z.re.is_nan() || z.im.is_nan())
        } else {
            apply(op, a, out, |z: Complex32| {
                z.re.is_infinite() || z.im.is_infinite()
            })
        }
    }
}
