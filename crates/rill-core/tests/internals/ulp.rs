//! The error measure of the tests of the written-out f32 functions (exp, tanh, sin, cos, tan).

/// Distance in units in the last place between `got` and the exact value (the ulp of the
/// correctly rounded result's binade, the larger one at a power of two).
pub fn ulps(got: f32, exact: f64) -> f64 {
    let want = exact as f32;
    if got == want {
        return 0.0;
    }
    let ulp = (f32::from_bits(want.abs().to_bits() + 1) - want.abs()) as f64;
    ((got as f64 - exact) / ulp).abs()
}
