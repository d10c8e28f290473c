//! Spans of host work done outside the streams (a data pipeline's worker threads decoding and
//! batching samples), recorded beside the ops so that a timeline shows the two overlapping.
//!
//! # Rules
//!
//! 1. [`host_span`] costs one relaxed atomic load and returns `None` while no capture is on: the
//!    data threads call it for every sample.
//! 2. The guard reads the clock when it is made and when it is dropped, and pushes its record
//!    under the capture's mutex at drop, never while the work runs; a span whose capture stopped
//!    (or was replaced by a newer one) in between is dropped, not added to another capture.
//! 3. A span's lane is the name of the thread it ran on (`rill-data-prefetch-2`), or
//!    `thread <id>` for an unnamed thread: one lane per thread, as trace viewers expect.

use super::{capture_generation, is_capturing, CAPTURE};
use std::time::Instant;

/// One span of host work as it ran (times are raw instants until the capture stops).
#[derive(Debug, Clone)]
pub struct HostSpanRecord {
    pub lane: String,
    pub name: &'static str,
    pub start: Instant,
    pub end: Instant,
}

/// Records the span from its creation to its drop (rule 2).
#[must_use = "the span ends when the guard is dropped"]
pub struct HostSpanGuard {
    name: &'static str,
    start: Instant,
    generation: u64,
}

/// Starts a span of host work named `name` on the current thread's lane, if a capture is on.
pub fn host_span(name: &'static str) -> Option<HostSpanGuard> {
    if !is_capturing() {
        return None;
    }
    Some(HostSpanGuard {
        name,
        start: Instant::now(),
        generation: capture_generation(),
    })
}

impl Drop for HostSpanGuard {
    fn drop(&mut self) {
        let end = Instant::now();
        if !is_capturing() || capture_generation() != self.generation {
            return;
        }
        let thread = std::thread::current();
        let lane = match thread.name() {
            Some(name) => name.to_string(),
            None => format!("thread {:?}", thread.id()),
        };
        // A poisoned lock means a panic elsewhere while pushing: the capture is still usable.
        let mut capture = CAPTURE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = capture.as_mut() {
            c.host.push(HostSpanRecord {
                lane,
                name: self.name,
                start: self.start,
                end,
            });
        }
    }
}
