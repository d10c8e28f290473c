//! Strided iteration: collapsing dimensions and covering rows exactly once.

use rill_core::internals::{collapse, for_each_row};

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
