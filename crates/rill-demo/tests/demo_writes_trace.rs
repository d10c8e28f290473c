//! The README's main job runs to the end and leaves a trace and its picture behind: the JSON holds
//! ops on two stream lanes and a flow arrow (the join), the SVG has both lanes and the wait.

use std::process::Command;

/// Runs the demo into a fresh directory; checks what every run must show and returns whether the
/// join had to wait (a `wait` event in the trace, and then a wait drawn in the SVG).
fn run_demo(attempt: usize) -> bool {
    let dir = std::env::temp_dir().join(format!("rill-demo-test-{}-{attempt}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_rill-demo"))
        .arg(&dir)
        .output()
        .expect("the demo starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("everywhere? yes"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trace.json")).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().expect("traceEvents");
    let lanes: std::collections::HashSet<_> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| (e["pid"].clone(), e["tid"].clone()))
        .collect();
    assert!(lanes.len() >= 2, "ops on {} lane(s)", lanes.len());
    assert!(
        events.iter().any(|e| e["ph"] == "s") && events.iter().any(|e| e["ph"] == "f"),
        "no flow arrow for the join"
    );

    let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.matches("class=\"lane\"").count() >= 2);
    // The trace's wait events come from the ops' timings; the picture draws exactly those.
    let waited = events.iter().any(|e| e["ph"] == "X" && e["cat"] == "wait");
    assert_eq!(
        svg.contains("class=\"wait\""),
        waited,
        "the SVG and the trace disagree on the join's wait"
    );
    let _ = std::fs::remove_dir_all(&dir);
    waited
}

#[test]
fn the_demo_writes_a_two_lane_trace_and_its_svg() {
    // The join waits (s2 finishes its half-length chain while s1 still works on x) only where the
    // two streams run at once. On a machine busy with other work they may not, for one run; three
    // runs without a wait on two or more cores is a failure.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let attempts = if cores >= 2 { 3 } else { 1 };
    let waited = (0..attempts).any(run_demo);
    if cores >= 2 {
        assert!(
            waited,
            "no wait in the trace for the join in {attempts} runs on {cores} cores"
        );
    } else {
        eprintln!(
            "the_demo_writes_a_two_lane_trace_and_its_svg: {cores} core(s), too few for two \
             streams to run at once: the join's wait is not checked"
        );
    }
}
