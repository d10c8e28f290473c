#![allow(clippy::type_complexity)]
//! `matmul` and `addmm` against a float64 (complex128) triple loop written here, on random inputs.
//!
//! Tolerances are error bounds of the dtype: a dot product of length k in precision u is off by at
//! most about k*u*sum|a_i*b_i|, and a result rounded once to a narrower type by u'*|result| more.
//! A wrong index or a missed term is off by the size of a whole term, far outside them.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::half::{bf16, f16};
use rill_core::num_complex::{Complex32, Complex64};
use rill_core::ops::{self, SliceDim};
use rill_core::{Array, Dtype, Element, Error};

/// An element type under test: how to make one from a random value, read it back exactly, and
/// how precise its products are.
trait T: Element {
    fn make(re: f64, im: f64) -> Self;
    fn wide(self) -> Complex64;
    /// Unit roundoff of the accumulation.
    const ACC: f64;
    /// Unit roundoff of the stored result (rounding once at the end).
    const OUT: f64;
    /// Roundoff of partial sums stored between blocks of k, relative to sum|a_i*b_i|.
    const PARTIAL: f64 = 0.0;
}

impl T for f32 {
    fn make(re: f64, _: f64) -> Self {
        re as f32
    }
    fn wide(self) -> Complex64 {
        Complex64::new(self as f64, 0.0)
    }
    const ACC: f64 = f32::EPSILON as f64 / 2.0;
    const OUT: f64 = 0.0;
}
impl T for f64 {
    fn make(re: f64, _: f64) -> Self {
        re
    }
    fn wide(self) -> Complex64 {
        Complex64::new(self, 0.0)
    }
    const ACC: f64 = f64::EPSILON / 2.0;
    const OUT: f64 = 0.0;
}
impl T for Complex32 {
    fn make(re: f64, im: f64) -> Self {
        Complex32::new(re as f32, im as f32)
    }
    fn wide(self) -> Complex64 {
        Complex64::new(self.re as f64, self.im as f64)
    }
    // A complex multiply-add rounds a few times per term.
    const ACC: f64 = 2.0 * f32::EPSILON as f64;
    const OUT: f64 = 0.0;
}
impl T for bf16 {
    fn make(re: f64, _: f64) -> Self {
        bf16::from_f64(re)
    }
    fn wide(self) -> Complex64 {
        Complex64::new(self.to_f64(), 0.0)
    }
    // Multiplied in f32, rounded once to bfloat16.
    const ACC: f64 = f32::EPSILON as f64 / 2.0;
    const OUT: f64 = 1.0 / 256.0;
}
impl T for f16 {
    fn make(re: f64, _: f64) -> Self {
        f16::from_f64(re)
    }
    fn wide(self) -> Complex64 {
        Complex64::new(self.to_f64(), 0.0)
    }
    // gemm accumulates float16 in f32 but rounds the partial sum to float16 after each block of
    // k (a few roundings, each within u * sum|a_i*b_i|).
    const ACC: f64 = f32::EPSILON as f64 / 2.0;
    const OUT: f64 = 1.0 / 2048.0;
    const PARTIAL: f64 = 2.0 / 2048.0;
}

/// Random values in [-1, 1) of type `E` (complex: both parts), and the same values widened.
fn random<E: T>(rng: &mut StdRng, shape: &[usize]) -> (Array, Vec<Complex64>) {
    let n: usize = shape.iter().product();
    let vals: Vec<E> = (0..n)
        .map(|_| E::make(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect();
    let wide = vals.iter().map(|v| v.wide()).collect();
    (Array::from_slice(&vals, shape).unwrap(), wide)
}

/// A dense array of any rank: row-major values and a shape.
#[derive(Clone, Debug)]
struct Dense {
    v: Vec<Complex64>,
    shape: Vec<usize>,
}

impl Dense {
    fn at(&self, idx: &[usize]) -> Complex64 {
        let mut off = 0;
        for (&i, &n) in idx.iter().zip(&self.shape) {
            off = off * n + i;
        }
        self.v[off]
    }
}

/// Row-major multi-indices of `shape`.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|mut f| {
            let mut idx = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                idx[d] = f % shape[d];
                f /= shape[d];
            }
            idx
        })
        .collect()
}

/// NumPy's matmul, by the book: promote 1-D operands, broadcast the batch dims, triple loop.
/// Returns the product, the sum of |a_i b_i| per element (for error bounds), and k.
fn reference(a: &Dense, b: &Dense) -> (Dense, Vec<f64>, usize) {
    let a2 = if a.shape.len() == 1 {
        Dense {
            v: a.v.clone(),
            shape: vec![1, a.shape[0]],
        }
    } else {
        a.clone()
    };
    let b2 = if b.shape.len() == 1 {
        Dense {
            v: b.v.clone(),
            shape: vec![b.shape[0], 1],
        }
    } else {
        b.clone()
    };
    let (na, nb) = (a2.shape.len(), b2.shape.len());
    let (m, k, n) = (a2.shape[na - 2], a2.shape[na - 1], b2.shape[nb - 1]);
    assert_eq!(k, b2.shape[nb - 2]);
    let nbatch = (na - 2).max(nb - 2);
    let dim = |s: &[usize], d: usize| {
        if d + s.len() >= nbatch {
            s[d + s.len() - nbatch]
        } else {
            1
        }
    };
    let batch: Vec<usize> = (0..nbatch)
        .map(|d| {
            let (x, y) = (dim(&a2.shape[..na - 2], d), dim(&b2.shape[..nb - 2], d));
            assert!(x == y || x == 1 || y == 1);
            x.max(y)
        })
        .collect();
    let pick = |s: &[usize], idx: &[usize]| -> Vec<usize> {
        let skip = nbatch - s.len();
        (0..s.len())
            .map(|d| if s[d] == 1 { 0 } else { idx[d + skip] })
            .collect()
    };
    let mut v = vec![];
    let mut mag = vec![];
    for bi in indices(&batch) {
        let ia = pick(&a2.shape[..na - 2], &bi);
        let ib = pick(&b2.shape[..nb - 2], &bi);
        for i in 0..m {
            for j in 0..n {
                let (mut s, mut g) = (Complex64::new(0.0, 0.0), 0.0);
                for p in 0..k {
                    let x = a2.at(&[ia.clone(), vec![i, p]].concat());
                    let y = b2.at(&[ib.clone(), vec![p, j]].concat());
                    s += x * y;
                    g += x.norm() * y.norm();
                }
                v.push(s);
                mag.push(g);
            }
        }
    }
    let mut shape = batch;
    if a.shape.len() > 1 {
        shape.push(m);
    }
    if b.shape.len() > 1 {
        shape.push(n);
    }
    (Dense { v, shape }, mag, k)
}

/// Checks `got` (of type `E`) against `want` within `E`'s bounds; `mag` and `k` as `reference`.
fn check<E: T>(what: &str, got: &Array, want: &Dense, mag: &[f64], k: usize) {
    assert_eq!(got.dtype(), E::DTYPE, "{what}: dtype");
    assert_eq!(got.shape(), &want.shape[..], "{what}: shape");
    let g: Vec<E> = got.to_vec().unwrap();
    for (i, (&x, &w)) in g.iter().zip(&want.v).enumerate() {
        let x = x.wide();
        let tol = 1.5
            * ((k as f64 + 2.0) * E::ACC * mag[i] + E::OUT * w.norm() + E::PARTIAL * mag[i])
            + 1e-300;
        assert!(
            (x - w).norm() <= tol,
            "{what}: element {i}: got {x}, want {w} (tolerance {tol:e})"
        );
    }
}

fn matmul_case<E: T>(rng: &mut StdRng, sa: &[usize], sb: &[usize]) {
    let (a, va) = random::<E>(rng, sa);
    let (b, vb) = random::<E>(rng, sb);
    let got = ops::matmul(&a, &b, ()).unwrap();
    let (want, mag, k) = reference(
        &Dense {
            v: va,
            shape: sa.to_vec(),
        },
        &Dense {
            v: vb,
            shape: sb.to_vec(),
        },
    );
    check::<E>(
        &format!("{:?} {sa:?} @ {sb:?}", E::DTYPE),
        &got,
        &want,
        &mag,
        k,
    );
}

const SHAPES: &[(&[usize], &[usize])] = &[
    (&[5], &[5]),
    (&[5], &[5, 3]),
    (&[4, 5], &[5]),
    (&[5], &[2, 5, 3]),
    (&[2, 4, 5], &[5]),
    (&[3, 4], &[4, 6]),
    (&[1, 1], &[1, 1]),
    (&[7, 1], &[1, 9]),
    (&[2, 1, 3, 4], &[5, 4, 6]),
    (&[3, 4], &[2, 4, 5]),
    (&[2, 3, 4], &[4, 5]),
    (&[1, 3, 4], &[2, 4, 5]),
    (&[2, 3, 2, 4], &[2, 1, 4, 3]),
    (&[17, 33], &[33, 19]),
];

#[test]
fn shapes_follow_numpy() {
    let mut rng = StdRng::seed_from_u64(1);
    for &(sa, sb) in SHAPES {
        matmul_case::<f32>(&mut rng, sa, sb);
    }
    let s = |x: &[usize], y: &[usize]| {
        ops::matmul(
            &ops::ones(x, Dtype::Float32, ()).unwrap(),
            &ops::ones(y, Dtype::Float32, ()).unwrap(),
            (),
        )
        .unwrap()
    };
    assert_eq!(s(&[3], &[3]).shape(), &[] as &[usize]);
    assert_eq!(s(&[3], &[4, 3, 2]).shape(), &[4, 2]);
    assert_eq!(s(&[4, 2, 3], &[3]).shape(), &[4, 2]);
    assert_eq!(s(&[2, 1, 3, 4], &[5, 4, 6]).shape(), &[2, 5, 3, 6]);
}

#[test]
fn every_inexact_dtype() {
    let mut rng = StdRng::seed_from_u64(2);
    for &(sa, sb) in SHAPES {
        matmul_case::<f64>(&mut rng, sa, sb);
        matmul_case::<Complex32>(&mut rng, sa, sb);
        matmul_case::<f16>(&mut rng, sa, sb);
        matmul_case::<bf16>(&mut rng, sa, sb);
    }
}

#[test]
fn mixed_dtypes_promote_as_mlx() {
    // Expected dtypes from MLX 0.32.4 (mx.matmul on the CPU).
    let cases = [
        (Dtype::Float16, Dtype::Bfloat16, Dtype::Float32),
        (Dtype::Float32, Dtype::Int32, Dtype::Float32),
        (Dtype::Int32, Dtype::Float16, Dtype::Float16),
        (Dtype::Float16, Dtype::Float32, Dtype::Float32),
        (Dtype::Bool, Dtype::Float16, Dtype::Float16),
        (Dtype::Complex64, Dtype::Float64, Dtype::Complex64),
        (Dtype::Float64, Dtype::Float32, Dtype::Float64),
    ];
    let mut rng = StdRng::seed_from_u64(3);
    for (x, y, want) in cases {
        // Small integers, exact in every dtype, so the product is exact too.
        let mk = |rng: &mut StdRng, shape: &[usize], dt: Dtype| {
            let v: Vec<i32> = (0..shape.iter().product())
                .map(|_| rng.random_range(0..3))
                .collect();
            let a = ops::astype(&Array::from_slice(&v, shape).unwrap(), dt, ()).unwrap();
            (a, v)
        };
        let (a, va) = mk(&mut rng, &[3, 4], x);
        let (b, vb) = mk(&mut rng, &[4, 2], y);
        let c = ops::matmul(&a, &b, ()).unwrap();
        assert_eq!(c.dtype(), want, "{x} @ {y}");
        let got: Vec<f64> = ops::astype(&c, Dtype::Float64, ())
            .unwrap()
            .to_vec()
            .unwrap();
        let fix = |v: &[i32], dt: Dtype| -> Vec<f64> {
            v.iter()
                .map(|&e| {
                    if dt == Dtype::Bool {
                        (e != 0) as i32 as f64
                    } else {
                        e as f64
                    }
                })
                .collect()
        };
        let (fa, fb) = (fix(&va, x), fix(&vb, y));
        for i in 0..3 {
            for j in 0..2 {
                let w: f64 = (0..4).map(|p| fa[i * 4 + p] * fb[p * 2 + j]).sum();
                assert_eq!(got[i * 2 + j], w, "{x} @ {y} at ({i}, {j})");
            }
        }
    }
}

/// `x` (row-major values `v` of shape `shape`) and a view of it with its axes permuted by `perm`,
/// with the view's values.
fn permuted(x: &Array, v: &[Complex64], shape: &[usize], perm: &[usize]) -> (Array, Dense) {
    let view = ops::transpose(
        x,
        Some(&perm.iter().map(|&p| p as isize).collect::<Vec<_>>()),
        (),
    )
    .unwrap();
    let src = Dense {
        v: v.to_vec(),
        shape: shape.to_vec(),
    };
    let vshape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let vals = indices(&vshape)
        .into_iter()
        .map(|idx| {
            let mut orig = vec![0; shape.len()];
            for (d, &p) in perm.iter().enumerate() {
                orig[p] = idx[d];
            }
            src.at(&orig)
        })
        .collect();
    (
        view,
        Dense {
            v: vals,
            shape: vshape,
        },
    )
}

#[test]
fn transposed_views() {
    let mut rng = StdRng::seed_from_u64(4);
    // a^T @ b, a @ b^T, a^T @ b^T, batched with the batch axis in the middle, for f32 and c64.
    let (at, va) = random::<f32>(&mut rng, &[6, 5]);
    let (bt, vb) = random::<f32>(&mut rng, &[7, 6]);
    let (a, da) = permuted(&at, &va, &[6, 5], &[1, 0]);
    let (b, db) = permuted(&bt, &vb, &[7, 6], &[1, 0]);
    let (a0, da0) = (
        at.clone(),
        Dense {
            v: va.clone(),
            shape: vec![6, 5],
        },
    );
    let (b0, db0) = (
        bt.clone(),
        Dense {
            v: vb.clone(),
            shape: vec![7, 6],
        },
    );
    let got = ops::matmul(&a, &b, ()).unwrap(); // (5,6) @ (6,7)
    let (w, mag, k) = reference(&da, &db);
    check::<f32>("a^T @ b^T", &got, &w, &mag, k);
    let got = ops::matmul(&a0, &a, ()).unwrap(); // (6,5) @ (5,6)
    let (w, mag, k) = reference(&da0, &da);
    check::<f32>("a @ a^T", &got, &w, &mag, k);
    let got = ops::matmul(&b, &b0, ()).unwrap(); // (6,7) @ (7,6)
    let (w, mag, k) = reference(&db, &db0);
    check::<f32>("b^T @ b", &got, &w, &mag, k);

    // Batched: (3, 4, 5) stored as (4, 3, 5) and (5, 3, 2) stored as (2, 5, 3).
    let (xs, vx) = random::<Complex32>(&mut rng, &[4, 3, 5]);
    let (ys, vy) = random::<Complex32>(&mut rng, &[2, 5, 3]);
    let (x, dx) = permuted(&xs, &vx, &[4, 3, 5], &[1, 0, 2]);
    let (y, dy) = permuted(&ys, &vy, &[2, 5, 3], &[2, 1, 0]);
    let got = ops::matmul(&x, &y, ()).unwrap();
    let (w, mag, k) = reference(&dx, &dy);
    check::<Complex32>("batched transposed views", &got, &w, &mag, k);
}

#[test]
fn strided_reversed_and_broadcast_views() {
    let mut rng = StdRng::seed_from_u64(5);
    // Every other column of a (4, 10): not a plain matrix layout, so it is gathered.
    let (x, vx) = random::<f64>(&mut rng, &[4, 10]);
    let a = ops::slice(&x, &[0, 0], &[4, 10], &[1, 2], ()).unwrap();
    let da = Dense {
        v: (0..4)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .map(|(i, j)| vx[i * 10 + 2 * j])
            .collect(),
        shape: vec![4, 5],
    };
    // Rows reversed (a negative stride).
    let (y, vy) = random::<f64>(&mut rng, &[5, 3]);
    let b = ops::slice_dims(
        &y,
        &[
            SliceDim {
                start: 4,
                step: -1,
                len: 5,
            },
            SliceDim {
                start: 0,
                step: 1,
                len: 3,
            },
        ],
        (),
    )
    .unwrap();
    let db = Dense {
        v: (0..5)
            .rev()
            .flat_map(|i| vy[i * 3..i * 3 + 3].to_vec())
            .collect(),
        shape: vec![5, 3],
    };
    let got = ops::matmul(&a, &b, ()).unwrap();
    let (w, mag, k) = reference(&da, &db);
    check::<f64>("strided @ reversed", &got, &w, &mag, k);

    // A row broadcast to a matrix (stride 0 inside the matrix) and a batch broadcast by the user.
    let (r, vr) = random::<f32>(&mut rng, &[1, 6]);
    let a = ops::broadcast_to(&r, &[3, 6], ()).unwrap();
    let da = Dense {
        v: (0..3).flat_map(|_| vr.clone()).collect(),
        shape: vec![3, 6],
    };
    let (z, vz) = random::<f32>(&mut rng, &[6, 2]);
    let b = ops::broadcast_to(&z, &[4, 6, 2], ()).unwrap();
    let db = Dense {
        v: (0..4).flat_map(|_| vz.clone()).collect(),
        shape: vec![4, 6, 2],
    };
    let got = ops::matmul(&a, &b, ()).unwrap();
    let (w, mag, k) = reference(&da, &db);
    check::<f32>("broadcast row @ broadcast batch", &got, &w, &mag, k);
}

#[test]
fn large_products_take_the_parallel_paths() {
    let mut rng = StdRng::seed_from_u64(6);
    // One big product (gemm's own threads), in every native dtype and in bfloat16.
    matmul_case::<f32>(&mut rng, &[130, 150], &[150, 140]);
    matmul_case::<f64>(&mut rng, &[130, 150], &[150, 140]);
    matmul_case::<Complex32>(&mut rng, &[70, 80], &[80, 60]);
    matmul_case::<f16>(&mut rng, &[130, 150], &[150, 140]);
    matmul_case::<bf16>(&mut rng, &[130, 150], &[150, 140]);
    // Many small products (one rayon task per few batches).
    matmul_case::<f32>(&mut rng, &[300, 9, 10], &[300, 10, 11]);
    matmul_case::<bf16>(&mut rng, &[300, 9, 10], &[300, 10, 11]);
    // Batches folded into rows against one shared right operand: (40*30, 50) @ (50, 60).
    matmul_case::<f32>(&mut rng, &[4, 10, 30, 50], &[50, 60]);
    matmul_case::<f64>(&mut rng, &[4, 10, 30, 50], &[1, 1, 50, 60]);
    // The same with the left operand in column-major matrices: (30, 50) views of (50, 30).
    let (xs, vx) = random::<f32>(&mut rng, &[40, 50, 30]);
    let (x, dx) = permuted(&xs, &vx, &[40, 50, 30], &[0, 2, 1]);
    let (y, vy) = random::<f32>(&mut rng, &[50, 60]);
    let got = ops::matmul(&x, &y, ()).unwrap();
    let (w, mag, k) = reference(
        &dx,
        &Dense {
            v: vy,
            shape: vec![50, 60],
        },
    );
    check::<f32>("column-major batches @ shared", &got, &w, &mag, k);
    // Batch-major storage that cannot fold: (30, 40, 50) stored as (40, 30, 50).
    let (xs, vx) = random::<f32>(&mut rng, &[40, 30, 50]);
    let (x, dx) = permuted(&xs, &vx, &[40, 30, 50], &[1, 0, 2]);
    let (y, vy) = random::<f32>(&mut rng, &[50, 20]);
    let got = ops::matmul(&x, &y, ()).unwrap();
    let (w, mag, k) = reference(
        &dx,
        &Dense {
            v: vy,
            shape: vec![50, 20],
        },
    );
    check::<f32>("interleaved batches @ shared", &got, &w, &mag, k);
}

#[test]
fn products_on_a_shared_pool_split_into_blocks_of_rows() {
    // Products on several streams at once: each starts while the others' drainers hold part of
    // the pool, so it runs as blocks of rows that idle threads take (kernel_threads.rs rule 4).
    // Row counts that blocks do not divide, a transposed left operand (rows strided by 1) and
    // batches, each against the float64 reference.
    let mut rng = StdRng::seed_from_u64(61);
    let streams: Vec<_> = (0..3)
        .map(|_| rill_core::new_stream(rill_core::Device::cpu()).unwrap())
        .collect();
    let mut cases = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        let (x, vx) = random::<f32>(&mut rng, &[3, 203 + i, 96]);
        let (y, vy) = random::<f32>(&mut rng, &[3, 96, 110]);
        let got = ops::matmul(&x, &y, *s).unwrap();
        let want = reference(
            &Dense {
                v: vx,
                shape: vec![3, 203 + i, 96],
            },
            &Dense {
                v: vy,
                shape: vec![3, 96, 110],
            },
        );
        cases.push(("f32 batches on a busy pool", got, want));
        let (xs, vx) = random::<f32>(&mut rng, &[96, 250]);
        let (x, dx) = permuted(&xs, &vx, &[96, 250], &[1, 0]);
        let (y, vy) = random::<f32>(&mut rng, &[96, 130]);
        let got = ops::matmul(&x, &y, *s).unwrap();
        let want = reference(
            &dx,
            &Dense {
                v: vy,
                shape: vec![96, 130],
            },
        );
        cases.push(("transposed f32 on a busy pool", got, want));
    }
    let outs: Vec<&Array> = cases.iter().map(|(_, g, _)| g).collect();
    rill_core::eval(&outs).unwrap();
    for (what, got, (w, mag, k)) in &cases {
        check::<f32>(what, got, w, mag, *k);
    }
}

#[test]
fn empty_inner_dim_gives_zeros() {
    let a = ops::ones(&[3, 0], Dtype::Float32, ()).unwrap();
    let b = ops::ones(&[0, 4], Dtype::Float32, ()).unwrap();
    let c = ops::matmul(&a, &b, ()).unwrap();
    assert_eq!(c.shape(), &[3, 4]);
    assert_eq!(c.to_vec::<f32>().unwrap(), vec![0.0; 12]);
    let a = ops::ones(&[2, 3, 0], Dtype::Bfloat16, ()).unwrap();
    let b = ops::ones(&[0], Dtype::Bfloat16, ()).unwrap();
    assert_eq!(
        ops::matmul(&a, &b, ()).unwrap().to_vec::<bf16>().unwrap(),
        vec![bf16::ZERO; 6]
    );
    // Empty outer dims: an empty result.
    let a = ops::ones(&[0, 3], Dtype::Float64, ()).unwrap();
    let b = ops::ones(&[3, 2], Dtype::Float64, ()).unwrap();
    let c = ops::matmul(&a, &b, ()).unwrap();
    assert_eq!(c.shape(), &[0, 2]);
    assert!(c.to_vec::<f64>().unwrap().is_empty());
    // addmm with k = 0 is beta * c.
    let c = Array::from_slice(&[1.0f32, -2.0, 3.0], &[3]).unwrap();
    let a = ops::ones(&[2, 0], Dtype::Float32, ()).unwrap();
    let b = ops::ones(&[0, 3], Dtype::Float32, ()).unwrap();
    let r = ops::addmm(&c, &a, &b, 2.0, 3.0, ()).unwrap();
    assert_eq!(
        r.to_vec::<f32>().unwrap(),
        vec![3.0, -6.0, 9.0, 3.0, -6.0, 9.0]
    );
}

/// `addmm(c, a, b, alpha, beta)` for inputs of type `E` against the reference.
fn addmm_case<E: T>(
    rng: &mut StdRng,
    sc: &[usize],
    sa: &[usize],
    sb: &[usize],
    alpha: f64,
    beta: f64,
) {
    let (a, va) = random::<E>(rng, sa);
    let (b, vb) = random::<E>(rng, sb);
    let (c, vc) = random::<E>(rng, sc);
    let got = ops::addmm(&c, &a, &b, alpha, beta, ()).unwrap();
    let (p, mag, k) = reference(
        &Dense {
            v: va,
            shape: sa.to_vec(),
        },
        &Dense {
            v: vb,
            shape: sb.to_vec(),
        },
    );
    // c broadcast to the product's shape, by NumPy's rule.
    let dc = Dense {
        v: vc,
        shape: sc.to_vec(),
    };
    let pad = p.shape.len() - sc.len();
    let want: Vec<Complex64> = indices(&p.shape)
        .iter()
        .zip(&p.v)
        .map(|(idx, &pv)| {
            let ci: Vec<usize> = (0..sc.len())
                .map(|d| if sc[d] == 1 { 0 } else { idx[d + pad] })
                .collect();
            pv * alpha + dc.at(&ci) * beta
        })
        .collect();
    let c_mag: Vec<f64> = indices(&p.shape)
        .iter()
        .enumerate()
        .map(|(i, idx)| {
            let ci: Vec<usize> = (0..sc.len())
                .map(|d| if sc[d] == 1 { 0 } else { idx[d + pad] })
                .collect();
            mag[i] * alpha.abs() + dc.at(&ci).norm() * beta.abs()
        })
        .collect();
    let what = format!(
        "addmm {:?} c {sc:?} a {sa:?} b {sb:?} alpha {alpha} beta {beta}",
        E::DTYPE
    );
    check::<E>(
        &what,
        &got,
        &Dense {
            v: want,
            shape: p.shape.clone(),
        },
        &c_mag,
        k + 2,
    );
}

#[test]
fn addmm_scales_and_broadcasts_c() {
    let mut rng = StdRng::seed_from_u64(7);
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[3, 4], &[3, 5], &[5, 4]),
        (&[4], &[3, 5], &[5, 4]),
        (&[1, 4], &[3, 5], &[5, 4]),
        (&[3, 1], &[3, 5], &[5, 4]),
        (&[], &[3, 5], &[5, 4]),
        (&[2, 1, 4], &[2, 3, 5], &[5, 4]),
        (&[3, 4], &[2, 3, 5], &[2, 5, 4]),
        (&[4], &[5], &[5, 4]),
        (&[3], &[3, 5], &[5]),
        (&[], &[5], &[5]),
        (&[2, 3], &[2, 3, 5], &[5]),
        (&[130, 140], &[130, 150], &[150, 140]),
        (&[60], &[8, 20, 40], &[40, 60]),
    ];
    for &(sc, sa, sb) in cases {
        for (alpha, beta) in [(1.0, 1.0), (2.5, -0.5), (-1.0, 0.0), (0.0, 2.0)] {
            addmm_case::<f32>(&mut rng, sc, sa, sb, alpha, beta);
        }
        addmm_case::<f64>(&mut rng, sc, sa, sb, 0.75, 1.25);
        addmm_case::<Complex32>(&mut rng, sc, sa, sb, 0.75, 1.25);
        addmm_case::<f16>(&mut rng, sc, sa, sb, 0.75, 1.25);
        addmm_case::<bf16>(&mut rng, sc, sa, sb, 0.75, 1.25);
    }
}

#[test]
fn addmm_with_zero_beta_ignores_c() {
    // BLAS and MLX: beta == 0 does not read c, so a NaN there does not spread.
    let c = Array::from_slice(&[f32::NAN, f32::INFINITY], &[2]).unwrap();
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let b = Array::from_slice(&[1.0f32, 1.0], &[2]).unwrap();
    let r = ops::addmm(&c, &a, &b, 2.0, 0.0, ()).unwrap();
    assert_eq!(r.to_vec::<f32>().unwrap(), vec![6.0, 14.0]);
    let r = ops::addmm(&c, &a, &b, 2.0, 1.0, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(r[0].is_nan() && r[1] == f32::INFINITY);
}

#[test]
fn addmm_promotes_all_three_inputs() {
    // Expected dtypes from MLX 0.32.4 (mx.addmm on the CPU).
    let mk = |shape: &[usize], dt| {
        ops::astype(&ops::ones(shape, Dtype::Int32, ()).unwrap(), dt, ()).unwrap()
    };
    let cases = [
        (
            Dtype::Float16,
            Dtype::Float32,
            Dtype::Float32,
            Dtype::Float32,
        ),
        (
            Dtype::Float32,
            Dtype::Float16,
            Dtype::Float16,
            Dtype::Float32,
        ),
        (Dtype::Int32, Dtype::Float16, Dtype::Float16, Dtype::Float16),
        (Dtype::Bool, Dtype::Float16, Dtype::Float16, Dtype::Float16),
        (
            Dtype::Float32,
            Dtype::Complex64,
            Dtype::Complex64,
            Dtype::Complex64,
        ),
    ];
    for (dc, da, db, want) in cases {
        let r = ops::addmm(
            &mk(&[2, 2], dc),
            &mk(&[2, 3], da),
            &mk(&[3, 2], db),
            2.0,
            0.5,
            (),
        )
        .unwrap();
        assert_eq!(r.dtype(), want, "{dc}, {da}, {db}");
        let v: Vec<f64> = ops::astype(&r, Dtype::Float64, ())
            .unwrap()
            .to_vec()
            .unwrap();
        assert_eq!(v, vec![6.5; 4], "{dc}, {da}, {db}");
    }
}

fn err_of(r: rill_core::Result<Array>) -> Error {
    r.expect_err("the builder should have failed")
}

#[test]
fn bad_shapes_and_dtypes_fail_when_built() {
    let f = |s: &[usize]| ops::ones(s, Dtype::Float32, ()).unwrap();
    let i = |s: &[usize], dt| ops::astype(&f(s), dt, ()).unwrap();

    let e = err_of(ops::matmul(&f(&[2, 3]), &f(&[4, 5]), ()));
    assert!(matches!(e, Error::Shape { op: "matmul", .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");

    let e = err_of(ops::matmul(&f(&[2, 3]), &f(&[4]), ()));
    assert!(
        matches!(e, Error::Shape { op: "matmul", .. }) && e.to_string().contains("[4]"),
        "{e}"
    );
    let e = err_of(ops::matmul(&f(&[3]), &f(&[4, 2]), ()));
    assert!(matches!(e, Error::Shape { op: "matmul", .. }), "{e}");
    let e = err_of(ops::matmul(&f(&[]), &f(&[3]), ()));
    assert!(matches!(e, Error::Shape { op: "matmul", .. }), "{e}");
    let e = err_of(ops::matmul(&f(&[2, 3, 4]), &f(&[3, 4, 5]), ()));
    assert!(
        matches!(e, Error::Shape { op: "matmul", .. }) && e.to_string().contains("[3, 4, 5]"),
        "{e}"
    );

    for dt in [Dtype::Int32, Dtype::Int64, Dtype::Uint8, Dtype::Bool] {
        let e = err_of(ops::matmul(&i(&[2, 3], dt), &i(&[3, 2], dt), ()));
        assert!(
            matches!(e, Error::Dtype { op: "matmul", .. }) && e.to_string().contains(dt.name()),
            "{e}"
        );
    }
    let e = err_of(ops::matmul(
        &i(&[2, 3], Dtype::Int32),
        &i(&[3, 2], Dtype::Bool),
        (),
    ));
    assert!(matches!(e, Error::Dtype { op: "matmul", .. }), "{e}");

    let e = err_of(ops::addmm(
        &f(&[3, 2]),
        &f(&[2, 3]),
        &f(&[3, 2]),
        1.0,
        1.0,
        (),
    ));
    assert!(
        matches!(e, Error::Shape { op: "addmm", .. }) && e.to_string().contains("[3, 2]"),
        "{e}"
    );
    // c may not add dims to the result.
    let e = err_of(ops::addmm(
        &f(&[2, 2, 2]),
        &f(&[2, 3]),
        &f(&[3, 2]),
        1.0,
        1.0,
        (),
    ));
    assert!(matches!(e, Error::Shape { op: "addmm", .. }), "{e}");
    let e = err_of(ops::addmm(&f(&[1]), &f(&[3]), &f(&[3]), 1.0, 1.0, ()));
    assert!(matches!(e, Error::Shape { op: "addmm", .. }), "{e}");
    let e = err_of(ops::addmm(
        &f(&[2, 2]),
        &f(&[2, 4]),
        &f(&[3, 2]),
        1.0,
        1.0,
        (),
    ));
    assert!(matches!(e, Error::Shape { op: "addmm", .. }), "{e}");
    let e = err_of(ops::addmm(
        &i(&[2, 2], Dtype::Int32),
        &i(&[2, 3], Dtype::Int32),
        &i(&[3, 2], Dtype::Int32),
        1.0,
        1.0,
        (),
    ));
    assert!(matches!(e, Error::Dtype { op: "addmm", .. }), "{e}");
}
