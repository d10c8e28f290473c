//! How one large float32 product is best split over many cores:
//! `cargo run --release -p rill-core --example gemm_split [n] [rounds]`.
//!
//! Times `n x n @ n x n` (2048 by default) with `gemm`'s own rayon split (what rill's matmul uses
//! with the whole pool) and with the output cut into tiles that rayon tasks compute with
//! single-threaded `gemm` calls (each task packs its own panels), for several tile grids, and
//! rill's `ops::matmul` beside them. Prints the median of each over `rounds` rounds, the variants
//! alternating within each round.

use gemm::Parallelism;
use rayon::prelude::*;
use rill_core::{ops, Array};
use std::time::Instant;

#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: each task writes its own tile of the output (disjoint rows x columns).
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

impl Out {
    /// The output's element `i` (a method, so closures capture the whole `Out`, which is `Sync`,
    /// not its raw pointer field).
    fn at(self, i: usize) -> *mut f32 {
        self.0.wrapping_add(i)
    }
}

/// `c[r0.., c0..] = a[r0.., :] @ b[:, c0..]` for a `rows x cols` block of the n x n row-major
/// product, on `par`'s threads.
///
/// # Safety
/// `c`, `a` and `b` point at n x n row-major buffers; the block lies inside them; no other thread
/// writes the block meanwhile.
unsafe fn product(
    c: Out,
    a: &[f32],
    b: &[f32],
    n: usize,
    (r0, c0): (usize, usize),
    (rows, cols): (usize, usize),
    par: Parallelism,
) {
    // SAFETY: the caller's contract: the block is in bounds of all three and written by no
    // other thread; a's rows r0.. and b's columns c0.. are only read.
    unsafe {
        gemm::gemm(
            rows,
            cols,
            n,
            c.at(r0 * n + c0),
            1,
            n as isize,
            false,
            a.as_ptr().add(r0 * n),
            1,
            n as isize,
            b.as_ptr().add(c0),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// `c = a @ b` (all n x n, row-major), the output cut into `tr x tc` tiles.
fn tiled(c: &mut [f32], a: &[f32], b: &[f32], n: usize, tr: usize, tc: usize) {
    let out = Out(c.as_mut_ptr());
    let (rh, cw) = (n.div_ceil(tr), n.div_ceil(tc));
    (0..tr * tc).into_par_iter().for_each(|t| {
        let (r0, c0) = ((t / tc) * rh, (t % tc) * cw);
        let (rows, cols) = (rh.min(n - r0.min(n)), cw.min(n - c0.min(n)));
        if rows == 0 || cols == 0 {
            return;
        }
        // SAFETY: the tile [r0, r0+rows) x [c0, c0+cols) is inside c and written by this task
        // only.
        unsafe { product(out, a, b, n, (r0, c0), (rows, cols), Parallelism::None) }
    });
}

/// `c = a @ b` (all n x n, row-major) in one call, split by `gemm` over rayon's threads.
fn whole(c: &mut [f32], a: &[f32], b: &[f32], n: usize) {
    // SAFETY: all three are n x n; the block is the whole of c, which this call borrows mutably.
    unsafe {
        product(
            Out(c.as_mut_ptr()),
            a,
            b,
            n,
            (0, 0),
            (n, n),
            Parallelism::Rayon(0),
        )
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(2048);
    let rounds = args.get(1).copied().unwrap_or(5);
    let threads = rayon::current_num_threads();
    let mut x = 7u64;
    let mut fill = || -> Vec<f32> {
        (0..n * n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    };
    let (a, b) = (fill(), fill());
    let mut c = vec![0f32; n * n];
    let mut grids: Vec<(usize, usize)> = vec![(threads, 1), (threads / 2, 2), (4, threads / 4)];
    grids.extend([
        (2 * threads, 1),
        (threads, 2),
        (threads / 2, 4),
        (8, 8),
        (16, 8),
    ]);
    grids.retain(|&(r, c)| r > 0 && c > 0);
    let ra = Array::from_slice(&a, &[n, n]).unwrap();
    let rb = Array::from_slice(&b, &[n, n]).unwrap();
    ra.eval().unwrap();
    rb.eval().unwrap();
    let mut names = vec!["gemm Rayon(0)".to_string(), "rill ops::matmul".to_string()];
    names.extend(grids.iter().map(|(r, c)| format!("tiles {r}x{c}")));
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let time = |f: &mut dyn FnMut()| {
        f();
        let reps = 7;
        let mut best = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            f();
            best.push(t.elapsed().as_secs_f64() * 1e3);
        }
        best.sort_by(f64::total_cmp);
        best[reps / 2]
    };
    let mut want = vec![0f32; n * n];
    whole(&mut want, &a, &b, n);
    for _ in 0..rounds {
        times[0].push(time(&mut || whole(&mut c, &a, &b, n)));
        times[1].push(time(&mut || {
            ops::matmul(&ra, &rb, ()).unwrap().eval().unwrap();
        }));
        for (g, &(tr, tc)) in grids.iter().enumerate() {
            times[2 + g].push(time(&mut || tiled(&mut c, &a, &b, n, tr, tc)));
            let worst = c
                .iter()
                .zip(&want)
                .map(|(p, q)| (p - q).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-2, "tiles {tr}x{tc}: differs by {worst}");
        }
    }
    println!("n={n}, {threads} rayon threads, median of {rounds} rounds (each the median of 7)");
    for (name, t) in names.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let med = t[t.len() / 2];
        let flops = 2.0 * (n as f64).powi(3);
        println!(
            "{name:>18} {med:>9.2} ms {:>8.0} GFLOP/s",
            flops / med / 1e6
        );
    }
}
