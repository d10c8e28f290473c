//! Broadcasting and reshaping views without a copy.

use rill_core::shape::{broadcast_shapes, Layout};

#[test]
fn broadcasting_follows_numpy() {
    assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
    assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
    assert_eq!(
        broadcast_shapes("t", &[5, 1, 7], &[6, 1]).unwrap(),
        vec![5, 6, 7]
    );
    let e = broadcast_shapes("add", &[3, 2], &[4]).unwrap_err();
    assert!(e.to_string().contains("[add]") && e.to_string().contains("[3, 2]"));
}

#[test]
fn reshape_of_transposed_view_needs_copy_only_when_it_must() {
    // A (2,3) array transposed to (3,2): strides (1,3).
    let l = Layout {
        strides: vec![1, 3],
        offset: 0,
    };
    assert_eq!(l.reshape_strides(&[3, 2], &[6]), None);
    assert_eq!(l.reshape_strides(&[3, 2], &[3, 1, 2]), Some(vec![1, 0, 3]));
    // A contiguous (4,6) slice of columns 0..3 of a (4,6): strides (6,1), shape (4,3).
    let l = Layout {
        strides: vec![6, 1],
        offset: 0,
    };
    assert_eq!(l.reshape_strides(&[4, 3], &[2, 2, 3]), Some(vec![12, 6, 1]));
    assert_eq!(l.reshape_strides(&[4, 3], &[12]), None);
}
