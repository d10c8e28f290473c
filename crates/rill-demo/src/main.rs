//! The main job of the README's quick start: two independent chains of work, first on one stream
//! and then on two, and a result that joins them across streams. Runs on the GPU when one exists,
//! else on the CPU.

use rill_core::{ops, Array, Device, Dtype, Result, Stream};
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

fn main() -> Result<()> {
    let device = if rill_core::is_available(Device::gpu(0)) {
        Device::gpu(0)
    } else {
        Device::cpu()
    };
    println!(
        "rill demo on {device} (cores: {})",
        rill_core::backend::cpu::cores()
    );
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
    println!(
        "z[0] = {} (expected {})",
        z.item::<f32>()
            .unwrap_or(f32::NAN)
            .to_string()
            .chars()
            .take(8)
            .collect::<String>(),
        1.5f32 + 2.5
    );
    Ok(())
}
