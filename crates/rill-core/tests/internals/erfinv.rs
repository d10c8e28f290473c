//! erfinv against libm's erf and known values.

use rill_core::internals::{erfinv_f32, erfinv_f64};

/// erfinv(x) inverts erf: erf is libm's (an independent implementation). The bound allows
/// for both functions' rounding (erfinv about 2 ulp, libm's erf up to 1 ulp, compounded by
/// erf's slope): 1e-15 relative; 4e-16 failed at y = -0.128 by 0.4e-17.
#[test]
fn erfinv_inverts_erf() {
    for i in 1..2000 {
        let y = -1.0 + i as f64 / 1000.0;
        let x = erfinv_f64(y);
        let back = libm::erf(x);
        assert!(
            (back - y).abs() <= 1e-15 * y.abs().max(1e-3),
            "erf(erfinv({y})) = {back}"
        );
        let x32 = erfinv_f32(y as f32) as f64;
        assert!(
            (x32 - x).abs() <= 2e-6 * x.abs().max(1e-6) + 1e-7 * (1.0 / (1.0 - y.abs())),
            "{y}: {x32} vs {x}"
        );
    }
}

#[test]
fn erfinv_known_values() {
    // erfinv(0.5) to 17 digits (a published constant: the median of |N(0, 1/2)|).
    assert!((erfinv_f64(0.5) - 0.476_936_276_204_469_9).abs() < 2e-16);
    assert_eq!(erfinv_f64(1.0), f64::INFINITY);
    assert_eq!(erfinv_f64(-1.0), f64::NEG_INFINITY);
    assert!(erfinv_f64(1.5).is_nan());
    assert_eq!(erfinv_f32(-1.0), f32::NEG_INFINITY);
    assert!(erfinv_f32(f32::NAN).is_nan());
    assert_eq!(erfinv_f64(0.0), 0.0);
}
