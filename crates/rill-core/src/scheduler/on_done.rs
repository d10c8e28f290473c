//! A callback instead of a waiting thread: [`AsyncEval::on_done`](super::AsyncEval::on_done).
//!
//! Front-ends whose callers must not block (Node's `asyncEval` settles a Promise) register one
//! callback for a set of arrays; whoever finishes the last of them calls it. No thread waits.
//!
//! # Rules
//!
//! 1. Each array counts down once, when it is available *and* its device work has finished (rule 7
//!    of the scheduler): a host result counts at once on the thread that completed it; a device
//!    result counts from the backend's completion callback, moved onto the pool (a driver thread
//!    must not drop arrays, and the callback may hold the last handle).
//! 2. Registration follows `wait`'s protocol under the node's mutex: a node still `Scheduled`
//!    takes a [`Waiter::Call`](super::Waiter::Call), which `complete_with` hands back here; a node
//!    already complete counts down at once; an orphan of a fork is failed first (fork rule 4).
//! 3. The callback runs exactly once, on the thread whose countdown reached zero, with the first
//!    error among the arrays in their given order. It must return quickly: it runs on a pool
//!    thread, or on the thread that registered it when everything had already finished.

use super::{fork, Waiter};
use crate::array::{Array, NodeState};
use crate::Result;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Callback = Box<dyn FnOnce(Result<()>) + Send>;

/// Arrays still to finish, and what to call when none is left.
pub(crate) struct Countdown {
    remaining: AtomicUsize,
    arrays: Vec<Array>,
    done: Mutex<Option<Callback>>,
}

/// Calls `done` once every array of `arrays` (submitted already) has finished (rule 3).
pub(crate) fn register(arrays: Vec<Array>, done: Callback) {
    if arrays.is_empty() {
        return done(Ok(()));
    }
    let countdown = Arc::new(Countdown {
        remaining: AtomicUsize::new(arrays.len()),
        arrays,
        done: Mutex::new(Some(done)),
    });
    for i in 0..countdown.arrays.len() {
        wait_for(&countdown.arrays[i], &countdown);
    }
}

/// Rule 2 for one array.
fn wait_for(a: &Array, countdown: &Arc<Countdown>) {
    loop {
        if a.0.result.get().is_some() {
            return available(a, countdown.clone());
        }
        let mut state = a.0.state.lock().unwrap();
        if fork::is_orphan(&state) {
            drop(state);
            fork::fail_orphan(a);
            continue;
        }
        match &mut *state {
            NodeState::Scheduled { waiters, .. } => {
                waiters.push(Waiter::Call(countdown.clone()));
                return;
            }
            // Completed between the check above and the lock: the result is set now.
            NodeState::Done => continue,
            NodeState::Lazy(_) => unreachable!("on_done for an array that was never submitted"),
        }
    }
}

/// Rule 1: `a` is available; count it down now, or when its device work has finished.
pub(crate) fn available(a: &Array, countdown: Arc<Countdown>) {
    match a.0.result.get() {
        Some(Ok(d)) if !d.buffer.is_ready() => match crate::backend::of("eval", d.device()) {
            Ok(b) => b.when_ready(
                d,
                Box::new(move || super::pool::spawn(move || countdown.one_finished())),
            ),
            Err(_) => countdown.one_finished(),
        },
        _ => countdown.one_finished(),
    }
}

impl Countdown {
    fn one_finished(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let done = self.done.lock().unwrap().take();
        if let Some(done) = done {
            let refs: Vec<&Array> = self.arrays.iter().collect();
            // Never blocks here: every array is available and its device work finished.
            done(super::wait_finished(&refs));
        }
    }
}
