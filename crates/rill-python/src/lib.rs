//! rill's Python package, `rill.core`: MLX's Python API on the rill runtime, so that code written
//! for `import mlx.core as mx` runs with `import rill.core as mx`.
//!
//! This crate builds the extension module `rill._core`; `python/rill/core/__init__.py` re-exports
//! it and `__init__.pyi` types it. Its parts:
//! - `array.rs`: the `array` class (properties, operators, conversion, methods);
//! - `convert.rs`: Python values to arrays and back (scalars, nested lists, NumPy both ways);
//! - `indexing.rs`: `a[...]` and `a[...] = v` with ints, slices, None, Ellipsis and integer arrays;
//! - `ops/`: the creation, elementwise and shape functions (a file each, with the argument
//!   handling they share in `ops/mod.rs`), each with MLX's arguments and
//!   `stream=`; `reduce.rs` (reductions, scans, softmax), `linalg.rs` (matmul, `@`),
//!   `compare.rs` (isclose, clip), `movement.rs` (concatenate, pad, ...), `gather.rs` (take),
//!   `sort.rs` (sort, partition, searchsorted), `creation.rs` (asarray, tri, windows),
//!   `structure.rs` (triangles, diagonals, tensor products), `complex.rs` (real, imag, conj),
//!   `reinterpret.rs` (view, as_strided), `einsum.rs`, `conv.rs` (convolutions): the other op
//!   families, one file each, with the array methods that mirror them;
//! - `random.rs`: the `rill.core.random` submodule; `fft.rs` and `linalg_ns.rs`: the
//!   `rill.core.fft` and `rill.core.linalg` submodules; `capture.rs`: timeline capture;
//! - `dtype.rs`, `device.rs`, `stream.rs`: dtypes, devices, streams and their scopes;
//! - `eval.rs`, `memory.rs`: evaluation and the memory counters and limits; `graph.rs`:
//!   `depends`, `export_to_dot` and `get_array_buffer_size`;
//! - `io.rs`: `save`, `savez`, `save_safetensors`, `save_gguf`, `load` (files); `pickle.rs`: pickling arrays;
//! - `data/`: the `rill.data` submodule (mlx-data's buffers and streams, on rill-data);
//! - `transforms.rs`: `stop_gradient` and the native half of `grad`, `value_and_grad`, `vjp` and
//!   `jvp` (flat lists of arrays; `python/rill/core/_transforms.py` adds argnums and pytrees);
//! - `export.rs`: the native half of `export_function`, `exporter` and `import_function`;
//! - `format.rs`: `repr` in MLX's format, with `printoptions.rs` setting its precision; `errors.rs`: rill errors and panics as Python exceptions.
//!
//! Rules: every entry point runs its body in [`errors::guard`], so no Rust panic reaches
//! Python; every wait (evaluation, synchronization, reading values) releases the GIL, so Python
//! threads run while rill works and never deadlock against it (rill never calls into Python).

mod array;
mod attention;
mod buffer_protocol;
mod capture;
mod compare;
mod complex;
mod conv;
mod convert;
mod creation;
mod cuda_kernel;
mod data;
mod device;
mod dlpack;
mod dtype;
mod einsum;
mod errors;
mod eval;
mod export;
mod fft;
mod format;
mod gather;
mod graph;
mod indexing;
mod io;
mod linalg;
mod linalg_ns;
mod memory;
mod movement;
mod ops;
mod pickle;
mod printoptions;
mod random;
mod reduce;
mod reinterpret;
mod sort;
mod stream;
mod structure;
mod transforms;

use pyo3::prelude::*;

/// Nodes and tasks are built on the thread that records ops and freed on the pool threads that run
/// them; mimalloc serves such cross-thread frees without the lock contention of glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Imported on the main thread (as it almost always is), the GPU backend's compiler closes
    // when that thread begins `exit`, before any exit handler runs (background.rs, rule 7).
    rill_core::backend::cuda::watch_main_thread_exit();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<array::PyArray>()?;
    m.add_class::<array::ArrayIterator>()?;
    m.add_class::<convert::BufferOwner>()?;
    m.add("ShapeOverflowError", errors::shape_overflow_type(m.py())?)?;
    dtype::register(m)?;
    device::register(m)?;
    stream::register(m)?;
    ops::register(m)?;
    reduce::register(m)?;
    linalg::register(m)?;
    compare::register(m)?;
    movement::register(m)?;
    gather::register(m)?;
    sort::register(m)?;
    creation::register(m)?;
    structure::register(m)?;
    complex::register(m)?;
    reinterpret::register(m)?;
    einsum::register(m)?;
    conv::register(m)?;
    attention::register(m)?;
    printoptions::register(m)?;
    random::register(m)?;
    fft::register(m)?;
    cuda_kernel::register(m)?;
    linalg_ns::register(m)?;
    capture::register(m)?;
    eval::register(m)?;
    graph::register(m)?;
    memory::register(m)?;
    io::register(m)?;
    data::register(m)?;
    m.add_function(wrap_pyfunction!(dlpack::from_dlpack, m)?)?;
    transforms::register(m)?;
    export::register(m)?;
    Ok(())
}
