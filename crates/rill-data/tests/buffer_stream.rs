//! Buffers, streams and the shared transforms, each against the plain computation written here.

mod common;

use common::*;
use rill_data::{BatchSpec, Buffer, Error, HostArray, Sample, Stream, Transforms};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn buffer_indexing_perm_partition_append() {
    let b = Buffer::from_vec(counting(7));
    assert_eq!(b.len(), 7);
    assert_eq!(vals(&b.get(-1).unwrap(), "x"), vec![6]);
    assert_eq!(vals(&b.get(-7).unwrap(), "x"), vec![0]);
    for bad in [7, -8] {
        let e = b.get(bad).unwrap_err();
        assert!(
            matches!(e, Error::Index { index, len: 7, .. } if index == bad),
            "{e}"
        );
    }
    let p = b.perm(&[3, -1, 0, 3]).unwrap();
    assert_eq!(xs(&p.to_stream().collect().unwrap()), vec![3, 6, 0, 3]);
    assert!(b.perm(&[7]).is_err());
    for (n, i) in [(3, 0), (3, 1), (3, 2), (2, 1), (1, 0)] {
        let part = b.partition(n, i).unwrap();
        let want: Vec<i32> = (0..7).filter(|x| x % n as i32 == i as i32).collect();
        assert_eq!(xs(&part.to_stream().collect().unwrap()), want);
    }
    assert!(b.partition(2, 2).is_err());
    let a = b.append(&Buffer::from_vec(counting(2)));
    assert_eq!(
        xs(&a.to_stream().collect().unwrap()),
        vec![0, 1, 2, 3, 4, 5, 6, 0, 1]
    );
}

#[test]
fn shuffle_is_a_permutation_reproducible_from_its_seed() {
    let b = Buffer::from_vec(counting(50));
    let s1 = xs(&b.shuffle(1).to_stream().collect().unwrap());
    let s1again = xs(&b.shuffle(1).to_stream().collect().unwrap());
    let s2 = xs(&b.shuffle(2).to_stream().collect().unwrap());
    assert_eq!(s1, s1again);
    assert_ne!(s1, s2);
    assert_ne!(s1, (0..50).collect::<Vec<_>>());
    let mut sorted = s1.clone();
    sorted.sort();
    assert_eq!(sorted, (0..50).collect::<Vec<_>>());

    // A stream's shuffle buffer: a permutation, each sample at most `size - 1` places early, the
    // same for the same seed, a new (reproducible) order after reset.
    let mk = |seed| Stream::from_vec(counting(100)).shuffle(8, seed).unwrap();
    let st = mk(5);
    let a = xs(&st.collect().unwrap());
    st.reset().unwrap();
    let a2 = xs(&st.collect().unwrap());
    let st_b = mk(5);
    assert_eq!(a, xs(&st_b.collect().unwrap()));
    st_b.reset().unwrap();
    assert_eq!(a2, xs(&st_b.collect().unwrap()));
    assert_ne!(a, a2);
    assert_ne!(a, xs(&mk(6).collect().unwrap()));
    for v in [&a, &a2] {
        let mut s = v.clone();
        s.sort();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
        for (pos, &x) in v.iter().enumerate() {
            assert!((x as usize) < pos + 8, "sample {x} came out at {pos}");
        }
    }
}

#[test]
fn shared_transforms_match_plain_computations() {
    let mut rng = Lcg(11);
    let samples: Vec<Sample> = (0..20)
        .map(|_| {
            let r = 1 + rng.below(3);
            let c = rng.below(6);
            let v: Vec<i32> = (0..r * c).map(|_| rng.below(100) as i32).collect();
            sample(&[("a", i32s(&v, &[r, c])), ("b", scalar(1))])
        })
        .collect();
    let b = Buffer::from_vec(samples.clone());
    let each =
        |p: &Buffer| -> Vec<Sample> { (0..p.len()).map(|i| p.get(i as i64).unwrap()).collect() };

    // pad along dim 1 (and -1): reference by rows.
    let padded = each(&b.pad("a", -1, 2, 1, -5.0));
    for (s, p) in samples.iter().zip(&padded) {
        let (r, c) = (s["a"].shape()[0], s["a"].shape()[1]);
        let v = vals(s, "a");
        let mut want = Vec::new();
        for i in 0..r {
            want.extend([-5, -5]);
            want.extend_from_slice(&v[i * c..(i + 1) * c]);
            want.push(-5);
        }
        assert_eq!(p["a"].shape(), &[r, c + 3]);
        assert_eq!(vals(p, "a"), want);
        assert_eq!(vals(p, "b"), vec![1]);
    }
    // pad_to_size along dim 0 (a longer array stays as it is), pad_to_multiple along dim 1.
    for (s, p) in samples.iter().zip(each(&b.pad_to_size("a", 0, 2, 9.0))) {
        let (r, c) = (s["a"].shape()[0], s["a"].shape()[1]);
        let mut want = vals(s, "a");
        want.extend(vec![9; 2usize.saturating_sub(r) * c]);
        assert_eq!(p["a"].shape(), &[r.max(2), c]);
        assert_eq!(vals(&p, "a"), want);
    }
    for (s, p) in samples
        .iter()
        .zip(each(&b.pad_to_multiple("a", 1, 4, 0.0).unwrap()))
    {
        let c = s["a"].shape()[1];
        assert_eq!(p["a"].shape()[1], c.div_ceil(4) * 4);
    }
    assert!(b.pad_to_multiple("a", 1, 0, 0.0).is_err());
    // shape, squeeze, filter_by_shape (inclusive bounds), filter_key, rename_key.
    for (s, p) in samples
        .iter()
        .zip(each(&b.shape("a", "sh", None).shape("a", "c", Some(-1))))
    {
        let sh: Vec<i64> = s["a"].shape().iter().map(|&n| n as i64).collect();
        assert_eq!(p["sh"].to_vec::<i64>().unwrap(), sh);
        assert_eq!(p["c"].to_vec::<i64>().unwrap(), vec![sh[1]]);
        assert_eq!(p["c"].shape(), &[] as &[usize]);
    }
    let col = Buffer::from_vec(vec![sample(&[("a", i32s(&[1, 2, 3], &[1, 3, 1]))])]);
    assert_eq!(col.squeeze("a", None).get(0).unwrap()["a"].shape(), &[3]);
    assert_eq!(
        col.squeeze("a", Some(-1)).get(0).unwrap()["a"].shape(),
        &[1, 3]
    );
    let e = col.squeeze("a", Some(1)).get(0).unwrap_err();
    assert!(
        e.to_string().contains("squeeze") && e.to_string().contains("'a'"),
        "{e}"
    );
    let kept = b
        .to_stream()
        .filter_by_shape("a", 1, Some(2), Some(4))
        .collect()
        .unwrap();
    let want: Vec<Vec<i32>> = samples
        .iter()
        .filter(|s| (2..=4).contains(&s["a"].shape()[1]))
        .map(|s| vals(s, "a"))
        .collect();
    assert!(!want.is_empty() && want.len() < samples.len());
    assert_eq!(kept.iter().map(|s| vals(s, "a")).collect::<Vec<_>>(), want);
    let only_b = b.filter_key(&["b"], false).get(0).unwrap();
    assert_eq!(only_b.keys().collect::<Vec<_>>(), vec!["b"]);
    let no_b = b.filter_key(&["b"], true).get(0).unwrap();
    assert_eq!(no_b.keys().collect::<Vec<_>>(), vec!["a"]);
    let e = b.filter_key(&["nope"], false).get(3).unwrap_err();
    assert!(
        matches!(&e, Error::MissingKey { key, index: 3, .. } if key == "nope"),
        "{e}"
    );
    let r = b.rename_key("a", "z").get(0).unwrap();
    assert_eq!(r.keys().collect::<Vec<_>>(), vec!["b", "z"]);
    assert!(b.rename_key("q", "z").get(0).is_err());
}

#[test]
fn callbacks_run_and_their_errors_name_the_sample() {
    let double: rill_data::KeyFn =
        Arc::new(|a: &HostArray| -> Result<HostArray, rill_data::BoxError> {
            let v: Vec<i32> = a.to_vec::<i32>().unwrap().iter().map(|x| x * 2).collect();
            Ok(HostArray::from_slice(&v, a.shape()).unwrap())
        });
    let st = Stream::from_vec(counting(5)).key_transform("x", "y", double);
    let out = st.collect().unwrap();
    assert_eq!(xs(&out), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        out.iter().map(|s| vals(s, "y")[0]).collect::<Vec<_>>(),
        vec![0, 2, 4, 6, 8]
    );

    let fail: rill_data::SampleFn = Arc::new(|s: Sample| -> Result<Sample, rill_data::BoxError> {
        if vals(&s, "x")[0] == 3 {
            Err(Arc::new(std::io::Error::other("three is bad")) as rill_data::BoxError)
        } else {
            Ok(s)
        }
    });
    let st = Stream::from_vec(counting(6)).sample_transform(fail);
    let mut got = Vec::new();
    let mut errors = Vec::new();
    loop {
        match st.next() {
            Ok(Some(s)) => got.push(vals(&s, "x")[0]),
            Ok(None) => break,
            Err(e) => errors.push(e.to_string()),
        }
    }
    assert_eq!(got, vec![0, 1, 2, 4, 5]);
    assert_eq!(
        errors,
        vec!["sample_transform: sample 3: three is bad".to_string()]
    );
}

#[test]
fn stream_batch_repeat_partition_window_reset() {
    let st = Stream::from_vec(counting(10))
        .batch(4, BatchSpec::default())
        .unwrap();
    let b = st.collect().unwrap();
    assert_eq!(
        b.iter().map(|s| vals(s, "x")).collect::<Vec<_>>(),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
    );
    assert!(st.next().unwrap().is_none());
    st.reset().unwrap();
    assert_eq!(st.collect().unwrap().len(), 3);

    // mlx-data's count: repeat(n) restarts n times.
    let r = Stream::from_vec(counting(3)).repeat(2);
    assert_eq!(xs(&r.collect().unwrap()), vec![0, 1, 2, 0, 1, 2, 0, 1, 2]);
    let forever = Stream::from_vec(counting(3)).repeat(0);
    let first: Vec<i32> = (0..10)
        .map(|_| vals(&forever.next().unwrap().unwrap(), "x")[0])
        .collect();
    assert_eq!(first, vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    assert!(Stream::from_vec(vec![]).repeat(0).next().unwrap().is_none());

    let p = Stream::from_vec(counting(10)).partition(3, 1).unwrap();
    assert_eq!(xs(&p.collect().unwrap()), vec![1, 4, 7]);

    // Windows as mlx-data makes them (starts every stride while inside; the last ones shorter).
    for (n, size, stride) in [
        (7usize, 3usize, 2usize),
        (6, 3, 2),
        (5, 3, 3),
        (2, 3, 1),
        (7, 3, 4),
    ] {
        let v: Vec<i32> = (0..n as i32).collect();
        let s = sample(&[("x", i32s(&v, &[n])), ("y", scalar(9))]);
        let w = Stream::from_vec(vec![s])
            .sliding_window("x", size, stride, -1)
            .unwrap();
        let got: Vec<Vec<i32>> = w.collect().unwrap().iter().map(|s| vals(s, "x")).collect();
        let want: Vec<Vec<i32>> = (0..n)
            .step_by(stride)
            .map(|st| v[st..(st + size).min(n)].to_vec())
            .collect();
        assert_eq!(got, want, "{n} {size} {stride}");
    }
    let m = sample(&[("x", i32s(&(0..12).collect::<Vec<_>>(), &[3, 4]))]);
    let w = Stream::from_vec(vec![m])
        .sliding_window("x", 2, 2, 1)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(vals(&w[0], "x"), vec![0, 1, 4, 5, 8, 9]);
    assert_eq!(vals(&w[1], "x"), vec![2, 3, 6, 7, 10, 11]);
}

/// A transform that sleeps a random while, so that worker threads finish out of order.
fn jittery(seed: u64) -> rill_data::SampleFn {
    let n = Arc::new(AtomicUsize::new(seed as usize));
    Arc::new(move |s: Sample| -> Result<Sample, rill_data::BoxError> {
        let k = n.fetch_add(7919, Ordering::Relaxed);
        std::thread::sleep(Duration::from_micros((k % 5 * 300) as u64));
        Ok(s)
    })
}

#[test]
fn prefetch_keeps_the_multiset_and_ordered_prefetch_the_order() {
    let n = 60;
    let src = || {
        Buffer::from_vec(counting(n))
            .to_stream()
            .sample_transform(jittery(1))
    };
    let un = src().prefetch(8, 4).unwrap();
    let mut got = xs(&un.collect().unwrap());
    got.sort();
    assert_eq!(got, (0..n).collect::<Vec<_>>());

    let ord = src().ordered_prefetch(8, 4).unwrap();
    assert_eq!(xs(&ord.collect().unwrap()), (0..n).collect::<Vec<_>>());
    ord.reset().unwrap();
    assert_eq!(xs(&ord.collect().unwrap()), (0..n).collect::<Vec<_>>());

    // A buffer's ordered prefetch, with a filter in the pipeline: order kept, filtered left out.
    let b = Buffer::from_vec(counting(n))
        .sample_transform(jittery(2))
        .sample_transform(Arc::new(
            |s: Sample| -> Result<Sample, rill_data::BoxError> {
                Ok(if vals(&s, "x")[0] % 3 == 0 {
                    Sample::new()
                } else {
                    s
                })
            },
        ));
    let o = b.ordered_prefetch(4, 3).unwrap();
    assert_eq!(
        xs(&o.collect().unwrap()),
        (0..n).filter(|x| x % 3 != 0).collect::<Vec<_>>()
    );

    // Batches through prefetch: each batch is 4 consecutive samples; all batches arrive.
    let bp = Buffer::from_vec(counting(n))
        .to_stream()
        .batch(4, BatchSpec::default())
        .unwrap()
        .prefetch(3, 3)
        .unwrap();
    let mut batches: Vec<Vec<i32>> = bp.collect().unwrap().iter().map(|s| vals(s, "x")).collect();
    batches.sort();
    let want: Vec<Vec<i32>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.to_vec())
        .collect();
    assert_eq!(batches, want);
    bp.reset().unwrap();
    assert_eq!(bp.collect().unwrap().len(), want.len());
}

#[test]
fn a_failing_sample_is_reported_through_prefetch_not_dropped() {
    let fail: rill_data::SampleFn = Arc::new(|s: Sample| -> Result<Sample, rill_data::BoxError> {
        if vals(&s, "x")[0] == 17 {
            Err(Arc::new(std::io::Error::other("bad")) as rill_data::BoxError)
        } else {
            Ok(s)
        }
    });
    for ordered in [false, true] {
        let st = Stream::from_vec(counting(40)).sample_transform(fail.clone());
        let st = if ordered {
            st.ordered_prefetch(4, 3)
        } else {
            st.prefetch(4, 3)
        }
        .unwrap();
        let (mut ok, mut errs) = (Vec::new(), Vec::new());
        loop {
            match st.next() {
                Ok(Some(s)) => ok.push(vals(&s, "x")[0]),
                Ok(None) => break,
                Err(e) => errs.push(e.to_string()),
            }
        }
        ok.sort();
        assert_eq!(ok, (0..40).filter(|&x| x != 17).collect::<Vec<_>>());
        assert_eq!(
            errs,
            vec!["sample_transform: sample 17: bad".to_string()],
            "ordered {ordered}"
        );
    }
}

#[test]
fn dropping_a_prefetching_stream_midway_stops_its_threads() {
    let st = Stream::from_vec(counting(1000))
        .repeat(0)
        .prefetch(2, 2)
        .unwrap();
    for _ in 0..5 {
        assert!(st.next().unwrap().is_some());
    }
    drop(st);
    let st = Stream::from_vec(counting(1000))
        .repeat(0)
        .ordered_prefetch(2, 2)
        .unwrap();
    assert_eq!(vals(&st.next().unwrap().unwrap(), "x"), vec![0]);
    st.reset().unwrap();
    assert_eq!(vals(&st.next().unwrap().unwrap(), "x"), vec![0]);
}

#[test]
fn a_pipeline_with_a_seed_gives_the_same_batches_every_time() {
    let run = |seed| -> Vec<Vec<i32>> {
        let b = Buffer::from_vec(counting(64)).shuffle(seed);
        let st = b
            .to_stream()
            .shuffle(10, seed)
            .unwrap()
            .batch(8, BatchSpec::default())
            .unwrap()
            .ordered_prefetch(4, 4)
            .unwrap();
        st.collect().unwrap().iter().map(|s| vals(s, "x")).collect()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    let all: BTreeSet<i32> = run(3).concat().into_iter().collect();
    assert_eq!(all, (0..64).collect());
}

#[test]
fn progress_passes_the_samples_through_and_keeps_the_position() {
    let make = || {
        Buffer::from_vec(counting(30))
            .to_stream()
            .batch(4, BatchSpec::default())
            .unwrap()
            .progress(Some(8), "test")
    };
    let got: Vec<Vec<i32>> = make()
        .collect()
        .unwrap()
        .iter()
        .map(|b| vals(b, "x"))
        .collect();
    let want: Vec<Vec<i32>> = (0..30)
        .collect::<Vec<i32>>()
        .chunks(4)
        .map(|c| c.to_vec())
        .collect();
    assert_eq!(got, want);
    let first = make();
    first.next().unwrap();
    first.next().unwrap();
    let second = make();
    second.restore(&first.state().unwrap()).unwrap();
    let tail: Vec<Vec<i32>> = second
        .collect()
        .unwrap()
        .iter()
        .map(|b| vals(b, "x"))
        .collect();
    assert_eq!(tail, want[2..]);
    // Reset starts the count and the stream again.
    let st = Buffer::from_vec(counting(5)).to_stream().progress(None, "");
    assert_eq!(xs(&st.collect().unwrap()), vec![0, 1, 2, 3, 4]);
    st.reset().unwrap();
    assert_eq!(xs(&st.collect().unwrap()), vec![0, 1, 2, 3, 4]);
}
