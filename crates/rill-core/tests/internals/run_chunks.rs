//! `run_chunks` (kernel_threads.rs rules 4 and 5): every chunk runs exactly once, idle threads
//! join, the call returns only after every chunk has finished, and it does not wait for threads
//! that are busy elsewhere.

use rill_core::internals::run_chunks;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[test]
fn every_chunk_runs_once_and_is_finished_on_return() {
    for chunks in [0, 1, 2, 7, 64] {
        let seen: Vec<AtomicUsize> = (0..chunks).map(|_| AtomicUsize::new(0)).collect();
        let finished = AtomicUsize::new(0);
        run_chunks(chunks, |i| {
            std::thread::sleep(Duration::from_micros(200));
            seen[i].fetch_add(1, Ordering::SeqCst);
            finished.fetch_add(1, Ordering::SeqCst);
        });
        // Read right after the return: a chunk still running on a helper would be missing.
        assert_eq!(finished.load(Ordering::SeqCst), chunks);
        assert!(seen.iter().all(|c| c.load(Ordering::SeqCst) == 1));
    }
}

#[test]
fn idle_threads_join_and_busy_ones_are_not_waited_for() {
    // A pool of its own (other tests use the global one at the same time): three threads, one
    // held busy for a long time, one running the kernel, one free.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let release = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = std::sync::Arc::new(AtomicUsize::new(0));
    {
        let (r, b) = (release.clone(), busy.clone());
        pool.spawn(move || {
            b.store(1, Ordering::SeqCst);
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    }
    while busy.load(Ordering::SeqCst) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let who = Mutex::new(std::collections::HashSet::new());
    let t0 = Instant::now();
    pool.install(|| {
        run_chunks(40, |_| {
            who.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(Duration::from_millis(2));
        })
    });
    let took = t0.elapsed();
    release.store(true, Ordering::SeqCst);
    // The busy thread is released only now: had the kernel waited for it, it would never end.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(who.lock().unwrap().len(), 2, "the free thread did not join");
}

#[test]
fn a_panicking_chunk_panics_the_caller_after_the_others_finish() {
    let finished = AtomicUsize::new(0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_chunks(16, |i| {
            std::thread::sleep(Duration::from_micros(300));
            if i == 5 {
                panic!("chunk 5");
            }
            finished.fetch_add(1, Ordering::SeqCst);
        })
    }));
    assert!(r.is_err());
    // Nothing runs a chunk once the call has returned.
    let after = finished.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(finished.load(Ordering::SeqCst), after);
}
