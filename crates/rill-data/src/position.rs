//! Saving a stream's position and resuming from it (as Google's Grain does): a [`Position`] is a
//! few numbers per node (counters, a reader's byte offset), never samples, so it is cheap to
//! save with a checkpoint. A pipeline built the same way takes it back with `Stream::restore`
//! and goes on from there without reading the samples before it again.
//!
//! Each node writes a tag (which kind of node it is), its parameters where they fix what its
//! counters mean (a batch size, a buffer's length), then its counters, then the node below it.
//! Restoring reads them back in the same order and refuses a position saved from a pipeline
//! built differently. A node that cannot say where it is without the samples it holds (a
//! stream's shuffle buffer, a Python iterable, an unordered prefetch) refuses to save.

use crate::error::{Error, Result};

/// A stream's position: numbers, the top node's first.
pub type Position = Vec<u64>;

/// The kinds of nodes, as the first number of each one's part.
pub(crate) mod tag {
    pub const BUFFER: u64 = 1;
    pub const TRANSFORM: u64 = 2;
    pub const BATCH: u64 = 3;
    pub const REPEAT: u64 = 4;
    pub const PARTITION: u64 = 5;
    pub const ORDERED_PREFETCH: u64 = 6;
    pub const LINES: u64 = 7;
    pub const CSV: u64 = 8;
}

/// The error of a node that cannot save its position.
pub(crate) fn cannot(step: &str, why: &str) -> Error {
    Error::Argument {
        op: "state",
        detail: format!("{step} cannot save its position: {why}"),
    }
}

/// The error of a default node: one that never said how to save its position.
pub(crate) fn cannot_default() -> Error {
    cannot(
        "a step of this stream",
        "it holds samples or pulls from a source that cannot start again in the middle \
         (a Python iterable, buffered, dynamic_batch, sliding_window)",
    )
}

/// Reads node `kind`'s `n` numbers from the front of `input`.
pub(crate) fn take<'a>(input: &mut &'a [u64], kind: u64, n: usize) -> Result<&'a [u64]> {
    if input.len() <= n || input[0] != kind {
        return Err(Error::Argument {
            op: "restore",
            detail: "the position was saved from a pipeline built differently".into(),
        });
    }
    let v = &input[1..=n];
    *input = &input[n + 1..];
    Ok(v)
}

/// Refuses a parameter that differs from the one the position was saved with.
pub(crate) fn same(what: &str, saved: u64, now: u64) -> Result<()> {
    if saved != now {
        return Err(Error::Argument {
            op: "restore",
            detail: format!(
                "the position was saved from a pipeline whose {what} was {saved}, not {now}"
            ),
        });
    }
    Ok(())
}
