//! The numbers a program reads from a capture: per stream busy, idle and waiting time, and how
//! much every pair of streams overlapped.
//!
//! Definitions (all times in microseconds):
//! - a stream's *span* runs from its first activity (its first op starting, or an earlier wait of
//!   it beginning) to the end of its last op: a stream is not charged for the part of the capture
//!   before it got work or after it finished;
//! - *busy* is the time inside the span with one of its ops running;
//! - *idle* is `span - busy`: the time inside the span with none of its ops running;
//! - *wait* is the part of idle it spent blocked on another stream's output (see `edges.rs`); the
//!   rest of idle is time it had no work submitted, or scheduling latency;
//! - the *overlap* of two streams is the time both were busy at once; its `fraction` divides that by
//!   the shorter of the two busy times, so 1.0 means "the shorter stream ran entirely in parallel
//!   with the other";
//! - a host lane (a thread's spans of work outside the streams) is *busy* while one of its spans
//!   runs; its `with_streams_us` is the time it was busy while at least one stream was too.

#![allow(clippy::type_complexity)]

use super::{device_label, Timeline, Wait};
use crate::{Device, Stream};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// The stream's index ([`Stream::index`]) and device.
    pub stream: usize,
    pub device: Device,
    pub ops: usize,
    /// Ops that failed (or carried an input's error).
    pub errors: usize,
    /// The stream's span: first activity and end of its last op.
    pub first_us: f64,
    pub last_us: f64,
    pub busy_us: f64,
    pub idle_us: f64,
    pub wait_us: f64,
}

impl StreamSummary {
    pub fn span_us(&self) -> f64 {
        self.last_us - self.first_us
    }
    /// busy / span (0 for an empty span).
    pub fn utilization(&self) -> f64 {
        ratio(self.busy_us, self.span_us())
    }
}

/// The time two streams were busy at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// Stream indices, `a < b`.
    pub a: usize,
    pub b: usize,
    pub both_busy_us: f64,
    /// `both_busy_us` over the shorter of the two busy times (0 when one was never busy).
    pub fraction: f64,
}

/// A host lane: one thread's work outside the streams (a data pipeline's worker).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneSummary {
    pub lane: String,
    pub spans: usize,
    pub busy_us: f64,
    /// Time the lane was busy while at least one stream was busy too.
    pub with_streams_us: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// From `start_capture` to `stop_capture`.
    pub capture_us: f64,
    /// From the first activity on any stream to the end of the last op.
    pub span_us: f64,
    pub ops: usize,
    /// Sorted by device, then stream index.
    pub streams: Vec<StreamSummary>,
    /// One per pair of streams, sorted by (a, b).
    pub overlaps: Vec<Overlap>,
    /// Every cross-stream wait, in time order.
    pub waits: Vec<Wait>,
    /// One per host lane, sorted by lane.
    pub host: Vec<LaneSummary>,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Sorted, disjoint busy intervals.
fn merge(mut iv: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    iv.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(iv.len());
    for (s, e) in iv {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn total(iv: &[(f64, f64)]) -> f64 {
    iv.iter().map(|(s, e)| e - s).sum()
}

/// Length of the intersection of two sorted disjoint interval lists.
fn intersection(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if hi > lo {
            sum += hi - lo;
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    sum
}

impl Timeline {
    /// Computes the summary (see the module docs for the definitions).
    pub fn summary(&self) -> Summary {
        let waits = self.waits();
        let mut busy: BTreeMap<(Device, usize), Vec<(f64, f64)>> = BTreeMap::new();
        let mut streams: BTreeMap<(Device, usize), StreamSummary> = BTreeMap::new();
        for o in &self.ops {
            busy.entry((o.device, o.stream))
                .or_default()
                .push((o.start_us, o.end_us));
            let s = streams
                .entry((o.device, o.stream))
                .or_insert(StreamSummary {
                    stream: o.stream,
                    device: o.device,
                    ops: 0,
                    errors: 0,
                    first_us: o.start_us,
                    last_us: o.end_us,
                    busy_us: 0.0,
                    idle_us: 0.0,
                    wait_us: 0.0,
                });
            s.ops += 1;
            s.errors += o.error.is_some() as usize;
            s.first_us = s.first_us.min(o.start_us);
            s.last_us = s.last_us.max(o.end_us);
        }
        for w in &waits {
            if let Some(s) = streams.get_mut(&(w.device, w.stream)) {
                s.wait_us += w.duration_us();
                s.first_us = s.first_us.min(w.from_us);
            }
        }
        let merged: Vec<((Device, usize), Vec<(f64, f64)>)> =
            busy.into_iter().map(|(k, v)| (k, merge(v))).collect();
        for (k, iv) in &merged {
            let s = streams.get_mut(k).expect("every busy stream has a summary");
            s.busy_us = total(iv);
            s.idle_us = (s.span_us() - s.busy_us).max(0.0);
        }
        let mut overlaps = Vec::new();
        for (i, (ka, a)) in merged.iter().enumerate() {
            for (kb, b) in &merged[i + 1..] {
                let both = intersection(a, b);
                let shorter = total(a).min(total(b));
                let (x, y) = if ka.1 < kb.1 {
                    (ka.1, kb.1)
                } else {
                    (kb.1, ka.1)
                };
                overlaps.push(Overlap {
                    a: x,
                    b: y,
                    both_busy_us: both,
                    fraction: ratio(both, shorter),
                });
            }
        }
        overlaps.sort_by_key(|o| (o.a, o.b));
        let any_stream = merge(merged.iter().flat_map(|(_, iv)| iv.clone()).collect());
        let mut lanes: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
        for h in &self.host {
            lanes
                .entry(h.lane.as_str())
                .or_default()
                .push((h.start_us, h.end_us));
        }
        let host = lanes
            .into_iter()
            .map(|(lane, spans)| {
                let count = spans.len();
                let busy = merge(spans);
                LaneSummary {
                    lane: lane.to_string(),
                    spans: count,
                    busy_us: total(&busy),
                    with_streams_us: intersection(&busy, &any_stream),
                }
            })
            .collect();
        let span_us = self.active_span().map_or(0.0, |(a, b)| b - a);
        Summary {
            capture_us: self.duration_us,
            span_us,
            ops: self.ops.len(),
            streams: streams.into_values().collect(),
            overlaps,
            waits,
            host,
        }
    }
}

impl Summary {
    /// The summary of `stream`, if it ran anything during the capture.
    pub fn stream(&self, stream: Stream) -> Option<&StreamSummary> {
        self.streams.iter().find(|s| s.stream == stream.index())
    }

    /// The overlap of two streams (in either order), if both ran anything.
    pub fn overlap(&self, a: Stream, b: Stream) -> Option<&Overlap> {
        let (a, b) = (a.index().min(b.index()), a.index().max(b.index()));
        self.overlaps.iter().find(|o| o.a == a && o.b == b)
    }

    /// Total time streams spent blocked on other streams.
    pub fn wait_us(&self) -> f64 {
        self.streams.iter().map(|s| s.wait_us).sum()
    }
}

fn ms(us: f64) -> f64 {
    us / 1e3
}

/// A plain-text table, as `rill-trace summary` prints it.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "capture {:.3} ms, {} ops on {} stream(s), active span {:.3} ms",
            ms(self.capture_us),
            self.ops,
            self.streams.len(),
            ms(self.span_us)
        )?;
        writeln!(
            f,
            "{:>8} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>7} {:>6}",
            "stream",
            "device",
            "ops",
            "span ms",
            "busy ms",
            "idle ms",
            "wait ms",
            "busy %",
            "errors"
        )?;
        for s in &self.streams {
            writeln!(
                f,
                "{:>8} {:>7} {:>7} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>7.1} {:>6}",
                s.stream,
                device_label(s.device),
                s.ops,
                ms(s.span_us()),
                ms(s.busy_us),
                ms(s.idle_us),
                ms(s.wait_us),
                100.0 * s.utilization(),
                s.errors
            )?;
        }
        if !self.overlaps.is_empty() {
            writeln!(
                f,
                "{:>17} {:>13} {:>14}",
                "overlap", "both busy ms", "% of shorter"
            )?;
            for o in &self.overlaps {
                writeln!(
                    f,
                    "{:>17} {:>13.3} {:>14.1}",
                    format!("{} & {}", o.a, o.b),
                    ms(o.both_busy_us),
                    100.0 * o.fraction
                )?;
            }
        }
        for h in &self.host {
            writeln!(
                f,
                "host lane {}: {} spans, busy {:.3} ms, {:.3} ms of it beside busy streams",
                h.lane,
                h.spans,
                ms(h.busy_us),
                ms(h.with_streams_us)
            )?;
        }
        writeln!(
            f,
            "waits: {} ({:.3} ms in all)",
            self.waits.len(),
            ms(self.wait_us())
        )?;
        const SHOWN: usize = 20;
        for w in self.waits.iter().take(SHOWN) {
            let what = w
                .producer_op
                .as_deref()
                .unwrap_or("an op from before the capture");
            writeln!(
                f,
                "  stream {} waited {:.3} ms (at {:.3} ms) for {what} #{} on stream {} before {} #{}",
                w.stream,
                ms(w.duration_us()),
                ms(w.from_us),
                w.producer,
                w.producer_stream,
                w.consumer_op,
                w.consumer
            )?;
        }
        if self.waits.len() > SHOWN {
            writeln!(f, "  ... and {} more", self.waits.len() - SHOWN)?;
        }
        Ok(())
    }
}
