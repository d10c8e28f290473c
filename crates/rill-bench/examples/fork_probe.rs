//! Forks while rill's pool runs a chain of matrix products, and checks that the child can still
//! multiply (issue 8: on a 16-core machine such a child's matmul sometimes never finished).
//!
//! `fork_probe [ROUNDS]`: each round queues `tanh(y @ w)` 3000 times on 256x256 float32, forks a
//! few milliseconds later, and gives the child 20 s (`RILL_PROBE_DEADLINE_S`) to compute a 48x64 product and check it
//! against a float64 reference. A child that does not finish is reported as `HUNG`; if
//! `RILL_PROBE_DEBUGGER` names a gdb-like debugger, its backtrace of every thread of the child is
//! printed first. Built with and without the `mimalloc` feature, it tells whether the heap
//! allocator is what the child waits for.

use rill_core::{ops, Array, Result};
use std::time::{Duration, Instant};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn random(shape: &[usize], seed: u64, scale: f32) -> (Vec<f32>, Array) {
    let n: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(6364136223846793005) | 1;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
        })
        .collect();
    let a = Array::from_slice(&v, shape).expect("from_slice");
    (v, a)
}

/// The child's work: `x.T @ x` for a 64x48 `x`, checked against float64. Returns the exit code.
fn child() -> i32 {
    let (v, x) = random(&[64, 48], 7, 2.0);
    let run = || -> Result<Vec<f32>> {
        let m = ops::matmul(&ops::transpose(&x, None, ())?, &x, ())?;
        m.to_vec::<f32>()
    };
    let Ok(got) = run() else { return 5 };
    for i in 0..48 {
        for j in 0..48 {
            let want: f64 = (0..64)
                .map(|r| v[r * 48 + i] as f64 * v[r * 48 + j] as f64)
                .sum();
            if (got[i * 48 + j] as f64 - want).abs() > 1e-3 * (1.0 + want.abs()) {
                return 6;
            }
        }
    }
    0
}

fn main() -> Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let allocator = if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    };
    let deadline = Duration::from_secs(
        std::env::var("RILL_PROBE_DEADLINE_S")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20),
    );
    let (mut hung, mut failed) = (0, 0);
    for round in 0..rounds {
        let (_, mut y) = random(&[256, 256], round as u64, 2.0);
        let (_, w) = random(&[256, 256], 1000 + round as u64, 0.125);
        for _ in 0..3000 {
            y = ops::tanh(&ops::matmul(&y, &w, ())?, ())?;
        }
        let pending = rill_core::async_eval(&[&y]);
        std::thread::sleep(Duration::from_millis(2 + (round as u64 * 7) % 40));
        // SAFETY: the child only computes with rill (whose fork handlers make that valid) and
        // leaves with `_exit`, never returning into the parent's code.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: ends the child without running the parent's destructors or atexit handlers.
            unsafe { libc::_exit(child()) };
        }
        let start = Instant::now();
        let mut status = 0;
        let code = loop {
            // SAFETY: `pid` is our child; `status` is a valid out-pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break Some(libc::WEXITSTATUS(status));
            }
            if start.elapsed() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        match code {
            Some(0) => println!("round {round}: ok in {:?}", start.elapsed()),
            Some(c) => {
                failed += 1;
                println!("round {round}: child exited {c}");
            }
            None => {
                hung += 1;
                println!("round {round}: HUNG (pid {pid})");
                // The first two hangs are enough to see where the child waits.
                if let (Ok(dbg), true) = (std::env::var("RILL_PROBE_DEBUGGER"), hung <= 2) {
                    let out = std::process::Command::new(dbg)
                        .args([
                            "-p",
                            &pid.to_string(),
                            "-batch",
                            "-ex",
                            "thread apply all bt",
                        ])
                        .output();
                    match out {
                        Ok(o) => println!(
                            "{}{}",
                            String::from_utf8_lossy(&o.stdout),
                            String::from_utf8_lossy(&o.stderr)
                        ),
                        Err(e) => println!("debugger: {e}"),
                    }
                }
                // SAFETY: kills and reaps our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
            }
        }
        pending.wait()?;
    }
    println!("{allocator}: {rounds} rounds, {hung} hung, {failed} failed");
    Ok(())
}
