#![allow(clippy::type_complexity)]
//! sort, argsort and topk against `Vec::sort_by` on random data, for every dtype family, contiguous
//! and strided inputs, every axis.

use half::{bf16, f16};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::{ops, Array, Element, Error};
use std::cmp::Ordering;

/// NumPy's order, written independently of the kernel: numbers ascending, NaN last.
fn float_cmp(a: f64, b: f64) -> Ordering {
    (a.is_nan(), a)
        .partial_cmp(&(b.is_nan(), b))
        .unwrap_or(Ordering::Equal)
}

/// Reference: the rows of `data` (row-major of `shape`) along `axis`, each stably sorted; returns
/// (sorted values, argsort indices) in row-major order of `shape`.
fn reference<T: Copy>(
    data: &[T],
    shape: &[usize],
    axis: usize,
    cmp: impl Fn(&T, &T) -> Ordering,
) -> (Vec<T>, Vec<u32>) {
    let n = shape[axis];
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut vals = data.to_vec();
    let mut idx = vec![0u32; data.len()];
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * n + k) * inner + i;
            let row: Vec<T> = (0..n).map(|k| data[at(k)]).collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&x, &y| cmp(&row[x], &row[y]));
            for (k, &j) in order.iter().enumerate() {
                vals[at(k)] = row[j];
                idx[at(k)] = j as u32;
            }
        }
    }
    (vals, idx)
}

/// Sorts `a` along `axis` (None: flattened) and checks values, indices and topk against the
/// reference. `key` maps elements to something comparable exactly (bits for floats, so that NaN
/// equals NaN and -0 differs from 0).
fn check<T: Element, K: PartialEq + std::fmt::Debug>(
    a: &Array,
    axis: Option<isize>,
    cmp: impl Fn(&T, &T) -> Ordering + Copy,
    key: impl Fn(T) -> K + Copy,
) {
    let data = a.to_vec::<T>().unwrap();
    let (shape, ax) = match axis {
        None => (vec![a.size()], 0),
        Some(x) => (
            a.shape().to_vec(),
            if x < 0 {
                (x + a.ndim() as isize) as usize
            } else {
                x as usize
            },
        ),
    };
    let (want_vals, want_idx) = reference(&data, &shape, ax, cmp);
    let keys = |v: Vec<T>| v.into_iter().map(key).collect::<Vec<K>>();

    let sorted = ops::sort(a, axis, ()).unwrap();
    assert_eq!(sorted.shape(), &shape[..]);
    assert_eq!(sorted.dtype(), a.dtype());
    assert_eq!(
        keys(sorted.to_vec::<T>().unwrap()),
        keys(want_vals.clone()),
        "sort {:?} axis {axis:?}",
        a.shape()
    );

    let idx = ops::argsort(a, axis, ()).unwrap();
    assert_eq!(idx.dtype(), rill_core::Dtype::Uint32);
    assert_eq!(
        idx.to_vec::<u32>().unwrap(),
        want_idx,
        "argsort {:?} axis {axis:?}",
        a.shape()
    );

    // topk: the last k of each sorted row.
    let n = shape[ax];
    for k in [0, 1, n / 2, n] {
        let t = ops::topk(a, k, axis, ()).unwrap();
        let mut tshape = shape.clone();
        tshape[ax] = k;
        assert_eq!(t.shape(), &tshape[..]);
        let outer: usize = shape[..ax].iter().product();
        let inner: usize = shape[ax + 1..].iter().product();
        let mut want = vec![];
        for o in 0..outer {
            for kk in n - k..n {
                for i in 0..inner {
                    want.push(want_vals[(o * n + kk) * inner + i]);
                }
            }
        }
        assert_eq!(
            keys(t.to_vec::<T>().unwrap()),
            keys(want),
            "topk k={k} {:?} axis {axis:?}",
            a.shape()
        );
    }
}

/// All the axes of `a`, negative and positive, and None.
fn every_axis(a: &Array) -> Vec<Option<isize>> {
    let mut v: Vec<Option<isize>> = (0..a.ndim() as isize).map(Some).collect();
    v.push(Some(-1));
    v.push(None);
    v
}

/// `a`, and strided views of it: transposed, and sliced with steps 2 and -1.
fn views(a: &Array) -> Vec<Array> {
    let t = ops::transpose(a, None, ()).unwrap();
    let nd = a.ndim();
    let starts = vec![0isize; nd];
    let stops = a.shape().iter().map(|&d| d as isize).collect::<Vec<_>>();
    let mut steps = vec![1isize; nd];
    steps[0] = 2;
    let stepped = ops::slice(a, &starts, &stops, &steps, ()).unwrap();
    let rev_steps = vec![-1isize; nd];
    let rstarts = vec![-1isize; nd];
    let rstops = vec![-(a.shape()[0] as isize) - 1; nd];
    let rev = ops::slice(a, &rstarts[..1], &rstops[..1], &rev_steps[..1], ()).unwrap();
    vec![a.clone(), t, stepped, rev]
}

fn float_data(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| match rng.random_range(0..20) {
            0 => f64::NAN,
            1 => 0.0,
            2 => -0.0,
            3 => f64::INFINITY,
            4 => f64::NEG_INFINITY,
            // Few distinct values, so ties exercise stability.
            5..=9 => rng.random_range(-3..3) as f64,
            _ => rng.random_range(-100.0..100.0),
        })
        .collect()
}

const SHAPES: [&[usize]; 4] = [&[37], &[6, 9], &[4, 5, 7], &[3, 1, 8]];

#[test]
fn floats_sort_with_nan_last() {
    let mut rng = StdRng::seed_from_u64(1);
    for shape in SHAPES {
        let n: usize = shape.iter().product();
        let d = float_data(&mut rng, n);
        let f64s = Array::from_slice(&d, shape).unwrap();
        let f32s =
            Array::from_slice(&d.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape).unwrap();
        let h = Array::from_slice(
            &d.iter().map(|&v| f16::from_f64(v)).collect::<Vec<_>>(),
            shape,
        )
        .unwrap();
        let b = Array::from_slice(
            &d.iter().map(|&v| bf16::from_f64(v)).collect::<Vec<_>>(),
            shape,
        )
        .unwrap();
        for base in [&f64s, &f32s, &h, &b] {
            for a in views(base) {
                for axis in every_axis(&a) {
                    match a.dtype() {
                        rill_core::Dtype::Float64 => {
                            check::<f64, u64>(&a, axis, |x, y| float_cmp(*x, *y), f64::to_bits)
                        }
                        rill_core::Dtype::Float32 => check::<f32, u32>(
                            &a,
                            axis,
                            |x, y| float_cmp(*x as f64, *y as f64),
                            f32::to_bits,
                        ),
                        rill_core::Dtype::Float16 => check::<f16, u16>(
                            &a,
                            axis,
                            |x, y| float_cmp(x.to_f64(), y.to_f64()),
                            f16::to_bits,
                        ),
                        _ => check::<bf16, u16>(
                            &a,
                            axis,
                            |x, y| float_cmp(x.to_f64(), y.to_f64()),
                            bf16::to_bits,
                        ),
                    }
                }
            }
        }
    }
}

fn int_case<T: Element + Ord>(rng: &mut StdRng, gen: impl Fn(&mut StdRng) -> T) {
    for shape in SHAPES {
        let n: usize = shape.iter().product();
        let d: Vec<T> = (0..n).map(|_| gen(rng)).collect();
        let base = Array::from_slice(&d, shape).unwrap();
        for a in views(&base) {
            for axis in every_axis(&a) {
                check::<T, T>(&a, axis, T::cmp, |v| v);
            }
        }
    }
}

#[test]
fn integers_and_bool_sort() {
    let mut rng = StdRng::seed_from_u64(2);
    int_case::<i8>(&mut rng, |r| r.random_range(-5..5));
    int_case::<u8>(&mut rng, |r| r.random());
    int_case::<i16>(&mut rng, |r| r.random());
    int_case::<u16>(&mut rng, |r| r.random_range(0..7));
    int_case::<i32>(&mut rng, |r| r.random_range(-1000..1000));
    int_case::<u32>(&mut rng, |r| r.random());
    int_case::<i64>(&mut rng, |r| r.random());
    int_case::<u64>(&mut rng, |r| r.random());
    int_case::<bool>(&mut rng, |r| r.random());
}

#[test]
fn complex_sorts_lexicographically_with_numpy_nan_order() {
    use num_complex::Complex32 as C;
    // Expected order from numpy.sort of the same values.
    let nan = f32::NAN;
    let vals = [
        C::new(nan, 1.0),
        C::new(2.0, nan),
        C::new(1.0, 5.0),
        C::new(nan, nan),
        C::new(1.0, -2.0),
        C::new(-3.0, 0.0),
    ];
    let a = Array::from_slice(&vals, &[6]).unwrap();
    let idx = ops::argsort(&a, Some(0), ())
        .unwrap()
        .to_vec::<u32>()
        .unwrap();
    assert_eq!(idx, vec![5, 4, 2, 1, 0, 3]);
}

#[test]
fn large_inputs_sort_in_parallel_like_the_reference() {
    let mut rng = StdRng::seed_from_u64(3);
    // Many rows (parallel over rows), rows along axis 0 (sorted then scattered), and one long row
    // (parallel merge sort within the row).
    for (shape, axis) in [
        (vec![16usize, 20_000], Some(-1isize)),
        (vec![20_000, 5], Some(0)),
        (vec![150_000], None),
    ] {
        let n: usize = shape.iter().product();
        let d: Vec<f32> = (0..n)
            .map(|_| {
                if rng.random_range(0..100) == 0 {
                    f32::NAN
                } else {
                    rng.random_range(-50i32..50) as f32
                }
            })
            .collect();
        let a = Array::from_slice(&d, &shape).unwrap();
        let ax = match axis {
            Some(x) if x < 0 => (x + shape.len() as isize) as usize,
            Some(x) => x as usize,
            None => 0,
        };
        let (vals, idx) = reference(&d, &shape, ax, |x, y| float_cmp(*x as f64, *y as f64));
        let got = ops::sort(&a, axis, ()).unwrap().to_vec::<f32>().unwrap();
        assert!(
            got.iter()
                .zip(&vals)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "sort {shape:?}"
        );
        assert_eq!(
            ops::argsort(&a, axis, ()).unwrap().to_vec::<u32>().unwrap(),
            idx,
            "argsort {shape:?}"
        );
    }
}

#[test]
fn mlx_examples() {
    // Values from mlx.core 0.32.4.
    let a = Array::from_slice(&[3.0f32, f32::NAN, 1.0, 2.0, f32::NAN, -1.0], &[6]).unwrap();
    assert_eq!(
        ops::argsort(&a, Some(-1), ())
            .unwrap()
            .to_vec::<u32>()
            .unwrap(),
        vec![5, 2, 3, 0, 1, 4]
    );
    let t = ops::topk(&a, 2, Some(-1), ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(t.iter().all(|v| v.is_nan()));
    let m = Array::from_slice(&[5i32, 1, 4, 2, 8, 0], &[2, 3]).unwrap();
    assert_eq!(
        ops::topk(&m, 2, None, ()).unwrap().to_vec::<i32>().unwrap(),
        vec![5, 8]
    );
    // MLX leaves topk's output unordered ([[5, 1, 4], [2, 8, 0]] here); ours is ascending.
    assert_eq!(
        ops::topk(&m, 2, Some(0), ())
            .unwrap()
            .to_vec::<i32>()
            .unwrap(),
        vec![2, 1, 0, 5, 8, 4]
    );
    let s = Array::scalar(3.0f32);
    assert_eq!(ops::sort(&s, None, ()).unwrap().shape(), &[1]);
}

#[test]
fn empty_arrays_sort_to_empty() {
    let a = Array::from_slice::<f32>(&[], &[0, 4]).unwrap();
    assert_eq!(
        ops::sort(&a, Some(-1), ())
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        Vec::<f32>::new()
    );
    assert_eq!(ops::argsort(&a, Some(0), ()).unwrap().shape(), &[0, 4]);
    assert_eq!(ops::topk(&a, 0, Some(0), ()).unwrap().shape(), &[0, 4]);
}

#[test]
fn bad_axes_and_k_are_build_errors() {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    for r in [
        ops::sort(&a, Some(2), ()),
        ops::argsort(&a, Some(-3), ()),
        ops::topk(&a, 1, Some(5), ()),
    ] {
        assert!(matches!(r, Err(Error::Axis { .. })), "{r:?}");
    }
    let e = ops::topk(&a, 4, Some(-1), ()).unwrap_err();
    assert!(matches!(e, Error::Argument { op: "topk", .. }), "{e}");
    assert!(e.to_string().contains("[2, 3]"), "{e}");
    assert!(ops::topk(&a, 7, None, ()).is_err());
    assert!(ops::topk(&a, 6, None, ()).is_ok());
    let s = Array::scalar(1i32);
    assert!(ops::sort(&s, Some(0), ()).is_err());
}
