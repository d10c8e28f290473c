//! `scaled_dot_product_attention` against a float64 reference computed here, on the default
//! device: the fused kernel on the CPU (`backend/cpu/attention.rs`), the composition of primitives
//! on a GPU (scripts/gpu-check.sh runs this binary with the GPU as default device). Sizes cross
//! the kernel's blocks of query rows; every mask kind, grouped heads, rows that see no key.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::ops::{self, AttentionMaskArg};
use rill_core::{Array, Dtype};

/// Masked scores become float32's min, as MLX: a row that sees nothing averages the values.
const MASKED: f64 = f32::MIN as f64;

struct Case {
    b: usize,
    nq: usize,
    nkv: usize,
    tq: usize,
    tkv: usize,
    d: usize,
    dv: usize,
}

fn values(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-2.0..2.0)).collect()
}

/// `out[b, h, i, :]` in float64. `seen(b, h, i, j)`: None when masked out, else what is added.
fn reference(
    c: &Case,
    (q, k, v): (&[f64], &[f64], &[f64]),
    scale: f64,
    seen: impl Fn(usize, usize, usize, usize) -> Option<f64>,
) -> Vec<f64> {
    let reps = c.nq / c.nkv;
    let mut out = vec![0.0; c.b * c.nq * c.tq * c.dv];
    for b in 0..c.b {
        for h in 0..c.nq {
            let kh = h / reps;
            for i in 0..c.tq {
                let qrow = &q[((b * c.nq + h) * c.tq + i) * c.d..][..c.d];
                let scores: Vec<f64> = (0..c.tkv)
                    .map(|j| {
                        let krow = &k[((b * c.nkv + kh) * c.tkv + j) * c.d..][..c.d];
                        let dot: f64 = qrow.iter().zip(krow).map(|(a, b)| a * b).sum();
                        match seen(b, h, i, j) {
                            Some(add) => dot * scale + add,
                            None => MASKED,
                        }
                    })
                    .collect();
                let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                let sum: f64 = e.iter().sum();
                let o = &mut out[((b * c.nq + h) * c.tq + i) * c.dv..][..c.dv];
                for (j, w) in e.iter().enumerate() {
                    let vrow = &v[((b * c.nkv + kh) * c.tkv + j) * c.dv..][..c.dv];
                    for (o, x) in o.iter_mut().zip(vrow) {
                        *o += w / sum * x;
                    }
                }
            }
        }
    }
    out
}

fn array(vals: &[f64], shape: &[usize], dtype: Dtype) -> Array {
    let a = Array::from_slice(vals, shape).unwrap();
    ops::astype(&a, dtype, ()).unwrap()
}

#[test]
fn attention_matches_float64_for_every_mask_kind() {
    let mut rng = StdRng::seed_from_u64(71);
    let cases = [
        Case {
            b: 1,
            nq: 2,
            nkv: 2,
            tq: 150,
            tkv: 300,
            d: 24,
            dv: 40,
        },
        Case {
            b: 2,
            nq: 6,
            nkv: 2,
            tq: 33,
            tkv: 70,
            d: 16,
            dv: 8,
        },
        Case {
            b: 1,
            nq: 3,
            nkv: 1,
            tq: 300,
            tkv: 100,
            d: 8,
            dv: 12,
        },
    ];
    for c in &cases {
        let q = values(&mut rng, c.b * c.nq * c.tq * c.d);
        let k = values(&mut rng, c.b * c.nkv * c.tkv * c.d);
        let v = values(&mut rng, c.b * c.nkv * c.tkv * c.dv);
        let keep: Vec<bool> = (0..c.tq * c.tkv).map(|_| rng.random_bool(0.6)).collect();
        let add = values(&mut rng, c.nq * c.tkv);
        let scale = (c.d as f64).powf(-0.5);
        for dtype in [Dtype::Float32, Dtype::Float64] {
            let (qa, ka, va) = (
                array(&q, &[c.b, c.nq, c.tq, c.d], dtype),
                array(&k, &[c.b, c.nkv, c.tkv, c.d], dtype),
                array(&v, &[c.b, c.nkv, c.tkv, c.dv], dtype),
            );
            let offset = c.tkv as isize - c.tq as isize;
            type Seen<'a> = Box<dyn Fn(usize, usize, usize, usize) -> Option<f64> + 'a>;
            let masks: [(&str, AttentionMaskArg, Seen); 4] = [
                (
                    "none",
                    AttentionMaskArg::None,
                    Box::new(|_, _, _, _| Some(0.0)),
                ),
                (
                    "causal",
                    AttentionMaskArg::Causal,
                    Box::new(move |_, _, i, j| (j as isize <= i as isize + offset).then_some(0.0)),
                ),
                (
                    "bool",
                    AttentionMaskArg::Array(Array::from_slice(&keep, &[c.tq, c.tkv]).unwrap()),
                    Box::new(|_, _, i, j| keep[i * c.tkv + j].then_some(0.0)),
                ),
                (
                    "additive",
                    AttentionMaskArg::Array(array(&add, &[c.nq, 1, c.tkv], dtype)),
                    Box::new(|_, h, _, j| Some(add[h * c.tkv + j])),
                ),
            ];
            for (what, mask, seen) in masks {
                let got =
                    ops::scaled_dot_product_attention(&qa, &ka, &va, scale, mask, ()).unwrap();
                assert_eq!(got.dtype(), dtype);
                assert_eq!(got.shape(), &[c.b, c.nq, c.tq, c.dv]);
                let got = got.to_vec::<f64>().unwrap();
                let want = reference(c, (&q, &k, &v), scale, seen);
                let tol = if dtype == Dtype::Float64 { 1e-11 } else { 3e-5 };
                for (n, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= tol * (1.0 + w.abs()),
                        "{what} mask, {dtype}, shape q {:?}: element {n}: {g} vs {w}",
                        qa.shape()
                    );
                }
            }
        }
    }
}

#[test]
fn attention_errors_name_the_op_and_the_shapes() {
    let q = Array::from_slice(&[0.5f32; 2 * 3 * 4 * 8], &[2, 3, 4, 8]).unwrap();
    let k = Array::from_slice(&[0.25f32; 2 * 2 * 5 * 8], &[2, 2, 5, 8]).unwrap();
    let e = ops::scaled_dot_product_attention(&q, &k, &k, 1.0, AttentionMaskArg::None, ())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("scaled_dot_product_attention") && e.contains("(3)"),
        "{e}"
    );
    let q = Array::from_slice(&[0.5f32; 2 * 4 * 4 * 8], &[2, 4, 4, 8]).unwrap();
    let bad = Array::from_slice(&[true; 3 * 5], &[3, 5]).unwrap();
    let e = ops::scaled_dot_product_attention(&q, &k, &k, 1.0, AttentionMaskArg::Array(bad), ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[3, 5]") && e.contains("[2, 4, 4, 5]"), "{e}");
}
