//! `rill.data` (`import rill.data as dx`): mlx-data's buffers and streams on rill-data.
//!
//! `convert.rs` turns samples into and out of Python (NumPy arrays, without copies where it
//! can); `pipeline.rs` holds the `Buffer` and `Stream` classes, the sources and the Python
//! callbacks. Rules: every call that may run pipeline work (`next`, indexing, `reset`) releases
//! the GIL; a Python callback (a transform, an iterable) takes it only while it runs, on
//! whichever thread pulls the sample. A lock of rill-data is never requested while holding the
//! GIL, so a worker waiting for the GIL inside a lock never meets a thread holding the GIL and
//! waiting for that lock.

mod convert;
mod pipeline;

use pyo3::prelude::*;

/// Adds the `data` submodule to `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let d = PyModule::new(m.py(), "data")?;
    pipeline::register(&d)?;
    d.add_class::<convert::SampleMemory>()?;
    m.add_submodule(&d)?;
    Ok(())
}
