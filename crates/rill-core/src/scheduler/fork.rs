//! What a process forked while rill runs gets: a working runtime, not a hang.
//!
//! `fork()` copies memory but only the calling thread. Without care the child inherits queues
//! whose drainers no longer exist, arrays that are `Scheduled` forever (their work was in flight on
//! threads that are gone), rayon's global pool with no threads, and any lock that one of those
//! threads held at the instant of the fork: its first `eval` never returns (MLX hangs the same way).
//! Data loaders that fork workers (PyTorch's `DataLoader`, `multiprocessing` with "fork") need the
//! child to compute.
//!
//! # Rules
//!
//! 1. Handlers are registered with `pthread_atfork` when the first stream is made (no work can
//!    exist before that). Before them, the lazily initialized state that kernels on pool threads
//!    would otherwise build on first use is built by the thread making that stream: a child whose
//!    fork interrupted such an initialization waits for it forever (a `Once` left "running" by a
//!    thread that does not exist in the child). The one found so far is `gemm`'s table of cache
//!    sizes, read from `/sys` for milliseconds on a many-core machine: a matmul in a child forked
//!    during the parent's first matmul hung 1 time in 25 on 16 cores
//!    (`crates/rill-bench/examples/fork_probe.rs`).
//! 2. **Prepare** (parent, before the fork) takes, in the scheduler's lock order, the locks the
//!    child will need: `SUBMIT`, then the stream table for writing, then every shard of the host
//!    memory cache and the table of default streams. Holding them, no other thread is inside
//!    them when memory is copied, so the child's copies are consistent and unlocked by their one
//!    owner. **Parent** releases them.
//! 3. **Child** (one thread) bumps the fork generation, replaces every stream's queue by an empty
//!    one (the old queues and their tasks are leaked: dropping them could touch state of threads
//!    that no longer exist), arms a fresh pool ([`super::pool`]), then releases the locks.
//! 4. An array still `Scheduled` by an earlier generation is an orphan: its work was lost with
//!    the parent's threads. Whoever meets one in the child (a wait, or a new task that takes it as
//!    input) completes it with [`orphan_error`], which flows to its dependents as any error does.
//!    Arrays finished before the fork keep their values.
//! 5. A GPU backend initialized before the fork cannot be used in the child (CUDA does not
//!    survive fork): GPU ops there fail with an error that says to use the "spawn" start method.
//!
//! What is not covered: a node's own small mutex held by a pool thread at the very instant of the
//! fork (held for a few instructions while a result is published); a child meeting that node
//! would block. The locks above are the ones held for longer. Nor is a lazy initialization inside
//! another library that rill does not know of (rule 1 covers the ones kernels reach).

use crate::array::NodeState;
use crate::{Array, Error};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Once;

/// How many forks separate this process from the one that started rill (0: not a forked child).
static GENERATION: AtomicU32 = AtomicU32::new(0);

/// Set by `prepare` for the child to read: whether the process being forked has a GPU backend
/// (or lost one itself).
static CHILD_LOSES_GPU: AtomicBool = AtomicBool::new(false);

/// The fork generation of this process (see rule 4).
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Relaxed)
}

/// The error an orphaned array (rule 4) completes with.
pub(crate) fn orphan_error(op: &'static str) -> Error {
    Error::Runtime {
        op,
        msg: "this array was being evaluated when the process forked; its work was lost with the \
              parent's threads (evaluate it again in the child, or before forking)"
            .into(),
    }
}

/// Completes `a`, scheduled by an earlier generation, with [`orphan_error`] (rule 4). The caller
/// holds no lock of `a`.
pub(crate) fn fail_orphan(a: &Array) {
    let op = a.op_name().unwrap_or("eval");
    super::task::complete_with(a, Err(orphan_error(op)));
}

/// Whether `state` is an array scheduled by an earlier generation.
pub(crate) fn is_orphan(state: &NodeState) -> bool {
    matches!(state, NodeState::Scheduled { generation, .. } if *generation != self::generation())
}

/// Registers the handlers once (rule 1).
pub(crate) fn install_handlers() {
    static ONCE: Once = Once::new();
    #[cfg(unix)]
    ONCE.call_once(|| {
        // Rule 1: built here, before any task can be building it on a pool thread.
        std::hint::black_box(&gemm_common::cache::CACHE_INFO[0]);
        // SAFETY: the three functions are `extern "C"` without arguments and never unwind out
        // (each catches panics); `pthread_atfork` only records their addresses.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        debug_assert_eq!(rc, 0, "pthread_atfork failed");
    });
    #[cfg(not(unix))]
    ONCE.call_once(|| {});
}

/// The locks of rule 2, held by the forking thread between `prepare` and `parent`/`child`, and
/// released by dropping them (only `streams` is also used: the child replaces the queues).
struct Held {
    _submit: std::sync::MutexGuard<'static, ()>,
    streams: super::StreamsWrite,
    _memory: Vec<crate::memory::ForkGuard>,
    _defaults: crate::stream::DefaultsGuard,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

extern "C" fn prepare() {
    let _ = std::panic::catch_unwind(|| {
        let submit = super::SUBMIT.lock().unwrap_or_else(|e| e.into_inner());
        let streams = super::streams_write();
        let memory = crate::backend::cpu::allocator().lock_for_fork();
        let defaults = crate::stream::lock_defaults();
        CHILD_LOSES_GPU.store(
            crate::backend::gpu_lost_to_fork() || crate::backend::gpu_initialized(),
            Ordering::Relaxed,
        );
        HELD.with(|h| {
            *h.borrow_mut() = Some(Held {
                _submit: submit,
                streams,
                _memory: memory,
                _defaults: defaults,
            })
        });
    });
}

extern "C" fn parent() {
    let _ = std::panic::catch_unwind(|| HELD.with(|h| h.borrow_mut().take()));
}

extern "C" fn child() {
    let _ = std::panic::catch_unwind(|| {
        GENERATION.fetch_add(1, Ordering::Relaxed);
        crate::backend::set_gpu_lost_to_fork(CHILD_LOSES_GPU.load(Ordering::Relaxed));
        HELD.with(|h| {
            if let Some(mut held) = h.borrow_mut().take() {
                super::replace_queues(&mut held.streams);
            }
        });
        super::pool::arm_for_child();
        crate::kernel_threads::reset_in_child();
    });
}
