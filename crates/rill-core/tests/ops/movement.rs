//! Data movement: concatenate, stack, split, pad, tile, repeat.
//!
//! Each op runs on random data of several dtypes, with inputs in several layouts (contiguous,
//! transposed, strided, reversed, broadcast), and is compared with a reference computed here by
//! plain index arithmetic over nested multi-indices. A few NumPy-computed constants pin the
//! conventions; the errors found when an op is built are checked for their op and shapes.

use crate::layouts::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::ops::{self, Split};
use rill_core::{Array, Dtype, Element, Error, Scalar};

// ---------- concatenate / stack ----------

fn concat_ref<T: Copy>(parts: &[Nd<T>], ax: usize) -> Nd<T> {
    let mut shape = parts[0].shape.clone();
    shape[ax] = parts.iter().map(|p| p.shape[ax]).sum();
    Nd::from_fn(&shape, |i| {
        let mut j = i.to_vec();
        let mut k = 0;
        while j[ax] >= parts[k].shape[ax] {
            j[ax] -= parts[k].shape[ax];
            k += 1;
        }
        parts[k].at(&j)
    })
}

fn concatenate_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..25 {
        let nd = rng.random_range(1..=4);
        let base = rand_shape(rng, nd, 4);
        let ax = rng.random_range(0..nd);
        let k = rng.random_range(1..=4);
        let (refs, arrays): (Vec<Nd<T>>, Vec<Array>) = (0..k)
            .map(|_| {
                let mut sh = base.clone();
                sh[ax] = rng.random_range(0..=3);
                let lay = rand_lay(rng);
                input::<T>(rng, &sh, lay)
            })
            .unzip();
        let axis = user_axis(rng, ax, nd);
        let out = ops::concatenate(&arrays, Some(axis), ()).unwrap();
        check(
            &out,
            &concat_ref(&refs, ax),
            &format!("concatenate {:?} axis {axis}", base),
        );
    }
}

#[test]
fn concatenate_matches_reference_for_every_layout_and_dtype() {
    let mut rng = StdRng::seed_from_u64(1);
    for_dtypes!(concatenate_random, &mut rng);
}

#[test]
fn concatenate_large_arrays_in_parallel_chunks() {
    // Big enough to be split across threads; strided inputs so every chunk boundary matters.
    let mut rng = StdRng::seed_from_u64(2);
    for (ax, shapes) in [
        (1usize, [[403, 150], [403, 1], [403, 171]]),
        (0, [[97, 310], [150, 310], [3, 310]]),
    ] {
        let lays = [Lay::Transposed, Lay::Contiguous, Lay::Reversed];
        let (refs, arrays): (Vec<Nd<f32>>, Vec<Array>) = shapes
            .iter()
            .zip(lays)
            .map(|(s, l)| input::<f32>(&mut rng, s, l))
            .unzip();
        let out = ops::concatenate(&arrays, Some(ax as isize), ()).unwrap();
        check(&out, &concat_ref(&refs, ax), "large concatenate");
    }
}

#[test]
fn concatenate_without_axis_flattens_and_promotes() {
    let a = Array::from_slice(&[1i32, -2, 3, 4], &[2, 2]).unwrap();
    let b = Array::from_slice(&[0.5f32, 1.5, 2.5], &[3]).unwrap();
    let t = ops::transpose(&a, None, ()).unwrap();
    let out = ops::concatenate(&[t, b], None, ()).unwrap();
    assert_eq!(out.dtype(), Dtype::Float32);
    assert_eq!(
        out.to_vec::<f32>().unwrap(),
        vec![1.0, 3.0, -2.0, 4.0, 0.5, 1.5, 2.5]
    );

    // uint8 with int8 promotes to int16 (MLX's table); the values survive.
    let u = Array::from_slice(&[200u8, 7], &[2]).unwrap();
    let s = Array::from_slice(&[-100i8], &[1]).unwrap();
    let out = ops::concatenate(&[u, s], Some(0), ()).unwrap();
    assert_eq!(out.dtype(), Dtype::Int16);
    assert_eq!(out.to_vec::<i16>().unwrap(), vec![200, 7, -100]);

    // 0-d arrays concatenate once flattened.
    let out = ops::concatenate(&[Array::scalar(1.0f64), Array::scalar(2.0f64)], None, ()).unwrap();
    assert_eq!(out.shape(), &[2]);
    assert_eq!(out.to_vec::<f64>().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn concatenate_errors_name_the_op_and_shapes() {
    let a = ops::zeros(&[2, 3], Dtype::Float32, ()).unwrap();
    let b = ops::zeros(&[2, 4], Dtype::Float32, ()).unwrap();
    let c = ops::zeros(&[2, 3, 1], Dtype::Float32, ()).unwrap();
    let e = ops::concatenate(&[a.clone(), b.clone()], Some(0), ()).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "concatenate",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(msg.contains("[2, 3]") && msg.contains("[2, 4]"), "{msg}");
    // Along axis 1 (or -1) the same two fit.
    assert_eq!(
        ops::concatenate(&[a.clone(), b.clone()], Some(-1), ())
            .unwrap()
            .shape(),
        &[2, 7]
    );
    let e = ops::concatenate(&[a.clone(), c], Some(0), ()).unwrap_err();
    assert!(e.to_string().contains("[2, 3, 1]"), "{e}");
    let e = ops::concatenate(&[a.clone(), b.clone()], Some(2), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "concatenate",
                axis: 2,
                ..
            }
        ),
        "{e:?}"
    );
    let e = ops::concatenate(&[], Some(0), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Argument {
                op: "concatenate",
                ..
            }
        ),
        "{e:?}"
    );
    let e = ops::concatenate(&[Array::scalar(1i32), Array::scalar(2i32)], Some(0), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "concatenate",
                ..
            }
        ),
        "{e:?}"
    );
}

fn stack_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..10 {
        let nd = rng.random_range(0..=3);
        let shape = rand_shape(rng, nd, 4);
        let k = rng.random_range(1..=3);
        let (refs, arrays): (Vec<Nd<T>>, Vec<Array>) = (0..k)
            .map(|_| {
                let lay = rand_lay(rng);
                input::<T>(rng, &shape, lay)
            })
            .unzip();
        let ax = rng.random_range(0..=nd);
        let axis = user_axis(rng, ax, nd + 1);
        let out = ops::stack(&arrays, axis, ()).unwrap();
        let mut out_shape = shape.clone();
        out_shape.insert(ax, k);
        let expect = Nd::from_fn(&out_shape, |i| {
            let mut j = i.to_vec();
            let which = j.remove(ax);
            refs[which].at(&j)
        });
        check(&out, &expect, &format!("stack {shape:?} axis {axis}"));
    }
}

#[test]
fn stack_matches_reference() {
    let mut rng = StdRng::seed_from_u64(3);
    for_dtypes!(stack_random, &mut rng);
    let a = ops::zeros(&[2, 3], Dtype::Int32, ()).unwrap();
    let b = ops::zeros(&[3, 2], Dtype::Int32, ()).unwrap();
    let e = ops::stack(&[a.clone(), b], 0, ()).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "stack", .. }), "{e:?}");
    assert!(
        e.to_string().contains("[2, 3]") && e.to_string().contains("[3, 2]"),
        "{e}"
    );
    let e = ops::stack(&[a.clone(), a], 3, ()).unwrap_err();
    assert!(matches!(e, Error::Axis { op: "stack", .. }), "{e:?}");
}

// ---------- split ----------

/// Python's `range(*slice(lo, hi).indices(n))` for step 1.
fn py_range(lo: isize, hi: isize, n: usize) -> std::ops::Range<usize> {
    let n = n as isize;
    let fix = |v: isize| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
    let (lo, hi) = (fix(lo), fix(hi));
    lo..hi.max(lo)
}

fn split_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..10 {
        let nd = rng.random_range(1..=3);
        let shape = rand_shape(rng, nd, 6);
        let ax = rng.random_range(0..nd);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let n = shape[ax] as i64;
        let cuts: Vec<isize> = (0..rng.random_range(0..=3))
            .map(|_| rng.random_range(-n - 1..=n + 1) as isize)
            .collect();
        let axis = user_axis(rng, ax, nd);
        let parts = ops::split(&a, Split::Indices(cuts.clone()), axis, ()).unwrap();
        assert_eq!(parts.len(), cuts.len() + 1);
        let mut bounds = vec![0isize];
        bounds.extend(&cuts);
        bounds.push(n as isize);
        for (p, w) in parts.iter().zip(bounds.windows(2)) {
            let range = py_range(w[0], w[1], shape[ax]);
            let mut sh = shape.clone();
            sh[ax] = range.len();
            let expect = Nd::from_fn(&sh, |i| {
                let mut j = i.to_vec();
                j[ax] += range.start;
                r.at(&j)
            });
            check(
                p,
                &expect,
                &format!("split {shape:?} at {cuts:?} axis {axis}"),
            );
        }
        // Equal sections: every divisor of the axis.
        for k in (1..=shape[ax]).filter(|&k| shape[ax].is_multiple_of(k)) {
            let parts = ops::split(&a, Split::Sections(k), axis, ()).unwrap();
            let len = shape[ax] / k;
            assert_eq!(parts.len(), k);
            for (s, p) in parts.iter().enumerate() {
                let mut sh = shape.clone();
                sh[ax] = len;
                let expect = Nd::from_fn(&sh, |i| {
                    let mut j = i.to_vec();
                    j[ax] += s * len;
                    r.at(&j)
                });
                check(p, &expect, "split into sections");
            }
        }
    }
}

#[test]
fn split_matches_python_slicing() {
    let mut rng = StdRng::seed_from_u64(4);
    for_dtypes!(split_random, &mut rng);
}

#[test]
fn split_known_values_and_errors() {
    // NumPy: [x.tolist() for x in np.split(np.arange(10), [3, -1])] == [[0,1,2],[3..=8],[9]]
    // and np.split(np.arange(10), [7, 3]) == [[0..=6], [], [3..=9]].
    let a = ops::arange(0.0, 10.0, 1.0, Some(Dtype::Int32), ()).unwrap();
    let v = |p: &[Array]| {
        p.iter()
            .map(|x| x.to_vec::<i32>().unwrap())
            .collect::<Vec<_>>()
    };
    let parts = ops::split(&a, Split::Indices(vec![3, -1]), 0, ()).unwrap();
    assert_eq!(
        v(&parts),
        vec![vec![0, 1, 2], vec![3, 4, 5, 6, 7, 8], vec![9]]
    );
    let parts = ops::split(&a, Split::Indices(vec![7, 3]), -1, ()).unwrap();
    assert_eq!(v(&parts), vec![(0..7).collect(), vec![], (3..10).collect()]);
    // The parts are views of `a`, not copies.
    assert!(parts
        .iter()
        .all(|p| p.op_name().is_none() || p.op_name() == Some("slice")));

    let e = ops::split(&a, Split::Sections(3), 0, ()).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "split", .. }), "{e:?}");
    assert!(e.to_string().contains("[10]"), "{e}");
    let e = ops::split(&a, Split::Sections(0), 0, ()).unwrap_err();
    assert!(matches!(e, Error::Argument { op: "split", .. }), "{e:?}");
    let e = ops::split(&a, Split::Sections(2), 1, ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "split",
                axis: 1,
                ..
            }
        ),
        "{e:?}"
    );
}

// ---------- pad ----------

fn pad_ref<T: Copy>(r: &Nd<T>, widths: &[(usize, usize)], value: T) -> Nd<T> {
    let shape: Vec<usize> = r
        .shape
        .iter()
        .zip(widths)
        .map(|(&n, &(lo, hi))| n + lo + hi)
        .collect();
    Nd::from_fn(&shape, |i| {
        let inside = i
            .iter()
            .zip(widths)
            .zip(&r.shape)
            .all(|((&k, &(lo, _)), &n)| k >= lo && k < lo + n);
        if inside {
            r.at(&i
                .iter()
                .zip(widths)
                .map(|(&k, &(lo, _))| k - lo)
                .collect::<Vec<_>>())
        } else {
            value
        }
    })
}

fn pad_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..15 {
        let nd = rng.random_range(0..=4);
        let mut shape = rand_shape(rng, nd, 4);
        if nd > 0 && rng.random_bool(0.15) {
            shape[0] = 0;
        }
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let widths: Vec<(usize, usize)> = if rng.random_bool(0.2) {
            vec![(rng.random_range(0..3), rng.random_range(0..3)); 1]
        } else {
            (0..nd)
                .map(|_| (rng.random_range(0..3), rng.random_range(0..3)))
                .collect()
        };
        let value: T = rand_val(rng);
        let out = ops::pad(&a, &widths, value.to_scalar(), ()).unwrap();
        let full = if widths.len() == 1 {
            vec![widths[0]; nd]
        } else {
            widths.clone()
        };
        check(
            &out,
            &pad_ref(&r, &full, value),
            &format!("pad {shape:?} by {widths:?} ({lay:?})"),
        );
    }
}

#[test]
fn pad_matches_reference() {
    let mut rng = StdRng::seed_from_u64(5);
    for_dtypes!(pad_random, &mut rng);
}

#[test]
fn pad_large_strided_input_across_chunks() {
    let mut rng = StdRng::seed_from_u64(6);
    for lay in [Lay::Transposed, Lay::Strided, Lay::Contiguous] {
        let (r, a) = input::<i32>(&mut rng, &[281, 247], lay);
        let widths = [(3, 11), (7, 2)];
        let out = ops::pad(&a, &widths, Scalar::Int(-9), ()).unwrap();
        check(
            &out,
            &pad_ref(&r, &widths, -9),
            &format!("large pad ({lay:?})"),
        );
        let (r, a) = input::<f32>(&mut rng, &[23, 71, 97], lay);
        let widths = [(0, 1), (2, 0), (1, 1)];
        let out = ops::pad(&a, &widths, Scalar::Float(0.25), ()).unwrap();
        check(
            &out,
            &pad_ref(&r, &widths, 0.25),
            &format!("large 3-d pad ({lay:?})"),
        );
    }
}

#[test]
fn pad_with_edges_reflections_and_symmetry_matches_numpy() {
    // np.pad(np.arange(4), (6, 5), mode=...): widths past the length repeat the pattern.
    let a = ops::arange(0.0, 4.0, 1.0, Some(Dtype::Int32), ()).unwrap();
    let cases = [
        (
            ops::PadMode::Edge,
            vec![0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3],
        ),
        (
            ops::PadMode::Reflect,
            vec![0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2],
        ),
        (
            ops::PadMode::Symmetric,
            vec![2, 3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0],
        ),
    ];
    for (mode, want) in cases {
        let out = ops::pad_with(&a, &[(6, 5)], mode, ()).unwrap();
        assert_eq!(out.to_vec::<i32>().unwrap(), want, "{mode:?}");
    }
    // Two dims of a transposed view, one of them of length one (reflect repeats it).
    let m = ops::reshape(
        &ops::arange(0.0, 3.0, 1.0, Some(Dtype::Float32), ()).unwrap(),
        &[1, 3],
        (),
    )
    .unwrap();
    let t = ops::transpose(&m, None, ()).unwrap(); // (3, 1): [[0], [1], [2]]
    let out = ops::pad_with(&t, &[(1, 0), (1, 2)], ops::PadMode::Reflect, ()).unwrap();
    assert_eq!(out.shape(), &[4, 4]);
    // np.pad([[0], [1], [2]], ((1, 0), (1, 2)), mode="reflect")
    assert_eq!(
        out.to_vec::<f32>().unwrap(),
        vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]
    );
    // Nothing to repeat on an empty dim.
    let e = ops::zeros(&[0, 2], Dtype::Float32, ()).unwrap();
    let err = ops::pad_with(&e, &[(1, 1)], ops::PadMode::Edge, ()).unwrap_err();
    assert!(err.to_string().contains("pad"), "{err}");
}

#[test]
fn pad_known_values_and_errors() {
    // np.pad(np.arange(6).reshape(2, 3), ((1, 0), (0, 2)), constant_values=9)
    let a = ops::reshape(
        &ops::arange(0.0, 6.0, 1.0, Some(Dtype::Int64), ()).unwrap(),
        &[2, 3],
        (),
    )
    .unwrap();
    let out = ops::pad(&a, &[(1, 0), (0, 2)], Scalar::Int(9), ()).unwrap();
    assert_eq!(out.shape(), &[3, 5]);
    assert_eq!(
        out.to_vec::<i64>().unwrap(),
        vec![9, 9, 9, 9, 9, 0, 1, 2, 9, 9, 3, 4, 5, 9, 9]
    );
    // The value is cast to the array's dtype: 2.7 into int64 truncates to 2 (NumPy does the same).
    let out = ops::pad(&a, &[(1, 1)], Scalar::Float(2.7), ()).unwrap();
    assert_eq!(out.shape(), &[4, 5]);
    assert_eq!(out.to_vec::<i64>().unwrap()[..6], [2, 2, 2, 2, 2, 2]);
    // A 0-d array has nothing to pad.
    let s = ops::pad(&Array::scalar(3u8), &[], Scalar::Int(1), ()).unwrap();
    assert_eq!(s.to_vec::<u8>().unwrap(), vec![3]);

    let e = ops::pad(&a, &[(1, 1), (1, 1), (1, 1)], Scalar::Int(0), ()).unwrap_err();
    assert!(matches!(e, Error::Argument { op: "pad", .. }), "{e:?}");
    assert!(e.to_string().contains("[2, 3]"), "{e}");
}

// ---------- tile / repeat ----------

fn tile_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..12 {
        let nd = rng.random_range(0..=3);
        let shape = rand_shape(rng, nd, 3);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let reps: Vec<usize> = (0..rng.random_range(0..=4))
            .map(|_| rng.random_range(0..=3))
            .collect();
        let out = ops::tile(&a, &reps, ()).unwrap();
        // NumPy: pad the shorter of shape and reps with leading 1s; out[i] = a[i mod shape].
        let m = nd.max(reps.len());
        let sh: Vec<usize> = vec![1; m - nd]
            .into_iter()
            .chain(shape.iter().copied())
            .collect();
        let rp: Vec<usize> = vec![1; m - reps.len()]
            .into_iter()
            .chain(reps.iter().copied())
            .collect();
        let out_shape: Vec<usize> = sh.iter().zip(&rp).map(|(&n, &k)| n * k).collect();
        let expect = Nd::from_fn(&out_shape, |i| {
            let j: Vec<usize> = i[m - nd..]
                .iter()
                .zip(&shape)
                .map(|(&k, &n)| k % n)
                .collect();
            r.at(&j)
        });
        check(
            &out,
            &expect,
            &format!("tile {shape:?} by {reps:?} ({lay:?})"),
        );
    }
}

#[test]
fn tile_matches_numpy_rules() {
    let mut rng = StdRng::seed_from_u64(7);
    for_dtypes!(tile_random, &mut rng);
    // np.tile(np.array([[1, 2], [3, 4]]), 2).tolist() == [[1, 2, 1, 2], [3, 4, 3, 4]]
    let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]).unwrap();
    let out = ops::tile(&a, &[2], ()).unwrap();
    assert_eq!(out.shape(), &[2, 4]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 3, 4, 3, 4]);
}

fn repeat_random<T: Element>(rng: &mut StdRng) {
    for _ in 0..12 {
        let nd = rng.random_range(0..=3);
        let shape = rand_shape(rng, nd, 4);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let k = rng.random_range(0..=3);
        if nd == 0 || rng.random_bool(0.3) {
            let out = ops::repeat(&a, k, None, ()).unwrap();
            let flat = Nd {
                shape: vec![r.data.len()],
                data: r.data.clone(),
            };
            let expect = Nd::from_fn(&[flat.data.len() * k], |i| flat.at(&[i[0] / k]));
            check(&out, &expect, &format!("repeat {shape:?} x{k} flat"));
        } else {
            let ax = rng.random_range(0..nd);
            let axis = user_axis(rng, ax, nd);
            let out = ops::repeat(&a, k, Some(axis), ()).unwrap();
            let mut out_shape = shape.clone();
            out_shape[ax] *= k;
            let expect = Nd::from_fn(&out_shape, |i| {
                let mut j = i.to_vec();
                j[ax] /= k;
                r.at(&j)
            });
            check(
                &out,
                &expect,
                &format!("repeat {shape:?} x{k} axis {axis} ({lay:?})"),
            );
        }
    }
}

#[test]
fn repeat_matches_numpy_rules() {
    let mut rng = StdRng::seed_from_u64(8);
    for_dtypes!(repeat_random, &mut rng);
    // np.repeat(np.array([[1, 2], [3, 4]]), 2, axis=0).tolist() == [[1,2],[1,2],[3,4],[3,4]]
    let a = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]).unwrap();
    let out = ops::repeat(&a, 2, Some(0), ()).unwrap();
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 2, 1, 2, 3, 4, 3, 4]);
    let out = ops::repeat(&a, 2, None, ()).unwrap();
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![1, 1, 2, 2, 3, 3, 4, 4]);
    let e = ops::repeat(&a, 2, Some(-3), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "repeat",
                axis: -3,
                ..
            }
        ),
        "{e:?}"
    );
}
