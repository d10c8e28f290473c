//! Creation ops and shape views, against values computed here by index arithmetic.

use rand::{Rng, SeedableRng};
use rill_core::ops::{self, SliceDim};
use rill_core::{Array, Dtype};

fn rand_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| r.random_range(-10.0..10.0)).collect()
}

#[test]
fn full_zeros_ones_in_every_dtype() {
    for dt in Dtype::ALL {
        let a = ops::full(&[2, 3], 3.0f64, Some(dt), ()).unwrap();
        assert_eq!(a.dtype(), dt);
        let want = if dt == Dtype::Bool { 1.0 } else { 3.0 };
        assert_eq!(a.to_vec::<f64>().unwrap(), vec![want; 6], "{dt}");
        assert_eq!(
            ops::zeros(&[4], dt, ()).unwrap().to_vec::<f64>().unwrap(),
            vec![0.0; 4]
        );
        assert_eq!(ops::ones(&[], dt, ()).unwrap().item::<f64>().unwrap(), 1.0);
    }
    let like = ops::full_like(&ops::zeros(&[2, 2], Dtype::Int16, ()).unwrap(), 7, ()).unwrap();
    assert_eq!(
        (like.dtype(), like.to_vec::<i64>().unwrap()),
        (Dtype::Int16, vec![7; 4])
    );
    assert_eq!(
        ops::full(&[1], 2.5f32, None, ()).unwrap().dtype(),
        Dtype::Float32
    );
    assert_eq!(ops::full(&[1], 2, None, ()).unwrap().dtype(), Dtype::Int32);
}

#[test]
fn zeros_like_and_ones_like_keep_shape_dtype_and_take_the_stream() {
    let s = rill_core::new_stream(rill_core::Device::cpu()).unwrap();
    let data = rand_vec(24, 7);
    let a = Array::from_slice(&data, &[2, 3, 4]).unwrap();
    let a = ops::astype(&a, Dtype::Float16, ()).unwrap();
    let z = ops::zeros_like(&a, s).unwrap();
    let o = ops::ones_like(&a, s).unwrap();
    for (x, v) in [(&z, 0.0), (&o, 1.0)] {
        assert_eq!(
            (x.shape(), x.dtype(), x.stream()),
            (&[2, 3, 4][..], Dtype::Float16, s)
        );
        assert_eq!(x.to_vec::<f64>().unwrap(), vec![v; 24]);
    }
    // Lazy inputs need not be evaluated to make a *_like: only the shape and dtype are read.
    let lazy = ops::exp(&a, ()).unwrap();
    assert_eq!(
        ops::ones_like(&lazy, ()).unwrap().to_vec::<f32>().unwrap(),
        vec![1.0; 24]
    );
}

#[test]
fn arange_linspace_eye_match_numpy() {
    // numpy.arange(-3, 4.5, 1.5) and numpy.linspace(0, 1, 5)
    let a = ops::arange(-3.0, 4.5, 1.5, None, ()).unwrap();
    assert_eq!(a.to_vec::<f32>().unwrap(), vec![-3.0, -1.5, 0.0, 1.5, 3.0]);
    let a = ops::arange(10.0, 0.0, -3.0, Some(Dtype::Int32), ()).unwrap();
    assert_eq!(a.to_vec::<i32>().unwrap(), vec![10, 7, 4, 1]);
    assert_eq!(ops::arange(5.0, 1.0, 1.0, None, ()).unwrap().shape(), &[0]);
    assert!(ops::arange(0.0, 1.0, 0.0, None, ())
        .unwrap_err()
        .to_string()
        .contains("[arange]"));
    let l = ops::linspace(0.0, 1.0, 5, None, ()).unwrap();
    assert_eq!(l.to_vec::<f32>().unwrap(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    let e = ops::eye(3, Some(4), 1, Dtype::Float32, ()).unwrap();
    let want: Vec<f32> = (0..12)
        .map(|i| if i % 4 == i / 4 + 1 { 1.0 } else { 0.0 })
        .collect();
    assert_eq!(e.to_vec::<f32>().unwrap(), want);
    let id = ops::identity(3, Dtype::Int32, ()).unwrap();
    assert_eq!(id.to_vec::<i32>().unwrap(), vec![1, 0, 0, 0, 1, 0, 0, 0, 1]);
}

#[test]
fn views_share_memory_and_read_correctly() {
    let (d0, d1, d2) = (3usize, 4usize, 5usize);
    let v = rand_vec(d0 * d1 * d2, 1);
    // Computed on the default device (a GPU copy of the host data when the suite runs there), so
    // the view below shares memory with an array of its own device.
    let a = ops::copy(&Array::from_slice(&v, &[d0, d1, d2]).unwrap(), ()).unwrap();
    let at = |i: usize, j: usize, k: usize| v[(i * d1 + j) * d2 + k];

    // transpose (2, 0, 1): out[k][i][j] = a[i][j][k]
    let t = ops::transpose(&a, Some(&[2, 0, 1]), ()).unwrap();
    assert_eq!(t.shape(), &[d2, d0, d1]);
    let got = t.to_vec::<f32>().unwrap();
    let mut want = vec![];
    for k in 0..d2 {
        for i in 0..d0 {
            for j in 0..d1 {
                want.push(at(i, j, k));
            }
        }
    }
    assert_eq!(got, want);
    let data = t.data().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&data.buffer, &a.data().unwrap().buffer),
        "transpose is a view"
    );

    // a[1:, ::-2, 3] via slice
    let s = ops::slice(
        &a,
        &[1, -1, 3],
        &[i32::MAX as isize, -100, 4],
        &[1, -2, 1],
        (),
    )
    .unwrap();
    assert_eq!(s.shape(), &[2, 2, 1]);
    assert_eq!(
        s.to_vec::<f32>().unwrap(),
        vec![at(1, 3, 3), at(1, 1, 3), at(2, 3, 3), at(2, 1, 3)]
    );

    // reshape of a transposed view must copy, and still be right
    let r = ops::reshape(&t, &[-1], ()).unwrap();
    assert_eq!(r.to_vec::<f32>().unwrap(), want);
    // reshape of a contiguous array is a view
    let r2 = ops::reshape(&a, &[(d0 * d1) as isize, d2 as isize], ()).unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &r2.data().unwrap().buffer,
        &a.data().unwrap().buffer
    ));
    assert!(ops::reshape(&a, &[7, -1], ())
        .unwrap_err()
        .to_string()
        .contains("cannot reshape array of shape [3, 4, 5]"));

    // broadcast_to then elementwise
    let row = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0], &[5]).unwrap();
    let b = ops::broadcast_to(&row, &[2, 5], ()).unwrap();
    assert_eq!(b.layout().unwrap().strides, vec![0, 1]);
    assert_eq!(
        b.to_vec::<f32>().unwrap(),
        [1.0, 2.0, 3.0, 4.0, 5.0].repeat(2)
    );
    assert!(ops::broadcast_to(&row, &[5, 2], ()).is_err());

    // expand_dims / squeeze / flatten / swapaxes / moveaxis shapes
    assert_eq!(
        ops::expand_dims(&a, &[0, -1], ()).unwrap().shape(),
        &[1, 3, 4, 5, 1]
    );
    assert_eq!(
        ops::squeeze(&ops::expand_dims(&a, &[1], ()).unwrap(), None, ())
            .unwrap()
            .shape(),
        &[3, 4, 5]
    );
    assert!(ops::squeeze(&a, Some(&[0]), ())
        .unwrap_err()
        .to_string()
        .contains("[squeeze]"));
    assert_eq!(ops::flatten(&a, 1, -1, ()).unwrap().shape(), &[3, 20]);
    assert_eq!(ops::swapaxes(&a, 0, -1, ()).unwrap().shape(), &[5, 4, 3]);
    let m = ops::moveaxis(&a, 0, -1, ()).unwrap();
    assert_eq!(m.shape(), &[4, 5, 3]);
    assert_eq!(m.to_vec::<f32>().unwrap()[1], at(1, 0, 0));
    let e = ops::transpose(&a, Some(&[0, 0, 1]), ()).unwrap_err();
    assert!(e.to_string().contains("repeated axis"), "{e}");
    let e = ops::swapaxes(&a, 0, 3, ()).unwrap_err();
    assert!(e.to_string().contains("axis 3 is out of bounds"), "{e}");
}

#[test]
fn slice_dims_follow_python_indices() {
    // A sweep against Python's range semantics, computed here.
    for n in 0..6usize {
        for start in -7isize..7 {
            for stop in -7isize..7 {
                for step in [-3isize, -2, -1, 1, 2, 3] {
                    let d = SliceDim::normalize("t", Some(start), Some(stop), step, n).unwrap();
                    let ni = n as isize;
                    let norm = |v: isize| if v < 0 { v + ni } else { v };
                    let (mut i, stop_n) = (norm(start), norm(stop));
                    let mut want = vec![];
                    if step > 0 {
                        i = i.max(0);
                        while i < stop_n.min(ni) {
                            want.push(i as usize);
                            i += step;
                        }
                    } else {
                        i = i.min(ni - 1);
                        while i > stop_n.max(-1) && i >= 0 {
                            want.push(i as usize);
                            i += step;
                        }
                    }
                    let got: Vec<usize> = (0..d.len)
                        .map(|k| (d.start as isize + k as isize * d.step) as usize)
                        .collect();
                    assert_eq!(got, want, "n={n} {start}:{stop}:{step}");
                }
            }
        }
    }
}
