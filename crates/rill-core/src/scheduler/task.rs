//! A task: one node's op, queued on the node's stream, run when its inputs are ready.

use super::Waiter;
use crate::array::{NodeState, Recipe};
use crate::{backend, trace, Array, Error, Result, Stream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub(crate) struct Task {
    pub(crate) out: Array,
    recipe: Recipe,
    /// Inputs on other streams not yet complete, plus one while the task is being wired up.
    pub(crate) deps: AtomicUsize,
    /// When the task was queued (taken only while capturing: a clock read per op is not free)
    /// and when its last cross-stream input arrived (read only when capturing a trace).
    pub(crate) submitted_at: Option<Instant>,
    pub(crate) ready_at: OnceLock<Instant>,
}

impl Task {
    pub(crate) fn new(out: Array, recipe: Recipe) -> Arc<Task> {
        Arc::new(Task {
            out,
            recipe,
            deps: AtomicUsize::new(1),
            submitted_at: trace::is_capturing().then(Instant::now),
            ready_at: OnceLock::new(),
        })
    }

    pub(crate) fn inputs(&self) -> &[Array] {
        &self.recipe.inputs
    }

    pub(crate) fn op_name(&self) -> &'static str {
        self.recipe.op.name()
    }

    pub(crate) fn stream(&self) -> Stream {
        self.out.stream()
    }

    /// Runs the op (or carries an input's error), publishes the result and wakes the waiters.
    pub(crate) fn run(&self) {
        // Capture off: one branch, no clock reads.
        let result = if trace::is_capturing() {
            let start = Instant::now();
            let result = self.compute();
            trace::record_task(self, start, Instant::now(), result.as_ref().err());
            result
        } else {
            self.compute()
        };
        complete(&self.out, result);
    }

    fn compute(&self) -> Result<crate::memory::Data> {
        let mut inputs = Vec::with_capacity(self.recipe.inputs.len());
        for a in &self.recipe.inputs {
            match a.0.result.get() {
                Some(Ok(d)) => inputs.push(backend::Input {
                    shape: a.shape(),
                    dtype: a.dtype(),
                    data: d,
                }),
                Some(Err(e)) => return Err(e.clone()),
                None => unreachable!("a task ran before its input {a:?} was available"),
            }
        }
        let out = backend::Output {
            shape: self.out.shape(),
            dtype: self.out.dtype(),
            stream: self.out.stream(),
        };
        let op = &self.recipe.op;
        catch_unwind(AssertUnwindSafe(|| backend::run(op, &inputs, &out))).unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::runtime(
                op.name(),
                format!("internal error (a kernel panicked): {msg}"),
            ))
        })
    }
}

/// Publishes `result` on `a` and wakes whoever waits for it (rule 4).
fn complete(a: &Array, result: Result<crate::memory::Data>) {
    let _ = a.0.result.set(result);
    let waiters = {
        let mut state = a.0.state.lock().unwrap();
        match std::mem::replace(&mut *state, NodeState::Done) {
            NodeState::Scheduled { waiters } => waiters,
            _ => Vec::new(),
        }
    };
    for w in waiters {
        match w {
            Waiter::Thread(t) => t.unpark(),
            Waiter::Task(task) => {
                if task.deps.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
                    if trace::is_capturing() {
                        trace::record_ready(&task);
                    }
                    super::on_task_ready(&task);
                }
            }
        }
    }
}
