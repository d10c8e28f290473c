//! Slice normalisation as Python's slice.indices.

use rill_core::ops::SliceDim;

#[test]
fn slice_normalization_matches_python() {
    // Expected values from Python's slice(...).indices(n) and len(range(...)).
    let f = |a, b, c, n| SliceDim::normalize("t", a, b, c, n).unwrap();
    assert_eq!(
        f(None, None, 1, 5),
        SliceDim {
            start: 0,
            step: 1,
            len: 5
        }
    );
    assert_eq!(
        f(None, None, -1, 5),
        SliceDim {
            start: 4,
            step: -1,
            len: 5
        }
    );
    assert_eq!(
        f(Some(-2), None, 1, 5),
        SliceDim {
            start: 3,
            step: 1,
            len: 2
        }
    );
    assert_eq!(
        f(Some(1), Some(100), 2, 5),
        SliceDim {
            start: 1,
            step: 2,
            len: 2
        }
    );
    assert_eq!(
        f(Some(3), Some(1), 1, 5),
        SliceDim {
            start: 3,
            step: 1,
            len: 0
        }
    );
    assert_eq!(
        f(Some(4), Some(0), -2, 5),
        SliceDim {
            start: 4,
            step: -2,
            len: 2
        }
    );
    assert_eq!(
        f(Some(-100), Some(100), -1, 5),
        SliceDim {
            start: 0,
            step: -1,
            len: 0
        }
    );
}
