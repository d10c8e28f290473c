//! A large graph starts running while it is submitted; a small one is left to the caller.

use rill_core::internals::scheduler::{submit, wait, EARLY_START};
use rill_core::{ops, Array, Device, Stream};

/// `n` additions of 0.3 to a start that depends on `n`, on `s`; and the same sum taken in the
/// test, in f32 and in the same order (so it must match exactly).
/// The scheduler's fusion of lazy chains is turned off: each addition must be a task.
fn chain(n: usize, s: Stream) -> (Array, f32) {
    rill_core::set_auto_fusion(rill_core::AutoFusion::Off);
    let start = 0.375f32 + n as f32 * 1e-3;
    let step = Array::scalar(0.3f32);
    let mut y = Array::from_slice_on(&[start], &[], s).unwrap();
    let mut expect = start;
    for _ in 0..n {
        y = ops::add(&y, &step, s).unwrap();
        expect += 0.3f32;
    }
    (y, expect)
}

#[test]
fn a_large_graph_starts_running_while_it_is_submitted() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let (y, expect) = chain(4 * EARLY_START, s);
    // A pool thread claimed the queue mid-submission: nothing is left for the caller to start.
    // (It either still holds the claim, or it has run every task and the queue is empty.)
    assert!(submit(&[&y]).is_empty());
    wait(&y);
    assert_eq!(y.item::<f32>().unwrap(), expect);
}

#[test]
fn a_small_graph_is_left_to_the_caller() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let (y, expect) = chain(EARLY_START / 2, s);
    let claimed = submit(&[&y]);
    assert_eq!(claimed.len(), 1);
    assert!(!y.is_available(), "no task runs before the caller drains");
    claimed[0].drain(Some(&y), usize::MAX);
    assert_eq!(y.item::<f32>().unwrap(), expect);
}

#[test]
fn roots_on_different_streams_are_submitted_in_turns() {
    let (a, b) = (
        rill_core::new_stream(Device::cpu()).unwrap(),
        rill_core::new_stream(Device::cpu()).unwrap(),
    );
    let (x, ex) = chain(4 * EARLY_START, a);
    let (y, ey) = chain(4 * EARLY_START, b);
    let (z, ez) = chain(2 * EARLY_START, a);
    rill_core::trace::start_capture(None).unwrap();
    let evaluated = rill_core::eval(&[&x, &z, &y]);
    let t = rill_core::trace::stop_capture_timeline().unwrap();
    evaluated.unwrap();
    assert_eq!(x.item::<f32>().unwrap(), ex);
    assert_eq!(y.item::<f32>().unwrap(), ey);
    assert_eq!(z.item::<f32>().unwrap(), ez);
    // The ops of one stream, in the order they were submitted (other tests' ops are not on it).
    let submitted = |s: Stream| {
        let mut ops: Vec<(f64, u64)> = t
            .ops
            .iter()
            .filter(|o| o.stream == s.index())
            .map(|o| (o.submitted_us, o.id))
            .collect();
        ops.sort_by(|p, q| p.0.total_cmp(&q.0));
        ops
    };
    let (on_a, on_b) = (submitted(a), submitted(b));
    assert_eq!((on_a.len(), on_b.len()), (6 * EARLY_START, 4 * EARLY_START));
    // y's stream got its first tasks while x's were still being submitted (before: after x's and
    // z's 384 tasks), ...
    assert!(
        on_b[0].0 < on_a[2 * EARLY_START].0,
        "b's first task was submitted at {} us, a's 129th at {} us",
        on_b[0].0,
        on_a[2 * EARLY_START].0
    );
    // ... while one stream's roots keep their order: every op of x (made first) before z's, each
    // chain inputs first, so the ids rise in submission order.
    assert!(
        on_a.windows(2).all(|w| w[0].1 < w[1].1),
        "a's ops were not submitted in the order they were made"
    );
}
