//! How many threads one CPU kernel may split itself over right now.
//!
//! Streams run side by side on one pool sized to the cores (scheduler rule 2). A kernel that
//! splits itself over the whole pool while other streams run too oversubscribes it, and worse:
//! with rayon's work stealing, a thread waiting inside one kernel's parallel loop picks up another
//! stream's work and must finish it before its own loop can return, so independent kernels on
//! different streams end up taking turns (issue 14: sixteen streams of 128x128 matmul chains ran
//! no faster than one). So a kernel takes its share: the pool's threads divided by the streams
//! being drained now, and runs on its own thread when that share is one. One stream alone still
//! gets the whole pool.
//!
//! # Rules
//!
//! 1. The scheduler holds a [`Draining`] guard while a thread drains a stream queue (on the pool
//!    or inline in `eval`) or runs a task beside its stream's front (scheduler/beside.rs);
//!    nothing else changes the count.
//! 2. The count is a hint, read and written with relaxed ordering: a stale value changes how a
//!    kernel splits its work, never what it computes.
//! 3. A forked child starts from zero ([`reset_in_child`]): the parent's drainers do not exist
//!    there.

use std::sync::atomic::{AtomicUsize, Ordering};

static DRAINING: AtomicUsize = AtomicUsize::new(0);

/// Counts one stream being drained while it lives (rule 1).
pub(crate) struct Draining(());

impl Draining {
    pub(crate) fn start() -> Draining {
        DRAINING.fetch_add(1, Ordering::Relaxed);
        Draining(())
    }
}

impl Drop for Draining {
    fn drop(&mut self) {
        DRAINING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The threads a kernel starting now may use: at least one, at most the pool's size.
pub(crate) fn kernel_threads() -> usize {
    let pool = rayon::current_num_threads().max(1);
    let streams = DRAINING.load(Ordering::Relaxed).max(1);
    (pool / streams).max(1)
}

/// Pool threads that drain no stream now: what a task run beside its stream's front may use
/// (scheduler/beside.rs).
pub(crate) fn idle_threads() -> usize {
    let pool = rayon::current_num_threads().max(1);
    pool.saturating_sub(DRAINING.load(Ordering::Relaxed))
}

/// Rule 3: called by the fork handler in the child, while it has one thread.
pub(crate) fn reset_in_child() {
    DRAINING.store(0, Ordering::Relaxed);
}
