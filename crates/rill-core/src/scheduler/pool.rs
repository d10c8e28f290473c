//! The threads that drain stream queues and run kernels' parallel loops.
//!
//! In a process that never forked this is rayon's global pool, used directly. A process forked
//! from one that used rill has lost every pool thread (fork copies only the thread that called
//! it), and rayon's global pool cannot be rebuilt, so the child gets a pool of its own, built on
//! first use ([`super::fork`] arms it). Kernels' `par_iter` loops use whichever pool runs them, so
//! in a child every task runs on the child's pool: a queue drained "inline" by the evaluating
//! thread is drained inside that pool instead ([`run_inline`]).
//!
//! Rules: `CHILD` is written only by the fork handler, while the process has one thread; after
//! that it is only read. Each armed slot is a leaked `OnceLock`, so readers never take a lock.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

/// Null in a process that never forked; else this (forked) process's own pool, built on first use.
static CHILD: AtomicPtr<OnceLock<rayon::ThreadPool>> = AtomicPtr::new(std::ptr::null_mut());

fn child_pool() -> Option<&'static rayon::ThreadPool> {
    let slot = CHILD.load(Ordering::Acquire);
    if slot.is_null() {
        return None;
    }
    // SAFETY: a non-null `CHILD` points to a `OnceLock` leaked by `arm_for_child`, never freed.
    let slot: &'static OnceLock<rayon::ThreadPool> = unsafe { &*slot };
    Some(slot.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("rill-forked-{i}"))
            .build()
            .expect("the forked process could not start its worker threads")
    }))
}

/// Runs `f` on a pool thread, later.
pub(crate) fn spawn(f: impl FnOnce() + Send + 'static) {
    match child_pool() {
        None => rayon::spawn(f),
        Some(pool) => pool.spawn(f),
    }
}

/// Runs `f` (a queue drained by the thread that evaluates) on this thread, or, in a forked
/// process, inside its pool, where the kernels' parallel loops can run.
pub(crate) fn run_inline<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match child_pool() {
        None => f(),
        Some(pool) => pool.install(f),
    }
}

/// Called in a forked child, while it has one thread: later work goes to a new pool. (Building
/// it here would start threads inside the fork handler; it is built on first use instead.)
pub(super) fn arm_for_child() {
    let slot: &'static OnceLock<rayon::ThreadPool> = Box::leak(Box::new(OnceLock::new()));
    CHILD.store(slot as *const _ as *mut _, Ordering::Release);
}
