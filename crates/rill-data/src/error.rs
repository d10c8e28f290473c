//! What can go wrong in a pipeline. Every error about a sample names the step (`op`), the key and
//! the sample's index: its index in the buffer, or its position in the stream at that step
//! (counted from the start or the last `reset`). A failing sample is reported, never dropped.

use std::sync::Arc;

/// The error a user callback (a key or sample transform, a Python iterable) returned, kept whole
/// so that a front-end can give the original back (Python re-raises its exception).
pub type BoxError = Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A key that a step needs is not in the sample.
    #[error("{op}: sample {index} has no key '{key}' (its keys: {keys:?})")]
    MissingKey {
        op: &'static str,
        key: String,
        index: usize,
        keys: Vec<String>,
    },
    /// A value that a step cannot handle: shapes that cannot be batched, a dim out of range, ...
    #[error("{op}: key '{key}' of sample {index}: {detail}")]
    Sample {
        op: &'static str,
        key: String,
        index: usize,
        detail: String,
    },
    /// A user callback failed on a sample (`key` is empty for a sample transform).
    #[error("{op}: sample {index}{}: {source}", key_part(key))]
    Callback {
        op: &'static str,
        key: String,
        index: usize,
        source: BoxError,
    },
    /// A file that cannot be opened or read (`line` is 1-based where known).
    #[error("{op}: cannot read '{path}'{}: {detail}", line_part(*line))]
    File {
        op: &'static str,
        path: String,
        line: Option<usize>,
        detail: String,
    },
    /// An index outside a buffer.
    #[error("{op}: index {index} is out of range for a buffer of {len} samples")]
    Index {
        op: &'static str,
        index: i64,
        len: usize,
    },
    /// A panic inside a pipeline step on a worker thread, reported in its sample's place.
    #[error("{op}: a pipeline step panicked on a worker thread: {detail}")]
    Panic { op: &'static str, detail: String },
    /// A thread that could not be started.
    #[error("{op}: cannot start a worker thread: {detail}")]
    Thread { op: &'static str, detail: String },
    /// A bad argument to a pipeline step, found when the step is made.
    #[error("{op}: {detail}")]
    Argument { op: &'static str, detail: String },
}

fn key_part(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!(", key '{key}'")
    }
}

fn line_part(line: Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn argument(op: &'static str, detail: impl Into<String>) -> Error {
    Error::Argument {
        op,
        detail: detail.into(),
    }
}
