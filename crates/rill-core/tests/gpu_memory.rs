//! A GPU's memory counters and hard limit. Its own test binary: the counters are per device and
//! process-wide, so no other test may allocate on the GPU while this one runs. Without a GPU it
//! prints a SKIPPED line and checks nothing.

use rill_core::memory::{active_memory, cache_memory, clear_cache, set_memory_limit};
use rill_core::{ops, Device, Error};

fn gpu_or_skip() -> Option<Device> {
    if rill_core::is_available(Device::gpu(0)) {
        Some(Device::gpu(0))
    } else {
        eprintln!("SKIPPED (no GPU): gpu_memory_is_counted_and_the_limit_is_hard");
        None
    }
}

#[test]
fn gpu_memory_is_counted_and_the_limit_is_hard() {
    let Some(g) = gpu_or_skip() else {
        return;
    };
    let s = rill_core::new_stream(g).unwrap();
    let before = active_memory(Some(g));
    let a = ops::full(&[1 << 20], 1.0f32, None, s).unwrap();
    a.eval().unwrap();
    assert!(active_memory(Some(g)) >= before + (4 << 20));
    drop(a);
    assert_eq!(active_memory(Some(g)), before);
    let old = set_memory_limit(Some(g), active_memory(Some(g)) + (8 << 20));
    let small = ops::full(&[1000], 3.0f32, None, s).unwrap();
    let big = ops::full(&[16 << 20], 1.0f32, None, s).unwrap();
    let dep = ops::add(&big, &big, s).unwrap();
    let err = dep.eval().unwrap_err();
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    assert_eq!(big.error(), Some(err));
    assert_eq!(small.to_vec::<f32>().unwrap(), vec![3.0; 1000]);
    set_memory_limit(Some(g), old);
    let again = ops::full(&[16 << 20], 2.0f32, None, s).unwrap();
    assert_eq!(again.to_vec::<f32>().unwrap()[12345], 2.0);
    drop(again);

    // A small block its stream freed is kept for that stream (counted as cache, not active), its
    // next allocation of the size takes it back, and clear_cache gives every such block back.
    clear_cache(Some(g));
    assert_eq!(cache_memory(Some(g)), 0);
    let active = active_memory(Some(g));
    let x = ops::full(&[1000], 1.5f32, None, s).unwrap();
    x.eval().unwrap();
    assert_eq!(
        active_memory(Some(g)),
        active + 4096,
        "4000 bytes take a 4 KiB class"
    );
    drop(x);
    assert_eq!(active_memory(Some(g)), active);
    let cached = cache_memory(Some(g));
    assert!(cached >= 4096, "the freed block is cached: {cached}");
    let y = ops::full(&[900], 2.5f32, None, s).unwrap();
    let z = ops::add(&y, &y, s).unwrap();
    assert_eq!(z.to_vec::<f32>().unwrap(), vec![5.0; 900]);
    assert!(
        cache_memory(Some(g)) < cached,
        "the cached block was reused"
    );
    drop((y, z));
    clear_cache(Some(g));
    assert_eq!(cache_memory(Some(g)), 0);
}
