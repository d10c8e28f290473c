//! Cross-stream edges of a timeline: dependency arrows and the waits they caused.
//!
//! A task on stream B that reads an array made on stream A is a [`Flow`] from the producer to the
//! consumer. It is a [`Wait`] when B had nothing else to do and the input was not there yet: the
//! scheduler notes when a task's last cross-stream input arrived (`ready_us`); if that is later
//! than both the task's submission and the end of the previous op on B, B sat blocked from the
//! later of those two instants until the input arrived. Both are derived from the op records
//! alone, so a trace read back from JSON gives the same edges.

use super::{OpRecord, Timeline};
use crate::Device;
use std::collections::HashMap;

/// A producer op whose output an op on another stream consumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub producer: u64,
    pub producer_stream: usize,
    pub consumer: u64,
    pub consumer_stream: usize,
    /// When the producer ended and when the consumer started (µs since the capture started).
    pub from_us: f64,
    pub to_us: f64,
}

/// A stream blocked on an input from another stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// The stream that waited, its device, and the op that could not start.
    pub stream: usize,
    pub device: Device,
    pub consumer: u64,
    pub consumer_op: String,
    /// The input it waited for: the cross-stream input that arrived last.
    pub producer: u64,
    pub producer_stream: usize,
    /// None when the producer ran before the capture started.
    pub producer_op: Option<String>,
    /// From when the stream was blocked until the input arrived (µs since the capture started).
    pub from_us: f64,
    pub to_us: f64,
}

impl Wait {
    pub fn duration_us(&self) -> f64 {
        self.to_us - self.from_us
    }
}

impl Timeline {
    fn by_id(&self) -> HashMap<u64, &OpRecord> {
        self.ops.iter().map(|o| (o.id, o)).collect()
    }

    /// Every cross-stream dependency whose producer is in the timeline, in consumer start order.
    pub fn flows(&self) -> Vec<Flow> {
        let by_id = self.by_id();
        let mut flows = Vec::new();
        for c in &self.ops {
            for (pid, pstream) in &c.cross_inputs {
                if let Some(p) = by_id.get(pid) {
                    flows.push(Flow {
                        producer: *pid,
                        producer_stream: *pstream,
                        consumer: c.id,
                        consumer_stream: c.stream,
                        from_us: p.end_us,
                        to_us: c.start_us,
                    });
                }
            }
        }
        flows
    }

    /// Every interval a stream spent blocked on another stream, in time order. A wait that began
    /// before the capture started is cut at the capture's start.
    pub fn waits(&self) -> Vec<Wait> {
        let by_id = self.by_id();
        let mut prev_end: HashMap<usize, f64> = HashMap::new();
        let mut waits = Vec::new();
        // `ops` is in start order, so per stream this walks the ops in the order they ran.
        for o in &self.ops {
            let prev = prev_end.insert(o.stream, o.end_us);
            let Some(ready) = o.ready_us else { continue };
            let blocked = prev
                .map_or(o.submitted_us, |p| p.max(o.submitted_us))
                .max(0.0);
            if ready <= blocked || o.cross_inputs.is_empty() {
                continue;
            }
            // The input that arrived last is the one that released the task.
            let last = o
                .cross_inputs
                .iter()
                .max_by(|a, b| {
                    let end = |id: &u64| by_id.get(id).map_or(f64::NEG_INFINITY, |p| p.end_us);
                    end(&a.0).total_cmp(&end(&b.0))
                })
                .copied()
                .expect("cross_inputs is not empty");
            waits.push(Wait {
                stream: o.stream,
                device: o.device,
                consumer: o.id,
                consumer_op: o.op.clone(),
                producer: last.0,
                producer_stream: last.1,
                producer_op: by_id.get(&last.0).map(|p| p.op.clone()),
                from_us: blocked,
                to_us: ready,
            });
        }
        waits.sort_by(|a, b| a.from_us.total_cmp(&b.from_us));
        waits
    }
}
