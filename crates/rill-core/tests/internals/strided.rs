//! Strided iteration: collapsing dimensions and covering rows exactly once; parallel chunks that
//! cover an output exactly once, whichever way the kernel's share of the pool splits it.

use rill_core::internals::{collapse, for_each_row, par_chunks};
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn collapse_merges_contiguous_runs() {
    let (d, [s]) = collapse(&[2, 3, 4], [&[12, 4, 1]]);
    assert_eq!((&d[..], &s[..]), (&[24][..], &[1][..]));
    let (d, [s, t]) = collapse(&[2, 3, 4], [&[12, 4, 1], &[0, 0, 1]]);
    assert_eq!(
        (&d[..], &s[..], &t[..]),
        (&[6, 4][..], &[4, 1][..], &[0, 1][..])
    );
}

#[test]
fn rows_cover_a_range_exactly_once() {
    // A transposed (3,4) view of a (4,3) buffer: strides (1,3).
    let mut seen = vec![];
    for_each_row(&[3, 4], [&[1, 3]], [0], 5..11, |pos, len, [o], [s]| {
        for i in 0..len {
            seen.push((pos + i, o + i as isize * s));
        }
    });
    let expect: Vec<(usize, isize)> = (5..11)
        .map(|p| (p, ((p % 4) * 3 + p / 4) as isize))
        .collect();
    assert_eq!(seen, expect);
}

/// Every element is written once, by the call whose range holds it, with the chunk's slice lined
/// up with its range: with a pool of one thread (the kernel's share is one: chunks for idle
/// threads to join, `run_chunks`) and of three (rayon's loop), on sizes that chunks do not divide.
#[test]
fn par_chunks_cover_the_output_once_with_matching_ranges() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for n in [10, 65_536, 200_003, 1 << 20] {
            let mut out = vec![u64::MAX; n];
            let calls = AtomicUsize::new(0);
            pool.install(|| {
                par_chunks(&mut out, |range, chunk| {
                    assert_eq!(range.len(), chunk.len());
                    calls.fetch_add(1, Ordering::Relaxed);
                    for (o, i) in chunk.iter_mut().zip(range) {
                        assert_eq!(*o, u64::MAX, "element {i} written twice");
                        *o = i as u64 * 3 + 1;
                    }
                })
            });
            let bad = out
                .iter()
                .enumerate()
                .find(|&(i, &o)| o != i as u64 * 3 + 1);
            assert!(bad.is_none(), "{threads} threads, n = {n}: {bad:?}");
            if n >= 65_536 {
                assert!(
                    calls.into_inner() > 1,
                    "{threads} threads, n = {n}: not split"
                );
            }
        }
    }
}
