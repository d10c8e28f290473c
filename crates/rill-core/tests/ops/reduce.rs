//! Reductions (sum, prod, max, min, all, any, mean, var, std, logsumexp, argmax, argmin) against
//! f64 references computed here, on random inputs of every dtype family and layout.

use crate::reduce_support::*;
use rill_core::half::{bf16, f16};
use rill_core::num_complex::Complex32;
use rill_core::{ops, Array, Dtype, Error, Result};

fn f32_array(data: &[f64], shape: &[usize]) -> Array {
    Array::from_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape).unwrap()
}

fn f64s(a: &Array) -> Vec<f64> {
    a.to_vec::<f64>().unwrap()
}

const OPS: [&str; 8] = [
    "sum",
    "prod",
    "max",
    "min",
    "all",
    "any",
    "mean",
    "logsumexp",
];

fn build(op: &str, a: &Array, axes: Option<&[isize]>, keepdims: bool) -> Result<Array> {
    match op {
        "sum" => ops::sum(a, axes, keepdims, ()),
        "prod" => ops::prod(a, axes, keepdims, ()),
        "max" => ops::max(a, axes, keepdims, ()),
        "min" => ops::min(a, axes, keepdims, ()),
        "all" => ops::all(a, axes, keepdims, ()),
        "any" => ops::any(a, axes, keepdims, ()),
        "mean" => ops::mean(a, axes, keepdims, ()),
        "logsumexp" => ops::logsumexp(a, axes, keepdims, ()),
        _ => unreachable!(),
    }
}

fn fmax(g: &[f64]) -> f64 {
    g.iter().fold(f64::NEG_INFINITY, |m, &v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(v)
        }
    })
}

fn fmin(g: &[f64]) -> f64 {
    g.iter().fold(f64::INFINITY, |m, &v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.min(v)
        }
    })
}

fn reference(op: &str, g: &[f64]) -> f64 {
    match op {
        "sum" => g.iter().sum(),
        "prod" => g.iter().product(),
        "max" => fmax(g),
        "min" => fmin(g),
        "all" => g.iter().all(|&v| v != 0.0) as u8 as f64,
        "any" => g.iter().any(|&v| v != 0.0) as u8 as f64,
        "mean" => g.iter().sum::<f64>() / g.len() as f64,
        "logsumexp" => {
            let m = fmax(g);
            if !m.is_finite() {
                m
            } else {
                m + g.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
            }
        }
        _ => unreachable!(),
    }
}

/// The size errors of `op` over `g` are measured against: sums and means lose accuracy relative
/// to the magnitudes they add up (cancellation), not relative to their result.
fn scale(op: &str, g: &[f64], want: f64) -> f64 {
    let abs_sum: f64 = g.iter().map(|v| v.abs()).sum();
    match op {
        "sum" => abs_sum,
        "mean" => abs_sum / g.len() as f64,
        _ => want.abs(),
    }
}

/// Checks `op` of `a` (whose logical row-major values are `data`) against the f64 reference for
/// one axes form and keepdims: `|got - want| <= rtol * scale + 1e-6`.
#[track_caller]
fn check(op: &str, a: &Array, data: &[f64], axes: Option<&[isize]>, keepdims: bool, rtol: f64) {
    let ctx = format!(
        "{op} of {:?} {:?} over {axes:?} keepdims={keepdims}",
        a.dtype(),
        a.shape()
    );
    let y = build(op, a, axes, keepdims).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let ax = norm_axes(axes, a.ndim());
    assert_eq!(
        y.shape(),
        &out_shape(a.shape(), &ax, keepdims)[..],
        "{ctx}: shape"
    );
    let got = f64s(&y);
    for (i, g) in groups(data, a.shape(), &ax).iter().enumerate() {
        let want = reference(op, g);
        let tol = rtol * scale(op, g, want) + 1e-6;
        let ok = if want.is_nan() {
            got[i].is_nan()
        } else if want.is_infinite() {
            got[i] == want
        } else {
            (got[i] - want).abs() <= tol
        };
        assert!(
            ok,
            "{ctx}: element {i}: got {}, want {want} (tolerance {tol})",
            got[i]
        );
    }
}

const AXES: [Option<&[isize]>; 9] = [
    None,
    Some(&[0]),
    Some(&[1]),
    Some(&[2]),
    Some(&[-1]),
    Some(&[0, 2]),
    Some(&[-3, -1]),
    Some(&[1, 2]),
    Some(&[0, 1, 2]),
];

#[test]
fn float32_reductions_match_f64_for_every_axes_form() {
    let shape = [3, 4, 5];
    // Values away from 0 keep products well-conditioned; some exact zeros exercise all/any.
    let mut data = uniform(1, 60, 0.5, 1.5);
    let signs = ints(2, 60, 0, 3);
    for (v, s) in data.iter_mut().zip(signs) {
        *v *= [1.0, -1.0, 0.0][s as usize];
    }
    let a = f32_array(&data, &shape);
    for op in OPS {
        for axes in AXES {
            for keepdims in [false, true] {
                check(op, &a, &data, axes, keepdims, 2e-6);
            }
        }
    }
}

#[test]
fn reducing_no_axis_returns_the_input_as_mlx_does() {
    let a = Array::from_slice(&[1i8, 0, 2, 3, 4, 5], &[2, 3]).unwrap();
    for op in ["sum", "prod", "max", "min"] {
        let y = build(op, &a, Some(&[]), false).unwrap();
        assert_eq!((y.dtype(), y.shape()), (Dtype::Int8, &[2, 3][..]), "{op}");
        assert_eq!(y.to_vec::<i8>().unwrap(), vec![1, 0, 2, 3, 4, 5]);
    }
    let y = ops::all(&a, Some(&[]), false, ()).unwrap();
    assert_eq!(
        y.to_vec::<bool>().unwrap(),
        vec![true, false, true, true, true, true]
    );
    let y = ops::mean(&a, Some(&[]), false, ()).unwrap();
    assert_eq!(
        (y.dtype(), f64s(&y)),
        (Dtype::Float32, vec![1.0, 0.0, 2.0, 3.0, 4.0, 5.0])
    );
    let y = ops::var(&a, Some(&[]), false, 0, ()).unwrap();
    assert_eq!(f64s(&y), vec![0.0; 6]);
    // A 0-d array has no axis to reduce either.
    let s = Array::scalar(7i8);
    assert_eq!(ops::sum(&s, None, false, ()).unwrap().dtype(), Dtype::Int8);
    // Reducing a size-1 axis does reduce (and widens).
    let y = ops::sum(
        &Array::from_slice(&[3i8], &[1, 1]).unwrap(),
        Some(&[1]),
        false,
        (),
    )
    .unwrap();
    assert_eq!(
        (y.dtype(), y.shape(), y.to_vec::<i32>().unwrap()),
        (Dtype::Int32, &[1][..], vec![3])
    );
}

#[test]
fn output_dtypes_follow_mlx() {
    use Dtype::*;
    // (input, sum/prod, mean/var/std/logsumexp) as printed by MLX 0.32.
    let table = [
        (Bool, Int32, Float32),
        (Uint8, Uint32, Float32),
        (Uint16, Uint32, Float32),
        (Uint32, Uint32, Float32),
        (Uint64, Uint64, Float32),
        (Int8, Int32, Float32),
        (Int16, Int32, Float32),
        (Int32, Int32, Float32),
        (Int64, Int64, Float32),
        (Float16, Float16, Float16),
        (Bfloat16, Bfloat16, Bfloat16),
        (Float32, Float32, Float32),
        (Float64, Float64, Float64),
        (Complex64, Complex64, Complex64),
    ];
    for (dt, sum_dt, mean_dt) in table {
        let a = ops::astype(&f32_array(&[1.0, 2.0, 3.0, 1.0], &[2, 2]), dt, ()).unwrap();
        let axes: Option<&[isize]> = Some(&[0]);
        assert_eq!(
            ops::sum(&a, axes, false, ()).unwrap().dtype(),
            sum_dt,
            "sum {dt}"
        );
        assert_eq!(
            ops::prod(&a, axes, false, ()).unwrap().dtype(),
            sum_dt,
            "prod {dt}"
        );
        assert_eq!(
            ops::max(&a, axes, false, ()).unwrap().dtype(),
            dt,
            "max {dt}"
        );
        assert_eq!(
            ops::min(&a, axes, false, ()).unwrap().dtype(),
            dt,
            "min {dt}"
        );
        assert_eq!(
            ops::all(&a, axes, false, ()).unwrap().dtype(),
            Bool,
            "all {dt}"
        );
        assert_eq!(
            ops::any(&a, axes, false, ()).unwrap().dtype(),
            Bool,
            "any {dt}"
        );
        assert_eq!(
            ops::mean(&a, axes, false, ()).unwrap().dtype(),
            mean_dt,
            "mean {dt}"
        );
        assert_eq!(
            ops::logsumexp(&a, axes, false, ()).unwrap().dtype(),
            mean_dt,
            "logsumexp {dt}"
        );
        let var_dt = if dt == Complex64 { Float32 } else { mean_dt };
        assert_eq!(
            ops::var(&a, axes, false, 0, ()).unwrap().dtype(),
            var_dt,
            "var {dt}"
        );
        assert_eq!(
            ops::argmax(&a, Some(0), false, ()).unwrap().dtype(),
            Uint32,
            "argmax {dt}"
        );
        assert_eq!(
            ops::argmin(&a, None, false, ()).unwrap().dtype(),
            Uint32,
            "argmin {dt}"
        );
        // Every one of them also evaluates (a CPU kernel exists for every dtype).
        for y in [
            ops::sum(&a, axes, false, ()),
            ops::prod(&a, None, false, ()),
            ops::max(&a, axes, false, ()),
            ops::min(&a, None, true, ()),
            ops::all(&a, axes, false, ()),
            ops::any(&a, None, false, ()),
            ops::mean(&a, axes, false, ()),
            ops::logsumexp(&a, axes, false, ()),
            ops::argmax(&a, Some(1), false, ()),
        ] {
            y.unwrap().eval().unwrap();
        }
    }
}

/// Integer sums and products are exact (wrapping in the widened type), checked against i128.
#[test]
fn integer_reductions_are_exact() {
    let shape = [6, 7, 5];
    let n = numel(&shape);
    macro_rules! family {
        ($t:ty, $acc:ty, $lo:expr, $hi:expr, $seed:expr) => {{
            let data = ints($seed, n, $lo, $hi);
            let a = Array::from_slice(&data.iter().map(|&v| v as $t).collect::<Vec<_>>(), &shape)
                .unwrap();
            let d128: Vec<i128> = data.iter().map(|&v| v as i128).collect();
            for axes in AXES {
                let ax = norm_axes(axes, 3);
                let g = groups(&d128, &shape, &ax);
                let ctx = format!("{} over {axes:?}", stringify!($t));
                let sum: Vec<$acc> = g.iter().map(|g| g.iter().sum::<i128>() as $acc).collect();
                assert_eq!(
                    ops::sum(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<$acc>()
                        .unwrap(),
                    sum,
                    "sum {ctx}"
                );
                let prod: Vec<$acc> = g
                    .iter()
                    .map(|g| g.iter().fold(1i128, |p, &v| (p * v) as $acc as i128) as $acc)
                    .collect();
                assert_eq!(
                    ops::prod(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<$acc>()
                        .unwrap(),
                    prod,
                    "prod {ctx}"
                );
                let max: Vec<$t> = g.iter().map(|g| *g.iter().max().unwrap() as $t).collect();
                assert_eq!(
                    ops::max(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<$t>()
                        .unwrap(),
                    max,
                    "max {ctx}"
                );
                let min: Vec<$t> = g.iter().map(|g| *g.iter().min().unwrap() as $t).collect();
                assert_eq!(
                    ops::min(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<$t>()
                        .unwrap(),
                    min,
                    "min {ctx}"
                );
                let all: Vec<bool> = g.iter().map(|g| g.iter().all(|&v| v != 0)).collect();
                assert_eq!(
                    ops::all(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<bool>()
                        .unwrap(),
                    all,
                    "all {ctx}"
                );
                let any: Vec<bool> = g.iter().map(|g| g.iter().any(|&v| v != 0)).collect();
                assert_eq!(
                    ops::any(&a, axes, false, ())
                        .unwrap()
                        .to_vec::<bool>()
                        .unwrap(),
                    any,
                    "any {ctx}"
                );
                let gf: Vec<Vec<f64>> = g
                    .iter()
                    .map(|g| g.iter().map(|&v| v as f64).collect())
                    .collect();
                let got = f64s(&ops::mean(&a, axes, false, ()).unwrap());
                for (m, g) in got.iter().zip(&gf) {
                    let want = g.iter().sum::<f64>() / g.len() as f64;
                    let tol = 1e-6 * scale("mean", g, want) + 1e-6;
                    assert!((m - want).abs() <= tol, "mean {ctx}: got {m}, want {want}");
                }
            }
        }};
    }
    family!(i8, i32, -128, 128, 10);
    family!(i16, i32, -300, 300, 11);
    family!(i32, i32, -3, 4, 12);
    family!(i64, i64, -1 << 40, 1 << 40, 13);
    family!(u8, u32, 0, 256, 14);
    family!(u16, u32, 0, 4, 15);
    family!(u32, u32, 0, 1 << 20, 16);
    family!(u64, u64, 0, 1 << 50, 17);
}

#[test]
fn integer_sums_widen_or_wrap_as_mlx() {
    // uint8 sums in uint32: no wrap at 256.
    let a = Array::from_slice(&[200u8, 200], &[2]).unwrap();
    assert_eq!(
        ops::sum(&a, None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        400
    );
    let a = Array::from_slice(&[-100i8, -100], &[2]).unwrap();
    assert_eq!(
        ops::sum(&a, None, false, ())
            .unwrap()
            .item::<i32>()
            .unwrap(),
        -200
    );
    // int32 stays int32 and wraps.
    let a = Array::from_slice(&[i32::MAX, 1], &[2]).unwrap();
    assert_eq!(
        ops::sum(&a, None, false, ())
            .unwrap()
            .item::<i32>()
            .unwrap(),
        i32::MIN
    );
    // uint64 sums exactly beyond 2^53.
    let a = Array::from_slice(&[u64::MAX - 5, 3], &[2]).unwrap();
    assert_eq!(
        ops::sum(&a, None, false, ())
            .unwrap()
            .item::<u64>()
            .unwrap(),
        u64::MAX - 2
    );
}

#[test]
fn bool_reductions() {
    let data = [true, false, true, true, true, false];
    let a = Array::from_slice(&data, &[2, 3]).unwrap();
    let sum = ops::sum(&a, Some(&[1]), false, ()).unwrap();
    assert_eq!(
        (sum.dtype(), sum.to_vec::<i32>().unwrap()),
        (Dtype::Int32, vec![2, 2])
    );
    assert_eq!(
        ops::prod(&a, Some(&[0]), false, ())
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        vec![1, 0, 0]
    );
    assert_eq!(
        ops::max(&a, Some(&[1]), false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![true, true]
    );
    assert_eq!(
        ops::min(&a, Some(&[1]), false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![false, false]
    );
    assert_eq!(
        ops::all(&a, Some(&[0]), false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![true, false, false]
    );
    assert_eq!(
        ops::any(&a, Some(&[0]), false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![true, true, true]
    );
    assert_close(
        &f64s(&ops::mean(&a, None, false, ()).unwrap()),
        &[4.0 / 6.0],
        1e-7,
        0.0,
        "mean bool",
    );
    assert_eq!(
        ops::argmax(&a, Some(1), false, ())
            .unwrap()
            .to_vec::<u32>()
            .unwrap(),
        vec![0, 0]
    );
    assert_eq!(
        ops::argmin(&a, Some(1), false, ())
            .unwrap()
            .to_vec::<u32>()
            .unwrap(),
        vec![1, 2]
    );
}

#[test]
fn half_precision_reductions_accumulate_in_f32() {
    // 4096 ones: a float16 accumulator would stop at 2048, a bfloat16 one at 256.
    let ones = ops::ones(&[4096], Dtype::Float16, ()).unwrap();
    assert_eq!(
        ops::sum(&ones, None, false, ())
            .unwrap()
            .item::<f32>()
            .unwrap(),
        4096.0
    );
    let ones = ops::ones(&[2, 1000], Dtype::Bfloat16, ()).unwrap();
    assert_eq!(
        ops::sum(&ones, Some(&[1]), false, ())
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        vec![1000.0, 1000.0]
    );
    // The mean divides before rounding: 60000 + 60000 overflows float16, their mean does not.
    let big = Array::from_slice(&[f16::from_f32(60000.0); 2], &[2]).unwrap();
    assert_eq!(
        ops::mean(&big, None, false, ())
            .unwrap()
            .item::<f32>()
            .unwrap(),
        60000.0
    );

    let shape = [3, 4, 5];
    let data = uniform(3, 60, -2.0, 2.0);
    // Reference on the values the half arrays actually hold.
    let h: Vec<f16> = data.iter().map(|&v| f16::from_f64(v)).collect();
    let hd: Vec<f64> = h.iter().map(|v| v.to_f64()).collect();
    let b: Vec<bf16> = data.iter().map(|&v| bf16::from_f64(v)).collect();
    let bd: Vec<f64> = b.iter().map(|v| v.to_f64()).collect();
    let ha = Array::from_slice(&h, &shape).unwrap();
    let ba = Array::from_slice(&b, &shape).unwrap();
    for op in ["sum", "max", "min", "mean", "logsumexp"] {
        for axes in AXES {
            // One rounding of the result: 2^-11 (float16) and 2^-8 (bfloat16) relative.
            check(op, &ha, &hd, axes, false, 1e-3);
            check(op, &ba, &bd, axes, true, 8e-3);
        }
    }
}

#[test]
fn float64_reductions_are_exact_to_f64_rounding() {
    let shape = [4, 50, 30];
    let data = uniform(4, numel(&shape), -1.0, 1.0);
    let a = Array::from_slice(&data, &shape).unwrap();
    for op in ["sum", "max", "min", "mean", "logsumexp"] {
        for axes in AXES {
            check(
                op,
                &a,
                &data,
                axes,
                axes.is_some_and(|a| a.len() == 1),
                1e-12,
            );
        }
    }
}

#[test]
fn complex_reductions() {
    let v = [
        Complex32::new(1.0, 2.0),
        Complex32::new(1.0, 3.0),
        Complex32::new(0.5, 9.0),
        Complex32::new(3.0, -1.0),
    ];
    let a = Array::from_slice(&v, &[4]).unwrap();
    let one = |y: Result<Array>| y.unwrap().item::<Complex32>().unwrap();
    assert_eq!(
        one(ops::sum(&a, None, false, ())),
        Complex32::new(5.5, 13.0)
    );
    // (1+2i)(1+3i)(0.5+9i)(3-i) = -185-80i (MLX prints the same).
    assert_eq!(
        one(ops::prod(&a, None, false, ())),
        Complex32::new(-185.0, -80.0)
    );
    // Lexicographic order, as MLX: max 3-1i, min 0.5+9i.
    assert_eq!(one(ops::max(&a, None, false, ())), v[3]);
    assert_eq!(one(ops::min(&a, None, false, ())), v[2]);
    assert_eq!(
        ops::argmax(&a, None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        3
    );
    assert_eq!(
        ops::argmin(&a, None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        2
    );
    assert_eq!(
        one(ops::mean(&a, None, false, ())),
        Complex32::new(1.375, 3.25)
    );
    // MLX: var = 14.1094 (mean of |x - mean|^2), a float32.
    let var = ops::var(&a, None, false, 0, ()).unwrap();
    assert_eq!(var.dtype(), Dtype::Float32);
    assert_close(&f64s(&var), &[56.4375 / 4.0], 1e-6, 0.0, "complex var");
    // logsumexp: NumPy gives 2.6716986-1.1786623i.
    let l = one(ops::logsumexp(&a, None, false, ()));
    assert!(
        (l - Complex32::new(2.671_698_6, -1.178_662_3)).norm() < 1e-5,
        "{l}"
    );
    assert!(ops::all(&a, None, false, ())
        .unwrap()
        .item::<bool>()
        .unwrap());

    // Larger random sums against a Complex<f64> reference, over rows and columns.
    let (re, im) = (uniform(5, 600, -1.0, 1.0), uniform(6, 600, -1.0, 1.0));
    let c: Vec<Complex32> = re
        .iter()
        .zip(&im)
        .map(|(&r, &i)| Complex32::new(r as f32, i as f32))
        .collect();
    let a = Array::from_slice(&c, &[20, 30]).unwrap();
    for axes in [Some(&[0][..]), Some(&[1][..]), None] {
        let ax = norm_axes(axes, 2);
        let got = ops::sum(&a, axes, false, ())
            .unwrap()
            .to_vec::<Complex32>()
            .unwrap();
        let want: Vec<(f64, f64)> = groups(&c, &[20, 30], &ax)
            .iter()
            .map(|g| {
                g.iter()
                    .fold((0.0, 0.0), |(r, i), z| (r + z.re as f64, i + z.im as f64))
            })
            .collect();
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.re as f64 - w.0).abs() < 1e-4 && (g.im as f64 - w.1).abs() < 1e-4,
                "{g} vs {w:?}"
            );
        }
    }
}

#[test]
fn nan_propagates_through_max_and_min() {
    let a = Array::from_slice(&[1.0f32, f32::NAN, 3.0, 2.0, 5.0, -1.0], &[2, 3]).unwrap();
    let max = f64s(&ops::max(&a, Some(&[1]), false, ()).unwrap());
    assert!(max[0].is_nan() && max[1] == 5.0, "{max:?}");
    let min = f64s(&ops::min(&a, Some(&[0]), false, ()).unwrap());
    assert!(
        min[0] == 1.0 && min[1].is_nan() && min[2] == -1.0,
        "{min:?}"
    );
    let h = ops::astype(&a, Dtype::Float16, ()).unwrap();
    assert!(ops::max(&h, None, false, ())
        .unwrap()
        .item::<f32>()
        .unwrap()
        .is_nan());
    // A NaN in a long vectorized run, in every lane position.
    for pos in [0, 5, 15, 16, 1000, 4095] {
        let mut v = vec![0.5f32; 4096];
        v[pos] = f32::NAN;
        let a = Array::from_slice(&v, &[4096]).unwrap();
        assert!(
            ops::max(&a, None, false, ())
                .unwrap()
                .item::<f32>()
                .unwrap()
                .is_nan(),
            "max, NaN at {pos}"
        );
        assert!(
            ops::min(&a, None, false, ())
                .unwrap()
                .item::<f32>()
                .unwrap()
                .is_nan(),
            "min, NaN at {pos}"
        );
    }
}

#[test]
fn strided_views_reduce_like_their_values() {
    let shape = [5, 8, 6];
    let data = uniform(7, numel(&shape), -1.0, 1.0);
    let a = f32_array(&data, &shape);
    // A transposed view.
    let perm = [2, 0, 1];
    let t = ops::transpose(&a, Some(&[2, 0, 1]), ()).unwrap();
    let (td, _) = permute(&data, &shape, &perm);
    for op in ["sum", "max", "mean", "logsumexp"] {
        for axes in AXES {
            check(op, &t, &td, axes, false, 2e-6);
        }
    }
    // Broadcast views (stride 0), both a missing leading dim and a stretched middle one.
    let row = uniform(8, 6, -1.0, 1.0);
    let r = f32_array(&row, &[6]);
    let b = ops::broadcast_to(&r, &[4, 3, 6], ()).unwrap();
    let bd = broadcast(&row, &[6], &[4, 3, 6]);
    let col = uniform(9, 4, -1.0, 1.0);
    let c = ops::broadcast_to(&f32_array(&col, &[4, 1, 1]), &[4, 3, 6], ()).unwrap();
    let cd = broadcast(&col, &[4, 1, 1], &[4, 3, 6]);
    for op in ["sum", "prod", "min", "mean"] {
        for axes in AXES {
            check(op, &b, &bd, axes, true, 2e-6);
            check(op, &c, &cd, axes, false, 2e-6);
        }
    }
    // A reversed view (negative stride) and a stepped one.
    let rev = ops::slice(&a, &[0, 7], &[5, -9], &[1, -1], ()).unwrap();
    let rd = reverse_axis(&data, &shape, 1);
    let stepped = ops::slice(&a, &[0, 0, 1], &[5, 8, 6], &[2, 3, 2], ()).unwrap();
    assert_eq!(stepped.shape(), &[3, 3, 3]);
    let sd: Vec<f64> = (0..27)
        .map(|f| {
            let i = unravel(f, &[3, 3, 3]);
            data[ravel(&[i[0] * 2, i[1] * 3, 1 + i[2] * 2], &shape)]
        })
        .collect();
    for op in ["sum", "max", "any"] {
        for axes in AXES {
            check(op, &rev, &rd, axes, false, 2e-6);
            check(op, &stepped, &sd, axes, false, 2e-6);
        }
    }
}

/// Shapes that take the parallel paths: one long reduction split in chunks, many rows, few long
/// columns split by rows, and many column blocks.
#[test]
fn large_reductions_take_the_parallel_paths_correctly() {
    for (shape, axes) in [
        (vec![1024, 1536], None),
        (vec![1024, 1536], Some(&[1][..])),
        (vec![1024, 1536], Some(&[0][..])),
        (vec![64, 20000], Some(&[0][..])),
        (vec![16, 64, 300], Some(&[1][..])),
        (vec![300, 7, 200], Some(&[0, 2][..])),
        (vec![2, 300000], Some(&[1][..])),
        (vec![300000, 2], Some(&[0][..])),
    ] {
        let data = uniform(20, numel(&shape), -1.0, 1.0);
        let a = f32_array(&data, &shape);
        for op in ["sum", "max", "min", "any"] {
            check(op, &a, &data, axes, false, 1e-5);
        }
        let i = ops::astype(&a, Dtype::Int32, ()).unwrap();
        let id: Vec<f64> = data.iter().map(|&v| (v as f32) as i32 as f64).collect();
        check("sum", &i, &id, axes, true, 0.0);
    }
}

/// Float32 sums are pairwise: the error of 4M additions stays near one rounding, where a single
/// running sum (or 16 of them) drifts by 1e-5 and more.
#[test]
fn float32_sums_are_accurate() {
    let n = 1 << 22;
    let data = uniform(30, n, 0.0, 1.0);
    let xs: Vec<f32> = data.iter().map(|&v| v as f32).collect();
    let exact: f64 = xs.iter().map(|&v| v as f64).sum();
    let a = Array::from_slice(&xs, &[n]).unwrap();
    let got = ops::sum(&a, None, false, ())
        .unwrap()
        .item::<f32>()
        .unwrap() as f64;
    assert!(((got - exact) / exact).abs() < 3e-7, "sum {got} vs {exact}");
    // Over the first axis (column blocks): each column sums 16384 values.
    let a2 = Array::from_slice(&xs, &[16384, 256]).unwrap();
    let exact: Vec<f64> = (0..256)
        .map(|j| (0..16384).map(|i| xs[i * 256 + j] as f64).sum())
        .collect();
    let cols = f64s(&ops::sum(&a2, Some(&[0]), false, ()).unwrap());
    assert_close(&cols, &exact, 3e-7, 0.0, "columns");
    // And over strided (transposed) runs.
    let t = ops::transpose(&a2, None, ()).unwrap();
    let rows = f64s(&ops::sum(&t, Some(&[1]), false, ()).unwrap());
    assert_close(&rows, &exact, 3e-7, 0.0, "transposed");
}

#[test]
fn empty_axes_give_identities_or_build_errors() {
    let e = ops::zeros(&[0, 3], Dtype::Float32, ()).unwrap();
    let ax: Option<&[isize]> = Some(&[0]);
    assert_eq!(f64s(&ops::sum(&e, ax, false, ()).unwrap()), vec![0.0; 3]);
    assert_eq!(f64s(&ops::prod(&e, ax, false, ()).unwrap()), vec![1.0; 3]);
    assert_eq!(
        ops::all(&e, ax, false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![true; 3]
    );
    assert_eq!(
        ops::any(&e, ax, false, ())
            .unwrap()
            .to_vec::<bool>()
            .unwrap(),
        vec![false; 3]
    );
    assert!(f64s(&ops::mean(&e, ax, false, ()).unwrap())
        .iter()
        .all(|v| v.is_nan()));
    assert_eq!(
        f64s(&ops::logsumexp(&e, ax, false, ()).unwrap()),
        vec![f64::NEG_INFINITY; 3]
    );
    let i = ops::zeros(&[0, 3], Dtype::Int8, ()).unwrap();
    assert_eq!(
        ops::sum(&i, None, false, ())
            .unwrap()
            .item::<i32>()
            .unwrap(),
        0
    );
    // Reducing a non-empty axis of an empty array gives an empty result.
    let y = ops::max(&e, Some(&[1]), false, ()).unwrap();
    assert_eq!(y.shape(), &[0]);
    assert!(f64s(&y).is_empty());
    // max, min, argmax and argmin have no identity: an error when built, naming op and shape.
    for (name, r) in [
        ("max", ops::max(&e, ax, false, ())),
        ("min", ops::min(&e, None, false, ())),
        ("argmax", ops::argmax(&e, Some(0), false, ())),
        ("argmin", ops::argmin(&e, None, false, ())),
    ] {
        let err = r.unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{name}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("[{name}]")) && msg.contains("[0, 3]"),
            "{msg}"
        );
    }
}

#[test]
fn bad_axes_are_build_errors() {
    let a = ops::ones(&[2, 3], Dtype::Float32, ()).unwrap();
    for op in OPS {
        let err = build(op, &a, Some(&[2]), false).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Axis {
                    axis: 2,
                    ndim: 2,
                    ..
                }
            ),
            "{op}: {err:?}"
        );
        assert_eq!(err.op(), op);
        let err = build(op, &a, Some(&[-3]), false).unwrap_err();
        assert!(matches!(err, Error::Axis { .. }), "{op}: {err:?}");
        let err = build(op, &a, Some(&[1, -1]), false).unwrap_err();
        assert!(
            matches!(err, Error::Argument { .. }) && err.to_string().contains("repeated"),
            "{op}: {err:?}"
        );
    }
    assert!(matches!(
        ops::var(&a, Some(&[5]), false, 0, ()),
        Err(Error::Axis { .. })
    ));
    assert!(matches!(
        ops::std(&a, Some(&[0, 0]), false, 0, ()),
        Err(Error::Argument { .. })
    ));
    assert!(matches!(
        ops::argmax(&a, Some(2), false, ()),
        Err(Error::Axis { .. })
    ));
    assert!(matches!(
        ops::argmin(&Array::scalar(1.0f32), Some(0), false, ()),
        Err(Error::Axis { .. })
    ));
}

fn var_reference(g: &[f64], ddof: usize) -> f64 {
    let m = g.iter().sum::<f64>() / g.len() as f64;
    g.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (g.len() as f64 - ddof as f64)
}

#[test]
fn var_matches_two_pass_f64() {
    let shape = [5, 6, 7];
    let data = uniform(40, numel(&shape), -3.0, 3.0);
    let a = f32_array(&data, &shape);
    for axes in AXES {
        let ax = norm_axes(axes, 3);
        for ddof in [0, 1] {
            for keepdims in [false, true] {
                let v = ops::var(&a, axes, keepdims, ddof, ()).unwrap();
                assert_eq!(v.shape(), &out_shape(&shape, &ax, keepdims)[..]);
                let want: Vec<f64> = groups(&data, &shape, &ax)
                    .iter()
                    .map(|g| var_reference(g, ddof))
                    .collect();
                assert_close(
                    &f64s(&v),
                    &want,
                    1e-5,
                    1e-6,
                    &format!("var over {axes:?} ddof {ddof}"),
                );
            }
        }
    }
    // A large mean: E[x^2] - E[x]^2 in float32 would cancel to noise; two passes do not.
    let data: Vec<f64> = uniform(41, 10000, -0.5, 0.5)
        .iter()
        .map(|v| 1e4 + v)
        .collect();
    let a = f32_array(&data, &[10000]);
    let held: Vec<f64> = data.iter().map(|&v| v as f32 as f64).collect();
    assert_close(
        &f64s(&ops::var(&a, None, false, 0, ()).unwrap()),
        &[var_reference(&held, 0)],
        1e-4,
        0.0,
        "offset var",
    );
    // Integers give float32; ddof >= N divides by zero.
    let i = Array::from_slice(&[1i32, 2, 4], &[3]).unwrap();
    let v = ops::var(&i, None, false, 1, ()).unwrap();
    assert_eq!(v.dtype(), Dtype::Float32);
    assert_close(&f64s(&v), &[7.0 / 3.0], 1e-6, 0.0, "int var");
    assert_eq!(
        f64s(&ops::var(&i, None, false, 3, ()).unwrap()),
        vec![f64::INFINITY]
    );
    // float16: computed in f32, rounded once.
    let h = Array::from_slice(
        &[
            f16::from_f32(1000.0),
            f16::from_f32(1001.0),
            f16::from_f32(1002.0),
        ],
        &[3],
    )
    .unwrap();
    let v = ops::var(&h, None, false, 0, ()).unwrap();
    assert_eq!(v.dtype(), Dtype::Float16);
    assert_eq!(v.item::<f32>().unwrap(), f16::from_f64(2.0 / 3.0).to_f32());
}

/// std is `sqrt(var)`; it needs the elementwise `sqrt` kernel.
#[test]
fn std_is_the_square_root_of_var() {
    let shape = [5, 6, 7];
    let data = uniform(42, numel(&shape), -3.0, 3.0);
    let a = f32_array(&data, &shape);
    for axes in [None, Some(&[1][..]), Some(&[0, 2][..])] {
        let ax = norm_axes(axes, 3);
        for ddof in [0, 1] {
            let s = ops::std(&a, axes, true, ddof, ()).unwrap();
            assert_eq!(s.shape(), &out_shape(&shape, &ax, true)[..]);
            let want: Vec<f64> = groups(&data, &shape, &ax)
                .iter()
                .map(|g| var_reference(g, ddof).sqrt())
                .collect();
            assert_close(
                &f64s(&s),
                &want,
                1e-5,
                1e-6,
                &format!("std over {axes:?} ddof {ddof}"),
            );
        }
    }
    let d = Array::from_slice(&data, &shape).unwrap();
    let s = ops::std(&d, None, false, 0, ()).unwrap();
    assert_eq!(s.dtype(), Dtype::Float64);
    assert_close(
        &f64s(&s),
        &[var_reference(&data, 0).sqrt()],
        1e-12,
        0.0,
        "f64 std",
    );
    let c = ops::astype(&a, Dtype::Complex64, ()).unwrap();
    assert_eq!(
        ops::std(&c, None, false, 0, ()).unwrap().dtype(),
        Dtype::Float32
    );
    let i = Array::from_slice(&[1i32, 2, 4], &[3]).unwrap();
    assert_close(
        &f64s(&ops::std(&i, None, false, 1, ()).unwrap()),
        &[(7.0f64 / 3.0).sqrt()],
        1e-6,
        0.0,
        "int std",
    );
}

#[test]
fn logsumexp_is_stable() {
    // exp(1000) overflows every float type; the shifted form does not.
    let a = Array::from_slice(&[1000.0f32, 1000.0, 999.0], &[3]).unwrap();
    let want = 1000.0 + (2.0 + (-1.0f64).exp()).ln();
    assert_close(
        &f64s(&ops::logsumexp(&a, None, false, ()).unwrap()),
        &[want],
        1e-6,
        0.0,
        "large",
    );
    let a = Array::from_slice(&[-1000.0f32, -1000.0], &[2]).unwrap();
    assert_close(
        &f64s(&ops::logsumexp(&a, None, false, ()).unwrap()),
        &[-1000.0 + 2f64.ln()],
        1e-6,
        0.0,
        "small",
    );
    let inf = f32::INFINITY;
    let a = Array::from_slice(&[-inf, -inf, inf, 1.0, f32::NAN, 1.0], &[3, 2]).unwrap();
    let got = f64s(&ops::logsumexp(&a, Some(&[1]), false, ()).unwrap());
    assert!(
        got[0] == f64::NEG_INFINITY && got[1] == f64::INFINITY && got[2].is_nan(),
        "{got:?}"
    );
    // Over an outer axis (blocks of lines) and on a large input.
    let shape = [300, 7, 40];
    let data = uniform(50, numel(&shape), -20.0, 20.0);
    let a = f32_array(&data, &shape);
    for axes in [
        Some(&[0][..]),
        Some(&[1][..]),
        Some(&[2][..]),
        Some(&[0, 2][..]),
        None,
    ] {
        check("logsumexp", &a, &data, axes, false, 1e-6);
    }
}

/// The first index of the max (NaN first) of each group, for the reference.
fn ref_arg(g: &[f64], max: bool) -> u32 {
    let mut best = 0;
    for (i, &v) in g.iter().enumerate() {
        let b = g[best];
        let better = if max { v > b } else { v < b };
        if !b.is_nan() && (v.is_nan() || better) {
            best = i;
        }
    }
    best as u32
}

#[track_caller]
fn check_arg(a: &Array, data: &[f64], axis: Option<isize>, keepdims: bool) {
    for max in [true, false] {
        let y = if max {
            ops::argmax(a, axis, keepdims, ())
        } else {
            ops::argmin(a, axis, keepdims, ())
        }
        .unwrap();
        let ctx = format!(
            "arg{} of {:?} axis {axis:?} keepdims {keepdims}",
            if max { "max" } else { "min" },
            a.shape()
        );
        assert_eq!(y.dtype(), Dtype::Uint32);
        let (want, shape): (Vec<u32>, Vec<usize>) = match axis {
            None => (
                vec![ref_arg(data, max)],
                if keepdims { vec![1; a.ndim()] } else { vec![] },
            ),
            Some(ax) => {
                let ax = norm_axes(Some(&[ax]), a.ndim());
                (
                    groups(data, a.shape(), &ax)
                        .iter()
                        .map(|g| ref_arg(g, max))
                        .collect(),
                    out_shape(a.shape(), &ax, keepdims),
                )
            }
        };
        assert_eq!(y.shape(), &shape[..], "{ctx}");
        assert_eq!(y.to_vec::<u32>().unwrap(), want, "{ctx}");
    }
}

#[test]
fn argmax_and_argmin_keep_the_first_occurrence() {
    // Few distinct values: many ties.
    let shape = [6, 7, 8];
    let data: Vec<f64> = ints(60, numel(&shape), 0, 4)
        .iter()
        .map(|&v| v as f64)
        .collect();
    let a = f32_array(&data, &shape);
    for axis in [None, Some(0), Some(1), Some(2), Some(-1), Some(-3)] {
        for keepdims in [false, true] {
            check_arg(&a, &data, axis, keepdims);
        }
    }
    // Every dtype family.
    for dt in [
        Dtype::Int8,
        Dtype::Uint16,
        Dtype::Int64,
        Dtype::Uint64,
        Dtype::Float16,
        Dtype::Bfloat16,
        Dtype::Float64,
    ] {
        let x = ops::astype(&a, dt, ()).unwrap();
        check_arg(&x, &data, Some(1), false);
        check_arg(&x, &data, None, false);
    }
    // Transposed and reversed views.
    let t = ops::transpose(&a, Some(&[1, 2, 0]), ()).unwrap();
    let (td, _) = permute(&data, &shape, &[1, 2, 0]);
    for axis in [Some(0), Some(1), Some(2), None] {
        check_arg(&t, &td, axis, false);
    }
    let r = ops::slice(&a, &[5], &[-7], &[-1], ()).unwrap();
    let rd = reverse_axis(&data, &shape, 0);
    check_arg(&r, &rd, Some(0), true);
    // Large: rows in parallel and blocks of columns in parallel, unique extremes at known places.
    let shape = [700, 900];
    let data = uniform(61, numel(&shape), -1.0, 1.0);
    let a = f32_array(&data, &shape);
    for axis in [Some(0), Some(1), None] {
        check_arg(&a, &data, axis, false);
    }
}

#[test]
fn argmax_nan_wins_as_numpy() {
    let a = Array::from_slice(&[1.0f32, f32::NAN, 3.0, f32::NAN], &[4]).unwrap();
    assert_eq!(
        ops::argmax(&a, None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        1
    );
    assert_eq!(
        ops::argmin(&a, None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        1
    );
    let data = [
        2.0,
        5.0,
        f64::NAN,
        5.0,
        1.0,
        0.0,
        9.0,
        f64::NAN,
        0.0,
        0.0,
        1.0,
        2.0,
    ];
    let a = f32_array(&data, &[3, 4]);
    check_arg(&a, &data, Some(1), false);
    check_arg(&a, &data, Some(0), false);
    // A 0-d array has one element, index 0.
    assert_eq!(
        ops::argmax(&Array::scalar(3.0f32), None, false, ())
            .unwrap()
            .item::<u32>()
            .unwrap(),
        0
    );
}
