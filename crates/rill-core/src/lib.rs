//! rill's runtime: lazy arrays computed on streams, each stream bound to a device.
//!
//! How the parts meet:
//! - [`Array`] (`array.rs`) is a node of a lazy graph. Building an op (`ops/`) checks its
//!   arguments, resolves its stream ([`StreamOrDevice`]) and returns a node holding an [`op::Op`]
//!   and its inputs. Nothing runs.
//! - [`eval`] (`scheduler/`) walks the graph, queues one task per node on the node's stream, and
//!   makes a stream wait (by counting, never by blocking a thread) only for inputs that another
//!   stream produces. Streams run on one shared pool; a stream's tasks run in order.
//! - A task calls its device's backend (`backend/`), which allocates the output from the device's
//!   allocator (`memory/`) and runs a kernel. Failures become errors stored on the array and
//!   passed to its dependents.
//! - `graph/` reads the lazy graph without changing it (the arrays an output is computed from,
//!   the buffers behind evaluated arrays), for tools that show or measure it.
//! - `trace/` records what ran where when a capture is on.
//! - `transforms/` differentiates functions (`grad`, `vjp`, `jvp`) by recording the nodes they
//!   build on a per-thread tape and walking it backwards.
//! - `io/` saves arrays to files (`.npy`, `.npz`, safetensors) and loads them, memory-mapped.

pub mod array;
pub mod backend;
pub mod device;
pub mod dtype;
pub mod element;
pub mod error;
mod float_to_int;
pub mod fusion;
pub mod graph;
#[doc(hidden)]
pub mod internals;
pub mod interop;
pub mod io;
mod kernel_threads;
pub mod memory;
pub mod op;
pub mod ops;
pub mod random;
pub mod scheduler;
mod scope;
pub mod shape;
pub mod stream;
pub mod trace;
pub mod transforms;
pub mod user_kernel;

pub use array::Array;
pub use device::{
    default_device, device_count, device_info, is_available, set_default_device,
    with_default_device, Device, DeviceScope, DeviceType,
};
pub use dtype::{promote_types, Dtype, DtypeKind, FloatInfo};
pub use element::{Element, Scalar};
pub use error::{Error, Result};
pub use scheduler::{
    async_eval, auto_fusion, eval, lazy_nodes_exceed, set_auto_fusion, synchronize,
    synchronize_all, AsyncEval, AutoFusion,
};
pub use stream::{
    default_stream, new_stream, set_default_stream, with_stream, Stream, StreamOrDevice,
    StreamScope,
};

// Re-exported so `dispatch_dtype!` works in other crates.
#[doc(hidden)]
pub use half;
#[doc(hidden)]
pub use num_complex;
