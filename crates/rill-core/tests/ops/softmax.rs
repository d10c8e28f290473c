//! softmax against an f64 reference computed here: every axes form, dtype family and layout,
//! stability on large inputs, and the parallel paths.

use crate::reduce_support::*;
use rill_core::half::{bf16, f16};
use rill_core::num_complex::Complex32;
use rill_core::{ops, Array, Dtype, Error};

fn f32_array(data: &[f64], shape: &[usize]) -> Array {
    Array::from_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape).unwrap()
}

/// softmax of row-major `data` over `axes`, in f64, by the textbook formula with the max shifted
/// out (exp(x - max) / sum).
fn reference(data: &[f64], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let kshape = out_shape(shape, axes, true);
    let key = |flat: usize| {
        let mut idx = unravel(flat, shape);
        for &a in axes {
            idx[a] = 0;
        }
        ravel(&idx, &kshape)
    };
    let mut max = vec![f64::NEG_INFINITY; numel(&kshape)];
    for (f, &v) in data.iter().enumerate() {
        max[key(f)] = max[key(f)].max(v);
    }
    let mut sum = vec![0.0; numel(&kshape)];
    for (f, &v) in data.iter().enumerate() {
        sum[key(f)] += (v - max[key(f)]).exp();
    }
    data.iter()
        .enumerate()
        .map(|(f, &v)| (v - max[key(f)]).exp() / sum[key(f)])
        .collect()
}

#[track_caller]
fn check(a: &Array, data: &[f64], axes: Option<&[isize]>, rtol: f64) {
    let ctx = format!("softmax of {:?} {:?} over {axes:?}", a.dtype(), a.shape());
    for precise in [false, true] {
        let y = ops::softmax(a, axes, precise, ()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(y.shape(), a.shape(), "{ctx}");
        let want = reference(data, a.shape(), &norm_axes(axes, a.ndim()));
        assert_close(&y.to_vec::<f64>().unwrap(), &want, rtol, 1e-7, &ctx);
    }
}

const AXES: [Option<&[isize]>; 8] = [
    None,
    Some(&[0]),
    Some(&[1]),
    Some(&[2]),
    Some(&[-1]),
    Some(&[0, 2]),
    Some(&[1, 2]),
    Some(&[-3, -2]),
];

#[test]
fn float32_softmax_matches_f64_for_every_axes_form() {
    let shape = [3, 4, 5];
    let data = uniform(1, numel(&shape), -4.0, 4.0);
    let a = f32_array(&data, &shape);
    for axes in AXES {
        check(&a, &data, axes, 2e-6);
    }
    // Rows sum to one.
    let y = ops::softmax(&a, Some(&[-1]), false, ()).unwrap();
    let sums = ops::sum(&y, Some(&[-1]), false, ())
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert_close(&sums, &[1.0; 12], 1e-6, 0.0, "row sums");
}

#[test]
fn softmax_is_stable_for_large_and_infinite_inputs() {
    // exp(1000) overflows; softmax is shift-invariant and must not care.
    let data = [1000.0, 1001.0, 999.0, -1000.0, -1001.0, -999.0];
    let a = f32_array(&data, &[2, 3]);
    check(&a, &data, Some(&[1]), 1e-6);
    let inf = f64::INFINITY;
    let data = [-inf, 0.0, 1.0, -inf];
    let y = ops::softmax(&f32_array(&data, &[4]), None, false, ())
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert_close(&y, &reference(&data, &[4], &[0]), 1e-6, 0.0, "-inf entries");
    assert_eq!(y[0], 0.0);
    // All -inf (or a NaN) gives NaN, as MLX.
    let y = ops::softmax(&f32_array(&[-inf, -inf], &[2]), None, false, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
    let y = ops::softmax(&f32_array(&[f64::NAN, 1.0], &[2]), None, false, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
}

#[test]
fn softmax_dtypes_and_families() {
    // Integers and bool give float32.
    for dt in [
        Dtype::Bool,
        Dtype::Uint8,
        Dtype::Int16,
        Dtype::Int32,
        Dtype::Uint64,
        Dtype::Int64,
    ] {
        let data = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let a = ops::astype(&f32_array(&data, &[2, 3]), dt, ()).unwrap();
        let y = ops::softmax(&a, Some(&[1]), false, ()).unwrap();
        assert_eq!(y.dtype(), Dtype::Float32, "{dt}");
        assert_close(
            &y.to_vec::<f64>().unwrap(),
            &reference(&data, &[2, 3], &[1]),
            1e-6,
            0.0,
            &format!("{dt}"),
        );
    }
    // float16/bfloat16 compute in f32 and round once; float64 to f64 rounding.
    let shape = [4, 6, 50];
    let data = uniform(2, numel(&shape), -6.0, 6.0);
    let h: Vec<f16> = data.iter().map(|&v| f16::from_f64(v)).collect();
    let hd: Vec<f64> = h.iter().map(|v| v.to_f64()).collect();
    let b: Vec<bf16> = data.iter().map(|&v| bf16::from_f64(v)).collect();
    let bd: Vec<f64> = b.iter().map(|v| v.to_f64()).collect();
    let ha = Array::from_slice(&h, &shape).unwrap();
    let ba = Array::from_slice(&b, &shape).unwrap();
    let da = Array::from_slice(&data, &shape).unwrap();
    for axes in AXES {
        check(&ha, &hd, axes, 1e-3);
        check(&ba, &bd, axes, 8e-3);
        check(&da, &data, axes, 1e-13);
    }
    assert_eq!(
        ops::softmax(&ha, None, true, ()).unwrap().dtype(),
        Dtype::Float16
    );
    assert_eq!(
        ops::softmax(&ba, None, false, ()).unwrap().dtype(),
        Dtype::Bfloat16
    );
    // complex64: exp(z - max) / sum with the lexicographic max; NumPy gives these values.
    let z = [
        Complex32::new(1.0, 2.0),
        Complex32::new(1.0, 3.0),
        Complex32::new(0.5, 9.0),
        Complex32::new(3.0, -1.0),
    ];
    let y = ops::softmax(&Array::from_slice(&z, &[4]).unwrap(), None, false, ()).unwrap();
    assert_eq!(y.dtype(), Dtype::Complex64);
    let want = [
        (-0.187_798_47, -0.006_964_82),
        (-0.095_607_25, -0.161_790_07),
        (-0.083_098_28, -0.078_019_18),
        (1.366_504, 0.246_774_08),
    ];
    for (g, w) in y.to_vec::<Complex32>().unwrap().iter().zip(want) {
        assert!((g - Complex32::new(w.0, w.1)).norm() < 1e-5, "{g} vs {w:?}");
    }
}

#[test]
fn softmax_of_strided_views() {
    let shape = [5, 8, 6];
    let data = uniform(3, numel(&shape), -3.0, 3.0);
    let a = f32_array(&data, &shape);
    let t = ops::transpose(&a, Some(&[2, 0, 1]), ()).unwrap();
    let (td, _) = permute(&data, &shape, &[2, 0, 1]);
    let row = uniform(4, 6, -3.0, 3.0);
    let b = ops::broadcast_to(&f32_array(&row, &[6]), &[4, 3, 6], ()).unwrap();
    let bd = broadcast(&row, &[6], &[4, 3, 6]);
    let r = ops::slice(&a, &[4], &[-6], &[-1], ()).unwrap();
    let rd = reverse_axis(&data, &shape, 0);
    for axes in AXES {
        check(&t, &td, axes, 2e-6);
        check(&b, &bd, axes, 2e-6);
        check(&r, &rd, axes, 2e-6);
    }
}

#[test]
fn large_softmax_takes_the_parallel_paths_correctly() {
    let shape = [300, 1000];
    let data = uniform(5, numel(&shape), -10.0, 10.0);
    let a = f32_array(&data, &shape);
    check(&a, &data, Some(&[1]), 1e-5);
    check(&a, &data, Some(&[0]), 1e-5);
    // One long line.
    let data = uniform(6, 200_000, -10.0, 10.0);
    check(&f32_array(&data, &[200_000]), &data, None, 1e-5);
}

#[test]
fn softmax_edge_cases_and_errors() {
    // Over no axis every element is its own group.
    let a = f32_array(&[1.0, 2.0, 3.0], &[3]);
    assert_eq!(
        ops::softmax(&a, Some(&[]), false, ())
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        vec![1.0; 3]
    );
    assert_eq!(
        ops::softmax(&Array::scalar(3.0f32), None, false, ())
            .unwrap()
            .item::<f32>()
            .unwrap(),
        1.0
    );
    let e = ops::zeros(&[0, 3], Dtype::Float32, ()).unwrap();
    assert_eq!(
        ops::softmax(&e, Some(&[0]), false, ()).unwrap().shape(),
        &[0, 3]
    );
    assert!(ops::softmax(&e, Some(&[1]), false, ())
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .is_empty());
    let err = ops::softmax(&a, Some(&[1]), false, ()).unwrap_err();
    assert!(matches!(err, Error::Axis { op: "softmax", .. }), "{err:?}");
    let err = ops::softmax(&a, Some(&[0, -1]), false, ()).unwrap_err();
    assert!(
        matches!(err, Error::Argument { op: "softmax", .. }),
        "{err:?}"
    );
}
