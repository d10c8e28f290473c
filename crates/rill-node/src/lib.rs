//! rill's Node.js addon: the native half of the `rill` npm package (`node/`), which offers MLX's
//! Node API (`import { array, add, newStream, withStream } from 'rill'`) on the rill runtime.
//!
//! The addon is small and explicit; `node/index.js` builds the public API on top of it. Its parts:
//! - `array.rs`: the `Array` class (shape, dtype, stream, reading values back);
//! - `convert.rs`: host bytes (from JS numbers or typed arrays) to arrays and back;
//! - `ops.rs`: the op builders, each taking its stream as an explicit last argument;
//! - `device.rs`, `stream.rs`: the `Device` and `Stream` classes and the functions about them;
//! - `eval.rs`: `eval` (blocking) and `asyncEval` (a Promise the runtime settles when the arrays finish);
//! - `dtype.rs`: dtype names; `errors.rs`: rill errors and panics as thrown JS errors;
//! - `transforms.rs`: the native half of `grad`, `valueAndGrad`, `vmap` and `compile`;
//! - `memory.rs`: the memory counters and limits; `external.rs`: telling V8 how many native bytes
//!   each `Array` object keeps alive, so its garbage collector frees them in step.
//!
//! Rules: every entry point runs its body in [`errors::guard`], so no Rust panic reaches Node.
//! The addon keeps no scoped defaults of its own: the JS layer resolves the stream of every op
//! (a `withStream` scope lives in an `AsyncLocalStorage`, so it survives `await`) and passes it
//! here; `None` means the process-wide default stream of the default device. `asyncEval` holds no
//! thread: the runtime settles its Promise through a threadsafe function when the arrays finish;
//! `eval`, `synchronize` and reading values block the JS thread, as they block the caller in MLX.
//! That threadsafe function is the only way rill reaches JavaScript.

// napi-derive registers the exported functions and classes only outside `cfg(test)`, so in the
// (never run, see Cargo.toml) test build of this crate that `clippy --all-targets` checks, every
// export looks unused.
#![cfg_attr(test, allow(dead_code))]

// No global allocator of its own (the Python extension, the demo and the benchmarks use
// mimalloc): an addon lives in Node's process, where worker threads load and unload it, and
// mimalloc's per-thread set-up crashed the second worker that loaded rill (exit 139 inside
// `mi_thread_init` during module registration). The system allocator is Node's own.

mod array;
mod convert;
mod depends;
mod device;
mod dtype;
mod errors;
mod eval;
mod external;
mod io;
mod memory;
mod ops;
mod stream;
mod transforms;

/// The thread that loads the addon is the process's main thread in the main environment: the
/// GPU backend's compiler closes when that thread begins `exit`, before any exit handler runs
/// (`backend/cuda/background.rs`, rule 7: Node processes exiting while a fused kernel compiled in
/// the background crashed or hung in NVRTC, run R). On a Worker's thread this does nothing.
#[napi_derive::module_init]
fn close_kernel_compiler_at_exit() {
    rill_core::backend::cuda::watch_main_thread_exit();
}
