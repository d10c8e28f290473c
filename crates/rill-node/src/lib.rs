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

/// GPU streams of a Node process fuse lazy chains only when `RILL_AUTO_FUSE` asks (`gpu`, `all`);
/// CPU streams fuse as everywhere. Rust and Python processes fuse on every stream by default, but
/// on the GPU machine (run Q, docs/benchmarks.md) `node --test` of the whole suite with GPU fusion
/// on failed in 7 runs of 9, each time after the tests of a file had passed: `transforms.test.mjs`
/// (once `api.test.mjs`) died with SIGSEGV or never exited, while 13 test processes shared 16
/// cores; with CPU-only fusion 2 runs of 2 passed, and the files run one at a time passed 23 of
/// 23. The cause is not found yet, so Node keeps the setting that passed.
#[napi_derive::module_init]
fn cpu_streams_fuse_unless_asked() {
    if std::env::var_os("RILL_AUTO_FUSE").is_none() {
        rill_core::set_auto_fusion(rill_core::AutoFusion::Cpu);
    }
}
