//! A task: one node's op, queued on the node's stream, run when its inputs are ready.

use super::Waiter;
use crate::array::{NodeState, Recipe};
use crate::memory::Data;
use crate::op::Op;
use crate::{backend, trace, Array, DeviceType, Error, Result, Stream};
use smallvec::SmallVec;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize};
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
    /// Set when the task was taken from behind its stream's front to run beside it (beside.rs);
    /// the trace draws such tasks on a lane of their own.
    pub(crate) beside: AtomicBool,
    /// A rough measure of the op's work (beside.rs), computed once when queued.
    pub(crate) work: usize,
}

impl Task {
    pub(crate) fn new(out: Array, recipe: Recipe) -> Arc<Task> {
        let work = super::beside::work(&out, &recipe.op, &recipe.inputs);
        Arc::new(Task {
            work,
            out,
            recipe,
            deps: AtomicUsize::new(1),
            submitted_at: trace::is_capturing().then(Instant::now),
            ready_at: OnceLock::new(),
            beside: AtomicBool::new(false),
        })
    }

    pub(crate) fn inputs(&self) -> &[Array] {
        &self.recipe.inputs
    }

    /// The op's name in a timeline: a fused node lists the ops it replaced.
    pub(crate) fn op_label(&self) -> std::borrow::Cow<'static, str> {
        match &self.recipe.op {
            Op::Fused(k) => k.label().into(),
            op => op.name().into(),
        }
    }

    pub(crate) fn stream(&self) -> Stream {
        self.out.stream()
    }

    /// Runs the op (or carries an input's error), publishes the result and wakes the waiters.
    pub(crate) fn run(&self) {
        // Capture off: one branch, no clock reads.
        let result = if trace::is_capturing() {
            let stream = self.out.stream();
            let mut span = match stream.device().kind {
                DeviceType::Cpu => None,
                _ => backend::of("eval", stream.device())
                    .ok()
                    .and_then(|b| b.begin_span(stream)),
            };
            let start = Instant::now();
            let result = self.compute();
            let end = Instant::now();
            if let Some(s) = span.as_mut() {
                s.end();
            }
            trace::record_task(self, start, end, result.as_ref().err(), span);
            result
        } else {
            self.compute()
        };
        complete_with(&self.out, result);
    }

    fn compute(&self) -> Result<crate::memory::Data> {
        if matches!(self.recipe.op, Op::Depends) {
            return depends_result(&self.recipe.inputs);
        }
        let stream = self.out.stream();
        let device = stream.device();
        // Inputs computed on another device (or made from host data, for a device op) are copied
        // to this one on this stream, once per input array (`Array::input_on` keeps the copy).
        // One-element host arrays (the `1` of `x + 1`) go to a device's backend as they are: its
        // kernels take them by value, which saves a copy to the device per op (`Backend::run`).
        let mut data: SmallVec<[Data; 4]> = SmallVec::with_capacity(self.recipe.inputs.len());
        for a in &self.recipe.inputs {
            let scalar = match device.kind {
                DeviceType::Cpu => None,
                _ => a.host_scalar(),
            };
            data.push(match scalar {
                Some(d) => d,
                None => a.input_on(device, stream)?,
            });
        }
        let inputs: SmallVec<[backend::Input; 4]> = self
            .recipe
            .inputs
            .iter()
            .zip(&data)
            .map(|(a, d)| backend::Input {
                shape: a.shape(),
                dtype: a.dtype(),
                data: d,
            })
            .collect();
        let out = backend::Output {
            shape: self.out.shape(),
            dtype: self.out.dtype(),
            stream,
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

/// The result of an `Op::Depends` node (`ops::depends`): input 0's data itself, shared (no copy,
/// no kernel, and no move to the node's device: the data stays where it was computed, as the
/// input's own does), once the scheduler has counted every input as available. A dependency
/// is only waited for: its data is never read nor moved, but its error is the output's.
fn depends_result(inputs: &[Array]) -> Result<Data> {
    let value = |a: &Array| match a.0.result.get() {
        Some(r) => r.clone(),
        None => unreachable!("a task ran before its input {a:?} was available"),
    };
    for dep in &inputs[1..] {
        value(dep)?;
    }
    value(&inputs[0])
}

/// Publishes `result` on `a` and wakes whoever waits for it (rule 4). Tasks on another device
/// than the data's wait for its device work to finish as well (rule 7).
pub(crate) fn complete_with(a: &Array, result: Result<Data>) {
    let _ = a.0.result.set(result);
    let waiters = {
        let mut state = a.0.state.lock().unwrap();
        match std::mem::replace(&mut *state, NodeState::Done) {
            NodeState::Scheduled { waiters, .. } => waiters,
            _ => Vec::new(),
        }
    };
    let pending = match a.0.result.get() {
        Some(Ok(d)) if !d.is_host() => Some(d),
        _ => None,
    };
    // The ready event is recorded now for waiters that need it: threads and tasks of other
    // streams. A task of the same stream is ordered after this one by the stream itself (a chain
    // of ops on one GPU stream records no events).
    let same_stream = |w: &Waiter| matches!(w, Waiter::Task(t) if t.stream() == a.stream());
    if let (Some(d), false) = (pending, waiters.iter().all(same_stream)) {
        if let Ok(b) = backend::of("eval", d.device()) {
            b.mark_awaited(d);
        }
    }
    for w in waiters {
        match w {
            Waiter::Thread(t) => t.unpark(),
            Waiter::Call(countdown) => super::on_done::available(a, countdown),
            Waiter::Task(task) => match pending {
                Some(d) if needs_finished_data(&task, d) => when_finished(d, task),
                _ => release_dep(task),
            },
        }
    }
}

/// True when `task` must wait for `data`'s device work to finish, not only to be queued: a task
/// on the same device orders itself after it on the device (a stream wait), any other cannot.
pub(crate) fn needs_finished_data(task: &Task, data: &Data) -> bool {
    let device = task.stream().device();
    device.kind == DeviceType::Cpu || device != data.device()
}

/// Releases one of `task`'s dependencies once `data`'s device work has finished.
pub(crate) fn when_finished(data: &Data, task: Arc<Task>) {
    match backend::of("eval", data.device()) {
        // The callback may run on a driver thread where dropping device memory is forbidden:
        // hand the task (which holds arrays) to the pool at once.
        Ok(b) => b.when_ready(
            data,
            Box::new(move || super::pool::spawn(move || release_dep(task))),
        ),
        Err(_) => release_dep(task),
    }
}

/// Counts down one of `task`'s dependencies and starts its stream when it was the last.
pub(crate) fn release_dep(task: Arc<Task>) {
    if task.deps.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
        if trace::is_capturing() {
            trace::record_ready(&task);
        }
        super::on_task_ready(&task);
    }
}
