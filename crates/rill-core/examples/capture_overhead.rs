//! What a capture costs: ops per second on a chain of small ops with the capture off and on.
//!
//! `cargo run --release -p rill-core --example capture_overhead [OPS]` (default 10 000 ops; the
//! best of several rounds of each, alternating so that both see the same machine load).

use rill_core::{ops, trace, Array, Device};
use std::time::Instant;

fn chain(x: &Array, n: usize) -> Array {
    let mut y = x.clone();
    for i in 0..n {
        y = if i % 2 == 0 {
            ops::add(&y, x, ()).unwrap()
        } else {
            ops::subtract(&y, x, ()).unwrap()
        };
    }
    y
}

/// Seconds to build and evaluate a chain of `n` ops.
fn once(x: &Array, n: usize, capture: bool) -> f64 {
    if capture {
        trace::start_capture(None).unwrap();
    }
    let t = Instant::now();
    let y = chain(x, n);
    y.eval().unwrap();
    let s = t.elapsed().as_secs_f64();
    if capture {
        let summary = trace::stop_capture().unwrap();
        assert_eq!(summary.ops, n);
    }
    s
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().expect("OPS must be a number"));
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let _scope = rill_core::StreamScope::new(s).unwrap();
    let x = Array::from_slice(&[1.0f32; 16], &[16]).unwrap();
    once(&x, n, false);
    once(&x, n, true);
    let (mut off, mut on) = (f64::MAX, f64::MAX);
    for _ in 0..15 {
        off = off.min(once(&x, n, false));
        on = on.min(once(&x, n, true));
    }
    // The capture's own cost after the work: building the timeline, the summary and the JSON.
    trace::start_capture(None).unwrap();
    chain(&x, n).eval().unwrap();
    let t = Instant::now();
    let timeline = trace::stop_capture_timeline().unwrap();
    let json = timeline.to_chrome_json();
    let post = t.elapsed().as_secs_f64();
    println!("chain of {n} ops of 16 float32 on one CPU stream (best of 15)");
    println!(
        "capture off: {:>12.0} ops/s ({:.3} µs/op)",
        n as f64 / off,
        off / n as f64 * 1e6
    );
    println!(
        "capture on:  {:>12.0} ops/s ({:.3} µs/op)",
        n as f64 / on,
        on / n as f64 * 1e6
    );
    println!("overhead:    {:>11.1} %", (on / off - 1.0) * 100.0);
    println!(
        "stop_capture_timeline + to_chrome_json: {:.2} ms ({} bytes of JSON)",
        post * 1e3,
        json.len()
    );
}
