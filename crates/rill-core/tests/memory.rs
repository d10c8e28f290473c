//! Memory counters, the cache and the hard limit of the host allocator (every array here is on the
//! CPU, whatever the default device; `gpu_memory.rs` checks a GPU's). One test function: the limit
//! is process-wide, so the steps run in order rather than as parallel tests.

use rill_core::memory::*;
use rill_core::{ops, Array, Device, Dtype, Error, Scalar};

#[test]
fn counters_cache_and_hard_limit() {
    let cpu = Some(Device::cpu());
    clear_cache(cpu);
    let start = active_memory(cpu);

    // An array's buffer counts while it lives and goes back to the cache when dropped.
    let a = ops::full(&[1 << 20], 1.0f32, None, Device::cpu()).unwrap();
    a.eval().unwrap();
    assert!(active_memory(cpu) >= start + (4 << 20));
    assert!(peak_memory(cpu) >= active_memory(cpu));
    drop(a);
    assert_eq!(active_memory(cpu), start);
    assert!(cache_memory(cpu) >= 4 << 20);

    // The 0-d operands of host numbers (`a + 1.0`) keep their bytes outside the allocator
    // (`memory/constants.rs`), like nodes and shapes: not counted. A user's own 0-d array is.
    let counted = active_memory(cpu);
    let x = Array::from_slice(&[0.5f32], &[1]).unwrap();
    let with_x = active_memory(cpu);
    assert!(with_x >= counted + 4);
    let numbers: Vec<Array> = (0..100)
        .map(|i| ops::weak_operand(&x, Scalar::Float(i as f64), Device::cpu()).unwrap())
        .collect();
    assert_eq!(numbers[99].item::<f32>().unwrap(), 99.0);
    assert_eq!(active_memory(cpu), with_x);
    drop(numbers);
    let mine = ops::scalar_array(Scalar::Float(1.0), Dtype::Float32, Device::cpu()).unwrap();
    assert!(active_memory(cpu) >= with_x + 4);
    drop((mine, x));
    assert_eq!(active_memory(cpu), counted);

    // A buffer of the same size is served from the cache.
    let cached = cache_memory(cpu);
    let b = ops::full(&[1 << 20], 2.0f32, None, Device::cpu()).unwrap();
    b.eval().unwrap();
    assert_eq!(cache_memory(cpu), cached - (4 << 20));
    drop(b);

    clear_cache(cpu);
    assert_eq!(cache_memory(cpu), 0);
    reset_peak_memory(cpu);
    assert_eq!(peak_memory(cpu), active_memory(cpu));

    // The cache limit is honoured and returns the previous value.
    let old = set_cache_limit(cpu, 0);
    let c = ops::full(&[1 << 16], 1.0f32, None, Device::cpu()).unwrap();
    c.eval().unwrap();
    drop(c);
    assert_eq!(cache_memory(cpu), 0);
    assert_eq!(set_cache_limit(cpu, old), 0);

    // The hard limit: an eval beyond it fails with OutOfMemory on that array only, and the
    // process goes on.
    let limit = active_memory(cpu) + (8 << 20);
    let old_limit = set_memory_limit(cpu, limit);
    let small = ops::full(&[1000], 3.0f32, None, Device::cpu()).unwrap();
    let big = ops::full(&[16 << 20], 1.0f32, None, Device::cpu()).unwrap();
    let dependent = ops::add(&big, &big, Device::cpu()).unwrap();
    let err = dependent.eval().unwrap_err();
    assert!(
        matches!(err, Error::OutOfMemory { op: "full", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("out of memory"), "{err}");
    assert_eq!(
        big.error(),
        Some(err.clone()),
        "the failure sticks to the array that failed"
    );
    assert_eq!(
        small.to_vec::<f32>().unwrap(),
        vec![3.0; 1000],
        "unrelated arrays still evaluate"
    );
    assert_eq!(
        set_memory_limit(cpu, old_limit),
        limit,
        "set_memory_limit returns the previous limit"
    );
    // After raising the limit, the same computation (rebuilt) succeeds.
    let again = ops::add(
        &ops::full(&[16 << 20], 1.0f32, None, Device::cpu()).unwrap(),
        &Array::scalar(1.0f32),
        Device::cpu(),
    )
    .unwrap();
    assert_eq!(again.to_vec::<f32>().unwrap()[123], 2.0);
    assert_eq!(again.dtype(), Dtype::Float32);
    // Totals over all devices include the CPU.
    assert!(active_memory(None) >= active_memory(cpu));

    // The process-wide limit (no device: MLX's one limit) counts every device's memory together:
    // set from the total, it stops host allocations even while the host's own limit has room.
    let total_limit = active_memory(None) + (8 << 20);
    let host_limit = set_memory_limit(cpu, usize::MAX / 2);
    let old_total = set_memory_limit(None, total_limit);
    assert_eq!(memory_limit(None), total_limit);
    let big = ops::full(&[4 << 20], 1.0f32, None, Device::cpu()).unwrap(); // 16 MiB
    let err = big.eval().unwrap_err();
    assert!(
        matches!(err, Error::OutOfMemory { op: "full", limit, .. } if limit == total_limit),
        "{err}"
    );
    let fits = ops::full(&[1 << 20], 1.0f32, None, Device::cpu()).unwrap(); // 4 MiB
    assert_eq!(fits.to_vec::<f32>().unwrap()[7], 1.0);
    drop(fits);
    assert_eq!(set_memory_limit(None, old_total), total_limit);
    set_memory_limit(cpu, host_limit);
    let after = ops::full(&[4 << 20], 2.0f32, None, Device::cpu()).unwrap();
    assert_eq!(after.to_vec::<f32>().unwrap()[7], 2.0);
    // Peak and active without a device are the process-wide counters.
    reset_peak_memory(None);
    assert_eq!(peak_memory(None), active_memory(None));
}
