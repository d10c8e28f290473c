//! float32 matmul throughput: `cargo run --release -p rill-core --example matmul_bench [sizes...]`.
//!
//! For each n (256, 512, 1024, 2048 by default) multiplies two random n x n float32 matrices,
//! evaluates, and prints the best GFLOP/s (2*n^3 flops) over several runs; the inputs are
//! evaluated first, so only the product is timed. Compare with NumPy:
//! `python -c "import numpy as np, time; a=np.random.rand(n,n).astype(np.float32); ..."`.

use rill_core::{ops, Array};
use std::time::Instant;

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|s| s.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![256, 512, 1024, 2048] } else { sizes };
    println!("{:>6} {:>12} {:>10}", "n", "best ms", "GFLOP/s");
    for n in sizes {
        // A cheap deterministic fill; the values do not matter for the timing.
        let fill = |seed: u64| -> Vec<f32> {
            let mut x = seed;
            (0..n * n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (x >> 40) as f32 / (1u64 << 24) as f32
                })
                .collect()
        };
        let a = Array::from_slice(&fill(1), &[n, n]).unwrap();
        let b = Array::from_slice(&fill(2), &[n, n]).unwrap();
        // Enough runs for about a second of work, at least 3.
        let flops = 2.0 * (n as f64).powi(3);
        let runs = ((2e10 / flops) as usize).clamp(3, 50);
        let mut best = f64::INFINITY;
        for _ in 0..runs + 1 {
            let t = Instant::now();
            let c = ops::matmul(&a, &b, ()).unwrap();
            c.eval().unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{n:>6} {:>12.3} {:>10.1}", best * 1e3, flops / best / 1e9);
    }
}
