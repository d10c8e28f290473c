//! Convolutions against a direct loop in f64 (every parameter of `conv_general`, transposed
//! convolutions, `convolve`), `einsum` against sums written out, and the smaller ops of issue 10
//! (`view`, `as_strided`, complex parts, `unique`, `slice_update_at`, `minmax`) by what defines
//! them; with their errors.

use crate::common::{arr, round_to};
use rill_core::num_complex::Complex32;
use rill_core::{ops, Array, Dtype, Error};

/// Deterministic values in [-1, 1), never all zero.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn f64s(a: &Array) -> Vec<f64> {
    ops::astype(a, Dtype::Float64, ())
        .unwrap()
        .to_vec::<f64>()
        .unwrap()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "element {i}: got {g}, want {w}"
        );
    }
}

/// Row-major index of `idx` in `shape`.
fn at(shape: &[usize], idx: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

struct Geometry {
    stride: Vec<usize>,
    lo: Vec<usize>,
    hi: Vec<usize>,
    kdil: Vec<usize>,
    idil: Vec<usize>,
    groups: usize,
    flip: bool,
}

/// The convolution by its definition: the input dilated and padded into a dense f64 array,
/// then every output element summed over every tap and channel of its group.
fn reference(
    x: &[f64],
    xs: &[usize],
    w: &[f64],
    ws: &[usize],
    g: &Geometry,
) -> (Vec<f64>, Vec<usize>) {
    let d = xs.len() - 2;
    let (n, cin, cout) = (xs[0], xs[d + 1], ws[0]);
    let mut ps = vec![n];
    for i in 0..d {
        ps.push((xs[i + 1] - 1) * g.idil[i] + 1 + g.lo[i] + g.hi[i]);
    }
    ps.push(cin);
    let mut padded = vec![0.0; ps.iter().product()];
    for (e, &v) in x.iter().enumerate() {
        let mut idx = unravel(e, xs);
        for i in 0..d {
            idx[i + 1] = idx[i + 1] * g.idil[i] + g.lo[i];
        }
        padded[at(&ps, &idx)] = v;
    }
    let mut os = vec![n];
    for i in 0..d {
        os.push((ps[i + 1] - ((ws[i + 1] - 1) * g.kdil[i] + 1)) / g.stride[i] + 1);
    }
    os.push(cout);
    let (cig, cog) = (cin / g.groups, cout / g.groups);
    let kshape = &ws[1..=d];
    let mut out = vec![0.0; os.iter().product()];
    for (e, o) in out.iter_mut().enumerate() {
        let oi = unravel(e, &os);
        let co = oi[d + 1];
        let grp = co / cog;
        for t in 0..kshape.iter().product::<usize>() {
            let k = unravel(t, kshape);
            let mut xi = vec![oi[0]];
            let mut wi = vec![co];
            for i in 0..d {
                xi.push(oi[i + 1] * g.stride[i] + k[i] * g.kdil[i]);
                wi.push(if g.flip { kshape[i] - 1 - k[i] } else { k[i] });
            }
            for c in 0..cig {
                xi.push(grp * cig + c);
                wi.push(c);
                *o += padded[at(&ps, &xi)] * w[at(ws, &wi)];
                xi.pop();
                wi.pop();
            }
        }
    }
    (out, os)
}

#[test]
fn conv_general_matches_a_direct_loop_for_every_parameter() {
    // Unit strides and dilations with one group run as shifted products over a padded input
    // (`conv_shifted.rs`): the first six cases, with blocks of 256 extended rows that end
    // inside and across images, asymmetric padding and flipped kernels, in 1, 2 and 3 dims. The
    // first two, 3x3s in two dims with 16 or more channels in and out, run Winograd's F(2x2,
    // 3x3) instead in float32 and the half types (`conv_winograd.rs`): odd output sizes (tiles
    // half outside), padding on one side only, a flip, and blocks of several tile rows.
    let cases: Vec<(Vec<usize>, Vec<usize>, Geometry)> = vec![
        (
            vec![2, 12, 11, 17],
            vec![19, 3, 3, 17],
            Geometry {
                stride: vec![1, 1],
                lo: vec![1, 0],
                hi: vec![2, 1],
                kdil: vec![1, 1],
                idil: vec![1, 1],
                groups: 1,
                flip: true,
            },
        ),
        (
            vec![1, 21, 70, 16],
            vec![24, 3, 3, 16],
            Geometry {
                stride: vec![1, 1],
                lo: vec![1, 1],
                hi: vec![1, 1],
                kdil: vec![1, 1],
                idil: vec![1, 1],
                groups: 1,
                flip: false,
            },
        ),
        (
            vec![3, 20, 17, 5],
            vec![7, 3, 4, 5],
            Geometry {
                stride: vec![1, 1],
                lo: vec![1, 2],
                hi: vec![2, 0],
                kdil: vec![1, 1],
                idil: vec![1, 1],
                groups: 1,
                flip: true,
            },
        ),
        (
            vec![2, 6, 5, 7, 3],
            vec![4, 2, 3, 2, 3],
            Geometry {
                stride: vec![1, 1, 1],
                lo: vec![0, 1, 1],
                hi: vec![1, 1, 0],
                kdil: vec![1, 1, 1],
                idil: vec![1, 1, 1],
                groups: 1,
                flip: false,
            },
        ),
        (
            vec![2, 600, 3],
            vec![5, 7, 3],
            Geometry {
                stride: vec![1],
                lo: vec![3],
                hi: vec![3],
                kdil: vec![1],
                idil: vec![1],
                groups: 1,
                flip: true,
            },
        ),
        (
            vec![2, 9, 4],
            vec![6, 3, 4],
            Geometry {
                stride: vec![1],
                lo: vec![0],
                hi: vec![0],
                kdil: vec![1],
                idil: vec![1],
                groups: 1,
                flip: false,
            },
        ),
        (
            vec![2, 9, 4],
            vec![6, 3, 2],
            Geometry {
                stride: vec![2],
                lo: vec![1],
                hi: vec![2],
                kdil: vec![2],
                idil: vec![1],
                groups: 2,
                flip: true,
            },
        ),
        (
            vec![1, 5, 3],
            vec![2, 2, 3],
            Geometry {
                stride: vec![1],
                lo: vec![1],
                hi: vec![0],
                kdil: vec![1],
                idil: vec![3],
                groups: 1,
                flip: false,
            },
        ),
        (
            vec![2, 6, 5, 3],
            vec![4, 3, 2, 3],
            Geometry {
                stride: vec![2, 1],
                lo: vec![1, 0],
                hi: vec![0, 2],
                kdil: vec![1, 2],
                idil: vec![2, 1],
                groups: 1,
                flip: true,
            },
        ),
        (
            vec![1, 4, 3, 5, 4],
            vec![6, 2, 2, 3, 2],
            Geometry {
                stride: vec![1, 2, 1],
                lo: vec![1, 0, 1],
                hi: vec![1, 1, 0],
                kdil: vec![1, 1, 2],
                idil: vec![1, 2, 1],
                groups: 2,
                flip: false,
            },
        ),
    ];
    for (seed, (xs, ws, g)) in cases.iter().enumerate() {
        let xv = values(xs.iter().product(), seed as u64 * 2 + 1);
        let wv = values(ws.iter().product(), seed as u64 * 2 + 2);
        let (want, os) = reference(&xv, xs, &wv, ws, g);
        for (dtype, tol) in [
            (Dtype::Float64, 1e-12),
            (Dtype::Float32, 1e-5),
            (Dtype::Float16, 4e-3),
            (Dtype::Bfloat16, 3e-2),
        ] {
            let xr: Vec<f64> = xv.iter().map(|&v| round_to(dtype, v)).collect();
            let wr: Vec<f64> = wv.iter().map(|&v| round_to(dtype, v)).collect();
            let (want_r, _) = reference(&xr, xs, &wr, ws, g);
            let y = ops::conv_general(
                &arr(dtype, &xr, xs),
                &arr(dtype, &wr, ws),
                &g.stride,
                &g.lo,
                &g.hi,
                &g.kdil,
                &g.idil,
                g.groups,
                g.flip,
                (),
            )
            .unwrap();
            assert_eq!(y.shape(), &os[..], "case {seed} {dtype}");
            assert_eq!(y.dtype(), dtype);
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            assert_close(&f64s(&y), &want_r, tol * scale);
        }
        // A transposed (strided view) input gives the same result.
        let xt = ops::swapaxes(
            &ops::swapaxes(&arr(Dtype::Float32, &xv, xs), 0, -1, ()).unwrap(),
            0,
            -1,
            (),
        )
        .unwrap();
        let y = ops::conv_general(
            &xt,
            &arr(Dtype::Float32, &wv, ws),
            &g.stride,
            &g.lo,
            &g.hi,
            &g.kdil,
            &g.idil,
            g.groups,
            g.flip,
            (),
        )
        .unwrap();
        assert_close(&f64s(&y), &want, 1e-5);
    }
}

#[test]
fn conv_transpose_is_the_adjoint_of_the_convolution() {
    // <conv(x, w), y> == <x, conv_transpose(y, w')> where w' swaps the channel roles: checks the
    // padding, dilation and stride arithmetic of the transpose without copying its definition.
    let (stride, pad, dil) = (2usize, 1usize, 2usize);
    let xs = [1usize, 11, 3];
    let ws = [4usize, 3, 3];
    let xv = values(33, 7);
    let wv = values(36, 8);
    let y = ops::conv_nd(
        "conv1d",
        &arr(Dtype::Float64, &xv, &xs),
        &arr(Dtype::Float64, &wv, &ws),
        &[stride],
        &[pad],
        &[dil],
        1,
        (),
    )
    .unwrap();
    let ys = y.shape().to_vec();
    let gv = values(ys.iter().product(), 9);
    let lhs: f64 = f64s(&y).iter().zip(&gv).map(|(a, b)| a * b).sum();
    // Weights for the transpose: (C_in, K, C_out), the kernel as is.
    let wt = ops::transpose(&arr(Dtype::Float64, &wv, &ws), Some(&[2, 1, 0]), ()).unwrap();
    let extra = (xs[1] + 2 * pad - dil * (ws[1] - 1) - 1) % stride;
    let xt = ops::conv_transpose_nd(
        "conv_transpose1d",
        &arr(Dtype::Float64, &gv, &ys),
        &wt,
        &[stride],
        &[pad],
        &[dil],
        &[extra],
        1,
        (),
    )
    .unwrap();
    assert_eq!(xt.shape(), &xs[..]);
    let rhs: f64 = f64s(&xt).iter().zip(&xv).map(|(a, b)| a * b).sum();
    assert!(
        (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
        "{lhs} vs {rhs}"
    );
}

#[test]
fn convolve_matches_numpy_modes() {
    let a = [1.0, -2.0, 3.5, 0.5, 4.0];
    let v = [2.0, -1.0, 0.25];
    let full: Vec<f64> = (0..7)
        .map(|k| {
            (0..3)
                .filter(|&j| k >= j && k - j < 5)
                .map(|j| a[k - j] * v[j])
                .sum()
        })
        .collect();
    let run = |mode, x: &[f64], y: &[f64]| {
        f64s(
            &ops::convolve(
                &arr(Dtype::Float64, x, &[x.len()]),
                &arr(Dtype::Float32, y, &[y.len()]),
                mode,
                (),
            )
            .unwrap(),
        )
    };
    assert_close(&run(ops::ConvolveMode::Full, &a, &v), &full, 1e-6);
    assert_close(&run(ops::ConvolveMode::Same, &a, &v), &full[1..6], 1e-6);
    assert_close(&run(ops::ConvolveMode::Valid, &a, &v), &full[2..5], 1e-6);
    // Integer inputs are refused, as MLX refuses them.
    let e = ops::convolve(
        &arr(Dtype::Int32, &a, &[5]),
        &arr(Dtype::Float32, &v, &[3]),
        ops::ConvolveMode::Full,
        (),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::Dtype { .. }) && e.to_string().contains("floating point"),
        "{e}"
    );
    // The longer second argument is swapped in, as NumPy does.
    let swapped = f64s(
        &ops::convolve(
            &arr(Dtype::Float64, &v, &[3]),
            &arr(Dtype::Float64, &a, &[5]),
            ops::ConvolveMode::Full,
            (),
        )
        .unwrap(),
    );
    assert_close(&swapped, &full, 1e-12);
}

#[test]
fn conv_errors_name_the_op_and_shapes() {
    let x = arr(Dtype::Float32, &values(10, 1), &[1, 5, 2]);
    let bad = |r: Result<Array, Error>, kind: fn(&Error) -> bool, text: &str| {
        let e = r.unwrap_err();
        assert!(kind(&e), "{e:?}");
        assert!(
            e.to_string().starts_with("[conv]") && e.to_string().contains(text),
            "{e}"
        );
    };
    let w = |shape: &[usize], dt| arr(dt, &values(shape.iter().product(), 2), shape);
    bad(
        ops::conv_general(
            &x,
            &w(&[3, 3, 3], Dtype::Float32),
            &[1],
            &[0],
            &[0],
            &[1],
            &[1],
            1,
            false,
            (),
        ),
        |e| matches!(e, Error::Shape { .. }),
        "[1, 5, 2]",
    );
    bad(
        ops::conv_general(
            &x,
            &w(&[3, 7, 2], Dtype::Float32),
            &[1],
            &[0],
            &[0],
            &[1],
            &[1],
            1,
            false,
            (),
        ),
        |e| matches!(e, Error::Shape { .. }),
        "smaller than weight",
    );
    bad(
        ops::conv_general(
            &arr(Dtype::Int32, &[1.0; 10], &[1, 5, 2]),
            &w(&[3, 3, 2], Dtype::Float32),
            &[1],
            &[0],
            &[0],
            &[1],
            &[1],
            1,
            false,
            (),
        ),
        |e| matches!(e, Error::Dtype { .. }),
        "int32",
    );
    bad(
        ops::conv_general(
            &arr(Dtype::Float32, &values(20, 3), &[1, 5, 4]),
            &w(&[3, 3, 2], Dtype::Float32),
            &[1],
            &[0],
            &[0],
            &[1],
            &[1],
            2,
            false,
            (),
        ),
        |e| matches!(e, Error::Shape { .. }),
        "divisible",
    );
    bad(
        ops::conv_general(
            &arr(Dtype::Float32, &values(10, 3), &[5, 2]),
            &w(&[3, 2], Dtype::Float32),
            &[1],
            &[0],
            &[0],
            &[1],
            &[1],
            1,
            false,
            (),
        ),
        |e| matches!(e, Error::Shape { .. }),
        "1-3 spatial",
    );
}

#[test]
fn einsum_matches_sums_written_out() {
    let a = values(24, 11); // (2, 3, 4)
    let b = values(20, 12); // (4, 5)
    let s = values(9, 13); // (3, 3)
    let af = arr(Dtype::Float64, &a, &[2, 3, 4]);
    let bf = arr(Dtype::Float64, &b, &[4, 5]);
    let sf = arr(Dtype::Float64, &s, &[3, 3]);
    // ijk,kl->lji
    let mut want = vec![0.0; 5 * 3 * 2];
    for i in 0..2 {
        for j in 0..3 {
            for l in 0..5 {
                want[(l * 3 + j) * 2 + i] =
                    (0..4).map(|k| a[(i * 3 + j) * 4 + k] * b[k * 5 + l]).sum();
            }
        }
    }
    let y = ops::einsum("ijk,kl->lji", &[af.clone(), bf.clone()], ()).unwrap();
    assert_eq!(y.shape(), &[5, 3, 2]);
    assert_close(&f64s(&y), &want, 1e-12);
    // Trace, diagonal, implicit output (sorted letters), a label summed inside one operand.
    assert_close(
        &f64s(&ops::einsum("ii", std::slice::from_ref(&sf), ()).unwrap()),
        &[s[0] + s[4] + s[8]],
        1e-12,
    );
    assert_close(
        &f64s(&ops::einsum("ii->i", std::slice::from_ref(&sf), ()).unwrap()),
        &[s[0], s[4], s[8]],
        1e-12,
    );
    let ji: Vec<f64> = (0..9).map(|e| s[(e % 3) * 3 + e / 3]).collect();
    assert_close(
        &f64s(&ops::einsum("ji", std::slice::from_ref(&sf), ()).unwrap()),
        &ji,
        1e-12,
    );
    let rows: Vec<f64> = (0..2)
        .map(|i| a[i * 12..(i + 1) * 12].iter().sum())
        .collect();
    assert_close(
        &f64s(&ops::einsum("ijk->i", std::slice::from_ref(&af), ()).unwrap()),
        &rows,
        1e-12,
    );
    // Ellipsis broadcasting: (2, 1, 3, 3) x (4, 3, 3) -> (2, 4, 3, 3), a batched matmul.
    let e1 = arr(Dtype::Float64, &values(18, 14), &[2, 1, 3, 3]);
    let e2 = arr(Dtype::Float64, &values(36, 15), &[4, 3, 3]);
    let got = ops::einsum("...ij,...jk->...ik", &[e1.clone(), e2.clone()], ()).unwrap();
    let want = ops::matmul(&e1, &e2, ()).unwrap();
    assert_eq!(got.shape(), want.shape());
    assert_close(&f64s(&got), &f64s(&want), 1e-12);
    // Three operands, contracted in the greedy order.
    let (path, info) = ops::einsum_path("ij,jk,kl->il", &[&[3, 4], &[4, 5], &[5, 2]]).unwrap();
    assert_eq!(path, vec![vec![1, 2], vec![0, 1]]);
    assert!(
        info.contains("Complete contraction:  ij,jk,kl->il"),
        "{info}"
    );
    assert_eq!(
        ops::einsum_path("ij->ji", &[&[3, 4]]).unwrap().0,
        vec![vec![0]]
    );
}

#[test]
fn einsum_errors() {
    let a = arr(Dtype::Float32, &values(12, 1), &[3, 4]);
    let b = arr(Dtype::Float32, &values(15, 2), &[3, 5]);
    for (sub, ops_) in [
        ("ij,jk", vec![a.clone(), b.clone()]),
        ("ij->k", vec![a.clone()]),
        ("ijk", vec![a.clone()]),
        ("ij,jk", vec![a.clone()]),
        ("i1", vec![a.clone()]),
    ] {
        let e = ops::einsum(sub, &ops_, ()).unwrap_err();
        assert!(e.to_string().starts_with("[einsum]"), "{sub}: {e}");
    }
}

#[test]
fn view_reads_the_bytes_as_another_dtype() {
    let v: Vec<f32> = values(12, 3).iter().map(|&x| x as f32).collect();
    let a = Array::from_slice(&v, &[3, 4]).unwrap();
    let bits = ops::view(&a, Dtype::Uint32, ())
        .unwrap()
        .to_vec::<u32>()
        .unwrap();
    assert_eq!(bits, v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    let bytes = ops::view(&a, Dtype::Uint8, ()).unwrap();
    assert_eq!(bytes.shape(), &[3, 16]);
    let want: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(bytes.to_vec::<u8>().unwrap(), want);
    // A transposed view is laid out in its own row-major order first.
    let t = ops::transpose(&a, None, ()).unwrap();
    let tb = ops::view(&t, Dtype::Int32, ())
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    let want_t: Vec<i32> = (0..12)
        .map(|e| v[(e % 3) * 4 + e / 3].to_bits() as i32)
        .collect();
    assert_eq!(tb, want_t);
    let wide = ops::view(&a, Dtype::Float64, ()).unwrap();
    assert_eq!(wide.shape(), &[3, 2]);
    let back = ops::view(&wide, Dtype::Float32, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(back, v);
    let flags = ops::view(
        &Array::from_slice(&[0u8, 2, 1, 0], &[4]).unwrap(),
        Dtype::Bool,
        (),
    )
    .unwrap();
    assert_eq!(
        flags.to_vec::<bool>().unwrap(),
        vec![false, true, true, false]
    );
    assert!(matches!(
        ops::view(
            &ops::reshape(&a, &[-1], ()).unwrap().slice_for_test(),
            Dtype::Float64,
            ()
        ),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        ops::view(
            &Array::from_slice(&[1.0f32], &[]).unwrap(),
            Dtype::Uint8,
            ()
        ),
        Err(Error::Shape { .. })
    ));
}

trait SliceForTest {
    fn slice_for_test(&self) -> Array;
}
impl SliceForTest for Array {
    /// The first 3 elements: 12 bytes, not a whole number of float64s.
    fn slice_for_test(&self) -> Array {
        ops::slice(self, &[0], &[3], &[1], ()).unwrap()
    }
}

#[test]
fn as_strided_walks_the_row_major_elements() {
    let a = ops::arange(0.0, 12.0, 1.0, Some(Dtype::Int32), ()).unwrap();
    let t = ops::transpose(&ops::reshape(&a, &[3, 4], ()).unwrap(), None, ()).unwrap();
    // t in row-major order is [0, 4, 8, 1, 5, 9, ...]; element (i, j) at 1 + i + 2j of that.
    let order: Vec<i32> = (0..12).map(|e| (e % 3) * 4 + e / 3).collect();
    let y = ops::as_strided(&t, Some(&[3, 3]), Some(&[1, 2]), 1, ()).unwrap();
    let want: Vec<i32> = (0..9).map(|e| order[1 + e / 3 + 2 * (e % 3)]).collect();
    assert_eq!(y.to_vec::<i32>().unwrap(), want);
    // Walking outside the input fails when evaluated instead of reading other memory.
    let out = ops::as_strided(&a, Some(&[4]), Some(&[5]), 0, ()).unwrap();
    assert!(out.to_vec::<i32>().is_err());
}

#[test]
fn complex_parts_and_conjugate() {
    let z: Vec<Complex32> = values(8, 4)
        .chunks(2)
        .map(|p| Complex32::new(p[0] as f32, p[1] as f32))
        .collect();
    let a = Array::from_slice(&z, &[4]).unwrap();
    assert_eq!(
        ops::real(&a, ()).unwrap().to_vec::<f32>().unwrap(),
        z.iter().map(|c| c.re).collect::<Vec<_>>()
    );
    assert_eq!(
        ops::imag(&a, ()).unwrap().to_vec::<f32>().unwrap(),
        z.iter().map(|c| c.im).collect::<Vec<_>>()
    );
    assert_eq!(
        ops::conjugate(&a, ())
            .unwrap()
            .to_vec::<Complex32>()
            .unwrap(),
        z.iter().map(|c| c.conj()).collect::<Vec<_>>()
    );
    // Infinities, NaNs and signed zeros keep their values in both parts (products with -i, as an
    // earlier version computed them, made `inf + 0i` NaNs and `-0` zeros positive).
    let parts = [
        0.0f32,
        -0.0,
        2.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    let odd: Vec<Complex32> = parts
        .iter()
        .flat_map(|&re| parts.iter().map(move |&im| Complex32::new(re, im)))
        .collect();
    let o = Array::from_slice(&odd, &[6, 6]).unwrap();
    let same = |x: f32, y: f32| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits();
    let im = ops::imag(&o, ()).unwrap().to_vec::<f32>().unwrap();
    assert!(odd.iter().zip(&im).all(|(z, &v)| same(z.im, v)), "{im:?}");
    let cj = ops::conjugate(&o, ())
        .unwrap()
        .to_vec::<Complex32>()
        .unwrap();
    assert!(
        odd.iter()
            .zip(&cj)
            .all(|(z, c)| same(z.re, c.re) && same(-z.im, c.im)),
        "{cj:?}"
    );
    // A transposed view reads the same numbers.
    let t = ops::transpose(&o, None, ()).unwrap();
    let imt = ops::imag(&t, ()).unwrap().to_vec::<f32>().unwrap();
    assert!((0..36).all(|k| same(imt[k], odd[(k % 6) * 6 + k / 6].im)));
    let i = arr(Dtype::Int16, &[3.0, -4.0], &[2]);
    assert_eq!(ops::real(&i, ()).unwrap().dtype(), Dtype::Int16);
    assert_eq!(
        ops::imag(&i, ()).unwrap().to_vec::<i16>().unwrap(),
        vec![0, 0]
    );
    assert_eq!(
        ops::conjugate(&i, ()).unwrap().to_vec::<i16>().unwrap(),
        vec![3, -4]
    );
}

#[test]
fn unique_values_indices_inverse_and_counts() {
    let v = [2.0, 1.0, 2.0, 3.0, 1.0, -4.0, 3.0, 2.0];
    let a = arr(Dtype::Int32, &v, &[2, 4]);
    let u = ops::unique(&a, 5, Some(&arr(Dtype::Int32, &[0.0], &[])), ()).unwrap();
    assert_eq!(u.values.to_vec::<i32>().unwrap(), vec![-4, 1, 2, 3, 0]);
    assert_eq!(u.index.to_vec::<u32>().unwrap(), vec![5, 1, 0, 3, 5]);
    assert_eq!(u.counts.to_vec::<i32>().unwrap(), vec![1, 2, 3, 2, 0]);
    assert_eq!(u.inverse.shape(), &[2, 4]);
    assert_eq!(
        u.inverse.to_vec::<u32>().unwrap(),
        vec![2, 1, 2, 3, 1, 0, 3, 2]
    );
    // Truncated: the smallest `size` values; the default fill is the smallest.
    let t = ops::unique(&a, 2, None, ()).unwrap();
    assert_eq!(t.values.to_vec::<i32>().unwrap(), vec![-4, 1]);
    assert_eq!(t.counts.to_vec::<i32>().unwrap(), vec![1, 2]);
    let p = ops::unique(&a, 6, None, ()).unwrap();
    assert_eq!(p.values.to_vec::<i32>().unwrap(), vec![-4, 1, 2, 3, -4, -4]);
}

#[test]
fn slice_update_at_offsets_held_in_an_array() {
    let a = arr(Dtype::Float32, &values(12, 5), &[3, 4]);
    let base = a.to_vec::<f32>().unwrap();
    let u = arr(Dtype::Float32, &[10.0, 11.0, 12.0, 13.0], &[2, 2]);
    let start = arr(Dtype::Int32, &[1.0, 2.0], &[2]);
    let y = ops::slice_update_at(&a, &u, &start, &[0, 1], ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut want = base.clone();
    want[6] = 10.0;
    want[7] = 11.0;
    want[10] = 12.0;
    want[11] = 13.0;
    assert_eq!(y, want);
    // An offset past the end is clamped so that the update fits; other axes start at 0.
    let col = arr(Dtype::Float32, &[7.0, 8.0], &[2, 1]);
    let y = ops::slice_update_at(&a, &col, &arr(Dtype::Int64, &[9.0], &[1]), &[0], ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let mut want = base;
    want[4] = 7.0;
    want[8] = 8.0;
    assert_eq!(y, want);
    assert!(matches!(
        ops::slice_update_at(
            &a,
            &arr(Dtype::Float32, &[1.0; 5], &[5]),
            &start,
            &[0, 1],
            ()
        ),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn minmax_is_min_and_max() {
    let a = arr(Dtype::Float32, &values(12, 6), &[3, 4]);
    let (lo, hi) = ops::minmax(&a, Some(&[1]), true, ()).unwrap();
    assert_eq!(lo.shape(), &[3, 1]);
    assert_eq!(
        lo.to_vec::<f32>().unwrap(),
        ops::min(&a, Some(&[1]), true, ())
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    );
    assert_eq!(
        hi.to_vec::<f32>().unwrap(),
        ops::max(&a, Some(&[1]), true, ())
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
    );
}
