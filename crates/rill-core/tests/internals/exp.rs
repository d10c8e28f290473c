//! The vectorisable exp of softmax and logsumexp, portable and AVX-512: within 2 ulp, and their
//! special values.

use super::ulp::ulps;
use rill_core::internals::exp_f32;

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

/// The AVX-512 `exp` of softmax, logsumexp and attention (used for f32 where the CPU has it):
/// within 2 ulp over the same sweep, at every length (the masked tail), with the same special
/// values as the portable one. Skipped, saying so, on a CPU without AVX-512.
#[cfg(target_arch = "x86_64")]
#[test]
fn exp_avx512_is_within_two_ulp_and_agrees_on_special_values() {
    use rill_core::internals::exp_avx512_in_place;
    let mut xs = Vec::new();
    let mut x = -104.0f32;
    while x < 88.72 {
        xs.push(x);
        x = f32::from_bits(if x < 0.0 {
            x.to_bits() - 89
        } else {
            x.to_bits() + 89
        });
        if x == 0.0 || (x < 0.0 && x > -1e-30) {
            x = 1e-30;
        }
    }
    let mut ys = xs.clone();
    if !exp_avx512_in_place(&mut ys) {
        eprintln!("skipped: this CPU has no AVX-512F");
        return;
    }
    let worst = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| (ulps(y, (x as f64).exp()), x))
        .fold((0.0, 0.0f32), |w, e| if e.0 > w.0 { e } else { w });
    assert!(worst.0 <= 2.0, "{} ulp at x = {}", worst.0, worst.1);
    let special = [
        f32::NEG_INFINITY,
        -200.0,
        f32::INFINITY,
        89.0,
        0.0,
        -0.0,
        f32::NAN,
        -103.0,
    ];
    // Every length up to 40 (full vectors, pairs of vectors and masked tails), each element
    // where it would be with the others in place.
    for len in 1..=40 {
        let src: Vec<f32> = (0..len).map(|i| special[i % special.len()]).collect();
        let mut got = src.clone();
        exp_avx512_in_place(&mut got);
        for (&x, &y) in src.iter().zip(&got) {
            let want = exp_f32(x);
            if x.is_nan() {
                assert!(y.is_nan(), "exp(NaN) = {y} at length {len}");
            } else if x == -103.0 {
                assert!(y > 0.0 && y < 1e-44, "exp(-103) = {y}");
            } else {
                assert_eq!(y, want, "exp({x}) at length {len}");
            }
        }
    }
}
