//! The SVG of a two-stream trace, parsed as XML: lanes, ops where the axis says their times are,
//! the wait, the arrow, the legend; and the command line on a real capture.

use rill_core::trace::{HostSpan, MemorySample, OpRecord, Timeline};
use rill_core::{ops, trace, Device, Dtype};
use rill_trace::{render_svg, RenderOptions};
use roxmltree::{Document, Node};
use std::collections::HashMap;
use std::process::Command;

fn rec(id: u64, op: &str, stream: usize, start: f64, end: f64) -> OpRecord {
    OpRecord {
        id,
        op: op.into(),
        stream,
        device: Device::cpu(),
        shape: vec![1024],
        dtype: "float32".into(),
        input_shapes: vec![vec![1024], vec![1024]],
        submitted_us: 0.0,
        ready_us: None,
        start_us: start,
        end_us: end,
        cross_inputs: vec![],
        error: None,
        beside: false,
    }
}

/// Stream 3 runs ops 1, 2, 3 back to back over 0..1500 µs. Stream 5 runs op 10 over 100..700,
/// then op 11, which needs op 2's output: it is released at 900 and runs 950..1300, so stream 5
/// waits 700..900.
fn two_streams() -> Timeline {
    let mut consumer = rec(11, "add", 5, 950.0, 1300.0);
    consumer.submitted_us = 50.0;
    consumer.ready_us = Some(900.0);
    consumer.cross_inputs = vec![(2, 3)];
    Timeline {
        duration_us: 1600.0,
        ops: vec![
            rec(1, "multiply", 3, 0.0, 400.0),
            rec(10, "divide", 5, 100.0, 700.0),
            rec(2, "add", 3, 400.0, 900.0),
            rec(3, "multiply", 3, 900.0, 1500.0),
            consumer,
        ],
        memory: vec![
            MemorySample {
                device: Device::cpu(),
                t_us: 400.0,
                bytes: 8192,
            },
            MemorySample {
                device: Device::cpu(),
                t_us: 900.0,
                bytes: 12288,
            },
        ],
        host: vec![],
    }
}

fn class<'a, 'i>(doc: &'a Document<'i>, c: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some(c))
        .collect()
}

fn num(n: Node, a: &str) -> f64 {
    n.attribute(a)
        .unwrap_or_else(|| panic!("no {a} on {n:?}"))
        .parse()
        .unwrap()
}

fn text(n: Node) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// The y range of each lane, by stream index.
fn lanes(doc: &Document) -> HashMap<usize, (f64, f64)> {
    class(doc, "lane")
        .into_iter()
        .map(|g| {
            let y = num(g, "data-y");
            (
                num(g, "data-stream") as usize,
                (y, y + num(g, "data-height")),
            )
        })
        .collect()
}

/// x = a + b * ms, from the axis ticks (checked to be linear and increasing).
fn axis_map(doc: &Document) -> (f64, f64) {
    let axes = class(doc, "axis");
    assert_eq!(axes.len(), 1);
    let ticks: Vec<(f64, f64)> = class(doc, "tick")
        .into_iter()
        .map(|t| {
            let line = t.children().find(|c| c.has_tag_name("line")).unwrap();
            let label = text(t);
            let ms: f64 = label
                .strip_suffix(" ms")
                .unwrap_or_else(|| panic!("tick label {label:?}"))
                .parse()
                .unwrap();
            assert_eq!(num(line, "x1"), num(line, "x2"));
            (ms, num(line, "x1"))
        })
        .collect();
    assert!(ticks.len() >= 3, "{ticks:?}");
    let b = (ticks[1].1 - ticks[0].1) / (ticks[1].0 - ticks[0].0);
    let a = ticks[0].1 - b * ticks[0].0;
    assert!(b > 0.0);
    for w in ticks.windows(2) {
        assert!(w[1].0 > w[0].0 && w[1].1 > w[0].1, "{ticks:?}");
    }
    for (ms, x) in &ticks {
        assert!(
            (a + b * ms - x).abs() < 0.05,
            "tick {ms} ms at {x}, expected {}",
            a + b * ms
        );
    }
    (a, b)
}

#[test]
fn a_two_stream_trace_renders_lanes_ops_axis_wait_and_arrow() {
    let t = two_streams();
    let svg = render_svg(
        &t,
        &RenderOptions {
            width: 1000.0,
            title: Some("two <streams>".into()),
        },
    );
    let doc = Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(num(root, "width"), 1000.0);

    // Title (escaped) and summary.
    let all = text(root);
    assert!(all.contains("two <streams>"));
    assert!(all.contains("5 ops on 2 stream(s) of cpu:0"), "{all}");

    // Two lanes, labelled, one above the other, under the cpu:0 header.
    let lanes = lanes(&doc);
    assert_eq!(lanes.len(), 2);
    let (l3, l5) = (lanes[&3], lanes[&5]);
    assert!(l3.1 <= l5.0, "stream 3's lane above stream 5's");
    let labels: Vec<String> = class(&doc, "lane-label").into_iter().map(text).collect();
    assert_eq!(labels, vec!["stream 3", "stream 5"]);
    let device = class(&doc, "device");
    assert_eq!(device.len(), 1);
    assert_eq!(text(device[0]), "cpu:0");

    // The axis spans the activity (0 to 1.5 ms).
    let (a, b) = axis_map(&doc);
    let ticks: Vec<f64> = class(&doc, "tick")
        .into_iter()
        .map(|t| num(t, "data-ms"))
        .collect();
    assert!(
        ticks[0] <= 0.2 && *ticks.last().unwrap() >= 1.3,
        "{ticks:?}"
    );

    // Every op is a box in its stream's lane, where the axis puts its start and end.
    let ops_by_id: HashMap<u64, &OpRecord> = t.ops.iter().map(|o| (o.id, o)).collect();
    let boxes = class(&doc, "op");
    assert_eq!(boxes.len(), 5);
    let mut rects = HashMap::new();
    for r in boxes {
        let o = ops_by_id[&(num(r, "data-id") as u64)];
        assert_eq!(r.attribute("data-op"), Some(o.op.as_str()));
        let (x, w, y, h) = (num(r, "x"), num(r, "width"), num(r, "y"), num(r, "height"));
        assert!(
            (x - (a + b * o.start_us / 1e3)).abs() < 0.05,
            "op {} at x={x}",
            o.id
        );
        assert!(
            (w - b * o.duration_us() / 1e3).abs() < 0.05,
            "op {} width {w}",
            o.id
        );
        let lane = lanes[&o.stream];
        assert!(
            y >= lane.0 && y + h <= lane.1,
            "op {} outside its lane",
            o.id
        );
        rects.insert(o.id, (x, x + w, y + h / 2.0));
    }
    // Same op, same colour; different ops, different colours.
    let fill = |id: u64| {
        doc.descendants()
            .find(|n| n.attribute("data-id") == Some(&id.to_string()))
            .unwrap()
            .attribute("fill")
            .unwrap()
    };
    assert_eq!(fill(1), fill(3));
    assert_ne!(fill(1), fill(2));
    assert_ne!(fill(2), fill(10));

    // The wait: stream 5, 0.7 to 0.9 ms, hatched, naming op 2.
    let waits = class(&doc, "wait");
    assert_eq!(waits.len(), 1);
    let w = waits[0];
    assert_eq!(w.attribute("fill"), Some("url(#hatch)"));
    assert_eq!(w.attribute("data-producer"), Some("2"));
    assert!((num(w, "x") - (a + b * 0.7)).abs() < 0.05 && (num(w, "width") - b * 0.2).abs() < 0.05);
    assert!(num(w, "y") >= l5.0 && num(w, "y") + num(w, "height") <= l5.1);
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("pattern") && n.attribute("id") == Some("hatch")));

    // The arrow: from the right end of op 2 (stream 3) to the left end of op 11 (stream 5).
    let flows = class(&doc, "flow");
    assert_eq!(flows.len(), 1);
    let f = flows[0];
    assert_eq!(
        (f.attribute("data-producer"), f.attribute("data-consumer")),
        (Some("2"), Some("11"))
    );
    let marker = f.attribute("marker-end").unwrap();
    let id = marker
        .strip_prefix("url(#")
        .and_then(|m| m.strip_suffix(')'))
        .unwrap();
    assert!(doc
        .descendants()
        .any(|n| n.has_tag_name("marker") && n.attribute("id") == Some(id)));
    let pts: Vec<(f64, f64)> = f
        .attribute("d")
        .unwrap()
        .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
        .filter(|s| !s.is_empty())
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    let (start, end) = (pts[0], *pts.last().unwrap());
    assert!(
        (start.0 - rects[&2].1).abs() < 0.05 && start.1 > l3.0 && start.1 < l3.1,
        "{start:?}"
    );
    assert!(
        (end.0 - rects[&11].0).abs() < 0.05 && end.1 > l5.0 && end.1 < l5.1,
        "{end:?}"
    );

    // The legend: ops by count, then the wait and the arrow.
    let legend: Vec<String> = class(&doc, "legend-item").into_iter().map(text).collect();
    assert_eq!(
        legend,
        vec![
            "add ×2",
            "multiply ×2",
            "divide ×1",
            "waiting on another stream",
            "input from another stream"
        ]
    );

    // The memory track, scaled to the peak.
    let mem = class(&doc, "memory");
    assert_eq!(mem.len(), 1);
    assert_eq!(num(mem[0], "data-peak-bytes"), 12288.0);
    assert!(text(mem[0]).contains("peak 12.0 KiB"));
}

#[test]
fn an_empty_trace_renders_without_lanes() {
    let svg = render_svg(
        &Timeline {
            duration_us: 10.0,
            ops: vec![],
            memory: vec![],
            host: vec![],
        },
        &RenderOptions::default(),
    );
    let doc = Document::parse(&svg).unwrap();
    assert!(class(&doc, "lane").is_empty() && class(&doc, "op").is_empty());
    assert!(text(doc.root_element()).contains("0 ops on 0 stream(s)"));
}

#[test]
fn host_threads_get_lanes_of_their_own_with_their_spans() {
    let mut t = two_streams();
    let span = |lane: &str, start: f64, end: f64| HostSpan {
        lane: lane.into(),
        name: "prefetch".into(),
        start_us: start,
        end_us: end,
    };
    t.host = vec![
        span("rill-data-prefetch-0", 200.0, 600.0),
        span("rill-data-prefetch-0", 800.0, 1000.0),
        span("rill-data-prefetch-1", 300.0, 500.0),
    ];
    let svg = render_svg(&t, &RenderOptions::default());
    let doc = Document::parse(&svg).unwrap();
    let lanes = class(&doc, "host-lane");
    let names: Vec<&str> = lanes
        .iter()
        .filter_map(|n| n.attribute("data-lane"))
        .collect();
    assert_eq!(names, ["rill-data-prefetch-0", "rill-data-prefetch-1"]);
    let spans = class(&doc, "host-span");
    assert_eq!(spans.len(), 3);
    // Each span sits inside its lane, at the same x as an op of the same time would.
    let y_of = |n: &Node| n.attribute("y").unwrap().parse::<f64>().unwrap();
    let lane_y = lanes[0]
        .attribute("data-y")
        .unwrap()
        .parse::<f64>()
        .unwrap();
    assert!(y_of(&spans[0]) > lane_y && y_of(&spans[0]) < lane_y + 38.0);
    let op_at_0 = class(&doc, "op")
        .into_iter()
        .find(|n| n.attribute("data-id") == Some("1"))
        .unwrap();
    let x = |n: &Node, k: &str| n.attribute(k).unwrap().parse::<f64>().unwrap();
    let per_us = x(&op_at_0, "width") / 400.0;
    let expect = x(&op_at_0, "x") + 200.0 * per_us;
    assert!(
        (x(&spans[0], "x") - expect).abs() < 0.05,
        "{} vs {expect}",
        x(&spans[0], "x")
    );
    assert!(text(lanes[0]).contains("2 spans"));
}

fn rill_trace(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rill-trace"))
        .args(args)
        .output()
        .unwrap()
}

/// A real capture: two chains on two streams and a join, rendered and summarized by the command.
#[test]
fn the_command_renders_and_summarizes_a_real_capture() {
    let dir = std::env::temp_dir().join(format!("rill-trace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("trace.json");
    let n = 1 << 18;
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let a = ops::full(&[n], 1.5f32, Some(Dtype::Float32), s1).unwrap();
    let b = ops::full(&[n], 2.5f32, Some(Dtype::Float32), s2).unwrap();
    rill_core::eval(&[&a, &b]).unwrap();
    // The 13 ops must run one by one (the scheduler would otherwise fuse each chain into one).
    rill_core::set_auto_fusion(rill_core::AutoFusion::Off);
    trace::start_capture(Some(&json)).unwrap();
    let (mut x, mut y) = (a.clone(), b.clone());
    for _ in 0..6 {
        x = ops::multiply(&x, &a, s1).unwrap();
        y = ops::add(&y, &b, s2).unwrap();
    }
    let z = ops::add(&x, &y, s2).unwrap();
    z.eval().unwrap();
    let summary = trace::stop_capture().unwrap();

    let svg_path = dir.join("timeline.svg");
    let out = rill_trace(&[
        "render",
        json.to_str().unwrap(),
        "-o",
        svg_path.to_str().unwrap(),
        "--width",
        "900",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let doc = Document::parse(&svg).unwrap();
    let lanes = lanes(&doc);
    assert_eq!(lanes.len(), 2);
    assert!(lanes.contains_key(&s1.index()) && lanes.contains_key(&s2.index()));
    assert_eq!(class(&doc, "op").len(), 13);
    let flows = class(&doc, "flow");
    assert_eq!(flows.len(), 1);
    assert_eq!(
        flows[0].attribute("data-consumer"),
        Some(z.id().to_string().as_str())
    );
    axis_map(&doc);

    // The offline summary is the one stop_capture returned.
    let out = rill_trace(&["summary", json.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), summary.to_string());

    // Without -o, the picture goes next to the trace.
    let out = rill_trace(&["render", json.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(dir.join("trace.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_reports_bad_use() {
    let out = rill_trace(&["draw", "x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command draw"));
    let out = rill_trace(&["summary", "/nonexistent/trace.json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[read_trace]") && err.contains("/nonexistent/trace.json"),
        "{err}"
    );
    let out = rill_trace(&["render", "t.json", "-o", "t.png"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rsvg-convert"));
    let bad = std::env::temp_dir().join(format!("rill-trace-bad-{}.json", std::process::id()));
    std::fs::write(&bad, "{\"traceEvents\": 3}").unwrap();
    let out = rill_trace(&["summary", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("traceEvents"));
    std::fs::remove_file(&bad).unwrap();
}
