//! The GPU device: placement, copies between devices, cross-stream and cross-device ordering,
//! memory counters and the hard limit, errors, random numbers, threads and timeline captures.
//!
//! Every test needs a GPU. On a machine without one each test prints `SKIPPED (no GPU): ...` and
//! returns, so a CI run without a GPU shows what it did not check. (The op suite in `tests/ops/`
//! runs on the GPU as a whole when `RILL_DEFAULT_DEVICE=gpu` is set: `scripts/gpu-check.sh`.)

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::{ops, random, trace, Array, Device, DeviceType, Stream};

fn gpu(test: &str) -> Option<Device> {
    if rill_core::is_available(Device::gpu(0)) {
        Some(Device::gpu(0))
    } else {
        eprintln!("SKIPPED (no GPU): {test}");
        None
    }
}

fn rand_f32(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
}

#[test]
fn the_gpu_is_the_default_device_and_describes_itself() {
    let Some(g) = gpu("the_gpu_is_the_default_device_and_describes_itself") else {
        return;
    };
    if std::env::var("RILL_DEFAULT_DEVICE").as_deref() != Ok("cpu") {
        assert_eq!(rill_core::default_device(), g);
    }
    let info = rill_core::device_info(g).unwrap();
    for k in [
        "device_name",
        "architecture",
        "total_memory",
        "free_memory",
        "multiprocessors",
        "compute_capability_major",
        "pci_bus_id",
    ] {
        assert!(info.contains_key(k), "device_info lacks {k}: {info:?}");
    }
    assert!(info["architecture"].to_string().starts_with("sm_"));
    assert!(rill_core::device_count(DeviceType::Gpu) >= 1);
}

#[test]
fn host_data_goes_to_the_gpu_and_results_come_back() {
    let Some(g) = gpu("host_data_goes_to_the_gpu_and_results_come_back") else {
        return;
    };
    let s = rill_core::new_stream(g).unwrap();
    let (av, bv) = (rand_f32(100_003, 1), rand_f32(100_003, 2));
    let a = Array::from_slice(&av, &[100_003]).unwrap();
    let b = Array::from_slice(&bv, &[100_003]).unwrap();
    let c = ops::add(&ops::multiply(&a, &b, s).unwrap(), &a, s).unwrap();
    c.eval().unwrap();
    assert_eq!(c.data().unwrap().device(), g, "computed on the GPU");
    let got = c.to_vec::<f32>().unwrap();
    for i in 0..av.len() {
        assert_eq!(got[i], av[i] * bv[i] + av[i], "element {i}");
    }
    // A second read uses the host copy made by the first.
    assert_eq!(c.to_vec::<f32>().unwrap(), got);
}

#[test]
fn host_scalars_and_long_sums_on_the_gpu_match_the_host() {
    let Some(g) = gpu("host_scalars_and_long_sums_on_the_gpu_match_the_host") else {
        return;
    };
    let s = rill_core::new_stream(g).unwrap();
    // Host scalars of every width reach the kernels by value: results equal the host's.
    let xs = rand_f32(1 << 10, 5);
    let x = Array::from_slice(&xs, &[1 << 10]).unwrap();
    let y = ops::multiply(
        &ops::add(&x, &Array::scalar(1.5f32), s).unwrap(),
        &Array::scalar(-3.0f32),
        s,
    )
    .unwrap();
    let got = y.to_vec::<f32>().unwrap();
    for i in 0..xs.len() {
        assert_eq!(got[i], (xs[i] + 1.5) * -3.0, "element {i}");
    }
    let d = ops::astype(&x, rill_core::Dtype::Float64, s).unwrap();
    let z = ops::subtract(&Array::scalar(0.25f64), &d, s).unwrap();
    let got = z.to_vec::<f64>().unwrap();
    for i in 0..xs.len() {
        assert_eq!(got[i], 0.25 - xs[i] as f64, "float64 element {i}");
    }
    let w = ops::where_(
        &ops::greater(&x, &Array::scalar(0.0f32), s).unwrap(),
        &x,
        &Array::scalar(7.0f32),
        s,
    )
    .unwrap();
    let got = w.to_vec::<f32>().unwrap();
    for i in 0..xs.len() {
        assert_eq!(
            got[i],
            if xs[i] > 0.0 { xs[i] } else { 7.0 },
            "where element {i}"
        );
    }
    // Long sums of float32 from aligned and unaligned starts (the kernel's 16-byte loads and its
    // scalar tail) against a float64 reference.
    let n = (1 << 22) + 3;
    let vs = rand_f32(n, 6);
    let v = Array::from_slice(&vs, &[n]).unwrap();
    for start in [0usize, 1, 2, 4] {
        let part = ops::slice(&v, &[start as isize], &[n as isize], &[1], s).unwrap();
        let got = ops::sum(&part, None, false, s)
            .unwrap()
            .item::<f32>()
            .unwrap() as f64;
        let want: f64 = vs[start..].iter().map(|&e| e as f64).sum();
        let mag: f64 = vs[start..].iter().map(|&e| e.abs() as f64).sum();
        assert!(
            (got - want).abs() <= 1e-6 * mag,
            "sum from {start}: {got} vs {want}"
        );
    }
}

#[test]
fn work_moves_between_cpu_and_gpu_streams_in_order() {
    let Some(g) = gpu("work_moves_between_cpu_and_gpu_streams_in_order") else {
        return;
    };
    // Seed 000: add on a CPU stream, multiply on a GPU stream, back to the CPU, many times over.
    let s_cpu = rill_core::new_stream(Device::cpu()).unwrap();
    let s_gpu = rill_core::new_stream(g).unwrap();
    let v = rand_f32(4096, 3);
    let b = Array::from_slice(&v, &[64, 64]).unwrap();
    let mut x = Array::from_slice(&rand_f32(4096, 4), &[64, 64]).unwrap();
    let mut want: Vec<f64> = x
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&f| f as f64)
        .collect();
    for step in 0..20 {
        let on = if step % 2 == 0 { s_cpu } else { s_gpu };
        x = ops::multiply(&ops::add(&x, &b, on).unwrap(), &Array::scalar(0.5f32), on).unwrap();
        for (w, &bi) in want.iter_mut().zip(&v) {
            *w = ((*w as f32 + bi) * 0.5) as f64;
        }
    }
    let got = x.to_vec::<f32>().unwrap();
    for (i, (&g_, &w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g_ as f64, w, "element {i}");
    }
}

#[test]
fn two_gpu_streams_join_and_matmul_matches_a_float64_reference() {
    let Some(g) = gpu("two_gpu_streams_join_and_matmul_matches_a_float64_reference") else {
        return;
    };
    let (s1, s2) = (
        rill_core::new_stream(g).unwrap(),
        rill_core::new_stream(g).unwrap(),
    );
    let (m, k, n) = (256, 128, 64);
    let (av, bv) = (rand_f32(m * k, 5), rand_f32(k * n, 6));
    let a = Array::from_slice(&av, &[m, k]).unwrap();
    let b = Array::from_slice(&bv, &[k, n]).unwrap();
    let prod = ops::matmul(&a, &b, s1).unwrap();
    // On s2: exp of the product's transpose plus the product's row sums (made on s1).
    let rows = ops::sum(&prod, Some(&[1]), true, s1).unwrap();
    let joined = ops::add(
        &ops::transpose(
            &ops::exp(
                &ops::multiply(&prod, &Array::scalar(0.1f32), s2).unwrap(),
                s2,
            )
            .unwrap(),
            None,
            s2,
        )
        .unwrap(),
        &ops::transpose(&rows, None, s2).unwrap(),
        s2,
    )
    .unwrap();
    let got = joined.to_vec::<f32>().unwrap();
    let p = prod.to_vec::<f32>().unwrap();
    for i in 0..m {
        let mut row = 0.0f64;
        let mut row_mag = 0.0f64;
        for j in 0..n {
            let (mut want, mut mag) = (0.0f64, 0.0f64);
            for l in 0..k {
                let t = av[i * k + l] as f64 * bv[l * n + j] as f64;
                want += t;
                mag += t.abs();
            }
            // float32 products accumulated in float32: a few ulps of the magnitudes.
            let got_p = p[i * n + j] as f64;
            assert!(
                (got_p - want).abs() <= 4e-6 * mag + 1e-6,
                "product ({i}, {j}): {got_p} vs {want}"
            );
            row += got_p;
            row_mag += got_p.abs();
        }
        for j in 0..n {
            let want = (0.1 * p[i * n + j] as f64).exp() + row;
            let g_ = got[j * m + i] as f64;
            let tol = 2e-6 * want.abs() + 1e-6 * row_mag + 1e-6;
            assert!(
                (g_ - want).abs() <= tol,
                "joined ({j}, {i}): {g_} vs {want}"
            );
        }
    }
}

#[test]
fn a_bad_index_on_the_gpu_fails_that_array_only() {
    let Some(g) = gpu("a_bad_index_on_the_gpu_fails_that_array_only") else {
        return;
    };
    let s = rill_core::new_stream(g).unwrap();
    let a = ops::arange(0.0, 10.0, 1.0, None, s).unwrap();
    let idx = Array::from_slice(&[1i32, 12], &[2]).unwrap();
    let bad = ops::take(&a, &idx, Some(0), s).unwrap();
    let after = ops::add(&bad, &a.clone(), s);
    let ok = ops::multiply(&a, &a, s).unwrap();
    let err = bad.eval().unwrap_err();
    assert!(err.to_string().contains("out of"), "{err}");
    if let Ok(after) = after {
        assert_eq!(after.eval().unwrap_err(), err);
    }
    assert_eq!(ok.to_vec::<f32>().unwrap()[3], 9.0);
    let good = ops::take(
        &a,
        &Array::from_slice(&[-1i32, 2], &[2]).unwrap(),
        Some(0),
        s,
    )
    .unwrap();
    assert_eq!(good.to_vec::<f32>().unwrap(), vec![9.0, 2.0]);
}

#[test]
fn random_numbers_are_the_same_on_every_device() {
    let Some(g) = gpu("random_numbers_are_the_same_on_every_device") else {
        return;
    };
    let key = random::key(1234).unwrap();
    for shape in [vec![7usize], vec![1000, 33], vec![1]] {
        let on_cpu = random::bits(&shape, Some(&key), Device::cpu()).unwrap();
        let on_gpu = random::bits(&shape, Some(&key), g).unwrap();
        assert_eq!(
            on_cpu.to_vec::<u32>().unwrap(),
            on_gpu.to_vec::<u32>().unwrap()
        );
        let u_cpu = random::uniform(
            0.0,
            1.0,
            &shape,
            rill_core::Dtype::Float32,
            Some(&key),
            Device::cpu(),
        )
        .unwrap();
        let u_gpu =
            random::uniform(0.0, 1.0, &shape, rill_core::Dtype::Float32, Some(&key), g).unwrap();
        assert_eq!(
            u_cpu.to_vec::<f32>().unwrap(),
            u_gpu.to_vec::<f32>().unwrap()
        );
    }
}

#[test]
fn gpu_streams_are_usable_from_any_thread() {
    let Some(g) = gpu("gpu_streams_are_usable_from_any_thread") else {
        return;
    };
    let s: Stream = rill_core::new_stream(g).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let x = ops::full(&[1000], t as f32, None, s).unwrap();
                let y = ops::add(&x, &x, s).unwrap();
                y.to_vec::<f32>().unwrap()[999]
            })
        })
        .collect();
    for (t, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), 2.0 * t as f32);
    }
    rill_core::synchronize(s).unwrap();
}

#[test]
fn a_capture_shows_gpu_lanes_with_device_times() {
    let Some(g) = gpu("a_capture_shows_gpu_lanes_with_device_times") else {
        return;
    };
    let (s1, s2) = (
        rill_core::new_stream(g).unwrap(),
        rill_core::new_stream(g).unwrap(),
    );
    let a = ops::full(&[1024, 1024], 0.001f32, None, s1).unwrap();
    a.eval().unwrap();
    trace::start_capture(None).unwrap();
    let mut x = a.clone();
    let mut y = a.clone();
    for _ in 0..20 {
        x = ops::matmul(&x, &a, s1).unwrap();
        y = ops::matmul(&y, &a, s2).unwrap();
    }
    rill_core::eval(&[&x, &y]).unwrap();
    let timeline = trace::stop_capture_timeline().unwrap();
    let ops_on = |s: Stream| {
        timeline
            .ops
            .iter()
            .filter(|o| o.stream == s.index())
            .count()
    };
    assert_eq!(ops_on(s1), 20);
    assert_eq!(ops_on(s2), 20);
    let summary = timeline.summary();
    // Device times: every op has a positive duration on the device.
    assert!(timeline.ops.iter().all(|o| o.end_us >= o.start_us));
    eprintln!("two GPU streams of 1024^2 matmuls: {summary:?}");
}

#[test]
fn errors_name_the_gpu_when_asked_for_a_missing_one() {
    let n = rill_core::device_count(DeviceType::Gpu);
    let missing = Device::gpu(n);
    let err = rill_core::new_stream(missing).unwrap_err();
    assert!(err.to_string().contains("gpu"), "{err}");
}
