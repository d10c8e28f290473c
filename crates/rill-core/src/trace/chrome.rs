//! Chrome trace-event JSON (the format Perfetto and chrome://tracing open), written and read back.
//!
//! Layout: one process per device (`pid` 1 + index for CPUs, 101 + index for GPUs, named `cpu:0`,
//! `gpu:0`), one thread per stream (`tid` = stream index + 1, named `stream N`). Each op is a
//! complete event (`"ph":"X"`, category `op`) whose args carry everything in its [`OpRecord`], so
//! a trace file can be turned back into a [`Timeline`]. Each cross-stream wait is a complete event
//! named `wait` (category `wait`, drawn red by chrome://tracing) on the waiting stream's lane; each
//! cross-stream dependency is a flow (`"ph":"s"` inside the producer, `"ph":"f"` with `"bp":"e"`
//! inside the consumer). Active memory is a counter (`"ph":"C"`, `active memory`) per device.
//! Host work outside the streams is one more process, `host` (`pid` 10000), with a thread per
//! lane (the worker thread's name) and a complete event per span (category `host`).
//! Timestamps are microseconds since `start_capture`, with three decimals. Waits and flows are
//! derived data: reading a trace recomputes them from the op events.

use super::timeline::round_ns;
use super::timeline::sort_host;
use super::{device_label, parse_device_label, HostSpan, MemorySample, OpRecord, Timeline};
use crate::{Device, DeviceType, Error, Result};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;

const MEMORY_COUNTER: &str = "active memory";

/// The process of host lanes: above every device's (CPUs from 1, GPUs from 101).
const HOST_PID: u64 = 10_000;

fn pid(d: Device) -> u64 {
    match d.kind {
        DeviceType::Cpu => 1 + d.index as u64,
        DeviceType::Gpu => 101 + d.index as u64,
    }
}

fn tid(stream: usize) -> u64 {
    stream as u64 + 1
}

/// The lane of a stream's ops that ran beside its in-order work: trace viewers draw one lane's
/// slices nested, so ops that overlap their stream's other ops get a lane of their own.
fn beside_tid(stream: usize) -> u64 {
    BESIDE_LANES + stream as u64 + 1
}

const BESIDE_LANES: u64 = 1 << 20;

fn lane(o: &OpRecord) -> u64 {
    if o.beside {
        beside_tid(o.stream)
    } else {
        tid(o.stream)
    }
}

/// A timestamp inside `[start, end]` one nanosecond from `at_end`'s side when the op is long
/// enough, so that flow events bind to the op's slice and not to a neighbour touching it.
fn inside(start: f64, end: f64, at_end: bool) -> f64 {
    if end - start >= 0.002 {
        round_ns(if at_end { end - 0.001 } else { start + 0.001 })
    } else {
        start
    }
}

fn op_event(o: &OpRecord) -> Value {
    let mut args = Map::new();
    args.insert("id".into(), json!(o.id));
    args.insert("stream".into(), json!(o.stream));
    args.insert("device".into(), json!(device_label(o.device)));
    args.insert("shape".into(), json!(o.shape));
    args.insert("dtype".into(), json!(o.dtype));
    args.insert("inputs".into(), json!(o.input_shapes));
    args.insert("submitted_us".into(), json!(o.submitted_us));
    if let Some(r) = o.ready_us {
        args.insert("ready_us".into(), json!(r));
    }
    args.insert("cross_inputs".into(), json!(o.cross_inputs));
    if let Some(e) = &o.error {
        args.insert("error".into(), json!(e));
    }
    if o.beside {
        args.insert("beside".into(), json!(true));
    }
    json!({
        "ph": "X", "cat": "op", "name": o.op, "pid": pid(o.device), "tid": lane(o),
        "ts": o.start_us, "dur": round_ns(o.duration_us()), "args": args,
    })
}

impl Timeline {
    /// The timeline as Chrome trace-event JSON (object form, with `traceEvents`).
    pub fn to_chrome_json(&self) -> String {
        let mut ev: Vec<Value> = Vec::with_capacity(2 * self.ops.len() + self.memory.len() + 16);
        for (i, d) in self.devices().into_iter().enumerate() {
            ev.push(
                json!({"ph": "M", "name": "process_name", "pid": pid(d), "tid": 0,
                           "args": {"name": device_label(d)}}),
            );
            ev.push(
                json!({"ph": "M", "name": "process_sort_index", "pid": pid(d), "tid": 0,
                           "args": {"sort_index": i}}),
            );
        }
        for (d, s) in self.streams() {
            ev.push(
                json!({"ph": "M", "name": "thread_name", "pid": pid(d), "tid": tid(s),
                           "args": {"name": format!("stream {s}")}}),
            );
            ev.push(
                json!({"ph": "M", "name": "thread_sort_index", "pid": pid(d), "tid": tid(s),
                           "args": {"sort_index": 2 * s}}),
            );
            if self
                .ops
                .iter()
                .any(|o| o.beside && o.device == d && o.stream == s)
            {
                let lane = beside_tid(s);
                ev.push(
                    json!({"ph": "M", "name": "thread_name", "pid": pid(d), "tid": lane,
                               "args": {"name": format!("stream {s} (beside)")}}),
                );
                ev.push(
                    json!({"ph": "M", "name": "thread_sort_index", "pid": pid(d), "tid": lane,
                               "args": {"sort_index": 2 * s + 1}}),
                );
            }
        }
        ev.extend(self.ops.iter().map(op_event));
        let by_id: HashMap<u64, &OpRecord> = self.ops.iter().map(|o| (o.id, o)).collect();
        for w in self.waits() {
            let what = match &w.producer_op {
                Some(op) => format!("{op} #{} on stream {}", w.producer, w.producer_stream),
                None => format!(
                    "#{} on stream {} (ran before the capture)",
                    w.producer, w.producer_stream
                ),
            };
            ev.push(json!({
                "ph": "X", "cat": "wait", "name": "wait", "cname": "terrible",
                "pid": pid(w.device), "tid": tid(w.stream),
                "ts": w.from_us, "dur": round_ns(w.duration_us()),
                "args": {"for": what, "producer": w.producer, "producer_stream": w.producer_stream,
                         "consumer": w.consumer, "consumer_op": w.consumer_op,
                         "waited_us": round_ns(w.duration_us())},
            }));
        }
        for (n, f) in self.flows().iter().enumerate() {
            let (p, c) = (by_id[&f.producer], by_id[&f.consumer]);
            ev.push(
                json!({"ph": "s", "cat": "dependency", "name": "input", "id": n + 1,
                           "pid": pid(p.device), "tid": lane(p),
                           "ts": inside(p.start_us, p.end_us, true)}),
            );
            ev.push(
                json!({"ph": "f", "bp": "e", "cat": "dependency", "name": "input", "id": n + 1,
                           "pid": pid(c.device), "tid": lane(c),
                           "ts": inside(c.start_us, c.end_us, false)}),
            );
        }
        let mut lanes: Vec<&str> = self.host.iter().map(|h| h.lane.as_str()).collect();
        lanes.dedup(); // `host` is sorted by lane
        if !lanes.is_empty() {
            ev.push(
                json!({"ph": "M", "name": "process_name", "pid": HOST_PID, "tid": 0,
                           "args": {"name": "host"}}),
            );
            ev.push(
                json!({"ph": "M", "name": "process_sort_index", "pid": HOST_PID, "tid": 0,
                           "args": {"sort_index": HOST_PID}}),
            );
        }
        for (i, lane) in lanes.iter().enumerate() {
            ev.push(
                json!({"ph": "M", "name": "thread_name", "pid": HOST_PID, "tid": i + 1,
                           "args": {"name": lane}}),
            );
        }
        for h in &self.host {
            let tid = lanes.iter().position(|l| *l == h.lane).unwrap_or(0) + 1;
            ev.push(json!({
                "ph": "X", "cat": "host", "name": h.name, "pid": HOST_PID, "tid": tid,
                "ts": h.start_us, "dur": round_ns(h.duration_us()), "args": {"lane": h.lane},
            }));
        }
        for m in &self.memory {
            ev.push(
                json!({"ph": "C", "name": MEMORY_COUNTER, "pid": pid(m.device), "tid": 0,
                           "ts": m.t_us, "args": {"bytes": m.bytes}}),
            );
        }
        json!({
            "traceEvents": ev,
            "displayTimeUnit": "ms",
            "otherData": {"generator": "rill", "format_version": 1, "capture_us": self.duration_us},
        })
        .to_string()
    }

    /// Writes [`Timeline::to_chrome_json`] to `path`.
    pub fn write_chrome_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_chrome_json()).map_err(|e| {
            Error::runtime(
                "stop_capture",
                format!("cannot write the trace to {}: {e}", path.display()),
            )
        })
    }

    /// Reads a trace written by [`Timeline::to_chrome_json`] back (events of other kinds and
    /// from other tools are skipped).
    pub fn from_chrome_json(text: &str) -> Result<Timeline> {
        let root: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        // Both forms of the format: an object with `traceEvents`, or a bare array of events.
        let events = match &root {
            Value::Array(ev) => ev,
            Value::Object(o) => o
                .get("traceEvents")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("no `traceEvents` array".into()))?,
            _ => return Err(bad("neither an object nor an array of events".into())),
        };
        let mut devices: HashMap<u64, Device> = HashMap::new();
        for e in events {
            if str_of(e, "ph") == Some("M") && str_of(e, "name") == Some("process_name") {
                let name = e
                    .pointer("/args/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if let (Some(p), Some(d)) = (
                    e.get("pid").and_then(Value::as_u64),
                    parse_device_label(name),
                ) {
                    devices.insert(p, d);
                }
            }
        }
        let mut ops = Vec::new();
        let mut memory = Vec::new();
        let mut host = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match (str_of(e, "ph"), str_of(e, "cat"), str_of(e, "name")) {
                (Some("X"), Some("op"), _) => {
                    ops.push(parse_op(e).map_err(|m| bad(format!("event {i}: {m}")))?)
                }
                (Some("X"), Some("host"), Some(name)) => {
                    let lane = e.pointer("/args/lane").and_then(Value::as_str);
                    let ts = e.get("ts").and_then(Value::as_f64);
                    let dur = e.get("dur").and_then(Value::as_f64);
                    match (lane, ts, dur) {
                        (Some(lane), Some(start_us), Some(dur)) => host.push(HostSpan {
                            lane: lane.to_string(),
                            name: name.to_string(),
                            start_us,
                            end_us: round_ns(start_us + dur),
                        }),
                        _ => {
                            return Err(bad(format!(
                                "event {i}: a host span without `args.lane`, `ts` or `dur`"
                            )))
                        }
                    }
                }
                (Some("C"), _, Some(MEMORY_COUNTER)) => {
                    let device = e
                        .get("pid")
                        .and_then(Value::as_u64)
                        .and_then(|p| devices.get(&p).copied());
                    let t = e.get("ts").and_then(Value::as_f64);
                    let bytes = e.pointer("/args/bytes").and_then(Value::as_u64);
                    if let (Some(device), Some(t_us), Some(bytes)) = (device, t, bytes) {
                        memory.push(MemorySample {
                            device,
                            t_us,
                            bytes,
                        });
                    }
                }
                _ => {}
            }
        }
        ops.sort_by(|a: &OpRecord, b| {
            a.start_us
                .total_cmp(&b.start_us)
                .then(a.stream.cmp(&b.stream))
        });
        memory.sort_by(|a, b| a.t_us.total_cmp(&b.t_us));
        sort_host(&mut host);
        let last_end = ops.iter().map(|o| o.end_us).fold(0.0, f64::max);
        let duration_us = root
            .pointer("/otherData/capture_us")
            .and_then(Value::as_f64)
            .unwrap_or(last_end);
        Ok(Timeline {
            duration_us,
            ops,
            memory,
            host,
        })
    }

    /// Reads a trace file written by `stop_capture` or [`Timeline::write_chrome_json`].
    pub fn read_chrome_json(path: &Path) -> Result<Timeline> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::arg("read_trace", format!("cannot read {}: {e}", path.display()))
        })?;
        Timeline::from_chrome_json(&text)
    }
}

fn bad(msg: String) -> Error {
    Error::arg("read_trace", format!("not a rill trace: {msg}"))
}

fn str_of<'a>(e: &'a Value, key: &str) -> Option<&'a str> {
    e.get(key).and_then(Value::as_str)
}

fn shape_of(v: &Value) -> Option<Vec<usize>> {
    v.as_array()?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize))
        .collect()
}

fn parse_op(e: &Value) -> std::result::Result<OpRecord, String> {
    let args = e.get("args").ok_or("an op event without args")?;
    let num = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_f64)
            .ok_or(format!("no number `{k}`"))
    };
    let int = |k: &str| {
        args.get(k)
            .and_then(Value::as_u64)
            .ok_or(format!("no integer `args.{k}`"))
    };
    let start_us = num(e, "ts")?;
    let device = args
        .get("device")
        .and_then(Value::as_str)
        .and_then(parse_device_label)
        .ok_or("no device (`cpu:0`, `gpu:1`) in args")?;
    let input_shapes = args
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or("no `args.inputs`")?
        .iter()
        .map(shape_of)
        .collect::<Option<Vec<_>>>()
        .ok_or("bad `args.inputs`")?;
    let cross_inputs = args
        .get("cross_inputs")
        .and_then(Value::as_array)
        .ok_or("no `args.cross_inputs`")?
        .iter()
        .map(|p| Some((p.get(0)?.as_u64()?, p.get(1)?.as_u64()? as usize)))
        .collect::<Option<Vec<_>>>()
        .ok_or("bad `args.cross_inputs`")?;
    Ok(OpRecord {
        id: int("id")?,
        op: str_of(e, "name")
            .ok_or("an op event without a name")?
            .to_string(),
        stream: int("stream")? as usize,
        device,
        shape: args
            .get("shape")
            .and_then(shape_of)
            .ok_or("no `args.shape`")?,
        dtype: args
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or("no `args.dtype`")?
            .to_string(),
        input_shapes,
        submitted_us: num(args, "submitted_us")?,
        ready_us: args.get("ready_us").and_then(Value::as_f64),
        start_us,
        end_us: round_ns(start_us + num(e, "dur")?),
        cross_inputs,
        error: args
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_string),
        beside: args.get("beside").and_then(Value::as_bool).unwrap_or(false),
    })
}
