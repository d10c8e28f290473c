//! The main job of the README's quick start: two independent chains of work, first on one stream
//! and then on two, and a result that joins them across streams. Runs on the GPU when one exists,
//! else on the CPU.
//!
//! Last, it runs the two-stream case and the join once more under a timeline capture and writes
//! the trace (Chrome trace-event JSON, for Perfetto or chrome://tracing) and its picture (SVG) to
//! `target/rill-demo/` (or the folder given as the first argument).

use rill_core::{ops, trace, Array, Device, Dtype, Result, Stream};
use rill_trace::{render_svg, RenderOptions};
use std::path::PathBuf;

/// Nodes and tasks are built on the thread that records ops and freed on the pool threads that run
/// them; mimalloc serves such cross-thread frees without the lock contention of glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

/// A chain of `steps` elementwise ops on `x`, all on `s`.
fn chain(x: &Array, steps: usize, s: Stream) -> Result<Array> {
    let mut y = x.clone();
    for _ in 0..steps {
        y = ops::multiply(&y, x, s)?;
        y = ops::sqrt(&y, s)?;
    }
    Ok(y)
}

fn time(label: &str, f: impl Fn() -> Result<()>) -> Result<f64> {
    f()?; // warm up: caches, pool threads
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{label:<44} {:>8.2} ms", best * 1e3);
    Ok(best)
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let device = if rill_core::is_available(Device::gpu(0)) {
        Device::gpu(0)
    } else {
        Device::cpu()
    };
    println!(
        "rill demo on {device} (cores: {})",
        rill_core::backend::cpu::cores()
    );
    // The demo shows streams running many ops side by side and a join between them; with the
    // scheduler's fusion of lazy chains each chain would be two or three fused nodes, too few to
    // show it (benchmarks/eager_chains.py measures fusion itself).
    rill_core::set_auto_fusion(rill_core::AutoFusion::Off);
    let s1 = rill_core::new_stream(device)?;
    let s2 = rill_core::new_stream(device)?;
    let n = 1 << 20;
    let a = ops::full(&[n], 1.5f32, Some(Dtype::Float32), s1)?;
    let b = ops::full(&[n], 2.5f32, Some(Dtype::Float32), s2)?;
    rill_core::eval(&[&a, &b])?;
    let steps = 40;

    let one = time("two chains on one stream", || {
        let x = chain(&a, steps, s1)?;
        let y = chain(&b, steps, s1)?;
        rill_core::eval(&[&x, &y])
    })?;
    let two = time("two chains on two streams", || {
        let x = chain(&a, steps, s1)?;
        let y = chain(&b, steps, s2)?;
        rill_core::eval(&[&x, &y])
    })?;
    println!("{:<44} {:>8.2}x", "overlap speed-up", one / two);

    // A cross-stream dependency: z on s2 needs x from s1; the runtime makes s2 wait for x alone.
    let x = chain(&a, steps, s1)?;
    let y = chain(&b, steps, s2)?;
    let z = ops::add(&x, &y, s2)?;
    let t = Instant::now();
    z.eval()?;
    println!(
        "{:<44} {:>8.2} ms",
        "join across streams (z = x@s1 + y@s2)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let values = z.to_vec::<f32>()?;
    let expected = 1.5f32 + 2.5;
    let wrong = values
        .iter()
        .filter(|&&v| (v - expected).abs() > 1e-5)
        .count();
    println!(
        "z = {} everywhere? {} ({} of {} differ)",
        expected,
        if wrong == 0 { "yes" } else { "NO" },
        wrong,
        values.len()
    );

    // The same work once more, recorded: both lanes busy at once, then s2 waiting for x.
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/rill-demo"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let json = dir.join("trace.json");
    trace::start_capture(Some(&json))?;
    let x = chain(&a, steps, s1)?;
    let y = chain(&b, steps / 2, s2)?;
    let z = ops::add(&x, &y, s2)?;
    z.eval()?;
    let timeline = trace::stop_capture_timeline()?;
    let summary = timeline.summary();
    if let Some(o) = summary.overlap(s1, s2) {
        println!(
            "{:<44} {:>8.0} %",
            "under capture: both streams busy",
            o.fraction * 100.0
        );
    }
    let svg = dir.join("timeline.svg");
    let options = RenderOptions {
        title: Some(format!(
            "rill demo: two chains on two {} streams, then a join",
            if device == Device::cpu() {
                "CPU"
            } else {
                "GPU"
            }
        )),
        ..RenderOptions::default()
    };
    std::fs::write(&svg, render_svg(&timeline, &options))?;
    println!("wrote {} and {}", json.display(), svg.display());
    Ok(())
}
