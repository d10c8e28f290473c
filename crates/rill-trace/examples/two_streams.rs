//! Writes a small two-stream trace to look at: two independent chains of elementwise ops on two
//! CPU streams, then a join across streams that makes the second stream wait.
//!
//! `cargo run -p rill-trace --example two_streams -- trace.json` then
//! `rill-trace render trace.json -o timeline.svg`.

use rill_core::{ops, trace, Array, Device, Dtype, Stream};

fn chain(x: &Array, k: &Array, steps: usize, s: Stream) -> rill_core::Result<Array> {
    let mut y = x.clone();
    for _ in 0..steps {
        y = ops::multiply(&y, k, s)?;
        y = ops::add(&y, x, s)?;
        y = ops::divide(&y, k, s)?;
    }
    Ok(y)
}

fn main() -> rill_core::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "trace.json".into());
    let n = 1 << 20;
    let s1 = rill_core::new_stream(Device::cpu())?;
    let s2 = rill_core::new_stream(Device::cpu())?;
    let a = ops::full(&[n], 1.5f32, Some(Dtype::Float32), s1)?;
    let k1 = ops::full(&[n], 0.5f32, Some(Dtype::Float32), s1)?;
    let b = ops::full(&[n], 2.5f32, Some(Dtype::Float32), s2)?;
    let k2 = ops::full(&[n], 0.25f32, Some(Dtype::Float32), s2)?;
    rill_core::eval(&[&a, &b, &k1, &k2])?;

    trace::start_capture(Some(std::path::Path::new(&path)))?;
    let x = chain(&a, &k1, 8, s1)?;
    let y = chain(&b, &k2, 2, s2)?;
    // s2 finishes its shorter chain first, then waits for x.
    let z = ops::add(&x, &y, s2)?;
    let z = ops::multiply(&z, &k2, s2)?;
    z.eval()?;
    let summary = trace::stop_capture()?;
    print!("{summary}");
    println!("wrote {path}");
    Ok(())
}
