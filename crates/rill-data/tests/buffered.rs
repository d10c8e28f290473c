//! Buffered streams and dynamic batching from Rust: buffers in the stream's order whatever the
//! thread count, a refill function's error reported with its refill, errors of a gather raised in
//! their place without losing the samples around them, and dynamic batches that hold every sample
//! once within the size limit.

mod common;

use common::*;
use rill_data::{BatchSpec, Buffer, Error, Stream, StreamNode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn buffers_follow_the_stream_order_on_any_number_of_threads() {
    for threads in [1, 2, 5] {
        let refills = Arc::new(AtomicUsize::new(0));
        let r = refills.clone();
        let st = Stream::from_vec(counting(31))
            .buffered(
                7,
                Some(Arc::new(move |b: Buffer| {
                    r.fetch_add(1, Ordering::Relaxed);
                    let n = b.len() as i64;
                    Ok(b.perm(&(0..n).rev().collect::<Vec<_>>()).unwrap())
                })),
                threads,
            )
            .unwrap();
        let want: Vec<i32> = (0..31)
            .collect::<Vec<i32>>()
            .chunks(7)
            .flat_map(|c| c.iter().rev().copied().collect::<Vec<_>>())
            .collect();
        assert_eq!(xs(&st.collect().unwrap()), want, "{threads} threads");
        assert_eq!(refills.load(Ordering::Relaxed), 5);
        st.reset().unwrap();
        assert_eq!(xs(&st.collect().unwrap()), want);
    }
}

/// A source that fails at one position, then goes on.
struct FailsAt {
    at: i32,
    pos: std::sync::Mutex<i32>,
    n: i32,
}

impl StreamNode for FailsAt {
    fn next(&self) -> rill_data::Result<Option<rill_data::Sample>> {
        let mut p = self.pos.lock().unwrap();
        let i = *p;
        *p += 1;
        if i >= self.n {
            return Ok(None);
        }
        if i == self.at {
            return Err(Error::Argument {
                op: "source",
                detail: format!("bad sample {i}"),
            });
        }
        Ok(Some(sample(&[("x", scalar(i))])))
    }
    fn reset(&self) -> rill_data::Result<()> {
        *self.pos.lock().unwrap() = 0;
        Ok(())
    }
}

#[test]
fn a_gather_error_comes_in_its_place_and_no_sample_is_lost() {
    for threads in [1, 3] {
        let src = Stream::from_node(FailsAt {
            at: 8,
            pos: std::sync::Mutex::new(0),
            n: 20,
        });
        let st = src.buffered(6, None, threads).unwrap();
        let mut got = Vec::new();
        let mut errors = Vec::new();
        loop {
            match st.next() {
                Ok(Some(s)) => got.push(vals(&s, "x")[0]),
                Ok(None) => break,
                Err(e) => errors.push((got.len(), e.to_string())),
            }
        }
        assert_eq!(errors, vec![(8, "source: bad sample 8".to_string())]);
        assert_eq!(got, (0..20).filter(|&i| i != 8).collect::<Vec<_>>());
    }
}

#[test]
fn a_refill_error_names_the_step_and_the_refill() {
    let st = Stream::from_vec(counting(10))
        .buffered(
            4,
            Some(Arc::new(|b: Buffer| {
                if b.get(0).unwrap()["x"].to_vec::<i32>().unwrap()[0] == 4 {
                    Err(Arc::new(std::io::Error::other("no second buffer")) as rill_data::BoxError)
                } else {
                    Ok(b)
                }
            })),
            1,
        )
        .unwrap();
    for _ in 0..4 {
        st.next().unwrap().unwrap();
    }
    let e = st.next().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Callback {
                op: "buffered",
                index: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn dynamic_batches_hold_every_sample_once_within_the_limit() {
    let mut rng = Lcg(99);
    let lens: Vec<usize> = (0..120).map(|_| 1 + rng.below(40)).collect();
    let samples: Vec<_> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            sample(&[
                ("t", i32s(&vec![i as i32; n], &[n])),
                ("id", scalar(i as i32)),
            ])
        })
        .collect();
    let limit = 150;
    let b = Buffer::from_vec(samples.clone())
        .dynamic_batch("t", limit, BatchSpec::default())
        .unwrap();
    let mut seen = vec![0; lens.len()];
    let mut last_largest = 0;
    for i in 0..b.len() {
        let batch = b.get(i as i64).unwrap();
        let ids = vals(&batch, "id");
        let width = ids.iter().map(|&j| lens[j as usize]).max().unwrap();
        assert_eq!(batch["t"].shape(), &[ids.len(), width]);
        assert!(ids.len() == 1 || ids.len() * width <= limit as usize);
        // Sorted by size: no batch holds a sample smaller than the largest of the batch before.
        assert!(ids.iter().all(|&j| lens[j as usize] >= last_largest));
        last_largest = width;
        for j in ids {
            seen[j as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1));
    // A stream cuts each buffer of 40 on its own: every batch holds samples of one buffer, and
    // every sample comes once.
    let st = Stream::from_vec(samples)
        .dynamic_batch(40, "t", limit, BatchSpec::default(), Some(5), 2)
        .unwrap();
    let mut seen = vec![0; lens.len()];
    for batch in st.collect().unwrap() {
        let ids = vals(&batch, "id");
        assert!(ids.iter().all(|&j| j / 40 == ids[0] / 40), "{ids:?}");
        for j in ids {
            seen[j as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1));
}
