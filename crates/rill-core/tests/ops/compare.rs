#![allow(clippy::type_complexity)]
//! isclose, allclose and array_equal against NumPy's definitions, computed here.

use crate::common::arr;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::num_complex::Complex32;
use rill_core::{ops, Array, Dtype, Error};

fn bools(a: &Array) -> Vec<bool> {
    assert_eq!(a.dtype(), Dtype::Bool);
    a.to_vec::<bool>().unwrap()
}

/// NumPy's isclose, element by element, in f64.
fn isclose_ref(a: f64, b: f64, rtol: f64, atol: f64, equal_nan: bool) -> bool {
    if a.is_nan() || b.is_nan() {
        return equal_nan && a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= atol + rtol * b.abs()
}

#[test]
fn isclose_on_random_values_with_exact_boundaries() {
    let mut rng = StdRng::seed_from_u64(61);
    // Values on a 2^-10 grid below 2^12 and power-of-two tolerances: every step of the formula is
    // exact in float32, so values right on the boundary are decided the same way here and there.
    let (rtol, atol) = (1.0 / 16.0, 1.0 / 64.0);
    let n = 3000;
    let a: Vec<f64> = (0..n)
        .map(|_| rng.random_range(-4_000_000i64..4_000_000) as f64 / 1024.0)
        .collect();
    let b: Vec<f64> = a
        .iter()
        .enumerate()
        .map(|(i, &x)| match i % 3 {
            // Near the boundary |a - b| = atol + rtol |b| (on it when the grid allows).
            0 => ((x - atol) * 16.0 / 15.0 * 1024.0).round() / 1024.0,
            1 => x + rng.random_range(-200i64..200) as f64 / 1024.0,
            _ => rng.random_range(-4_000_000i64..4_000_000) as f64 / 1024.0,
        })
        .collect();
    for dtype in [Dtype::Float32, Dtype::Float64] {
        let got = bools(
            &ops::isclose(
                &arr(dtype, &a, &[n]),
                &arr(dtype, &b, &[n]),
                rtol,
                atol,
                false,
                (),
            )
            .unwrap(),
        );
        let want: Vec<bool> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| isclose_ref(x, y, rtol, atol, false))
            .collect();
        assert_eq!(got, want, "{dtype}");
        assert!(want.iter().any(|&w| w) && want.iter().any(|&w| !w));
    }
}

#[test]
fn isclose_handles_infinities_and_nan_as_numpy() {
    let inf = f64::INFINITY;
    let nan = f64::NAN;
    let a = [inf, inf, -inf, 1.0, inf, nan, nan, 1.0, 6e4, 0.0];
    let b = [inf, -inf, -inf, inf, 1.0, nan, 1.0, nan, inf, 0.0];
    // np.isclose(a, b) and np.isclose(a, b, equal_nan=True); rtol = 1 would make 6e4 "close" to
    // inf by the bare formula, but NumPy says no.
    let plain = [
        true, false, true, false, false, false, false, false, false, true,
    ];
    let with_nan = [
        true, false, true, false, false, true, false, false, false, true,
    ];
    for dtype in [
        Dtype::Float32,
        Dtype::Float64,
        Dtype::Float16,
        Dtype::Bfloat16,
    ] {
        let (x, y) = (arr(dtype, &a, &[10]), arr(dtype, &b, &[10]));
        assert_eq!(
            bools(&ops::isclose(&x, &y, 1.0, 1e-8, false, ()).unwrap()),
            plain,
            "{dtype}"
        );
        assert_eq!(
            bools(&ops::isclose(&x, &y, 1.0, 1e-8, true, ()).unwrap()),
            with_nan,
            "{dtype}"
        );
    }
}

#[test]
fn isclose_is_not_symmetric() {
    // |a - b| <= rtol |b|: 1 vs 2 with rtol 0.5 is close (1 <= 1), 2 vs 1 is not (1 > 0.5).
    let (one, two) = (
        arr(Dtype::Float32, &[1.0], &[1]),
        arr(Dtype::Float32, &[2.0], &[1]),
    );
    assert_eq!(
        bools(&ops::isclose(&one, &two, 0.5, 0.0, false, ()).unwrap()),
        vec![true]
    );
    assert_eq!(
        bools(&ops::isclose(&two, &one, 0.5, 0.0, false, ()).unwrap()),
        vec![false]
    );
}

#[test]
fn isclose_in_other_dtypes() {
    // Half types compare in float32 (their tolerances do not round to the half type): 1 vs
    // 1 + 1ulp is not close with rtol = 1e-5, and is with rtol = 2ulp.
    for (dtype, ulp) in [
        (Dtype::Float16, 2f64.powi(-10)),
        (Dtype::Bfloat16, 2f64.powi(-7)),
    ] {
        let a = arr(dtype, &[1.0, 1.0, 0.0, 1000.0], &[4]);
        let b = arr(dtype, &[1.0, 1.0 + ulp, 0.0, 1000.0 + 1000.0 * ulp], &[4]);
        let got = bools(&ops::isclose(&a, &b, 1e-5, 1e-8, false, ()).unwrap());
        assert_eq!(got, vec![true, false, true, false], "{dtype}");
        let got = bools(&ops::isclose(&a, &b, 2.0 * ulp, 0.0, false, ()).unwrap());
        assert_eq!(got, vec![true, true, true, true], "{dtype}");
    }
    // Unsigned integers do not wrap: |3 - 5| is 2, not 254.
    let a = arr(Dtype::Uint8, &[3.0, 5.0, 200.0], &[3]);
    let b = arr(Dtype::Uint8, &[5.0, 3.0, 100.0], &[3]);
    assert_eq!(
        bools(&ops::isclose(&a, &b, 0.0, 2.0, false, ()).unwrap()),
        vec![true, true, false]
    );
    // Mixed int and float, broadcast: (3, 1) int32 against (4,) float64.
    let i = arr(Dtype::Int32, &[1.0, 10.0, -5.0], &[3, 1]);
    let f = arr(Dtype::Float64, &[1.05, 10.0, -5.2, 0.0], &[4]);
    let got = ops::isclose(&i, &f, 0.0, 0.1, false, ()).unwrap();
    assert_eq!(got.shape(), &[3, 4]);
    let iv = [1.0, 10.0, -5.0];
    let fv = [1.05, 10.0, -5.2, 0.0];
    let want: Vec<bool> = (0..12)
        .map(|k| isclose_ref(iv[k / 4], fv[k % 4], 0.0, 0.1, false))
        .collect();
    assert_eq!(bools(&got), want);
    // Bool.
    let t = arr(Dtype::Bool, &[1.0, 0.0, 1.0], &[3]);
    let u = arr(Dtype::Bool, &[1.0, 1.0, 0.0], &[3]);
    assert_eq!(
        bools(&ops::isclose(&t, &u, 0.0, 0.5, false, ()).unwrap()),
        vec![true, false, false]
    );
    // Complex: |a - b| is the modulus.
    let z = Array::from_slice(
        &[
            Complex32::new(1.0, 1.0),
            Complex32::new(0.0, 3.0),
            Complex32::new(f32::NAN, 0.0),
        ],
        &[3],
    )
    .unwrap();
    let w = Array::from_slice(
        &[
            Complex32::new(1.3, 1.4),
            Complex32::new(0.0, 3.6),
            Complex32::new(f32::NAN, 0.0),
        ],
        &[3],
    )
    .unwrap();
    assert_eq!(
        bools(&ops::isclose(&z, &w, 0.0, 0.55, false, ()).unwrap()),
        vec![true, false, false]
    );
    assert_eq!(
        bools(&ops::isclose(&z, &w, 0.0, 0.55, true, ()).unwrap()),
        vec![true, false, true]
    );
}

#[test]
fn isclose_rejects_shapes_that_do_not_broadcast() {
    let a = arr(Dtype::Float32, &[1.0, 2.0], &[2]);
    let b = arr(Dtype::Float32, &[1.0, 2.0, 3.0], &[3]);
    match ops::isclose(&a, &b, 1e-5, 1e-8, false, ()) {
        Err(e @ Error::Shape { .. }) => assert_eq!(e.op(), "isclose"),
        other => panic!("expected a shape error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- allclose, array_equal

fn truth(a: &Array) -> bool {
    assert_eq!((a.dtype(), a.ndim()), (Dtype::Bool, 0));
    a.item::<bool>().unwrap()
}

#[test]
fn allclose_and_array_equal_of_scalars_and_different_shapes() {
    let s = |v: f64| arr(Dtype::Float32, &[v], &[]);
    assert!(truth(
        &ops::allclose(&s(1.0), &s(1.0 + 1e-6), 1e-5, 1e-8, false, ()).unwrap()
    ));
    assert!(!truth(
        &ops::allclose(&s(1.0), &s(1.1), 1e-5, 1e-8, false, ()).unwrap()
    ));
    assert!(!truth(
        &ops::allclose(&s(f64::NAN), &s(f64::NAN), 1e-5, 1e-8, false, ()).unwrap()
    ));
    assert!(truth(
        &ops::allclose(&s(f64::NAN), &s(f64::NAN), 1e-5, 1e-8, true, ()).unwrap()
    ));
    assert!(truth(
        &ops::array_equal(&s(2.0), &arr(Dtype::Int32, &[2.0], &[]), false, ()).unwrap()
    ));
    assert!(!truth(
        &ops::array_equal(&s(2.0), &s(2.5), false, ()).unwrap()
    ));
    assert!(!truth(
        &ops::array_equal(&s(f64::NAN), &s(f64::NAN), false, ()).unwrap()
    ));
    assert!(truth(
        &ops::array_equal(&s(f64::NAN), &s(f64::NAN), true, ()).unwrap()
    ));
    // Different shapes are unequal, not an error, broadcastable or not.
    let a = arr(Dtype::Float32, &[1.0, 1.0], &[2]);
    let b = arr(Dtype::Float32, &[1.0, 1.0], &[1, 2]);
    let c = arr(Dtype::Float32, &[1.0, 1.0, 1.0], &[3]);
    assert!(!truth(&ops::array_equal(&a, &b, false, ()).unwrap()));
    assert!(!truth(&ops::array_equal(&a, &c, true, ()).unwrap()));
    assert!(!truth(&ops::array_equal(&s(1.0), &a, false, ()).unwrap()));
}

#[test]
fn allclose_reduces_isclose() {
    let mut rng = StdRng::seed_from_u64(62);
    let n = 5000;
    let a: Vec<f64> = (0..n).map(|_| rng.random_range(-100.0..100.0)).collect();
    let close: Vec<f64> = a
        .iter()
        .map(|x| x * (1.0 + rng.random_range(-5e-6..5e-6)))
        .collect();
    let x = arr(Dtype::Float64, &a, &[50, 100]);
    assert!(truth(
        &ops::allclose(
            &x,
            &arr(Dtype::Float64, &close, &[50, 100]),
            1e-5,
            1e-8,
            false,
            ()
        )
        .unwrap()
    ));
    // One element off.
    let mut off = close.clone();
    off[4321] += 1.0;
    assert!(!truth(
        &ops::allclose(
            &x,
            &arr(Dtype::Float64, &off, &[50, 100]),
            1e-5,
            1e-8,
            false,
            ()
        )
        .unwrap()
    ));
    // A NaN in the same place: close only with equal_nan.
    let (mut p, mut q) = (a.clone(), close.clone());
    p[7] = f64::NAN;
    q[7] = f64::NAN;
    let (p, q) = (arr(Dtype::Float32, &p, &[n]), arr(Dtype::Float32, &q, &[n]));
    assert!(!truth(
        &ops::allclose(&p, &q, 1e-5, 1e-8, false, ()).unwrap()
    ));
    assert!(truth(&ops::allclose(&p, &q, 1e-5, 1e-8, true, ()).unwrap()));
    // Broadcast: every row of a (4, 3) matrix against one row.
    let m = arr(
        Dtype::Float32,
        &[
            1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.000_01,
        ],
        &[4, 3],
    );
    let r = arr(Dtype::Float32, &[1.0, 2.0, 3.0], &[3]);
    assert!(truth(&ops::allclose(&m, &r, 1e-5, 0.0, false, ()).unwrap()));
    assert!(!truth(
        &ops::allclose(&m, &r, 1e-7, 0.0, false, ()).unwrap()
    ));
    // Empty arrays are all close.
    let e = arr(Dtype::Float32, &[], &[0, 3]);
    assert!(truth(
        &ops::allclose(&e, &e, 1e-5, 1e-8, false, ()).unwrap()
    ));
}

#[test]
fn array_equal_compares_after_promotion() {
    let mut rng = StdRng::seed_from_u64(63);
    let v: Vec<f64> = (0..20_000)
        .map(|_| rng.random_range(-1000i64..1000) as f64)
        .collect();
    let i = arr(Dtype::Int32, &v, &[100, 200]);
    let f = arr(Dtype::Float32, &v, &[100, 200]);
    assert!(truth(&ops::array_equal(&i, &f, false, ()).unwrap()));
    let mut w = v.clone();
    w[19_999] += 1.0;
    assert!(!truth(
        &ops::array_equal(&i, &arr(Dtype::Float32, &w, &[100, 200]), false, ()).unwrap()
    ));
    // uint8 255 and int8 -1 meet in int16: different.
    let u = arr(Dtype::Uint8, &[255.0, 1.0], &[2]);
    let s = arr(Dtype::Int8, &[-1.0, 1.0], &[2]);
    assert!(!truth(&ops::array_equal(&u, &s, false, ()).unwrap()));
    // A transposed view equals its own copy laid out that way.
    let t = ops::transpose(&f, None, ()).unwrap();
    let tv: Vec<f64> = (0..200)
        .flat_map(|c| (0..100).map(move |r| (r, c)))
        .map(|(r, c)| v[r * 200 + c])
        .collect();
    assert!(truth(
        &ops::array_equal(&t, &arr(Dtype::Float64, &tv, &[200, 100]), false, ()).unwrap()
    ));
    // NaNs in the same places: equal only with equal_nan.
    let n = arr(Dtype::Float64, &[1.0, f64::NAN, 3.0], &[3]);
    assert!(!truth(&ops::array_equal(&n, &n, false, ()).unwrap()));
    assert!(truth(&ops::array_equal(&n, &n, true, ()).unwrap()));
    let m = arr(Dtype::Float64, &[1.0, 2.0, f64::NAN], &[3]);
    assert!(!truth(&ops::array_equal(&n, &m, true, ()).unwrap()));
    // Bool and complex.
    let b = arr(Dtype::Bool, &[1.0, 0.0], &[2]);
    assert!(truth(
        &ops::array_equal(&b, &arr(Dtype::Int8, &[1.0, 0.0], &[2]), false, ()).unwrap()
    ));
    let z = Array::from_slice(&[Complex32::new(1.0, 0.0), Complex32::new(2.0, 0.0)], &[2]).unwrap();
    assert!(truth(
        &ops::array_equal(&z, &arr(Dtype::Float32, &[1.0, 2.0], &[2]), false, ()).unwrap()
    ));
    let z2 =
        Array::from_slice(&[Complex32::new(1.0, 0.0), Complex32::new(2.0, 1e-3)], &[2]).unwrap();
    assert!(!truth(&ops::array_equal(&z, &z2, false, ()).unwrap()));
}
