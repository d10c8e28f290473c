//! Timeline capture: what ran where and when, and who waited for whom.
//!
//! While a capture is on, every task that finishes pushes a [`TaskRecord`] (op, stream, shapes,
//! dtype, when it was submitted, when its last cross-stream input arrived, when it ran, its
//! cross-stream inputs, its error, and the device's active memory right after it ran).
//! [`stop_capture`] turns the records into a [`Timeline`] (plain data, times in microseconds since
//! `start_capture`), writes it as Chrome trace-event JSON (`chrome.rs`) when a path was given, and
//! returns its [`Summary`] (`summary.rs`). Waits and dependency arrows are derived from the records
//! (`edges.rs`), so a trace read back from JSON yields the same summary offline.
//!
//! Ops on an asynchronous device (a GPU) are timed on the device: their task carries a
//! [`DeviceSpan`](crate::backend::DeviceSpan) (events before and after the op's work on its
//! stream), resolved when the capture stops, so a GPU lane shows when kernels really ran; copies
//! to the device that an op needed are inside its span. Allocations appear as a counter of active
//! memory per device, sampled when each op ends, not as individual events.
//!
//! Host work outside the streams (a data pipeline's threads) is recorded as spans on lanes of
//! their own (`host_span.rs`), so the timeline shows it beside the streams.
//!
//! Rules: capturing is one relaxed atomic load on the hot path when off. When on, each task's
//! record is pushed under one mutex after the task ran (never while it runs).

mod chrome;
mod edges;
mod host_span;
mod summary;
mod timeline;

pub use edges::{Flow, Wait};
pub use host_span::{host_span, HostSpanGuard, HostSpanRecord};
pub use summary::{LaneSummary, Overlap, StreamSummary, Summary};
pub use timeline::{device_label, parse_device_label, HostSpan, MemorySample, OpRecord, Timeline};

use crate::scheduler::Task;
use crate::{backend, Dtype, Error, Stream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static CAPTURING: AtomicBool = AtomicBool::new(false);

/// One op as it ran.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub id: u64,
    /// The op's name; a fused node's lists the ops it replaced (`fused(add,sin)`).
    pub op: std::borrow::Cow<'static, str>,
    pub stream: Stream,
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub input_shapes: Vec<Vec<usize>>,
    pub submitted: Instant,
    /// When its last input from another stream became available (None if it had none to wait for).
    pub ready: Option<Instant>,
    pub start: Instant,
    pub end: Instant,
    /// Inputs produced on other streams: (producer id, producer stream).
    pub cross_inputs: Vec<(u64, Stream)>,
    pub error: Option<String>,
    /// Whether it ran beside its stream's front task (scheduler/beside.rs) rather than in order.
    pub beside: bool,
    /// Bytes held by live arrays on the stream's device right after the op ran (its output
    /// included).
    pub active_bytes: usize,
    /// The device's own timing of the op (GPU ops), resolved into `start`/`end` at stop.
    pub device_span: Option<SpanHandle>,
}

/// A device span in a record, until the capture stops.
#[derive(Clone)]
pub struct SpanHandle(pub std::sync::Arc<Mutex<Box<dyn crate::backend::DeviceSpan>>>);

impl std::fmt::Debug for SpanHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpanHandle")
    }
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A number that changes with every `start_capture` (device timers key their epoch by it).
pub fn capture_generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

pub(crate) struct Capture {
    pub(crate) origin: Instant,
    pub(crate) path: Option<std::path::PathBuf>,
    pub(crate) tasks: Vec<TaskRecord>,
    pub(crate) host: Vec<HostSpanRecord>,
}

pub(crate) static CAPTURE: Mutex<Option<Capture>> = Mutex::new(None);

#[inline]
pub(crate) fn is_capturing() -> bool {
    CAPTURING.load(Ordering::Relaxed)
}

/// Starts recording every op that runs from now on, on every stream. `path` is where
/// `stop_capture` writes the trace (None: keep it in memory only).
pub fn start_capture(path: Option<&std::path::Path>) -> crate::Result<()> {
    let mut c = CAPTURE.lock().unwrap();
    if c.is_some() {
        return Err(Error::arg("start_capture", "a capture is already running"));
    }
    // A path that cannot be written fails here, not at `stop_capture` (where the error would
    // also lose the summary): the file is created now and overwritten when the capture stops.
    if let Some(p) = path {
        std::fs::File::create(p).map_err(|e| {
            Error::arg(
                "start_capture",
                format!("cannot write the trace to {}: {e}", p.display()),
            )
        })?;
    }
    GENERATION.fetch_add(1, Ordering::SeqCst);
    *c = Some(Capture {
        origin: Instant::now(),
        path: path.map(|p| p.to_path_buf()),
        tasks: Vec::new(),
        host: Vec::new(),
    });
    CAPTURING.store(true, Ordering::SeqCst);
    Ok(())
}

/// What a capture recorded, raw: its start, the path given to `start_capture`, the ops' records
/// in the order the tasks finished, and the spans of host work.
pub struct Records {
    pub origin: Instant,
    pub path: Option<std::path::PathBuf>,
    pub tasks: Vec<TaskRecord>,
    pub host: Vec<HostSpanRecord>,
}

/// Stops recording and returns what was recorded, raw. Writes nothing.
pub fn stop_capture_records() -> crate::Result<Records> {
    CAPTURING.store(false, Ordering::SeqCst);
    let c = CAPTURE
        .lock()
        .unwrap()
        .take()
        .ok_or_else(|| Error::arg("stop_capture", "no capture is running"))?;
    let mut tasks = c.tasks;
    for r in &mut tasks {
        if let Some(span) = r.device_span.take() {
            if let Some((start, end)) = span.0.lock().unwrap().resolve() {
                r.start = start;
                r.end = end.max(start);
            }
        }
    }
    tasks.sort_by_key(|r| r.end);
    Ok(Records {
        origin: c.origin,
        path: c.path,
        tasks,
        host: c.host,
    })
}

/// Stops recording, writes the Chrome trace-event JSON to the path given to `start_capture` (if
/// any) and returns the timeline. Ops still running when it is called are not in it.
pub fn stop_capture_timeline() -> crate::Result<Timeline> {
    let stopped = Instant::now();
    let r = stop_capture_records()?;
    let timeline = Timeline::from_records(r.origin, stopped, &r.tasks, &r.host);
    if let Some(path) = r.path {
        timeline.write_chrome_json(&path)?;
    }
    Ok(timeline)
}

/// Stops recording, writes the trace (as [`stop_capture_timeline`]) and returns its summary: per
/// stream busy, idle and waiting time, and the overlap of every pair of streams.
pub fn stop_capture() -> crate::Result<Summary> {
    stop_capture_timeline().map(|t| t.summary())
}

pub(crate) fn record_ready(task: &Task) {
    let _ = task.ready_at.set(Instant::now());
}

pub(crate) fn record_task(
    task: &Task,
    start: Instant,
    end: Instant,
    error: Option<&Error>,
    device_span: Option<Box<dyn crate::backend::DeviceSpan>>,
) {
    let out = &task.out;
    let rec = TaskRecord {
        id: out.id(),
        op: task.op_label(),
        stream: out.stream(),
        shape: out.shape().to_vec(),
        dtype: out.dtype(),
        input_shapes: task.inputs().iter().map(|a| a.shape().to_vec()).collect(),
        // A task queued before the capture started counts as submitted when it started running.
        submitted: task.submitted_at.unwrap_or(start),
        ready: task.ready_at.get().copied(),
        start,
        end,
        cross_inputs: task
            .inputs()
            .iter()
            .filter(|a| a.stream() != out.stream())
            .map(|a| (a.id(), a.stream()))
            .collect(),
        error: error.map(|e| e.to_string()),
        beside: task.beside.load(std::sync::atomic::Ordering::Relaxed),
        active_bytes: backend::memory(out.stream().device()).map_or(0, |m| m.counters().active()),
        device_span: device_span.map(|s| SpanHandle(std::sync::Arc::new(Mutex::new(s)))),
    };
    if let Some(c) = CAPTURE.lock().unwrap().as_mut() {
        c.tasks.push(rec);
    }
}
