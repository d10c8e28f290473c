//! Saving a stream's position and resuming from it: for pipelines built the same way, the samples
//! after a restore are the tail of an uninterrupted run (compared with that run, element by
//! element), the samples before it are not computed again, and pipelines that cannot resume say
//! so.

mod common;

use common::*;
use rill_data::{
    csv_reader, csv_reader_from_string, line_reader, BatchSpec, Buffer, Error, Sample, SampleFn,
    Stream, Transforms,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A pipeline over a seeded permutation of 0..n: each sample gets `y = x * 10 + (its index in the
/// step)`, multiples of 7 are dropped, then batches of 4, repeated once; `calls` counts the
/// transform's runs.
fn pipeline(n: i32, calls: Arc<AtomicUsize>, prefetch: Option<usize>) -> Stream {
    let f: SampleFn = Arc::new(move |mut s: Sample| {
        calls.fetch_add(1, Ordering::SeqCst);
        let x = vals(&s, "x")[0];
        if x % 7 == 0 {
            return Ok(Sample::new());
        }
        s.insert("y".into(), scalar(x * 10));
        Ok(s)
    });
    let st = Buffer::from_vec(counting(n))
        .shuffle(9)
        .to_stream()
        .sample_transform(f);
    let st = match prefetch {
        Some(t) => st.ordered_prefetch(5, t).unwrap(),
        None => st,
    };
    st.batch(4, BatchSpec::default()).unwrap().repeat(1)
}

fn rows(batches: &[Sample]) -> Vec<Vec<i32>> {
    batches
        .iter()
        .map(|b| [vals(b, "x"), vals(b, "y")].concat())
        .collect()
}

#[test]
fn resuming_after_k_batches_gives_the_tail_without_recomputing_the_head() {
    for prefetch in [None, Some(1), Some(3)] {
        let whole = rows(&pipeline(50, Arc::default(), prefetch).collect().unwrap());
        assert!(whole.len() > 20);
        for k in [0, 1, 5, 12, whole.len() - 1, whole.len()] {
            let first = pipeline(50, Arc::default(), prefetch);
            for _ in 0..k {
                first.next().unwrap().unwrap();
            }
            let state = first.state().unwrap();
            assert!(
                state.len() < 30,
                "a position is a few numbers, not data: {state:?}"
            );
            let calls = Arc::new(AtomicUsize::new(0));
            let second = pipeline(50, calls.clone(), prefetch);
            second.restore(&state).unwrap();
            let tail = rows(&second.collect().unwrap());
            assert_eq!(tail, whole[k..], "prefetch {prefetch:?}, k {k}");
            if prefetch.is_none() {
                // Two passes of 50 samples: only those after the position ran again.
                let done: usize = whole[..k].iter().map(|r| r.len() / 2).sum();
                let dropped_before = calls.load(Ordering::SeqCst);
                assert!(
                    dropped_before <= 100 - done,
                    "{dropped_before} calls after {done} samples"
                );
            }
        }
    }
}

#[test]
fn partitions_and_random_crops_resume_too() {
    let make = || {
        let samples: Vec<Sample> = (0..40)
            .map(|i| {
                let px: Vec<i32> = (0..36).map(|j| i * 100 + j).collect();
                sample(&[("img", i32s(&px, &[6, 6, 1]))])
            })
            .collect();
        Buffer::from_vec(samples)
            .to_stream()
            .partition(3, 1)
            .unwrap()
            .image_random_crop("img", 3, 2, 5, "")
            .batch(2, BatchSpec::default())
            .unwrap()
    };
    let whole: Vec<Vec<i32>> = make()
        .collect()
        .unwrap()
        .iter()
        .map(|b| vals(b, "img"))
        .collect();
    let first = make();
    for _ in 0..3 {
        first.next().unwrap();
    }
    let second = make();
    second.restore(&first.state().unwrap()).unwrap();
    let tail: Vec<Vec<i32>> = second
        .collect()
        .unwrap()
        .iter()
        .map(|b| vals(b, "img"))
        .collect();
    assert_eq!(tail, whole[3..]);
}

/// Builds a reader afresh.
type Maker = Box<dyn Fn() -> Stream>;

fn texts(st: &Stream, key: &str) -> Vec<String> {
    st.collect()
        .unwrap()
        .iter()
        .map(|s| s[key].to_string_lossy().unwrap())
        .collect()
}

#[test]
fn readers_resume_at_a_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(1);
    let lines: Vec<String> = (0..30)
        .map(|i| format!("{i} {}", "é".repeat(rng.below(5))))
        .collect();
    let lpath = dir.path().join("l.txt");
    std::fs::write(&lpath, lines.join("\n") + "\n").unwrap();
    let csv_text = format!(
        "a,b\n{}",
        (0..30)
            .map(|i| format!("{i},\"q,{}\"\n", rng.below(1000)))
            .collect::<String>()
    );
    let cpath = dir.path().join("c.csv");
    std::fs::write(&cpath, &csv_text).unwrap();
    let lp = lpath.to_str().unwrap().to_string();
    let cp = cpath.to_str().unwrap().to_string();
    let makers: Vec<(Maker, &str)> = vec![
        (Box::new(move || line_reader(&lp, "line").unwrap()), "line"),
        (Box::new(move || csv_reader(&cp, b',', b'"').unwrap()), "b"),
        (
            Box::new(move || csv_reader_from_string(&csv_text, b',', b'"').unwrap()),
            "b",
        ),
    ];
    for (make, key) in &makers {
        let whole = texts(&make(), key);
        assert_eq!(whole.len(), 30);
        for k in [0, 1, 17, 30] {
            let first = make();
            for _ in 0..k {
                first.next().unwrap().unwrap();
            }
            let second = make();
            second.restore(&first.state().unwrap()).unwrap();
            assert_eq!(texts(&second, key), whole[k..], "{key} after {k}");
        }
    }
}

#[test]
fn pipelines_that_cannot_resume_say_why() {
    let st = Stream::from_vec(counting(10));
    let refuse = |s: Stream, what: &str| match s.state() {
        Err(Error::Argument { op, detail }) => {
            assert_eq!(op, "state");
            assert!(detail.contains(what), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    refuse(st.shuffle(4, 1).unwrap(), "shuffle");
    refuse(st.prefetch(2, 2).unwrap(), "ordered_prefetch");
    refuse(st.sliding_window("x", 2, 1, 0).unwrap(), "cannot save");
    // A position from another pipeline is refused, not misread.
    let saved = st.batch(2, BatchSpec::default()).unwrap().state().unwrap();
    let other = Stream::from_vec(counting(10))
        .batch(3, BatchSpec::default())
        .unwrap();
    match other.restore(&saved) {
        Err(Error::Argument { op, detail }) => {
            assert_eq!(op, "restore");
            assert!(detail.contains("batch size was 2, not 3"), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(Stream::from_vec(counting(10)).restore(&saved).is_err());
}
