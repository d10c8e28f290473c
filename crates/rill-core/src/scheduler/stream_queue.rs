//! One stream's queue: tasks in submission order, drained by at most one thread at a time.
//!
//! Rules: `tasks`, `draining` and the counters change only under `inner`'s mutex. The thread that
//! set `draining` (by `try_claim`) is the only one that pops or removes tasks until it clears it.
//! A task is popped only when it is at the front and ready (`deps == 0`), which keeps submission
//! order, except the tasks the drainer hands to the pool to run beside the front (beside.rs):
//! `beside` counts them until they complete, and while it is not zero a front task checks that its
//! same-stream inputs are available before it runs.

use super::{beside, Task};
use crate::{Array, Stream};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How many tasks a pool thread runs from one stream before giving other streams a turn.
pub(crate) const POOL_BUDGET: usize = 64;

/// How long a pool thread runs one stream's tasks before it passes the claim back to the pool.
/// A pool thread may be draining inside another kernel's parallel loop: a rayon loop waiting for a
/// chunk that another thread took lets the waiting thread run other pool jobs, and that chunk's
/// thread may take a drain. The kernel waits until that thread returns to its loop; the slice
/// bounds the wait, where the budget of tasks does not when they are long. (Two fused
/// elementwise chains on two streams, 2 cores: a stream's first op, split over both threads,
/// waited 13 ms for the other stream's whole chain, run by the thread that owed it a chunk.)
pub(crate) const POOL_SLICE: Duration = Duration::from_millis(1);

pub(crate) struct StreamQueue {
    pub(crate) stream: Stream,
    inner: Mutex<Inner>,
    idle: Condvar,
}

struct Inner {
    tasks: VecDeque<Arc<Task>>,
    draining: bool,
    submitted: u64,
    completed: u64,
    /// Threads in `wait_idle`; completions signal the condvar only when some exist (a signal is a
    /// system call even with nobody waiting).
    sync_waiters: usize,
    /// Tasks taken from behind the front that are running beside it (beside.rs), not complete.
    beside: usize,
    /// Queued tasks big enough to run beside the front (`beside::is_big`).
    big_queued: usize,
}

impl StreamQueue {
    pub(crate) fn new(stream: Stream) -> Self {
        StreamQueue {
            stream,
            inner: Mutex::new(Inner {
                tasks: VecDeque::new(),
                draining: false,
                submitted: 0,
                completed: 0,
                sync_waiters: 0,
                beside: 0,
                big_queued: 0,
            }),
            idle: Condvar::new(),
        }
    }

    /// Queues `task`. With `claim`, also claims the queue as [`try_claim`](Self::try_claim) would,
    /// under the same lock, and returns whether it did.
    pub(crate) fn push(&self, task: Arc<Task>, claim: bool) -> bool {
        let mut inner = self.inner.lock().unwrap();
        inner.big_queued += usize::from(beside::is_big(&task));
        inner.tasks.push_back(task);
        inner.submitted += 1;
        if !claim || inner.draining || !inner.tasks.front().is_some_and(|t| t.is_ready()) {
            return false;
        }
        inner.draining = true;
        true
    }

    /// Claims the right to drain this queue if nobody holds it and the front task can run.
    pub(crate) fn try_claim(&self) -> bool {
        let mut inner = self.inner.lock().unwrap();
        if inner.draining || !inner.tasks.front().is_some_and(|t| t.is_ready()) {
            return false;
        }
        inner.draining = true;
        true
    }

    /// Drains a claimed queue on the pool.
    pub(crate) fn spawn_drain(q: Arc<StreamQueue>) {
        super::pool::spawn(move || q.drain_for(None, POOL_BUDGET, Some(POOL_SLICE)));
    }

    /// Runs ready tasks from the front of a claimed queue, until the queue is empty or its front
    /// is waiting, until `until` is available, or after `budget` tasks; then hands any remaining
    /// ready work to the pool or gives up the claim.
    pub(crate) fn drain(self: &Arc<Self>, until: Option<&Array>, budget: usize) {
        self.drain_for(until, budget, None)
    }

    /// `drain`, stopping also once `slice` has passed (checked after each task).
    fn drain_for(self: &Arc<Self>, until: Option<&Array>, budget: usize, slice: Option<Duration>) {
        // Kernels split themselves less while more streams are being drained (kernel_threads.rs).
        let _draining = crate::kernel_threads::Draining::start();
        let deadline = slice.map(|d| Instant::now() + d);
        let mut ran = 0;
        loop {
            let mut inner = self.inner.lock().unwrap();
            let Some(front) = inner.tasks.front().filter(|t| t.is_ready()).cloned() else {
                inner.draining = false;
                return;
            };
            if inner.beside > 0 {
                // An input of the front may still be running beside it (beside.rs rule 3). Node
                // locks come before this queue's (scheduler rule 6): check without it.
                drop(inner);
                if beside::wait_for_inputs_beside(&front) {
                    // Now not ready: the loop gives up the claim unless the input just finished.
                    continue;
                }
                inner = self.inner.lock().unwrap();
            }
            // Still the front: only this thread pops or removes tasks.
            let task = inner.tasks.pop_front().unwrap();
            inner.big_queued -= usize::from(beside::is_big(&task));
            drop(front);
            let mut aside: SmallVec<[Arc<Task>; 4]> = SmallVec::new();
            for _ in 0..beside::room(self.stream, inner.big_queued) {
                let Some(t) = beside::pick(&task, &inner.tasks).and_then(|i| inner.tasks.remove(i))
                else {
                    break;
                };
                inner.big_queued -= 1;
                aside.push(t);
            }
            inner.beside += aside.len();
            drop(inner);
            for t in aside {
                self.run_beside(t);
            }
            task.run();
            drop(task);
            ran += 1;
            let stop = ran >= budget
                || until.is_some_and(|a| a.is_available())
                || deadline.is_some_and(|d| Instant::now() >= d);
            let mut inner = self.inner.lock().unwrap();
            self.count_completed(&mut inner);
            if stop {
                if inner.tasks.front().is_some_and(|t| t.is_ready()) {
                    drop(inner);
                    // Keep the claim and pass it to a pool thread.
                    StreamQueue::spawn_drain(self.clone());
                } else {
                    inner.draining = false;
                }
                return;
            }
        }
    }

    /// Runs `task` on the pool beside the stream's front task (beside.rs), counted in `beside`.
    fn run_beside(self: &Arc<Self>, task: Arc<Task>) {
        task.beside.store(true, Ordering::Relaxed);
        let q = self.clone();
        // Counted from now, not from when a pool thread takes it: the front task's kernel, which
        // starts next, must leave this one a thread (else it splits over the whole pool and the
        // task waits for it to finish).
        let draining = crate::kernel_threads::Draining::start();
        super::pool::spawn(move || {
            {
                let _draining = draining;
                task.run();
                drop(task);
            }
            let mut inner = q.inner.lock().unwrap();
            inner.beside -= 1;
            q.count_completed(&mut inner);
        });
    }

    fn count_completed(&self, inner: &mut Inner) {
        inner.completed += 1;
        if inner.sync_waiters > 0 && inner.completed == inner.submitted {
            self.idle.notify_all();
        }
    }

    /// Blocks until every task pushed before this call has completed.
    pub(crate) fn wait_idle(&self) {
        let mut inner = self.inner.lock().unwrap();
        let target = inner.submitted;
        inner.sync_waiters += 1;
        while inner.completed < target {
            inner = self.idle.wait(inner).unwrap();
        }
        inner.sync_waiters -= 1;
    }
}

impl Task {
    pub(crate) fn is_ready(&self) -> bool {
        self.deps.load(Ordering::Acquire) == 0
    }
}
