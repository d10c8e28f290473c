//! Running independent work of one stream side by side.
//!
//! A stream is an in-order queue, but most of its tasks do not depend on the task just before
//! them: `q = x @ wq; k = x @ wk; v = x @ wv` queues three products that could run at once. When
//! the pool has idle threads, the stream's drainer takes such a task from behind the front and runs
//! it *beside* the front task on another pool thread. Ops are pure, so the results are exactly
//! those of running in order; what could tell the difference is only errors and memory, and both
//! are kept as in-order execution would have them.
//!
//! # Rules
//!
//! 1. Only the stream's drainer (the thread holding its claim, stream_queue.rs) picks a task to
//!    run beside, and only from the first [`WINDOW`] queued tasks, on CPU streams: a GPU stream's
//!    kernels are already asynchronous, and a CUDA stream is in order on the device anyway.
//! 2. A task runs beside only when its inputs are all available (computed or failed) and it
//!    waits for nothing on another stream, so it needs nothing the front task produces. Its errors
//!    are its own, from its own inputs, as in order (scheduler rule 5).
//! 3. A task that reaches the front while an input of its own stream still runs beside waits for
//!    it by counting, as for an input of another stream (scheduler rule 3): no thread parks.
//! 4. A task runs beside only if it is big enough ([`MIN_WORK`]) that a hand-off to the pool (a
//!    few microseconds) is worth it. The queue counts its big tasks, so a stream with none (chains
//!    of tiny ops) pays one comparison per task. As many start at once as there are idle threads.
//! 5. Memory: running early can only raise the peak, never the result, unless it crosses the hard
//!    limit. So a task runs beside only while the device and the process keep more than half of
//!    their limit free after both outputs are allocated; near the limit, the stream runs in order.
//! 6. Each task running beside holds a `Draining` guard (kernel_threads.rs): kernels split
//!    themselves less while it runs, so the pool is never oversubscribed.

use super::{Task, Waiter};
use crate::array::NodeState;
use crate::op::Op;
use crate::{memory, Array, DeviceType, Stream};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How many queued tasks behind the front the drainer looks at (rule 1).
pub(crate) const WINDOW: usize = 16;

/// Element-operations (output elements, times the inner dimension for a product) from which a
/// task is worth running on another thread (rule 4): about 64K float additions, tens of µs.
pub(crate) const MIN_WORK: usize = 1 << 16;

/// A rough measure of an op's work: enough to tell a tiny op from a big one.
pub(crate) fn work(out: &Array, op: &Op, inputs: &[Array]) -> usize {
    let out = out.size();
    let widest_input = inputs.iter().map(|a| a.size()).max().unwrap_or(0);
    match op {
        Op::Matmul | Op::AddMm { .. } => {
            let inner = inputs
                .iter()
                .rev()
                .nth(1)
                .and_then(|a| a.shape().last().copied())
                .unwrap_or(1);
            out.saturating_mul(inner)
        }
        _ => out.max(widest_input),
    }
}

/// Whether a task is big enough to be run beside (rule 4).
pub(crate) fn is_big(task: &Task) -> bool {
    task.work >= MIN_WORK
}

/// How many tasks the drainer of `stream` may start beside its front now: none on a GPU stream
/// or when no big task is queued (one comparison for chains of tiny ops), else the idle threads.
pub(crate) fn room(stream: Stream, big_queued: usize) -> usize {
    if big_queued == 0 || stream.device().kind != DeviceType::Cpu {
        return 0;
    }
    crate::kernel_threads::idle_threads()
}

/// The position in `queued` (the tasks behind the front, the front already taken) of a task that
/// may run beside `front` (rules 1, 2, 4, 5), if any.
pub(crate) fn pick(front: &Task, queued: &VecDeque<Arc<Task>>) -> Option<usize> {
    let at = queued
        .iter()
        .take(WINDOW)
        .position(|t| is_big(t) && t.is_ready() && t.inputs().iter().all(|a| a.is_available()))?;
    memory_allows(front, &queued[at]).then_some(at)
}

/// Rule 5: more than half of the limit stays free with both outputs allocated.
fn memory_allows(front: &Task, candidate: &Task) -> bool {
    let device = front.stream().device();
    let extra = front.out.nbytes().saturating_add(candidate.out.nbytes());
    let fits = |active: usize, limit: usize| active.saturating_add(extra) <= limit / 2;
    fits(
        memory::active_memory(Some(device)),
        memory::memory_limit(Some(device)),
    ) && fits(memory::active_memory(None), memory::memory_limit(None))
}

/// Rule 3: makes `task` (at its stream's front) wait by counting for each input of its stream
/// still running beside. Returns whether it now waits for any: its `deps` count them, and the
/// input's completion releases them (`task::release_dep`), which restarts the stream.
pub(crate) fn wait_for_inputs_beside(task: &Arc<Task>) -> bool {
    let mut waits = false;
    for input in task.inputs() {
        if input.is_available() {
            continue;
        }
        let mut state = input.0.state.lock().unwrap();
        if let NodeState::Scheduled { waiters, .. } = &mut *state {
            task.deps.fetch_add(1, Ordering::AcqRel);
            waiters.push(Waiter::Task(task.clone()));
            waits = true;
        }
    }
    waits
}
