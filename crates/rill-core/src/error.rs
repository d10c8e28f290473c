//! The one error type of rill.
//!
//! Errors are `Clone` because a failure found while evaluating is stored on the array that failed
//! and handed, unchanged, to every array that depends on it and to every thread that reads them.

use crate::Device;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Shapes that do not fit the op (found when the op is built).
    #[error("[{op}] {msg}")]
    Shape { op: &'static str, msg: String },

    /// An axis outside `-ndim..ndim`, or repeated.
    #[error(
        "[{op}] axis {axis} is out of bounds for an array of {ndim} dimensions (shape {shape:?})"
    )]
    Axis {
        op: &'static str,
        axis: isize,
        ndim: usize,
        shape: Vec<usize>,
    },

    /// A shape whose element count or byte size overflows (more than `isize::MAX` bytes): no
    /// array of it can exist, so the op that would make it refuses at once.
    #[error("[{op}] {msg}")]
    TooLarge { op: &'static str, msg: String },

    /// A host scalar that does not fit the integer dtype it becomes (`uint8_array + 300`).
    #[error("[{op}] {msg}")]
    Overflow { op: &'static str, msg: String },

    /// An index (an integer or a value of an index array) outside the axis it indexes, found
    /// when the op is built.
    #[error("[{op}] {msg}")]
    Index { op: &'static str, msg: String },

    /// A dtype the op does not accept.
    #[error("[{op}] {msg}")]
    Dtype { op: &'static str, msg: String },

    /// Any other bad argument (found when the op is built).
    #[error("[{op}] {msg}")]
    Argument { op: &'static str, msg: String },

    /// A device or stream that does not exist, or an op the device cannot run.
    #[error("[{op}] {msg}")]
    Device { op: &'static str, msg: String },

    /// An allocation that would pass the device's hard memory limit.
    #[error("[{op}] out of memory on {device}: asked for {requested} bytes with {active} in use and a limit of {limit} bytes")]
    OutOfMemory {
        op: &'static str,
        device: Device,
        requested: usize,
        active: usize,
        limit: usize,
    },

    /// A failure found while running an op (a bad index in the data, say).
    #[error("[{op}] {msg}")]
    Runtime { op: &'static str, msg: String },

    /// A file that cannot be read or written, or whose contents are not what its format says
    /// (missing, truncated, corrupt, a dtype rill does not have). Names the file.
    #[error("[{op}] {path}: {msg}")]
    File {
        op: &'static str,
        path: String,
        msg: String,
    },
}

impl Error {
    /// The name of the op that failed.
    pub fn op(&self) -> &'static str {
        match self {
            Error::Shape { op, .. }
            | Error::Axis { op, .. }
            | Error::TooLarge { op, .. }
            | Error::Overflow { op, .. }
            | Error::Index { op, .. }
            | Error::Dtype { op, .. }
            | Error::Argument { op, .. }
            | Error::Device { op, .. }
            | Error::OutOfMemory { op, .. }
            | Error::Runtime { op, .. }
            | Error::File { op, .. } => op,
        }
    }

    pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn too_large(op: &'static str, msg: impl Into<String>) -> Self {
        Error::TooLarge {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn overflow(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Overflow {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn index(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Index {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn arg(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Argument {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn dtype(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Dtype {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn device(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Device {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn runtime(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Runtime {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn file(op: &'static str, path: &std::path::Path, msg: impl Into<String>) -> Self {
        Error::File {
            op,
            path: path.display().to_string(),
            msg: msg.into(),
        }
    }
}
