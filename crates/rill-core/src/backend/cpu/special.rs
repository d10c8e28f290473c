//! The inverse error function, written by hand: no small crate provides it.
//!
//! Both precisions use the approximations published in M. Giles, "Approximating the erfinv
//! function", GPU Computing Gems Jade Edition (2011), ch. 10: a polynomial in
//! `w = -ln((1 - x)(1 + x))` (or in `sqrt(w)` for the tails), times `x`. The single precision one
//! (two branches, relative error about 4e-7 in f32) serves f32 and the half types; the double
//! precision one (three branches, relative error about 1e-16 before the final rounding) serves f64.
//! `(1 - x)(1 + x)` is used instead of `1 - x * x` because it keeps full relative precision next
//! to `|x| = 1`, where the tails are.

// The coefficients are kept digit for digit as published, so they can be checked against the
// source; the extra digits are harmless.
#![allow(clippy::excessive_precision)]

/// Horner evaluation of `c[0] * w^(n-1) + ... + c[n-1]`.
macro_rules! horner {
    ($w:expr, $first:expr $(, $c:expr)* $(,)?) => {{
        let w = $w;
        let p = $first;
        $(let p = $c + p * w;)*
        p
    }};
}

/// `erfinv(x)` in f32 (Giles's single precision approximation).
#[inline]
pub fn erfinv_f32(x: f32) -> f32 {
    let ax = x.abs();
    if ax >= 1.0 {
        // ln(0) would give a tail polynomial evaluated at infinity, whose sign is meaningless.
        return if ax == 1.0 {
            f32::INFINITY.copysign(x)
        } else {
            f32::NAN
        };
    }
    let w = -((1.0 - x) * (1.0 + x)).ln();
    let p = if w < 5.0 {
        horner!(
            w - 2.5,
            2.810_226_4e-8_f32,
            3.432_739_4e-7,
            -3.523_387_7e-6,
            -4.391_506_5e-6,
            2.185_808_7e-4,
            -1.253_725e-3,
            -4.177_681_6e-3,
            2.466_407_3e-1,
            1.501_409_4,
        )
    } else {
        horner!(
            w.sqrt() - 3.0,
            -2.002_142_6e-4_f32,
            1.009_505_6e-4,
            1.349_343_2e-3,
            -3.673_428_4e-3,
            5.739_507_7e-3,
            -7.622_461_3e-3,
            9.438_870_5e-3,
            1.001_674_1,
            2.832_976_8,
        )
    };
    p * x
}

/// `erfinv(x)` in f64 (Giles's double precision approximation).
#[inline]
pub fn erfinv_f64(x: f64) -> f64 {
    let ax = x.abs();
    if ax >= 1.0 {
        return if ax == 1.0 {
            f64::INFINITY.copysign(x)
        } else {
            f64::NAN
        };
    }
    let w = -((1.0 - x) * (1.0 + x)).ln();
    let p = if w < 6.25 {
        horner!(
            w - 3.125,
            -3.644_412_064_017_819_7e-21_f64,
            -1.685_059_138_182_016_6e-19,
            1.285_848_071_525_640_1e-18,
            1.115_787_767_802_518_1e-17,
            -1.333_171_662_854_620_9e-16,
            2.097_276_787_596_856_2e-17,
            6.637_638_134_358_323_8e-15,
            -4.054_566_272_975_206_9e-14,
            -8.151_934_197_605_472_2e-14,
            2.633_509_315_308_232_3e-12,
            -1.297_513_325_345_353_2e-11,
            -5.415_412_054_294_628e-11,
            1.051_212_273_321_532_3e-9,
            -4.112_633_980_346_983_7e-9,
            -2.907_036_995_788_200_5e-8,
            4.234_787_782_793_240_4e-7,
            -1.365_469_200_083_467_9e-6,
            -1.388_252_336_278_646_9e-5,
            1.867_342_080_340_571_4e-4,
            -7.407_025_341_662_669_8e-4,
            -6.033_670_871_430_149e-3,
            2.401_581_824_255_896_2e-1,
            1.653_654_562_683_102_7,
        )
    } else if w < 16.0 {
        horner!(
            w.sqrt() - 3.25,
            2.213_737_692_177_578_7e-9_f64,
            9.075_656_193_888_539e-8,
            -2.751_740_629_706_454_5e-7,
            1.823_962_921_438_922_8e-8,
            1.502_740_396_890_982_8e-6,
            -4.013_867_526_981_546e-6,
            2.923_444_908_995_544_6e-6,
            1.247_530_448_167_177_9e-5,
            -4.731_822_900_905_573_4e-5,
            6.828_485_145_957_317_5e-5,
            2.403_111_038_709_789_4e-5,
            -3.550_375_203_628_474_8e-4,
            9.532_893_797_373_805e-4,
            -1.688_275_556_023_504_7e-3,
            2.491_442_096_107_850_8e-3,
            -3.751_208_507_569_241_2e-3,
            5.370_914_553_590_063_6e-3,
            1.005_258_967_694_159_2,
            3.083_885_610_492_220_8,
        )
    } else {
        horner!(
            w.sqrt() - 5.0,
            -2.710_992_061_643_857_3e-11_f64,
            -2.555_641_816_996_525_2e-10,
            1.507_657_269_350_054_8e-9,
            -3.789_465_440_126_737e-9,
            7.615_701_208_078_339e-9,
            -1.496_002_662_714_924e-8,
            2.914_795_345_090_108e-8,
            -6.771_199_775_845_234e-8,
            2.290_048_222_802_665_5e-7,
            -9.929_827_294_231_7e-7,
            4.526_062_597_223_153_7e-6,
            -1.968_177_810_553_167e-5,
            7.599_527_703_001_776e-5,
            -2.150_301_193_004_447_7e-4,
            -1.387_193_183_362_312_2e-4,
            1.010_300_464_864_534_4,
            4.849_906_401_408_584_4,
        )
    };
    p * x
}
