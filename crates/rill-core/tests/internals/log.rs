//! The vectorisable natural log of the unary op: within 1 ulp everywhere and its special values.

use super::ulp::ulps;
use rill_core::internals::log_f32;

#[test]
fn log_f32_is_within_one_ulp_everywhere() {
    // Every 31st positive float, from the smallest subnormal to the largest finite one: the
    // subnormal scaling, both sides of the sqrt(2) switch in every binade, results near zero.
    let mut worst = (0.0, 0.0f32);
    let mut bits = 1u32;
    while bits < f32::INFINITY.to_bits() {
        let x = f32::from_bits(bits);
        let e = ulps(log_f32(x), (x as f64).ln());
        if e > worst.0 {
            worst = (e, x);
        }
        bits += 31;
    }
    assert!(worst.0 <= 1.0, "{} ulp at x = {}", worst.0, worst.1);
}

#[test]
fn log_f32_near_one_and_special_values() {
    // Around 1, where ln x is small and only the polynomial's digits are left.
    for k in -2000..2000 {
        let x = 1.0f32 + k as f32 * 1e-6;
        assert!(ulps(log_f32(x), (x as f64).ln()) <= 1.0, "x = {x}");
    }
    assert_eq!(log_f32(1.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(log_f32(0.0), f32::NEG_INFINITY);
    assert_eq!(log_f32(-0.0), f32::NEG_INFINITY);
    assert_eq!(log_f32(f32::INFINITY), f32::INFINITY);
    assert!(log_f32(-1.0).is_nan());
    assert!(log_f32(f32::NEG_INFINITY).is_nan());
    assert!(log_f32(-1e-40).is_nan());
    assert!(log_f32(f32::NAN).is_nan());
    assert!((log_f32(f32::from_bits(1)) as f64 - (f32::from_bits(1) as f64).ln()).abs() < 1e-5);
    assert_eq!(log_f32(std::f32::consts::E), 1.0);
}
