#![allow(clippy::type_complexity)]
//! Indexing: take, take_along_axis, put_along_axis, slice_update, scatter_add.
//!
//! Random data of several dtypes, indices of every integer dtype (negatives included), inputs and
//! indices in several layouts, all compared with references computed here by index arithmetic.
//! Indices out of range are runtime errors: they must stick to the result and to what depends on
//! it, leave unrelated arrays alone, and never panic or hang.

use crate::layouts::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::{ops, Array, Dtype, Element, Error, Scalar};

/// A random index array of `shape` for an axis of size `n` (negatives when `I` is signed), laid
/// out at random; the values as i64.
fn indices<I: Element>(rng: &mut StdRng, shape: &[usize], n: usize) -> (Nd<i64>, Array) {
    let n = n as i64;
    let lo = if I::DTYPE.is_signed_integer() { -n } else { 0 };
    let r = Nd::from_fn(shape, |_| rng.random_range(lo..n));
    let typed = Nd {
        shape: r.shape.clone(),
        data: r
            .data
            .iter()
            .map(|&v| I::from_scalar(Scalar::Int(v)))
            .collect::<Vec<I>>(),
    };
    let lay = [
        Lay::Contiguous,
        Lay::Transposed,
        Lay::Strided,
        Lay::Reversed,
    ][rng.random_range(0..4)];
    (r, arrange(&typed, lay))
}

fn wrap(v: i64, n: usize) -> usize {
    if v < 0 {
        (v + n as i64) as usize
    } else {
        v as usize
    }
}

/// `shape` with some dims set to 1, for operands that broadcast.
fn some_ones(rng: &mut StdRng, shape: &[usize], skip: Option<usize>) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| {
            if Some(d) != skip && rng.random_bool(0.3) {
                1
            } else {
                n
            }
        })
        .collect()
}

// ---------- take ----------

fn take_ref<T: Copy>(a: &Nd<T>, idx: &Nd<i64>, ax: usize) -> Nd<T> {
    let k = idx.shape.len();
    let mut shape = a.shape[..ax].to_vec();
    shape.extend(&idx.shape);
    shape.extend(&a.shape[ax + 1..]);
    Nd::from_fn(&shape, |i| {
        let mut j = i[..ax].to_vec();
        j.push(wrap(idx.at(&i[ax..ax + k]), a.shape[ax]));
        j.extend(&i[ax + k..]);
        a.at(&j)
    })
}

fn take_case<T: Element, I: Element>(rng: &mut StdRng) {
    for _ in 0..8 {
        let nd = rng.random_range(0..=3);
        let shape = rand_shape(rng, nd, 4);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let k = rng.random_range(0..=2);
        let idx_shape = rand_shape(rng, k, 3);
        if nd == 0 || rng.random_bool(0.25) {
            let (iv, idx) = indices::<I>(rng, &idx_shape, r.data.len());
            let flat = Nd {
                shape: vec![r.data.len()],
                data: r.data.clone(),
            };
            let out = ops::take(&a, &idx, None, ()).unwrap();
            check(
                &out,
                &take_ref(&flat, &iv, 0),
                &format!("take {shape:?} flat"),
            );
        } else {
            let ax = rng.random_range(0..nd);
            let (iv, idx) = indices::<I>(rng, &idx_shape, shape[ax]);
            let axis = user_axis(rng, ax, nd);
            let out = ops::take(&a, &idx, Some(axis), ()).unwrap();
            check(
                &out,
                &take_ref(&r, &iv, ax),
                &format!("take {shape:?} {idx_shape:?} axis {axis} ({lay:?})"),
            );
        }
    }
}

fn take_values<T: Element>(rng: &mut StdRng) {
    take_case::<T, i32>(rng);
}

#[test]
fn take_matches_reference_for_every_dtype_and_layout() {
    let mut rng = StdRng::seed_from_u64(11);
    for_dtypes!(take_values, &mut rng);
    take_case::<f32, u8>(&mut rng);
    take_case::<f32, u16>(&mut rng);
    take_case::<f32, u32>(&mut rng);
    take_case::<f32, u64>(&mut rng);
    take_case::<f32, i8>(&mut rng);
    take_case::<f32, i16>(&mut rng);
    take_case::<f32, i64>(&mut rng);
}

#[test]
fn take_known_values_empty_and_large() {
    // np.take(np.arange(12).reshape(3, 4), [[0, -1], [2, 1]], axis=1).tolist()
    let a = ops::reshape(
        &ops::arange(0.0, 12.0, 1.0, Some(Dtype::Int32), ()).unwrap(),
        &[3, 4],
        (),
    )
    .unwrap();
    let idx = Array::from_slice(&[0i64, -1, 2, 1], &[2, 2]).unwrap();
    let out = ops::take(&a, &idx, Some(1), ()).unwrap();
    assert_eq!(out.shape(), &[3, 2, 2]);
    assert_eq!(
        out.to_vec::<i32>().unwrap(),
        vec![0, 3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9]
    );
    // A 0-d index drops the axis.
    let out = ops::take(&a, &Array::scalar(-2i32), Some(0), ()).unwrap();
    assert_eq!(out.shape(), &[4]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![4, 5, 6, 7]);
    // Empty indices give an empty result, even from an empty axis.
    let none = Array::from_slice::<i32>(&[], &[0]).unwrap();
    assert_eq!(ops::take(&a, &none, Some(1), ()).unwrap().shape(), &[3, 0]);
    let empty = ops::zeros(&[0, 4], Dtype::Float32, ()).unwrap();
    let out = ops::take(&empty, &none, Some(0), ()).unwrap();
    assert_eq!(out.shape(), &[0, 4]);
    assert_eq!(out.to_vec::<f32>().unwrap(), Vec::<f32>::new());

    // Large enough for parallel chunks: a transposed source, indices along both axes.
    let mut rng = StdRng::seed_from_u64(12);
    let (r, a) = input::<f32>(&mut rng, &[300, 250], Lay::Transposed);
    for ax in [0usize, 1] {
        let (iv, idx) = indices::<i32>(&mut rng, &[400], r.shape[ax]);
        let out = ops::take(&a, &idx, Some(ax as isize), ()).unwrap();
        check(&out, &take_ref(&r, &iv, ax), "large take");
    }
}

#[test]
fn take_checks_shapes_and_dtypes_when_built() {
    let a = ops::zeros(&[3, 4], Dtype::Float32, ()).unwrap();
    let f = Array::from_slice(&[0.0f32, 1.0], &[2]).unwrap();
    let e = ops::take(&a, &f, Some(0), ()).unwrap_err();
    assert!(matches!(e, Error::Dtype { op: "take", .. }), "{e:?}");
    assert!(e.to_string().contains("float32"), "{e}");
    let b = Array::from_slice(&[true], &[1]).unwrap();
    assert!(matches!(
        ops::take(&a, &b, Some(0), ()),
        Err(Error::Dtype { op: "take", .. })
    ));
    let i = Array::from_slice(&[0i32], &[1]).unwrap();
    let e = ops::take(&a, &i, Some(-3), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "take",
                axis: -3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = ops::take(&Array::scalar(1.0f32), &i, Some(0), ()).unwrap_err();
    assert!(matches!(e, Error::Axis { op: "take", .. }), "{e:?}");
}

#[test]
fn an_index_out_of_range_is_a_runtime_error_that_sticks_to_the_array_and_its_dependents() {
    let a = ops::reshape(&ops::arange(0.0, 12.0, 1.0, None, ()).unwrap(), &[3, 4], ()).unwrap();
    let bad_idx = Array::from_slice(&[0i32, 3, -4, 4, 9], &[5]).unwrap();
    // Building succeeds: the values of the indices are not known yet.
    let bad = ops::take(&a, &bad_idx, Some(1), ()).unwrap();
    let dep = ops::add(&bad, &bad, ()).unwrap();
    let dep2 = ops::exp(&dep, ()).unwrap();
    let s2 = rill_core::new_stream(rill_core::Device::cpu()).unwrap();
    let far = ops::add(&dep, &ops::ones(&[1], Dtype::Float32, s2).unwrap(), s2).unwrap();
    let good = ops::take(
        &a,
        &Array::from_slice(&[-1i32, 0], &[2]).unwrap(),
        Some(1),
        (),
    )
    .unwrap();
    let unrelated = ops::add(&a, &a, ()).unwrap();

    // Evaluating everything together neither panics nor hangs; the first error comes back.
    let handle = rill_core::async_eval(&[&far, &good, &unrelated, &dep2]);
    let err = handle.wait().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Runtime { op: "take", .. }), "{err:?}");
    // The first bad index, the axis and its size, as NumPy words it.
    assert!(
        msg.contains("index 4 ") && msg.contains("axis 1") && msg.contains("size 4"),
        "{msg}"
    );

    assert_eq!(bad.error(), Some(err.clone()));
    assert_eq!(bad.eval().unwrap_err(), err);
    assert_eq!(bad.to_vec::<f32>().unwrap_err(), err);
    for d in [&dep, &dep2, &far] {
        assert_eq!(d.error(), Some(err.clone()));
        assert_eq!(d.eval().unwrap_err(), err);
    }
    assert_eq!(
        good.to_vec::<f32>().unwrap(),
        vec![3.0, 0.0, 7.0, 4.0, 11.0, 8.0]
    );
    assert_eq!(unrelated.to_vec::<f32>().unwrap()[5], 10.0);
    rill_core::synchronize(s2).unwrap();

    // item() of a one-element result reports the error too; the streams keep working.
    let one = ops::take(&a, &Array::scalar(12i64), None, ()).unwrap();
    let e = one.item::<f32>().unwrap_err();
    assert!(
        matches!(e, Error::Runtime { op: "take", .. }) && e.to_string().contains("index 12 "),
        "{e}"
    );
    let ok = ops::take(&a, &Array::scalar(-12i64), None, ()).unwrap();
    assert_eq!(ok.item::<f32>().unwrap(), 0.0);
    let e = ops::take(&a, &Array::scalar(-13i8), None, ())
        .unwrap()
        .eval()
        .unwrap_err();
    assert!(e.to_string().contains("index -13 "), "{e}");
    // A huge unsigned index does not wrap around to a valid negative one.
    let e = ops::take(&a, &Array::scalar(u64::MAX), None, ())
        .unwrap()
        .eval()
        .unwrap_err();
    assert!(e.to_string().contains(&u64::MAX.to_string()), "{e}");
    // An empty axis has no valid index.
    let empty = ops::zeros(&[2, 0], Dtype::Int32, ()).unwrap();
    let e = ops::take(&empty, &Array::scalar(0u8), Some(1), ())
        .unwrap()
        .eval()
        .unwrap_err();
    assert!(e.to_string().contains("size 0"), "{e}");

    // Large: the indices are checked in parallel, and the first bad one is reported.
    let mut big: Vec<i32> = (0..200_000).map(|i| i % 12 - 6).collect();
    big[150_001] = 40;
    big[199_999] = -50;
    let big = Array::from_slice(&big, &[200_000]).unwrap();
    let e = ops::take(&a, &big, None, ()).unwrap().eval().unwrap_err();
    assert!(e.to_string().contains("index 40 "), "{e}");
}

// ---------- take_along_axis ----------

fn take_along_case<T: Element, I: Element>(rng: &mut StdRng) {
    for _ in 0..8 {
        let nd = rng.random_range(1..=3);
        let shape = rand_shape(rng, nd, 4);
        let ax = rng.random_range(0..nd);
        // `a` and the indices broadcast against each other except on the axis.
        let a_shape = some_ones(rng, &shape, Some(ax));
        let mut i_shape = some_ones(rng, &shape, Some(ax));
        i_shape[ax] = rng.random_range(0..=5);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &a_shape, lay);
        let (iv, idx) = indices::<I>(rng, &i_shape, a_shape[ax]);
        let axis = user_axis(rng, ax, nd);
        let out = ops::take_along_axis(&a, &idx, Some(axis), ()).unwrap();
        let mut out_shape: Vec<usize> = a_shape
            .iter()
            .zip(&i_shape)
            .map(|(&x, &y)| x.max(y))
            .collect();
        out_shape[ax] = i_shape[ax];
        let pick = |i: &[usize], s: &[usize]| -> Vec<usize> {
            i.iter()
                .zip(s)
                .map(|(&k, &n)| if n == 1 { 0 } else { k })
                .collect()
        };
        let expect = Nd::from_fn(&out_shape, |i| {
            let mut j = pick(i, &a_shape);
            j[ax] = wrap(iv.at(&pick(i, &i_shape)), a_shape[ax]);
            r.at(&j)
        });
        check(
            &out,
            &expect,
            &format!("take_along_axis {a_shape:?} {i_shape:?} axis {axis} ({lay:?})"),
        );
    }
}

fn take_along_values<T: Element>(rng: &mut StdRng) {
    take_along_case::<T, i64>(rng);
}

#[test]
fn take_along_axis_matches_reference() {
    let mut rng = StdRng::seed_from_u64(13);
    for_dtypes!(take_along_values, &mut rng);
    take_along_case::<i16, u8>(&mut rng);
    take_along_case::<i16, i8>(&mut rng);
    take_along_case::<i16, u32>(&mut rng);

    // np.take_along_axis(a, np.argsort(a, axis=1), axis=1) sorts the rows.
    let a = Array::from_slice(&[10i32, 30, 20, 60, 40, 50], &[2, 3]).unwrap();
    let order = Array::from_slice(&[0u32, 2, 1, 1, 2, 0], &[2, 3]).unwrap();
    let out = ops::take_along_axis(&a, &order, Some(-1), ()).unwrap();
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![10, 20, 30, 40, 50, 60]);
    // With no axis: the flattened array and 1-D indices.
    let flat = ops::take_along_axis(
        &a,
        &Array::from_slice(&[5i32, -6, 2], &[3]).unwrap(),
        None,
        (),
    )
    .unwrap();
    assert_eq!(flat.to_vec::<i32>().unwrap(), vec![50, 10, 20]);

    // Large, transposed source.
    let (r, a) = input::<f64>(&mut rng, &[260, 300], Lay::Transposed);
    let (iv, idx) = indices::<i32>(&mut rng, &[260, 280], 300);
    let out = ops::take_along_axis(&a, &idx, Some(1), ()).unwrap();
    let expect = Nd::from_fn(&[260, 280], |i| r.at(&[i[0], wrap(iv.at(i), 300)]));
    check(&out, &expect, "large take_along_axis");
}

#[test]
fn take_along_axis_errors() {
    let a = ops::zeros(&[2, 3], Dtype::Float32, ()).unwrap();
    let i2 = Array::from_slice(&[0i32, 1], &[2]).unwrap();
    let e = ops::take_along_axis(&a, &i2, Some(1), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "take_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("[2]") && e.to_string().contains("[2, 3]"),
        "{e}"
    );
    let i = Array::from_slice(&[0i32; 6], &[3, 2]).unwrap();
    let e = ops::take_along_axis(&a, &i, Some(1), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "take_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("[3, 2]"), "{e}");
    let e = ops::take_along_axis(&a, &i, None, ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "take_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    let f = ops::zeros(&[2, 1], Dtype::Float16, ()).unwrap();
    assert!(matches!(
        ops::take_along_axis(&a, &f, Some(1), ()),
        Err(Error::Dtype { .. })
    ));
    let e = ops::take_along_axis(&a, &i2, Some(2), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "take_along_axis",
                ..
            }
        ),
        "{e:?}"
    );

    let bad = Array::from_slice(&[0i32, 1, 2, -4], &[2, 2]).unwrap();
    let out = ops::take_along_axis(&a, &bad, Some(1), ()).unwrap();
    let e = out.eval().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Runtime {
                op: "take_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("index -4 ") && e.to_string().contains("size 3"),
        "{e}"
    );
}

// ---------- put_along_axis ----------

fn put_case<T: Element, I: Element>(rng: &mut StdRng) {
    for _ in 0..8 {
        let nd = rng.random_range(1..=3);
        let shape = rand_shape(rng, nd, 4);
        let ax = rng.random_range(0..nd);
        let mut target = shape.clone();
        target[ax] = rng.random_range(0..=5);
        let i_shape = some_ones(rng, &target, Some(ax));
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let (iv, idx) = indices::<I>(rng, &i_shape, shape[ax]);
        let v_full = some_ones(rng, &target, None);
        let drop = rng.random_range(0..=nd);
        let v_lay = rand_lay(rng);
        let (vr, values) = input::<T>(rng, &v_full[drop..], v_lay);
        let axis = user_axis(rng, ax, nd);
        let out = ops::put_along_axis(&a, &idx, &values, Some(axis), ()).unwrap();

        // Writes in row-major order of the indices' (broadcast) shape: the last one wins.
        let mut expect = r.clone();
        let pick = |i: &[usize], s: &[usize]| -> Vec<usize> {
            let skip = i.len() - s.len();
            i[skip..]
                .iter()
                .zip(s)
                .map(|(&k, &n)| if n == 1 { 0 } else { k })
                .collect()
        };
        let n: usize = target.iter().product();
        for p in 0..n {
            let i = unravel(p, &target);
            let mut j = i.clone();
            j[ax] = wrap(iv.at(&pick(&i, &i_shape)), shape[ax]);
            let flat = j.iter().zip(&shape).fold(0, |acc, (&k, &n)| acc * n + k);
            expect.data[flat] = vr.at(&pick(&i, &v_full[drop..]));
        }
        check(
            &out,
            &expect,
            &format!("put_along_axis {shape:?} {i_shape:?} axis {axis} ({lay:?})"),
        );
        // The inputs are untouched.
        assert_eq!(a.to_vec::<T>().unwrap(), r.data);
    }
}

fn put_values<T: Element>(rng: &mut StdRng) {
    put_case::<T, i32>(rng);
}

#[test]
fn put_along_axis_matches_reference() {
    let mut rng = StdRng::seed_from_u64(14);
    for_dtypes!(put_values, &mut rng);
    put_case::<u8, u16>(&mut rng);
    put_case::<u8, i8>(&mut rng);
    put_case::<u8, u64>(&mut rng);

    // b = [[10,30,20],[60,40,50]]; np.put_along_axis(b, [[2,2],[0,-1]], [[1,2],[3,4]], axis=1)
    let a = Array::from_slice(&[10i32, 30, 20, 60, 40, 50], &[2, 3]).unwrap();
    let idx = Array::from_slice(&[2i64, 2, 0, -1], &[2, 2]).unwrap();
    let vals = Array::from_slice(&[1.9f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let out = ops::put_along_axis(&a, &idx, &vals, Some(1), ()).unwrap();
    assert_eq!(
        out.dtype(),
        Dtype::Int32,
        "values are cast to the array's dtype"
    );
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![10, 30, 2, 3, 40, 4]);
    // With no axis: flattened, and the result keeps the array's shape.
    let out = ops::put_along_axis(
        &a,
        &Array::from_slice(&[-1i32, 1], &[2]).unwrap(),
        &Array::scalar(0i32),
        None,
        (),
    )
    .unwrap();
    assert_eq!(out.shape(), &[2, 3]);
    assert_eq!(out.to_vec::<i32>().unwrap(), vec![10, 0, 20, 60, 40, 0]);
    assert_eq!(a.to_vec::<i32>().unwrap(), vec![10, 30, 20, 60, 40, 50]);
}

#[test]
fn put_along_axis_large_in_parallel_slabs() {
    let mut rng = StdRng::seed_from_u64(15);
    let (r, a) = input::<f32>(&mut rng, &[300, 400], Lay::Transposed);
    for ax in [0usize, 1] {
        let mut i_shape = vec![300, 400];
        i_shape[ax] = 50;
        let (iv, idx) = indices::<i32>(&mut rng, &i_shape, 400 - 100 * (1 - ax));
        let (vr, values) = input::<f32>(&mut rng, &i_shape, Lay::Reversed);
        let out = ops::put_along_axis(&a, &idx, &values, Some(ax as isize), ()).unwrap();
        let mut expect = r.clone();
        for p in 0..i_shape[0] * i_shape[1] {
            let i = unravel(p, &i_shape);
            let mut j = i.clone();
            j[ax] = wrap(iv.at(&i), r.shape[ax]);
            expect.data[j[0] * 400 + j[1]] = vr.at(&i);
        }
        check(&out, &expect, &format!("large put_along_axis axis {ax}"));
    }
}

#[test]
fn put_along_axis_errors() {
    let a = ops::zeros(&[2, 3], Dtype::Float32, ()).unwrap();
    let v = Array::scalar(1.0f32);
    // Indices may not broadcast `a` itself (NumPy's in-place put cannot grow the array).
    let i = Array::from_slice(&[0i32; 4], &[4, 1]).unwrap();
    let e = ops::put_along_axis(&a, &i, &v, Some(1), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "put_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("[4, 1]") && e.to_string().contains("[2, 3]"),
        "{e}"
    );
    let i = Array::from_slice(&[0i32; 2], &[2, 1]).unwrap();
    let bad_v = ops::zeros(&[3], Dtype::Float32, ()).unwrap();
    let e = ops::put_along_axis(&a, &i, &bad_v, Some(1), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "put_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("[3]") && e.to_string().contains("[2, 1]"),
        "{e}"
    );
    let e = ops::put_along_axis(
        &a,
        &Array::from_slice(&[0i32], &[1]).unwrap(),
        &v,
        Some(1),
        (),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
    let e = ops::put_along_axis(&a, &i, &v, Some(-3), ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Axis {
                op: "put_along_axis",
                ..
            }
        ),
        "{e:?}"
    );

    let bad = Array::from_slice(&[1i32, 3], &[2, 1]).unwrap();
    let out = ops::put_along_axis(&a, &bad, &v, Some(1), ()).unwrap();
    let dep = ops::sqrt(&out, ()).unwrap();
    let e = dep.eval().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Runtime {
                op: "put_along_axis",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("index 3 ") && e.to_string().contains("size 3"),
        "{e}"
    );
    assert_eq!(out.error(), Some(e));
    assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0; 6]);
}

// ---------- slice_update ----------

/// The indices Python's `range(n)[start:stop:step]` selects.
fn py_slice(start: isize, stop: isize, step: isize, n: usize) -> Vec<usize> {
    let n = n as isize;
    let mut out = vec![];
    if step > 0 {
        let fix = |v: isize| (if v < 0 { v + n } else { v }).clamp(0, n);
        let mut i = fix(start);
        while i < fix(stop) {
            out.push(i as usize);
            i += step;
        }
    } else {
        let fix = |v: isize| (if v < 0 { v + n } else { v }).clamp(-1, n - 1);
        let mut i = fix(start);
        while i > fix(stop) {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn slice_update_case<T: Element>(rng: &mut StdRng) {
    for _ in 0..10 {
        let nd = rng.random_range(1..=3);
        let shape = rand_shape(rng, nd, 6);
        let lay = rand_lay(rng);
        let (r, a) = input::<T>(rng, &shape, lay);
        let k = rng.random_range(0..=nd);
        let mut start = vec![];
        let mut stop = vec![];
        let mut step = vec![];
        let mut picks: Vec<Vec<usize>> = vec![];
        for &n in &shape[..k] {
            let m = n as i64 + 2;
            let st = [1, 2, 3, -1, -2][rng.random_range(0..5)];
            start.push(rng.random_range(-m..=m) as isize);
            stop.push(rng.random_range(-m..=m) as isize);
            step.push(st);
            picks.push(py_slice(
                start[start.len() - 1],
                stop[stop.len() - 1],
                st,
                n,
            ));
        }
        picks.extend(shape[k..].iter().map(|&n| (0..n).collect::<Vec<_>>()));
        let slice_shape: Vec<usize> = picks.iter().map(|p| p.len()).collect();
        let u_full = some_ones(rng, &slice_shape, None);
        let drop = rng.random_range(0..=nd);
        let u_lay = rand_lay(rng);
        let (ur, update) = input::<T>(rng, &u_full[drop..], u_lay);
        let out = ops::slice_update(&a, &update, &start, &stop, &step, ()).unwrap();
        let mut expect = r.clone();
        let n: usize = slice_shape.iter().product();
        for p in 0..n {
            let u = unravel(p, &slice_shape);
            let flat = (0..nd).fold(0, |acc, d| acc * shape[d] + picks[d][u[d]]);
            let ui: Vec<usize> = u[drop..]
                .iter()
                .zip(&u_full[drop..])
                .map(|(&i, &m)| if m == 1 { 0 } else { i })
                .collect();
            expect.data[flat] = ur.at(&ui);
        }
        check(
            &out,
            &expect,
            &format!("slice_update {shape:?} [{start:?}:{stop:?}:{step:?}] ({lay:?}, {u_lay:?})"),
        );
        assert_eq!(a.to_vec::<T>().unwrap(), r.data, "the input is untouched");
    }
}

#[test]
fn slice_update_matches_reference() {
    let mut rng = StdRng::seed_from_u64(16);
    for_dtypes!(slice_update_case, &mut rng);

    // c = np.zeros((3, 5), np.int32); c[::2, 4:0:-2] = [7, 8]
    let c = ops::zeros(&[3, 5], Dtype::Int32, ()).unwrap();
    let u = Array::from_slice(&[7.9f32, 8.2], &[2]).unwrap();
    let out = ops::slice_update(&c, &u, &[0, 4], &[3, 0], &[2, -2], ()).unwrap();
    assert_eq!(
        out.to_vec::<i32>().unwrap(),
        vec![0, 0, 8, 0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 7],
        "values are cast to the array's dtype"
    );

    // Large, transposed, negative steps.
    let (r, a) = input::<i64>(&mut rng, &[300, 301], Lay::Transposed);
    let (ur, upd) = input::<i64>(&mut rng, &[100, 150], Lay::Strided);
    let out = ops::slice_update(&a, &upd, &[-1, 1], &[0, 301], &[-3, 2], ()).unwrap();
    let mut expect = r.clone();
    for i in 0..100 {
        for j in 0..150 {
            expect.data[(299 - 3 * i) * 301 + 1 + 2 * j] = ur.at(&[i, j]);
        }
    }
    check(&out, &expect, "large slice_update");
}

#[test]
fn slice_update_errors() {
    let a = ops::zeros(&[4, 5], Dtype::Float32, ()).unwrap();
    let u = ops::zeros(&[3], Dtype::Float32, ()).unwrap();
    let e = ops::slice_update(&a, &u, &[0, 0], &[2, 2], &[1, 1], ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Shape {
                op: "slice_update",
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("[3]") && msg.contains("[2, 2]") && msg.contains("[4, 5]"),
        "{msg}"
    );
    let e = ops::slice_update(&a, &u, &[0], &[2], &[0], ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Argument {
                op: "slice_update",
                ..
            }
        ),
        "{e:?}"
    );
    let e = ops::slice_update(&a, &u, &[0, 0, 0], &[1, 1, 1], &[1, 1, 1], ()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Argument {
                op: "slice_update",
                ..
            }
        ),
        "{e:?}"
    );
    // An empty slice writes nothing: any update that broadcasts to it is fine.
    let out = ops::slice_update(
        &a,
        &ops::zeros(&[1], Dtype::Float32, ()).unwrap(),
        &[3],
        &[1],
        &[1],
        (),
    )
    .unwrap();
    assert_eq!(out.to_vec::<f32>().unwrap(), vec![0.0; 20]);
}

// ---------- scatter_add ----------

/// `np.add.at(a, (slice(None),) * axis + (idx,), updates)`, by index arithmetic over row-major
/// vectors.
fn scatter_add_ref(
    a: &[f64],
    shape: &[usize],
    idx: &[i64],
    updates: &[f64],
    axis: usize,
) -> Vec<f64> {
    let before: usize = shape[..axis].iter().product();
    let after: usize = shape[axis + 1..].iter().product();
    let n = shape[axis];
    let mut out = a.to_vec();
    for p in 0..before {
        for (j, &i) in idx.iter().enumerate() {
            let i = wrap(i, n);
            for q in 0..after {
                out[(p * n + i) * after + q] += updates[(p * idx.len() + j) * after + q];
            }
        }
    }
    out
}

#[test]
fn scatter_add_matches_reference_with_repeats_and_negatives() {
    let mut rng = StdRng::seed_from_u64(77);
    for (shape, i_shape, axis) in [
        (vec![3usize, 5, 4], vec![2usize, 3], 1usize),
        (vec![6], vec![7], 0),
        (vec![4, 3], vec![5], 0),
        (vec![2, 3, 4], vec![2, 2], 2),
    ] {
        let n: usize = shape.iter().product();
        let a: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
        let idx: Vec<i64> = (0..i_shape.iter().product::<usize>())
            .map(|_| rng.random_range(-(shape[axis] as i64)..shape[axis] as i64))
            .collect();
        let mut u_shape = shape[..axis].to_vec();
        u_shape.extend(&i_shape);
        u_shape.extend(&shape[axis + 1..]);
        let u: Vec<f64> = (0..u_shape.iter().product::<usize>())
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let want = scatter_add_ref(&a, &shape, &idx, &u, axis);
        let (aa, ia, ua) = (
            Array::from_slice(&a, &shape).unwrap(),
            Array::from_slice(&idx.iter().map(|&i| i as i32).collect::<Vec<_>>(), &i_shape)
                .unwrap(),
            Array::from_slice(&u, &u_shape).unwrap(),
        );
        let got = ops::scatter_add(&aa, &ia, &ua, Some(axis as isize), ())
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() < 1e-12,
                "{shape:?} axis {axis}: element {k}: {g} vs {w}"
            );
        }
        // The same into a transposed (non-contiguous) `a`, and into int32.
        let t = ops::copy(&ops::transpose(&aa, None, ()).unwrap(), ()).unwrap();
        let at = ops::transpose(&t, None, ()).unwrap();
        let got = ops::scatter_add(&at, &ia, &ua, Some(axis as isize), ()).unwrap();
        for (g, w) in got.to_vec::<f64>().unwrap().iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-12,
                "{shape:?} axis {axis}, transposed: {g} vs {w}"
            );
        }
        let ai = ops::astype(&aa, Dtype::Int32, ()).unwrap();
        let ui = ops::astype(&ua, Dtype::Int32, ()).unwrap();
        let wi = scatter_add_ref(
            &ai.to_vec::<f64>().unwrap(),
            &shape,
            &idx,
            &ui.to_vec::<f64>().unwrap(),
            axis,
        );
        let gi = ops::scatter_add(&ai, &ia, &ui, Some(axis as isize), ()).unwrap();
        assert_eq!(gi.dtype(), Dtype::Int32);
        assert_eq!(gi.to_vec::<f64>().unwrap(), wi);
    }
    // Flattened (axis None), a broadcast update, and an index out of range.
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let i = Array::from_slice(&[3i64, 0, 3], &[3]).unwrap();
    let out = ops::scatter_add(&a, &i, &Array::scalar(10.0f32), None, ()).unwrap();
    assert_eq!(out.shape(), &[2, 2]);
    assert_eq!(out.to_vec::<f32>().unwrap(), vec![11.0, 2.0, 3.0, 24.0]);
    let bad = Array::from_slice(&[4i64], &[1]).unwrap();
    let out = ops::scatter_add(&a, &bad, &Array::scalar(1.0f32), None, ()).unwrap();
    let e = out.eval().unwrap_err();
    assert!(e.to_string().contains("index 4 is out of bounds"), "{e}");
}
