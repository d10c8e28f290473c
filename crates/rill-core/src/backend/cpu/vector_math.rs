//! f32 elementary functions written out instead of called from the C library, so that the loops
//! over them vectorize (a call per element stops the compiler from vectorizing): `exp` for softmax
//! and logsumexp, `tanh` for the unary op (glibc's `tanhf` cost ~35 ns an element, about as much
//! as a 128x128 matmul spread over its 16 384 outputs; this one ~5-9 ns), `ln` for the unary op
//! (glibc's `logf`: 4.7 ms over 4 Mi elements on 2 cores, 3x NumPy's time), `erf` for the unary
//! op and GELU (libm's `erff`: 23.8 ms, 9x PyTorch's). Each is tested for its
//! accuracy over the whole range in `tests/internals/`.

/// `e^x` for f32 without a library call, so that loops over it vectorize (softmax and logsumexp
/// spend most of their time here). Within 2 ulp of the exact value over the whole range,
/// subnormal results included; `exp(-inf) = 0`, `exp(inf) = inf`, `exp(NaN) = NaN`.
///
/// `x = n ln2 + r` with `|r| <= ln2 / 2`, `e^r` by a degree-6 minimax polynomial (Cephes'
/// coefficients), and `2^n` applied in two halves so that neither factor leaves the normal range.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln2 split so that `n * LN2_HI` is exact for the |n| <= 159 used here.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer (SSE2 has no round).
    const ROUND: f32 = 12_582_912.0;
    // Beyond these the result is 0 (below 2^-150) or infinite; clamping keeps `n` small (and
    // turns infinities into ordinary arguments).
    let c = x.clamp(-110.0, 89.0);
    let t = c * LOG2E + ROUND;
    let n = t - ROUND;
    let r = (c - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001e-1, which is 0.5 in f32
    let e = p * r * r + r + 1.0;
    // `n` as an integer: `t`'s low mantissa bits hold it (its exponent is that of 1.5 * 2^23),
    // so the difference of the bit patterns is `n`, exactly. A float-to-int conversion
    // (`n as i32`, which Rust makes saturating) kept the loops around this from vectorizing
    // well: 2.2 ns an element against 1.6 this way, 0.7 with AVX2 (backend/cpu/simd.rs).
    let n = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let (n1, n2) = (n >> 1, n - (n >> 1));
    let scale = |k: i32| f32::from_bits(((k + 127) as u32) << 23);
    let y = e * scale(n1) * scale(n2);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `tanh(x)` for f32 without a library call: within 1.5 ulp over the whole range (glibc's is
/// within 2.2 on the same sweep), odd (the sign of zero kept), `tanh(±inf) = ±1`, NaN stays NaN.
///
/// Below 0.55 in magnitude, the odd Taylor series through `x^17`, whose terms shrink by about
/// `0.4 x^2` each (truncation under 1e-8 relative there); above, `1 - 2 / (e^{2|x|} + 1)` with
/// [`exp_f32`], where the subtraction no longer cancels digits. Both are computed and one is
/// selected, so the loop has no branch; the sign is set last.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    // The series' coefficients, 2^2n (2^2n - 1) B_2n / (2n)!, from x^17 down to x^3.
    let mut p = 5.900_274e-4_f32;
    p = p * z - 1.455_834_4e-3;
    p = p * z + 3.592_128e-3;
    p = p * z - 8.863_236e-3;
    p = p * z + 2.186_949e-2;
    p = p * z - 5.396_825_4e-2;
    p = p * z + 1.333_333_4e-1;
    p = p * z - 3.333_333_4e-1;
    let small = x + x * z * p;
    let big = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
    (if a < 0.55 { small } else { big }).copysign(x)
}

/// `ln(x)` for f32 without a library call, so that loops over it vectorize. Within 1 ulp of the
/// exact value over the whole range, subnormals included (`tests/internals/log.rs`); `ln(±0) =
/// -inf`, `ln(inf) = inf`, NaN for negative arguments and NaN.
///
/// `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`, `ln x = e ln2 + ln(1 + f)` with `f = m - 1`,
/// `ln(1 + f) = f - f^2 / 2 + f^3 P(f)` by Cephes' degree-8 polynomial, and `e ln2` added in two
/// parts (the first exact) last, so that small results keep their digits. Subnormal arguments
/// are scaled by 2^23 first. Every case is computed and selected, so the loop has no branch.
#[inline(always)]
pub fn log_f32(x: f32) -> f32 {
    const SQRT2: f32 = std::f32::consts::SQRT_2;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 8_388_608.0 } else { x };
    let bits = scaled.to_bits();
    // The exponent, and the mantissa as a float in [1, 2); above sqrt(2) it is halved (and the
    // exponent raised), so that `f` stays in [-0.29, 0.41] where the polynomial is accurate.
    let e = ((bits >> 23) & 0xff) as i32 - 127 - if subnormal { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let high = m > SQRT2;
    let m = if high { m * 0.5 } else { m };
    let e = (e + high as i32) as f32;
    let f = m - 1.0;
    let z = f * f;
    let mut p = 7.037_683_6e-2f32;
    p = p * f - 1.151_461_1e-1;
    p = p * f + 1.167_699_9e-1;
    p = p * f - 1.242_014_1e-1;
    p = p * f + 1.424_932_3e-1;
    p = p * f - 1.666_805_8e-1;
    p = p * f + 2.000_071_4e-1;
    p = p * f - 2.499_999_4e-1;
    p = p * f + 3.333_333e-1;
    let mut y = p * f * z;
    y += e * LN2_LO;
    y += -0.5 * z;
    let r = (f + y) + e * LN2_HI;
    let r = if x == f32::INFINITY { x } else { r };
    let r = if x == 0.0 { f32::NEG_INFINITY } else { r };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        r
    }
}

/// The body of [`erf_f32`], expanded where it must be inlined ([`erf_f32_slice`]).
macro_rules! erf_f32_body {
    ($x:expr) => {{
        let x: f32 = $x;
        let a = x.abs();
        let t = a * a;
        let mut p = 7.853_854e-5f32;
        p = p * t - 8.010_191_4e-4;
        p = p * t + 5.188_327_3e-3;
        p = p * t - 2.685_381_1e-2;
        p = p * t + 1.128_358_5e-1;
        p = p * t - 3.761_262_6e-1;
        p = p * t + 1.283_791_7e-1;
        let near = a + a * p;
        // max then min, not `clamp`: NaN becomes 1 here (the result is NaN all the same, below).
        let b = a.max(1.0).min(4.0);
        let s = 1.0 / b;
        let v = (s - 0.625) * (1.0 / 0.375);
        let mut r = -6.818_609_6e-6f32;
        r = r * v + 2.142_988_2e-5;
        r = r * v - 2.608_701_3e-5;
        r = r * v - 3.114_282_7e-5;
        r = r * v + 3.682_257_7e-4;
        r = r * v - 1.542_209_4e-3;
        r = r * v + 3.802_166_3e-3;
        r = r * v - 1.821_666_1e-4;
        r = r * v - 6.434_461_5e-2;
        r = r * v + 4.895_247_8e-1;
        // b^2 = hi + lo exactly: b split into halves of 12 bits whose products are exact.
        let hi = b * b;
        let c = b * 4097.0;
        let bh = c - (c - b);
        let bl = b - bh;
        let lo = ((bh * bh - hi) + 2.0 * bh * bl) + bl * bl;
        // e^{-hi - lo} = e^{-hi} (1 - lo) to far below an ulp (|lo| < 2^-20).
        let e = exp_f32(-hi) * (1.0 - lo);
        let far = 1.0 - e * (r * s);
        let y = if a < 1.0 { near } else { far };
        if x.is_nan() {
            x
        } else {
            y.copysign(x)
        }
    }};
}

/// `erf(x)` for f32 without a library call, so that loops over it vectorize (GELU's exact form is
/// `x (1 + erf(x / sqrt 2)) / 2`). Within 1.4 ulp of the exact value over the whole range (1.33
/// the largest seen, just below 1, where the near formula's sum rounds most;
/// `tests/internals/erf.rs`); odd (the sign of zero kept), `erf(±inf) = ±1`, NaN stays NaN.
///
/// Below 1 in magnitude, `erf a = a + a P(a^2)` (`P` the series' `2/sqrt(pi) - 1 + ...`, fitted
/// by `scripts/fit_erf.py` to within 1.2e-9 on `[0, 1]`; adding `a` last keeps the rounding of
/// the large first term out of the sum). From 1 on, `erf a = 1 - e^{-a^2} R(1/a) / a` with `R`
/// fitted to `erfc(a) e^{a^2} a` on `[1, 4]` (within 4.9e-9) in a variable centred on that
/// range, so its coefficients stay small; `a^2` is split into two floats (Dekker) so that
/// `e^{-a^2}` keeps its digits. Beyond 4 the result rounds to 1. Both are computed and one
/// selected: no branch.
///
/// Contiguous float32 arrays go through [`erf_f32_slice`]: this function is too large for the
/// compiler to inline into the elementwise maps' vector loops (which then call it per element:
/// 28 ms for 4 Mi elements).
#[inline(always)]
pub fn erf_f32(x: f32) -> f32 {
    erf_f32_body!(x)
}

/// `o[i] = erf_f32(src[i])`, with [`erf_f32`]'s body written out in loops compiled for AVX-512,
/// AVX2 + FMA and the baseline, chosen at run time (`simd.rs`): the same operations each way, so
/// the same bits as [`erf_f32`] (Rust never fuses a multiply and an add by itself).
pub fn erf_f32_slice(o: &mut [f32], src: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if super::simd::has_avx512() {
        // SAFETY: the CPU has the AVX-512 subsets, AVX2 and FMA, checked just above.
        return unsafe { erf_slice_avx512(o, src) };
    }
    #[cfg(target_arch = "x86_64")]
    if super::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { erf_slice_avx2(o, src) };
    }
    for (o, &x) in o.iter_mut().zip(src) {
        *o = erf_f32_body!(x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
unsafe fn erf_slice_avx512(o: &mut [f32], src: &[f32]) {
    for (o, &x) in o.iter_mut().zip(src) {
        *o = erf_f32_body!(x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn erf_slice_avx2(o: &mut [f32], src: &[f32]) {
    for (o, &x) in o.iter_mut().zip(src) {
        *o = erf_f32_body!(x);
    }
}
