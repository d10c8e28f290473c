//! The vectorisable sin, cos and tan of f32 (`backend/cpu/trig_f32.rs`) against glibc's f64
//! functions (which reduce huge arguments exactly): within half an ulp and a hair everywhere,
//! correctly rounded almost everywhere, and their special values.

use super::ulp::ulps;
use rill_core::internals::{
    cos_f32, cos_near, is_near, sin_f32, sin_near, tan_f32, tan_near, NEAR,
};

type Pair = (fn(f32) -> f32, fn(f64) -> f64, &'static str);
const FUNCTIONS: [Pair; 3] = [
    (sin_f32, f64::sin, "sin"),
    (cos_f32, f64::cos, "cos"),
    (tan_f32, f64::tan, "tan"),
];
/// The near path's functions, for `|x| < NEAR` only.
const NEAR_FUNCTIONS: [Pair; 3] = [
    (sin_near, f64::sin, "sin_near"),
    (cos_near, f64::cos, "cos_near"),
    (tan_near, f64::tan, "tan_near"),
];

/// The worst error in ulp, where it is, and how many results were not the correctly rounded one,
/// over the floats whose bit patterns are `start, start + step, ...` below infinity, either sign.
fn sweep(f: fn(f32) -> f32, exact: fn(f64) -> f64, start: u32, step: u32) -> (f64, f32, u64, u64) {
    sweep_below(f, exact, start, step, f32::INFINITY)
}

/// [`sweep`] over the floats below `end` in magnitude.
fn sweep_below(
    f: fn(f32) -> f32,
    exact: fn(f64) -> f64,
    start: u32,
    step: u32,
    end: f32,
) -> (f64, f32, u64, u64) {
    let (mut worst, mut at, mut off, mut n) = (0.0, 0.0f32, 0u64, 0u64);
    let mut bits = start;
    while bits < end.to_bits() {
        for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
            let e = exact(x as f64);
            let got = f(x);
            let u = ulps(got, e);
            if u > worst {
                (worst, at) = (u, x);
            }
            off += (got != e as f32) as u64;
            n += 1;
        }
        bits = match bits.checked_add(step) {
            Some(b) => b,
            None => break,
        };
    }
    (worst, at, off, n)
}

#[test]
fn sin_cos_tan_are_within_half_an_ulp_and_a_hair() {
    // Every 97th float of either sign, from the smallest subnormal to the largest finite one:
    // every exponent, so every row of the reduction table, tiny arguments and 1e38 alike.
    for (f, exact, name) in FUNCTIONS {
        let (worst, at, off, n) = sweep(f, exact, 1, 97);
        assert!(worst <= 0.501, "{name}: {worst} ulp at x = {x:e}", x = at);
        // Not correctly rounded only where the exact value lies within ~1e-9 ulp of a midpoint.
        assert!(
            off * 100_000 < n,
            "{name}: {off} of {n} not correctly rounded"
        );
    }
}

#[test]
fn the_near_path_is_as_accurate_below_its_bound() {
    // Every 31st float below NEAR (2^20), either sign.
    for (f, exact, name) in NEAR_FUNCTIONS {
        let (worst, at, off, n) = sweep_below(f, exact, 1, 31, NEAR);
        assert!(worst <= 0.501, "{name}: {worst} ulp at x = {x:e}", x = at);
        assert!(
            off * 100_000 < n,
            "{name}: {off} of {n} not correctly rounded"
        );
    }
    assert!(
        is_near(-1_048_575.9) && !is_near(NEAR) && !is_near(f32::NAN) && !is_near(f32::INFINITY)
    );
}

#[test]
fn near_multiples_of_half_pi_keep_their_digits() {
    // The floats nearest k π/2, where the reduction cancels the most digits: the result is the
    // small remainder itself (sin, and cos near odd multiples), or its reciprocal (tan).
    for k in 1..2000u32 {
        let t = k as f64 * std::f64::consts::FRAC_PI_2;
        let near = t as f32;
        for x in [
            near,
            f32::from_bits(near.to_bits() + 1),
            f32::from_bits(near.to_bits() - 1),
        ] {
            for (f, exact, name) in FUNCTIONS.into_iter().chain(NEAR_FUNCTIONS) {
                let u = ulps(f(x), exact(x as f64));
                assert!(u <= 0.501, "{name}({x:e}) = {} off by {u} ulp", f(x));
            }
        }
    }
}

#[test]
fn special_values() {
    for (f, _, name) in FUNCTIONS {
        for x in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            assert!(f(x).is_nan(), "{name}({x})");
        }
    }
    // Odd functions keep the sign of zero; cos is even.
    assert_eq!(sin_f32(0.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(sin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(tan_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(cos_f32(0.0), 1.0);
    assert_eq!(cos_f32(-0.0), 1.0);
    for x in [0.5f32, 3.0, 1e5, 1e20, f32::MAX] {
        assert_eq!(sin_f32(-x), -sin_f32(x));
        assert_eq!(tan_f32(-x), -tan_f32(x));
        assert_eq!(cos_f32(-x), cos_f32(x));
    }
    // sin x = tan x = x for tiny x, subnormals included.
    for x in [1e-30f32, -1e-40, f32::from_bits(1), f32::MIN_POSITIVE] {
        assert_eq!(sin_f32(x), x);
        assert_eq!(tan_f32(x), x);
        assert_eq!(cos_f32(x), 1.0);
    }
    // The largest floats, whose reduction needs 2/π's digits far past the point.
    for x in [f32::MAX, 1e38, 3.0e37, 1.6e30] {
        for (f, exact, name) in FUNCTIONS {
            let u = ulps(f(x), exact(x as f64));
            assert!(u <= 0.501, "{name}({x:e}) = {} off by {u} ulp", f(x));
        }
    }
}

/// Every f32 (four billion, both signs), on every core: `cargo test --release -p rill-core
/// --test internals trig_every_f32 -- --ignored --nocapture` (about a minute per function on 16
/// cores). The sampled sweep above is what CI runs.
#[test]
#[ignore]
fn trig_every_f32() {
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()) as u32;
    for (f, exact, name) in FUNCTIONS {
        let parts: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || sweep(f, exact, t, threads)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let (worst, at) = parts
            .iter()
            .fold((0.0, 0.0f32), |w, p| if p.0 > w.0 { (p.0, p.1) } else { w });
        let off: u64 = parts.iter().map(|p| p.2).sum();
        let n: u64 = parts.iter().map(|p| p.3).sum();
        println!("{name}: worst {worst} ulp at {at:e}; {off} of {n} not correctly rounded");
        assert!(worst <= 0.501, "{name}: {worst} ulp at x = {at:e}");
    }
}
