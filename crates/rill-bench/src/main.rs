//! Times rill's side of the CPU benchmark table and prints one JSON object (milliseconds or
//! microseconds, as each key says). `benchmarks/compare.py` runs this beside numpy and real MLX
//! in the same session and writes the ratios.

use rill_core::{ops, Array, Device, Result, Stream};
use serde_json::{json, Map, Value};
use std::time::Instant;

/// Nodes and tasks are built on the thread that records ops and freed on the pool threads that run
/// them; mimalloc serves such cross-thread frees without the lock contention of glibc's malloc.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Median seconds of `runs` calls after `warm` warm-up calls.
fn median(warm: usize, runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..warm {
        f()?;
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f().map(|_| s.elapsed().as_secs_f64())
        })
        .collect::<Result<_>>()?;
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Ok(t[t.len() / 2])
}

/// Times `a` and `b` alternately, `runs` pairs after `warm` warm-up pairs. Returns the median time
/// of each and the median of the per-pair ratios `a / b`: this machine's speed drifts within
/// seconds, and timing all of `a` before all of `b` let that drift into the ratio.
fn paired(
    warm: usize,
    runs: usize,
    mut a: impl FnMut() -> Result<()>,
    mut b: impl FnMut() -> Result<()>,
) -> Result<(f64, f64, f64)> {
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
        let s = Instant::now();
        f()?;
        Ok(s.elapsed().as_secs_f64())
    };
    for _ in 0..warm {
        time(&mut a)?;
        time(&mut b)?;
    }
    let (mut ta, mut tb, mut ratio) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let (x, y) = (time(&mut a)?, time(&mut b)?);
        ta.push(x);
        tb.push(y);
        ratio.push(x / y);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|p, q| p.partial_cmp(q).unwrap());
        v[v.len() / 2]
    };
    Ok((median(ta), median(tb), median(ratio)))
}

fn random(shape: &[usize], seed: u64) -> Result<Array> {
    // A cheap deterministic fill (an LCG): benchmarks need non-constant data, not good randomness.
    let n: usize = shape.iter().product();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let v: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect();
    Array::from_slice(&v, shape)
}

fn chain(x: &Array, k: usize, s: Stream) -> Result<Array> {
    let mut y = x.clone();
    for _ in 0..k {
        y = ops::multiply(&ops::add(&y, x, s)?, &Array::scalar(0.5f32), s)?;
    }
    Ok(y)
}

fn main() -> Result<()> {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let want = |k: &str| only.is_empty() || only.iter().any(|o| k.starts_with(o.as_str()));
    let mut r = Map::new();
    let n = 4096;

    if want("add") {
        let a = random(&[n, n], 1)?;
        let b = random(&[n, n], 2)?;
        let t = median(3, 15, || ops::add(&a, &b, ())?.eval())?;
        r.insert("add_4096_ms".into(), json!(t * 1e3));
        // The same with MLX's default CPU cache limit (32 MiB): every 64 MiB output is then a
        // fresh allocation whose pages fault in as the kernel writes them.
        let cpu = Some(Device::cpu());
        let old = rill_core::memory::set_cache_limit(cpu, 32 << 20);
        let t = median(3, 15, || ops::add(&a, &b, ())?.eval())?;
        rill_core::memory::set_cache_limit(cpu, old);
        r.insert("add_4096_cache_32MiB_ms".into(), json!(t * 1e3));
    }
    if want("sum") {
        let a = random(&[n, n], 3)?;
        let t = median(3, 15, || ops::sum(&a, None, false, ())?.eval())?;
        r.insert("sum_4096_ms".into(), json!(t * 1e3));
    }
    if want("matmul") {
        let a = random(&[1024, 1024], 4)?;
        let b = random(&[1024, 1024], 5)?;
        let t = median(3, 15, || ops::matmul(&a, &b, ())?.eval())?;
        r.insert("matmul_1024_ms".into(), json!(t * 1e3));
    }
    if want("tiny") {
        let x = Array::scalar(1.0f32);
        let one = Array::scalar(1.0f32);
        let k = 20_000;
        let t = median(1, 5, || {
            for _ in 0..k {
                ops::add(&x, &one, ())?.eval()?;
            }
            Ok(())
        })?;
        r.insert("tiny_op_eval_us".into(), json!(t / k as f64 * 1e6));
        let t = median(1, 5, || {
            let mut y = x.clone();
            for _ in 0..5000 {
                y = ops::add(&y, &one, ())?;
            }
            y.eval()
        })?;
        r.insert("lazy_chain_5000_us_per_op".into(), json!(t / 5000.0 * 1e6));
    }
    if want("streams") {
        let s1 = rill_core::new_stream(Device::cpu())?;
        let s2 = rill_core::new_stream(Device::cpu())?;
        let a = random(&[128, 128], 6)?;
        let b = random(&[128, 128], 7)?;
        let k = 300;
        let (one, two, speedup) = paired(
            2,
            15,
            || {
                let (x, y) = (chain(&a, k, s1)?, chain(&b, k, s1)?);
                rill_core::eval(&[&x, &y])
            },
            || {
                let (x, y) = (chain(&a, k, s1)?, chain(&b, k, s2)?);
                rill_core::eval(&[&x, &y])
            },
        )?;
        r.insert("two_chains_one_stream_ms".into(), json!(one * 1e3));
        r.insert("two_chains_two_streams_ms".into(), json!(two * 1e3));
        r.insert("two_streams_speedup".into(), json!(speedup));
        // The same with a transcendental op in each step: kernels that compute rather than move
        // memory, so per-op dispatch costs weigh less.
        let sin_chain = |x: &Array, s: Stream| -> Result<Array> {
            let mut y = x.clone();
            for _ in 0..k {
                y = ops::sin(&ops::add(&y, x, s)?, s)?;
            }
            Ok(y)
        };
        let (one, two, speedup) = paired(
            2,
            9,
            || {
                let (x, y) = (sin_chain(&a, s1)?, sin_chain(&b, s1)?);
                rill_core::eval(&[&x, &y])
            },
            || {
                let (x, y) = (sin_chain(&a, s1)?, sin_chain(&b, s2)?);
                rill_core::eval(&[&x, &y])
            },
        )?;
        r.insert("two_sin_chains_one_stream_ms".into(), json!(one * 1e3));
        r.insert("two_sin_chains_two_streams_ms".into(), json!(two * 1e3));
        r.insert("two_sin_streams_speedup".into(), json!(speedup));
    }
    if want("submit") {
        // The main thread's share of many streams' work (issue 14): building 16 chains of
        // `tanh(x @ w + b)` (200 steps each, 9600 ops) and submitting them, per op. While these
        // costs add up on one thread, the sixteenth stream starts late.
        let streams: Vec<Stream> = (0..16)
            .map(|_| rill_core::new_stream(Device::cpu()))
            .collect::<Result<_>>()?;
        let w = random(&[128, 128], 8)?;
        let b = random(&[128], 9)?;
        let x0 = random(&[128, 128], 10)?;
        let steps = 200;
        let ops_total = (streams.len() * steps * 3) as f64;
        let (mut build, mut submit) = (vec![], vec![]);
        for _ in 0..7 {
            let s = Instant::now();
            let ys: Vec<Array> = streams
                .iter()
                .map(|&st| {
                    let mut y = x0.clone();
                    for _ in 0..steps {
                        y = ops::tanh(&ops::add(&ops::matmul(&y, &w, st)?, &b, st)?, st)?;
                    }
                    Ok(y)
                })
                .collect::<Result<_>>()?;
            build.push(s.elapsed().as_secs_f64());
            let s = Instant::now();
            let pending = rill_core::async_eval(&ys.iter().collect::<Vec<_>>());
            submit.push(s.elapsed().as_secs_f64());
            pending.wait()?;
        }
        let middle = |mut v: Vec<f64>| {
            v.sort_by(|p, q| p.partial_cmp(q).unwrap());
            v[v.len() / 2]
        };
        // Each op's share of the build: 9600 nodes of one kind, nothing evaluated.
        let y = random(&[128, 128], 11)?;
        let st = streams[0];
        let kinds: [(&str, &dyn Fn() -> Result<Array>); 3] = [
            ("matmul", &|| ops::matmul(&y, &w, st)),
            ("add", &|| ops::add(&y, &b, st)),
            ("tanh", &|| ops::tanh(&y, st)),
        ];
        for (name, make) in kinds {
            let t = median(1, 7, || {
                let nodes: Vec<Array> = (0..9600).map(|_| make()).collect::<Result<_>>()?;
                drop(nodes);
                Ok(())
            })?;
            r.insert(format!("build_{name}_us"), json!(t / 9600.0 * 1e6));
        }
        r.insert(
            "build_us_per_op".into(),
            json!(middle(build) / ops_total * 1e6),
        );
        r.insert(
            "submit_us_per_op".into(),
            json!(middle(submit) / ops_total * 1e6),
        );
    }
    r.insert("threads".into(), json!(rill_core::backend::cpu::cores()));
    let allocator = if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "system"
    };
    r.insert("allocator".into(), json!(allocator));
    println!("{}", Value::Object(r));
    Ok(())
}
