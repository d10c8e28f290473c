//! The vectorisable exp of softmax and logsumexp: within 2 ulp, and its special values.

use rill_core::internals::exp_f32;

/// Distance in units in the last place between `got` and the correctly rounded `exact`.
fn ulps(got: f32, exact: f64) -> f64 {
    let want = exact as f32;
    if got == want {
        return 0.0;
    }
    let ulp = (f32::from_bits(want.abs().to_bits() + 1) - want.abs()) as f64;
    ((got as f64 - exact) / ulp).abs()
}

#[test]
fn exp_f32_is_within_two_ulp_everywhere() {
    // Every 97th float from -104 to 88.7: normal and subnormal results.
    let (lo, hi) = (-104.0f32, 88.72f32);
    let mut worst = (0.0, 0.0f32);
    let mut x = lo;
    while x < hi {
        let e = ulps(exp_f32(x), (x as f64).exp());
        if e > worst.0 {
            worst = (e, x);
        }
        x = f32::from_bits(if x < 0.0 {
            x.to_bits() - 97
        } else {
            x.to_bits() + 97
        });
        if x == 0.0 || (x < 0.0 && x > -1e-30) {
            x = 1e-30;
        }
    }
    assert!(worst.0 <= 2.0, "{} ulp at x = {}", worst.0, worst.1);
}

#[test]
fn exp_f32_special_values() {
    assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp_f32(-200.0), 0.0);
    assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
    assert_eq!(exp_f32(89.0), f32::INFINITY);
    assert_eq!(exp_f32(0.0), 1.0);
    assert!(exp_f32(f32::NAN).is_nan());
    // The smallest subnormal is reached, not flushed.
    assert!(exp_f32(-103.0) > 0.0 && exp_f32(-103.0) < 1e-44);
}
