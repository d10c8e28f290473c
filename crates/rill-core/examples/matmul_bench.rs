//! Matmul throughput: `cargo run --release -p rill-core --example matmul_bench [dtype] [sizes...]`.
//!
//! For each n (256, 512, 1024, 2048 by default) multiplies two random n x n matrices (float32
//! unless a dtype name such as `float16` or `bfloat16` is given), evaluates, and prints the best
//! time and GFLOP/s (2*n^3 flops; for complex64, complex multiply-adds) over several runs. The
//! inputs are evaluated first, so only the product is timed. Compare with NumPy:
//! `python -c "import numpy as np, time; a=np.random.rand(n,n).astype(np.float32); ..."`.

use rill_core::{ops, Array, Dtype};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dtype = args
        .iter()
        .find_map(|a| Dtype::from_name(a))
        .unwrap_or(Dtype::Float32);
    let sizes: Vec<usize> = args.iter().filter_map(|s| s.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![256, 512, 1024, 2048]
    } else {
        sizes
    };
    println!("{dtype} matmul, {} rayon threads", rayon_threads());
    println!("{:>6} {:>12} {:>10}", "n", "best ms", "GFLOP/s");
    for n in sizes {
        // A cheap deterministic fill in [0, 1); the values do not matter for the timing.
        let fill = |seed: u64| -> Vec<f32> {
            let mut x = seed;
            (0..n * n)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 40) as f32 / (1u64 << 24) as f32
                })
                .collect()
        };
        let input = |seed| {
            let x =
                ops::astype(&Array::from_slice(&fill(seed), &[n, n]).unwrap(), dtype, ()).unwrap();
            x.eval().unwrap();
            x
        };
        let (a, b) = (input(1), input(2));
        // Enough runs for a few seconds of work at ~100 GFLOP/s, at least 3.
        let flops = 2.0 * (n as f64).powi(3);
        let runs = ((2e11 / flops) as usize).clamp(3, 100);
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

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
