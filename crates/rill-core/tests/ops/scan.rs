//! Scans (cumsum, cumprod, cummax, cummin) against references computed here, for every axis
//! form, direction and inclusiveness, dtype family and layout.

use crate::reduce_support::*;
use rill_core::half::f16;
use rill_core::num_complex::Complex32;
use rill_core::{ops, Array, Dtype, Error, Result};

const OPS: [&str; 4] = ["cumsum", "cumprod", "cummax", "cummin"];

fn build(
    op: &str,
    a: &Array,
    axis: Option<isize>,
    reverse: bool,
    inclusive: bool,
) -> Result<Array> {
    match op {
        "cumsum" => ops::cumsum(a, axis, reverse, inclusive, ()),
        "cumprod" => ops::cumprod(a, axis, reverse, inclusive, ()),
        "cummax" => ops::cummax(a, axis, reverse, inclusive, ()),
        "cummin" => ops::cummin(a, axis, reverse, inclusive, ()),
        "logcumsumexp" => ops::logcumsumexp(a, axis, reverse, inclusive, ()),
        _ => unreachable!(),
    }
}

/// The reference scan of row-major `data` (of `shape`) along `axis`, with `identity` as the
/// exclusive scan's first value and `f` combining the running value with the next element.
fn reference<T: Copy>(
    data: &[T],
    shape: &[usize],
    axis: usize,
    reverse: bool,
    inclusive: bool,
    identity: T,
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let mut out = data.to_vec();
    let n = shape[axis];
    for flat in 0..data.len() {
        let idx = unravel(flat, shape);
        if idx[axis] != 0 {
            continue;
        }
        let mut acc = identity;
        for step in 0..n {
            let k = if reverse { n - 1 - step } else { step };
            let mut i = idx.clone();
            i[axis] = k;
            let p = ravel(&i, shape);
            if inclusive {
                acc = f(acc, data[p]);
                out[p] = acc;
            } else {
                out[p] = acc;
                acc = f(acc, data[p]);
            }
        }
    }
    out
}

fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn f64_reference(
    op: &str,
    data: &[f64],
    shape: &[usize],
    axis: usize,
    reverse: bool,
    inclusive: bool,
) -> Vec<f64> {
    match op {
        "cumsum" => reference(data, shape, axis, reverse, inclusive, 0.0, |a, b| a + b),
        "cumprod" => reference(data, shape, axis, reverse, inclusive, 1.0, |a, b| a * b),
        "cummax" => reference(
            data,
            shape,
            axis,
            reverse,
            inclusive,
            f64::NEG_INFINITY,
            fmax,
        ),
        "cummin" => reference(data, shape, axis, reverse, inclusive, f64::INFINITY, fmin),
        // The textbook form in f64: exp of these inputs cannot overflow.
        "logcumsumexp" => reference(
            data,
            shape,
            axis,
            reverse,
            inclusive,
            f64::NEG_INFINITY,
            |a, b| (a.exp() + b.exp()).ln(),
        ),
        _ => unreachable!(),
    }
}

/// Checks one scan of `a` (logical values `data`) against the f64 reference; float sums are
/// compared relative to the running sum of magnitudes.
#[track_caller]
fn check(
    op: &str,
    a: &Array,
    data: &[f64],
    axis: Option<isize>,
    reverse: bool,
    inclusive: bool,
    rtol: f64,
) {
    let ctx = format!(
        "{op} of {:?} {:?} axis {axis:?} reverse {reverse} inclusive {inclusive}",
        a.dtype(),
        a.shape()
    );
    let y = build(op, a, axis, reverse, inclusive).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let (shape, ax) = match axis {
        None => (vec![data.len()], 0),
        Some(ax) => (a.shape().to_vec(), norm_axes(Some(&[ax]), a.ndim())[0]),
    };
    assert_eq!(y.shape(), &shape[..], "{ctx}: shape");
    let want = f64_reference(op, data, &shape, ax, reverse, inclusive);
    let abs: Vec<f64> = data.iter().map(|v| v.abs()).collect();
    let scale = reference(&abs, &shape, ax, reverse, inclusive, 0.0, |a, b| a + b);
    let got = y.to_vec::<f64>().unwrap();
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        let tol = rtol * if op == "cumsum" { scale[i] } else { w.abs() } + 1e-6;
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= tol
        };
        assert!(ok, "{ctx}: element {i}: got {g}, want {w}");
    }
}

fn f32_array(data: &[f64], shape: &[usize]) -> Array {
    Array::from_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape).unwrap()
}

#[test]
fn float32_scans_match_f64_for_every_axis_direction_and_inclusiveness() {
    let shape = [4, 5, 6];
    let data = uniform(1, numel(&shape), 0.5, 1.5);
    let signs = ints(2, numel(&shape), 0, 2);
    let data: Vec<f64> = data
        .iter()
        .zip(signs)
        .map(|(v, s)| if s == 0 { *v } else { -v })
        .collect();
    let a = f32_array(&data, &shape);
    for op in OPS {
        for axis in [None, Some(0), Some(1), Some(2), Some(-1), Some(-3)] {
            for reverse in [false, true] {
                for inclusive in [true, false] {
                    check(op, &a, &data, axis, reverse, inclusive, 1e-6);
                }
            }
        }
    }
}

#[test]
fn exclusive_scans_start_from_the_identity_of_the_dtype() {
    let a = Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[2, 3]).unwrap();
    let y = ops::cummax(&a, Some(1), false, false, ()).unwrap();
    assert_eq!(
        y.to_vec::<i32>().unwrap(),
        vec![i32::MIN, 0, 1, i32::MIN, 3, 4]
    );
    let y = ops::cumsum(&a, Some(1), true, false, ()).unwrap();
    assert_eq!(y.to_vec::<i32>().unwrap(), vec![3, 2, 0, 9, 5, 0]);
    let b = ops::add(&a, &Array::scalar(1i32), ()).unwrap();
    assert_eq!(
        ops::cumprod(&b, Some(1), false, false, ())
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        vec![1, 1, 2, 1, 4, 20]
    );
    let f = ops::astype(&a, Dtype::Float32, ()).unwrap();
    let y = ops::cummin(&f, Some(1), false, false, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(y, vec![f32::INFINITY, 0.0, 0.0, f32::INFINITY, 3.0, 3.0]);
    let u = ops::astype(&a, Dtype::Uint8, ()).unwrap();
    assert_eq!(
        ops::cummin(&u, Some(1), false, false, ())
            .unwrap()
            .to_vec::<u8>()
            .unwrap(),
        vec![255, 0, 0, 255, 3, 3]
    );
    let t = ops::astype(&a, Dtype::Bool, ()).unwrap();
    let y = ops::cummax(&t, Some(1), false, false, ())
        .unwrap()
        .to_vec::<bool>()
        .unwrap();
    assert_eq!(y, vec![false, false, true, false, true, true]);
}

#[test]
fn scan_dtypes_follow_mlx() {
    // cumsum of bool counts in int32; cumprod of bool stays bool.
    let b = Array::from_slice(&[true, true, false, true], &[4]).unwrap();
    let s = ops::cumsum(&b, None, false, true, ()).unwrap();
    assert_eq!(
        (s.dtype(), s.to_vec::<i32>().unwrap()),
        (Dtype::Int32, vec![1, 2, 2, 3])
    );
    let p = ops::cumprod(&b, None, false, true, ()).unwrap();
    assert_eq!(
        (p.dtype(), p.to_vec::<bool>().unwrap()),
        (Dtype::Bool, vec![true, true, false, false])
    );
    // Small integers are not widened: int8 wraps.
    let i = Array::from_slice(&[100i8, 100, -100], &[3]).unwrap();
    let s = ops::cumsum(&i, None, false, true, ()).unwrap();
    assert_eq!(
        (s.dtype(), s.to_vec::<i8>().unwrap()),
        (Dtype::Int8, vec![100, -56, 100])
    );
    for dt in Dtype::ALL {
        let a = ops::astype(&ops::arange(1.0, 7.0, 1.0, None, ()).unwrap(), dt, ()).unwrap();
        for op in OPS {
            let y = build(op, &a, Some(0), false, true).unwrap();
            let want = if op == "cumsum" && dt == Dtype::Bool {
                Dtype::Int32
            } else {
                dt
            };
            assert_eq!(y.dtype(), want, "{op} {dt}");
            y.eval().unwrap();
        }
    }
}

#[test]
fn integer_scans_are_exact() {
    let shape = [5, 40, 3];
    macro_rules! family {
        ($t:ty, $lo:expr, $hi:expr, $seed:expr) => {{
            let data = ints($seed, numel(&shape), $lo, $hi);
            let typed: Vec<$t> = data.iter().map(|&v| v as $t).collect();
            let a = Array::from_slice(&typed, &shape).unwrap();
            for axis in [0usize, 1, 2] {
                for (reverse, inclusive) in [(false, true), (true, false)] {
                    let run = |op: &str| {
                        build(op, &a, Some(axis as isize), reverse, inclusive)
                            .unwrap()
                            .to_vec::<$t>()
                            .unwrap()
                    };
                    let ctx = format!("{} axis {axis} reverse {reverse}", stringify!($t));
                    let want =
                        reference(&typed, &shape, axis, reverse, inclusive, 0 as $t, |a, b| {
                            a.wrapping_add(b)
                        });
                    assert_eq!(run("cumsum"), want, "cumsum {ctx}");
                    let want =
                        reference(&typed, &shape, axis, reverse, inclusive, 1 as $t, |a, b| {
                            a.wrapping_mul(b)
                        });
                    assert_eq!(run("cumprod"), want, "cumprod {ctx}");
                    let want = reference(
                        &typed,
                        &shape,
                        axis,
                        reverse,
                        inclusive,
                        <$t>::MIN,
                        |a, b| a.max(b),
                    );
                    assert_eq!(run("cummax"), want, "cummax {ctx}");
                    let want = reference(
                        &typed,
                        &shape,
                        axis,
                        reverse,
                        inclusive,
                        <$t>::MAX,
                        |a, b| a.min(b),
                    );
                    assert_eq!(run("cummin"), want, "cummin {ctx}");
                }
            }
        }};
    }
    family!(i8, -128, 128, 3);
    family!(i16, -1000, 1000, 4);
    family!(i32, -1 << 20, 1 << 20, 5);
    family!(i64, -1 << 40, 1 << 40, 6);
    family!(u8, 0, 256, 7);
    family!(u16, 0, 100, 8);
    family!(u32, 0, 1 << 30, 9);
    family!(u64, 0, 1 << 62, 10);
}

#[test]
fn half_float64_and_complex_scans() {
    // float16 carries the running sum in f32: 4096 ones reach 4096 (a float16 sum stops at 2048).
    let ones = ops::ones(&[4096], Dtype::Float16, ()).unwrap();
    let c = ops::cumsum(&ones, None, false, true, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!((c[2047], c[2048], c[4095]), (2048.0, 2048.0, 4096.0)); // 2049 rounds to 2048 in float16
    let shape = [6, 30];
    let data = uniform(11, 180, -1.0, 1.0);
    let h: Vec<f16> = data.iter().map(|&v| f16::from_f64(v)).collect();
    let hd: Vec<f64> = h.iter().map(|v| v.to_f64()).collect();
    let ha = Array::from_slice(&h, &shape).unwrap();
    let da = Array::from_slice(&data, &shape).unwrap();
    for op in OPS {
        for axis in [Some(0), Some(1), None] {
            check(op, &ha, &hd, axis, false, true, 2e-3);
            check(op, &da, &data, axis, true, false, 1e-12);
        }
    }
    let b = ops::astype(&ha, Dtype::Bfloat16, ()).unwrap();
    let bd: Vec<f64> = b.to_vec::<f64>().unwrap();
    check("cumsum", &b, &bd, Some(1), false, true, 1e-2);

    let z = [
        Complex32::new(1.0, 2.0),
        Complex32::new(1.0, 3.0),
        Complex32::new(0.5, 9.0),
        Complex32::new(3.0, -1.0),
    ];
    let a = Array::from_slice(&z, &[4]).unwrap();
    let s = ops::cumsum(&a, None, false, true, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    assert_eq!(
        s,
        vec![
            z[0],
            z[0] + z[1],
            z[0] + z[1] + z[2],
            z[0] + z[1] + z[2] + z[3]
        ]
    );
    let p = ops::cumprod(&a, None, true, true, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    assert_eq!(p[3], z[3]);
    assert_eq!(p[2], z[2] * z[3]);
    // Lexicographic running max, as MLX: [1+2i, 1+3i, 1+3i, 3-1i].
    let m = ops::cummax(&a, None, false, true, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    assert_eq!(m, vec![z[0], z[1], z[1], z[3]]);
}

#[test]
fn nan_sticks_in_cummax_and_cummin() {
    let data = [1.0, f64::NAN, 3.0, 0.0];
    let a = f32_array(&data, &[4]);
    for op in ["cummax", "cummin"] {
        let y = build(op, &a, None, false, true)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(
            y[0] == 1.0 && y[1..].iter().all(|v| v.is_nan()),
            "{op}: {y:?}"
        );
        check(op, &a, &data, None, true, true, 0.0);
    }
}

#[test]
fn strided_views_scan_like_their_values() {
    let shape = [5, 7, 6];
    let data = uniform(12, numel(&shape), -1.0, 1.0);
    let a = f32_array(&data, &shape);
    let t = ops::transpose(&a, Some(&[2, 0, 1]), ()).unwrap();
    let (td, _) = permute(&data, &shape, &[2, 0, 1]);
    let row = uniform(13, 6, -1.0, 1.0);
    let b = ops::broadcast_to(&f32_array(&row, &[6]), &[4, 3, 6], ()).unwrap();
    let bd = broadcast(&row, &[6], &[4, 3, 6]);
    let r = ops::slice(&a, &[0, 6], &[5, -8], &[1, -1], ()).unwrap();
    let rd = reverse_axis(&data, &shape, 1);
    for op in OPS {
        for axis in [None, Some(0), Some(1), Some(2)] {
            for (reverse, inclusive) in [(false, true), (true, false)] {
                check(op, &t, &td, axis, reverse, inclusive, 1e-6);
                check(op, &b, &bd, axis, reverse, inclusive, 1e-6);
                check(op, &r, &rd, axis, reverse, inclusive, 1e-6);
            }
        }
    }
}

/// Long lines are scanned in parallel chunks; lines along an outer axis in parallel blocks.
#[test]
fn large_scans_take_the_parallel_paths_correctly() {
    let n = 300_001;
    let data = uniform(14, n, -1.0, 1.0);
    let a = Array::from_slice(&data, &[n]).unwrap();
    let i: Vec<i64> = ints(15, n, -1000, 1000);
    let ia = Array::from_slice(&i, &[n]).unwrap();
    for (reverse, inclusive) in [(false, true), (true, true), (false, false), (true, false)] {
        for op in ["cumsum", "cummax", "cummin"] {
            check(op, &a, &data, Some(0), reverse, inclusive, 1e-12);
        }
        let want = reference(&i, &[n], 0, reverse, inclusive, 0, |a, b| a + b);
        assert_eq!(
            ops::cumsum(&ia, None, reverse, inclusive, ())
                .unwrap()
                .to_vec::<i64>()
                .unwrap(),
            want
        );
    }
    // Products near 1 so that they neither overflow nor vanish.
    let near1: Vec<f64> = uniform(16, n, -1e-4, 1e-4)
        .iter()
        .map(|v| 1.0 + v)
        .collect();
    check(
        "cumprod",
        &Array::from_slice(&near1, &[n]).unwrap(),
        &near1,
        None,
        true,
        true,
        1e-9,
    );
    let shape = [600, 700];
    let data = uniform(17, numel(&shape), -1.0, 1.0);
    let a = f32_array(&data, &shape);
    for op in OPS {
        check(op, &a, &data, Some(0), false, true, 1e-6);
        check(op, &a, &data, Some(1), true, false, 1e-6);
    }
}

#[test]
fn scan_edge_cases_and_errors() {
    // A 0-d array scans as one element; None flattens.
    let s = ops::cumsum(&Array::scalar(3i32), None, false, true, ()).unwrap();
    assert_eq!((s.shape(), s.to_vec::<i32>().unwrap()), (&[1][..], vec![3]));
    let e = ops::zeros(&[0, 3], Dtype::Float32, ()).unwrap();
    assert_eq!(
        ops::cumsum(&e, Some(0), false, true, ()).unwrap().shape(),
        &[0, 3]
    );
    assert_eq!(
        ops::cummax(&e, Some(1), false, false, ()).unwrap().shape(),
        &[0, 3]
    );
    assert!(ops::cumprod(&e, None, false, true, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .is_empty());
    let a = ops::ones(&[2, 3], Dtype::Float32, ()).unwrap();
    for op in OPS {
        let err = build(op, &a, Some(-3), false, true).unwrap_err();
        assert!(matches!(err, Error::Axis { axis: -3, .. }), "{op}: {err:?}");
        assert_eq!(err.op(), op);
        assert!(matches!(
            build(op, &Array::scalar(1.0f32), Some(0), false, true),
            Err(Error::Axis { .. })
        ));
    }
}

#[test]
fn logcumsumexp_matches_f64_for_every_axis_direction_and_inclusiveness() {
    let shape = [4, 5, 6];
    let data: Vec<f64> = uniform(7, numel(&shape), -5.0, 5.0);
    let a32 = f32_array(&data, &shape);
    let data32: Vec<f64> = a32.to_vec::<f64>().unwrap();
    let a64 = Array::from_slice(&data, &shape).unwrap();
    for axis in [None, Some(0), Some(1), Some(2), Some(-1)] {
        for reverse in [false, true] {
            for inclusive in [true, false] {
                check(
                    "logcumsumexp",
                    &a32,
                    &data32,
                    axis,
                    reverse,
                    inclusive,
                    1e-6,
                );
                check("logcumsumexp", &a64, &data, axis, reverse, inclusive, 1e-12);
            }
        }
    }
    // One long line: scanned in parallel chunks, each from the carry of those before it.
    let n = 300_000;
    let long: Vec<f64> = uniform(8, n, -3.0, 3.0);
    let a = Array::from_slice(&long, &[n]).unwrap();
    let got = ops::logcumsumexp(&a, None, false, true, ())
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let mut acc = f64::NEG_INFINITY;
    for (i, &x) in long.iter().enumerate() {
        let hi = acc.max(x);
        acc = hi + ((acc - hi).exp() + (x - hi).exp()).ln();
        assert!(
            (got[i] - acc).abs() <= 1e-9 * acc.abs().max(1.0),
            "element {i}"
        );
    }
}

#[test]
fn logcumsumexp_is_stable_and_typed_as_mlx() {
    // exp(1000) overflows and exp(-1000) underflows: the running value must not.
    let a = Array::from_slice(&[-1000.0f32, 0.0, 1000.0, f32::NEG_INFINITY, 1000.0], &[5]).unwrap();
    let y = ops::logcumsumexp(&a, None, false, true, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let want = [
        -1000.0,
        0.0,
        1000.0,
        1000.0,
        1000.0 + std::f32::consts::LN_2,
    ];
    for (g, w) in y.iter().zip(want) {
        assert!((g - w).abs() <= 1e-3, "{y:?}");
    }
    let y = ops::logcumsumexp(&a, None, true, false, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(y[4], f32::NEG_INFINITY);
    let nan = Array::from_slice(&[1.0f32, f32::NAN, 2.0], &[3]).unwrap();
    let y = ops::logcumsumexp(&nan, None, false, true, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(y[0] == 1.0 && y[1].is_nan() && y[2].is_nan(), "{y:?}");
    // Integers and bool compute in float32; float16 stays float16.
    let i = Array::from_slice(&[1i32, 2], &[2]).unwrap();
    let y = ops::logcumsumexp(&i, None, false, true, ()).unwrap();
    assert_eq!(y.dtype(), Dtype::Float32);
    let want = 2.0 + (1.0f64 + (-1.0f64).exp()).ln();
    assert!((y.to_vec::<f64>().unwrap()[1] - want).abs() < 1e-6);
    let h = ops::astype(&i, Dtype::Float16, ()).unwrap();
    assert_eq!(
        ops::logcumsumexp(&h, None, false, true, ())
            .unwrap()
            .dtype(),
        Dtype::Float16
    );
    let c = Array::from_slice(&[Complex32::new(1.0, 0.0)], &[1]).unwrap();
    match ops::logcumsumexp(&c, None, false, true, ()) {
        Err(e @ Error::Dtype { .. }) => assert!(e.to_string().contains("logcumsumexp"), "{e}"),
        other => panic!("complex logcumsumexp: {other:?}"),
    }
    match ops::logcumsumexp(&i, Some(1), false, true, ()) {
        Err(e) => assert!(e.to_string().contains("logcumsumexp"), "{e}"),
        Ok(_) => panic!("axis 1 of a 1-D array"),
    }
}
