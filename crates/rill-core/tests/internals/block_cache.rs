//! The CUDA backend's cache of small device blocks (pure bookkeeping: no GPU needed).

use rill_core::internals::block_cache::{class_of, BlockCache, CLASSES, MAX};

#[test]
fn classes_round_up_to_powers_of_two_within_bounds() {
    assert_eq!(class_of(0), Some((0, 512)));
    assert_eq!(class_of(1), Some((0, 512)));
    assert_eq!(class_of(512), Some((0, 512)));
    assert_eq!(class_of(513), Some((1, 1024)));
    assert_eq!(class_of(MAX), Some((CLASSES - 1, MAX)));
    assert_eq!(class_of(MAX + 1), None);
    assert_eq!(class_of(usize::MAX), None);
}

#[test]
fn blocks_come_back_by_class_and_drain_with_their_capacity() {
    let c = BlockCache::default();
    c.put(0, 0x1000);
    c.put(3, 0x2000);
    assert_eq!(c.take(1), None);
    assert_eq!(c.take(3), Some(0x2000));
    c.put(3, 0x3000);
    let mut all = c.drain();
    all.sort();
    assert_eq!(all, vec![(0x1000, 512), (0x3000, 4096)]);
    assert_eq!(c.take(0), None);
}
