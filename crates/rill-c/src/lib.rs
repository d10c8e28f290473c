//! rill's C API: a small, stable set of functions over rill-core, declared in `include/rill.h`
//! (generated from these sources by cbindgen; `tests/header.rs` fails when the two disagree).
//! docs/c-api.md is the user's guide.
//!
//! # The rules, for every function
//!
//! **Status codes.** Every function returns an `int`: `RILL_OK` (0) or one `RILL_ERR_*` code per
//! kind of failure (`error.rs`), and sets this thread's last-error message, which
//! `rill_last_error()` returns (`""` after a call that succeeded; the pointer is valid until the
//! next `rill_*` call on the same thread). Results are written through out-pointers, the first
//! argument of every op (`rill_add(&out, a, b, NULL)`). A function that makes an array or a
//! stream sets `*out` to NULL when it fails. Bad input (a NULL where a handle is needed, a dtype
//! or device value out of range, shapes that do not fit) is an error code, never a crash; a Rust
//! panic inside rill is caught at the boundary and returned as `RILL_ERR_PANIC`.
//!
//! **Ownership.** `rill_array*` and `rill_stream*` are handles the caller owns: each one returned
//! by a `rill_*` function must be freed exactly once, with `rill_array_free` or
//! `rill_stream_free` (both accept NULL), and not used afterwards. Functions never take
//! ownership of the handles passed to them: an array made from `a` keeps what it needs of `a`
//! itself, so `a` may be freed right after use. Memory passed in (data, shapes, axes, the list
//! given to `rill_eval`) is only read during the call and copied where kept; memory written to
//! (`rill_array_copy_to`'s buffer, out-pointers) belongs to the caller. `rill_array_shape`'s
//! pointer and `rill_last_error`'s string belong to rill and must not be freed.
//!
//! **Threads.** Handles may be used from any thread, and from several threads at once (arrays
//! are immutable, streams are process-wide queues that any thread may submit to), but a handle
//! must not be freed while another thread is using it. Defaults set with `rill_set_default_*`
//! are process-wide; scopes opened with `rill_scope_push_*` belong to the calling thread and
//! must be closed (`rill_scope_pop`) on it, innermost first. The last-error message is per
//! thread.
//!
//! **Laziness.** Ops build lazy arrays and check their arguments at once; nothing runs until
//! `rill_eval`, `rill_async_eval` or a read (`rill_array_copy_to`, `rill_array_item`), which is
//! when failures of the work itself (out of memory) are reported.
//!
//! # Safety
//!
//! Every exported function that takes a pointer is `unsafe` to call from Rust: the pointers must
//! be NULL or valid as stated above (handles from this library not yet freed, `n` readable
//! elements behind an array argument of length `n`, out-pointers writable). The functions state
//! no further conditions of their own, so they carry no `# Safety` section each.
//!
//! The parts: `error.rs` (codes, the last error, the guard every entry point runs in),
//! `handles.rs` (the C types and the checked conversions of C arguments), `array.rs` (arrays to
//! and from C memory, queries, freeing), `ops.rs`, `device.rs` (devices, streams, defaults and
//! scopes), `eval.rs`, `memory.rs`. Only rill-core's public API is used.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod array;
mod device;
mod error;
mod eval;
mod handles;
mod memory;
mod ops;

pub use array::*;
pub use device::*;
pub use error::*;
pub use eval::*;
pub use handles::{
    rill_array, rill_device, rill_device_type, rill_dtype, rill_stream, RILL_BFLOAT16, RILL_BOOL,
    RILL_COMPLEX64, RILL_CPU, RILL_FLOAT16, RILL_FLOAT32, RILL_FLOAT64, RILL_GPU, RILL_INT16,
    RILL_INT32, RILL_INT64, RILL_INT8, RILL_UINT16, RILL_UINT32, RILL_UINT64, RILL_UINT8,
};
pub use memory::*;
pub use ops::*;
