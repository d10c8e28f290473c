//! The scheduler: turns lazy graphs into tasks on stream queues and runs them.
//!
//! # Rules
//!
//! 1. **Submission is serialized.** Moving nodes from `Lazy` to `Scheduled` and pushing their tasks
//!    onto stream queues happens under one process-wide lock, [`SUBMIT`], in post-order (inputs
//!    first; the graphs of roots on different streams in turns, `submit`). Hence: *a node that is
//!    `Scheduled` is already in its stream's queue*, and on one stream a consumer is always queued
//!    behind its producers. Submission is cheap (a few hundred
//!    nanoseconds per node), so the lock is held briefly; it is never held while a kernel runs.
//! 2. **One drainer per stream.** A stream's queue is run by at most one thread at a time (the
//!    `draining` flag, read and written under the queue's mutex), so its tasks run in submission
//!    order; the drainer may hand a task whose inputs are all available to the pool, to run beside
//!    the front while cores are idle (`beside.rs`: results and errors are those of the order). Different streams run at once on the shared pool (rayon's, sized to the cores), or on
//!    a thread that called `eval` and runs its own stream inline. A stream that gets more than
//!    [`EARLY_START`] tasks from one graph starts draining on the pool while the rest of the graph
//!    is still being submitted, so building the queue and running it overlap.
//! 3. **Nobody blocks on another stream.** A task waits only for inputs produced on *other*
//!    streams, and it does so by counting (`Task::deps`), not by parking a thread: a stream whose
//!    head task is not ready goes idle, and the completion of the last missing input pokes it.
//!    With two pool threads, blocking waits could deadlock; counting cannot.
//! 4. **Results are published before waiters wake.** A node's `result` (a `OnceLock`) is set, then
//!    its waiter list is taken and its state set to `Done` under the node's mutex; a waiter that
//!    arrives later sees `Done` and does not wait.
//! 5. **Errors travel along edges.** A task whose input failed does not run: it completes with the
//!    same error. A panic inside a kernel becomes an error on that task's array.
//! 6. **Lock order:** `SUBMIT` -> node state -> stream queue. Drainers never take `SUBMIT`.
//! 7. **Device work finishes after its task.** On an asynchronous device (a GPU) a task only
//!    queues its kernels: the node's result is published when they are queued, and its buffer
//!    knows when they finish. A task on the same device orders itself after them on the device (the
//!    backend makes its stream wait); a task on another device (the CPU) must see finished data, so
//!    its dependency is released by the backend's completion callback (`when_ready`), never by a
//!    thread waiting. A thread in `eval`, `wait` or `synchronize` waits for the data itself.
//! 8. **A forked child starts afresh.** `fork.rs` holds `SUBMIT` and the stream table across a
//!    `fork()`; the child gets empty queues and a pool of its own (`pool.rs`), and arrays that
//!    were in flight in the parent complete with an error when the child meets them.
//! 9. **A callback can stand in for a waiting thread.** `AsyncEval::on_done` registers one
//!    callback for several arrays as a waiter of each (`on_done.rs`); the thread that finishes
//!    the last one calls it. Front-ends that must not block a thread use it.
//! 10. **Lazy elementwise chains may run as one node.** While submitting, a node whose
//!     lazy elementwise inputs nobody else holds may take them into one fused node
//!     (`auto_fuse.rs`); only unobservable values disappear, and results are unchanged.

mod auto_fuse;
mod beside;
mod fork;
mod on_done;
mod pool;
mod stream_queue;
mod task;

pub use auto_fuse::{
    auto_fusion, set_auto_fusion, AutoFusion, MAX_INPUTS as AUTO_FUSE_MAX_INPUTS,
    MAX_OPS as AUTO_FUSE_MAX_OPS,
};
pub(crate) use stream_queue::StreamQueue;
pub(crate) use task::Task;

use crate::array::{Array, NodeState};
use crate::{Device, Result, Stream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock, RwLockWriteGuard};
use std::thread::Thread;

static SUBMIT: Mutex<()> = Mutex::new(());

/// Tasks one `submit` queues on a stream before a pool thread starts draining it mid-submission
/// (rule 2). Graphs smaller than this keep the cheaper path: the evaluating thread runs its one
/// stream itself after submitting, with no hand-off to the pool.
pub(crate) const EARLY_START: usize = 64;

/// Every stream of the process, by index. Streams are never removed (handles are `Copy`).
static STREAMS: RwLock<Vec<Arc<StreamQueue>>> = RwLock::new(Vec::new());

/// Something waiting for a node to complete.
pub(crate) enum Waiter {
    /// A task on another stream that needs this node as input.
    Task(Arc<Task>),
    /// A thread parked in `eval` or `wait`.
    Thread(Thread),
    /// A callback of [`AsyncEval::on_done`] counting this node down (`on_done.rs`).
    Call(Arc<on_done::Countdown>),
}

/// The stream table, locked for writing (held across a fork: see `fork.rs`).
pub(crate) type StreamsWrite = RwLockWriteGuard<'static, Vec<Arc<StreamQueue>>>;

fn streams_write() -> StreamsWrite {
    STREAMS.write().unwrap_or_else(|e| e.into_inner())
}

/// In a forked child: every stream gets an empty queue (rule 8). The old queues are leaked, not
/// dropped: their tasks belong to threads that no longer exist.
fn replace_queues(streams: &mut StreamsWrite) {
    let fresh = streams
        .iter()
        .map(|q| Arc::new(StreamQueue::new(q.stream)))
        .collect();
    std::mem::forget(std::mem::replace(&mut **streams, fresh));
}

pub(crate) fn create_stream(device: Device) -> Result<Stream> {
    fork::install_handlers();
    let backend = crate::backend::of("new_stream", device)?;
    let mut streams = STREAMS.write().unwrap();
    let stream = Stream::from_parts(streams.len() as u32, device);
    backend.new_stream(stream)?;
    streams.push(Arc::new(StreamQueue::new(stream)));
    Ok(stream)
}

pub(crate) fn queue(stream: Stream) -> Arc<StreamQueue> {
    STREAMS.read().unwrap()[stream.index()].clone()
}

pub(crate) fn check_stream(op: &'static str, stream: Stream) -> Result<()> {
    match STREAMS.read().unwrap().get(stream.index()) {
        Some(q) if q.stream == stream => Ok(()),
        _ => Err(crate::stream::unknown_stream(op, stream)),
    }
}

fn all_queues() -> Vec<Arc<StreamQueue>> {
    STREAMS.read().unwrap().clone()
}

/// Evaluates `arrays` and everything they depend on; returns the first error among them.
///
/// The calling thread runs the work of the first root's stream itself when that stream is idle,
/// which spares two thread hand-offs for small graphs; other streams run on the pool.
pub fn eval(arrays: &[&Array]) -> Result<()> {
    crate::transforms::check_eval(arrays)?;
    if arrays.iter().all(|a| a.is_available()) {
        return wait_finished(arrays);
    }
    let claimed = submit(arrays);
    // Inline only when one stream has work: with several, the pool (sized to the cores) runs them
    // all, and a calling thread that also ran one would oversubscribe the cores (on two cores the
    // two streams then took turns instead of overlapping).
    let inline = if claimed.len() == 1 {
        arrays
            .iter()
            .find(|a| !a.is_available())
            .map(|a| a.stream())
    } else {
        None
    };
    let mut inline_queue = None;
    for q in claimed {
        if Some(q.stream) == inline && inline_queue.is_none() {
            inline_queue = Some(q);
        } else {
            StreamQueue::spawn_drain(q);
        }
    }
    if let Some(q) = inline_queue {
        let target = arrays
            .iter()
            .rev()
            .find(|a| a.stream() == q.stream)
            .copied();
        pool::run_inline(|| q.drain(target, usize::MAX));
    }
    for a in arrays {
        wait(a);
    }
    wait_finished(arrays)
}

/// A handle to work started by [`async_eval`].
#[must_use = "an AsyncEval does nothing unless waited on; dropping it lets the work go on"]
pub struct AsyncEval {
    arrays: Vec<Array>,
}

impl AsyncEval {
    /// Blocks until every array is available; returns the first error among them.
    pub fn wait(&self) -> Result<()> {
        for a in &self.arrays {
            wait(a);
        }
        wait_finished(&self.arrays.iter().collect::<Vec<_>>())
    }
    /// Calls `done` once every array is available and its device work has finished, with the
    /// first error among them, and returns at once: no thread waits meanwhile. `done` runs on the
    /// pool thread that finished the last array (or here, if all had finished already), so it
    /// must be quick: hand the result on (settle a promise, send on a channel).
    pub fn on_done(self, done: impl FnOnce(Result<()>) + Send + 'static) {
        on_done::register(self.arrays, Box::new(done));
    }
    /// True when every array is available and its device work has finished (never blocks).
    pub fn is_done(&self) -> bool {
        self.arrays.iter().all(|a| match a.0.result.get() {
            Some(Ok(d)) => d.buffer.is_ready(),
            Some(Err(_)) => true,
            None => false,
        })
    }
}

/// Starts evaluating `arrays` on their streams and returns at once.
pub fn async_eval(arrays: &[&Array]) -> AsyncEval {
    for q in submit(arrays) {
        StreamQueue::spawn_drain(q);
    }
    AsyncEval {
        arrays: arrays.iter().map(|a| (*a).clone()).collect(),
    }
}

/// True when more than `limit` distinct nodes reachable from `roots` are still lazy (never
/// submitted). It visits at most `limit + 1` of them, so it is cheap next to submitting them: a
/// front-end whose thread must stay responsive (Node's event loop) asks it before `async_eval`
/// and submits a big graph from another thread (a 100 000-op graph takes ~200 ms to submit).
/// Reads each recipe under its node's mutex only (no `SUBMIT`): a concurrent submission may
/// make the answer stale, never wrong in a way that matters (it is a size hint).
pub fn lazy_nodes_exceed(roots: &[&Array], limit: usize) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<Array> = roots.iter().map(|a| (*a).clone()).collect();
    let mut count = 0usize;
    while let Some(a) = stack.pop() {
        if a.is_available() || !seen.insert(a.id()) {
            continue;
        }
        let state = a.0.state.lock().unwrap_or_else(|e| e.into_inner());
        let NodeState::Lazy(recipe) = &*state else {
            continue;
        };
        count += 1;
        if count > limit {
            return true;
        }
        stack.extend(recipe.inputs.iter().filter(|i| !i.is_available()).cloned());
    }
    false
}

/// Blocks until every task submitted to `stream` so far has run, and its device work finished.
pub fn synchronize(stream: Stream) -> Result<()> {
    check_stream("synchronize", stream)?;
    queue(stream).wait_idle();
    crate::backend::of("synchronize", stream.device())?.synchronize(stream)
}

/// Blocks until every task submitted so far, on every stream of every device, has run and its
/// device work has finished.
pub fn synchronize_all() {
    for q in all_queues() {
        q.wait_idle();
        if let Ok(b) = crate::backend::of("synchronize", q.stream.device()) {
            // A device error here has already been stored on the arrays it concerns.
            let _ = b.synchronize(q.stream);
        }
    }
}

fn first_error(arrays: &[&Array]) -> Result<()> {
    for a in arrays {
        if let Some(Err(e)) = a.0.result.get() {
            return Err(e.clone());
        }
    }
    Ok(())
}

/// The first error among `arrays` (all available), after waiting for their device work (rule 7).
fn wait_finished(arrays: &[&Array]) -> Result<()> {
    first_error(arrays)?;
    for a in arrays {
        if let Some(Ok(d)) = a.0.result.get() {
            d.buffer.wait_ready()?;
        }
    }
    Ok(())
}

/// Parks the current thread until `a` is available. `a` must have been submitted.
pub(crate) fn wait(a: &Array) {
    while a.0.result.get().is_none() {
        {
            let mut state = a.0.state.lock().unwrap();
            if fork::is_orphan(&state) {
                drop(state);
                fork::fail_orphan(a);
                continue;
            }
            match &mut *state {
                NodeState::Scheduled { waiters, .. } => {
                    waiters.push(Waiter::Thread(std::thread::current()))
                }
                NodeState::Done => continue,
                NodeState::Lazy(_) => unreachable!("waiting on an array that was never submitted"),
            }
        }
        // A wake-up may be spurious or stale; the loop re-checks the result.
        std::thread::park();
    }
}

/// Moves every lazy node reachable from `roots` onto its stream's queue (rule 1) and returns the
/// queues this call claimed for draining (rule 2): the caller must drain or spawn each one.
///
/// Roots on different streams are walked in turns, [`SUBMIT_TURN`] tasks at a time, so every
/// stream gets its first tasks (and starts draining, rule 2) early instead of after the graphs of
/// the roots before it (sixteen chains of 400 tasks on sixteen streams: the last stream waited for
/// the other fifteen chains' submission, ~9 ms on 16 cores). Each walk is a complete post-order
/// walk of what is still lazy when it gets there, so a node two walks reach is queued by the
/// first that finishes its inputs, after them; the other walk then finds it scheduled.
pub(crate) fn submit(roots: &[&Array]) -> Vec<Arc<StreamQueue>> {
    let _submit = SUBMIT.lock().unwrap_or_else(|e| e.into_inner());
    let mut targets: Vec<Target> = Vec::new();
    // One iterative post-order walk per root stream: stacks of (node, inputs already pushed),
    // roots in order within each.
    let mut walks: Vec<(Stream, Vec<(Array, bool)>)> = Vec::new();
    for a in roots {
        match walks.iter_mut().find(|(s, _)| *s == a.stream()) {
            Some((_, stack)) => stack.push(((*a).clone(), false)),
            None => walks.push((a.stream(), vec![((*a).clone(), false)])),
        }
    }
    for (_, stack) in &mut walks {
        stack.reverse();
    }
    let mut turn = 0;
    while !walks.is_empty() {
        let i = turn % walks.len();
        let stack = &mut walks[i].1;
        let mut queued = 0;
        while queued < SUBMIT_TURN {
            let Some((a, expanded)) = stack.pop() else {
                break;
            };
            queued += usize::from(visit(a, expanded, stack, &mut targets));
        }
        if stack.is_empty() {
            walks.remove(i);
            turn = i;
        } else {
            turn = i + 1;
        }
    }
    drop(_submit);
    targets
        .into_iter()
        .filter(|t| t.any_ready && t.queue.try_claim())
        .map(|t| t.queue)
        .collect()
}

/// Tasks one walk of `submit` queues before the next root stream's walk takes a turn: enough for
/// its stream to start draining in its first turn ([`EARLY_START`]).
const SUBMIT_TURN: usize = EARLY_START + 1;

/// One step of a post-order walk: expands a lazy node not yet `expanded` (fusing what it can,
/// pushing its pending inputs), or queues an expanded one on its stream. Returns whether a task
/// was queued.
fn visit(
    a: Array,
    expanded: bool,
    stack: &mut Vec<(Array, bool)>,
    targets: &mut Vec<Target>,
) -> bool {
    if a.is_available() {
        return false;
    }
    let mut state = a.0.state.lock().unwrap();
    let NodeState::Lazy(recipe) = &mut *state else {
        return false;
    };
    if !expanded {
        // Dropped once the lock is released: it frees the nodes fused away.
        let fused_away = auto_fuse::fuse(&a, recipe);
        stack.push((a.clone(), true));
        stack.extend(
            recipe
                .inputs
                .iter()
                .rev()
                .filter(|i| !i.is_available())
                .map(|i| (i.clone(), false)),
        );
        drop(state);
        drop(fused_away);
        return false;
    }
    let NodeState::Lazy(recipe) = std::mem::replace(
        &mut *state,
        NodeState::Scheduled {
            waiters: Vec::new(),
            generation: fork::generation(),
        },
    ) else {
        unreachable!()
    };
    drop(state);
    let task = Task::new(a.clone(), recipe);
    // Cross-stream inputs that are still pending: count them and ask to be told (rule 3);
    // device data still in flight that this task must see finished, likewise (rule 7).
    for input in task.inputs() {
        if input.0.result.get().is_none() && fork::is_orphan(&input.0.state.lock().unwrap()) {
            fork::fail_orphan(input);
        }
        if let Some(result) = input.0.result.get() {
            if let Ok(d) = result {
                if !d.is_host() && !d.buffer.is_ready() && task::needs_finished_data(&task, d) {
                    task.deps.fetch_add(1, Ordering::AcqRel);
                    task::when_finished(d, task.clone());
                }
            }
            continue;
        }
        if input.stream() == a.stream() {
            continue;
        }
        let mut s = input.0.state.lock().unwrap();
        if let NodeState::Scheduled { waiters, .. } = &mut *s {
            task.deps.fetch_add(1, Ordering::AcqRel);
            waiters.push(Waiter::Task(task.clone()));
        } else if let Some(Ok(d)) = input.0.result.get() {
            // Completed since the check above: only its device work may still be in flight.
            if !d.is_host() && !d.buffer.is_ready() && task::needs_finished_data(&task, d) {
                task.deps.fetch_add(1, Ordering::AcqRel);
                task::when_finished(d, task.clone());
            }
        }
    }
    let target = match targets.iter().position(|t| t.queue.stream == a.stream()) {
        Some(i) => &mut targets[i],
        None => {
            targets.push(Target {
                queue: queue(a.stream()),
                queued: 0,
                any_ready: false,
            });
            targets.last_mut().unwrap()
        }
    };
    target.queued += 1;
    // The claim can only come from an earlier task at the front: this one still holds its
    // guard count, which is released only once it is queued (else an input finishing in
    // between would find it in no queue and start nothing).
    if target.queue.push(task.clone(), target.queued > EARLY_START) {
        StreamQueue::spawn_drain(target.queue.clone());
    }
    // Release the guard count that kept the task from looking ready while it was being wired.
    if task.deps.fetch_sub(1, Ordering::AcqRel) == 1 {
        target.any_ready = true;
    }
    true
}

/// A stream's queue as one `submit` call sees it.
struct Target {
    queue: Arc<StreamQueue>,
    /// Tasks this call queued on it.
    queued: usize,
    /// Whether any of them was ready when queued (only then can this call have to start it).
    any_ready: bool,
}

/// Called when `task`'s last missing input completed: start its stream if it can go.
pub(crate) fn on_task_ready(task: &Task) {
    let q = queue(task.stream());
    if q.try_claim() {
        StreamQueue::spawn_drain(q);
    }
}
