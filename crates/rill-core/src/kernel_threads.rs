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
//! 4. The share is decided when a kernel starts, but a pool's load changes while it runs: a big
//!    product that started beside a short task would keep one thread long after the task ended.
//!    Such kernels split themselves into chunks with [`run_chunks`], which idle threads join as
//!    they become idle.
//! 5. A thread waiting for a kernel's chunks never enters rayon (it would pick up other streams'
//!    work and have to finish it first: the failure of rule 1's first form); it waits only for
//!    chunks already being run, a chunk's time at most.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

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

/// Runs `f(i)` for every `i < chunks`, on the calling thread and on whichever pool threads are
/// idle while it runs (rules 4 and 5).
///
/// The caller takes chunks one at a time; the threads idle now, and one more, are invited with a
/// job each, which takes chunks too if it starts while some are left and returns at once
/// otherwise.
/// So a kernel that starts while another stream's task holds a thread still gets that thread
/// when the task ends, and never waits for a busy one: the caller waits only for chunks already
/// taken, without entering rayon (it cannot pick up another stream's work while it waits).
pub fn run_chunks(chunks: usize, f: impl Fn(usize) + Sync) {
    // One invitation per thread idle now, and one more for a thread that becomes idle soon: with
    // every thread busy (many streams), the kernel then costs one spawn, not one per thread.
    let helpers = (idle_threads() + 1)
        .min(rayon::current_num_threads().saturating_sub(1))
        .min(chunks.saturating_sub(1));
    if helpers == 0 {
        (0..chunks).for_each(f);
        return;
    }
    let f: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: only the lifetime is erased. A helper calls `f` only between registering in
    // `active` and leaving it, and only while `closed` is false when it registers; the caller sets
    // `closed` and then waits for `active` to reach zero before returning (and so before `f`
    // dies). With sequentially consistent operations, a helper that registers after the caller
    // read `active` as zero sees `closed` set and never calls `f`.
    let f: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
    let shared = Arc::new(Chunks {
        next: AtomicUsize::new(0),
        active: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        panicked: AtomicBool::new(false),
        chunks,
        f: Erased(f),
    });
    for _ in 0..helpers {
        let s = Arc::clone(&shared);
        rayon::spawn(move || s.help());
    }
    // Closes and waits on every way out, unwinding included: `f` must not outlive this call.
    let wait = CloseAndWait(&shared);
    loop {
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if i >= chunks {
            break;
        }
        f(i);
    }
    drop(wait);
    if shared.panicked.load(Ordering::SeqCst) {
        panic!("a chunk of a kernel panicked on a helper thread");
    }
}

struct CloseAndWait<'a>(&'a Chunks);

impl Drop for CloseAndWait<'_> {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::SeqCst);
        while self.0.active.load(Ordering::SeqCst) != 0 {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
    }
}

/// The `'static` view of the caller's closure (see `run_chunks`'s SAFETY argument).
struct Erased(&'static (dyn Fn(usize) + Sync));

struct Chunks {
    next: AtomicUsize,
    /// Helpers between registering and leaving.
    active: AtomicUsize,
    /// Set by the caller once it has seen every chunk taken; no helper calls `f` after it.
    closed: AtomicBool,
    /// A helper's chunk panicked (caught there: a panic on a rayon job aborts the process).
    panicked: AtomicBool,
    chunks: usize,
    f: Erased,
}

impl Chunks {
    fn help(&self) {
        loop {
            self.active.fetch_add(1, Ordering::SeqCst);
            let i = if self.closed.load(Ordering::SeqCst) {
                self.chunks
            } else {
                self.next.fetch_add(1, Ordering::SeqCst)
            };
            if i >= self.chunks {
                self.active.fetch_sub(1, Ordering::SeqCst);
                return;
            }
            let f = self.f.0;
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))).is_err() {
                self.panicked.store(true, Ordering::SeqCst);
            }
            self.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
