//! A captured timeline as plain data: what the JSON holds and what summaries and pictures are
//! computed from, in this process or offline from a trace file.

use super::{HostSpanRecord, TaskRecord};
use crate::{Device, DeviceType};
use std::time::Instant;

/// One op as it ran. Times are microseconds since `start_capture`. A task queued before the capture
/// started has no submission time of its own (the clock is read only while capturing): its
/// `submitted_us` is its start.
#[derive(Debug, Clone, PartialEq)]
pub struct OpRecord {
    /// The id of the array the op computed (unique in the process).
    pub id: u64,
    pub op: String,
    /// The stream's index ([`crate::Stream::index`]).
    pub stream: usize,
    pub device: Device,
    pub shape: Vec<usize>,
    pub dtype: String,
    pub input_shapes: Vec<Vec<usize>>,
    pub submitted_us: f64,
    /// When its last input from another stream arrived, if it had to wait for one.
    pub ready_us: Option<f64>,
    pub start_us: f64,
    pub end_us: f64,
    /// Inputs produced on other streams: (producer id, producer stream index).
    pub cross_inputs: Vec<(u64, usize)>,
    pub error: Option<String>,
    /// Whether it ran beside its stream's in-order work, on a thread of its own (scheduler rule 2):
    /// such ops may overlap the stream's other ops.
    pub beside: bool,
}

impl OpRecord {
    pub fn duration_us(&self) -> f64 {
        self.end_us - self.start_us
    }
}

/// Active memory of a device at one instant (sampled when an op ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemorySample {
    pub device: Device,
    pub t_us: f64,
    pub bytes: u64,
}

/// A span of host work outside the streams (`host_span.rs`), on the lane of the thread it ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSpan {
    pub lane: String,
    pub name: String,
    pub start_us: f64,
    pub end_us: f64,
}

impl HostSpan {
    pub fn duration_us(&self) -> f64 {
        self.end_us - self.start_us
    }
}

/// Everything a capture recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// From `start_capture` to `stop_capture`, in microseconds.
    pub duration_us: f64,
    /// Sorted by start time.
    pub ops: Vec<OpRecord>,
    /// Sorted by time.
    pub memory: Vec<MemorySample>,
    /// Host work outside the streams, sorted by lane then start time.
    pub host: Vec<HostSpan>,
}

/// Microseconds from `origin` to `t`, negative when `t` is earlier, rounded to the nanosecond
/// (the JSON keeps three decimals, so in-process and reloaded timelines agree).
fn micros(origin: Instant, t: Instant) -> f64 {
    let us = match t.checked_duration_since(origin) {
        Some(d) => d.as_secs_f64() * 1e6,
        None => -(origin.duration_since(t).as_secs_f64() * 1e6),
    };
    round_ns(us)
}

pub(crate) fn round_ns(us: f64) -> f64 {
    (us * 1e3).round() / 1e3
}

impl Timeline {
    /// Converts raw records (in any order) taken between `origin` and `stopped`.
    pub fn from_records(
        origin: Instant,
        stopped: Instant,
        records: &[TaskRecord],
        host: &[HostSpanRecord],
    ) -> Timeline {
        let mut ops: Vec<OpRecord> = records
            .iter()
            .map(|r| OpRecord {
                id: r.id,
                op: r.op.to_string(),
                stream: r.stream.index(),
                device: r.stream.device(),
                shape: r.shape.clone(),
                dtype: r.dtype.name().to_string(),
                input_shapes: r.input_shapes.clone(),
                submitted_us: micros(origin, r.submitted),
                ready_us: r.ready.map(|t| micros(origin, t)),
                start_us: micros(origin, r.start),
                end_us: micros(origin, r.end),
                cross_inputs: r
                    .cross_inputs
                    .iter()
                    .map(|(id, s)| (*id, s.index()))
                    .collect(),
                error: r.error.clone(),
                beside: r.beside,
            })
            .collect();
        let mut memory: Vec<MemorySample> = records
            .iter()
            .map(|r| MemorySample {
                device: r.stream.device(),
                t_us: micros(origin, r.end),
                bytes: r.active_bytes as u64,
            })
            .collect();
        ops.sort_by(|a, b| {
            a.start_us
                .total_cmp(&b.start_us)
                .then(a.stream.cmp(&b.stream))
        });
        memory.sort_by(|a, b| a.t_us.total_cmp(&b.t_us));
        let mut host: Vec<HostSpan> = host
            .iter()
            .map(|h| HostSpan {
                lane: h.lane.clone(),
                name: h.name.to_string(),
                start_us: micros(origin, h.start),
                end_us: micros(origin, h.end),
            })
            .collect();
        sort_host(&mut host);
        Timeline {
            duration_us: micros(origin, stopped),
            ops,
            memory,
            host,
        }
    }

    /// The streams that ran ops, as (device, stream index), sorted by device then stream.
    pub fn streams(&self) -> Vec<(Device, usize)> {
        let mut v: Vec<(Device, usize)> = self.ops.iter().map(|o| (o.device, o.stream)).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The devices that ran ops, sorted.
    pub fn devices(&self) -> Vec<Device> {
        let mut v: Vec<Device> = self.streams().into_iter().map(|(d, _)| d).collect();
        v.dedup();
        v
    }

    /// The earliest and latest instants with activity (an op running or a stream waiting), or
    /// None for an empty timeline.
    pub fn active_span(&self) -> Option<(f64, f64)> {
        let first_op = self.ops.iter().map(|o| o.start_us).min_by(f64::total_cmp)?;
        let first_wait = self
            .waits()
            .iter()
            .map(|w| w.from_us)
            .min_by(f64::total_cmp)
            .unwrap_or(first_op);
        let last = self.ops.iter().map(|o| o.end_us).max_by(f64::total_cmp)?;
        Some((first_op.min(first_wait), last))
    }
}

/// Host spans in the timeline's order: by lane, then start time.
pub(crate) fn sort_host(host: &mut [HostSpan]) {
    host.sort_by(|a, b| a.lane.cmp(&b.lane).then(a.start_us.total_cmp(&b.start_us)));
}

/// The short name of a device used in traces: `cpu:0`, `gpu:1`.
pub fn device_label(d: Device) -> String {
    format!("{}:{}", d.kind, d.index)
}

/// The inverse of [`device_label`].
pub fn parse_device_label(s: &str) -> Option<Device> {
    let (kind, index) = s.split_once(':')?;
    let kind = match kind {
        "cpu" => DeviceType::Cpu,
        "gpu" => DeviceType::Gpu,
        _ => return None,
    };
    Some(Device::new(kind, index.parse().ok()?))
}
