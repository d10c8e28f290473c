//! The vectorisable erf of the unary op: within 1.4 ulp everywhere, odd, and its special values.

use super::ulp::ulps;
use rill_core::internals::erf_f32;

/// The exact value, from the C library's double-precision erf (within an ulp of float64, far
/// below float32's).
fn exact(x: f32) -> f64 {
    libm::erf(x as f64)
}

#[test]
fn erf_f32_is_within_1_4_ulp_everywhere() {
    // Every 97th float of either sign, from the smallest subnormal up to infinity, then every
    // 2e-6 of [0, 4] and every float of [0.9, 1] (where the near formula rounds most): both
    // formulas, the switch at 1, and the saturation near 3.92.
    let mut worst = (0.0, 0.0f32);
    let mut bits = 1u32;
    while bits < f32::INFINITY.to_bits() {
        for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
            let e = ulps(erf_f32(x), exact(x));
            if e > worst.0 {
                worst = (e, x);
            }
        }
        bits += 97;
    }
    for k in 0..2_000_000 {
        let x = k as f32 * 2e-6;
        let e = ulps(erf_f32(x), exact(x));
        if e > worst.0 {
            worst = (e, x);
        }
    }
    for bits in 0.9f32.to_bits()..1.0f32.to_bits() {
        let x = f32::from_bits(bits);
        let e = ulps(erf_f32(x), exact(x));
        if e > worst.0 {
            worst = (e, x);
        }
    }
    assert!(worst.0 <= 1.4, "{} ulp at x = {}", worst.0, worst.1);
}

#[test]
fn erf_f32_special_values() {
    assert_eq!(erf_f32(0.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(erf_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(erf_f32(f32::INFINITY), 1.0);
    assert_eq!(erf_f32(f32::NEG_INFINITY), -1.0);
    assert_eq!(erf_f32(4.0), 1.0);
    assert_eq!(erf_f32(-100.0), -1.0);
    assert!(erf_f32(f32::NAN).is_nan());
    // Tiny arguments: erf x = 2x / sqrt(pi), subnormals included.
    for x in [1e-30f32, -3e-39, 1e-45] {
        assert!(ulps(erf_f32(x), exact(x)) <= 1.0, "x = {x}");
    }
    // Either side of the switch between the two formulas.
    for x in [0.999_999_9f32, 1.0, 1.000_000_1] {
        assert!(ulps(erf_f32(x), exact(x)) <= 1.0, "x = {x}");
    }
}
