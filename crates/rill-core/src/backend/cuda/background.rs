//! Kernels compiled away from the threads that run ops: the programs the scheduler's auto-fusion
//! meets for the first time (`scheduler/auto_fuse.rs`, rule 4). NVRTC takes milliseconds per
//! program; a thread draining a stream must not wait for it, so the ops run one by one until the
//! kernel is loaded, and later evaluations of the same chain find it.
//!
//! # Rules
//!
//! 1. Jobs run one at a time, in the order they came, on a worker thread that lives only while
//!    there are jobs: it leaves when it finds the queue empty, and the next request starts
//!    another. No thread that used NVRTC stays alive idle, so NVRTC's per-thread state is torn
//!    down with its thread, never left behind for the process's exit (processes that had a
//!    compiler thread idle at exit crashed in libc's `free` as they exited, run K on the H200).
//! 2. A key is requested at most once per process (a program whose kernel fails to compile, a
//!    bug, is then simply never fused).
//! 3. Jobs only compile and load modules (`Kernels::function_by_key`, which makes the GPU's
//!    context current on its thread); they never launch work or touch a stream, so no stream's
//!    order can depend on them.
//! 4. At exit no job starts: an `atexit` handler drops the queue and joins the worker, which ends
//!    the job it is running. The handler is registered after NVRTC is loaded, so it runs before
//!    NVRTC's own teardown (a job still compiling while the libraries tore themselves down
//!    crashed the process, run I).
//! 5. A forked child has no worker (threads do not survive `fork`) and may hold a copy of a lock
//!    that no thread will release: its exit handler touches nothing, and its requests are queued
//!    but never run (a child cannot use the parent's GPU context anyway).

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

struct State {
    /// Keys already requested.
    requested: BTreeSet<u64>,
    jobs: VecDeque<Job>,
    /// The last worker started (it may have left already; joining it then returns at once).
    worker: Option<JoinHandle<()>>,
    /// Whether a worker is taking jobs; false once it found the queue empty (and is leaving).
    draining: bool,
    /// Set by the exit handler: no job is queued or started after it.
    closing: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    requested: BTreeSet::new(),
    jobs: VecDeque::new(),
    worker: None,
    draining: false,
    closing: false,
});

/// The process that registered the exit handler (0: not registered).
static OWNER: AtomicU32 = AtomicU32::new(0);

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `job` on the compiling thread unless `key` was requested before.
pub fn request(key: u64, job: impl FnOnce() + Send + 'static) {
    register_exit_handler();
    let mut st = state();
    if st.closing || !st.requested.insert(key) {
        return;
    }
    st.jobs.push_back(Box::new(job));
    if st.draining || OWNER.load(Ordering::Relaxed) != std::process::id() {
        return;
    }
    let previous = st.worker.take();
    match std::thread::Builder::new()
        .name("rill-kernel-compile".into())
        .spawn(drain)
    {
        Ok(worker) => {
            st.worker = Some(worker);
            st.draining = true;
        }
        // No thread: these programs are never fused; their ops run one by one.
        Err(_) => st.jobs.clear(),
    }
    drop(st);
    // The previous worker has left the queue (it set `draining` to false): reap it.
    if let Some(previous) = previous {
        let _ = previous.join();
    }
}

/// The worker: takes jobs until none is left (or the process is exiting), then leaves.
fn drain() {
    loop {
        let job = {
            let mut st = state();
            match st.jobs.pop_front() {
                Some(job) if !st.closing => job,
                _ => {
                    st.draining = false;
                    return;
                }
            }
        };
        job();
    }
}

fn register_exit_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // NVRTC first: libraries loaded after the handler is registered are torn down before it
        // runs, possibly under a job still compiling.
        super::compile::load_nvrtc();
        OWNER.store(std::process::id(), Ordering::Relaxed);
        #[cfg(unix)]
        // SAFETY: `close_at_exit` is a plain function; registering it has no other effect.
        unsafe {
            libc::atexit(close_at_exit);
        }
    });
}

extern "C" fn close_at_exit() {
    if OWNER.load(Ordering::Relaxed) != std::process::id() {
        return; // a forked child (rule 5)
    }
    let worker = {
        let mut st = state();
        st.closing = true;
        st.jobs.clear();
        st.worker.take()
    };
    if let Some(worker) = worker {
        let _ = worker.join();
    }
}
