//! Errors found while evaluating stick to the array that failed and travel to its dependents, on
//! any stream; waiters wake up; unrelated arrays are untouched. (One test function: it uses the
//! process-wide memory limit to make an op fail.)

use rill_core::memory::{active_memory, set_memory_limit};
use rill_core::{ops, Device, Error};

#[test]
fn a_failure_travels_along_edges_across_streams_and_nowhere_else() {
    let cpu = Some(Device::cpu());
    let s1 = rill_core::new_stream(Device::cpu()).unwrap();
    let s2 = rill_core::new_stream(Device::cpu()).unwrap();
    let ok = ops::full(&[256], 2.0f32, None, s2).unwrap();
    ok.eval().unwrap();

    let limit = active_memory(cpu) + (1 << 20);
    let old = set_memory_limit(cpu, limit);
    // `big` fails (it needs 64 MiB); `mid` depends on it on s1, `far` on s2 through `mid`.
    let big = ops::full(&[16 << 20], 1.0f32, None, s1).unwrap();
    let mid = ops::add(&big, &big, s1).unwrap();
    let far = ops::multiply(&mid, &ops::full(&[1], 3.0f32, None, s2).unwrap(), s2).unwrap();
    let unrelated = ops::add(&ok, &ok, s2).unwrap();
    let handle = rill_core::async_eval(&[&far, &unrelated]);
    let err = handle.wait().unwrap_err();
    set_memory_limit(cpu, old);

    assert!(
        matches!(err, Error::OutOfMemory { op: "full", .. }),
        "{err}"
    );
    // The same error on the failed array and on both dependents, whichever stream they are on.
    assert_eq!(big.error(), Some(err.clone()));
    assert_eq!(mid.error(), Some(err.clone()));
    assert_eq!(far.error(), Some(err.clone()));
    assert_eq!(far.to_vec::<f32>().unwrap_err(), err);
    assert_eq!(
        far.eval().unwrap_err(),
        err,
        "reading again gives the same error, not garbage"
    );
    // Unrelated work is untouched, and the streams still work afterwards.
    assert_eq!(unrelated.error(), None);
    assert_eq!(unrelated.to_vec::<f32>().unwrap(), vec![4.0; 256]);
    rill_core::synchronize(s1).unwrap();
    rill_core::synchronize(s2).unwrap();
    let later = ops::add(&ok, &ok, s1).unwrap();
    assert_eq!(later.to_vec::<f32>().unwrap()[0], 4.0);
}
