//! The scheduler: ordering within and across streams, errors along edges, threads.

use rill_core::{ops, Array, Device, Dtype};

fn f32s(a: &Array) -> Vec<f32> {
    a.to_vec::<f32>().unwrap()
}

#[test]
fn a_chain_on_one_stream_evaluates() {
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let mut y = x.clone();
    for _ in 0..1000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    assert_eq!(f32s(&y), vec![1001.0, 2002.0, 3003.0]);
}

#[test]
fn a_long_lazy_chain_drops_without_overflowing_the_stack() {
    let x = Array::from_slice(&[1.0f32], &[1]).unwrap();
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    drop(y);
}

#[test]
fn a_long_chain_evaluates_without_recursion() {
    let x = Array::from_slice(&[1i32], &[1]).unwrap();
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    assert_eq!(y.item::<i32>().unwrap(), 100_001);
}

#[test]
fn cross_stream_dependency_is_ordered() {
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let a = ops::full(&[1000], 2.0f32, None, s1).unwrap();
    let mut x = a.clone();
    for _ in 0..50 {
        x = ops::multiply(&x, &a, s1).unwrap();
        x = ops::divide(&x, &a, s1).unwrap();
    }
    let y = ops::add(&x, &a, s2).unwrap();
    assert_eq!(y.stream(), s2);
    assert!(f32s(&y).iter().all(|&v| v == 4.0));
}

#[test]
fn evaluating_twice_is_free_and_stable() {
    let a = ops::arange(0.0, 10.0, 1.0, None, ()).unwrap();
    let b = ops::multiply(&a, &a, ()).unwrap();
    b.eval().unwrap();
    b.eval().unwrap();
    assert_eq!(f32s(&b)[3], 9.0);
}

#[test]
fn shape_errors_are_found_when_the_op_is_built() {
    let a = ops::zeros(&[3, 2], Dtype::Float32, ()).unwrap();
    let b = ops::zeros(&[4], Dtype::Float32, ()).unwrap();
    let e = ops::add(&a, &b, ()).unwrap_err().to_string();
    assert!(
        e.contains("[add]") && e.contains("[3, 2]") && e.contains("[4]"),
        "{e}"
    );
}

#[test]
fn streams_are_usable_from_any_thread() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let a = ops::full(&[64], t as f32, None, s).unwrap();
                let mut y = a.clone();
                for _ in 0..100 {
                    y = ops::add(&y, &a, s).unwrap();
                }
                (t, y.to_vec::<f32>().unwrap())
            })
        })
        .collect();
    for h in handles {
        let (t, v) = h.join().unwrap();
        assert!(v.iter().all(|&x| x == 101.0 * t as f32));
    }
    rill_core::synchronize(s).unwrap();
}

/// Inside a stream scope, the scoped stream is its device's default for this thread (MLX: `with
/// stream(s)` makes `default_stream(cpu)`, `stream=cpu` and `synchronize(cpu)` mean `s`), and only
/// for this thread.
#[test]
fn a_scoped_stream_is_its_devices_default_stream_on_its_thread_only() {
    let cpu = Device::cpu();
    let outside = rill_core::default_stream(cpu).unwrap();
    let s = rill_core::new_stream(cpu).unwrap();
    assert_ne!(outside, s);
    rill_core::with_stream(s, || {
        assert_eq!(rill_core::default_stream(cpu).unwrap(), s);
        let a = ops::full(&[2], 1.0f32, None, cpu).unwrap();
        assert_eq!(
            a.stream(),
            s,
            "stream=cpu inside the scope is the scoped stream"
        );
        // A device scope inside it changes the default device, not the cpu's default stream.
        rill_core::with_default_device(cpu, || {
            assert_eq!(rill_core::default_stream(cpu).unwrap(), s);
        })
        .unwrap();
        let other = std::thread::spawn(move || rill_core::default_stream(cpu).unwrap())
            .join()
            .unwrap();
        assert_eq!(
            other, outside,
            "another thread keeps the process-wide default"
        );
    })
    .unwrap();
    assert_eq!(rill_core::default_stream(cpu).unwrap(), outside);
}

/// `n` values in [-1, 1) from a small LCG (a fixed seed: reproducible, not constant).
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

#[test]
fn on_done_calls_back_once_with_the_finished_results() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    let (s1, s2) = (
        rill_core::new_stream(Device::cpu()).unwrap(),
        rill_core::new_stream(Device::cpu()).unwrap(),
    );
    let x = noise(4096, 3);
    let a = Array::from_slice(&x, &[4096]).unwrap();
    let half = Array::scalar(0.5f32);
    // Two chains on two streams, joined on the first: y = 0.5 (y + a), 300 times each.
    let (mut y1, mut y2) = (a.clone(), ops::negative(&a, s2).unwrap());
    for _ in 0..300 {
        y1 = ops::multiply(&ops::add(&y1, &a, s1).unwrap(), &half, s1).unwrap();
        y2 = ops::multiply(&ops::add(&y2, &a, s2).unwrap(), &half, s2).unwrap();
    }
    let z = ops::add(&y1, &y2, s1).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let counted = calls.clone();
    rill_core::async_eval(&[&z, &y2]).on_done(move |r| {
        counted.fetch_add(1, Ordering::SeqCst);
        tx.send(r).unwrap();
    });
    let result = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("on_done never called back");
    result.unwrap();
    // Called back means finished: the values are there, and right (float64 reference).
    let (got_z, got_y2) = (f32s(&z), f32s(&y2));
    for (i, &xi) in x.iter().enumerate() {
        let (mut r1, mut r2) = (xi as f64, -(xi as f64));
        for _ in 0..300 {
            r1 = 0.5 * (r1 + xi as f64);
            r2 = 0.5 * (r2 + xi as f64);
        }
        assert!((got_z[i] as f64 - (r1 + r2)).abs() < 1e-5, "z[{i}]");
        assert!((got_y2[i] as f64 - r2).abs() < 1e-5, "y2[{i}]");
    }
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(50))
        .is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn on_done_for_finished_arrays_calls_back_before_returning() {
    let a = Array::from_slice(&noise(64, 5), &[64]).unwrap();
    let b = ops::exp(&a, ()).unwrap();
    b.eval().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    rill_core::async_eval(&[&a, &b]).on_done(move |r| tx.send(r.is_ok()).unwrap());
    rill_core::async_eval(&[]).on_done(move |r| tx2.send(r.is_ok()).unwrap());
    assert_eq!(rx.try_recv(), Ok(true));
    assert_eq!(rx.try_recv(), Ok(true));
}

#[test]
fn on_done_reports_the_error_of_a_failed_array() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = Array::from_slice(&noise(16, 9), &[16]).unwrap();
    // The index array is computed, so the bad index is found when `take` runs, not when built.
    let idx = ops::add(
        &Array::from_slice(&[1i32, 2, 3], &[3]).unwrap(),
        &Array::from_slice(&[0i32, 0, 40], &[3]).unwrap(),
        s,
    )
    .unwrap();
    let bad = ops::take(&a, &idx, Some(0), s).unwrap();
    let fine = ops::exp(&a, s).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    rill_core::async_eval(&[&fine, &bad]).on_done(move |r| tx.send(r).unwrap());
    let err = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("on_done never called back")
        .unwrap_err();
    assert!(err.to_string().contains("out of bounds"), "{err}");
    assert_eq!(bad.error(), Some(err));
    assert!(fine.error().is_none());
}

#[test]
fn lazy_nodes_exceed_counts_distinct_unsubmitted_nodes() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = Array::from_slice(&noise(16, 5), &[16]).unwrap();
    // A diamond repeated 50 times: each step's two branches share the step before, so the graph
    // has 150 distinct lazy nodes but 2^50 paths (counting paths would never end).
    let mut y = a.clone();
    for _ in 0..50 {
        let l = ops::negative(&y, s).unwrap();
        let r = ops::exp(&y, s).unwrap();
        y = ops::add(&l, &r, s).unwrap();
    }
    assert!(rill_core::lazy_nodes_exceed(&[&y], 149));
    assert!(!rill_core::lazy_nodes_exceed(&[&y], 150));
    // Evaluated data is not lazy: the input array alone counts nothing.
    assert!(!rill_core::lazy_nodes_exceed(&[&a], 0));
    // Once submitted (here: evaluated), nothing is left to submit.
    y.eval().unwrap();
    assert!(!rill_core::lazy_nodes_exceed(&[&y], 0));
}

#[test]
fn a_failed_stand_in_keeps_the_shape_and_fails_every_use() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = Array::from_slice(&noise(6, 9), &[2, 3]).unwrap();
    let gone = a.failed_like(rill_core::Error::Runtime {
        op: "dispose",
        msg: "this array was disposed".into(),
    });
    assert_eq!(gone.shape(), &[2, 3]);
    assert_eq!(gone.dtype(), Dtype::Float32);
    assert!(gone.is_available());
    let err = gone.to_vec::<f32>().unwrap_err().to_string();
    assert!(err.contains("[dispose] this array was disposed"), "{err}");
    // What is built from it fails with the same error; the original is untouched.
    let b = ops::add(&gone, &a, s).unwrap();
    let err = b.eval().unwrap_err().to_string();
    assert!(err.contains("this array was disposed"), "{err}");
    assert_eq!(f32s(&a), noise(6, 9));
}
