//! The README's main job runs to the end and leaves a trace and its picture behind: the JSON holds
//! ops on two stream lanes and a flow arrow (the join), the SVG has both lanes and the wait.

use std::process::Command;

#[test]
fn the_demo_writes_a_two_lane_trace_and_its_svg() {
    let dir = std::env::temp_dir().join(format!("rill-demo-test-{}", std::process::id()));
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
    // The join waits (s2 finishes its half-length chain while s1 still works on x) only where
    // the two streams run at once.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores >= 2 {
        assert!(
            svg.contains("class=\"wait\""),
            "no wait drawn for the join on {cores} cores"
        );
    } else {
        eprintln!(
            "the_demo_writes_a_two_lane_trace_and_its_svg: {cores} core(s), too few for two \
             streams to run at once: the join's wait is not checked"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
