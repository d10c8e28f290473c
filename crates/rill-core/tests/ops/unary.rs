#![allow(clippy::type_complexity)]
//! Unary ops against f64 references computed here, on random inputs, in every dtype family each op
//! accepts; strided and broadcast inputs; large (parallel) arrays; special values; errors.

use crate::common::{arr, round_to};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::half::f16;
use rill_core::num_complex::Complex32;
use rill_core::ops::{self, SliceDim};
use rill_core::{Array, Dtype, Error, Result};
use std::f64::consts::PI;

// ---------------------------------------------------------------- helpers

/// Relative tolerance of one rounding to `dtype` (plus the f32 error for the half types), and the
/// absolute tolerance of its smallest subnormal step.
fn tolerance(dtype: Dtype) -> (f64, f64) {
    match dtype {
        Dtype::Float16 => (1.0e-3, 6.0e-8),
        Dtype::Bfloat16 => (8.0e-3, 1.0e-38),
        Dtype::Float32 => (2.5e-7, 1.5e-45),
        Dtype::Float64 => (2.0e-15, 5e-324),
        other => panic!("no tolerance for {other}"),
    }
}

fn random_in(rng: &mut StdRng, n: usize, lo: f64, hi: f64, dtype: Dtype) -> Vec<f64> {
    (0..n)
        .map(|_| round_to(dtype, rng.random_range(lo..hi)))
        .collect()
}

/// Checks `got` against `reference` of each input, within `scale` times `dtype`'s tolerance.
/// A reference that does not fit `dtype` (it rounds to an infinity) must come out as that infinity.
fn check_close(
    what: &str,
    dtype: Dtype,
    inputs: &[f64],
    got: &[f64],
    reference: impl Fn(f64) -> f64,
    scale: f64,
) {
    let (rtol, atol) = tolerance(dtype);
    assert_eq!(inputs.len(), got.len(), "{what}: length");
    for (&x, &g) in inputs.iter().zip(got) {
        let r = reference(x);
        let ok = if r.is_nan() {
            g.is_nan()
        } else if round_to(dtype, r).is_infinite() {
            g == round_to(dtype, r)
        } else {
            (g - r).abs() <= scale * (rtol * r.abs() + atol)
        };
        assert!(
            ok,
            "{what} {dtype}: f({x:e}) = {g:e}, expected {r:e} (error {:e})",
            (g - r).abs()
        );
    }
}

fn f64s(a: &Array) -> Vec<f64> {
    a.to_vec::<f64>().unwrap()
}

type Builder = fn(&Array) -> Result<Array>;

/// erf by its everywhere-positive series `2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (2n+1)!!`
/// (no cancellation) up to |x| = 2, and `1 - erfc` beyond.
fn erf_ref(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax > 2.0 {
        return (1.0 - erfc_ref(ax)).copysign(x);
    }
    let (mut term, mut sum, mut n) = (ax, ax, 0.0);
    while term > sum * 1e-18 {
        n += 1.0;
        term *= 2.0 * ax * ax / (2.0 * n + 1.0);
        sum += term;
    }
    (2.0 / PI.sqrt() * (-ax * ax).exp() * sum).copysign(x)
}

/// erfc for x > 0: `1 - erf` below 2 (erfc(2) ~ 0.005, so little is lost), and Laplace's continued
/// fraction `e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))` above.
fn erfc_ref(x: f64) -> f64 {
    if x < 2.0 {
        return 1.0 - erf_ref(x);
    }
    let mut f = x;
    for k in (1..2000).rev() {
        f = x + (k as f64 / 2.0) / f;
    }
    (-x * x).exp() / PI.sqrt() / f
}

/// erfinv by bisection: on erf for |y| <= 0.99, and on erfc against the exact `1 - |y|` beyond,
/// where erf's values crowd against 1 and would lose the digits.
fn erfinv_ref(y: f64) -> f64 {
    if y.abs() > 1.0 || y.is_nan() {
        return f64::NAN;
    }
    if y.abs() == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    let ay = y.abs();
    if ay < 1e-5 {
        // The series (sqrt(pi)/2) (y + (pi/12) y^3 + O(y^5)), exact to f64 here.
        return PI.sqrt() / 2.0 * y * (1.0 + PI / 12.0 * y * y);
    }
    let (mut lo, mut hi) = (0.0, 30.0);
    for _ in 0..120 {
        let mid = 0.5 * (lo + hi);
        let below = if ay <= 0.99 {
            erf_ref(mid) < ay
        } else {
            erfc_ref(mid) > 1.0 - ay
        };
        if below {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).copysign(y)
}

/// Round half to even, written out.
fn round_half_even(x: f64) -> f64 {
    let f = x.floor();
    let d = x - f;
    if d < 0.5 {
        f
    } else if d > 0.5 {
        f + 1.0
    } else if f % 2.0 == 0.0 {
        f
    } else {
        f + 1.0
    }
}

fn sigmoid_ref(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

fn sign_ref(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// One float op: its builder, its reference, the input range, and extra tolerance (in units of
/// the dtype's tolerance) where the f32 algorithm is known to be less than correctly rounded.
struct FloatCase {
    name: &'static str,
    build: Builder,
    reference: fn(f64) -> f64,
    lo: f64,
    hi: f64,
    slack: f64,
}

fn float_cases() -> Vec<FloatCase> {
    macro_rules! case {
        ($name:ident, $r:expr, $lo:expr, $hi:expr) => {
            case!($name, $r, $lo, $hi, 1.0)
        };
        ($name:ident, $r:expr, $lo:expr, $hi:expr, $slack:expr) => {
            FloatCase {
                name: stringify!($name),
                build: |a| ops::$name(a, ()),
                reference: $r,
                lo: $lo,
                hi: $hi,
                slack: $slack,
            }
        };
    }
    vec![
        case!(abs, f64::abs, -50.0, 50.0),
        case!(negative, |x| -x, -50.0, 50.0),
        case!(sign, sign_ref, -3.0, 3.0),
        case!(exp, f64::exp, -10.0, 10.0),
        case!(expm1, f64::exp_m1, -5.0, 5.0),
        case!(log, f64::ln, 1e-3, 1e3),
        case!(log1p, f64::ln_1p, -0.99, 50.0),
        case!(log2, f64::log2, 1e-3, 1e3),
        case!(log10, f64::log10, 1e-3, 1e3),
        case!(sqrt, f64::sqrt, 0.0, 1e3),
        // 1/sqrt(x) rounds twice.
        case!(rsqrt, |x| 1.0 / x.sqrt(), 1e-3, 1e3, 2.0),
        case!(square, |x| x * x, -200.0, 200.0),
        case!(reciprocal, |x| 1.0 / x, -10.0, 10.0),
        case!(sin, f64::sin, -10.0, 10.0),
        case!(cos, f64::cos, -10.0, 10.0),
        case!(tan, f64::tan, -1.5, 1.5),
        case!(arcsin, f64::asin, -1.0, 1.0),
        case!(arccos, f64::acos, -1.0, 1.0),
        case!(arctan, f64::atan, -20.0, 20.0),
        case!(sinh, f64::sinh, -5.0, 5.0),
        case!(cosh, f64::cosh, -5.0, 5.0),
        case!(tanh, f64::tanh, -5.0, 5.0),
        case!(arcsinh, f64::asinh, -50.0, 50.0),
        case!(arccosh, f64::acosh, 1.0, 50.0),
        case!(arctanh, f64::atanh, -0.99, 0.99),
        case!(trunc, f64::trunc, -100.0, 100.0),
        // e^-|x| then a division: a few roundings.
        case!(sigmoid, sigmoid_ref, -30.0, 30.0, 3.0),
        case!(erf, erf_ref, -4.0, 4.0, 2.0),
        // Giles's f32 approximation is good to a few ulp; the input's own rounding is amplified by
        // erfinv's slope near +-1, but the reference uses the same rounded input.
        case!(erfinv, erfinv_ref, -0.999, 0.999, 16.0),
        case!(floor, f64::floor, -100.0, 100.0),
        case!(ceil, f64::ceil, -100.0, 100.0),
    ]
}

// ---------------------------------------------------------------- floats

#[test]
fn float_ops_match_f64_references_in_every_float_dtype() {
    let mut rng = StdRng::seed_from_u64(1);
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        for case in float_cases() {
            let x = random_in(&mut rng, 500, case.lo, case.hi, dtype);
            let a = arr(dtype, &x, &[20, 25]);
            let out = (case.build)(&a).unwrap();
            assert_eq!(out.dtype(), dtype, "{} of {dtype}", case.name);
            assert_eq!(out.shape(), &[20, 25]);
            check_close(
                case.name,
                dtype,
                &x,
                &f64s(&out),
                case.reference,
                case.slack,
            );
        }
    }
}

#[test]
fn round_rounds_half_to_even_in_every_float_dtype() {
    let mut rng = StdRng::seed_from_u64(2);
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        // Half of the inputs are exact ties.
        let x: Vec<f64> = (0..400)
            .map(|i| {
                let v = rng.random_range(-60.0..60.0f64);
                round_to(dtype, if i % 2 == 0 { v.floor() + 0.5 } else { v })
            })
            .collect();
        let out = ops::round(&arr(dtype, &x, &[400]), 0, ()).unwrap();
        assert_eq!(out.dtype(), dtype);
        check_close("round", dtype, &x, &f64s(&out), round_half_even, 0.0);
    }
    let ties = arr(
        Dtype::Float32,
        &[0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5],
        &[7],
    );
    assert_eq!(
        f64s(&ops::round(&ties, 0, ()).unwrap()),
        vec![0.0, 2.0, 2.0, 0.0, -2.0, -2.0, 4.0]
    );
}

#[test]
fn round_with_decimals_matches_numpy() {
    // np.round(np.array([...], dtype=np.float32), 2) and (..., -1).
    let x = arr(
        Dtype::Float32,
        &[0.285, 1.005, 2.675, 125.0, 135.0, -0.125],
        &[6],
    );
    let got = ops::round(&x, 2, ()).unwrap();
    assert_eq!(got.dtype(), Dtype::Float32);
    let expect: Vec<f32> = vec![0.28, 1.0, 2.68, 125.0, 135.0, -0.12];
    assert_eq!(got.to_vec::<f32>().unwrap(), expect);
    let got = ops::round(
        &arr(Dtype::Float32, &[125.0, 135.0, 1250.0, -15.0], &[4]),
        -1,
        (),
    )
    .unwrap();
    assert_eq!(
        got.to_vec::<f32>().unwrap(),
        vec![120.0, 140.0, 1250.0, -20.0]
    );
    // np.round(np.array([0.285, 1.005, 2.675, 0.125]), 2) in float64.
    let got = ops::round(
        &arr(Dtype::Float64, &[0.285, 1.005, 2.675, 0.125], &[4]),
        2,
        (),
    )
    .unwrap();
    assert_eq!(f64s(&got), vec![0.28, 1.0, 2.68, 0.12]);
    // float16 and bfloat16 round in float32 and cast back once.
    let got = ops::round(&arr(Dtype::Float16, &[1.25, 2.375, -7.625], &[3]), 1, ()).unwrap();
    assert_eq!(got.dtype(), Dtype::Float16);
    assert_eq!(
        f64s(&got),
        vec![
            f16::from_f64(1.2).to_f64(),
            f16::from_f64(2.4).to_f64(),
            f16::from_f64(-7.6).to_f64()
        ]
    );
    let got = ops::round(&arr(Dtype::Bfloat16, &[1234.0, 1250.0], &[2]), -2, ()).unwrap();
    assert_eq!(got.dtype(), Dtype::Bfloat16);
    assert_eq!(f64s(&got), vec![1200.0, 1200.0]);
}

#[test]
fn round_leaves_integers_for_nonnegative_decimals_and_rounds_them_for_negative() {
    let v: Vec<i64> = vec![15, 25, -15, -25, 1234, i32::MAX as i64];
    let a = Array::from_slice(&v, &[6]).unwrap();
    for d in [0, 1, 3] {
        let r = ops::round(&a, d, ()).unwrap();
        assert_eq!(r.dtype(), Dtype::Int64);
        assert_eq!(r.to_vec::<i64>().unwrap(), v);
    }
    // np.round(np.array([15, 25, -15, -25, 1234, 2147483647]), -1)
    let r = ops::round(&a, -1, ()).unwrap();
    assert_eq!(
        r.to_vec::<i64>().unwrap(),
        vec![20, 20, -20, -20, 1230, 2147483650]
    );
    let u = Array::from_slice(&[15u8, 25, 249], &[3]).unwrap();
    assert_eq!(
        ops::round(&u, -1, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![20, 20, 250]
    );
    assert_eq!(
        ops::round(&u, 2, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![15, 25, 249]
    );
}

#[test]
fn float_ops_propagate_nan() {
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        let a = arr(dtype, &[f64::NAN, f64::NAN], &[2]);
        for case in float_cases() {
            let out = f64s(&(case.build)(&a).unwrap());
            assert!(
                out.iter().all(|v| v.is_nan()),
                "{}({dtype} NaN) = {out:?}",
                case.name
            );
        }
        assert!(f64s(&ops::round(&a, 0, ()).unwrap())[0].is_nan());
    }
}

#[test]
fn float_ops_at_infinities_and_edges() {
    let inf = f64::INFINITY;
    type Row = (&'static str, Builder, f64, f64);
    let rows: Vec<Row> = vec![
        ("exp", |a| ops::exp(a, ()), -inf, 0.0),
        ("exp", |a| ops::exp(a, ()), inf, inf),
        ("exp", |a| ops::exp(a, ()), 1000.0, inf),
        ("log", |a| ops::log(a, ()), 0.0, -inf),
        ("log", |a| ops::log(a, ()), -1.0, f64::NAN),
        ("log1p", |a| ops::log1p(a, ()), -1.0, -inf),
        ("sqrt", |a| ops::sqrt(a, ()), -1.0, f64::NAN),
        ("rsqrt", |a| ops::rsqrt(a, ()), 0.0, inf),
        ("reciprocal", |a| ops::reciprocal(a, ()), -0.0, -inf),
        ("tanh", |a| ops::tanh(a, ()), -inf, -1.0),
        ("tanh", |a| ops::tanh(a, ()), 1000.0, 1.0),
        ("sigmoid", |a| ops::sigmoid(a, ()), inf, 1.0),
        ("sigmoid", |a| ops::sigmoid(a, ()), -inf, 0.0),
        ("sigmoid", |a| ops::sigmoid(a, ()), 1000.0, 1.0),
        ("sigmoid", |a| ops::sigmoid(a, ()), -1000.0, 0.0),
        ("erf", |a| ops::erf(a, ()), inf, 1.0),
        ("erf", |a| ops::erf(a, ()), -inf, -1.0),
        ("erfinv", |a| ops::erfinv(a, ()), 1.0, inf),
        ("erfinv", |a| ops::erfinv(a, ()), -1.0, -inf),
        ("erfinv", |a| ops::erfinv(a, ()), 1.5, f64::NAN),
        ("erfinv", |a| ops::erfinv(a, ()), 0.0, 0.0),
        ("sign", |a| ops::sign(a, ()), -0.0, 0.0),
        ("sign", |a| ops::sign(a, ()), -inf, -1.0),
        ("abs", |a| ops::abs(a, ()), -inf, inf),
        ("floor", |a| ops::floor(a, ()), -inf, -inf),
        ("arcsin", |a| ops::arcsin(a, ()), 1.5, f64::NAN),
    ];
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        for (name, build, x, expect) in &rows {
            let got = f64s(&build(&arr(dtype, &[*x], &[1])).unwrap())[0];
            let ok = if expect.is_nan() {
                got.is_nan()
            } else {
                got == *expect
            };
            assert!(ok, "{name}({x}) in {dtype} = {got}, expected {expect}");
        }
    }
    // Deep in the tails sigmoid is tiny but not zero, and computed without overflow.
    for (dtype, x) in [(Dtype::Float32, -80.0), (Dtype::Float64, -700.0)] {
        let got = f64s(&ops::sigmoid(&arr(dtype, &[x], &[1]), ()).unwrap())[0];
        let r = sigmoid_ref(x);
        assert!(
            got > 0.0 && (got - r).abs() <= 1e-6 * r,
            "sigmoid({x}) in {dtype} = {got:e}, expected {r:e}"
        );
    }
}

#[test]
fn isnan_and_isinf_in_every_dtype() {
    let vals = [1.0, f64::NAN, f64::INFINITY, -f64::INFINITY, -0.0, 7.0];
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        let a = arr(dtype, &vals, &[2, 3]);
        let n = ops::isnan(&a, ()).unwrap();
        let i = ops::isinf(&a, ()).unwrap();
        assert_eq!((n.dtype(), i.dtype()), (Dtype::Bool, Dtype::Bool));
        assert_eq!(
            n.to_vec::<bool>().unwrap(),
            vec![false, true, false, false, false, false],
            "{dtype}"
        );
        assert_eq!(
            i.to_vec::<bool>().unwrap(),
            vec![false, false, true, true, false, false],
            "{dtype}"
        );
    }
    for dtype in [Dtype::Int32, Dtype::Uint8, Dtype::Int8, Dtype::Bool] {
        let a = arr(dtype, &[1.0, 0.0, 5.0], &[3]);
        assert_eq!(
            ops::isnan(&a, ()).unwrap().to_vec::<bool>().unwrap(),
            vec![false; 3]
        );
        assert_eq!(
            ops::isinf(&a, ()).unwrap().to_vec::<bool>().unwrap(),
            vec![false; 3]
        );
    }
    let z = Array::from_slice(
        &[
            Complex32::new(1.0, f32::NAN),
            Complex32::new(f32::INFINITY, 0.0),
            Complex32::new(2.0, -f32::INFINITY),
            Complex32::new(1.0, 2.0),
            Complex32::new(f32::NAN, f32::INFINITY),
        ],
        &[5],
    )
    .unwrap();
    assert_eq!(
        ops::isnan(&z, ()).unwrap().to_vec::<bool>().unwrap(),
        vec![true, false, false, false, true]
    );
    assert_eq!(
        ops::isinf(&z, ()).unwrap().to_vec::<bool>().unwrap(),
        vec![false, true, true, false, true]
    );
}

#[test]
fn erf_and_erfinv_accuracy() {
    // f64: near machine precision over the whole range, tails included.
    let mut rng = StdRng::seed_from_u64(3);
    let mut y: Vec<f64> = (0..2000).map(|_| rng.random_range(-1.0..1.0)).collect();
    y.extend([
        1e-300,
        -1e-20,
        0.5,
        0.9,
        0.999_999,
        1.0 - 1e-12,
        -(1.0 - 1e-15),
        1.0 - f64::EPSILON,
    ]);
    let got = f64s(&ops::erfinv(&arr(Dtype::Float64, &y, &[y.len()]), ()).unwrap());
    for (&y, &g) in y.iter().zip(&got) {
        let r = erfinv_ref(y);
        assert!(
            (g - r).abs() <= 1e-14 * r.abs(),
            "erfinv({y:e}) = {g:e}, expected {r:e}"
        );
    }
    let x: Vec<f64> = (0..2000).map(|_| rng.random_range(-6.0..6.0)).collect();
    let got = f64s(&ops::erf(&arr(Dtype::Float64, &x, &[x.len()]), ()).unwrap());
    for (&x, &g) in x.iter().zip(&got) {
        let r = erf_ref(x);
        // The series reference itself is good to a few ulp.
        assert!(
            (g - r).abs() <= 2e-15 * r.abs(),
            "erf({x}) = {g:e}, expected {r:e}"
        );
    }
    // f32: a few ulp, tails included.
    let y32: Vec<f64> = (1..4000)
        .map(|i| round_to(Dtype::Float32, -1.0 + i as f64 / 2000.0))
        .collect();
    let got = f64s(&ops::erfinv(&arr(Dtype::Float32, &y32, &[y32.len()]), ()).unwrap());
    for (&y, &g) in y32.iter().zip(&got) {
        let r = erfinv_ref(y);
        assert!(
            (g - r).abs() <= 8e-7 * r.abs() + 1e-30,
            "f32 erfinv({y:e}) = {g:e}, expected {r:e}"
        );
    }
    // erfinv(0.5) to 17 digits (the median of |N(0, 1/2)|).
    let h = ops::erfinv(&arr(Dtype::Float64, &[0.5, -0.5], &[2]), ()).unwrap();
    let h = f64s(&h);
    assert!(
        (h[0] - 0.476_936_276_204_469_9).abs() < 2e-16 && h[1] == -h[0],
        "{h:?}"
    );
}

#[test]
fn integer_and_bool_inputs_compute_in_float32() {
    let cases: Vec<(&str, Builder, fn(f64) -> f64)> = vec![
        ("exp", |a| ops::exp(a, ()), f64::exp),
        ("sqrt", |a| ops::sqrt(a, ()), f64::sqrt),
        ("sin", |a| ops::sin(a, ()), f64::sin),
        ("sigmoid", |a| ops::sigmoid(a, ()), sigmoid_ref),
        ("erf", |a| ops::erf(a, ()), erf_ref),
        ("reciprocal", |a| ops::reciprocal(a, ()), |x| 1.0 / x),
        ("log1p", |a| ops::log1p(a, ()), f64::ln_1p),
    ];
    for (dtype, vals) in [
        (Dtype::Int32, vec![1.0, 2.0, 3.0, 7.0, 11.0, 20.0]),
        (Dtype::Uint8, vec![1.0, 2.0, 9.0, 17.0, 30.0, 255.0]),
        (Dtype::Bool, vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0]),
    ] {
        let a = arr(dtype, &vals, &[2, 3]);
        for (name, build, r) in &cases {
            let out = build(&a).unwrap();
            assert_eq!(out.dtype(), Dtype::Float32, "{name}({dtype})");
            check_close(name, Dtype::Float32, &vals, &f64s(&out), r, 2.0);
        }
    }
}

// ---------------------------------------------------------------- integers and bool

macro_rules! int_unary_test {
    ($name:ident, $t:ty, $seed:expr) => {
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64($seed);
            let mut v: Vec<$t> = (0..1000).map(|_| rng.random::<$t>()).collect();
            v.extend([
                <$t>::MIN,
                <$t>::MAX,
                0 as $t,
                1 as $t,
                (0 as $t).wrapping_sub(1),
            ]);
            let n = v.len();
            let a = Array::from_slice(&v, &[n]).unwrap();
            let dt = a.dtype();
            let get = |r: Result<Array>| {
                let r = r.unwrap();
                assert_eq!(r.dtype(), dt);
                r.to_vec::<$t>().unwrap()
            };
            // References in i128, truncated to the type (two's complement wrap-around).
            let wrap = |x: i128| x as $t;
            let wide = |x: $t| x as i128;
            let expect_abs: Vec<$t> = v.iter().map(|&x| wrap(wide(x).abs())).collect();
            let expect_neg: Vec<$t> = v.iter().map(|&x| wrap(-wide(x))).collect();
            let expect_sign: Vec<$t> = v.iter().map(|&x| wrap(wide(x).signum())).collect();
            let expect_sq: Vec<$t> = v
                .iter()
                .map(|&x| wrap(wide(x).wrapping_mul(wide(x))))
                .collect();
            let expect_inv: Vec<$t> = v.iter().map(|&x| wrap(-1 - wide(x))).collect();
            assert_eq!(get(ops::abs(&a, ())), expect_abs, "abs");
            assert_eq!(get(ops::negative(&a, ())), expect_neg, "negative");
            assert_eq!(get(ops::sign(&a, ())), expect_sign, "sign");
            assert_eq!(get(ops::square(&a, ())), expect_sq, "square");
            assert_eq!(
                get(ops::bitwise_invert(&a, ())),
                expect_inv,
                "bitwise_invert"
            );
            assert_eq!(get(ops::floor(&a, ())), v, "floor");
            assert_eq!(get(ops::ceil(&a, ())), v, "ceil");
            assert_eq!(get(ops::round(&a, 0, ())), v, "round");
            let not: Vec<bool> = v.iter().map(|&x| x == 0 as $t).collect();
            assert_eq!(
                ops::logical_not(&a, ()).unwrap().to_vec::<bool>().unwrap(),
                not,
                "logical_not"
            );
        }
    };
}
int_unary_test!(int8_unary_ops_wrap, i8, 10);
int_unary_test!(int16_unary_ops_wrap, i16, 11);
int_unary_test!(int32_unary_ops_wrap, i32, 12);
int_unary_test!(int64_unary_ops_wrap, i64, 13);
int_unary_test!(uint8_unary_ops_wrap, u8, 14);
int_unary_test!(uint16_unary_ops_wrap, u16, 15);
int_unary_test!(uint32_unary_ops_wrap, u32, 16);
int_unary_test!(uint64_unary_ops_wrap, u64, 17);

#[test]
fn integer_edge_values_match_numpy() {
    // np.abs(np.int8(-128)) == -128; np.negative(np.uint8(1)) == 255; np.sign(np.uint8(7)) == 1.
    let i = Array::from_slice(&[-128i8, -1, 0, 127], &[4]).unwrap();
    assert_eq!(
        ops::abs(&i, ()).unwrap().to_vec::<i8>().unwrap(),
        vec![-128, 1, 0, 127]
    );
    assert_eq!(
        ops::negative(&i, ()).unwrap().to_vec::<i8>().unwrap(),
        vec![-128, 1, 0, -127]
    );
    let u = Array::from_slice(&[1u8, 0, 7, 255], &[4]).unwrap();
    assert_eq!(
        ops::negative(&u, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![255, 0, 249, 1]
    );
    assert_eq!(
        ops::sign(&u, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![1, 0, 1, 1]
    );
    assert_eq!(
        ops::square(&u, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![1, 0, 49, 1]
    );
}

#[test]
fn bool_unary_ops() {
    let v = [true, false, false, true, true];
    let a = Array::from_slice(&v, &[5]).unwrap();
    let not: Vec<bool> = v.iter().map(|x| !x).collect();
    for (name, r) in [
        ("abs", ops::abs(&a, ())),
        ("sign", ops::sign(&a, ())),
        ("square", ops::square(&a, ())),
        ("floor", ops::floor(&a, ())),
        ("ceil", ops::ceil(&a, ())),
        ("round", ops::round(&a, 0, ())),
    ] {
        let r = r.unwrap();
        assert_eq!(r.dtype(), Dtype::Bool, "{name}");
        assert_eq!(r.to_vec::<bool>().unwrap(), v, "{name}");
    }
    assert_eq!(
        ops::logical_not(&a, ()).unwrap().to_vec::<bool>().unwrap(),
        not
    );
    let inv = ops::bitwise_invert(&a, ()).unwrap();
    assert_eq!(inv.dtype(), Dtype::Bool);
    assert_eq!(inv.to_vec::<bool>().unwrap(), not);
    // logical_not of numbers: true where zero.
    let f = arr(Dtype::Float32, &[0.0, -0.0, 2.5, f64::NAN], &[4]);
    assert_eq!(
        ops::logical_not(&f, ()).unwrap().to_vec::<bool>().unwrap(),
        vec![true, true, false, false]
    );
}

// ---------------------------------------------------------------- complex

type C = (f64, f64);

fn cmul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}
fn cdiv(a: C, b: C) -> C {
    let d = b.0 * b.0 + b.1 * b.1;
    ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
}
fn cadd(a: C, b: C) -> C {
    (a.0 + b.0, a.1 + b.1)
}
fn cexp(z: C) -> C {
    let e = z.0.exp();
    (e * z.1.cos(), e * z.1.sin())
}
fn cln(z: C) -> C {
    (z.0.hypot(z.1).ln(), z.1.atan2(z.0))
}
fn csqrt(z: C) -> C {
    let r = z.0.hypot(z.1);
    (
        ((r + z.0) / 2.0).sqrt(),
        ((r - z.0) / 2.0).sqrt().copysign(z.1),
    )
}
fn csin(z: C) -> C {
    (z.0.sin() * z.1.cosh(), z.0.cos() * z.1.sinh())
}
fn ccos(z: C) -> C {
    (z.0.cos() * z.1.cosh(), -z.0.sin() * z.1.sinh())
}
fn csinh(z: C) -> C {
    (z.0.sinh() * z.1.cos(), z.0.cosh() * z.1.sin())
}
fn ccosh(z: C) -> C {
    (z.0.cosh() * z.1.cos(), z.0.sinh() * z.1.sin())
}
fn casin(z: C) -> C {
    // -i ln(iz + sqrt(1 - z^2))
    let w = cln(cadd(
        (-z.1, z.0),
        csqrt(cadd((1.0, 0.0), cmul((-1.0, 0.0), cmul(z, z)))),
    ));
    (w.1, -w.0)
}
fn catan(z: C) -> C {
    // i/2 (ln(1 - iz) - ln(1 + iz))
    let a = cln((1.0 + z.1, -z.0));
    let b = cln((1.0 - z.1, z.0));
    let d = (a.0 - b.0, a.1 - b.1);
    (-d.1 / 2.0, d.0 / 2.0)
}

#[test]
fn complex_ops_match_closed_forms() {
    let mut rng = StdRng::seed_from_u64(4);
    let n = 400;
    let z: Vec<Complex32> = (0..n)
        .map(|_| Complex32::new(rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)))
        .collect();
    let a = Array::from_slice(&z, &[20, 20]).unwrap();
    let zs: Vec<C> = z.iter().map(|z| (z.re as f64, z.im as f64)).collect();
    let cases: Vec<(&str, Builder, fn(C) -> C)> = vec![
        ("negative", |a| ops::negative(a, ()), |z| (-z.0, -z.1)),
        (
            "sign",
            |a| ops::sign(a, ()),
            |z| {
                let r = z.0.hypot(z.1);
                (z.0 / r, z.1 / r)
            },
        ),
        ("square", |a| ops::square(a, ()), |z| cmul(z, z)),
        (
            "reciprocal",
            |a| ops::reciprocal(a, ()),
            |z| cdiv((1.0, 0.0), z),
        ),
        ("exp", |a| ops::exp(a, ()), cexp),
        (
            "expm1",
            |a| ops::expm1(a, ()),
            |z| cadd(cexp(z), (-1.0, 0.0)),
        ),
        ("log", |a| ops::log(a, ()), cln),
        ("log1p", |a| ops::log1p(a, ()), |z| cln(cadd(z, (1.0, 0.0)))),
        (
            "log2",
            |a| ops::log2(a, ()),
            |z| {
                let l = cln(z);
                (l.0 / std::f64::consts::LN_2, l.1 / std::f64::consts::LN_2)
            },
        ),
        (
            "log10",
            |a| ops::log10(a, ()),
            |z| {
                let l = cln(z);
                (l.0 / std::f64::consts::LN_10, l.1 / std::f64::consts::LN_10)
            },
        ),
        ("sqrt", |a| ops::sqrt(a, ()), csqrt),
        (
            "rsqrt",
            |a| ops::rsqrt(a, ()),
            |z| cdiv((1.0, 0.0), csqrt(z)),
        ),
        ("sin", |a| ops::sin(a, ()), csin),
        ("cos", |a| ops::cos(a, ()), ccos),
        ("tan", |a| ops::tan(a, ()), |z| cdiv(csin(z), ccos(z))),
        ("sinh", |a| ops::sinh(a, ()), csinh),
        ("cosh", |a| ops::cosh(a, ()), ccosh),
        ("tanh", |a| ops::tanh(a, ()), |z| cdiv(csinh(z), ccosh(z))),
        ("arcsin", |a| ops::arcsin(a, ()), casin),
        (
            "arccos",
            |a| ops::arccos(a, ()),
            |z| {
                let s = casin(z);
                (PI / 2.0 - s.0, -s.1)
            },
        ),
        ("arctan", |a| ops::arctan(a, ()), catan),
        (
            "sigmoid",
            |a| ops::sigmoid(a, ()),
            |z| cdiv((1.0, 0.0), cadd((1.0, 0.0), cexp((-z.0, -z.1)))),
        ),
    ];
    for (name, build, reference) in cases {
        let out = build(&a).unwrap();
        assert_eq!(out.dtype(), Dtype::Complex64, "{name}");
        let got = out.to_vec::<Complex32>().unwrap();
        for (&z, g) in zs.iter().zip(&got) {
            let r = reference(z);
            let err = (g.re as f64 - r.0).hypot(g.im as f64 - r.1);
            assert!(
                err <= 1e-6 * r.0.hypot(r.1) + 1e-30,
                "{name}({z:?}) = {g}, expected {r:?}"
            );
        }
    }
    let abs = ops::abs(&a, ()).unwrap();
    assert_eq!(abs.dtype(), Dtype::Float32);
    check_close(
        "abs",
        Dtype::Float32,
        &(0..n).map(|i| i as f64).collect::<Vec<_>>(),
        &f64s(&abs),
        |i| zs[i as usize].0.hypot(zs[i as usize].1),
        1.0,
    );
}

#[test]
fn complex_edge_values() {
    let z = Array::from_slice(
        &[
            Complex32::new(0.0, 0.0),
            Complex32::new(3e38, 3e38),
            Complex32::new(-200.0, 1.0),
            Complex32::new(200.0, 1.0),
        ],
        &[4],
    )
    .unwrap();
    // sign(0) is 0; |z| past f32's range does not overflow in sign.
    let s = ops::sign(&z, ()).unwrap().to_vec::<Complex32>().unwrap();
    assert_eq!(s[0], Complex32::new(0.0, 0.0));
    let h = std::f32::consts::FRAC_1_SQRT_2;
    assert!(
        (s[1].re - h).abs() < 1e-6 && (s[1].im - h).abs() < 1e-6,
        "{}",
        s[1]
    );
    // sigmoid far out on either side: 0 and 1, not NaN.
    let g = ops::sigmoid(&z, ()).unwrap().to_vec::<Complex32>().unwrap();
    assert!(g[2].norm() < 1e-30, "{}", g[2]);
    assert!((g[3] - Complex32::new(1.0, 0.0)).norm() < 1e-6, "{}", g[3]);
    // expm1 and log1p of tiny z keep their digits: expm1(z) ~ z, log1p(z) ~ z.
    let t = Array::from_slice(&[Complex32::new(1e-10, -2e-10)], &[1]).unwrap();
    for r in [ops::expm1(&t, ()), ops::log1p(&t, ())] {
        let v = r.unwrap().to_vec::<Complex32>().unwrap()[0];
        assert!(
            (v.re - 1e-10).abs() < 1e-16 && (v.im + 2e-10).abs() < 1e-16,
            "{v}"
        );
    }
}

// ---------------------------------------------------------------- layouts and sizes

#[test]
fn unary_ops_read_strided_and_broadcast_views() {
    let mut rng = StdRng::seed_from_u64(5);
    let (r, c) = (37, 53);
    let v = random_in(&mut rng, r * c, -3.0, 3.0, Dtype::Float32);
    let a = arr(Dtype::Float32, &v, &[r, c]);
    let at = |i: usize, j: usize| v[i * c + j];
    // Transposed: out[j][i] = a[i][j].
    let t = ops::transpose(&a, None, ()).unwrap();
    let got = f64s(&ops::exp(&t, ()).unwrap());
    let want: Vec<f64> = (0..c)
        .flat_map(|j| (0..r).map(move |i| (j, i)))
        .map(|(j, i)| at(i, j))
        .collect();
    check_close(
        "exp of transpose",
        Dtype::Float32,
        &want,
        &got,
        f64::exp,
        1.0,
    );
    // Both dims reversed (negative steps).
    let rev = ops::slice_dims(
        &a,
        &[
            SliceDim {
                start: r - 1,
                step: -1,
                len: r,
            },
            SliceDim {
                start: c - 1,
                step: -2,
                len: c.div_ceil(2),
            },
        ],
        (),
    )
    .unwrap();
    let got = f64s(&ops::sin(&rev, ()).unwrap());
    let want: Vec<f64> = (0..r)
        .flat_map(|i| (0..c.div_ceil(2)).map(move |j| (r - 1 - i, c - 1 - 2 * j)))
        .map(|(i, j)| at(i, j))
        .collect();
    check_close(
        "sin of reversed slice",
        Dtype::Float32,
        &want,
        &got,
        f64::sin,
        1.0,
    );
    // A row broadcast down (stride 0 in the outer dim), and a column across (stride 0 inner).
    let row = ops::slice(&a, &[4], &[5], &[1], ()).unwrap();
    let b = ops::broadcast_to(&row, &[9, c], ()).unwrap();
    let got = f64s(&ops::negative(&b, ()).unwrap());
    let want: Vec<f64> = (0..9).flat_map(|_| (0..c).map(|j| at(4, j))).collect();
    check_close(
        "negative of broadcast row",
        Dtype::Float32,
        &want,
        &got,
        |x| -x,
        0.0,
    );
    let col = ops::slice(&a, &[0, 7], &[r as isize, 8], &[1, 1], ()).unwrap();
    let b = ops::broadcast_to(&col, &[r, 11], ()).unwrap();
    let got = f64s(&ops::square(&b, ()).unwrap());
    let want: Vec<f64> = (0..r)
        .flat_map(|i| (0..11).map(move |_| at(i, 7)))
        .collect();
    check_close(
        "square of broadcast column",
        Dtype::Float32,
        &want,
        &got,
        |x| x * x,
        1.0,
    );
    // A scalar broadcast to a matrix.
    let s = ops::broadcast_to(&arr(Dtype::Float64, &[0.25], &[]), &[3, 4], ()).unwrap();
    assert_eq!(f64s(&ops::sqrt(&s, ()).unwrap()), vec![0.5; 12]);
}

#[test]
fn large_arrays_take_the_parallel_path() {
    let mut rng = StdRng::seed_from_u64(6);
    let n = 300_007;
    for dtype in [Dtype::Float32, Dtype::Float16, Dtype::Float64] {
        let v = random_in(&mut rng, n, -5.0, 5.0, dtype);
        let a = arr(dtype, &v, &[n]);
        check_close(
            "tanh (large)",
            dtype,
            &v,
            &f64s(&ops::tanh(&a, ()).unwrap()),
            f64::tanh,
            1.0,
        );
        check_close(
            "sigmoid (large)",
            dtype,
            &v,
            &f64s(&ops::sigmoid(&a, ()).unwrap()),
            sigmoid_ref,
            3.0,
        );
        check_close(
            "abs (large)",
            dtype,
            &v,
            &f64s(&ops::abs(&a, ()).unwrap()),
            f64::abs,
            0.0,
        );
    }
    // A large transposed view (strided rows in parallel chunks).
    let (r, c) = (401, 513);
    let v = random_in(&mut rng, r * c, -5.0, 5.0, Dtype::Float32);
    let t = ops::transpose(&arr(Dtype::Float32, &v, &[r, c]), None, ()).unwrap();
    let got = f64s(&ops::floor(&t, ()).unwrap());
    let want: Vec<f64> = (0..c)
        .flat_map(|j| (0..r).map(move |i| (i, j)))
        .map(|(i, j)| v[i * c + j])
        .collect();
    check_close(
        "floor of a large transpose",
        Dtype::Float32,
        &want,
        &got,
        f64::floor,
        0.0,
    );
    let ints: Vec<i32> = (0..n as i32)
        .map(|i| i.wrapping_mul(2_654_435_761u32 as i32))
        .collect();
    let got = ops::negative(&Array::from_slice(&ints, &[n]).unwrap(), ())
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    assert!(got.iter().zip(&ints).all(|(g, x)| *g == x.wrapping_neg()));
}

// ---------------------------------------------------------------- errors

fn dtype_error(r: Result<Array>, op: &str, mentions: &str) {
    match r {
        Err(e @ Error::Dtype { .. }) => {
            assert_eq!(e.op(), op, "{e}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("[{op}]")) && msg.contains(mentions),
                "{msg}"
            );
        }
        other => panic!("{op}: expected a dtype error, got {other:?}"),
    }
}

#[test]
fn rejected_dtypes_name_the_op() {
    let b = Array::from_slice(&[true, false], &[2]).unwrap();
    let f = arr(Dtype::Float32, &[1.0, 2.0], &[2]);
    let z = Array::from_slice(&[Complex32::new(1.0, 1.0)], &[1]).unwrap();
    dtype_error(ops::negative(&b, ()), "negative", "bool");
    dtype_error(ops::floor(&z, ()), "floor", "complex64");
    dtype_error(ops::ceil(&z, ()), "ceil", "complex64");
    // `round` takes complex numbers as MLX does: each part alike, half to even.
    let w = Array::from_slice(
        &[Complex32::new(2.5, -1.5), Complex32::new(1.26, 0.125)],
        &[2],
    )
    .unwrap();
    assert_eq!(
        ops::round(&w, 0, ())
            .unwrap()
            .to_vec::<Complex32>()
            .unwrap(),
        vec![Complex32::new(2.0, -2.0), Complex32::new(1.0, 0.0)]
    );
    assert_eq!(
        ops::round(&w, 1, ())
            .unwrap()
            .to_vec::<Complex32>()
            .unwrap(),
        vec![Complex32::new(2.5, -1.5), Complex32::new(1.3, 0.1)]
    );
    dtype_error(ops::erf(&z, ()), "erf", "complex64");
    dtype_error(ops::erfinv(&z, ()), "erfinv", "complex64");
    dtype_error(ops::bitwise_invert(&f, ()), "bitwise_invert", "float32");
    dtype_error(ops::bitwise_invert(&z, ()), "bitwise_invert", "complex64");
}
