//! `compile`'s fusion of elementwise chains (`transforms/fuse.rs`; `backend/cpu/fused.rs`, and on
//! the GPU `backend/cuda/kernels/fused.rs` when `scripts/gpu-check.sh` runs this with
//! `RILL_DEFAULT_DEVICE=gpu`): a
//! fused replay gives the unfused ops' values bit for bit and agrees with a float64 reference, on
//! random inputs, for chains with broadcasts, constants, repeated and shared values, reductions
//! over trailing axes (split across threads or not), views as inputs, float64, and under grad and
//! vmap (which replay the unfused steps).
//!
//! The scheduler's own fusion of lazy chains (`tests/auto_fusion.rs`) is turned off here: the
//! unfused side of each comparison must run op by op.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::memory::{active_memory, peak_memory, reset_peak_memory};
use rill_core::transforms::{grad, vmap, Program};
use rill_core::{ops, set_auto_fusion, Array, AutoFusion, Dtype, Result, Scalar};
use std::sync::Mutex;

/// The memory test reads the process's peak; the other tests must not allocate meanwhile.
static SERIAL: Mutex<()> = Mutex::new(());

/// Every test starts with this: the plain (unfused) evaluations must not be fused by the
/// scheduler either.
fn plain_ops() {
    set_auto_fusion(AutoFusion::Off);
}

fn random(rng: &mut StdRng, shape: &[usize], lo: f64, hi: f64, dtype: Dtype) -> Array {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    let a = Array::from_slice(&v, shape).unwrap();
    let a = ops::astype(&a, dtype, ()).unwrap();
    a.eval().unwrap();
    a
}

fn scalar(v: f64) -> Array {
    ops::scalar_array(Scalar::Float(v), Dtype::Float32, ()).unwrap()
}

/// Every element as its bits, widened to u64 (float32 and float64 alike).
fn bits(a: &Array) -> Vec<u64> {
    match a.dtype() {
        Dtype::Float32 => a
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect(),
        _ => a
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect(),
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rtol * (1.0 + w.abs()),
            "{what}: element {i}: {g} against {w}"
        );
    }
}

/// A float32 array's elements, widened.
fn f64s(a: &Array) -> Vec<f64> {
    a.to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect()
}

type Fun = dyn Fn(&[Array]) -> Result<Vec<Array>>;

/// Traces `f`, checks that something fused, and that a replay at new inputs equals `f` called
/// on them unfused, bit for bit, every output; returns the replayed outputs.
fn fused_equals_unfused(f: &Fun, trace_at: &[Array], replay_at: &[Array]) -> Vec<Array> {
    let (program, _) = Program::trace(f, trace_at).unwrap();
    assert!(program.fused_away() > 0, "nothing fused");
    let fused = program.replay(replay_at).unwrap();
    let plain = f(replay_at).unwrap();
    for (i, (a, b)) in fused.iter().zip(&plain).enumerate() {
        assert_eq!(a.shape(), b.shape(), "output {i}: shape");
        assert_eq!(a.dtype(), b.dtype(), "output {i}: dtype");
        assert_eq!(bits(a), bits(b), "output {i}: fused against unfused");
    }
    fused
}

/// The benchmark's chain: `*1.1, +0.3, tanh, square, -0.5, exp, *0.9, abs`.
fn chain(x: &Array) -> Result<Array> {
    let y = ops::add(&ops::multiply(x, &scalar(1.1), ())?, &scalar(0.3), ())?;
    let y = ops::subtract(&ops::square(&ops::tanh(&y, ())?, ())?, &scalar(0.5), ())?;
    ops::abs(&ops::multiply(&ops::exp(&y, ())?, &scalar(0.9), ())?, ())
}

fn chain_f64(v: f64) -> f64 {
    let y = ((v * 1.1 + 0.3).tanh().powi(2) - 0.5).exp() * 0.9;
    y.abs()
}

#[test]
fn a_chain_and_its_sum_fuse_and_equal_the_ops_one_by_one() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(1);
    // 300 x 517: blocks that do not divide the rows, and enough elements to split over threads.
    let shape = [300, 517];
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        let y = chain(&xs[0])?;
        Ok(vec![y.clone(), ops::sum(&y, None, false, ())?])
    };
    let x = random(&mut rng, &shape, -2.0, 2.0, Dtype::Float32);
    // The chain is an output too, so only the ops before it fuse into it; the sum reads it.
    let z = random(&mut rng, &shape, -2.0, 2.0, Dtype::Float32);
    let out = fused_equals_unfused(&f, &[x], std::slice::from_ref(&z));
    let zv = z.to_vec::<f32>().unwrap();
    let want: Vec<f64> = zv.iter().map(|&v| chain_f64(v as f64)).collect();
    let got: Vec<f64> = f64s(&out[0]);
    assert_close("chain", &got, &want, 2e-6);
    // Only the sum: the chain and the reduction become one node.
    let g = |xs: &[Array]| -> Result<Vec<Array>> {
        Ok(vec![ops::sum(&chain(&xs[0])?, None, false, ())?])
    };
    let (program, _) = Program::trace(g, std::slice::from_ref(&z)).unwrap();
    assert_eq!(
        program.fused_away(),
        8,
        "eight ops fold into the sum's node"
    );
    let out = fused_equals_unfused(&g, std::slice::from_ref(&z), std::slice::from_ref(&z));
    let s: f64 = want.iter().sum();
    assert_close("sum", &[out[0].item::<f32>().unwrap() as f64], &[s], 1e-5);
}

#[test]
fn long_rows_split_across_threads_sum_as_the_reduction_kernel_sums() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(2);
    // Rows of 150 000 (> 2 x 65 536): each row's sum is split into chunks, as `reduce.rs` does.
    for (shape, axes) in [
        (vec![2, 150_000], vec![1isize]),
        (vec![300_000], vec![0]),
        (vec![7, 3, 40_000], vec![1, 2]),
    ] {
        let axes2 = axes.clone();
        let f = move |xs: &[Array]| -> Result<Vec<Array>> {
            let y = ops::multiply(&ops::sigmoid(&xs[0], ())?, &xs[0], ())?;
            Ok(vec![ops::sum(&y, Some(&axes2), true, ())?])
        };
        let x = random(&mut rng, &shape, -3.0, 3.0, Dtype::Float32);
        let out = fused_equals_unfused(&f, std::slice::from_ref(&x), std::slice::from_ref(&x));
        let xv = x.to_vec::<f32>().unwrap();
        let row: usize = axes.iter().map(|&a| shape[a as usize]).product();
        let want: Vec<f64> = xv
            .chunks(row)
            .map(|r| {
                r.iter()
                    .map(|&v| {
                        let v = v as f64;
                        v / (1.0 + (-v).exp())
                    })
                    .sum()
            })
            .collect();
        let got: Vec<f64> = f64s(&out[0]);
        assert_close("row sums", &got, &want, 1e-5);
    }
}

#[test]
fn broadcasts_constants_repeated_and_shared_values_fuse() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(3);
    let (n, m) = (257, 129);
    let w = random(&mut rng, &[m], 0.5, 1.5, Dtype::Float32);
    let b = random(&mut rng, &[1, m], -0.5, 0.5, Dtype::Float32);
    let captured = random(&mut rng, &[n, m], -1.0, 1.0, Dtype::Float32);
    let (wc, bc, cc) = (w.clone(), b.clone(), captured.clone());
    // y = tanh(x * w + b) (a row broadcast, a (1, m) broadcast); z = y * y + y (a shared value,
    // read twice by one op); then max(z, captured) / 2 and its max and min over the last axis.
    let f = move |xs: &[Array]| -> Result<Vec<Array>> {
        let y = ops::tanh(&ops::add(&ops::multiply(&xs[0], &wc, ())?, &bc, ())?, ())?;
        let z = ops::add(&ops::multiply(&y, &y, ())?, &y, ())?;
        let z = ops::divide(&ops::maximum(&z, &cc, ())?, &scalar(2.0), ())?;
        let hi = ops::max(&z, Some(&[-1]), false, ())?;
        let z2 = ops::multiply(&z, &xs[1], ())?;
        let lo = ops::min(&z2, Some(&[1]), true, ())?;
        Ok(vec![hi, lo])
    };
    let x = random(&mut rng, &[n, m], -2.0, 2.0, Dtype::Float32);
    let x2 = random(&mut rng, &[n, m], -2.0, 2.0, Dtype::Float32);
    let out = fused_equals_unfused(&f, &[x.clone(), x2.clone()], &[x.clone(), x2.clone()]);
    let (xv, x2v) = (x.to_vec::<f32>().unwrap(), x2.to_vec::<f32>().unwrap());
    let (wv, bv, cv) = (
        w.to_vec::<f32>().unwrap(),
        b.to_vec::<f32>().unwrap(),
        captured.to_vec::<f32>().unwrap(),
    );
    let z: Vec<f64> = (0..n * m)
        .map(|i| {
            let y = (xv[i] as f64 * wv[i % m] as f64 + bv[i % m] as f64).tanh();
            (y * y + y).max(cv[i] as f64) / 2.0
        })
        .collect();
    let hi: Vec<f64> = z
        .chunks(m)
        .map(|r| r.iter().cloned().fold(f64::MIN, f64::max))
        .collect();
    let lo: Vec<f64> = (0..n)
        .map(|r| {
            (0..m)
                .map(|c| z[r * m + c] * x2v[r * m + c] as f64)
                .fold(f64::MAX, f64::min)
        })
        .collect();
    assert_close("max", &f64s(&out[0]), &hi, 1e-5);
    assert_close("min", &f64s(&out[1]), &lo, 1e-5);
    assert_eq!(out[1].shape(), &[n, 1]);
}

#[test]
fn views_and_float64_inputs_and_unfusable_reductions() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(4);
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        let y = ops::exp(&ops::negative(&ops::square(&xs[0], ())?, ())?, ())?;
        let y = ops::multiply(&y, &xs[1], ())?;
        // A sum over the first axis is not over trailing axes: it stays its own node.
        Ok(vec![
            ops::sum(&y, Some(&[0]), false, ())?,
            ops::prod(&y, None, false, ())?,
        ])
    };
    let a = random(&mut rng, &[64, 64], -1.0, 1.0, Dtype::Float64);
    let b = random(&mut rng, &[64, 64], 0.9, 1.1, Dtype::Float64);
    // Replayed with a transposed view: the kernel reads it through a copy.
    let at = ops::transpose(&a, None, ()).unwrap();
    let out = fused_equals_unfused(&f, &[a.clone(), b.clone()], &[at.clone(), b.clone()]);
    let (av, bv) = (a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
    let y = |r: usize, c: usize| (-(av[c * 64 + r]).powi(2)).exp() * bv[r * 64 + c];
    let cols: Vec<f64> = (0..64).map(|c| (0..64).map(|r| y(r, c)).sum()).collect();
    assert_close(
        "column sums",
        &out[0].to_vec::<f64>().unwrap(),
        &cols,
        1e-12,
    );
    let p: f64 = (0..64 * 64).map(|i| y(i / 64, i % 64)).product();
    assert_close("product", &[out[1].item::<f64>().unwrap()], &[p], 1e-10);
}

#[test]
fn integer_chains_are_left_alone_and_still_correct() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        let y = ops::add(&ops::multiply(&xs[0], &xs[0], ())?, &xs[0], ())?;
        Ok(vec![ops::sum(&y, None, false, ())?])
    };
    let x = Array::from_slice(
        &(0..1000).map(|i: i32| i - 500).collect::<Vec<_>>(),
        &[1000],
    )
    .unwrap();
    let (program, first) = Program::trace(f, std::slice::from_ref(&x)).unwrap();
    assert_eq!(program.fused_away(), 0);
    let want: i64 = (0..1000i64)
        .map(|i| (i - 500) * (i - 500) + (i - 500))
        .sum();
    assert_eq!(first[0].item::<i32>().unwrap() as i64, want);
    let again = program.replay(std::slice::from_ref(&x)).unwrap();
    assert_eq!(again[0].item::<i32>().unwrap() as i64, want);
}

#[test]
fn grad_and_vmap_of_a_compiled_function_use_the_unfused_steps() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(5);
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        Ok(vec![ops::sum(&chain(&xs[0])?, None, false, ())?])
    };
    let x = random(&mut rng, &[8, 16], -1.0, 1.0, Dtype::Float32);
    let (program, _) = Program::trace(f, std::slice::from_ref(&x)).unwrap();
    assert!(program.fused_away() > 0);
    let through_program = grad(
        |xs: &[Array]| Ok(program.replay(xs)?.remove(0)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    let direct = grad(
        |xs: &[Array]| Ok(f(xs)?.remove(0)),
        std::slice::from_ref(&x),
    )
    .unwrap();
    assert_eq!(bits(&through_program[0]), bits(&direct[0]));
    // d/dv of chain_f64 by central differences, against the gradient.
    let xv = x.to_vec::<f32>().unwrap();
    let h = 1e-5;
    let numeric: Vec<f64> = xv
        .iter()
        .map(|&v| (chain_f64(v as f64 + h) - chain_f64(v as f64 - h)) / (2.0 * h))
        .collect();
    let got: Vec<f64> = f64s(&through_program[0]);
    assert_close("gradient", &got, &numeric, 1e-3);
    // vmap over the rows of a (4, 8, 16) batch: each row's sum.
    let batch = random(&mut rng, &[4, 8, 16], -1.0, 1.0, Dtype::Float32);
    let per_row = vmap(
        |xs: &[Array]| program.replay(xs),
        std::slice::from_ref(&batch),
        &[Some(0)],
    )
    .unwrap();
    assert!(per_row[0].batched);
    let sums = per_row[0].array.to_vec::<f32>().unwrap();
    for (i, got) in sums.into_iter().enumerate() {
        let i = i as isize;
        let row = ops::slice(&batch, &[i, 0, 0], &[i + 1, 8, 16], &[1, 1, 1], ()).unwrap();
        let row = ops::reshape(&row, &[8, 16], ()).unwrap();
        let want = f(&[row]).unwrap().remove(0).item::<f32>().unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "vmap row {i}");
    }
}

#[test]
fn a_fused_chain_allocates_no_intermediate_values() {
    plain_ops();
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = StdRng::seed_from_u64(6);
    let x = random(&mut rng, &[1024, 1024], -2.0, 2.0, Dtype::Float32);
    let f = |xs: &[Array]| -> Result<Vec<Array>> {
        Ok(vec![ops::sum(&chain(&xs[0])?, None, false, ())?])
    };
    let (program, _) = Program::trace(f, std::slice::from_ref(&x)).unwrap();
    // Bytes allocated beyond what was live before evaluating `out`.
    let peak_of = |out: Vec<Array>| {
        let before = active_memory(None);
        reset_peak_memory(None);
        out[0].eval().unwrap();
        peak_memory(None) - before
    };
    let unfused = peak_of(f(std::slice::from_ref(&x)).unwrap());
    let fused = peak_of(program.replay(std::slice::from_ref(&x)).unwrap());
    // Unfused, each op writes a 4 MiB array (two are alive at once); fused, only the sum's
    // 4 bytes and its reshape come from the allocator.
    assert!(unfused >= 6 << 20, "unfused peak {unfused}");
    assert!(fused < 1 << 20, "fused peak {fused} (unfused {unfused})");
}
