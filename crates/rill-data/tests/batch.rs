//! Batching against a reference computed here element by element: ragged shapes padded to the
//! largest, stacking and concatenating, every dtype; and the errors.

mod common;

use common::*;
use rill_core::half::{bf16, f16};
use rill_data::{batch_samples, BatchSpec, Buffer, Dtype, Error, HostArray, Sample};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Reference: stack arrays of rank 2 (shapes given), padding with `pad`.
fn stack_ref(arrays: &[(Vec<usize>, Vec<f64>)], pad: f64) -> (Vec<usize>, Vec<f64>) {
    let r = arrays.iter().map(|(s, _)| s[0]).max().unwrap();
    let c = arrays.iter().map(|(s, _)| s[1]).max().unwrap();
    let mut out = vec![pad; arrays.len() * r * c];
    for (b, (s, v)) in arrays.iter().enumerate() {
        for i in 0..s[0] {
            for j in 0..s[1] {
                out[b * r * c + i * c + j] = v[i * s[1] + j];
            }
        }
    }
    (vec![arrays.len(), r, c], out)
}

fn as_f64(a: &HostArray) -> Vec<f64> {
    match a.dtype() {
        Dtype::Float32 => a
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Dtype::Float16 => a
            .to_vec::<f16>()
            .unwrap()
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        Dtype::Bfloat16 => a
            .to_vec::<bf16>()
            .unwrap()
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        Dtype::Int64 => a
            .to_vec::<i64>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Dtype::Uint8 => a
            .to_vec::<u8>()
            .unwrap()
            .iter()
            .map(|&x| x as f64)
            .collect(),
        Dtype::Bool => a
            .to_vec::<bool>()
            .unwrap()
            .iter()
            .map(|&x| x as u8 as f64)
            .collect(),
        d => panic!("no reader for {d}"),
    }
}

fn make(dtype: Dtype, v: &[f64], shape: &[usize]) -> HostArray {
    let a = match dtype {
        Dtype::Float32 => {
            HostArray::from_slice(&v.iter().map(|&x| x as f32).collect::<Vec<_>>(), shape)
        }
        Dtype::Float16 => HostArray::from_slice(
            &v.iter().map(|&x| f16::from_f64(x)).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::Bfloat16 => HostArray::from_slice(
            &v.iter().map(|&x| bf16::from_f64(x)).collect::<Vec<_>>(),
            shape,
        ),
        Dtype::Int64 => {
            HostArray::from_slice(&v.iter().map(|&x| x as i64).collect::<Vec<_>>(), shape)
        }
        Dtype::Uint8 => {
            HostArray::from_slice(&v.iter().map(|&x| x as u8).collect::<Vec<_>>(), shape)
        }
        Dtype::Bool => {
            HostArray::from_slice(&v.iter().map(|&x| x != 0.0).collect::<Vec<_>>(), shape)
        }
        d => panic!("no maker for {d}"),
    };
    a.unwrap()
}

#[test]
fn ragged_batches_of_every_kind_match_the_reference() {
    let mut rng = Lcg(7);
    for dtype in [
        Dtype::Float32,
        Dtype::Float16,
        Dtype::Bfloat16,
        Dtype::Int64,
        Dtype::Uint8,
        Dtype::Bool,
    ] {
        for trial in 0..5 {
            let n = 1 + rng.below(5);
            let pad = if dtype == Dtype::Bool {
                1.0
            } else {
                (trial as f64) - 2.0
            };
            let pad = if dtype == Dtype::Uint8 {
                pad.abs()
            } else {
                pad
            };
            let arrays: Vec<(Vec<usize>, Vec<f64>)> = (0..n)
                .map(|_| {
                    let s = vec![rng.below(4), 1 + rng.below(3)];
                    let v = (0..s[0] * s[1])
                        .map(|_| {
                            if dtype == Dtype::Bool {
                                rng.below(2) as f64
                            } else {
                                rng.below(50) as f64
                            }
                        })
                        .collect();
                    (s, v)
                })
                .collect();
            let samples: Vec<(usize, Sample)> = arrays
                .iter()
                .enumerate()
                .map(|(i, (s, v))| (i, sample(&[("a", make(dtype, v, s))])))
                .collect();
            let spec = BatchSpec {
                pad: HashMap::from([("a".to_string(), pad)]),
                dim: HashMap::new(),
            };
            let b = batch_samples(&samples, &spec).unwrap();
            let (shape, want) = stack_ref(&arrays, pad);
            assert_eq!(b["a"].shape(), &shape[..], "{dtype}");
            assert_eq!(b["a"].dtype(), dtype);
            assert_eq!(as_f64(&b["a"]), want, "{dtype} trial {trial}");
        }
    }
}

#[test]
fn concatenating_along_a_dim_pads_the_other_dims() {
    // [[1, 2]] (1x2) and [[3], [4]] (2x1) along dim 0 with pad -1: 3x2.
    let s0 = sample(&[("a", i32s(&[1, 2], &[1, 2]))]);
    let s1 = sample(&[("a", i32s(&[3, 4], &[2, 1]))]);
    let spec = BatchSpec {
        pad: HashMap::from([("a".to_string(), -1.0)]),
        dim: HashMap::from([("a".to_string(), 0)]),
    };
    let b = batch_samples(&[(0, s0.clone()), (1, s1.clone())], &spec).unwrap();
    assert_eq!(b["a"].shape(), &[3, 2]);
    assert_eq!(vals(&b, "a"), vec![1, 2, 3, -1, 4, -1]);
    // Along the last dim (-1): 2x3.
    let spec = BatchSpec {
        pad: HashMap::new(),
        dim: HashMap::from([("a".to_string(), -1)]),
    };
    let b = batch_samples(&[(0, s0), (1, s1)], &spec).unwrap();
    assert_eq!(b["a"].shape(), &[2, 3]);
    assert_eq!(vals(&b, "a"), vec![1, 2, 3, 0, 0, 4]);
}

#[test]
fn batch_errors_name_the_key_and_the_sample() {
    let b = Buffer::from_vec(vec![
        sample(&[("x", scalar(0)), ("y", scalar(0))]),
        sample(&[("x", scalar(1))]),
    ]);
    let e = b
        .batch(2, BatchSpec::default())
        .unwrap()
        .get(0)
        .unwrap_err();
    match &e {
        Error::MissingKey { key, index, .. } => assert_eq!((key.as_str(), *index), ("y", 1)),
        other => panic!("{other}"),
    }
    assert!(
        e.to_string().contains("'y'") && e.to_string().contains("sample 1"),
        "{e}"
    );

    let b = Buffer::from_vec(vec![
        sample(&[("x", i32s(&[1, 2], &[2]))]),
        sample(&[("x", i32s(&[1, 2], &[1, 2]))]),
        sample(&[("x", i32s(&[1, 2, 3], &[3]))]),
    ]);
    let e = b
        .to_stream()
        .batch(3, BatchSpec::default())
        .unwrap()
        .next()
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("'x'") && msg.contains("sample 1") && msg.contains("[1, 2]"),
        "{msg}"
    );

    let mixed = Buffer::from_vec(vec![
        sample(&[("x", scalar(1))]),
        sample(&[("x", HostArray::from_slice(&[1.0f32], &[]).unwrap())]),
    ]);
    let e = mixed
        .batch(2, BatchSpec::default())
        .unwrap()
        .get(0)
        .unwrap_err();
    assert!(
        e.to_string().contains("dtype float32 differs from int32"),
        "{e}"
    );
    assert!(Buffer::from_vec(vec![])
        .batch(0, BatchSpec::default())
        .is_err());
}

#[test]
fn buffer_batches_are_consecutive_and_the_last_is_short() {
    let b = Buffer::from_vec(counting(10))
        .batch(4, BatchSpec::default())
        .unwrap();
    assert_eq!(b.len(), 3);
    assert_eq!(vals(&b.get(0).unwrap(), "x"), vec![0, 1, 2, 3]);
    assert_eq!(vals(&b.get(-1).unwrap(), "x"), vec![8, 9]);
    assert_eq!(b.get(-1).unwrap()["x"].shape(), &[2]);
}

/// `{"x": i}` through a transform that drops the multiples of 3 and records how many of its
/// calls run at once (each sleeps a little, so calls that can overlap do).
fn filtered_stream(
    n: i32,
    in_flight: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
) -> rill_data::Stream {
    use rill_data::Transforms;
    let f: rill_data::SampleFn = Arc::new(move |s: Sample| {
        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(2));
        in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(if vals(&s, "x")[0] % 3 == 0 {
            Sample::new()
        } else {
            s
        })
    });
    Buffer::from_vec(counting(n))
        .to_stream()
        .sample_transform(f)
}

#[test]
fn stream_batches_skip_filtered_samples_and_compute_in_parallel_under_prefetch() {
    let kept: Vec<i32> = (0..100).filter(|i| i % 3 != 0).collect();
    // One puller: consecutive kept samples, full batches, the last one short.
    let zero = || Arc::new(AtomicUsize::new(0));
    let st = filtered_stream(100, zero(), zero())
        .batch(8, BatchSpec::default())
        .unwrap();
    let got: Vec<Vec<i32>> = st.collect().unwrap().iter().map(|b| vals(b, "x")).collect();
    let want: Vec<Vec<i32>> = kept.chunks(8).map(|c| c.to_vec()).collect();
    assert_eq!(got, want);
    // Four pullers: every kept sample exactly once, and the transform's calls overlapping (they
    // run outside the batch's lock). A batch that lost samples to the filter claims more; at the
    // end each puller may be left with a short one (mlx-data's batches behave the same way).
    let most = zero();
    let st = filtered_stream(100, zero(), most.clone())
        .batch(8, BatchSpec::default())
        .unwrap()
        .prefetch(4, 4)
        .unwrap();
    let batches: Vec<Vec<i32>> = st.collect().unwrap().iter().map(|b| vals(b, "x")).collect();
    let short = batches.iter().filter(|b| b.len() < 8).count();
    assert!((1..=4).contains(&short), "{short} short batches");
    let mut all: Vec<i32> = batches.concat();
    all.sort();
    assert_eq!(all, kept);
    assert!(
        most.load(Ordering::SeqCst) > 1,
        "the batches' samples were computed one at a time"
    );
}
