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
//! 6. NVRTC builds part of its state during its first compile in a process and registers that
//!    state's destructors then; exit runs handlers in the reverse order of registration, so a
//!    handler registered before that first compile runs after those destructors, and a worker
//!    still compiling then used freed state (crashes in `nvrtcCompileProgram` at exit, or hangs,
//!    run O on the H200). So NVRTC's first compile is a tiny one made on the requesting thread
//!    (`compile::warm_up`, from `compile` below) before any job can compile, and the handler is
//!    registered again after it. A request whose kernel is already in the disk cache leaves
//!    NVRTC alone. (`tests/internals/background_compile.rs` crashes or hangs without this, with
//!    PyPI's NVRTC and no GPU.) Other libraries register exit handlers when they are first used
//!    too: on the GPU machine, cuBLASLt registered thousands at the process's first matmul, after
//!    rill's handler, and processes still crashed in NVRTC at exit with the main thread inside
//!    rill's handler, joining the worker (run P). So the handler is registered again before each
//!    job, after whatever was loaded since. On the GPU machine (run Q, an `__cxa_atexit` trace
//!    of every process): nothing registered after rill's last registration, and every one of 11
//!    runs exited cleanly (test-transforms 6, test-auto_fusion 3, pytest 2; in run P, before
//!    this, 3 of 8, 1 of 5 and 2 of 2 crashed or hung), so GPU streams fuse by default.
//! 7. A library may register an exit handler in the middle of a job (NVRTC does, for state a
//!    compile builds on first need), and that handler runs before ours: Node processes crashed
//!    in `nvrtcCompileProgram` at exit with the main thread inside our handler, joining the
//!    worker (run R on the H200: `node --test` of the suite with GPU fusion). `exit` destroys the
//!    exiting thread's thread-locals before it runs any exit handler, so the process's main
//!    thread carries a thread-local guard whose destructor closes the queue and joins the
//!    worker, as the handler does ([`watch_main_thread_exit`]). It is set on the main thread
//!    only: another thread's thread-locals are also destroyed when that thread ends, and the
//!    compiler must outlive it. The front-ends set it when they load (on the thread that loads
//!    them), and any request made on the main thread sets it; a process that exits from another
//!    thread still has the handler. (A main thread that leaves by `pthread_exit` while others go
//!    on closes the compiler for good: later new chains then run op by op, unfused.)

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
    request_with(key, || Some(Box::new(job)));
}

/// The first time `key` is requested: makes the module's source (`source`; None: nothing to
/// compile) on the calling thread, then compiles it for `arch` and hands it to `load` on the
/// compiling thread (`load` gets the source and makes the CUBIN through `compile::cubin`, which
/// reads the disk cache first). When the CUBIN is not on disk and NVRTC has not compiled in this
/// process yet, its first compile is made here, on the calling thread (rule 6).
pub(super) fn compile(
    key: u64,
    arch: String,
    source: impl FnOnce() -> Option<String>,
    load: impl FnOnce(String) + Send + 'static,
) {
    request_with(key, || {
        let src = source()?;
        if super::compile::needs_nvrtc(&src, &arch) {
            super::compile::warm_up(&arch);
        }
        Some(Box::new(move || load(src)))
    });
}

/// `compile` for a module that is compiled and dropped, not loaded (no GPU needed): how the
/// tests of these rules put NVRTC to work in the background (`internals::background_compile`).
pub fn compile_unloaded(key: u64, arch: &str, src: String) {
    let target = arch.to_string();
    compile(
        key,
        arch.to_string(),
        || Some(src),
        move |src| {
            let _ = super::compile::cubin(&src, &target, "background");
        },
    );
}

/// The first time `key` is requested, runs `prepare` on the calling thread and then the job it
/// returns (if any) on the compiling thread; later requests of `key` do nothing.
fn request_with(key: u64, prepare: impl FnOnce() -> Option<Job>) {
    register_exit_handler();
    if !state().requested.insert(key) {
        return;
    }
    let Some(job) = prepare() else {
        return;
    };
    let mut st = state();
    if st.closing {
        return;
    }
    st.jobs.push_back(job);
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
        // Libraries loaded since the last job (cuBLASLt at a process's first matmul, run P)
        // registered exit handlers of their own; ours must come after them (rule 6).
        register_again();
        job();
    }
}

fn register_exit_handler() {
    watch_main_thread_exit();
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

/// Registers the exit handler again (rule 6): after NVRTC's first compile in this process, and
/// before each job. Each registration is one entry in libc's list; the handler runs once per
/// entry at exit, and every run after the first finds no worker.
pub(super) fn register_again() {
    if OWNER.load(Ordering::Relaxed) == std::process::id() {
        #[cfg(unix)]
        // SAFETY: as in `register_exit_handler`.
        unsafe {
            libc::atexit(close_at_exit);
        }
    }
}

/// Closes the compiler at the exit of the process's main thread, before any exit handler runs
/// (rule 7), when called on that thread; does nothing on any other thread.
pub fn watch_main_thread_exit() {
    thread_local! {
        static CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if CHECKED.try_with(|c| c.replace(true)) != Ok(false) {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls without arguments.
    let main = unsafe { libc::gettid() == libc::getpid() };
    #[cfg(not(target_os = "linux"))]
    let main = false;
    if main {
        close_when_this_thread_ends();
    }
}

/// Closes the compiler (as the exit handler does) when this thread's thread-locals are
/// destroyed: at its end, or first thing in `exit` when this thread calls it (rule 7).
pub fn close_when_this_thread_ends() {
    struct CloseOnDrop;
    impl Drop for CloseOnDrop {
        fn drop(&mut self) {
            close_at_exit();
        }
    }
    thread_local! {
        static GUARD: CloseOnDrop = const { CloseOnDrop };
    }
    let _ = GUARD.try_with(|_| ());
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
