//! `sin`, `cos` and `tan` of f32 without a library call, so that the loops over them vectorize
//! (glibc's `sinf` per element cost ~4 ns, 8x NumPy's vectorized loop on 4 Mi elements), with an
//! argument reduction that is exact for every f32, the largest included (1e38 is ~6e37 periods
//! away from 0: a reduction by a rounded π returns noise there).
//!
//! Two reductions, each exact where it is used, and the same polynomials after them:
//! - [`sin_near`] and its siblings, for `|x| <` [`NEAR`] (the arguments users have): `k = round(x
//!   2/π)` and `x - k π/2` in f64 with π/2 in three parts of 33, 33 and 53 bits (Cody and Waite),
//!   the first two products exact for `k < 2^20`.
//! - [`sin_f32`] and its siblings, for every f32. An f32 is `m · 2^e` with an integer `m < 2^24`,
//!   so `x · 2/π (mod 4)` is `m · c(e) (mod 4)` with `c(e) = 2^e · 2/π (mod 4)`. [`REDUCTION`]
//!   holds `c(e)` for each of the 256 exponent fields in three f64 parts of 29, 29 and 53 bits
//!   of 2/π (Payne and Hanek's idea, tabulated): `m` times either of the first two is exact, so
//!   the quadrant and the fraction come out without a rounding error the fraction could not
//!   afford, and the third adds the digits below (2^-85 absolute for the largest `m`). Its table
//!   lookup is a gather per element, ~2x the cost of the near path, so kernels run the near path
//!   over everything and this one again only where an argument is far (`unary::fix_far`).
//!
//! Why by hand: the crates that reduce huge arguments (libm, sleef's ports) branch to that path
//! per element, which keeps the loop scalar. The fraction `r` in [-1/2, 1/2] quadrants goes
//! through `sin` and `cos` polynomials in f64 (the Taylor series to `y^11` and `y^12` on `|y| <=
//! π/4`: truncation below 2e-11 relative) and the quadrant picks one and its sign. The f64 result
//! rounds once to f32, so the result is the correctly rounded value or, rarely, its neighbour
//! (within 0.501 ulp; `tests/internals/trig.rs` checks them against glibc's f64 functions, which
//! reduce exactly).

/// The first 256 bits of 2/π (its fraction: 2/π = 0.A2F9836E... in hexadecimal).
const TWO_OVER_PI: [u32; 8] = [
    0xA2F9_836E,
    0x4E44_1529,
    0xFC27_57D1,
    0xF534_DDC0,
    0xDB62_9599,
    0x3C43_9041,
    0xFE51_63AB,
    0xDEBB_C561,
];

/// Bits `start..start + count` of 2/π's fraction (bit 1 is worth 1/2) as an integer.
const fn bits(start: usize, count: usize) -> u64 {
    let mut v = 0u64;
    let mut i = start;
    while i < start + count {
        let word = TWO_OVER_PI[(i - 1) / 32];
        v = (v << 1) | ((word >> (31 - (i - 1) % 32)) & 1) as u64;
        i += 1;
    }
    v
}

/// 2^k for the normal range of f64.
const fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `c(e) = 2^e · 2/π (mod 4)` for the f32 exponent field `f` (`x = m · 2^e`, `e = max(f, 1) - 150`)
/// as three parts; see the module's comment.
static REDUCTION: [[f64; 3]; 256] = reduction_table();

const fn reduction_table() -> [[f64; 3]; 256] {
    let mut t = [[0.0; 3]; 256];
    let mut f = 0;
    while f < 256 {
        let e = if f == 0 { 1 } else { f as i32 } - 150;
        // Bit i of 2/π is worth 2^(e - i) in 2^e · 2/π; the bits worth 4 or more are whole
        // multiples of 4 (dropped), so the first kept is worth 2 (or bit 1, for small e).
        let first = if e - 1 > 1 { e - 1 } else { 1 };
        let i0 = first as usize;
        t[f][0] = bits(i0, 29) as f64 * pow2(e - first - 28);
        t[f][1] = bits(i0 + 29, 29) as f64 * pow2(e - first - 57);
        t[f][2] = bits(i0 + 58, 53) as f64 * pow2(e - first - 110);
        f += 1;
    }
    t
}

/// Adding and subtracting 1.5 * 2^52 rounds an f64 below 2^51 to an integer (SSE2 has no rounding
/// instruction), and leaves that integer in the sum's low mantissa bits (the quadrant: its last two).
const ROUND: f64 = 6_755_399_441_055_744.0;

/// `|x|` reduced: `(y, q)` with `|x| = (q + 4j) π/2 + y` for some integer `j`, `|y| <= π/4`
/// (to within 2^-50), and `y` accurate to about 2^-52 of itself.
#[inline(always)]
fn reduce(x: f32) -> (f64, u32) {
    const PI_2: f64 = std::f64::consts::FRAC_PI_2;
    let b = x.to_bits() & 0x7fff_ffff;
    let field = b >> 23;
    // The implicit leading bit, except for subnormals (field 0), whose exponent is field 1's.
    let m = ((b & 0x007f_ffff) | (((field != 0) as u32) << 23)) as i32 as f64;
    let c = &REDUCTION[field as usize];
    // Exact: 24-bit by 29-bit products, and the whole multiples of 4 taken off a value that
    // keeps its last bit.
    let p1 = m * c[0];
    let f = p1 - 4.0 * ((p1 * 0.25 + ROUND) - ROUND);
    let p2 = m * c[1];
    let rounded = (f + p2) + ROUND;
    let k = rounded - ROUND;
    // Exact too: `f` and `k` share `f`'s last bit and the difference is below 1.
    let r = ((f - k) + p2) + m * c[2];
    (r * PI_2, rounded.to_bits() as u32 & 3)
}

/// Below this magnitude the near path is exact: `k = round(|x| 2/π) < 2^20`, so `k` times each of
/// π/2's first two parts (33 bits each) is exact in f64.
pub const NEAR: f32 = 1_048_576.0;

/// Whether the near path serves `x` (false for infinities and NaN too).
#[inline(always)]
pub fn is_near(x: f32) -> bool {
    x.abs() < NEAR
}

/// `|x|` reduced as [`reduce`] does, for `|x| <` [`NEAR`] only.
#[inline(always)]
fn reduce_near(x: f32) -> (f64, u32) {
    // π/2 = PI_2_A + PI_2_B + PI_2_C, the first two of 33 significant bits.
    const PI_2_A: f64 = 1.570_796_326_734_125_6;
    const PI_2_B: f64 = 6.077_100_506_303_966e-11;
    const PI_2_C: f64 = 2.022_266_248_795_950_6e-21;
    let a = (x as f64).abs();
    let rounded = a * std::f64::consts::FRAC_2_PI + ROUND;
    let k = rounded - ROUND;
    let y = ((a - k * PI_2_A) - k * PI_2_B) - k * PI_2_C;
    (y, rounded.to_bits() as u32 & 3)
}

/// `sin y` and `cos y` for `|y| <= π/4` in f64: the Taylor series (coefficients ±1/n!) to `y^11`
/// and `y^12`, whose next terms are below 2e-11 and 1e-12 of the result there.
#[inline(always)]
fn sin_cos_poly(y: f64) -> (f64, f64) {
    let z = y * y;
    let mut s = -1.0 / 39_916_800.0;
    s = s * z + 1.0 / 362_880.0;
    s = s * z - 1.0 / 5_040.0;
    s = s * z + 1.0 / 120.0;
    s = s * z - 1.0 / 6.0;
    let sin = y + y * z * s;
    let mut c = 1.0 / 479_001_600.0;
    c = c * z - 1.0 / 3_628_800.0;
    c = c * z + 1.0 / 40_320.0;
    c = c * z - 1.0 / 720.0;
    c = c * z + 1.0 / 24.0;
    c = c * z - 0.5;
    let cos = 1.0 + z * c;
    (sin, cos)
}

/// `v` as f32 with its sign flipped where `flip`.
#[inline(always)]
fn signed(v: f64, flip: bool) -> f32 {
    f32::from_bits((v as f32).to_bits() ^ ((flip as u32) << 31))
}

/// `sin x` from `x`'s reduction `(y, q)`: sin(qπ/2 + y) = sin y, cos y, -sin y, -cos y; odd.
#[inline(always)]
fn sin_of(x: f32, (y, q): (f64, u32)) -> f32 {
    let (s, c) = sin_cos_poly(y);
    signed(
        if q & 1 == 0 { s } else { c },
        (q & 2 != 0) ^ x.is_sign_negative(),
    )
}

/// `cos x` from `x`'s reduction: cos(qπ/2 + y) = cos y, -sin y, -cos y, sin y; even.
#[inline(always)]
fn cos_of((y, q): (f64, u32)) -> f32 {
    let (s, c) = sin_cos_poly(y);
    signed(if q & 1 == 0 { c } else { s }, q == 1 || q == 2)
}

/// `tan x` from `x`'s reduction: tan y for even q, -cot y for odd q; odd. (No f32 lies close
/// enough to an odd multiple of π/2 for the result to overflow.)
#[inline(always)]
fn tan_of(x: f32, (y, q): (f64, u32)) -> f32 {
    let (s, c) = sin_cos_poly(y);
    signed(
        if q & 1 == 0 { s / c } else { -c / s },
        x.is_sign_negative(),
    )
}

/// NaN for infinities and NaN, `v` otherwise.
#[inline(always)]
fn finite_or_nan(x: f32, v: f32) -> f32 {
    if x.is_finite() {
        v
    } else {
        f32::NAN
    }
}

/// `sin(x)` for every f32, within 0.501 ulp of the exact value (almost always correctly rounded),
/// the sign of zero kept; NaN for infinities and NaN.
#[inline(always)]
pub fn sin_f32(x: f32) -> f32 {
    finite_or_nan(x, sin_of(x, reduce(x)))
}

/// `cos(x)` for every f32, within 0.501 ulp; NaN for infinities and NaN.
#[inline(always)]
pub fn cos_f32(x: f32) -> f32 {
    finite_or_nan(x, cos_of(reduce(x)))
}

/// `tan(x)` for every f32, within 0.501 ulp; NaN for infinities and NaN.
#[inline(always)]
pub fn tan_f32(x: f32) -> f32 {
    finite_or_nan(x, tan_of(x, reduce(x)))
}

/// `sin(x)` for `|x| <` [`NEAR`], as accurate as [`sin_f32`] (not always the same bits); anything
/// elsewhere.
#[inline(always)]
pub fn sin_near(x: f32) -> f32 {
    sin_of(x, reduce_near(x))
}

/// `cos(x)` for `|x| <` [`NEAR`], as accurate as [`cos_f32`] (not always the same bits); anything
/// elsewhere.
#[inline(always)]
pub fn cos_near(x: f32) -> f32 {
    cos_of(reduce_near(x))
}

/// `tan(x)` for `|x| <` [`NEAR`], as accurate as [`tan_f32`] (not always the same bits); anything
/// elsewhere.
#[inline(always)]
pub fn tan_near(x: f32) -> f32 {
    tan_of(x, reduce_near(x))
}
