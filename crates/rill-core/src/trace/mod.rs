//! Timeline capture: what ran where and when, and who waited for whom.
//!
//! Rules: capturing is one relaxed atomic load on the hot path when off. When on, each task's
//! record is pushed under one mutex after the task ran (never while it runs).

use crate::scheduler::Task;
use crate::{Dtype, Error, Stream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static CAPTURING: AtomicBool = AtomicBool::new(false);

/// One op as it ran.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub id: u64,
    pub op: &'static str,
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
}

pub(crate) struct Capture {
    pub(crate) origin: Instant,
    pub(crate) path: Option<std::path::PathBuf>,
    pub(crate) tasks: Vec<TaskRecord>,
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
    *c = Some(Capture {
        origin: Instant::now(),
        path: path.map(|p| p.to_path_buf()),
        tasks: Vec::new(),
    });
    CAPTURING.store(true, Ordering::SeqCst);
    Ok(())
}

/// Stops recording and returns what was recorded.
pub fn stop_capture_records(
) -> crate::Result<(Instant, Option<std::path::PathBuf>, Vec<TaskRecord>)> {
    CAPTURING.store(false, Ordering::SeqCst);
    let c = CAPTURE
        .lock()
        .unwrap()
        .take()
        .ok_or_else(|| Error::arg("stop_capture", "no capture is running"))?;
    Ok((c.origin, c.path, c.tasks))
}

pub(crate) fn record_ready(task: &Task) {
    let _ = task.ready_at.set(Instant::now());
}

pub(crate) fn record_task(task: &Task, start: Instant, end: Instant, error: Option<&Error>) {
    let out = &task.out;
    let rec = TaskRecord {
        id: out.id(),
        op: task.op_name(),
        stream: out.stream(),
        shape: out.shape().to_vec(),
        dtype: out.dtype(),
        input_shapes: task.inputs().iter().map(|a| a.shape().to_vec()).collect(),
        submitted: task.submitted_at,
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
    };
    if let Some(c) = CAPTURE.lock().unwrap().as_mut() {
        c.tasks.push(rec);
    }
}
