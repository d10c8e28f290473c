//! Eight threads share streams and arrays: they build on shared inputs, submit to the same
//! streams, and evaluate the same lazy arrays at the same time.

use rill_core::{ops, Array, Device};
use std::sync::{Arc, Barrier};

#[test]
fn eight_threads_share_streams_and_arrays() {
    let streams: Vec<_> = (0..3)
        .map(|_| rill_core::new_stream(Device::cpu()).unwrap())
        .collect();
    let base: Vec<f32> = (0..4096).map(|i| (i % 97) as f32 * 0.25).collect();
    let x = Array::from_slice(&base, &[4096]).unwrap();
    // One lazy array that every thread evaluates at the same moment.
    let mut shared = x.clone();
    for k in 0..200 {
        shared = ops::add(&shared, &x, streams[k % 3]).unwrap();
    }
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (x, shared, streams, barrier) =
                (x.clone(), shared.clone(), streams.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                shared.eval().unwrap();
                let mut mine = x.clone();
                for k in 0..300 {
                    let s = streams[(t + k) % 3];
                    mine = if k % 2 == 0 {
                        ops::add(&mine, &x, s).unwrap()
                    } else {
                        ops::subtract(&mine, &x, s).unwrap()
                    };
                    if k % 50 == 0 {
                        mine.eval().unwrap();
                    }
                }
                // 150 adds and 150 subtracts of x leave x.
                let joined = ops::add(&mine, &shared, streams[t % 3]).unwrap();
                joined.to_vec::<f32>().unwrap()
            })
        })
        .collect();
    for h in handles {
        let v = h.join().unwrap();
        for (i, &got) in v.iter().enumerate() {
            let want = base[i] as f64 * 202.0;
            assert!(
                (got as f64 - want).abs() <= 1e-3 * want.max(1.0),
                "element {i}: {got} vs {want}"
            );
        }
    }
    rill_core::synchronize_all();
}

#[test]
fn async_eval_from_many_threads_then_synchronize_everything() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let results: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let a = ops::full(&[1000], t as f32 + 1.0, None, s).unwrap();
                let mut y = a.clone();
                for _ in 0..100 {
                    y = ops::add(&y, &a, s).unwrap();
                }
                let h = rill_core::async_eval(&[&y]);
                (t, y, h)
            })
        })
        .map(|h| h.join().unwrap())
        .collect();
    rill_core::synchronize_all();
    for (t, y, h) in results {
        assert!(
            h.is_done(),
            "synchronize_all returned before thread {t}'s work was done"
        );
        h.wait().unwrap();
        assert!(y
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 101.0 * (t as f32 + 1.0)));
    }
}

#[test]
fn a_thousand_streams_do_not_mean_a_thousand_threads() {
    let before = thread_count();
    let x = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let outs: Vec<Array> = (0..1000)
        .map(|_| {
            let s = rill_core::new_stream(Device::cpu()).unwrap();
            ops::add(&x, &x, s).unwrap()
        })
        .collect();
    rill_core::eval(&outs.iter().collect::<Vec<_>>()).unwrap();
    assert!(outs
        .iter()
        .all(|o| o.to_vec::<f32>().unwrap() == vec![2.0, 4.0]));
    let after = thread_count();
    // The pool is sized to the cores; other tests in this process may add a few threads.
    assert!(after < before + 64, "threads grew from {before} to {after}");
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Each thread remembers its last default stream (`stream.rs`): a new default set by another
/// thread must still reach its very next op, not an op some time later. (The only test in this
/// binary that changes the default; the others' ops run on whichever CPU stream it is.)
#[test]
fn a_default_stream_set_on_one_thread_reaches_the_next_op_of_every_thread() {
    // `()` is the default device's default stream: the GPU's where the suite runs with the GPU
    // as default device (scripts/gpu-check.sh), so the streams compared are that device's.
    let dev = rill_core::default_device();
    let old = rill_core::default_stream(dev).unwrap();
    let x = Array::from_slice(&[1.5f32, -2.0], &[2]).unwrap();
    let turn = Arc::new(Barrier::new(2));
    let worker = {
        let (turn, x) = (turn.clone(), x.clone());
        std::thread::spawn(move || {
            // Ops on the old default first, so the thread remembers it.
            let before: Vec<_> = (0..3)
                .map(|_| ops::add(&x, &x, ()).unwrap().stream())
                .collect();
            turn.wait();
            turn.wait();
            let after = ops::multiply(&x, &x, ()).unwrap();
            (before, after.stream(), after.to_vec::<f32>().unwrap())
        })
    };
    turn.wait();
    let new = rill_core::new_stream(dev).unwrap();
    rill_core::set_default_stream(new).unwrap();
    let here = ops::add(&x, &x, ()).unwrap().stream();
    turn.wait();
    let (before, after, values) = worker.join().unwrap();
    rill_core::set_default_stream(old).unwrap();
    assert_eq!(before, vec![old; 3]);
    assert_eq!(here, new, "the thread that set the default");
    assert_eq!(after, new, "another thread's next op");
    assert_eq!(values, vec![2.25, 4.0]);
    assert_eq!(
        ops::add(&x, &x, ()).unwrap().stream(),
        old,
        "the default restored"
    );
}
