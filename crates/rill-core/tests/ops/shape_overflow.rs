//! Shapes too large to exist are refused by every op that makes a shape, at once, with an error
//! naming the op and the shape; shapes that fit are built (lazily: nothing here is evaluated)
//! with their exact size. The reference size is computed here in u128 with checked arithmetic.

use proptest::prelude::*;
use rill_core::{ops, random, Array, Dtype, Error, Result, Scalar};

/// `Some(bytes)` of an array of `dims` with elements of `itemsize` bytes, `None` when that
/// overflows `isize::MAX` or a dim does (every dim must be an isize, as NumPy's are intp; else a
/// dim of 0 makes the size 0 whatever the others).
fn bytes(dims: &[u128], itemsize: u128) -> Option<u128> {
    if dims.iter().any(|&d| d > isize::MAX as u128) {
        return None;
    }
    if dims.contains(&0) {
        return Some(0);
    }
    dims.iter()
        .try_fold(itemsize, |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= isize::MAX as u128)
}

/// Checks one op's result against the reference: an error of kind `TooLarge` naming `op` when
/// the shape cannot exist, else an array of exactly `dims` elements.
fn check(op: &str, dims: &[u128], itemsize: u128, r: Result<Array>) {
    match (bytes(dims, itemsize), r) {
        (None, Err(e)) => {
            assert!(
                matches!(e, Error::TooLarge { .. }) && e.op() == op,
                "{op} {dims:?}: wrong error {e:?}"
            );
            assert!(e.to_string().starts_with(&format!("[{op}]")), "{e}");
        }
        (None, Ok(a)) => panic!(
            "{op} {dims:?}: accepted a shape too large to exist (shape {:?}, size {})",
            a.shape(),
            a.size()
        ),
        (Some(_), Err(e)) => panic!("{op} {dims:?}: refused a shape that fits: {e}"),
        (Some(b), Ok(a)) => {
            let want: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
            assert_eq!(a.shape(), &want[..], "{op}");
            assert_eq!(
                a.nbytes() as u128,
                b / itemsize * a.itemsize() as u128,
                "{op}"
            );
        }
    }
}

/// Dims that are mostly small, sometimes huge (near powers of two up to 2^63), sometimes 0.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..4,
        3 => (0u32..63, 0usize..3).prop_map(|(e, d)| (1usize << e) + d),
        1 => Just(usize::MAX),
        1 => Just(isize::MAX as usize),
    ]
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(dim(), 0..5)
}

fn u128s(shape: &[usize]) -> Vec<u128> {
    shape.iter().map(|&d| d as u128).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn creation_ops_refuse_shapes_too_large_to_exist(shape in shape()) {
        let d = u128s(&shape);
        check("full", &d, 4, ops::full(&shape, 1.0f32, None, ()));
        check("zeros", &d, 8, ops::zeros(&shape, Dtype::Float64, ()));
        check("ones", &d, 1, ops::ones(&shape, Dtype::Uint8, ()));
        let one = Array::scalar(1.0f32);
        check("broadcast_to", &d, 4, ops::broadcast_to(&one, &shape, ()));
        check("uniform", &d, 4, random::uniform(0.0, 1.0, &shape, Dtype::Float32, None, ()));
        check("normal", &d, 4, random::normal(&shape, Dtype::Float16, 0.0, 1.0, None, ()));
        check("bits", &d, 4, random::bits(&shape, None, ()));
        // randint computes in uint64 whatever the output dtype.
        let r = random::randint(0, 10, &shape, Dtype::Int8, None, ());
        match bytes(&d, 8) {
            None => check("randint", &d, 8, r),
            Some(_) => check("randint", &d, 1, r),
        }
        let r = random::bernoulli(0.5, &shape, None, ());
        match bytes(&d, 4) {
            None => check("bernoulli", &d, 4, r),
            Some(_) => check("bernoulli", &d, 1, r),
        }
        check(
            "truncated_normal",
            &d,
            4,
            random::truncated_normal(-1.0, 1.0, &shape, Dtype::Float32, None, ()),
        );
    }

    #[test]
    fn eye_arange_and_linspace_refuse_sizes_too_large(n in dim(), m in dim()) {
        check("eye", &[n as u128, m as u128], 4, ops::eye(n, Some(m), 0, Dtype::Float32, ()));
        check("linspace", &[n as u128], 8, ops::linspace(0.0, 1.0, n, Some(Dtype::Float64), ()));
        // arange's length is computed in f64, so only its error is compared (the count rounds).
        let r = ops::arange(0.0, n as f64, 1.0, Some(Dtype::Int32), ());
        if bytes(&[n as u128], 4).is_none() {
            check("arange", &[n as u128], 4, r);
        }
    }

    #[test]
    fn tile_repeat_pad_and_concatenate_refuse_results_too_large(
        small in proptest::collection::vec(1usize..4, 1..3),
        reps in proptest::collection::vec(dim(), 1..4),
        r in dim(),
        w in dim(),
    ) {
        let x = ops::zeros(&small, Dtype::Int16, ()).unwrap();
        // tile: the shorter of the shape and reps is padded with leading 1s.
        let nd = small.len().max(reps.len());
        let pad1 = |v: &[usize]| -> Vec<u128> {
            std::iter::repeat_n(1, nd - v.len()).chain(v.iter().map(|&x| x as u128)).collect()
        };
        let tiled: Vec<u128> = pad1(&small).iter().zip(pad1(&reps)).map(|(a, b)| a * b).collect();
        check("tile", &tiled, 2, ops::tile(&x, &reps, ()));

        let mut repeated = u128s(&small);
        repeated[0] *= r as u128;
        check("repeat", &repeated, 2, ops::repeat(&x, r, Some(0), ()));

        let padded: Vec<u128> = small.iter().map(|&n| n as u128 + 2 * w as u128).collect();
        check("pad", &padded, 2, ops::pad(&x, &[(w, w)], Scalar::Int(0), ()));

        // Two arrays whose dims fit but whose joined axis would not.
        let big = ops::broadcast_to(&Array::scalar(0u8), &[w, 2], ());
        if let Ok(big) = big {
            let joined = [w as u128 * 2, 2];
            check("concatenate", &joined, 1, ops::concatenate(&[big.clone(), big], Some(0), ()));
        }
    }
}

#[test]
fn reshape_to_a_shape_whose_product_overflows_is_an_error_not_a_panic() {
    let x = ops::zeros(&[6], Dtype::Float32, ()).unwrap();
    let big = 1isize << 32;
    let e = ops::reshape(&x, &[big, big, big], ()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { op: "reshape", .. }), "{e}");
    let e = ops::reshape(&x, &[big, big, -1], ()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { op: "reshape", .. }), "{e}");
    // A 0 makes the size 0 whatever the other dims: reshaping an empty array there is fine.
    let empty = ops::zeros(&[0], Dtype::Float32, ()).unwrap();
    let r = ops::reshape(&empty, &[big, big, 0], ()).unwrap();
    assert_eq!(r.size(), 0);
}

#[test]
fn the_issue_examples_name_the_op_and_the_shape() {
    let e = ops::ones(&[1 << 32, 1 << 32], Dtype::Float32, ()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "[ones] an array of shape [4294967296, 4294967296] and dtype float32 is too large to exist (more than {} bytes)",
            isize::MAX
        )
    );
    let e = ops::tile(&Array::scalar(1.0f32), &[1 << 62], ()).unwrap_err();
    assert!(e.to_string().starts_with("[tile]"), "{e}");
    assert!(e.to_string().contains("[4611686018427387904]"), "{e}");
}
