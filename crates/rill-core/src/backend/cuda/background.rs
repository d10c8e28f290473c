//! Kernels compiled away from the threads that run ops: the programs the scheduler's auto-fusion
//! meets for the first time (`scheduler/auto_fuse.rs`, rule 4). NVRTC takes milliseconds per
//! program; a thread draining a stream must not wait for it, so the ops run one by one until the
//! kernel is loaded, and later evaluations of the same chain find it.
//!
//! Rules: one thread, started on the first request, runs jobs in the order they came. A key is
//! requested at most once per process (a program whose kernel fails to compile, a bug, is then
//! simply never fused). Jobs only compile and load modules (`Kernels::function_by_key`, which
//! makes the GPU's context current on this thread); they never launch work or touch a stream, so
//! no stream's order can depend on them. At exit no job runs: an `atexit` handler, registered
//! after NVRTC and the driver were loaded (so it runs before their own teardown), waits for the
//! job in progress and closes the queue (a job still running while the libraries tore themselves
//! down crashed the process as it exited).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// The compiling thread's queue (None when the thread could not be started).
static QUEUE: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();

/// Keys already requested.
static REQUESTED: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

/// Set when the process starts exiting: no job starts after that.
static CLOSING: AtomicBool = AtomicBool::new(false);

/// Held while a job runs.
static RUNNING: Mutex<()> = Mutex::new(());

extern "C" fn close_at_exit() {
    // First the flag (the worker checks it before each job), then wait for the job in progress.
    CLOSING.store(true, Ordering::SeqCst);
    drop(RUNNING.lock());
}

/// Runs `job` on the compiling thread unless `key` was requested before.
pub fn request(key: u64, job: impl FnOnce() + Send + 'static) {
    {
        let mut requested = REQUESTED.lock().unwrap_or_else(|e| e.into_inner());
        if !requested.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    let queue = QUEUE.get_or_init(|| {
        let (send, receive) = channel::<Job>();
        std::thread::Builder::new()
            .name("rill-kernel-compile".into())
            .spawn(move || {
                for job in receive {
                    let _running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
                    if CLOSING.load(Ordering::SeqCst) {
                        return;
                    }
                    job();
                }
            })
            .ok()
            .map(|_| {
                #[cfg(unix)]
                // SAFETY: `close_at_exit` is a plain function that only takes a mutex; registering
                // it has no other effect.
                unsafe {
                    libc::atexit(close_at_exit);
                }
                Mutex::new(send)
            })
    });
    if let Some(queue) = queue {
        // A send fails only if the thread is gone (it never returns while the sender lives).
        let _ = queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Box::new(job));
    }
}
