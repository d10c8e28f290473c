//! What the CUDA driver itself costs the host per call on this machine, beside what a rill GPU op
//! costs: the floor under rill's per-op figures in docs/benchmarks.md. Each line is the median of
//! five timed loops.
//!
//! Run on a GPU machine: `cargo run --release --example gpu_driver_floor`. Prints JSON.

use cudarc::driver::sys;
use rill_core::{ops, Array, Device};
use std::time::Instant;

fn check(what: &str, r: sys::CUresult) {
    assert_eq!(r, sys::CUresult::CUDA_SUCCESS, "{what} failed");
}

/// Median over five runs of `f`, in µs per iteration of its `n`.
fn per_call(n: usize, mut f: impl FnMut(usize)) -> f64 {
    f(n / 10);
    let mut t: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            f(n);
            start.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[2]
}

const SOURCE: &str = r#"
struct Big { unsigned long long v[49]; };
extern "C" __global__ void empty() {}
extern "C" __global__ void big(const Big p) { if (p.v[0] == 1234567) p.v[1]; }
"#;

fn main() {
    // rill first: it retains the primary context that the raw calls below share.
    let gpu = Device::gpu(0);
    if !rill_core::is_available(gpu) {
        println!("{{\"error\": \"no GPU\"}}");
        return;
    }
    let s = rill_core::new_stream(gpu).unwrap();
    let one = Array::scalar(1.0f32);
    let x = Array::from_slice_on(&[0.5f32], &[1], s).unwrap();
    x.eval().unwrap();
    let rill_chain = per_call(10_000, |n| {
        let mut y = x.clone();
        for _ in 0..n {
            y = ops::add(&y, &one, s).unwrap();
        }
        y.eval().unwrap();
    });
    let rill_each = per_call(2_000, |n| {
        let mut y = x.clone();
        for _ in 0..n {
            y = ops::add(&y, &one, s).unwrap();
            y.eval().unwrap();
        }
    });
    let c = rill_core::new_stream(Device::cpu()).unwrap();
    let xc = Array::from_slice_on(&[0.5f32], &[1], c).unwrap();
    let rill_cpu_chain = per_call(10_000, |n| {
        let mut y = xc.clone();
        for _ in 0..n {
            y = ops::add(&y, &one, c).unwrap();
        }
        y.eval().unwrap();
    });

    // SAFETY (all blocks below): plain driver calls with valid out-pointers, on the primary
    // context of device 0 (made current here), a stream and module made here, and kernels whose
    // parameters match their declarations in SOURCE.
    unsafe {
        let mut dev = 0;
        check("cuDeviceGet", sys::cuDeviceGet(&mut dev, 0));
        let mut ctx = std::ptr::null_mut();
        check(
            "cuDevicePrimaryCtxRetain",
            sys::cuDevicePrimaryCtxRetain(&mut ctx, dev),
        );
        check("cuCtxSetCurrent", sys::cuCtxSetCurrent(ctx));
        let ptx = cudarc::nvrtc::compile_ptx(SOURCE).expect("nvrtc").to_src();
        let ptx = std::ffi::CString::new(ptx).unwrap();
        let mut module = std::ptr::null_mut();
        check(
            "cuModuleLoadData",
            sys::cuModuleLoadData(&mut module, ptx.as_ptr() as *const _),
        );
        let mut empty = std::ptr::null_mut();
        let mut big = std::ptr::null_mut();
        check(
            "cuModuleGetFunction",
            sys::cuModuleGetFunction(&mut empty, module, c"empty".as_ptr()),
        );
        check(
            "cuModuleGetFunction",
            sys::cuModuleGetFunction(&mut big, module, c"big".as_ptr()),
        );
        let new_stream = || {
            let mut st = std::ptr::null_mut();
            check(
                "cuStreamCreate",
                sys::cuStreamCreate(&mut st, sys::CUstream_flags::CU_STREAM_NON_BLOCKING as u32),
            );
            st as usize
        };
        let (s1, s2) = (new_stream(), new_stream());
        let launch = |f: sys::CUfunction, st: usize, params: *mut *mut std::ffi::c_void| {
            check(
                "cuLaunchKernel",
                sys::cuLaunchKernel(
                    f,
                    1,
                    1,
                    1,
                    32,
                    1,
                    1,
                    0,
                    st as sys::CUstream,
                    params,
                    std::ptr::null_mut(),
                ),
            )
        };
        let sync = |st: usize| check("sync", sys::cuStreamSynchronize(st as sys::CUstream));
        let launch_empty = per_call(20_000, |n| {
            for _ in 0..n {
                launch(empty, s1, std::ptr::null_mut());
            }
            sync(s1);
        });
        let mut p = [0u64; 49];
        let launch_big = per_call(20_000, |n| {
            let mut args = [p.as_mut_ptr() as *mut std::ffi::c_void];
            for _ in 0..n {
                launch(big, s1, args.as_mut_ptr());
            }
            sync(s1);
        });
        let mut pool = std::ptr::null_mut();
        check(
            "cuDeviceGetDefaultMemPool",
            sys::cuDeviceGetDefaultMemPool(&mut pool, dev),
        );
        let alloc_free = per_call(20_000, |n| {
            for _ in 0..n {
                let mut ptr = 0;
                check(
                    "alloc",
                    sys::cuMemAllocFromPoolAsync(&mut ptr, 512, pool, s1 as sys::CUstream),
                );
                check("free", sys::cuMemFreeAsync(ptr, s1 as sys::CUstream));
            }
            sync(s1);
        });
        let mut ev = std::ptr::null_mut();
        check(
            "cuEventCreate",
            sys::cuEventCreate(&mut ev, sys::CUevent_flags::CU_EVENT_DISABLE_TIMING as u32),
        );
        let ev = ev as usize;
        let record = per_call(20_000, |n| {
            for _ in 0..n {
                check(
                    "cuEventRecord",
                    sys::cuEventRecord(ev as sys::CUevent, s1 as sys::CUstream),
                );
            }
            sync(s1);
        });
        let round_trip = per_call(2_000, |n| {
            for _ in 0..n {
                launch(empty, s1, std::ptr::null_mut());
                check(
                    "cuEventRecord",
                    sys::cuEventRecord(ev as sys::CUevent, s1 as sys::CUstream),
                );
                check(
                    "cuEventSynchronize",
                    sys::cuEventSynchronize(ev as sys::CUevent),
                );
            }
        });
        // Two threads launching on two streams at once: per launch, over both threads' launches.
        // Raw handles travel between threads as numbers (they are valid on any thread).
        let (ctx_n, empty_n) = (ctx as usize, empty as usize);
        let two_threads = per_call(20_000, |n| {
            std::thread::scope(|scope| {
                for st in [s1, s2] {
                    scope.spawn(move || {
                        check(
                            "cuCtxSetCurrent",
                            sys::cuCtxSetCurrent(ctx_n as sys::CUcontext),
                        );
                        for _ in 0..n / 2 {
                            launch(empty_n as sys::CUfunction, st, std::ptr::null_mut());
                        }
                        sync(st);
                    });
                }
            });
        });
        let _ = &mut p;
        println!(
            "{{\"rill_gpu_tiny_chain_us\": {rill_chain:.3}, \"rill_gpu_tiny_eval_each_us\": {rill_each:.3}, \
             \"rill_cpu_tiny_chain_us\": {rill_cpu_chain:.3}, \"launch_empty_us\": {launch_empty:.3}, \
             \"launch_392B_params_us\": {launch_big:.3}, \"pool_alloc_free_pair_us\": {alloc_free:.3}, \
             \"event_record_us\": {record:.3}, \"launch_record_sync_round_trip_us\": {round_trip:.3}, \
             \"launch_two_threads_two_streams_us_per_launch\": {two_threads:.3}}}"
        );
    }
}
