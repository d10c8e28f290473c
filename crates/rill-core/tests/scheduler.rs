//! The scheduler: ordering within and across streams, errors along edges, threads.

use rill_core::{ops, Array, Device, Dtype};

fn f32s(a: &Array) -> Vec<f32> {
    a.to_vec::<f32>().unwrap()
}

#[test]
fn a_chain_on_one_stream_evaluates() {
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]).unwrap();
    let mut y = x.clone();
    for _ in 0..1000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    assert_eq!(f32s(&y), vec![1001.0, 2002.0, 3003.0]);
}

#[test]
fn a_long_lazy_chain_drops_without_overflowing_the_stack() {
    let x = Array::from_slice(&[1.0f32], &[1]).unwrap();
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    drop(y);
}

#[test]
fn a_long_chain_evaluates_without_recursion() {
    let x = Array::from_slice(&[1i32], &[1]).unwrap();
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = ops::add(&y, &x, ()).unwrap();
    }
    assert_eq!(y.item::<i32>().unwrap(), 100_001);
}

#[test]
fn cross_stream_dependency_is_ordered() {
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let a = ops::full(&[1000], 2.0f32, None, s1).unwrap();
    let mut x = a.clone();
    for _ in 0..50 {
        x = ops::multiply(&x, &a, s1).unwrap();
        x = ops::divide(&x, &a, s1).unwrap();
    }
    let y = ops::add(&x, &a, s2).unwrap();
    assert_eq!(y.stream(), s2);
    assert!(f32s(&y).iter().all(|&v| v == 4.0));
}

#[test]
fn evaluating_twice_is_free_and_stable() {
    let a = ops::arange(0.0, 10.0, 1.0, None, ()).unwrap();
    let b = ops::multiply(&a, &a, ()).unwrap();
    b.eval().unwrap();
    b.eval().unwrap();
    assert_eq!(f32s(&b)[3], 9.0);
}

#[test]
fn shape_errors_are_found_when_the_op_is_built() {
    let a = ops::zeros(&[3, 2], Dtype::Float32, ()).unwrap();
    let b = ops::zeros(&[4], Dtype::Float32, ()).unwrap();
    let e = ops::add(&a, &b, ()).unwrap_err().to_string();
    assert!(
        e.contains("[add]") && e.contains("[3, 2]") && e.contains("[4]"),
        "{e}"
    );
}

#[test]
fn streams_are_usable_from_any_thread() {
    let s = rill_core::new_stream(Device::cpu()).unwrap();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let a = ops::full(&[64], t as f32, None, s).unwrap();
                let mut y = a.clone();
                for _ in 0..100 {
                    y = ops::add(&y, &a, s).unwrap();
                }
                (t, y.to_vec::<f32>().unwrap())
            })
        })
        .collect();
    for h in handles {
        let (t, v) = h.join().unwrap();
        assert!(v.iter().all(|&x| x == 101.0 * t as f32));
    }
    rill_core::synchronize(s).unwrap();
}

/// Inside a stream scope, the scoped stream is its device's default for this thread (MLX: `with
/// stream(s)` makes `default_stream(cpu)`, `stream=cpu` and `synchronize(cpu)` mean `s`), and only
/// for this thread.
#[test]
fn a_scoped_stream_is_its_devices_default_stream_on_its_thread_only() {
    let cpu = Device::cpu();
    let outside = rill_core::default_stream(cpu).unwrap();
    let s = rill_core::new_stream(cpu).unwrap();
    assert_ne!(outside, s);
    rill_core::with_stream(s, || {
        assert_eq!(rill_core::default_stream(cpu).unwrap(), s);
        let a = ops::full(&[2], 1.0f32, None, cpu).unwrap();
        assert_eq!(
            a.stream(),
            s,
            "stream=cpu inside the scope is the scoped stream"
        );
        // A device scope inside it changes the default device, not the cpu's default stream.
        rill_core::with_default_device(cpu, || {
            assert_eq!(rill_core::default_stream(cpu).unwrap(), s);
        })
        .unwrap();
        let other = std::thread::spawn(move || rill_core::default_stream(cpu).unwrap())
            .join()
            .unwrap();
        assert_eq!(
            other, outside,
            "another thread keeps the process-wide default"
        );
    })
    .unwrap();
    assert_eq!(rill_core::default_stream(cpu).unwrap(), outside);
}
