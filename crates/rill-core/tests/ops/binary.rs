#![allow(clippy::type_complexity)]
//! Binary ops and `where_` against references computed here, on random inputs, in every dtype
//! family each op accepts; NumPy's integer semantics; broadcasting through strided, transposed and
//! reversed views; large (parallel) arrays; errors.

use crate::common::{arr, round_to};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::num_complex::Complex32;
use rill_core::ops::{self, SliceDim};
use rill_core::{Array, Dtype, Error, Result};

// ---------------------------------------------------------------- helpers

/// One rounding to `dtype` (relative), and its smallest subnormal step (absolute).
fn tolerance(dtype: Dtype) -> (f64, f64) {
    match dtype {
        Dtype::Float16 => (1.0e-3, 6.0e-8),
        Dtype::Bfloat16 => (8.0e-3, 1.0e-38),
        Dtype::Float32 => (1.2e-7, 1.5e-45),
        Dtype::Float64 => (2.3e-16, 5e-324),
        other => panic!("no tolerance for {other}"),
    }
}

/// Random values on a grid `k * 2^-frac` with `|k| < 2^bits`: exactly representable in `dtype`
/// and exact under f64 (and i128) arithmetic in the references.
fn grid(rng: &mut StdRng, n: usize, bits: u32, frac: i32) -> Vec<f64> {
    let m = 1i64 << bits;
    (0..n)
        .map(|_| rng.random_range(-m + 1..m) as f64 * 2f64.powi(-frac))
        .collect()
}

/// Grid bits and fraction bits that `dtype` holds exactly.
fn grid_for(dtype: Dtype) -> (u32, i32) {
    match dtype {
        Dtype::Float16 => (10, 4),
        Dtype::Bfloat16 => (7, 2),
        Dtype::Float32 => (22, 10),
        Dtype::Float64 => (50, 20),
        other => panic!("no grid for {other}"),
    }
}

fn f64s(a: &Array) -> Vec<f64> {
    a.to_vec::<f64>().unwrap()
}

fn check_close(what: &str, dtype: Dtype, got: &[f64], want: &[f64], scale: f64) {
    let (rtol, atol) = tolerance(dtype);
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &r)) in got.iter().zip(want).enumerate() {
        let ok = if r.is_nan() {
            g.is_nan()
        } else if round_to(dtype, r).is_infinite() {
            g == round_to(dtype, r)
        } else {
            (g - r).abs() <= scale * (rtol * r.abs() + atol)
        };
        assert!(ok, "{what} {dtype} [{i}]: got {g:e}, expected {r:e}");
    }
}

type Builder = fn(&Array, &Array) -> Result<Array>;

const FLOATS: [Dtype; 4] = [
    Dtype::Float32,
    Dtype::Float64,
    Dtype::Float16,
    Dtype::Bfloat16,
];

/// Floor division and remainder of grid values, exactly: both scaled to integers, Python's rule.
fn floor_divmod(a: f64, b: f64, frac: i32) -> (f64, f64) {
    let s = 2f64.powi(frac);
    let (x, y) = ((a * s) as i128, (b * s) as i128);
    let (mut q, mut r) = (x / y, x % y);
    if r != 0 && ((r < 0) != (y < 0)) {
        q -= 1;
        r += y;
    }
    (q as f64, r as f64 / s)
}

// ---------------------------------------------------------------- floats

#[test]
fn float_arithmetic_matches_f64_references() {
    let mut rng = StdRng::seed_from_u64(21);
    type Case = (&'static str, Builder, fn(f64, f64) -> f64, f64);
    let cases: Vec<Case> = vec![
        ("add", |a, b| ops::add(a, b, ()), |x, y| x + y, 1.0),
        (
            "subtract",
            |a, b| ops::subtract(a, b, ()),
            |x, y| x - y,
            1.0,
        ),
        (
            "multiply",
            |a, b| ops::multiply(a, b, ()),
            |x, y| x * y,
            1.0,
        ),
        ("divide", |a, b| ops::divide(a, b, ()), |x, y| x / y, 1.0),
        ("maximum", |a, b| ops::maximum(a, b, ()), f64::max, 0.0),
        ("minimum", |a, b| ops::minimum(a, b, ()), f64::min, 0.0),
        ("arctan2", |a, b| ops::arctan2(a, b, ()), f64::atan2, 2.0),
        (
            "logaddexp",
            |a, b| ops::logaddexp(a, b, ()),
            |x, y| {
                let m = x.max(y);
                m + ((x - m).exp() + (y - m).exp()).ln()
            },
            4.0,
        ),
    ];
    for dtype in FLOATS {
        let (bits, frac) = grid_for(dtype);
        for (name, build, reference, scale) in &cases {
            let x = grid(&mut rng, 600, bits, frac);
            let mut y = grid(&mut rng, 600, bits, frac);
            // Some equal operands (maximum/minimum ties, subtract to zero).
            y[..30].copy_from_slice(&x[..30]);
            let out = build(&arr(dtype, &x, &[20, 30]), &arr(dtype, &y, &[20, 30])).unwrap();
            assert_eq!(out.dtype(), dtype, "{name}");
            let want: Vec<f64> = x.iter().zip(&y).map(|(&a, &b)| reference(a, b)).collect();
            check_close(name, dtype, &f64s(&out), &want, *scale);
        }
    }
}

#[test]
fn float_floor_divide_and_remainder_are_numpys() {
    let mut rng = StdRng::seed_from_u64(22);
    for dtype in FLOATS {
        let (bits, frac) = grid_for(dtype);
        let x = grid(&mut rng, 1000, bits, frac);
        let y: Vec<f64> = grid(&mut rng, 1000, bits, frac)
            .into_iter()
            .map(|v| if v == 0.0 { 1.5 } else { v })
            .collect();
        let (a, b) = (arr(dtype, &x, &[1000]), arr(dtype, &y, &[1000]));
        let q = f64s(&ops::floor_divide(&a, &b, ()).unwrap());
        let r = f64s(&ops::remainder(&a, &b, ()).unwrap());
        for i in 0..1000 {
            let (wq, wr) = floor_divmod(x[i], y[i], frac);
            assert_eq!(q[i], round_to(dtype, wq), "{dtype} {} // {}", x[i], y[i]);
            assert_eq!(r[i], wr, "{dtype} {} % {}", x[i], y[i]);
        }
    }
    // np.floor_divide / np.remainder, float32:
    //   [1, -1, 7, -7, 1, -7, 7, -4, 1, -1] and [0.1, 0, 0, 2, inf, -2, -inf, 2, -inf, inf]
    let a = arr(
        Dtype::Float32,
        &[1.0, -1.0, 7.0, -7.0, 1.0, -7.0, 7.0, -4.0, 1.0, -1.0],
        &[10],
    );
    let inf = f64::INFINITY;
    let b = arr(
        Dtype::Float32,
        &[0.1, 0.0, 0.0, 2.0, inf, -2.0, -inf, 2.0, -inf, inf],
        &[10],
    );
    let q = f64s(&ops::floor_divide(&a, &b, ()).unwrap());
    assert_eq!(
        &q[..],
        &[9.0, -inf, inf, -4.0, 0.0, 3.0, -1.0, -2.0, -1.0, -1.0]
    );
    let r = f64s(&ops::remainder(&a, &b, ()).unwrap());
    let want_r = [
        0.099_999_986_588_954_93,
        f64::NAN,
        f64::NAN,
        1.0,
        1.0,
        -1.0,
        -inf,
        0.0,
        -inf,
        inf,
    ];
    for (g, w) in r.iter().zip(want_r) {
        assert!((w.is_nan() && g.is_nan()) || *g == w, "remainder: {r:?}");
    }
}

#[test]
fn power_matches_f64_references() {
    let mut rng = StdRng::seed_from_u64(23);
    for dtype in FLOATS {
        let x: Vec<f64> = (0..500)
            .map(|_| round_to(dtype, rng.random_range(0.1..8.0)))
            .collect();
        let y: Vec<f64> = (0..500)
            .map(|_| round_to(dtype, rng.random_range(-3.0..3.0)))
            .collect();
        let out = ops::power(&arr(dtype, &x, &[500]), &arr(dtype, &y, &[500]), ()).unwrap();
        let want: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a.powf(*b)).collect();
        check_close("power", dtype, &f64s(&out), &want, 2.0);
    }
    // Negative bases to whole powers; 0^0 = 1; a negative base to a fractional power is NaN.
    let a = arr(Dtype::Float32, &[-2.0, -3.0, 0.0, -2.0, 4.0], &[5]);
    let b = arr(Dtype::Float32, &[3.0, 2.0, 0.0, 0.5, -0.5], &[5]);
    let p = f64s(&ops::power(&a, &b, ()).unwrap());
    assert_eq!(&p[..2], &[-8.0, 9.0]);
    assert_eq!(p[2], 1.0);
    assert!(p[3].is_nan());
    assert_eq!(p[4], 0.5);
}

#[test]
fn maximum_and_minimum_propagate_nan() {
    let nan = f64::NAN;
    for dtype in FLOATS {
        let a = arr(dtype, &[nan, 1.0, nan, -0.5, 2.0], &[5]);
        let b = arr(dtype, &[1.0, nan, nan, -1.0, 3.0], &[5]);
        let mx = f64s(&ops::maximum(&a, &b, ()).unwrap());
        let mn = f64s(&ops::minimum(&a, &b, ()).unwrap());
        assert!(
            mx[..3].iter().all(|v| v.is_nan()) && mx[3..] == [-0.5, 3.0],
            "{dtype} maximum {mx:?}"
        );
        assert!(
            mn[..3].iter().all(|v| v.is_nan()) && mn[3..] == [-1.0, 2.0],
            "{dtype} minimum {mn:?}"
        );
    }
}

#[test]
fn logaddexp_keeps_tiny_terms_and_handles_infinities() {
    let inf = f64::INFINITY;
    for dtype in FLOATS {
        let nan = f64::NAN;
        let a = arr(
            dtype,
            &[0.0, -inf, inf, -inf, nan, 2.0, nan, nan, inf, -inf],
            &[10],
        );
        let b = arr(
            dtype,
            &[-15.0, -inf, 1.0, 3.0, 0.0, inf, inf, -inf, nan, nan],
            &[10],
        );
        let got = f64s(&ops::logaddexp(&a, &b, ()).unwrap());
        // ln(1 + e^-15): the 1 must not swallow the tiny term.
        check_close(
            "logaddexp",
            dtype,
            &got[..1],
            &[(-15f64).exp().ln_1p()],
            2.0,
        );
        assert_eq!(&got[1..4], &[-inf, inf, 3.0], "{dtype}");
        assert!(got[4].is_nan() && got[5] == inf, "{dtype}: {got:?}");
        // NaN beside an infinity is still NaN (NumPy, MLX).
        assert!(got[6..].iter().all(|v| v.is_nan()), "{dtype}: {got:?}");
    }
}

#[test]
fn float_comparisons_and_logic_with_nan() {
    let mut rng = StdRng::seed_from_u64(24);
    for dtype in FLOATS {
        // Values from a small set, so that equal pairs are common; NaN and infinities included.
        let pool = [
            -2.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        let x: Vec<f64> = (0..400)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect();
        let y: Vec<f64> = (0..400)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect();
        let (a, b) = (arr(dtype, &x, &[400]), arr(dtype, &y, &[400]));
        type Cmp = (&'static str, Builder, fn(f64, f64) -> bool);
        let cases: Vec<Cmp> = vec![
            ("equal", |a, b| ops::equal(a, b, ()), |x, y| x == y),
            ("not_equal", |a, b| ops::not_equal(a, b, ()), |x, y| x != y),
            ("less", |a, b| ops::less(a, b, ()), |x, y| x < y),
            (
                "less_equal",
                |a, b| ops::less_equal(a, b, ()),
                |x, y| x <= y,
            ),
            ("greater", |a, b| ops::greater(a, b, ()), |x, y| x > y),
            (
                "greater_equal",
                |a, b| ops::greater_equal(a, b, ()),
                |x, y| x >= y,
            ),
            (
                "logical_and",
                |a, b| ops::logical_and(a, b, ()),
                |x, y| x != 0.0 && y != 0.0,
            ),
            (
                "logical_or",
                |a, b| ops::logical_or(a, b, ()),
                |x, y| x != 0.0 || y != 0.0,
            ),
        ];
        for (name, build, reference) in cases {
            let out = build(&a, &b).unwrap();
            assert_eq!(out.dtype(), Dtype::Bool, "{name}");
            let want: Vec<bool> = x.iter().zip(&y).map(|(&p, &q)| reference(p, q)).collect();
            assert_eq!(out.to_vec::<bool>().unwrap(), want, "{name} {dtype}");
        }
    }
}

// ---------------------------------------------------------------- integers

macro_rules! int_binary_test {
    ($name:ident, $t:ty, $seed:expr) => {
        #[test]
        fn $name() {
            const BITS: u32 = <$t>::BITS;
            let mut rng = StdRng::seed_from_u64($seed);
            let n = 2000;
            let mut x: Vec<$t> = (0..n).map(|_| rng.random::<$t>()).collect();
            let mut y: Vec<$t> = (0..n).map(|_| rng.random::<$t>()).collect();
            // Small divisors, zeros, -1, MIN and MAX, where the rules bite.
            for i in 0..200 {
                y[i] = (rng.random_range(-5i64..6) as i128) as $t;
            }
            let specials = [
                <$t>::MIN,
                <$t>::MAX,
                0 as $t,
                1 as $t,
                (0 as $t).wrapping_sub(1),
            ];
            for (i, &s) in specials.iter().enumerate() {
                for (j, &t) in specials.iter().enumerate() {
                    x[200 + 5 * i + j] = s;
                    y[200 + 5 * i + j] = t;
                }
            }
            let (a, b) = (
                Array::from_slice(&x, &[n]).unwrap(),
                Array::from_slice(&y, &[n]).unwrap(),
            );
            let dt = a.dtype();
            let w = |v: $t| v as i128;
            let same = |r: Result<Array>| {
                let r = r.unwrap();
                assert_eq!(r.dtype(), dt);
                r.to_vec::<$t>().unwrap()
            };
            let each = |f: &dyn Fn(i128, i128) -> i128| -> Vec<$t> {
                x.iter()
                    .zip(&y)
                    .map(|(&p, &q)| f(w(p), w(q)) as $t)
                    .collect()
            };
            // Wrapping arithmetic: the exact i128 result truncated to the type.
            assert_eq!(same(ops::add(&a, &b, ())), each(&|p, q| p + q), "add");
            assert_eq!(
                same(ops::subtract(&a, &b, ())),
                each(&|p, q| p - q),
                "subtract"
            );
            assert_eq!(
                same(ops::multiply(&a, &b, ())),
                each(&|p, q| p.wrapping_mul(q)),
                "multiply"
            );
            assert_eq!(
                same(ops::maximum(&a, &b, ())),
                each(&|p, q| p.max(q)),
                "maximum"
            );
            assert_eq!(
                same(ops::minimum(&a, &b, ())),
                each(&|p, q| p.min(q)),
                "minimum"
            );
            // Python's // and %: floor, remainder with the divisor's sign; 0 for a zero divisor.
            let floor_div = |p: i128, q: i128| {
                if q == 0 {
                    return (0, 0);
                }
                let (d, r) = (p / q, p % q);
                if r != 0 && ((r < 0) != (q < 0)) {
                    (d - 1, r + q)
                } else {
                    (d, r)
                }
            };
            assert_eq!(
                same(ops::floor_divide(&a, &b, ())),
                each(&|p, q| floor_div(p, q).0),
                "floor_divide"
            );
            assert_eq!(
                same(ops::remainder(&a, &b, ())),
                each(&|p, q| floor_div(p, q).1),
                "remainder"
            );
            assert_eq!(
                same(ops::bitwise_and(&a, &b, ())),
                each(&|p, q| p & q),
                "bitwise_and"
            );
            assert_eq!(
                same(ops::bitwise_or(&a, &b, ())),
                each(&|p, q| p | q),
                "bitwise_or"
            );
            assert_eq!(
                same(ops::bitwise_xor(&a, &b, ())),
                each(&|p, q| p ^ q),
                "bitwise_xor"
            );
            let bools = |r: Result<Array>| r.unwrap().to_vec::<bool>().unwrap();
            let test = |f: &dyn Fn($t, $t) -> bool| -> Vec<bool> {
                x.iter().zip(&y).map(|(&p, &q)| f(p, q)).collect()
            };
            assert_eq!(bools(ops::equal(&a, &b, ())), test(&|p, q| p == q), "equal");
            assert_eq!(
                bools(ops::not_equal(&a, &b, ())),
                test(&|p, q| p != q),
                "not_equal"
            );
            assert_eq!(bools(ops::less(&a, &b, ())), test(&|p, q| p < q), "less");
            assert_eq!(
                bools(ops::less_equal(&a, &b, ())),
                test(&|p, q| p <= q),
                "less_equal"
            );
            assert_eq!(
                bools(ops::greater(&a, &b, ())),
                test(&|p, q| p > q),
                "greater"
            );
            assert_eq!(
                bools(ops::greater_equal(&a, &b, ())),
                test(&|p, q| p >= q),
                "greater_equal"
            );
            assert_eq!(
                bools(ops::logical_and(&a, &b, ())),
                test(&|p, q| p != 0 as $t && q != 0 as $t),
                "logical_and"
            );
            assert_eq!(
                bools(ops::logical_or(&a, &b, ())),
                test(&|p, q| p != 0 as $t || q != 0 as $t),
                "logical_or"
            );

            // Shifts, with amounts past the width and (for signed types) negative: NumPy gives 0,
            // or the sign fill for a right shift.
            let s: Vec<$t> = (0..n)
                .map(|_| (rng.random_range(-3i64..BITS as i64 + 4) as i128) as $t)
                .collect();
            let sh = Array::from_slice(&s, &[n]).unwrap();
            let shift = |left: bool| -> Vec<$t> {
                x.iter()
                    .zip(&s)
                    .map(|(&p, &k)| {
                        let (p, k) = (w(p), w(k));
                        if k < 0 || k >= BITS as i128 {
                            if left || p >= 0 {
                                0 as $t
                            } else {
                                (0 as $t).wrapping_sub(1)
                            }
                        } else if left {
                            (p << k) as $t
                        } else {
                            (p >> k) as $t
                        }
                    })
                    .collect()
            };
            assert_eq!(
                same(ops::left_shift(&a, &sh, ())),
                shift(true),
                "left_shift"
            );
            assert_eq!(
                same(ops::right_shift(&a, &sh, ())),
                shift(false),
                "right_shift"
            );

            // Powers of small numbers (wrapping), and the negative-exponent rule.
            let base: Vec<$t> = (0..n)
                .map(|_| (rng.random_range(-9i64..10) as i128) as $t)
                .collect();
            let exp: Vec<$t> = (0..n)
                .map(|_| (rng.random_range(-2i64..40) as i128) as $t)
                .collect();
            let p = ops::power(
                &Array::from_slice(&base, &[n]).unwrap(),
                &Array::from_slice(&exp, &[n]).unwrap(),
                (),
            )
            .unwrap();
            assert_eq!(p.dtype(), dt);
            let want: Vec<$t> = base
                .iter()
                .zip(&exp)
                .map(|(&b, &e)| {
                    let (b, e) = (w(b), w(e));
                    if e < 0 {
                        // Only 1 and -1 have integer reciprocals.
                        (match b {
                            1 => 1,
                            -1 => {
                                if e % 2 == 0 {
                                    1
                                } else {
                                    -1
                                }
                            }
                            _ => 0,
                        }) as $t
                    } else {
                        // Square and multiply mod 2^128 (the exponent of an unsigned -1 is 2^64 - 1).
                        let (mut acc, mut sq, mut k) = (1i128, b, e as u128);
                        while k > 0 {
                            if k & 1 == 1 {
                                acc = acc.wrapping_mul(sq);
                            }
                            sq = sq.wrapping_mul(sq);
                            k >>= 1;
                        }
                        acc as $t
                    }
                })
                .collect();
            assert_eq!(p.to_vec::<$t>().unwrap(), want, "power");

            // True division and the float functions compute in float32.
            let d = ops::divide(&a, &b, ()).unwrap();
            assert_eq!(d.dtype(), Dtype::Float32);
            let want: Vec<f64> = x
                .iter()
                .zip(&y)
                .map(|(&p, &q)| ((p as f32 as f64) / (q as f32 as f64)) as f32 as f64)
                .collect();
            let got = f64s(&d);
            for i in 0..n {
                assert!(
                    got[i] == want[i] || (got[i].is_nan() && want[i].is_nan()),
                    "divide {} / {}",
                    x[i],
                    y[i]
                );
            }
            let t = ops::arctan2(&a, &b, ()).unwrap();
            assert_eq!(t.dtype(), Dtype::Float32);
            let want: Vec<f64> = x
                .iter()
                .zip(&y)
                .map(|(&p, &q)| (p as f32 as f64).atan2(q as f32 as f64))
                .collect();
            check_close("arctan2", Dtype::Float32, &f64s(&t), &want, 2.0);
        }
    };
}
int_binary_test!(int8_binary_ops, i8, 31);
int_binary_test!(int16_binary_ops, i16, 32);
int_binary_test!(int32_binary_ops, i32, 33);
int_binary_test!(int64_binary_ops, i64, 34);
int_binary_test!(uint8_binary_ops, u8, 35);
int_binary_test!(uint16_binary_ops, u16, 36);
int_binary_test!(uint32_binary_ops, u32, 37);
int_binary_test!(uint64_binary_ops, u64, 38);

#[test]
fn integer_division_matches_numpy_with_negatives_and_zero() {
    // np.floor_divide / np.remainder on int8 [-128, -7, 7, -7, 5, 0, -128] by [-1, 2, -2, 0, 0, 0, 1].
    let a = Array::from_slice(&[-128i8, -7, 7, -7, 5, 0, -128], &[7]).unwrap();
    let b = Array::from_slice(&[-1i8, 2, -2, 0, 0, 0, 1], &[7]).unwrap();
    assert_eq!(
        ops::floor_divide(&a, &b, ())
            .unwrap()
            .to_vec::<i8>()
            .unwrap(),
        vec![-128, -4, -4, 0, 0, 0, -128]
    );
    assert_eq!(
        ops::remainder(&a, &b, ()).unwrap().to_vec::<i8>().unwrap(),
        vec![0, 1, -1, 0, 0, 0, 0]
    );
    // Unsigned: np.floor_divide(np.uint8([200, 5]), np.uint8([7, 0])) == [28, 0]; remainder [4, 0].
    let a = Array::from_slice(&[200u8, 5], &[2]).unwrap();
    let b = Array::from_slice(&[7u8, 0], &[2]).unwrap();
    assert_eq!(
        ops::floor_divide(&a, &b, ())
            .unwrap()
            .to_vec::<u8>()
            .unwrap(),
        vec![28, 0]
    );
    assert_eq!(
        ops::remainder(&a, &b, ()).unwrap().to_vec::<u8>().unwrap(),
        vec![4, 0]
    );
    // Mixed signs through promotion: uint8 and int8 meet in int16.
    let a = Array::from_slice(&[250u8, 7], &[2]).unwrap();
    let b = Array::from_slice(&[-3i8, -2], &[2]).unwrap();
    let q = ops::floor_divide(&a, &b, ()).unwrap();
    assert_eq!(q.dtype(), Dtype::Int16);
    assert_eq!(q.to_vec::<i16>().unwrap(), vec![-84, -4]);
    assert_eq!(
        ops::remainder(&a, &b, ()).unwrap().to_vec::<i16>().unwrap(),
        vec![-2, -1]
    );
}

// ---------------------------------------------------------------- bool

#[test]
fn bool_binary_ops() {
    let x = [false, false, true, true];
    let y = [false, true, false, true];
    let (a, b) = (
        Array::from_slice(&x, &[4]).unwrap(),
        Array::from_slice(&y, &[4]).unwrap(),
    );
    let bools = |r: Result<Array>| {
        let r = r.unwrap();
        assert_eq!(r.dtype(), Dtype::Bool);
        r.to_vec::<bool>().unwrap()
    };
    assert_eq!(bools(ops::add(&a, &b, ())), vec![false, true, true, true]);
    assert_eq!(
        bools(ops::multiply(&a, &b, ())),
        vec![false, false, false, true]
    );
    assert_eq!(
        bools(ops::maximum(&a, &b, ())),
        vec![false, true, true, true]
    );
    assert_eq!(
        bools(ops::minimum(&a, &b, ())),
        vec![false, false, false, true]
    );
    assert_eq!(
        bools(ops::bitwise_and(&a, &b, ())),
        vec![false, false, false, true]
    );
    assert_eq!(
        bools(ops::bitwise_or(&a, &b, ())),
        vec![false, true, true, true]
    );
    assert_eq!(
        bools(ops::bitwise_xor(&a, &b, ())),
        vec![false, true, true, false]
    );
    assert_eq!(
        bools(ops::logical_and(&a, &b, ())),
        vec![false, false, false, true]
    );
    assert_eq!(
        bools(ops::logical_or(&a, &b, ())),
        vec![false, true, true, true]
    );
    assert_eq!(
        bools(ops::equal(&a, &b, ())),
        vec![true, false, false, true]
    );
    assert_eq!(
        bools(ops::not_equal(&a, &b, ())),
        vec![false, true, true, false]
    );
    assert_eq!(
        bools(ops::less(&a, &b, ())),
        vec![false, true, false, false]
    );
    assert_eq!(
        bools(ops::less_equal(&a, &b, ())),
        vec![true, true, false, true]
    );
    assert_eq!(
        bools(ops::greater(&a, &b, ())),
        vec![false, false, true, false]
    );
    assert_eq!(
        bools(ops::greater_equal(&a, &b, ())),
        vec![true, false, true, true]
    );
    // As NumPy: // % and ** treat bool as the smallest integer (int8 here).
    let i8s = |r: Result<Array>| {
        let r = r.unwrap();
        assert_eq!(r.dtype(), Dtype::Int8);
        r.to_vec::<i8>().unwrap()
    };
    assert_eq!(i8s(ops::floor_divide(&a, &b, ())), vec![0, 0, 0, 1]);
    assert_eq!(i8s(ops::remainder(&a, &b, ())), vec![0, 0, 0, 0]);
    assert_eq!(i8s(ops::power(&a, &b, ())), vec![1, 0, 1, 1]);
    let shl = ops::left_shift(&a, &b, ()).unwrap();
    assert_eq!(shl.dtype(), Dtype::Uint8);
    assert_eq!(shl.to_vec::<u8>().unwrap(), vec![0, 0, 1, 2]);
    assert_eq!(
        ops::right_shift(&a, &b, ())
            .unwrap()
            .to_vec::<u8>()
            .unwrap(),
        vec![0, 0, 1, 0]
    );
    let d = ops::divide(&a, &b, ()).unwrap();
    assert_eq!(d.dtype(), Dtype::Float32);
    let d = f64s(&d);
    assert!(
        d[0].is_nan() && d[1..] == [0.0, f64::INFINITY, 1.0],
        "{d:?}"
    );
    let l = f64s(&ops::logaddexp(&a, &b, ()).unwrap());
    let ln2 = std::f64::consts::LN_2;
    let want = [
        ln2,
        1.0 + (-1f64).exp().ln_1p(),
        1.0 + (-1f64).exp().ln_1p(),
        1.0 + ln2,
    ];
    check_close("logaddexp", Dtype::Float32, &l, &want, 4.0);
}

// ---------------------------------------------------------------- complex

type C = (f64, f64);

fn cexp(z: C) -> C {
    (z.0.exp() * z.1.cos(), z.0.exp() * z.1.sin())
}
fn cln(z: C) -> C {
    (z.0.hypot(z.1).ln(), z.1.atan2(z.0))
}
fn cmul(a: C, b: C) -> C {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

#[test]
fn complex_binary_ops_match_closed_forms() {
    let mut rng = StdRng::seed_from_u64(41);
    let n = 500;
    let mut rc = || Complex32::new(rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
    let x: Vec<Complex32> = (0..n).map(|_| rc()).collect();
    let mut y: Vec<Complex32> = (0..n).map(|_| rc()).collect();
    y[..20].copy_from_slice(&x[..20]);
    // Equal real parts, so that the ordering has to look at the imaginary parts.
    for i in 20..40 {
        y[i].re = x[i].re;
    }
    let (a, b) = (
        Array::from_slice(&x, &[n]).unwrap(),
        Array::from_slice(&y, &[n]).unwrap(),
    );
    let w = |z: Complex32| (z.re as f64, z.im as f64);
    type Case = (&'static str, Builder, fn(C, C) -> C);
    let cases: Vec<Case> = vec![
        (
            "add",
            |a, b| ops::add(a, b, ()),
            |p, q| (p.0 + q.0, p.1 + q.1),
        ),
        (
            "subtract",
            |a, b| ops::subtract(a, b, ()),
            |p, q| (p.0 - q.0, p.1 - q.1),
        ),
        ("multiply", |a, b| ops::multiply(a, b, ()), cmul),
        (
            "divide",
            |a, b| ops::divide(a, b, ()),
            |p, q| {
                let d = q.0 * q.0 + q.1 * q.1;
                ((p.0 * q.0 + p.1 * q.1) / d, (p.1 * q.0 - p.0 * q.1) / d)
            },
        ),
        (
            "power",
            |a, b| ops::power(a, b, ()),
            |p, q| cexp(cmul(q, cln(p))),
        ),
    ];
    for (name, build, reference) in cases {
        let out = build(&a, &b).unwrap();
        assert_eq!(out.dtype(), Dtype::Complex64, "{name}");
        for (i, g) in out.to_vec::<Complex32>().unwrap().iter().enumerate() {
            let r = reference(w(x[i]), w(y[i]));
            let err = (g.re as f64 - r.0).hypot(g.im as f64 - r.1);
            // f32 arithmetic: a few roundings, power through exp and log a few more.
            let tol = if name == "power" { 2e-5 } else { 1e-6 };
            assert!(
                err <= tol * r.0.hypot(r.1),
                "{name}({}, {}) = {g}, expected {r:?}",
                x[i],
                y[i]
            );
        }
    }
    // NumPy's lexicographic order, and maximum/minimum by it.
    let lt = |p: Complex32, q: Complex32| p.re < q.re || (p.re == q.re && p.im < q.im);
    let bools = |r: Result<Array>| r.unwrap().to_vec::<bool>().unwrap();
    let test = |f: &dyn Fn(Complex32, Complex32) -> bool| -> Vec<bool> {
        x.iter().zip(&y).map(|(&p, &q)| f(p, q)).collect()
    };
    assert_eq!(
        bools(ops::equal(&a, &b, ())),
        test(&|p, q| p.re == q.re && p.im == q.im)
    );
    assert_eq!(
        bools(ops::not_equal(&a, &b, ())),
        test(&|p, q| p.re != q.re || p.im != q.im)
    );
    assert_eq!(bools(ops::less(&a, &b, ())), test(&|p, q| lt(p, q)));
    assert_eq!(bools(ops::less_equal(&a, &b, ())), test(&|p, q| !lt(q, p)));
    assert_eq!(bools(ops::greater(&a, &b, ())), test(&|p, q| lt(q, p)));
    assert_eq!(
        bools(ops::greater_equal(&a, &b, ())),
        test(&|p, q| !lt(p, q))
    );
    let mx = ops::maximum(&a, &b, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    let mn = ops::minimum(&a, &b, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    for i in 0..n {
        let (p, q) = (x[i], y[i]);
        assert_eq!(mx[i], if lt(p, q) { q } else { p }, "maximum({p}, {q})");
        assert_eq!(mn[i], if lt(q, p) { q } else { p }, "minimum({p}, {q})");
    }
    // A NaN in either part of either input wins (MLX).
    let p = Array::from_slice(
        &[Complex32::new(f32::NAN, 0.0), Complex32::new(1.0, 5.0)],
        &[2],
    )
    .unwrap();
    let q = Array::from_slice(
        &[Complex32::new(9.0, 0.0), Complex32::new(2.0, f32::NAN)],
        &[2],
    )
    .unwrap();
    for r in [ops::maximum(&p, &q, ()), ops::minimum(&p, &q, ())] {
        let r = r.unwrap().to_vec::<Complex32>().unwrap();
        assert!(r.iter().all(|z| z.re.is_nan() || z.im.is_nan()), "{r:?}");
    }
}

// ---------------------------------------------------------------- broadcasting and layouts

/// The element at row-major `idx` of an array of `shape`, from `at(multi_index)`.
fn logical(shape: &[usize], at: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        out.push(at(&idx));
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

#[test]
fn broadcasting_through_views() {
    let mut rng = StdRng::seed_from_u64(51);
    let (r, c) = (13, 17);
    let v = grid(&mut rng, r * c, 20, 8);
    let u = grid(&mut rng, c, 20, 8);
    let m = arr(Dtype::Float64, &v, &[r, c]);
    let row = arr(Dtype::Float64, &u, &[c]);
    let at = |i: usize, j: usize| v[i * c + j];

    // (r, c) - (c,): the row repeats down (stride 0).
    let got = f64s(&ops::subtract(&m, &row, ()).unwrap());
    assert_eq!(got, logical(&[r, c], |ix| at(ix[0], ix[1]) - u[ix[1]]));

    // (c, r) transposed view * (c, 1) column: transposed strides on one side, stride 0 on the other.
    let t = ops::transpose(&m, None, ()).unwrap();
    let col = ops::reshape(&row, &[c as isize, 1], ()).unwrap();
    let got = f64s(&ops::multiply(&t, &col, ()).unwrap());
    assert_eq!(got, logical(&[c, r], |ix| at(ix[1], ix[0]) * u[ix[0]]));

    // (r, 1, c) + (1, c, 1)... via reshapes: an outer product-shaped broadcast of two views.
    let a3 = ops::reshape(&m, &[r as isize, 1, c as isize], ()).unwrap();
    let b3 = ops::reshape(&row, &[1, c as isize, 1], ()).unwrap();
    let got = f64s(&ops::add(&a3, &b3, ()).unwrap());
    assert_eq!(got, logical(&[r, c, c], |ix| at(ix[0], ix[2]) + u[ix[1]]));

    // Both dims reversed (negative steps) against every-other column reversed, broadcast down.
    let rev = ops::slice_dims(
        &m,
        &[
            SliceDim {
                start: r - 1,
                step: -1,
                len: r,
            },
            SliceDim {
                start: c - 1,
                step: -1,
                len: c,
            },
        ],
        (),
    )
    .unwrap();
    let rrow = ops::slice(&row, &[-1], &[-(c as isize) - 1], &[-1], ()).unwrap();
    let got = f64s(&ops::maximum(&rev, &rrow, ()).unwrap());
    assert_eq!(
        got,
        logical(&[r, c], |ix| at(r - 1 - ix[0], c - 1 - ix[1])
            .max(u[c - 1 - ix[1]]))
    );

    // An explicit broadcast_to view (stride 0) against a 0-d scalar.
    let b = ops::broadcast_to(&row, &[4, c], ()).unwrap();
    let s = arr(Dtype::Float64, &[2.5], &[]);
    let got = f64s(&ops::divide(&s, &b, ()).unwrap());
    assert_eq!(got, logical(&[4, c], |ix| 2.5 / u[ix[1]]));

    // Mixed dtypes broadcast and promote: int32 column (r, 1) + float32 row (c,) -> float32.
    let ic: Vec<f64> = (0..r).map(|i| i as f64 * 3.0 - 7.0).collect();
    let ia = arr(Dtype::Int32, &ic, &[r, 1]);
    let fr = arr(Dtype::Float32, &u, &[c]);
    let sum = ops::add(&ia, &fr, ()).unwrap();
    assert_eq!((sum.dtype(), sum.shape()), (Dtype::Float32, &[r, c][..]));
    assert_eq!(
        f64s(&sum),
        logical(&[r, c], |ix| round_to(
            Dtype::Float32,
            ic[ix[0]] + round_to(Dtype::Float32, u[ix[1]])
        ))
    );
}

#[test]
fn large_arrays_take_the_parallel_path() {
    let mut rng = StdRng::seed_from_u64(52);
    let n = 250_003;
    let x = grid(&mut rng, n, 22, 10);
    let y = grid(&mut rng, n, 22, 10);
    let (a, b) = (arr(Dtype::Float32, &x, &[n]), arr(Dtype::Float32, &y, &[n]));
    let got = f64s(&ops::multiply(&a, &b, ()).unwrap());
    let want: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p * q).collect();
    check_close("multiply (large)", Dtype::Float32, &got, &want, 1.0);
    let lt = ops::less(&a, &b, ()).unwrap().to_vec::<bool>().unwrap();
    assert!(lt
        .iter()
        .zip(x.iter().zip(&y))
        .all(|(l, (p, q))| *l == (p < q)));
    // A large broadcast: (500, 1) int64 by (1, 401) int64, through a transposed view.
    let (r, c) = (500usize, 401usize);
    let col: Vec<f64> = (0..r).map(|i| (i as f64) * 1_000_003.0 - 9e8).collect();
    let rowv: Vec<f64> = (0..c).map(|j| (j as f64) * 7.0 + 1.0).collect();
    let ca = arr(Dtype::Int64, &col, &[r, 1]);
    let ra = ops::transpose(&arr(Dtype::Int64, &rowv, &[c, 1]), None, ()).unwrap();
    let q = ops::floor_divide(&ca, &ra, ())
        .unwrap()
        .to_vec::<i64>()
        .unwrap();
    let want = logical(&[r, c], |ix| (col[ix[0]] / rowv[ix[1]]).floor());
    assert!(q.iter().zip(&want).all(|(g, w)| *g as f64 == *w));
}

#[test]
fn where_broadcasts_and_promotes() {
    let mut rng = StdRng::seed_from_u64(53);
    // cond (3, 1), x (1, 4) int32, y () float32: out (3, 4) float32.
    let cv = [1.0, 0.0, 1.0];
    let cond = arr(Dtype::Bool, &cv, &[3, 1]);
    let xv = [1.0, -2.0, 3.0, 40.0];
    let x = arr(Dtype::Int32, &xv, &[1, 4]);
    let y = arr(Dtype::Float32, &[0.5], &[]);
    let w = ops::where_(&cond, &x, &y, ()).unwrap();
    assert_eq!((w.dtype(), w.shape()), (Dtype::Float32, &[3, 4][..]));
    assert_eq!(
        f64s(&w),
        logical(&[3, 4], |ix| if cv[ix[0]] != 0.0 { xv[ix[1]] } else { 0.5 })
    );
    // A non-bool condition means "nonzero" (NaN included).
    let fc = arr(Dtype::Float32, &[0.0, f64::NAN, -1.0, 0.0], &[4]);
    let got = f64s(
        &ops::where_(
            &fc,
            &arr(Dtype::Int64, &[1.0; 4], &[4]),
            &arr(Dtype::Int64, &[2.0; 4], &[4]),
            (),
        )
        .unwrap(),
    );
    assert_eq!(got, vec![2.0, 1.0, 1.0, 2.0]);
    // Large, with transposed and reversed branches.
    let (r, c) = (400, 300);
    let xv = grid(&mut rng, r * c, 20, 4);
    let yv = grid(&mut rng, r * c, 20, 4);
    let cv: Vec<f64> = (0..r * c).map(|_| rng.random_range(0..2) as f64).collect();
    let cond = arr(Dtype::Bool, &cv, &[r, c]);
    let xt = ops::transpose(&arr(Dtype::Float64, &xv, &[c, r]), None, ()).unwrap();
    let yr = ops::slice_dims(
        &arr(Dtype::Float64, &yv, &[r, c]),
        &[
            SliceDim {
                start: r - 1,
                step: -1,
                len: r,
            },
            SliceDim {
                start: 0,
                step: 1,
                len: c,
            },
        ],
        (),
    )
    .unwrap();
    let got = f64s(&ops::where_(&cond, &xt, &yr, ()).unwrap());
    let want = logical(&[r, c], |ix| {
        if cv[ix[0] * c + ix[1]] != 0.0 {
            xv[ix[1] * r + ix[0]]
        } else {
            yv[(r - 1 - ix[0]) * c + ix[1]]
        }
    });
    assert_eq!(got, want);
    // A random contiguous mask with each branch contiguous or one value broadcast (the kernel's
    // slice loops: both arrays, array and value, value and array, two values), longer than one
    // thread's chunk.
    let n = 70_000;
    let cv: Vec<f64> = (0..n).map(|_| rng.random_range(0..2) as f64).collect();
    let (av, bv) = (grid(&mut rng, n, 20, 4), grid(&mut rng, n, 20, 4));
    let cond = arr(Dtype::Bool, &cv, &[n]);
    let (a, b) = (
        arr(Dtype::Float32, &av, &[n]),
        arr(Dtype::Float32, &bv, &[n]),
    );
    let (sa, sb) = (
        arr(Dtype::Float32, &[2.5], &[]),
        arr(Dtype::Float32, &[-7.0], &[]),
    );
    for (x, y, xs, ys) in [
        (&a, &b, Some(&av), Some(&bv)),
        (&a, &sb, Some(&av), None),
        (&sa, &b, None, Some(&bv)),
        (&sa, &sb, None, None),
    ] {
        let got = f64s(&ops::where_(&cond, x, y, ()).unwrap());
        for i in 0..n {
            let want = if cv[i] != 0.0 {
                xs.map_or(2.5, |v| v[i])
            } else {
                ys.map_or(-7.0, |v| v[i])
            };
            assert_eq!(
                got[i],
                want,
                "element {i} of where({:?}, {:?})",
                x.shape(),
                y.shape()
            );
        }
    }
    // Shapes that do not broadcast name `where`.
    let bad = ops::where_(&arr(Dtype::Bool, &[1.0, 0.0], &[2]), &x, &y, ());
    assert!(
        matches!(bad, Err(Error::Shape { op: "where", .. })),
        "{bad:?}"
    );
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
fn rejected_dtypes_and_shapes_name_the_op() {
    let b = Array::from_slice(&[true, false], &[2]).unwrap();
    let f = arr(Dtype::Float32, &[1.0, 2.0], &[2]);
    let h = arr(Dtype::Float16, &[1.0, 2.0], &[2]);
    let i = arr(Dtype::Int32, &[1.0, 2.0], &[2]);
    let z = Array::from_slice(&[Complex32::new(1.0, 1.0), Complex32::new(0.0, 2.0)], &[2]).unwrap();
    dtype_error(ops::subtract(&b, &b, ()), "subtract", "bool");
    dtype_error(ops::bitwise_and(&f, &f, ()), "bitwise_and", "float32");
    dtype_error(ops::bitwise_or(&i, &h, ()), "bitwise_or", "float16");
    dtype_error(ops::bitwise_xor(&z, &i, ()), "bitwise_xor", "complex64");
    dtype_error(ops::left_shift(&f, &i, ()), "left_shift", "float32");
    dtype_error(ops::right_shift(&i, &h, ()), "right_shift", "float16");
    dtype_error(ops::floor_divide(&z, &z, ()), "floor_divide", "complex64");
    dtype_error(ops::remainder(&z, &f, ()), "remainder", "complex64");
    dtype_error(ops::arctan2(&z, &z, ()), "arctan2", "complex64");
    dtype_error(ops::logaddexp(&f, &z, ()), "logaddexp", "complex64");
    let wide = arr(Dtype::Float32, &[1.0, 2.0, 3.0], &[3]);
    match ops::add(&f, &wide, ()) {
        Err(e @ Error::Shape { .. }) => {
            assert_eq!(e.op(), "add");
            assert!(
                e.to_string().contains("[2]") && e.to_string().contains("[3]"),
                "{e}"
            );
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
}
