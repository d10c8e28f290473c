//! Timings of reductions, scans and softmax on a 4096 x 4096 float32 array.
//! Run: `cargo run --release -p rill-core --example reduce_bench`
//! (NumPy for comparison: `a.sum()`, `a.sum(axis=0)`, `a.sum(axis=1)` on the same shape.)

use rill_core::{ops, Array, Result};
use std::time::{Duration, Instant};

fn time(name: &str, reps: usize, f: impl Fn() -> Result<Array>) -> Result<()> {
    f()?.eval()?;
    let mut ts: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let y = f().and_then(|y| y.eval().map(|_| y));
            let d = t.elapsed();
            y.expect("op failed");
            d
        })
        .collect();
    ts.sort();
    println!(
        "{name:<28} min {:>8.3} ms   median {:>8.3} ms",
        ts[0].as_secs_f64() * 1e3,
        ts[reps / 2].as_secs_f64() * 1e3
    );
    Ok(())
}

fn main() -> Result<()> {
    let n = 4096;
    let mut state = 0x2545F4914F6CDD1Du64;
    let data: Vec<f32> = (0..n * n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    let a = Array::from_slice(&data, &[n, n])?;
    let reps = 20;
    time("sum all", reps, || ops::sum(&a, None, false, ()))?;
    time("sum axis 1 (last)", reps, || {
        ops::sum(&a, Some(&[1]), false, ())
    })?;
    time("sum axis 0 (first)", reps, || {
        ops::sum(&a, Some(&[0]), false, ())
    })?;
    time("max all", reps, || ops::max(&a, None, false, ()))?;
    time("max axis 0", reps, || ops::max(&a, Some(&[0]), false, ()))?;
    time("mean all", reps, || ops::mean(&a, None, false, ()))?;
    time("argmax axis 1", reps, || {
        ops::argmax(&a, Some(1), false, ())
    })?;
    time("argmax axis 0", reps, || {
        ops::argmax(&a, Some(0), false, ())
    })?;
    time("cumsum axis 1", 5, || {
        ops::cumsum(&a, Some(1), false, true, ())
    })?;
    time("cumsum axis 0", 5, || {
        ops::cumsum(&a, Some(0), false, true, ())
    })?;
    time("cumsum flat", 5, || ops::cumsum(&a, None, false, true, ()))?;
    time("softmax axis -1", 5, || {
        ops::softmax(&a, Some(&[-1]), false, ())
    })?;
    time("softmax axis 0", 5, || {
        ops::softmax(&a, Some(&[0]), false, ())
    })?;
    time("logsumexp axis -1", 5, || {
        ops::logsumexp(&a, Some(&[-1]), false, ())
    })?;
    let t = ops::transpose(&a, None, ())?;
    time("sum transposed axis 1", reps, || {
        ops::sum(&t, Some(&[1]), false, ())
    })?;
    Ok(())
}
