//! Timeline capture: overlap of independent streams, cross-stream waits and their flow arrows,
//! the summary's arithmetic, the JSON round trip, errors and the memory counter.
//!
//! A capture is process-wide, so the tests that capture take `LOCK` and run one at a time.

use rill_core::trace::{self, OpRecord, Timeline};
use rill_core::{memory, ops, Array, Device, Dtype, Stream};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

static LOCK: Mutex<()> = Mutex::new(());

/// Also turns off the scheduler's fusion of lazy chains (`tests/auto_fusion.rs`): these tests
/// count and name the ops of their chains, which must run one by one (on a GPU stream they would
/// otherwise fuse once their kernel is compiled).
fn lock() -> std::sync::MutexGuard<'static, ()> {
    rill_core::set_auto_fusion(rill_core::AutoFusion::Off);
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

const N: usize = 1 << 20;

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "rill-trace-test-{}-{name}.json",
        std::process::id()
    ))
}

/// `steps` pairs of multiply/divide by `k` on `s`: each op reads and writes 4 MiB.
fn chain(x: &Array, k: &Array, steps: usize, s: Stream) -> Array {
    let mut y = x.clone();
    for _ in 0..steps {
        y = ops::multiply(&y, k, s).unwrap();
        y = ops::divide(&y, k, s).unwrap();
    }
    y
}

/// How many steps of `chain` take about 100 ms here (at least 12), measured on one stream: long
/// enough that two chains started together run at once on any machine with two cores, however
/// fast, and that a busy machine's scheduling noise cannot separate them.
fn calibrated_steps(x: &Array, k: &Array, s: Stream) -> usize {
    let mut steps = 4;
    loop {
        let t = std::time::Instant::now();
        chain(x, k, steps, s).eval().unwrap();
        let took = t.elapsed().as_secs_f64();
        if took > 0.02 || steps >= 4096 {
            return ((steps as f64 * 0.1 / took.max(1e-6)) as usize).clamp(12, 4096);
        }
        steps *= 4;
    }
}

fn full(v: f32, s: Stream) -> Array {
    let a = ops::full(&[N], v, Some(Dtype::Float32), s).unwrap();
    a.eval().unwrap();
    a
}

/// The Chrome events of a trace file, and the lane (pid, tid) of each stream from the
/// `thread_name` metadata.
struct Parsed {
    events: Vec<Value>,
    lanes: HashMap<usize, (u64, u64)>,
    process_names: HashMap<u64, String>,
}

fn parse(path: &PathBuf) -> Parsed {
    let text = std::fs::read_to_string(path).unwrap();
    let root: Value = serde_json::from_str(&text).unwrap();
    let events = root["traceEvents"].as_array().unwrap().clone();
    let mut lanes = HashMap::new();
    let mut process_names = HashMap::new();
    for e in &events {
        if e["ph"] == "M" && e["name"] == "thread_name" {
            let name = e["args"]["name"].as_str().unwrap();
            if name.ends_with(" (beside)") {
                // The lane of a stream's ops that ran beside its in-order work.
                continue;
            }
            let Some(idx) = name.strip_prefix("stream ") else {
                // A host lane (a thread's spans of work outside the streams).
                continue;
            };
            let idx: usize = idx.parse().unwrap();
            lanes.insert(
                idx,
                (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap()),
            );
        }
        if e["ph"] == "M" && e["name"] == "process_name" {
            process_names.insert(
                e["pid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            );
        }
    }
    Parsed {
        events,
        lanes,
        process_names,
    }
}

impl Parsed {
    /// (start, end) of the complete events of category `cat` on a lane, sorted.
    fn slices(&self, lane: (u64, u64), cat: &str) -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = self
            .events
            .iter()
            .filter(|e| {
                e["ph"] == "X"
                    && e["cat"] == cat
                    && (e["pid"].as_u64(), e["tid"].as_u64()) == (Some(lane.0), Some(lane.1))
            })
            .map(|e| {
                let ts = e["ts"].as_f64().unwrap();
                (ts, ts + e["dur"].as_f64().unwrap())
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }
    fn op_event(&self, id: u64) -> &Value {
        self.events
            .iter()
            .find(|e| e["ph"] == "X" && e["cat"] == "op" && e["args"]["id"] == id)
            .unwrap()
    }
}

#[test]
fn two_independent_chains_on_two_streams_overlap() {
    let _g = lock();
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let (a, b, k) = (full(1.5, s1), full(2.5, s2), full(3.0, s1));
    let k2 = full(3.0, s2);
    let steps = calibrated_steps(&a, &k, s1);
    let path = tmp("overlap");
    trace::start_capture(Some(&path)).unwrap();
    let x = chain(&a, &k, steps, s1);
    let y = chain(&b, &k2, steps, s2);
    rill_core::eval(&[&x, &y]).unwrap();
    let summary = trace::stop_capture().unwrap();

    // The work was real: x = a * 3 / 3 ... stays 1.5 (exactly: 1.5*3 and 4.5/3 are exact).
    assert!(x.to_vec::<f32>().unwrap().iter().all(|&v| v == 1.5));
    assert!(y.to_vec::<f32>().unwrap().iter().all(|&v| v == 2.5));

    // From the summary.
    assert_eq!(summary.ops, 4 * steps);
    let (st1, st2) = (summary.stream(s1).unwrap(), summary.stream(s2).unwrap());
    assert_eq!((st1.ops, st2.ops), (2 * steps, 2 * steps));
    assert!(st1.busy_us > 0.0 && st2.busy_us > 0.0);
    assert!(
        st1.busy_us <= st1.span_us() + 1e-6
            && (st1.idle_us - (st1.span_us() - st1.busy_us)).abs() < 1e-6
    );
    let ov = summary.overlap(s2, s1).unwrap();
    let cores = rill_core::backend::cpu::cores();
    let can_overlap = cores >= 2;
    if !can_overlap {
        eprintln!(
            "two_independent_chains_on_two_streams_overlap: this machine runs rill on {cores} \
             core(s), too few for two streams to run at once: the overlap is not checked"
        );
    }
    assert!(
        !can_overlap || ov.both_busy_us > 0.0,
        "the two streams never ran at once on {cores} cores:\n{summary}"
    );
    assert!(ov.both_busy_us <= st1.busy_us.min(st2.busy_us) + 1e-6);
    assert!((!can_overlap || ov.fraction > 0.0) && ov.fraction <= 1.0 + 1e-9);
    assert!(
        summary.waits.is_empty(),
        "independent chains never wait: {:?}",
        summary.waits
    );

    // From the JSON alone: both lanes exist, on the CPU's process, and some op on one lane runs
    // while an op on the other does.
    let p = parse(&path);
    let (l1, l2) = (p.lanes[&s1.index()], p.lanes[&s2.index()]);
    assert_eq!(l1.0, l2.0, "both streams are on the CPU's process");
    assert_ne!(l1.1, l2.1, "one lane per stream");
    assert_eq!(p.process_names[&l1.0], "cpu:0");
    let (o1, o2) = (p.slices(l1, "op"), p.slices(l2, "op"));
    assert_eq!((o1.len(), o2.len()), (2 * steps, 2 * steps));
    let concurrent = o1
        .iter()
        .any(|a| o2.iter().any(|b| a.0.max(b.0) < a.1.min(b.1)));
    assert!(
        !can_overlap || concurrent,
        "no two ops of different lanes overlap in the JSON"
    );
    for e in p
        .events
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "op")
    {
        assert_eq!(e["args"]["shape"], serde_json::json!([N]));
        assert_eq!(e["args"]["dtype"], "float32");
        assert_eq!(e["args"]["inputs"], serde_json::json!([[N], [N]]));
        assert!(["multiply", "divide"].contains(&e["name"].as_str().unwrap()));
        assert!(e["args"]["submitted_us"].as_f64().unwrap() <= e["ts"].as_f64().unwrap());
    }
    // The lane's ops run in order and never overlap each other.
    for w in o1.windows(2) {
        assert!(w[0].1 <= w[1].0);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_cross_stream_dependency_is_a_wait_with_a_flow_arrow() {
    let _g = lock();
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let (a, k, b) = (full(1.5, s1), full(3.0, s1), full(2.5, s2));
    let path = tmp("wait");
    trace::start_capture(Some(&path)).unwrap();
    let x = chain(&a, &k, 8, s1);
    // z on s2 needs x from s1; s2 has nothing else to do, so it waits for x.
    let z = ops::add(&x, &b, s2).unwrap();
    let z2 = ops::multiply(&z, &b, s2).unwrap();
    z2.eval().unwrap();
    let summary = trace::stop_capture().unwrap();
    assert!(z2.to_vec::<f32>().unwrap().iter().all(|&v| v == 10.0));

    // The summary names the wait: s2 waited for x (made on s1) before z.
    assert_eq!(summary.waits.len(), 1, "{summary}");
    let w = &summary.waits[0];
    assert_eq!(
        (w.stream, w.producer, w.producer_stream, w.consumer),
        (s2.index(), x.id(), s1.index(), z.id())
    );
    assert_eq!(
        (w.producer_op.as_deref(), w.consumer_op.as_str()),
        (Some("divide"), "add")
    );
    assert!(w.duration_us() > 0.0);
    let st2 = summary.stream(s2).unwrap();
    assert!((st2.wait_us - w.duration_us()).abs() < 1e-9);
    assert!(
        st2.wait_us <= st2.idle_us + 1e-6,
        "waiting is part of idle time"
    );
    assert_eq!(summary.stream(s1).unwrap().wait_us, 0.0);

    let p = parse(&path);
    let (l1, l2) = (p.lanes[&s1.index()], p.lanes[&s2.index()]);
    let xe = p.op_event(x.id());
    let ze = p.op_event(z.id());
    let span = |e: &Value| {
        let ts = e["ts"].as_f64().unwrap();
        (ts, ts + e["dur"].as_f64().unwrap())
    };
    let (xs, zs) = (span(xe), span(ze));
    assert_eq!(
        ze["args"]["cross_inputs"],
        serde_json::json!([[x.id(), s1.index()]])
    );

    // A wait slice on s2's lane, from when s2 was blocked until x was there, naming x.
    let waits: Vec<&Value> = p
        .events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "wait")
        .collect();
    assert_eq!(waits.len(), 1);
    let we = waits[0];
    assert_eq!(
        (we["pid"].as_u64().unwrap(), we["tid"].as_u64().unwrap()),
        l2
    );
    assert_eq!(we["args"]["producer"], x.id());
    assert!(we["args"]["for"].as_str().unwrap().contains("divide"));
    let ws = span(we);
    assert!(
        ws.1 > ws.0 && ws.1 >= xs.1 - 1e-3 && ws.1 <= zs.0 + 1e-3,
        "wait {ws:?}, x {xs:?}, z {zs:?}"
    );

    // A flow arrow: its start inside x on s1's lane, its end (bound to the enclosing slice) inside z
    // on s2's lane.
    let starts: Vec<&Value> = p.events.iter().filter(|e| e["ph"] == "s").collect();
    let ends: Vec<&Value> = p.events.iter().filter(|e| e["ph"] == "f").collect();
    assert_eq!((starts.len(), ends.len()), (1, 1));
    let (fs, fe) = (starts[0], ends[0]);
    assert_eq!(fs["id"], fe["id"]);
    assert_eq!(
        (fs["cat"].clone(), fs["name"].clone()),
        (fe["cat"].clone(), fe["name"].clone())
    );
    assert_eq!(
        (fs["pid"].as_u64().unwrap(), fs["tid"].as_u64().unwrap()),
        l1
    );
    assert_eq!(
        (fe["pid"].as_u64().unwrap(), fe["tid"].as_u64().unwrap()),
        l2
    );
    assert_eq!(fe["bp"], "e");
    let (ts_s, ts_f) = (fs["ts"].as_f64().unwrap(), fe["ts"].as_f64().unwrap());
    assert!(
        xs.0 <= ts_s && ts_s <= xs.1,
        "flow start {ts_s} outside x {xs:?}"
    );
    assert!(
        zs.0 <= ts_f && ts_f <= zs.1,
        "flow end {ts_f} outside z {zs:?}"
    );

    // The same from the timeline API.
    let t = Timeline::read_chrome_json(&path).unwrap();
    let flows = t.flows();
    assert_eq!(flows.len(), 1);
    assert_eq!((flows[0].producer, flows[0].consumer), (x.id(), z.id()));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_json_reads_back_to_the_same_timeline_and_summary() {
    let _g = lock();
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let (a, k, b) = (full(1.5, s1), full(3.0, s1), full(2.5, s2));
    trace::start_capture(None).unwrap();
    let x = chain(&a, &k, 3, s1);
    let y = chain(&b, &b, 3, s2);
    let z = ops::add(&x, &y, s2).unwrap();
    let w = ops::subtract(&z, &x, s1).unwrap();
    w.eval().unwrap();
    let t = trace::stop_capture_timeline().unwrap();
    assert_eq!(t.ops.len(), 14);
    let back = Timeline::from_chrome_json(&t.to_chrome_json()).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.summary(), t.summary());
    // z reads x across streams, w reads z across streams.
    let pairs: Vec<(u64, u64)> = t.flows().iter().map(|f| (f.producer, f.consumer)).collect();
    assert!(
        pairs.contains(&(x.id(), z.id())) && pairs.contains(&(z.id(), w.id())),
        "{pairs:?}"
    );
    assert!(
        !pairs.contains(&(x.id(), w.id())),
        "x and w share a stream: no arrow"
    );
}

#[test]
fn host_spans_get_a_lane_per_thread_and_read_back() {
    let _g = lock();
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let (a, k) = (full(1.5, s1), full(3.0, s1));
    let steps = calibrated_steps(&a, &k, s1);
    // Off: no guard, nothing recorded.
    assert!(trace::host_span("before").is_none());
    let path = tmp("host_spans.json");
    trace::start_capture(Some(&path)).unwrap();
    let x = chain(&a, &k, steps, s1);
    let _running = rill_core::async_eval(&[&x]);
    // A named worker thread works while the stream computes (about 100 ms).
    let worker = std::thread::Builder::new()
        .name("data-worker-7".into())
        .spawn(|| {
            for _ in 0..3 {
                let _span = trace::host_span("decode").unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
        .unwrap();
    worker.join().unwrap();
    x.eval().unwrap();
    let t = trace::stop_capture_timeline().unwrap();
    // A span still open when the capture stopped is dropped, not carried into the next capture.
    let late = trace::host_span("after");
    assert!(late.is_none());
    assert_eq!(t.host.len(), 3, "{:?}", t.host);
    assert!(t
        .host
        .iter()
        .all(|h| h.lane == "data-worker-7" && h.name == "decode"));
    assert!(
        t.host.iter().all(|h| h.duration_us() >= 4_000.0),
        "{:?}",
        t.host
    );
    let s = t.summary();
    assert_eq!(s.host.len(), 1);
    let lane = &s.host[0];
    assert_eq!((lane.lane.as_str(), lane.spans), ("data-worker-7", 3));
    assert!(lane.busy_us >= 12_000.0, "{lane:?}");
    // The chain ran from before the worker started to after it ended.
    assert!(lane.with_streams_us > 0.5 * lane.busy_us, "{lane:?}");
    let back = Timeline::read_chrome_json(&path).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.summary(), s);
    let p = parse(&path);
    let host_pid = p
        .process_names
        .iter()
        .find(|(_, n)| n.as_str() == "host")
        .map(|(pid, _)| *pid)
        .expect("a host process in the trace");
    let spans = p
        .events
        .iter()
        .filter(|e| e["cat"] == "host" && e["pid"] == host_pid)
        .count();
    assert_eq!(spans, 3);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn failed_ops_are_recorded_with_their_error() {
    let _g = lock();
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = full(1.0, s);
    let cpu = Some(Device::cpu());
    let path = tmp("error");
    trace::start_capture(Some(&path)).unwrap();
    let old = memory::set_memory_limit(cpu, memory::active_memory(cpu) + 1024);
    let x = ops::add(&a, &a, s).unwrap();
    let y = ops::multiply(&x, &a, s).unwrap();
    let r = y.eval();
    memory::set_memory_limit(cpu, old);
    let t = trace::stop_capture_timeline().unwrap();
    assert!(r.is_err());
    let by_id: HashMap<u64, &OpRecord> = t.ops.iter().map(|o| (o.id, o)).collect();
    let ex = by_id[&x.id()].error.as_deref().unwrap();
    assert!(ex.contains("[add]") && ex.contains("out of memory"), "{ex}");
    // The dependent op carried the same error.
    assert_eq!(by_id[&y.id()].error.as_deref(), Some(ex));
    let summary = t.summary();
    assert_eq!(summary.stream(s).unwrap().errors, 2);
    let p = parse(&path);
    assert!(p.op_event(x.id())["args"]["error"]
        .as_str()
        .unwrap()
        .contains("out of memory"));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn active_memory_is_sampled_per_device() {
    let _g = lock();
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let a = full(1.0, s);
    let path = tmp("memory");
    trace::start_capture(Some(&path)).unwrap();
    let x = ops::add(&a, &a, s).unwrap();
    let y = ops::add(&x, &a, s).unwrap();
    y.eval().unwrap();
    let t = trace::stop_capture_timeline().unwrap();
    assert_eq!(t.memory.len(), 2);
    // When y ended, a, x and y were alive: at least 3 arrays of 4 MiB.
    let last = t.memory.last().unwrap();
    assert_eq!(last.device, Device::cpu());
    assert!(last.bytes >= 3 * 4 * N as u64, "{last:?}");
    let p = parse(&path);
    let counters: Vec<&Value> = p.events.iter().filter(|e| e["ph"] == "C").collect();
    assert_eq!(counters.len(), 2);
    assert_eq!(
        p.process_names[&counters[0]["pid"].as_u64().unwrap()],
        "cpu:0"
    );
    assert_eq!(counters[1]["args"]["bytes"].as_u64().unwrap(), last.bytes);
    std::fs::remove_file(&path).unwrap();
    drop((x, y));
}

#[test]
fn starting_twice_or_stopping_without_a_capture_fails() {
    let _g = lock();
    let e = trace::stop_capture().unwrap_err().to_string();
    assert!(
        e.contains("[stop_capture]") && e.contains("no capture"),
        "{e}"
    );
    trace::start_capture(None).unwrap();
    let e = trace::start_capture(None).unwrap_err().to_string();
    assert!(
        e.contains("[start_capture]") && e.contains("already running"),
        "{e}"
    );
    let summary = trace::stop_capture().unwrap();
    assert_eq!(summary.ops, 0);
    assert!(summary.streams.is_empty() && summary.overlaps.is_empty());
}

// An unwritable path fails when the capture starts (issue 8, item 12: failing only at the stop
// lost the whole capture's summary), naming the path; no capture is left running.
#[test]
fn an_unwritable_path_fails_at_start() {
    let _g = lock();
    let path = std::env::temp_dir()
        .join("rill-no-such-dir-for-sure")
        .join("t.json");
    let e = trace::start_capture(Some(&path)).unwrap_err().to_string();
    assert!(
        e.contains("[start_capture]") && e.contains("rill-no-such-dir-for-sure"),
        "{e}"
    );
    // No capture was left running: a new one starts and stops.
    trace::start_capture(None).unwrap();
    trace::stop_capture().unwrap();
}

fn rec(id: u64, stream: usize, start: f64, end: f64) -> OpRecord {
    OpRecord {
        id,
        op: "add".into(),
        stream,
        device: Device::cpu(),
        shape: vec![4],
        dtype: "float32".into(),
        input_shapes: vec![vec![4], vec![4]],
        submitted_us: 0.0,
        ready_us: None,
        start_us: start,
        end_us: end,
        cross_inputs: vec![],
        error: None,
        beside: false,
    }
}

/// Hand-made intervals with hand-computed answers.
#[test]
fn summary_arithmetic_on_a_known_timeline() {
    // Stream 7: [10, 30] [40, 50]            busy 30, span 10..50 = 40, idle 10.
    // Stream 9: [20, 45] then [60, 70], the second submitted at 35 and released at 55 by op 1
    //           (which ended at 30) and op 2 (which ended at 50): it waited from max(35, 45) = 45
    //           to 55 for op 2.   busy 35, span 20..70 = 50, idle 15, wait 10.
    // Both busy: [20, 30] + [40, 45] = 15; shorter busy = 30, so fraction 0.5.
    let mut late = rec(4, 9, 60.0, 70.0);
    late.submitted_us = 35.0;
    late.ready_us = Some(55.0);
    late.cross_inputs = vec![(1, 7), (2, 7)];
    let t = Timeline {
        duration_us: 100.0,
        ops: vec![
            rec(1, 7, 10.0, 30.0),
            rec(3, 9, 20.0, 45.0),
            rec(2, 7, 40.0, 50.0),
            late,
        ],
        memory: vec![],
        host: vec![],
    };
    let s = t.summary();
    assert_eq!((s.capture_us, s.span_us, s.ops), (100.0, 60.0, 4));
    let (a, b) = (&s.streams[0], &s.streams[1]);
    assert_eq!(
        (a.stream, a.ops, a.busy_us, a.idle_us, a.wait_us, a.first_us, a.last_us),
        (7, 2, 30.0, 10.0, 0.0, 10.0, 50.0)
    );
    assert_eq!(
        (b.stream, b.ops, b.busy_us, b.idle_us, b.wait_us, b.first_us, b.last_us),
        (9, 2, 35.0, 15.0, 10.0, 20.0, 70.0)
    );
    assert_eq!(s.overlaps.len(), 1);
    assert_eq!(
        (
            s.overlaps[0].a,
            s.overlaps[0].b,
            s.overlaps[0].both_busy_us,
            s.overlaps[0].fraction
        ),
        (7, 9, 15.0, 0.5)
    );
    assert_eq!(s.waits.len(), 1);
    let w = &s.waits[0];
    assert_eq!(
        (
            w.stream,
            w.producer,
            w.producer_stream,
            w.consumer,
            w.from_us,
            w.to_us
        ),
        (9, 2, 7, 4, 45.0, 55.0)
    );
    let flows: Vec<(u64, u64, f64, f64)> = t
        .flows()
        .iter()
        .map(|f| (f.producer, f.consumer, f.from_us, f.to_us))
        .collect();
    assert_eq!(flows, vec![(1, 4, 30.0, 60.0), (2, 4, 50.0, 60.0)]);
    // A release that came while the stream was still busy is no wait.
    let mut t2 = t.clone();
    t2.ops[3].ready_us = Some(44.0);
    assert!(t2.waits().is_empty());
    let text = s.to_string();
    assert!(
        text.contains("7 & 9") && text.contains("50.0") && text.contains("waited 0.010 ms"),
        "{text}"
    );
}

/// Independent branches of one graph on ONE stream run side by side when cores are idle
/// (scheduler/beside.rs), with the results and errors of running in order: four products of one
/// input by four weights, summed, next to a branch that fails. Results and errors are checked on
/// every attempt; the overlap must show in one of three (a loaded 2-core machine can keep the
/// second pool thread off the CPU for a whole product).
#[test]
fn independent_branches_on_one_stream_overlap_with_in_order_results() {
    let _g = lock();
    let cores = rill_core::backend::cpu::cores();
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    // Random-looking, non-zero inputs; each product is 384x384x384 (57M multiply-adds).
    let n = 384;
    let lcg = |seed: u64, len: usize| -> Vec<f32> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    };
    let xv = lcg(1, n * n);
    let wv: Vec<Vec<f32>> = (0..4).map(|i| lcg(10 + i, n * n)).collect();
    let x = Array::from_slice_on(&xv, &[n, n], s).unwrap();
    let w: Vec<Array> = wv
        .iter()
        .map(|v| Array::from_slice_on(v, &[n, n], s).unwrap())
        .collect();
    rill_core::eval(&[&x, &w[0], &w[1], &w[2], &w[3]]).unwrap();
    // Each product computed alone, in order: what the products beside must equal exactly.
    let alone: Vec<Vec<f32>> = w
        .iter()
        .map(|wi| ops::matmul(&x, wi, s).unwrap().to_vec::<f32>().unwrap())
        .collect();
    let cpu = Some(Device::cpu());
    let path = tmp("beside");
    let mut seen = Vec::new();
    for _attempt in 0..3 {
        trace::start_capture(Some(&path)).unwrap();
        let products: Vec<Array> = w.iter().map(|wi| ops::matmul(&x, wi, s).unwrap()).collect();
        let total = products
            .iter()
            .skip(1)
            .fold(products[0].clone(), |acc, p| ops::add(&acc, p, s).unwrap());
        // A branch whose input fails at run time (its 64 MiB `full` is over the memory limit set
        // here): its error must stay on it and its dependent, whatever ran beside it.
        let old = memory::set_memory_limit(cpu, memory::active_memory(cpu) + (48 << 20));
        let big = ops::full(&[16 << 20], 1.0f32, None, s).unwrap();
        let failed = ops::add(&big, &big, s).unwrap();
        let waited = rill_core::async_eval(&[&total, &failed]).wait();
        memory::set_memory_limit(cpu, old);
        trace::stop_capture().unwrap();

        // Errors: as in order, on the failed branch only.
        let err = waited.unwrap_err();
        assert!(matches!(err, rill_core::Error::OutOfMemory { .. }), "{err}");
        assert_eq!(big.error(), Some(err.clone()));
        assert_eq!(failed.error(), Some(err));
        assert_eq!(total.error(), None);
        // Results: each product exactly as computed alone, the sum close to a float64 reference.
        for (p, want) in products.iter().zip(&alone) {
            assert_eq!(&p.to_vec::<f32>().unwrap(), want);
        }
        let got = total.to_vec::<f32>().unwrap();
        for (r, c) in [(0, 0), (17, 200), (383, 3), (128, 128)] {
            let want: f64 = (0..n)
                .map(|k| {
                    let xk = xv[r * n + k] as f64;
                    wv.iter().map(|wi| xk * wi[k * n + c] as f64).sum::<f64>()
                })
                .sum();
            let g = got[r * n + c] as f64;
            assert!(
                (g - want).abs() <= 1e-3 * (1.0 + want.abs()),
                "[{r},{c}] {g} vs {want}"
            );
        }

        // The timeline: some product ran beside the stream's in-order work, at the same time as
        // another product of the same stream.
        let timeline =
            Timeline::from_chrome_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let matmuls: Vec<&OpRecord> = timeline.ops.iter().filter(|o| o.op == "matmul").collect();
        assert_eq!(matmuls.len(), 4);
        assert!(matmuls.iter().all(|o| o.stream == s.index()));
        let overlapping = matmuls.iter().any(|a| {
            matmuls
                .iter()
                .any(|b| a.id != b.id && a.start_us < b.end_us && b.start_us < a.end_us)
        });
        let beside = matmuls.iter().any(|o| o.beside);
        seen.push(
            matmuls
                .iter()
                .map(|o| (o.id, o.start_us, o.end_us, o.beside))
                .collect::<Vec<_>>(),
        );
        if beside && overlapping {
            // The JSON draws them on the stream's "beside" lane.
            let p = parse(&path);
            assert!(p.events.iter().any(|e| e["ph"] == "M"
                && e["name"] == "thread_name"
                && e["args"]["name"] == format!("stream {} (beside)", s.index())));
            assert!(p
                .events
                .iter()
                .any(|e| e["ph"] == "X" && e["name"] == "matmul" && e["args"]["beside"] == true));
            return;
        }
    }
    if cores < 2 {
        eprintln!("independent_branches_on_one_stream_overlap: {cores} core: not checked");
        return;
    }
    panic!("no product ran beside another on {cores} cores in 3 attempts: {seen:?}");
}
