//! Timeline capture: `start_capture(path)` records every op that runs, on every stream;
//! `stop_capture()` writes the Chrome trace-event JSON to `path` (when given) and returns the
//! summary as a dict. `with capture(path):` (in `__init__.py`) wraps the two.

use crate::errors::{guard, OrRaise};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rill_core::trace::{self, device_label, Summary};
use std::path::PathBuf;

/// Starts recording every op that runs from now on, on every stream. `stop_capture` writes the
/// trace to `path` (None: keep it in memory only). A capture already running raises ValueError.
#[pyfunction]
#[pyo3(signature = (path = None))]
pub fn start_capture(path: Option<PathBuf>) -> PyResult<()> {
    guard(|| trace::start_capture(path.as_deref()).or_raise())
}

/// Stops recording, writes the trace file (if `start_capture` was given a path) and returns the
/// summary: `capture_us`, `span_us`, `ops`, `streams` (one dict per stream: `stream`, `device`,
/// `ops`, `errors`, `first_us`, `last_us`, `busy_us`, `idle_us`, `wait_us`, `utilization`),
/// `overlaps` (one per pair: `a`, `b`, `both_busy_us`, `fraction`), `waits` and `host` (one
/// per thread that did host work outside the streams, such as rill.data's prefetch workers:
/// `lane`, `spans`, `busy_us`, `with_streams_us`). Ops still running are not in it. No capture running raises ValueError.
#[pyfunction]
pub fn stop_capture(py: Python<'_>) -> PyResult<Py<PyDict>> {
    guard(|| {
        let summary = py.detach(trace::stop_capture).or_raise()?;
        Ok(summary_dict(py, &summary)?.unbind())
    })
}

fn summary_dict<'py>(py: Python<'py>, s: &Summary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("capture_us", s.capture_us)?;
    d.set_item("span_us", s.span_us)?;
    d.set_item("ops", s.ops)?;
    let streams = PyList::empty(py);
    for st in &s.streams {
        let e = PyDict::new(py);
        e.set_item("stream", st.stream)?;
        e.set_item("device", device_label(st.device))?;
        e.set_item("ops", st.ops)?;
        e.set_item("errors", st.errors)?;
        e.set_item("first_us", st.first_us)?;
        e.set_item("last_us", st.last_us)?;
        e.set_item("busy_us", st.busy_us)?;
        e.set_item("idle_us", st.idle_us)?;
        e.set_item("wait_us", st.wait_us)?;
        e.set_item("utilization", st.utilization())?;
        streams.append(e)?;
    }
    d.set_item("streams", streams)?;
    let overlaps = PyList::empty(py);
    for o in &s.overlaps {
        let e = PyDict::new(py);
        e.set_item("a", o.a)?;
        e.set_item("b", o.b)?;
        e.set_item("both_busy_us", o.both_busy_us)?;
        e.set_item("fraction", o.fraction)?;
        overlaps.append(e)?;
    }
    d.set_item("overlaps", overlaps)?;
    let waits = PyList::empty(py);
    for w in &s.waits {
        let e = PyDict::new(py);
        e.set_item("stream", w.stream)?;
        e.set_item("device", device_label(w.device))?;
        e.set_item("consumer", w.consumer)?;
        e.set_item("consumer_op", &w.consumer_op)?;
        e.set_item("producer", w.producer)?;
        e.set_item("producer_stream", w.producer_stream)?;
        e.set_item("producer_op", w.producer_op.as_deref())?;
        e.set_item("from_us", w.from_us)?;
        e.set_item("to_us", w.to_us)?;
        waits.append(e)?;
    }
    d.set_item("waits", waits)?;
    let host = PyList::empty(py);
    for h in &s.host {
        let e = PyDict::new(py);
        e.set_item("lane", &h.lane)?;
        e.set_item("spans", h.spans)?;
        e.set_item("busy_us", h.busy_us)?;
        e.set_item("with_streams_us", h.with_streams_us)?;
        host.append(e)?;
    }
    d.set_item("host", host)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(start_capture, m)?)?;
    m.add_function(wrap_pyfunction!(stop_capture, m)?)?;
    Ok(())
}
