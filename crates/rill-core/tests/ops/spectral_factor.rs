//! `fft` against a direct DFT computed here in f64, and the factorizations (`Op::Factor`) by
//! what defines them (`a @ inv(a) = I`, `Q R = a`, `L Lᵀ = a`, `A v = w v`), on batched and
//! strided inputs; and the errors of both.

use rill_core::num_complex::Complex32;
use rill_core::op::FftNorm;
use rill_core::{ops, Array, Error};

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// The DFT of every line of `x` (`outer x n x inner`, row-major) along the middle axis.
fn dft(x: &[(f64, f64)], outer: usize, n: usize, inner: usize, inverse: bool) -> Vec<(f64, f64)> {
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut out = vec![(0.0, 0.0); x.len()];
    for o in 0..outer {
        for j in 0..inner {
            for k in 0..n {
                let (mut re, mut im) = (0.0, 0.0);
                for t in 0..n {
                    let (a, b) = x[(o * n + t) * inner + j];
                    let ang = sign * 2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                    re += a * ang.cos() - b * ang.sin();
                    im += a * ang.sin() + b * ang.cos();
                }
                let scale = if inverse { 1.0 / n as f64 } else { 1.0 };
                out[(o * n + k) * inner + j] = (re * scale, im * scale);
            }
        }
    }
    out
}

fn assert_close_c(got: &[Complex32], want: &[(f64, f64)], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let d = ((g.re as f64 - w.0).powi(2) + (g.im as f64 - w.1).powi(2)).sqrt();
        assert!(d <= tol, "element {i}: got {g}, want {w:?}");
    }
}

#[test]
fn fft_along_each_axis_matches_a_direct_dft() {
    for shape in [vec![7usize], vec![3, 8], vec![2, 5, 3], vec![4, 1, 6]] {
        let n: usize = shape.iter().product();
        let re = values(n, 1);
        let im = values(n, 2);
        let data: Vec<Complex32> = re
            .iter()
            .zip(&im)
            .map(|(&a, &b)| Complex32::new(a as f32, b as f32))
            .collect();
        let x: Vec<(f64, f64)> = data.iter().map(|c| (c.re as f64, c.im as f64)).collect();
        let a = Array::from_slice(&data, &shape).unwrap();
        for axis in 0..shape.len() {
            let outer: usize = shape[..axis].iter().product();
            let inner: usize = shape[axis + 1..].iter().product();
            for inverse in [false, true] {
                let got = if inverse {
                    ops::ifft(&a, None, axis as isize, FftNorm::Backward, ())
                } else {
                    ops::fft(&a, None, axis as isize, FftNorm::Backward, ())
                }
                .unwrap();
                let want = dft(&x, outer, shape[axis], inner, inverse);
                assert_close_c(&got.to_vec::<Complex32>().unwrap(), &want, 1e-5);
            }
        }
        // A transposed (strided) input gives the transform of the transposed values.
        if shape.len() >= 2 {
            let t = ops::transpose(&a, None, ()).unwrap();
            let c = ops::copy(&t, ()).unwrap();
            let got = ops::fft(&t, None, 0, FftNorm::Backward, ()).unwrap();
            let want = ops::fft(&c, None, 0, FftNorm::Backward, ()).unwrap();
            assert_eq!(
                got.to_vec::<Complex32>().unwrap(),
                want.to_vec::<Complex32>().unwrap()
            );
        }
    }
}

#[test]
fn real_transforms_round_trip_and_keep_half_the_spectrum() {
    for n in [1usize, 2, 5, 8, 13] {
        let x: Vec<f32> = values(3 * n, n as u64).iter().map(|&v| v as f32).collect();
        let a = Array::from_slice(&x, &[3, n]).unwrap();
        let r = ops::rfft(&a, None, -1, FftNorm::Backward, ()).unwrap();
        assert_eq!(r.shape(), &[3, n / 2 + 1]);
        let back = ops::irfft(&r, Some(n as isize), -1, FftNorm::Backward, ()).unwrap();
        assert_eq!(back.dtype(), rill_core::Dtype::Float32);
        for (g, w) in back.to_vec::<f32>().unwrap().iter().zip(&x) {
            assert!((g - w).abs() < 1e-5, "n {n}: {g} vs {w}");
        }
        // The half spectrum is the first terms of the full one.
        let full = ops::fft(&a, None, -1, FftNorm::Backward, ())
            .unwrap()
            .to_vec::<Complex32>()
            .unwrap();
        let half = r.to_vec::<Complex32>().unwrap();
        for row in 0..3 {
            for k in 0..n / 2 + 1 {
                assert!((full[row * n + k] - half[row * (n / 2 + 1) + k]).norm() < 1e-5);
            }
        }
    }
}

#[test]
fn fft_errors_name_the_op_and_the_shape() {
    let a = Array::from_slice(&[1.0f32; 6], &[2, 3]).unwrap();
    let e = ops::fft(&a, Some(0), -1, FftNorm::Backward, ()).unwrap_err();
    assert!(matches!(e, Error::Argument { op: "fft", .. }), "{e}");
    assert!(e.to_string().contains("[2, 3]"), "{e}");
    let e = ops::rfftn(&a, None, Some(&[1, -1]), FftNorm::Ortho, ()).unwrap_err();
    assert!(e.to_string().contains("repeated axis"), "{e}");
    let e = ops::fftshift(&a, Some(&[2]), ()).unwrap_err();
    assert!(matches!(e, Error::Axis { op: "fftshift", .. }), "{e}");
}

fn matrix(shape: &[usize], seed: u64, diag: f64) -> (Array, Vec<f64>) {
    let n = shape[shape.len() - 1];
    let count: usize = shape.iter().product();
    let mut v = values(count, seed);
    for (i, x) in v.iter_mut().enumerate() {
        let (r, c) = ((i / n) % shape[shape.len() - 2], i % n);
        if r == c {
            *x += diag;
        }
    }
    (Array::from_slice(&v, shape).unwrap(), v)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn identity_batch(batch: usize, n: usize) -> Vec<f64> {
    let mut v = vec![0.0; batch * n * n];
    for b in 0..batch {
        for i in 0..n {
            v[b * n * n + i * n + i] = 1.0;
        }
    }
    v
}

#[test]
fn inverse_solve_and_triangular_ops_satisfy_their_definitions() {
    let (a, _) = matrix(&[3, 5, 5], 7, 4.0);
    let inv = ops::inv(&a, ()).unwrap();
    let prod = ops::matmul(&a, &inv, ()).unwrap().to_vec::<f64>().unwrap();
    assert!(max_diff(&prod, &identity_batch(3, 5)) < 1e-12);
    let (b, bv) = matrix(&[3, 5, 2], 8, 0.0);
    let x = ops::solve(&a, &b, ()).unwrap();
    let ax = ops::matmul(&a, &x, ()).unwrap().to_vec::<f64>().unwrap();
    assert!(max_diff(&ax, &bv) < 1e-12);
    let lo = ops::tril(&a, 0, ()).unwrap();
    let ti = ops::tri_inv(&a, false, ()).unwrap();
    let prod = ops::matmul(&lo, &ti, ()).unwrap().to_vec::<f64>().unwrap();
    assert!(max_diff(&prod, &identity_batch(3, 5)) < 1e-12);
    let up = ops::triu(&a, 0, ()).unwrap();
    let x = ops::solve_triangular(&a, &b, true, ()).unwrap();
    let ux = ops::matmul(&up, &x, ()).unwrap().to_vec::<f64>().unwrap();
    assert!(max_diff(&ux, &bv) < 1e-12);
    // A transposed view is read through its layout.
    let at = ops::swapaxes(&a, -1, -2, ()).unwrap();
    let inv_t = ops::inv(&at, ()).unwrap().to_vec::<f64>().unwrap();
    let want = ops::swapaxes(&inv, -1, -2, ())
        .and_then(|t| ops::copy(&t, ()))
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert!(max_diff(&inv_t, &want) < 1e-12);
}

#[test]
fn qr_cholesky_and_eigh_reconstruct_their_input() {
    for shape in [[2usize, 6, 4], [2, 4, 6], [1, 5, 5]] {
        let (a, av) = matrix(&shape, 11, 0.0);
        let (q, r) = ops::qr(&a, ()).unwrap();
        let qr = ops::matmul(&q, &r, ()).unwrap().to_vec::<f64>().unwrap();
        assert!(max_diff(&qr, &av) < 1e-12, "{shape:?}");
    }
    let (m, _) = matrix(&[2, 6, 6], 12, 0.0);
    let mt = ops::swapaxes(&m, -1, -2, ()).unwrap();
    let spd = ops::add(
        &ops::matmul(&m, &mt, ()).unwrap(),
        &Array::scalar(1.0f64),
        (),
    )
    .unwrap();
    let spd_v = spd.to_vec::<f64>().unwrap();
    let l = ops::cholesky(&spd, false, ()).unwrap();
    let lt = ops::swapaxes(&l, -1, -2, ()).unwrap();
    let llt = ops::matmul(&l, &lt, ()).unwrap().to_vec::<f64>().unwrap();
    assert!(max_diff(&llt, &spd_v) < 1e-12);
    let (w, v) = ops::eigh(&spd, "L", ()).unwrap();
    let av = ops::matmul(&spd, &v, ()).unwrap().to_vec::<f64>().unwrap();
    let vw = ops::multiply(&v, &ops::expand_dims(&w, &[-2], ()).unwrap(), ())
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert!(max_diff(&av, &vw) < 1e-10);
    let wv = w.to_vec::<f64>().unwrap();
    assert!(wv[..6].windows(2).all(|p| p[0] <= p[1]), "{wv:?}");
}

#[test]
fn factor_errors_name_the_op_the_matrix_and_the_shape() {
    let e = ops::inv(&Array::from_slice(&[1.0f32; 6], &[2, 3]).unwrap(), ()).unwrap_err();
    assert!(matches!(e, Error::Shape { op: "inv", .. }), "{e}");
    let e = ops::qr(&Array::from_slice(&[1i32; 4], &[2, 2]).unwrap(), ()).unwrap_err();
    assert!(matches!(e, Error::Dtype { op: "qr", .. }), "{e}");
    let z = Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], &[2, 2, 2]).unwrap();
    let e = ops::inv(&z, ()).unwrap().to_vec::<f32>().unwrap_err();
    assert!(matches!(e, Error::Runtime { op: "inv", .. }), "{e}");
    assert!(
        e.to_string()
            .contains("matrix 1 of the input of shape [2, 2, 2] is singular"),
        "{e}"
    );
}
