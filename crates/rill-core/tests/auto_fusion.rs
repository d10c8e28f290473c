//! The scheduler's fusion of lazy elementwise chains (`scheduler/auto_fuse.rs`): a chain whose
//! intermediate values nobody holds runs as fused nodes of at most 32 ops and 8 inputs, with the
//! ops' own values bit for bit (against the same graph with fusion off, and a float64 reference);
//! values someone holds, other dtypes and other ops stay nodes of their own; errors travel as
//! before; no intermediate is allocated; concurrent evaluations of chains sharing a prefix agree.
//!
//! Runs on the default device: `scripts/gpu-check.sh` runs it with `RILL_DEFAULT_DEVICE=gpu`,
//! where a new program's kernel is compiled in the background and the first evaluations of a
//! chain run op by op (`run_fused` evaluates fresh copies of a graph until they fuse).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::memory::{active_memory, peak_memory, reset_peak_memory};
use rill_core::trace::{self, OpRecord};
use rill_core::{ops, set_auto_fusion, Array, AutoFusion, Dtype, Error, Scalar};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Captures and the fusion setting are process-wide: the tests run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn random(rng: &mut StdRng, shape: &[usize], lo: f64, hi: f64) -> (Array, Vec<f64>) {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(lo..hi) as f32).collect();
    let a = Array::from_slice(&v, shape).unwrap();
    a.eval().unwrap();
    (a, v.iter().map(|&x| x as f64).collect())
}

fn scalar(v: f64) -> Array {
    ops::scalar_array(Scalar::Float(v), Dtype::Float32, ()).unwrap()
}

fn bits(a: &Array) -> Vec<u32> {
    a.to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// The ops that ran while `roots` were evaluated.
fn evaluated(roots: &[Array]) -> Vec<OpRecord> {
    trace::start_capture(None).unwrap();
    let refs: Vec<&Array> = roots.iter().collect();
    let result = rill_core::eval(&refs);
    let ops = trace::stop_capture_timeline().unwrap().ops;
    result.unwrap();
    ops
}

/// Evaluates fresh graphs from `build` until one runs with `want_fused` fused nodes (a GPU
/// compiles a new program's kernel in the background, and runs the ops one by one meanwhile);
/// returns its roots and ops. Fails after 60 s.
fn run_fused(build: &dyn Fn() -> Vec<Array>, want_fused: usize) -> (Vec<Array>, Vec<OpRecord>) {
    let start = Instant::now();
    loop {
        let roots = build();
        let ops = evaluated(&roots);
        let fused = ops.iter().filter(|o| is_fused(o)).count();
        if fused >= want_fused || start.elapsed() > Duration::from_secs(60) {
            return (roots, ops);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `roots` of `build` evaluated with fusion off, as bits.
fn unfused_bits(build: &dyn Fn() -> Vec<Array>) -> Vec<Vec<u32>> {
    set_auto_fusion(AutoFusion::Off);
    let roots = build();
    let ops = evaluated(&roots);
    set_auto_fusion(AutoFusion::All);
    assert!(ops.iter().all(|o| !is_fused(o)), "fused with fusion off");
    roots.iter().map(bits).collect()
}

/// A fused node's record names the ops it replaced: `fused(add,tanh)`.
fn is_fused(o: &OpRecord) -> bool {
    o.op.starts_with("fused(") && o.op.ends_with(')')
}

/// The ops that ran, a fused node as `fused`.
fn op_names(ops: &[OpRecord]) -> Vec<&str> {
    ops.iter()
        .map(|o| if is_fused(o) { "fused" } else { o.op.as_str() })
        .collect()
}

/// Step `i` of a contractive chain over `y` reading `w` (broadcast along rows).
fn step(i: usize, y: &Array, w: &Array) -> Array {
    match i % 4 {
        0 => ops::multiply(y, &scalar(1.01), ()),
        1 => ops::add(y, w, ()),
        2 => ops::tanh(y, ()),
        _ => ops::subtract(y, &scalar(0.05), ()),
    }
    .unwrap()
}

fn step_f64(i: usize, y: f64, w: f64) -> f64 {
    match i % 4 {
        0 => y * (1.01f32 as f64),
        1 => y + w,
        2 => y.tanh(),
        _ => y - (0.05f32 as f64),
    }
}

#[test]
fn a_lazy_chain_runs_as_fused_nodes_with_the_ops_values() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(1);
    let (rows, cols) = (257, 33);
    let (x, xv) = random(&mut rng, &[rows, cols], -2.0, 2.0);
    let (w, wv) = random(&mut rng, &[cols], -0.1, 0.1);
    let build = || {
        let mut y = x.clone();
        for i in 0..100 {
            y = step(i, &y, &w);
        }
        vec![y]
    };
    let (roots, ops) = run_fused(&build, 4);
    // 100 ops in groups of at most 32, from the root down: 32, 32, 32 and 4.
    assert_eq!(op_names(&ops), vec!["fused"; 4], "the ops that ran");
    // The first group (the chain's first 4 ops) runs first and names its ops in order.
    assert_eq!(ops[0].op, "fused(multiply,add,tanh,subtract)");
    assert_eq!(ops[3].op.matches(',').count(), 31, "{}", ops[3].op);
    assert_eq!(
        bits(&roots[0]),
        unfused_bits(&build)[0],
        "fused against one by one"
    );
    let got = roots[0].to_vec::<f32>().unwrap();
    for (e, g) in got.iter().enumerate() {
        let mut y = xv[e];
        for i in 0..100 {
            y = step_f64(i, y, wv[e % cols]);
        }
        assert!(
            (*g as f64 - y).abs() <= 1e-5,
            "element {e}: {g} against {y}"
        );
    }
}

#[test]
fn values_someone_holds_stay_nodes_of_their_own() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(2);
    let (x, _) = random(&mut rng, &[64, 16], -1.0, 1.0);
    let (w, _) = random(&mut rng, &[16], -0.1, 0.1);
    // `held` is the user's: the chain after it fuses, the chain before it fuses into it, and it
    // is computed (available) once its reader is evaluated.
    let build = || {
        let mut held = x.clone();
        for i in 0..10 {
            held = step(i, &held, &w);
        }
        let mut y = held.clone();
        for i in 10..20 {
            y = step(i, &y, &w);
        }
        vec![y, held]
    };
    let (roots, ops) = run_fused(&build, 2);
    assert_eq!(op_names(&ops), vec!["fused"; 2]);
    let want = unfused_bits(&build);
    assert_eq!(bits(&roots[0]), want[0]);
    assert_eq!(bits(&roots[1]), want[1]);
    // Evaluating only the end computes the held value too: it was not fused away.
    let fresh = build();
    let (end, held) = (&fresh[0], &fresh[1]);
    end.eval().unwrap();
    assert!(held.is_available(), "a held intermediate was fused away");
    assert_eq!(bits(held), want[1]);
    // A value read by a non-elementwise op too (a sum) is not fused into its elementwise reader.
    let t = ops::exp(&x, ()).unwrap();
    let a = ops::multiply(&ops::multiply(&t, &scalar(2.0), ()).unwrap(), &t, ()).unwrap();
    let s = ops::sum(&t, None, false, ()).unwrap();
    drop(t);
    let ops = evaluated(&[a.clone(), s.clone()]);
    assert!(
        op_names(&ops).contains(&"exp"),
        "exp ran as its own node: {:?}",
        op_names(&ops)
    );
    let xv = x.to_vec::<f32>().unwrap();
    let want_a: Vec<f32> = xv.iter().map(|&v| v.exp() * 2.0 * v.exp()).collect();
    let got_a = a.to_vec::<f32>().unwrap();
    for (g, w) in got_a.iter().zip(&want_a) {
        assert!((g - w).abs() <= 1e-5 * w.abs(), "{g} against {w}");
    }
    let want_s: f64 = xv.iter().map(|&v| (v as f64).exp()).sum();
    assert!((s.item::<f32>().unwrap() as f64 - want_s).abs() <= 1e-4 * want_s);
}

#[test]
fn shared_values_and_repeated_inputs_fuse_into_one_node() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(3);
    let (x, xv) = random(&mut rng, &[1000], -1.0, 1.0);
    // t is read three times, all by members: one node.
    let build = || {
        let t = ops::multiply(&x, &scalar(1.5), ()).unwrap();
        let u = ops::add(&ops::multiply(&t, &t, ()).unwrap(), &t, ()).unwrap();
        vec![ops::sin(&ops::multiply(&u, &x, ()).unwrap(), ()).unwrap()]
    };
    let (roots, ops) = run_fused(&build, 1);
    assert_eq!(op_names(&ops), vec!["fused"]);
    assert_eq!(bits(&roots[0]), unfused_bits(&build)[0]);
    for (g, &v) in roots[0].to_vec::<f32>().unwrap().iter().zip(&xv) {
        let t = v * 1.5;
        let want = ((t * t + t) * v).sin();
        assert!((*g as f64 - want).abs() <= 1e-6, "{g} against {want}");
    }
}

#[test]
fn many_distinct_inputs_split_into_groups_of_at_most_eight() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(4);
    let (x, xv) = random(&mut rng, &[300], -1.0, 1.0);
    let ws: Vec<(Array, Vec<f64>)> = (0..20)
        .map(|_| random(&mut rng, &[300], -1.0, 1.0))
        .collect();
    let build = || {
        let mut y = x.clone();
        for (w, _) in &ws {
            y = ops::add(&y, w, ()).unwrap();
        }
        vec![y]
    };
    // From the root down: 7 adds reading 7 ws and the chain below; again; then the last 6 reading x.
    let (roots, ops) = run_fused(&build, 3);
    assert_eq!(op_names(&ops), vec!["fused"; 3]);
    assert_eq!(bits(&roots[0]), unfused_bits(&build)[0]);
    for (e, g) in roots[0].to_vec::<f32>().unwrap().iter().enumerate() {
        let want: f64 = xv[e] + ws.iter().map(|(_, v)| v[e]).sum::<f64>();
        assert!((*g as f64 - want).abs() <= 1e-5, "{g} against {want}");
    }
}

#[test]
fn other_dtypes_and_other_ops_are_left_alone() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(5);
    let (x, xv) = random(&mut rng, &[200], -1.0, 1.0);
    // float16: a fused kernel computes float32 and float64 only.
    let h = ops::astype(&x, Dtype::Float16, ()).unwrap();
    let two = ops::scalar_array(Scalar::Float(2.0), Dtype::Float16, ()).unwrap();
    let h = ops::add(&ops::multiply(&h, &two, ()).unwrap(), &two, ()).unwrap();
    let h = ops::astype(&ops::exp(&h, ()).unwrap(), Dtype::Float32, ()).unwrap();
    // int32 arithmetic.
    let i = ops::astype(
        &ops::multiply(&x, &scalar(100.0), ()).unwrap(),
        Dtype::Int32,
        (),
    )
    .unwrap();
    let three = ops::scalar_array(Scalar::Int(3), Dtype::Int32, ()).unwrap();
    let i = ops::multiply(&ops::add(&i, &three, ()).unwrap(), &three, ()).unwrap();
    let ops_ran = evaluated(&[h.clone(), i.clone()]);
    let names = op_names(&ops_ran);
    assert!(!names.contains(&"fused"), "fused: {names:?}");
    for (k, g) in h.to_vec::<f32>().unwrap().iter().enumerate() {
        let v = half::f16::from_f64(xv[k]).to_f64();
        let want = (v * 2.0 + 2.0).exp();
        assert!(
            (*g as f64 - want).abs() <= 3e-3 * want,
            "{g} against {want}"
        );
    }
    for (k, g) in i.to_vec::<i32>().unwrap().iter().enumerate() {
        let want = ((xv[k] as f32 * 100.0) as i32 + 3) * 3;
        assert_eq!(*g, want);
    }
}

#[test]
fn off_runs_every_op_as_its_own_node() {
    let _alone = alone();
    let mut rng = StdRng::seed_from_u64(6);
    let (x, _) = random(&mut rng, &[100], -1.0, 1.0);
    let (w, _) = random(&mut rng, &[100], -0.1, 0.1);
    set_auto_fusion(AutoFusion::Off);
    let mut y = x.clone();
    for i in 0..12 {
        y = step(i, &y, &w);
    }
    let ops = evaluated(&[y]);
    set_auto_fusion(AutoFusion::All);
    assert_eq!(ops.len(), 12, "{:?}", op_names(&ops));
    assert!(ops.iter().all(|o| !is_fused(o)));
}

#[test]
fn an_error_reaches_the_end_of_a_fused_chain_as_before() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(7);
    let (x, _) = random(&mut rng, &[50], -1.0, 1.0);
    let (w, _) = random(&mut rng, &[50], -0.1, 0.1);
    let bad = x.failed_like(Error::Index {
        op: "decode",
        msg: "batch 7 is corrupt".into(),
    });
    let mut y = bad;
    for i in 0..40 {
        y = step(i, &y, &w);
    }
    let err = y.eval().unwrap_err().to_string();
    assert!(err.contains("batch 7 is corrupt"), "{err}");
}

#[test]
fn a_fused_chain_allocates_no_intermediate_values() {
    let _alone = alone();
    let mut rng = StdRng::seed_from_u64(8);
    let (x, _) = random(&mut rng, &[1 << 20], -1.0, 1.0);
    let (w, _) = random(&mut rng, &[1 << 20], -0.1, 0.1);
    let build = || {
        let mut y = x.clone();
        for i in 0..16 {
            y = step(i, &y, &w);
        }
        vec![y]
    };
    // Bytes allocated beyond what was live before evaluating.
    let peak_of = |roots: Vec<Array>| {
        let before = active_memory(None);
        reset_peak_memory(None);
        let ops = evaluated(&roots);
        (peak_memory(None).saturating_sub(before), ops)
    };
    set_auto_fusion(AutoFusion::Off);
    let (unfused, _) = peak_of(build());
    set_auto_fusion(AutoFusion::All);
    // Warm the GPU's kernel first (a no-op on the CPU): until the whole chain runs as one node.
    // (Waiting for the first fused node was not enough: running op by op, the chain's prefixes
    // ask for kernels of their own, and one of those can be ready before the whole chain's.)
    let start = Instant::now();
    while evaluated(&build()).len() > 1 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (fused, ops) = peak_of(build());
    assert_eq!(op_names(&ops), vec!["fused"]);
    // Unfused, each op writes a 4 MiB array (two are alive at once); fused, only the result.
    assert!(unfused >= 7 << 20, "unfused peak {unfused}");
    assert!(fused <= 5 << 20, "fused peak {fused} (unfused {unfused})");
}

#[test]
fn concurrent_evaluations_of_chains_sharing_a_prefix_agree() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let mut rng = StdRng::seed_from_u64(9);
    let (x, _) = random(&mut rng, &[4096], -1.0, 1.0);
    let (w, _) = random(&mut rng, &[4096], -0.1, 0.1);
    let chain = |from: &Array, steps: std::ops::Range<usize>| {
        let mut y = from.clone();
        for i in steps {
            y = step(i, &y, &w);
        }
        y
    };
    let want = {
        set_auto_fusion(AutoFusion::Off);
        let p = chain(&x, 0..9);
        let ends: Vec<Array> = (0..4).map(|t| chain(&p, 9..9 + 10 * (t + 1))).collect();
        let refs: Vec<&Array> = ends.iter().collect();
        rill_core::eval(&refs).unwrap();
        set_auto_fusion(AutoFusion::All);
        ends.iter().map(bits).collect::<Vec<_>>()
    };
    for _round in 0..20 {
        // A shared lazy prefix: every thread's chain reads it, so no thread may fuse it away.
        let p = chain(&x, 0..9);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let p = p.clone();
                    let chain = &chain;
                    s.spawn(move || {
                        let end = chain(&p, 9..9 + 10 * (t + 1));
                        drop(p);
                        end.eval().unwrap();
                        bits(&end)
                    })
                })
                .collect();
            for (t, h) in handles.into_iter().enumerate() {
                assert_eq!(h.join().unwrap(), want[t], "thread {t}");
            }
        });
        assert!(p.is_available(), "the shared prefix was fused away");
    }
}

/// `x` as float32 on `s`, and its values as float64.
fn random_on(rng: &mut StdRng, shape: &[usize], s: rill_core::Stream) -> (Array, Vec<f64>) {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.5..1.5) as f32).collect();
    let a = Array::from_slice_on(&v, shape, s).unwrap();
    a.eval().unwrap();
    (a, v.iter().map(|&x| x as f64).collect())
}

/// A reduction over trailing axes of a lazy chain ends the chain's fused node on a CPU stream (a
/// GPU fuses reductions only through `compile`): one node, the ops' values bit for bit (the
/// fused reduction combines in the reduce kernel's order), the float64 reference's within
/// rounding. A reduction over a leading axis, or of a value someone holds, stays its own node.
#[test]
fn a_reduction_over_trailing_axes_ends_the_fused_node_on_the_cpu() {
    let _alone = alone();
    set_auto_fusion(AutoFusion::All);
    let s = rill_core::new_stream(rill_core::Device::cpu()).unwrap();
    let mut rng = StdRng::seed_from_u64(10);
    let (a, b, c) = (37, 3, 1000);
    let (x, xv) = random_on(&mut rng, &[a, b, c], s);
    let (w, wv) = random_on(&mut rng, &[c], s);
    let k = ops::scalar_array(Scalar::Float(1.5), Dtype::Float32, s).unwrap();
    // y = tanh(x * 1.5 - w)^2, reduced by `op` over `axes`.
    let chain = |op: &str, axes: &[isize]| {
        let y = ops::subtract(&ops::multiply(&x, &k, s).unwrap(), &w, s).unwrap();
        let t = ops::tanh(&y, s).unwrap();
        let sq = ops::multiply(&t, &t, s).unwrap();
        match op {
            "sum" => ops::sum(&sq, Some(axes), false, s),
            "max" => ops::max(&sq, Some(axes), true, s),
            _ => ops::prod(&sq, Some(axes), false, s),
        }
        .unwrap()
    };
    // x * 1.5 - w rounds as float32 does (near zero the difference is all rounding; the test is
    // about what follows it), then tanh and the rest in float64.
    let y64 = |e: usize| {
        let t = ((xv[e] as f32 * 1.5 - wv[e % c] as f32) as f64).tanh();
        t * t
    };
    for (op, axes, label, rows) in [
        (
            "sum",
            vec![-1],
            "fused(multiply,subtract,tanh,multiply;sum)",
            c,
        ),
        (
            "max",
            vec![1, 2],
            "fused(multiply,subtract,tanh,multiply;max)",
            b * c,
        ),
    ] {
        let ops_ran = evaluated(&[chain(op, &axes)]);
        let fused: Vec<&str> = ops_ran
            .iter()
            .filter(|o| is_fused(o))
            .map(|o| o.op.as_str())
            .collect();
        assert_eq!(fused, vec![label], "{op}: {:?}", op_names(&ops_ran));
        assert!(
            !op_names(&ops_ran).contains(&op),
            "{op} ran on its own: {:?}",
            op_names(&ops_ran)
        );
        let got = chain(op, &axes);
        got.eval().unwrap();
        set_auto_fusion(AutoFusion::Off);
        let plain = chain(op, &axes);
        let plain_ops = evaluated(std::slice::from_ref(&plain));
        set_auto_fusion(AutoFusion::All);
        assert!(op_names(&plain_ops).contains(&op));
        assert_eq!(bits(&got), bits(&plain), "{op}: fused against one by one");
        for (r, g) in got.to_vec::<f32>().unwrap().iter().enumerate() {
            let vals = (r * rows..(r + 1) * rows).map(y64);
            let want = if op == "sum" {
                vals.sum::<f64>()
            } else {
                vals.fold(f64::MIN, f64::max)
            };
            assert!(
                (*g as f64 - want).abs() <= 1e-5 * want.abs().max(1.0),
                "{op} row {r}: {g} against {want}"
            );
        }
    }
    // Over the leading axis: the chain fuses, the product runs after it.
    let p = chain("prod", &[0]);
    let names: Vec<String> = evaluated(std::slice::from_ref(&p))
        .into_iter()
        .map(|o| o.op)
        .collect();
    assert!(names.contains(&"prod".to_string()), "{names:?}");
    assert!(names.iter().all(|n| !n.contains(';')), "{names:?}");
    for (col, g) in p.to_vec::<f32>().unwrap().iter().enumerate().step_by(97) {
        let want: f64 = (0..a).map(|r| y64(r * b * c + col)).product();
        assert!(
            (*g as f64 - want).abs() <= 1e-5 * want.abs() + 1e-30,
            "{g} against {want}"
        );
    }
    // The reduced value is the user's: it is computed and kept, the sum reads it.
    let held = ops::tanh(&ops::multiply(&x, &k, s).unwrap(), s).unwrap();
    let total = ops::sum(&held, Some(&[-1]), false, s).unwrap();
    let names: Vec<String> = evaluated(std::slice::from_ref(&total))
        .into_iter()
        .map(|o| o.op)
        .collect();
    assert!(names.contains(&"sum".to_string()), "{names:?}");
    assert!(held.is_available(), "a held value was fused away");
}
