//! The vectorisable tanh of the unary op: within 1.5 ulp everywhere, odd, and its special values.

use super::ulp::ulps;
use rill_core::internals::tanh_f32;

#[test]
fn tanh_f32_is_within_one_and_a_half_ulp_everywhere() {
    // Every 97th float of either sign, from the smallest subnormal up to infinity: the series,
    // the switch at 0.55, the exp formula and the saturation at 1.
    let mut worst = (0.0, 0.0f32);
    let mut bits = 1u32;
    while bits < f32::INFINITY.to_bits() {
        for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
            let e = ulps(tanh_f32(x), (x as f64).tanh());
            if e > worst.0 {
                worst = (e, x);
            }
        }
        bits += 97;
    }
    assert!(worst.0 <= 1.5, "{} ulp at x = {}", worst.0, worst.1);
}

#[test]
fn tanh_f32_special_values() {
    assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(tanh_f32(f32::INFINITY), 1.0);
    assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
    assert_eq!(tanh_f32(f32::MAX), 1.0);
    assert_eq!(tanh_f32(-20.0), -1.0);
    assert!(tanh_f32(f32::NAN).is_nan());
    // Tiny arguments come back unchanged (tanh x = x - x^3/3 + ...), subnormals included.
    assert_eq!(tanh_f32(1e-30), 1e-30);
    assert_eq!(tanh_f32(-1e-40), -1e-40);
    // Either side of the switch between the two formulas.
    for x in [0.549_999_9f32, 0.55, 0.550_000_1] {
        assert!(ulps(tanh_f32(x), (x as f64).tanh()) <= 1.0, "x = {x}");
    }
}
