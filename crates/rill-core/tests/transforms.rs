//! Reverse-mode differentiation (`rill_core::transforms`): the gradient of every op family with a
//! rule against central finite differences in float64 on random inputs, broadcasting, grad of
//! grad, jvp, stop_gradient, two threads differentiating at once, backward ops on the forward
//! ops' streams, and the errors.
//!
//! Each check differentiates `sum(f(x...) * w)` for a random `w`, so the whole vector-Jacobian
//! product is compared, not only its sum.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::op::{BinaryOp, UnaryOp};
use rill_core::transforms::{grad, jvp, place, stop_gradient, value_and_grad, vjp, vmap, Program};
use rill_core::{ops, Array, Result, Scalar};

type F = dyn Fn(&[Array]) -> Result<Array> + Sync;

fn rand_in(rng: &mut StdRng, shape: &[usize], lo: f64, hi: f64) -> Array {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    Array::from_slice(&v, shape).unwrap()
}

fn values(a: &Array) -> Vec<f64> {
    a.to_vec::<f64>().unwrap()
}

/// `sum(f(xs) * w)` as an f64 number.
fn weighted(f: &F, xs: &[Array], w: &Array) -> f64 {
    let y = f(xs).unwrap();
    ops::sum(&ops::multiply(&y, w, ()).unwrap(), None, false, ())
        .unwrap()
        .item::<f64>()
        .unwrap()
}

/// Central differences of `sum(f(xs) * w)` with respect to every element of every input.
fn numeric(f: &F, xs: &[Array], w: &Array) -> Vec<Vec<f64>> {
    let h = 1e-6;
    (0..xs.len())
        .map(|i| {
            let base = values(&xs[i]);
            (0..base.len())
                .map(|j| {
                    let at = |d: f64| {
                        let mut v = base.clone();
                        v[j] += d;
                        let mut ys = xs.to_vec();
                        ys[i] = Array::from_slice(&v, xs[i].shape()).unwrap();
                        weighted(f, &ys, w)
                    };
                    (at(h) - at(-h)) / (2.0 * h)
                })
                .collect()
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 + 1e-5 * w.abs(),
            "{what}: element {k}: got {g}, finite differences give {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

/// Checks the gradient of `sum(f(xs) * w)` against finite differences for every input.
fn check(what: &str, f: &F, xs: &[Array]) {
    let mut rng = StdRng::seed_from_u64(what.len() as u64 * 7919);
    let out = f(xs).unwrap();
    let w = rand_in(&mut rng, out.shape(), 0.5, 1.5);
    let loss = |x: &[Array]| -> Result<Array> {
        ops::sum(&ops::multiply(&f(x)?, &w, ())?, None, false, ())
    };
    let grads = grad(loss, xs).unwrap();
    let want = numeric(f, xs, &w);
    for (i, (g, n)) in grads.iter().zip(&want).enumerate() {
        assert_eq!(g.shape(), xs[i].shape(), "{what}: gradient {i}'s shape");
        assert_eq!(g.dtype(), xs[i].dtype(), "{what}: gradient {i}'s dtype");
        assert_close(&format!("{what}, input {i}"), &values(g), n);
    }
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(11)
}

#[test]
fn unary_ops_match_finite_differences() {
    use UnaryOp::*;
    let mut r = rng();
    for &op in UnaryOp::ALL {
        // Each op on random inputs inside its domain and away from its kinks.
        let (lo, hi) = match op {
            LogicalNot | IsNan | IsInf | BitwiseInvert => continue,
            ArcCosh => (1.2, 3.0),
            ArcSin | ArcCos | ArcTanh | ErfInv => (-0.8, 0.8),
            Log | Log1p | Log2 | Log10 | Sqrt | Rsqrt | Reciprocal => (0.3, 2.0),
            Abs | Sign => (0.2, 1.0),
            _ => (-1.5, 1.5),
        };
        let mut x = rand_in(&mut r, &[3, 4], lo, hi);
        if matches!(op, Abs | Sign) {
            // Both signs, none near 0.
            let sign = Array::from_slice(&[1.0, -1.0, 1.0, -1.0], &[4]).unwrap();
            x = ops::multiply(&x, &sign, ()).unwrap();
        }
        if matches!(op, Floor | Ceil | Round | Trunc) {
            // Away from the jumps: the fractional part stays inside (0.2, 0.8).
            let v: Vec<f64> = values(&x)
                .iter()
                .map(|v| v.floor() + 0.2 + (v - v.floor()) * 0.6)
                .collect();
            x = Array::from_slice(&v, &[3, 4]).unwrap();
        }
        check(
            op.name(),
            &move |x: &[Array]| ops::unary(op, &x[0], ()),
            &[x],
        );
    }
}

#[test]
fn binary_ops_broadcast_and_match_finite_differences() {
    use BinaryOp::*;
    let mut r = rng();
    let ops_ = [
        Add, Subtract, Multiply, Divide, Power, Maximum, Minimum, ArcTan2, LogAddExp, Remainder,
    ];
    for op in ops_ {
        // Shapes that broadcast both ways, plus a 0-d operand.
        for (sa, sb) in [
            (&[3usize, 1, 4][..], &[2usize, 4][..]),
            (&[2, 3], &[]),
            (&[4], &[4]),
        ] {
            let (a, b) = match op {
                Power => (
                    rand_in(&mut r, sa, 0.5, 2.0),
                    rand_in(&mut r, sb, -1.5, 1.5),
                ),
                // a / b stays inside (0.2, 0.8) + k, away from remainder's jumps.
                Remainder => (rand_in(&mut r, sa, 1.2, 1.6), rand_in(&mut r, sb, 2.0, 2.2)),
                _ => (
                    rand_in(&mut r, sa, -2.0, 2.0),
                    rand_in(&mut r, sb, 0.5, 2.0),
                ),
            };
            check(
                &format!("{} {sa:?} {sb:?}", op.name()),
                &move |x: &[Array]| ops::binary(op, &x[0], &x[1], ()),
                &[a, b],
            );
        }
    }
    let cond = Array::from_slice(&[true, false, true, true], &[4]).unwrap();
    let (x, y) = (
        rand_in(&mut r, &[3, 4], -1.0, 1.0),
        rand_in(&mut r, &[3, 1], -1.0, 1.0),
    );
    check(
        "where",
        &move |v: &[Array]| ops::where_(&cond, &v[0], &v[1], ()),
        &[x, y],
    );
}

#[test]
fn reductions_scans_and_softmax_match_finite_differences() {
    let mut r = rng();
    let x = rand_in(&mut r, &[3, 4, 5], 0.5, 1.5);
    type Case = (&'static str, Box<F>);
    let cases: Vec<Case> = vec![
        (
            "sum",
            Box::new(|x: &[Array]| ops::sum(&x[0], Some(&[0, 2]), false, ())),
        ),
        (
            "sum keepdims",
            Box::new(|x: &[Array]| ops::sum(&x[0], Some(&[1]), true, ())),
        ),
        (
            "prod",
            Box::new(|x: &[Array]| ops::prod(&x[0], Some(&[0, 2]), false, ())),
        ),
        (
            "prod all",
            Box::new(|x: &[Array]| ops::prod(&x[0], None, false, ())),
        ),
        (
            "max",
            Box::new(|x: &[Array]| ops::max(&x[0], Some(&[1]), false, ())),
        ),
        (
            "min",
            Box::new(|x: &[Array]| ops::min(&x[0], Some(&[0, 2]), true, ())),
        ),
        (
            "mean",
            Box::new(|x: &[Array]| ops::mean(&x[0], Some(&[2]), false, ())),
        ),
        (
            "var",
            Box::new(|x: &[Array]| ops::var(&x[0], Some(&[0, 1]), false, 1, ())),
        ),
        (
            "std",
            Box::new(|x: &[Array]| ops::std(&x[0], None, false, 0, ())),
        ),
        (
            "logsumexp",
            Box::new(|x: &[Array]| ops::logsumexp(&x[0], Some(&[2]), false, ())),
        ),
        (
            "logsumexp axes",
            Box::new(|x: &[Array]| ops::logsumexp(&x[0], Some(&[0, 2]), true, ())),
        ),
        (
            "softmax",
            Box::new(|x: &[Array]| ops::softmax(&x[0], Some(&[1]), false, ())),
        ),
        (
            "softmax axes",
            Box::new(|x: &[Array]| ops::softmax(&x[0], Some(&[0, 2]), false, ())),
        ),
        (
            "cumsum",
            Box::new(|x: &[Array]| ops::cumsum(&x[0], Some(1), false, true, ())),
        ),
        (
            "cumsum reverse exclusive",
            Box::new(|x: &[Array]| ops::cumsum(&x[0], Some(2), true, false, ())),
        ),
        (
            "cumprod",
            Box::new(|x: &[Array]| ops::cumprod(&x[0], Some(1), false, true, ())),
        ),
        (
            "cumprod reverse exclusive",
            Box::new(|x: &[Array]| ops::cumprod(&x[0], Some(2), true, false, ())),
        ),
        (
            "cumprod through a zero",
            Box::new(|x: &[Array]| {
                // Zero out one element of each line along axis 2.
                let mask = ops::not_equal(
                    &ops::arange(0.0, 5.0, 1.0, Some(rill_core::Dtype::Float64), ())?,
                    &Array::scalar(2.0f64),
                    (),
                )?;
                let z = ops::multiply(
                    &x[0],
                    &ops::astype(&mask, rill_core::Dtype::Float64, ())?,
                    (),
                )?;
                ops::cumprod(&z, Some(2), false, true, ())
            }),
        ),
        (
            "cummax",
            Box::new(|x: &[Array]| ops::cummax(&x[0], Some(2), false, true, ())),
        ),
        (
            "cummin reverse exclusive",
            // An exclusive scan's first output is the identity (here +inf, reverse: the last
            // position): left out, where it would make the finite differences NaN.
            Box::new(|x: &[Array]| {
                let y = ops::cummin(&x[0], Some(1), true, false, ())?;
                ops::slice(&y, &[0, 0, 0], &[3, 3, 5], &[1, 1, 1], ())
            }),
        ),
        (
            "logcumsumexp",
            Box::new(|x: &[Array]| ops::logcumsumexp(&x[0], Some(2), false, true, ())),
        ),
        (
            "logcumsumexp reverse exclusive",
            Box::new(|x: &[Array]| {
                let y = ops::logcumsumexp(&x[0], Some(0), true, false, ())?;
                ops::slice(&y, &[0, 0, 0], &[2, 4, 5], &[1, 1, 1], ())
            }),
        ),
    ];
    for (name, f) in cases {
        check(name, &*f, std::slice::from_ref(&x));
    }
}

#[test]
fn movement_and_indexing_match_finite_differences() {
    let mut r = rng();
    let x = rand_in(&mut r, &[4, 5], -1.0, 1.0);
    let idx = Array::from_slice(&[3i32, 0, -1, 3, 1, 3], &[2, 3]).unwrap();
    let along = Array::from_slice(&[0i64, 3, 3, 1, 2, 0, 4, 4, 1, 0, 2, 2], &[4, 3]).unwrap();
    let perm = Array::from_slice(&[2u32, 0, 4, 1, 3, 1, 3, 0, 2, 4], &[2, 5]).unwrap();
    type Case = (&'static str, Box<F>);
    let cases: Vec<Case> = vec![
        (
            "reshape",
            Box::new(|x: &[Array]| ops::reshape(&x[0], &[5, 2, 2], ())),
        ),
        (
            "transpose",
            Box::new(|x: &[Array]| ops::transpose(&x[0], None, ())),
        ),
        (
            "slice with steps",
            Box::new(|x: &[Array]| ops::slice(&x[0], &[3, 1], &[-5, 5], &[-1, 2], ())),
        ),
        (
            "broadcast_to",
            Box::new(|x: &[Array]| ops::broadcast_to(&x[0], &[3, 4, 5], ())),
        ),
        (
            "concatenate",
            Box::new(|x: &[Array]| {
                ops::concatenate(&[x[0].clone(), ops::exp(&x[0], ())?], Some(1), ())
            }),
        ),
        (
            "pad",
            Box::new(|x: &[Array]| ops::pad(&x[0], &[(1, 2), (0, 3)], Scalar::Float(0.5), ())),
        ),
        (
            "take",
            Box::new(move |x: &[Array]| ops::take(&x[0], &idx, Some(0), ())),
        ),
        (
            "take flat",
            Box::new(|x: &[Array]| {
                let i = Array::from_slice(&[7u32, 7, 19, 0], &[4])?;
                ops::take(&x[0], &i, None, ())
            }),
        ),
        (
            "take_along_axis",
            Box::new(move |x: &[Array]| ops::take_along_axis(&x[0], &along, Some(1), ())),
        ),
        (
            "put_along_axis",
            Box::new(move |x: &[Array]| {
                // Rows 0-1 of x receive 3 * rows 2-3, permuted: both parts get gradients.
                let b2 = ops::slice(&x[0], &[0, 0], &[2, 5], &[1, 1], ())?;
                let rows = ops::slice(&x[0], &[2, 0], &[4, 5], &[1, 1], ())?;
                let vals = ops::multiply(&rows, &Array::scalar(3.0f64), ())?;
                ops::put_along_axis(&b2, &perm, &vals, Some(1), ())
            }),
        ),
        (
            "slice_update",
            Box::new(|x: &[Array]| {
                let upd = ops::square(&ops::slice(&x[0], &[0, 0], &[2, 2], &[1, 1], ())?, ())?;
                ops::slice_update(&x[0], &upd, &[3, 4], &[1, 0], &[-1, -2], ())
            }),
        ),
        (
            "scatter_add",
            Box::new(|x: &[Array]| {
                let i = Array::from_slice(&[1i32, 1, 3], &[3])?;
                let upd = ops::slice(&x[0], &[0, 0], &[4, 3], &[1, 1], ())?;
                ops::scatter_add(&x[0], &i, &ops::sin(&upd, ())?, Some(1), ())
            }),
        ),
        (
            "sort",
            Box::new(|x: &[Array]| ops::sort(&x[0], Some(1), ())),
        ),
        (
            "flip",
            Box::new(|x: &[Array]| ops::flip(&x[0], Some(&[0, 1]), ())),
        ),
        (
            "roll",
            Box::new(|x: &[Array]| ops::roll(&x[0], &[2], Some(&[1]), ())),
        ),
        (
            "tile",
            Box::new(|x: &[Array]| ops::tile(&x[0], &[2, 1], ())),
        ),
    ];
    for (name, f) in cases {
        check(name, &*f, std::slice::from_ref(&x));
    }
}

#[test]
fn matrix_products_match_finite_differences() {
    let mut r = rng();
    let a = rand_in(&mut r, &[2, 3, 4], -1.0, 1.0);
    let b = rand_in(&mut r, &[4, 2], -1.0, 1.0);
    let v = rand_in(&mut r, &[4], -1.0, 1.0);
    let c = rand_in(&mut r, &[1, 2], -1.0, 1.0);
    check(
        "matmul batched",
        &|x: &[Array]| ops::matmul(&x[0], &x[1], ()),
        &[a.clone(), b.clone()],
    );
    check(
        "matmul vector",
        &|x: &[Array]| ops::matmul(&x[0], &x[1], ()),
        &[a.clone(), v],
    );
    check(
        "addmm",
        &|x: &[Array]| ops::addmm(&x[0], &x[1], &x[2], 0.7, -1.3, ()),
        &[c, a, b],
    );
}

/// A well-conditioned random matrix: entries in [-1, 1] plus `shift` on the diagonal.
fn conditioned(rng: &mut StdRng, shape: &[usize], shift: f64) -> Array {
    let n = shape[shape.len() - 1];
    let x = rand_in(rng, shape, -1.0, 1.0);
    let i = ops::eye(n, None, 0, rill_core::Dtype::Float64, ()).unwrap();
    ops::add(
        &x,
        &ops::multiply(&i, &Array::scalar(shift), ()).unwrap(),
        (),
    )
    .unwrap()
}

/// Symmetric positive definite matrices `M Mᵀ + n I`, with random values (never read) written
/// over the triangle above (or, `upper`, below) the diagonal: a gradient there must be zero.
fn spd_one_triangle(rng: &mut StdRng, shape: &[usize], upper: bool) -> Array {
    let n = shape[shape.len() - 1];
    let m = rand_in(rng, shape, -1.0, 1.0);
    let spd = ops::matmul(&m, &ops::swapaxes(&m, -1, -2, ()).unwrap(), ()).unwrap();
    let i = ops::eye(n, None, 0, rill_core::Dtype::Float64, ()).unwrap();
    let spd = ops::add(
        &spd,
        &ops::multiply(&i, &Array::scalar(n as f64), ()).unwrap(),
        (),
    )
    .unwrap();
    let junk = rand_in(rng, shape, -1.0, 1.0);
    let a = if upper {
        ops::add(
            &ops::triu(&spd, 0, ()).unwrap(),
            &ops::tril(&junk, -1, ()).unwrap(),
            (),
        )
    } else {
        ops::add(
            &ops::tril(&spd, 0, ()).unwrap(),
            &ops::triu(&junk, 1, ()).unwrap(),
            (),
        )
    };
    a.unwrap()
}

/// The parts flattened and joined, so one check covers several results of one factorization.
fn joined(parts: &[Array]) -> Result<Array> {
    let flat = parts
        .iter()
        .map(|p| ops::reshape(p, &[-1], ()))
        .collect::<Result<Vec<_>>>()?;
    ops::concatenate(&flat, Some(0), ())
}

fn sq(x: &Array) -> Result<Array> {
    ops::multiply(x, x, ())
}

/// The jvp of `f` along random tangents against central differences of `f` along them.
fn check_jvp(what: &str, f: &F, xs: &[Array]) {
    let mut rng = StdRng::seed_from_u64(what.len() as u64 * 104729);
    let ts: Vec<Array> = xs
        .iter()
        .map(|x| rand_in(&mut rng, x.shape(), -1.0, 1.0))
        .collect();
    let (_, jv) = jvp(|v: &[Array]| Ok(vec![f(v)?]), xs, &ts).unwrap();
    let h = 1e-6;
    let at = |d: f64| {
        let ys: Vec<Array> = xs
            .iter()
            .zip(&ts)
            .map(|(x, t)| {
                ops::add(x, &ops::multiply(t, &Array::scalar(d), ()).unwrap(), ()).unwrap()
            })
            .collect();
        values(&f(&ys).unwrap())
    };
    let (p, m) = (at(h), at(-h));
    let fd: Vec<f64> = p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * h)).collect();
    assert_close(&format!("{what}: jvp"), &values(&jv[0]), &fd);
}

#[test]
fn factorizations_match_finite_differences() {
    let mut r = rng();
    let a = conditioned(&mut r, &[3, 3], 2.0);
    let ab = conditioned(&mut r, &[2, 3, 3], 2.0);
    let b = rand_in(&mut r, &[3, 2], -1.0, 1.0);
    let v = rand_in(&mut r, &[3], -1.0, 1.0);
    // A negative determinant too: the sign is constant, log|det| still differentiable.
    let neg = ops::multiply(
        &conditioned(&mut r, &[2, 3, 3], 2.0),
        &Array::from_slice(&[1.0f64, 1.0, 1.0, -1.0, 1.0, 1.0], &[2, 3, 1]).unwrap(),
        (),
    )
    .unwrap();
    let general = rand_in(&mut r, &[2, 4, 4], -1.0, 1.0);
    let cases: Vec<(&str, Box<F>, Vec<Array>)> = vec![
        (
            "inv",
            Box::new(|x: &[Array]| ops::inv(&x[0], ())),
            vec![a.clone()],
        ),
        (
            "inv batched",
            Box::new(|x: &[Array]| ops::inv(&x[0], ())),
            vec![ab.clone()],
        ),
        (
            "solve batched, b broadcast",
            Box::new(|x: &[Array]| ops::solve(&x[0], &x[1], ())),
            vec![ab.clone(), b.clone()],
        ),
        (
            "solve vector",
            Box::new(|x: &[Array]| ops::solve(&x[0], &x[1], ())),
            vec![a.clone(), v.clone()],
        ),
        (
            "solve_triangular lower",
            Box::new(|x: &[Array]| ops::solve_triangular(&x[0], &x[1], false, ())),
            vec![ab.clone(), b.clone()],
        ),
        (
            "solve_triangular upper vector",
            Box::new(|x: &[Array]| ops::solve_triangular(&x[0], &x[1], true, ())),
            vec![a.clone(), v.clone()],
        ),
        (
            "tri_inv lower",
            Box::new(|x: &[Array]| ops::tri_inv(&x[0], false, ())),
            vec![ab.clone()],
        ),
        (
            "tri_inv upper",
            Box::new(|x: &[Array]| ops::tri_inv(&x[0], true, ())),
            vec![a.clone()],
        ),
        (
            "slogdet",
            Box::new(|x: &[Array]| {
                let (sign, logabs) = ops::slogdet(&x[0], ())?;
                ops::add(&logabs, &sign, ())
            }),
            vec![neg.clone()],
        ),
        (
            "det",
            Box::new(|x: &[Array]| ops::det(&x[0], ())),
            vec![neg.clone()],
        ),
        (
            "cholesky lower batched",
            Box::new(|x: &[Array]| ops::cholesky(&x[0], false, ())),
            vec![spd_one_triangle(&mut r, &[2, 3, 3], false)],
        ),
        (
            "cholesky upper",
            Box::new(|x: &[Array]| ops::cholesky(&x[0], true, ())),
            vec![spd_one_triangle(&mut r, &[4, 4], true)],
        ),
        (
            "cholesky_inv of cholesky",
            Box::new(|x: &[Array]| ops::cholesky_inv(&ops::cholesky(&x[0], false, ())?, false, ())),
            vec![spd_one_triangle(&mut r, &[3, 3], false)],
        ),
        (
            "eigvalsh lower batched",
            Box::new(|x: &[Array]| ops::eigvalsh(&x[0], "L", ())),
            vec![general.clone()],
        ),
        (
            "eigh upper, values and squared vectors",
            Box::new(|x: &[Array]| {
                let (w, vec) = ops::eigh(&x[0], "U", ())?;
                // Weighted by the values too, so both cotangents meet in one product.
                ops::multiply(&sq(&vec)?, &ops::expand_dims(&w, &[-2], ())?, ())
            }),
            vec![general.clone()],
        ),
        (
            "eigh lower, |V| batched",
            Box::new(|x: &[Array]| ops::abs(&ops::eigh(&x[0], "L", ())?.1, ())),
            vec![general.clone()],
        ),
        (
            "svd values wide",
            Box::new(|x: &[Array]| Ok(ops::svd(&x[0], false, ())?.remove(0))),
            vec![rand_in(&mut r, &[3, 5], -1.0, 1.0)],
        ),
        (
            "svd square batched, values and squared vectors",
            Box::new(|x: &[Array]| {
                let p = ops::svd(&x[0], true, ())?;
                joined(&[sq(&p[0])?, p[1].clone(), sq(&p[2])?])
            }),
            vec![rand_in(&mut r, &[2, 3, 3], -1.0, 1.0)],
        ),
        (
            "svd tall, U's first columns",
            Box::new(|x: &[Array]| {
                let p = ops::svd(&x[0], true, ())?;
                let uk = ops::slice(&p[0], &[0, 0], &[5, 3], &[1, 1], ())?;
                // U diag(s²) Vt: signs cancel in each u_i v_iᵀ.
                let us = ops::multiply(&uk, &ops::expand_dims(&sq(&p[1])?, &[0], ())?, ())?;
                joined(&[sq(&uk)?, ops::matmul(&us, &p[2], ())?, sq(&p[2])?])
            }),
            vec![rand_in(&mut r, &[5, 3], -1.0, 1.0)],
        ),
        (
            "svd wide, Vt's first rows",
            Box::new(|x: &[Array]| {
                let p = ops::svd(&x[0], true, ())?;
                let vk = ops::slice(&p[2], &[0, 0], &[2, 4], &[1, 1], ())?;
                let su = ops::multiply(&p[0], &ops::expand_dims(&p[1], &[0], ())?, ())?;
                joined(&[
                    sq(&p[0])?,
                    ops::matmul(&su, &ops::sin(&vk, ())?, ())?,
                    sq(&vk)?,
                ])
            }),
            vec![rand_in(&mut r, &[2, 4], -1.0, 1.0)],
        ),
        (
            "pinv tall batched",
            Box::new(|x: &[Array]| ops::pinv(&x[0], ())),
            vec![rand_in(&mut r, &[2, 4, 3], -1.0, 1.0)],
        ),
        (
            "pinv wide",
            Box::new(|x: &[Array]| ops::pinv(&x[0], ())),
            vec![rand_in(&mut r, &[2, 3], -1.0, 1.0)],
        ),
        (
            "qr tall batched",
            Box::new(|x: &[Array]| {
                let (q, rr) = ops::qr(&x[0], ())?;
                joined(&[q, rr])
            }),
            vec![rand_in(&mut r, &[2, 4, 3], -1.0, 1.0)],
        ),
        (
            "qr square",
            Box::new(|x: &[Array]| {
                let (q, rr) = ops::qr(&x[0], ())?;
                joined(&[q, rr])
            }),
            vec![rand_in(&mut r, &[3, 3], -1.0, 1.0)],
        ),
        (
            "qr wide",
            Box::new(|x: &[Array]| {
                let (q, rr) = ops::qr(&x[0], ())?;
                joined(&[q, rr])
            }),
            vec![rand_in(&mut r, &[3, 5], -1.0, 1.0)],
        ),
        (
            "norm 2 and nuc",
            Box::new(|x: &[Array]| {
                let two = ops::norm(
                    &x[0],
                    Some(ops::NormOrd::P(2.0)),
                    Some(&[-2, -1]),
                    false,
                    (),
                )?;
                let nuc = ops::norm(&x[0], Some(ops::NormOrd::Nuc), Some(&[-2, -1]), false, ())?;
                ops::stack(&[two, nuc], 0, ())
            }),
            vec![rand_in(&mut r, &[2, 3, 4], -1.0, 1.0)],
        ),
    ];
    for (what, f, xs) in &cases {
        check(what, f.as_ref(), xs);
        // jvp transposes each rule, so it needs a rule for every op the rule applies to `g`.
        check_jvp(what, f.as_ref(), xs);
    }
}

#[test]
fn grad_of_grad_through_factorizations() {
    let mut r = rng();
    let a = conditioned(&mut r, &[2, 3, 3], 2.0);
    let w0 = rand_in(&mut r, &[2, 3, 3], 0.5, 1.5);
    let outer = |f: fn(&Array) -> Result<Array>, w0: Array| {
        move |v: &[Array]| -> Result<Array> {
            let g = grad(
                |u: &[Array]| ops::sum(&ops::multiply(&f(&u[0])?, &w0, ())?, None, false, ()),
                v,
            )?;
            // Squared, so the second derivative also sees the first's cotangent-free parts.
            sq(&g[0])
        }
    };
    let inv: fn(&Array) -> Result<Array> = |x| ops::inv(x, ());
    check(
        "grad of grad inv",
        &outer(inv, w0.clone()),
        std::slice::from_ref(&a),
    );
    let chol: fn(&Array) -> Result<Array> = |x| ops::cholesky(x, false, ());
    let spd = spd_one_triangle(&mut r, &[2, 3, 3], false);
    check(
        "grad of grad cholesky",
        &outer(chol, w0.clone()),
        std::slice::from_ref(&spd),
    );
    let solve_t: fn(&Array) -> Result<Array> = |x| ops::tri_inv(x, true, ());
    check(
        "grad of grad tri_inv",
        &outer(solve_t, w0.clone()),
        std::slice::from_ref(&a),
    );
    let eig: fn(&Array) -> Result<Array> = |x| {
        let (w, v) = ops::eigh(x, "L", ())?;
        ops::multiply(&sq(&v)?, &ops::expand_dims(&w, &[-2], ())?, ())
    };
    let general = rand_in(&mut r, &[2, 3, 3], -1.0, 1.0);
    check(
        "grad of grad eigh",
        &outer(eig, w0.clone()),
        std::slice::from_ref(&general),
    );
    let qr: fn(&Array) -> Result<Array> = |x| {
        let (q, rr) = ops::qr(x, ())?;
        ops::add(&q, &rr, ())
    };
    check(
        "grad of grad qr",
        &outer(qr, w0.clone()),
        std::slice::from_ref(&general),
    );
    let sv: fn(&Array) -> Result<Array> = |x| {
        let s = ops::svd(x, false, ())?.remove(0);
        ops::expand_dims(&s, &[-1], ())
    };
    check(
        "grad of grad svd values",
        &outer(sv, w0),
        std::slice::from_ref(&general),
    );
}

#[test]
fn an_array_passed_twice_gets_two_gradients() {
    let x = rand_in(&mut rng(), &[3], 0.5, 1.5);
    let g = grad(
        |v: &[Array]| {
            ops::sum(
                &ops::multiply(&ops::square(&v[0], ())?, &v[1], ())?,
                None,
                false,
                (),
            )
        },
        &[x.clone(), x.clone()],
    );
    let g = g.unwrap();
    let xv = values(&x);
    let want0: Vec<f64> = xv.iter().map(|v| 2.0 * v * v).collect();
    let want1: Vec<f64> = xv.iter().map(|v| v * v).collect();
    assert_close("first", &values(&g[0]), &want0);
    assert_close("second", &values(&g[1]), &want1);
}

#[test]
fn grad_of_grad_matches_finite_differences_of_the_gradient() {
    let x = rand_in(&mut rng(), &[5], -1.0, 1.0);
    // f(x) = sum(sin(x) * x^2); the inner gradient, then the gradient of its weighted sum.
    let inner: &F = &|v: &[Array]| {
        let g = grad(
            |u: &[Array]| {
                ops::sum(
                    &ops::multiply(&ops::sin(&u[0], ())?, &ops::square(&u[0], ())?, ())?,
                    None,
                    false,
                    (),
                )
            },
            v,
        )?;
        Ok(g[0].clone())
    };
    check("grad of grad", inner, std::slice::from_ref(&x));
    // Third order, on one element: d3/dx3 sum(x^4) = 24 x.
    let third = grad(
        |u: &[Array]| {
            let g2 = grad(
                |u: &[Array]| {
                    let g1 = grad(
                        |u: &[Array]| {
                            ops::sum(
                                &ops::power(&u[0], &Array::scalar(4.0f64), ())?,
                                None,
                                false,
                                (),
                            )
                        },
                        u,
                    )?;
                    ops::sum(&g1[0], None, false, ())
                },
                u,
            )?;
            ops::sum(&g2[0], None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    let want: Vec<f64> = values(&x).iter().map(|v| 24.0 * v).collect();
    assert_close("third derivative", &values(&third[0]), &want);
}

#[test]
fn vjp_jvp_and_value_and_grad() {
    let mut r = rng();
    let x = rand_in(&mut r, &[3, 4], -1.0, 1.0);
    let w = rand_in(&mut r, &[4, 2], -1.0, 1.0);
    let f = |v: &[Array]| -> Result<Vec<Array>> {
        let h = ops::tanh(&ops::matmul(&v[0], &v[1], ())?, ())?;
        Ok(vec![h.clone(), ops::sum(&h, None, false, ())?])
    };
    let ct = [
        rand_in(&mut r, &[3, 2], -1.0, 1.0),
        rand_in(&mut r, &[], -1.0, 1.0),
    ];
    let (outs, vj) = vjp(f, &[x.clone(), w.clone()], &ct).unwrap();
    // <ct, J t> == <J^T ct, t> for random tangents: vjp and jvp agree with each other, and the
    // jvp with finite differences along t.
    let t = [
        rand_in(&mut r, &[3, 4], -1.0, 1.0),
        rand_in(&mut r, &[4, 2], -1.0, 1.0),
    ];
    let (outs2, jv) = jvp(f, &[x.clone(), w.clone()], &t).unwrap();
    assert_close("jvp outputs", &values(&outs2[0]), &values(&outs[0]));
    let dot = |a: &Array, b: &Array| {
        ops::sum(&ops::multiply(a, b, ()).unwrap(), None, false, ())
            .unwrap()
            .item::<f64>()
            .unwrap()
    };
    let lhs = dot(&ct[0], &jv[0]) + dot(&ct[1], &jv[1]);
    let rhs = dot(&vj[0], &t[0]) + dot(&vj[1], &t[1]);
    assert!(
        (lhs - rhs).abs() < 1e-9 * (1.0 + lhs.abs()),
        "{lhs} vs {rhs}"
    );
    let h = 1e-6;
    let at = |d: f64| {
        let xs: Vec<Array> = [&x, &w]
            .iter()
            .zip(&t)
            .map(|(p, t)| {
                ops::add(p, &ops::multiply(t, &Array::scalar(d), ()).unwrap(), ()).unwrap()
            })
            .collect();
        values(&f(&xs).unwrap()[0])
    };
    let (p, m) = (at(h), at(-h));
    let fd: Vec<f64> = p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * h)).collect();
    assert_close("jvp vs finite differences", &values(&jv[0]), &fd);

    // value_and_grad: the first output is differentiated, the rest come back untouched.
    let (vals, g) = value_and_grad(
        |v: &[Array]| {
            Ok(vec![
                ops::sum(&ops::exp(&v[0], ())?, None, false, ())?,
                ops::negative(&v[0], ())?,
            ])
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_close(
        "aux",
        &values(&vals[1]),
        &values(&ops::negative(&x, ()).unwrap()),
    );
    assert_close(
        "value_and_grad",
        &values(&g[0]),
        &values(&ops::exp(&x, ()).unwrap()),
    );
}

#[test]
fn stop_gradient_cuts_the_graph() {
    let x = rand_in(&mut rng(), &[4], 0.5, 1.5);
    let g = grad(
        |v: &[Array]| {
            let y = ops::multiply(&stop_gradient(&ops::square(&v[0], ())?, ())?, &v[0], ())?;
            ops::sum(&y, None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    let want: Vec<f64> = values(&x).iter().map(|v| v * v).collect();
    assert_close("stop_gradient", &values(&g[0]), &want);
}

#[test]
fn unused_inputs_get_zeros_and_captured_arrays_are_constants() {
    let mut r = rng();
    let (x, y, c) = (
        rand_in(&mut r, &[3], 0.5, 1.5),
        rand_in(&mut r, &[2], 0.5, 1.5),
        rand_in(&mut r, &[3], 0.5, 1.5),
    );
    let c2 = c.clone();
    let g = grad(
        move |v: &[Array]| {
            ops::sum(
                &ops::multiply(&v[0], &ops::exp(&c2, ())?, ())?,
                None,
                false,
                (),
            )
        },
        &[x, y],
    )
    .unwrap();
    assert_close("x", &values(&g[0]), &values(&ops::exp(&c, ()).unwrap()));
    assert_eq!(values(&g[1]), vec![0.0, 0.0]);
}

#[test]
fn two_threads_differentiate_at_once() {
    let handles: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                let mut r = StdRng::seed_from_u64(100 + t);
                for _ in 0..50 {
                    let x = rand_in(&mut r, &[16], -1.0, 1.0);
                    let g = grad(
                        |v: &[Array]| {
                            let y = if t == 0 {
                                ops::sin(&v[0], ())?
                            } else {
                                ops::exp(&v[0], ())?
                            };
                            ops::sum(&y, None, false, ())
                        },
                        std::slice::from_ref(&x),
                    )
                    .unwrap();
                    let want = if t == 0 {
                        ops::cos(&x, ())
                    } else {
                        ops::exp(&x, ())
                    }
                    .unwrap();
                    assert_close("thread", &values(&g[0]), &values(&want));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn backward_ops_run_on_the_forward_ops_streams() {
    let cpu = rill_core::Device::cpu();
    let (s1, s2) = (
        rill_core::new_stream(cpu).unwrap(),
        rill_core::new_stream(cpu).unwrap(),
    );
    let mut r = rng();
    let (x, w1, w2) = (
        rand_in(&mut r, &[2, 3], -1.0, 1.0),
        rand_in(&mut r, &[3, 4], -1.0, 1.0),
        rand_in(&mut r, &[4, 1], -1.0, 1.0),
    );
    // Layer one on s1, layer two and the loss on s2.
    let f = move |v: &[Array]| -> Result<Array> {
        let h = ops::tanh(&ops::matmul(&x, &v[0], s1)?, s1)?;
        let y = ops::matmul(&h, &v[1], s2)?;
        ops::sum(&ops::square(&y, s2)?, None, false, s2)
    };
    let g = grad(&f, &[w1.clone(), w2.clone()]).unwrap();
    assert_eq!(g[0].stream(), s1, "layer one's gradient");
    assert_eq!(g[1].stream(), s2, "layer two's gradient");
    check("two streams", &f, &[w1, w2]);
}

#[test]
fn errors_name_the_op_or_the_argument() {
    let x = Array::from_slice(&[2.0f64, 1.0, 1.0, 3.0], &[2, 2]).unwrap();
    let e = grad(
        |v: &[Array]| ops::sum(&ops::lu_factor(&v[0], ())?.0, None, false, ()),
        std::slice::from_ref(&x),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot differentiate through lu_factor"),
        "{e}"
    );
    // No rule, but no gradient goes through it: fine.
    let ok = grad(
        |v: &[Array]| {
            ops::sum(
                &ops::add(&v[0], &ops::lu_factor(&x, ())?.0, ())?,
                None,
                false,
                (),
            )
        },
        std::slice::from_ref(&x),
    );
    assert!(ok.is_ok());
    let i = Array::from_slice(&[1i32, 2], &[2]).unwrap();
    let e = grad(|v: &[Array]| ops::sum(&v[0], None, false, ()), &[i]).unwrap_err();
    assert!(
        e.to_string().contains("argument 0") && e.to_string().contains("int32"),
        "{e}"
    );
    let e = grad(|v: &[Array]| ops::exp(&v[0], ()), std::slice::from_ref(&x)).unwrap_err();
    assert!(e.to_string().contains("scalar"), "{e}");
    let e = vjp(
        |v: &[Array]| Ok(vec![v[0].clone()]),
        std::slice::from_ref(&x),
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("cotangents"), "{e}");
    // eig has no rule: its complex result goes through complex.rs's conjugations to the refusal.
    let e = grad(
        |v: &[Array]| {
            let w = ops::eigvals(&v[0], ())?;
            ops::sum(&ops::real(&w, ())?, None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap_err();
    assert!(e.to_string().contains("eigvals"), "{e}");
}

#[test]
fn cotangents_take_the_dtype_of_their_primal() {
    // float64 through a float32 and a float16 op: the gradient comes back float64, with the
    // values the narrower ops computed.
    let x = Array::from_slice(&[0.5f64, -1.25, 2.0], &[3]).unwrap();
    let g = grad(
        |v: &[Array]| {
            let h = ops::astype(&v[0], rill_core::Dtype::Float32, ())?;
            let h = ops::multiply(&h, &Array::scalar(3.0f32), ())?;
            let h = ops::astype(&h, rill_core::Dtype::Float16, ())?;
            ops::sum(&h, None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_eq!(g[0].dtype(), rill_core::Dtype::Float64);
    assert_eq!(values(&g[0]), vec![3.0, 3.0, 3.0]);
}

// ---------------------------------------------------------------- compile

#[test]
fn a_compiled_function_replays_the_same_values_on_new_inputs_without_running() {
    let mut rng = StdRng::seed_from_u64(31);
    let calls = std::cell::Cell::new(0);
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        calls.set(calls.get() + 1);
        let y = ops::multiply(&xs[0], &xs[1], ())?;
        let z = ops::exp(&y, ())?;
        // The same subexpression twice: merged in the program.
        let z2 = ops::exp(&ops::multiply(&xs[0], &xs[1], ())?, ())?;
        Ok(vec![ops::add(&z, &z2, ())?, ops::sum(&y, None, false, ())?])
    };
    let a = rand_in(&mut rng, &[3, 4], -1.0, 1.0);
    let b = rand_in(&mut rng, &[3, 4], -1.0, 1.0);
    let (program, first) = Program::trace(f, &[a.clone(), b.clone()]).unwrap();
    assert_eq!(calls.get(), 1);
    assert!(
        program.merged() >= 2,
        "exp(a*b) built twice is merged: {}",
        program.merged()
    );
    let expect = |a: &Array, b: &Array| {
        let (av, bv) = (a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
        let e: Vec<f64> = av
            .iter()
            .zip(&bv)
            .map(|(x, y)| 2.0 * (x * y).exp())
            .collect();
        (e, av.iter().zip(&bv).map(|(x, y)| x * y).sum::<f64>())
    };
    let (e, s) = expect(&a, &b);
    assert_close("first call", &values(&first[0]), &e);
    assert_close("first sum", &[first[1].item::<f64>().unwrap()], &[s]);
    for _ in 0..3 {
        let c = rand_in(&mut rng, &[3, 4], -2.0, 2.0);
        let d = rand_in(&mut rng, &[3, 4], -2.0, 2.0);
        let out = program.replay(&[c.clone(), d.clone()]).unwrap();
        let (e, s) = expect(&c, &d);
        assert_close("replay", &values(&out[0]), &e);
        assert_close("replayed sum", &[out[1].item::<f64>().unwrap()], &[s]);
    }
    assert_eq!(calls.get(), 1, "a replay does not call the function");
    let wrong = rand_in(&mut rng, &[2, 4], 0.0, 1.0);
    assert!(program.replay(&[wrong.clone(), wrong]).is_err());
}

#[test]
fn evaluating_inside_a_compiled_function_is_an_error_and_stop_gradient_replays() {
    let mut rng = StdRng::seed_from_u64(37);
    let x = rand_in(&mut rng, &[5], -1.0, 1.0);
    let err = Program::trace(
        |xs: &[Array]| {
            let y = ops::exp(&xs[0], ())?;
            y.eval()?;
            Ok(vec![y])
        },
        std::slice::from_ref(&x),
    )
    .err()
    .expect("eval inside a trace is refused");
    assert!(err.to_string().contains("compile"), "{err}");
    // A node built under stop_gradient is part of the program (not a frozen constant).
    let (program, _) = Program::trace(
        |xs: &[Array]| {
            let y = stop_gradient(&ops::multiply(&xs[0], &xs[0], ())?, ())?;
            Ok(vec![ops::add(&y, &xs[0], ())?])
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    let z = rand_in(&mut rng, &[5], -1.0, 1.0);
    let got = program.replay(std::slice::from_ref(&z)).unwrap()[0]
        .to_vec::<f64>()
        .unwrap();
    let zv = z.to_vec::<f64>().unwrap();
    assert_close(
        "stop_gradient replayed",
        &got,
        &zv.iter().map(|v| v * v + v).collect::<Vec<_>>(),
    );
    // And its gradient still stops there: d/dx (stop(x*x) + x) = 1.
    let g = grad(
        |xs: &[Array]| {
            let y = program.replay(&[xs[0].clone()])?;
            ops::sum(&y[0], None, false, ())
        },
        &[z],
    )
    .unwrap();
    assert_close("gradient through the replay", &values(&g[0]), &[1.0; 5]);
}

// ---------------------------------------------------------------------------------------------
// vmap, custom_function, checkpoint
// ---------------------------------------------------------------------------------------------

type G<'a> = dyn Fn(&[Array]) -> Result<Vec<Array>> + Sync + 'a;
/// A vmap case: its name, the function, its inputs and their axes.
type Case<'a> = (&'a str, Box<G<'a>>, Vec<Array>, Vec<Option<isize>>);

/// Example `b` of `x` along `axis` (or `x` itself when not mapped).
fn example_of(x: &Array, axis: Option<isize>, b: usize) -> Array {
    match axis {
        None => x.clone(),
        Some(a) => ops::take(
            x,
            &Array::from_slice(&[b as i32], &[]).unwrap(),
            Some(a),
            (),
        )
        .unwrap(),
    }
}

/// `vmap(f)` over `xs` against calling `f` on each example and stacking (outputs at axis 0).
fn check_vmap(what: &str, f: &G<'_>, xs: &[Array], axes: &[Option<isize>]) {
    let n = xs
        .iter()
        .zip(axes)
        .find_map(|(x, a)| {
            a.map(|a| {
                x.shape()[if a < 0 {
                    (a + x.ndim() as isize) as usize
                } else {
                    a as usize
                }]
            })
        })
        .unwrap();
    let mapped = vmap(f, xs, axes).unwrap();
    let got: Vec<Array> = mapped
        .into_iter()
        .map(|m| place(m, Some(0), n).unwrap())
        .collect();
    let each: Vec<Vec<Array>> = (0..n)
        .map(|b| {
            let ex: Vec<Array> = xs
                .iter()
                .zip(axes)
                .map(|(x, a)| example_of(x, *a, b))
                .collect();
            f(&ex).unwrap()
        })
        .collect();
    for (k, g) in got.iter().enumerate() {
        let want = ops::stack(
            &each.iter().map(|e| e[k].clone()).collect::<Vec<_>>(),
            0,
            (),
        )
        .unwrap();
        assert_eq!(g.shape(), want.shape(), "{what}: output {k}'s shape");
        assert_eq!(g.dtype(), want.dtype(), "{what}: output {k}'s dtype");
        let g = ops::astype(g, rill_core::Dtype::Float64, ()).unwrap();
        let want = ops::astype(&want, rill_core::Dtype::Float64, ()).unwrap();
        assert_close(&format!("{what}, output {k}"), &values(&g), &values(&want));
    }
}

#[test]
fn vmap_matches_a_loop_over_examples_for_every_op_family() {
    let mut rng = rng();
    let x = rand_in(&mut rng, &[4, 3, 5], -1.0, 1.0);
    let c = rand_in(&mut rng, &[5], -1.0, 1.0);
    let w = rand_in(&mut rng, &[5, 2], -1.0, 1.0);
    let sq = rand_in(&mut rng, &[4, 3, 3], -1.0, 1.0);
    let eye3 = ops::eye(3, None, 0, rill_core::Dtype::Float64, ()).unwrap();
    let sq = ops::add(
        &sq,
        &ops::multiply(&eye3, &Array::scalar(4.0f64), ()).unwrap(),
        (),
    )
    .unwrap();
    let idx = Array::from_slice(&[2i32, 0, 2, 1], &[4]).unwrap();
    let idx_b = Array::from_slice(&[0i32, 4, 1, 2, 3, 3, 2, 0], &[4, 2]).unwrap();
    let v = rand_in(&mut rng, &[4, 5], -1.0, 1.0);
    let one = |x: &[Array], f: &dyn Fn(&Array) -> Result<Array>| Ok(vec![f(&x[0])?]);
    let cases: Vec<Case<'_>> = vec![
        (
            "elementwise with a constant",
            Box::new(|x: &[Array]| {
                one(x, &|a| {
                    ops::add(&ops::multiply(&ops::sin(a, ())?, &c, ())?, a, ())
                })
            }),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "mapped over a middle axis",
            Box::new(|x: &[Array]| one(x, &|a| ops::exp(a, ()))),
            vec![x.clone()],
            vec![Some(1)],
        ),
        (
            "negative axis",
            Box::new(|x: &[Array]| one(x, &|a| ops::sum(a, Some(&[0]), false, ()))),
            vec![x.clone()],
            vec![Some(-1)],
        ),
        (
            "ranks line up",
            Box::new(|x: &[Array]| Ok(vec![ops::add(&x[0], &x[1], ())?])),
            vec![v.clone(), x.clone()],
            vec![Some(0), Some(0)],
        ),
        (
            "where",
            Box::new(|x: &[Array]| {
                Ok(vec![ops::where_(
                    &ops::greater(&x[0], &c, ())?,
                    &x[0],
                    &ops::negative(&x[0], ())?,
                    (),
                )?])
            }),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "reductions and scans",
            Box::new(|x: &[Array]| {
                Ok(vec![
                    ops::sum(&x[0], Some(&[1]), true, ())?,
                    ops::softmax(&x[0], Some(&[-1]), false, ())?,
                    ops::cumsum(&x[0], Some(0), true, false, ())?,
                    ops::logsumexp(&x[0], Some(&[0, 1]), false, ())?,
                    ops::argmax(&x[0], Some(1), false, ())?,
                    ops::sort(&x[0], Some(0), ())?,
                ])
            }),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "matmul with shared weights (one tall product)",
            Box::new(|x: &[Array]| Ok(vec![ops::matmul(&x[0], &w, ())?])),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "matmul with mapped weights",
            Box::new(|x: &[Array]| Ok(vec![ops::matmul(&x[0], &x[1], ())?])),
            vec![x.clone(), rand_in(&mut rng, &[4, 5, 2], -1.0, 1.0)],
            vec![None, Some(0)],
        ),
        (
            "vector times matrix",
            Box::new(|x: &[Array]| Ok(vec![ops::matmul(&x[0], &w, ())?])),
            vec![v.clone()],
            vec![Some(0)],
        ),
        (
            "views, pad, concatenate",
            Box::new(|x: &[Array]| {
                let t = ops::transpose(&x[0], None, ())?;
                let r = ops::reshape(&t, &[15], ())?;
                let sl = ops::slice(&r, &[1], &[14], &[2], ())?;
                let p = ops::pad(&sl, &[(2, 1)], Scalar::Float(0.5), ())?;
                let b = ops::broadcast_to(&p, &[2, 10], ())?;
                Ok(vec![ops::concatenate(&[b.clone(), b], Some(1), ())?])
            }),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "take: shared indices",
            Box::new(|x: &[Array]| Ok(vec![ops::take(&x[0], &idx, Some(1), ())?])),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "take: mapped indices",
            Box::new(|x: &[Array]| Ok(vec![ops::take(&x[0], &x[1], Some(2), ())?])),
            vec![x.clone(), idx_b.clone()],
            vec![None, Some(0)],
        ),
        (
            "take: both mapped",
            Box::new(|x: &[Array]| Ok(vec![ops::take(&x[0], &x[1], Some(1), ())?])),
            vec![x.clone(), idx_b.clone()],
            vec![Some(0), Some(0)],
        ),
        (
            "scatter_add with shared indices",
            Box::new(|x: &[Array]| {
                Ok(vec![ops::scatter_add(
                    &x[0],
                    &idx,
                    &ops::ones(&[3, 4], rill_core::Dtype::Float64, ())?,
                    Some(1),
                    (),
                )?])
            }),
            vec![x.clone()],
            vec![Some(0)],
        ),
        (
            "inverse (a factorization)",
            Box::new(|x: &[Array]| Ok(vec![ops::inv(&x[0], ())?])),
            vec![sq.clone()],
            vec![Some(0)],
        ),
        (
            "an output that does not depend on the batch",
            Box::new(|x: &[Array]| Ok(vec![ops::exp(&c, ())?, x[0].clone()])),
            vec![x.clone()],
            vec![Some(0)],
        ),
    ];
    for (what, f, xs, axes) in &cases {
        check_vmap(what, f.as_ref(), xs, axes);
    }
}

#[test]
fn vmap_nests_and_composes_with_grad() {
    let mut rng = rng();
    let x = rand_in(&mut rng, &[3, 4, 5], -1.0, 1.0);
    // vmap(vmap(f)) against a double loop: f(row) = sum(sin(row) * row).
    let f = |r: &Array| -> Result<Array> {
        ops::sum(&ops::multiply(&ops::sin(r, ())?, r, ())?, None, false, ())
    };
    let inner = |xs: &[Array]| -> Result<Vec<Array>> {
        let m = vmap(|ys: &[Array]| Ok(vec![f(&ys[0])?]), xs, &[Some(0)])?;
        Ok(vec![place(m.into_iter().next().unwrap(), Some(0), 4)?])
    };
    let outer = vmap(inner, std::slice::from_ref(&x), &[Some(0)]).unwrap();
    let got = values(&place(outer.into_iter().next().unwrap(), Some(0), 3).unwrap());
    let xv = values(&x);
    let want: Vec<f64> = xv
        .chunks(5)
        .map(|r| r.iter().map(|v| v.sin() * v).sum())
        .collect();
    assert_close("vmap of vmap", &got, &want);
    // vmap of grad: per-example gradients, d/dr sum(sin(r) r) = cos(r) r + sin(r).
    let per_example = vmap(
        |ys: &[Array]| grad(|z: &[Array]| f(&z[0]), ys),
        &[ops::reshape(&x, &[12, 5], ()).unwrap()],
        &[Some(0)],
    )
    .unwrap();
    let got = values(&place(per_example.into_iter().next().unwrap(), Some(0), 12).unwrap());
    let want: Vec<f64> = xv.iter().map(|v| v.cos() * v + v.sin()).collect();
    assert_close("vmap of grad", &got, &want);
    // grad of vmap: the gradient of a sum of per-example values.
    let g = grad(
        |z: &[Array]| {
            let m = vmap(|ys: &[Array]| Ok(vec![f(&ys[0])?]), z, &[Some(1)])?;
            ops::sum(&m[0].array, None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_close("grad of vmap", &values(&g[0]), &want);
}

#[test]
fn vmap_errors_name_the_problem() {
    let x = Array::from_slice(&[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let y = Array::from_slice(&[1.0f64, 2.0, 3.0], &[3]).unwrap();
    let id = |xs: &[Array]| -> Result<Vec<Array>> { Ok(xs.to_vec()) };
    let msg =
        |r: Result<Vec<rill_core::transforms::Mapped>>| r.err().expect("an error").to_string();
    assert!(msg(vmap(id, &[x.clone(), y.clone()], &[Some(0), Some(0)]))
        .contains("inconsistent axis sizes"));
    assert!(msg(vmap(id, std::slice::from_ref(&x), &[None])).contains("at least one input axis"));
    assert!(msg(vmap(id, std::slice::from_ref(&x), &[Some(2)])).contains("axis 2"));
    let e = msg(vmap(
        |xs: &[Array]| {
            let s = ops::sum(&xs[0], None, false, ())?;
            s.eval()?;
            Ok(vec![s])
        },
        std::slice::from_ref(&x),
        &[Some(0)],
    ));
    assert!(e.contains("vmap") && e.contains("evaluate"), "{e}");
    let m = vmap(
        |xs: &[Array]| Ok(vec![ops::exp(&xs[0], ())?]),
        std::slice::from_ref(&x),
        &[Some(0)],
    )
    .unwrap();
    let e = place(m.into_iter().next().unwrap(), None, 2)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("cannot be None"), "{e}");
}

#[test]
fn custom_functions_use_their_rules_through_grad_compile_and_vmap() {
    use rill_core::transforms::{checkpoint, custom_function, CustomRules, Fun};
    use std::sync::Arc;
    let mut rng = rng();
    let x = rand_in(&mut rng, &[6], -1.0, 1.0);
    let xv = values(&x);
    let square: Fun = Arc::new(|xs: &[Array]| Ok(vec![ops::multiply(&xs[0], &xs[0], ())?]));
    // A vjp rule that is not the derivative (5 * cotangent): grad must use it.
    let rules = CustomRules {
        vjp: Some(Arc::new(|_p: &[Array], c: &[Array], _o: &[Array]| {
            Ok(vec![ops::multiply(&c[0], &Array::scalar(5.0f64), ())?])
        })),
        ..CustomRules::default()
    };
    let loss = |xs: &[Array]| -> Result<Array> {
        let y = custom_function(square.clone(), rules.clone(), xs)?;
        ops::sum(&ops::sin(&y[0], ())?, None, false, ())
    };
    let g = grad(loss, std::slice::from_ref(&x)).unwrap();
    let want: Vec<f64> = xv.iter().map(|v| (v * v).cos() * 5.0).collect();
    assert_close("custom vjp", &values(&g[0]), &want);
    // The same through a compiled program's replay.
    let (program, _) =
        Program::trace(|xs: &[Array]| Ok(vec![loss(xs)?]), std::slice::from_ref(&x)).unwrap();
    let g = grad(
        |xs: &[Array]| Ok(program.replay(xs)?.remove(0)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_close("custom vjp replayed", &values(&g[0]), &want);
    // And through vmap: grad of the vmapped custom function keeps the rule.
    let g = grad(
        |xs: &[Array]| {
            let m = vmap(
                |ys: &[Array]| custom_function(square.clone(), rules.clone(), ys),
                xs,
                &[Some(0)],
            )?;
            ops::sum(&m[0].array, None, false, ())
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_close("custom vjp under vmap", &values(&g[0]), &[5.0; 6]);
    // A jvp rule alone is transposed for the gradient: jvp = 3 t -> vjp = 3 c.
    let jvp_only = CustomRules {
        jvp: Some(Arc::new(|_p: &[Array], t: &[Array]| {
            Ok(vec![ops::multiply(&t[0], &Array::scalar(3.0f64), ())?])
        })),
        ..CustomRules::default()
    };
    let g = grad(
        |xs: &[Array]| {
            ops::sum(
                &custom_function(square.clone(), jvp_only.clone(), xs)?[0],
                None,
                false,
                (),
            )
        },
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_close("custom jvp transposed", &values(&g[0]), &[3.0; 6]);
    let (_, t) = jvp(
        |xs: &[Array]| custom_function(square.clone(), jvp_only.clone(), xs),
        std::slice::from_ref(&x),
        &[ops::ones(&[6], rill_core::Dtype::Float64, ()).unwrap()],
    )
    .unwrap();
    assert_close("custom jvp", &values(&t[0]), &[3.0; 6]);
    // A vmap rule replaces the batched replay (here: adds 100 to show it ran).
    let with_vmap = CustomRules {
        vmap: Some(Arc::new(|xs: &[Array], axes: &[Option<usize>]| {
            let y = ops::add(
                &ops::multiply(&xs[0], &xs[0], ())?,
                &Array::scalar(100.0f64),
                (),
            )?;
            Ok((vec![y], axes.to_vec()))
        })),
        ..CustomRules::default()
    };
    let m = vmap(
        |ys: &[Array]| custom_function(square.clone(), with_vmap.clone(), ys),
        std::slice::from_ref(&x),
        &[Some(0)],
    )
    .unwrap();
    let want: Vec<f64> = xv.iter().map(|v| v * v + 100.0).collect();
    assert_close("custom vmap", &values(&m[0].array), &want);
    // checkpoint: values and gradients of the plain function (recomputed in the backward pass).
    let body: Fun = Arc::new(|xs: &[Array]| {
        let t = ops::tanh(&ops::multiply(&xs[0], &xs[1], ())?, ())?;
        Ok(vec![ops::multiply(&t, &xs[0], ())?])
    });
    let y = rand_in(&mut rng, &[6], -1.0, 1.0);
    let plain = grad(
        |xs: &[Array]| ops::sum(&body(xs)?[0], None, false, ()),
        &[x.clone(), y.clone()],
    )
    .unwrap();
    let ck = grad(
        |xs: &[Array]| ops::sum(&checkpoint(body.clone(), xs)?[0], None, false, ()),
        &[x.clone(), y.clone()],
    )
    .unwrap();
    let yv = values(&y);
    let dx: Vec<f64> = xv
        .iter()
        .zip(&yv)
        .map(|(a, b)| (a * b).tanh() + a * b * (1.0 - (a * b).tanh().powi(2)))
        .collect();
    let dy: Vec<f64> = xv
        .iter()
        .zip(&yv)
        .map(|(a, b)| a * a * (1.0 - (a * b).tanh().powi(2)))
        .collect();
    assert_close("checkpoint dx", &values(&ck[0]), &dx);
    assert_close("checkpoint dy", &values(&ck[1]), &dy);
    assert_close("plain dx", &values(&plain[0]), &dx);
}
