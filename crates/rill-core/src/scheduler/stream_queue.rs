//! One stream's queue: tasks in submission order, drained by at most one thread at a time.
//!
//! Rules: `tasks`, `draining` and the counters change only under `inner`'s mutex. The thread that
//! set `draining` (by `try_claim`) is the only one that pops tasks until it clears it. A task is
//! popped only when it is at the front and ready (`deps == 0`), which keeps submission order.

use super::Task;
use crate::{Array, Stream};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

/// How many tasks a pool thread runs from one stream before giving other streams a turn.
pub(crate) const POOL_BUDGET: usize = 64;

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
            }),
            idle: Condvar::new(),
        }
    }

    /// Queues `task`. With `claim`, also claims the queue as [`try_claim`](Self::try_claim) would,
    /// under the same lock, and returns whether it did.
    pub(crate) fn push(&self, task: Arc<Task>, claim: bool) -> bool {
        let mut inner = self.inner.lock().unwrap();
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
        super::pool::spawn(move || q.drain(None, POOL_BUDGET));
    }

    /// Runs ready tasks from the front of a claimed queue, until the queue is empty or its front
    /// is waiting, until `until` is available, or after `budget` tasks; then hands any remaining
    /// ready work to the pool or gives up the claim.
    pub(crate) fn drain(self: &Arc<Self>, until: Option<&Array>, budget: usize) {
        // Kernels split themselves less while more streams are being drained (kernel_threads.rs).
        let _draining = crate::kernel_threads::Draining::start();
        let mut ran = 0;
        loop {
            let task = {
                let mut inner = self.inner.lock().unwrap();
                let front_ready = inner.tasks.front().is_some_and(|t| t.is_ready());
                if !front_ready {
                    inner.draining = false;
                    return;
                }
                inner.tasks.pop_front().unwrap()
            };
            task.run();
            drop(task);
            ran += 1;
            let stop = ran >= budget || until.is_some_and(|a| a.is_available());
            let mut inner = self.inner.lock().unwrap();
            inner.completed += 1;
            if inner.sync_waiters > 0 && inner.completed == inner.submitted {
                self.idle.notify_all();
            }
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
