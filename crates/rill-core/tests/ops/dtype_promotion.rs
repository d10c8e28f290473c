//! `promote_types` for every pair of dtypes, against MLX 0.32.4.
//!
//! The expected table was generated once with real MLX (`mlx.core` has no `promote_types`, so the
//! dtype of `mx.zeros((1,), a) + mx.zeros((1,), b)` for every pair) and pasted here.

use rill_core::{ops, promote_types, Array, Dtype};

const B: Dtype = Dtype::Bool;
const U8: Dtype = Dtype::Uint8;
const U16: Dtype = Dtype::Uint16;
const U32: Dtype = Dtype::Uint32;
const U64: Dtype = Dtype::Uint64;
const I8: Dtype = Dtype::Int8;
const I16: Dtype = Dtype::Int16;
const I32: Dtype = Dtype::Int32;
const I64: Dtype = Dtype::Int64;
const F16: Dtype = Dtype::Float16;
const BF16: Dtype = Dtype::Bfloat16;
const F32: Dtype = Dtype::Float32;
const F64: Dtype = Dtype::Float64;
const C64: Dtype = Dtype::Complex64;

/// Rows and columns in the order of `Dtype::ALL`.
#[rustfmt::skip]
const MLX: [[Dtype; 14]; 14] = [
    [   B,   U8,  U16,  U32,  U64,   I8,  I16,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // B
    [  U8,   U8,  U16,  U32,  U64,  I16,  I16,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // U8
    [ U16,  U16,  U16,  U32,  U64,  I32,  I32,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // U16
    [ U32,  U32,  U32,  U32,  U64,  I64,  I64,  I64,  I64,  F16, BF16,  F32,  F64,  C64], // U32
    [ U64,  U64,  U64,  U64,  U64,  F32,  F32,  F32,  F32,  F16, BF16,  F32,  F64,  C64], // U64
    [  I8,  I16,  I32,  I64,  F32,   I8,  I16,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // I8
    [ I16,  I16,  I32,  I64,  F32,  I16,  I16,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // I16
    [ I32,  I32,  I32,  I64,  F32,  I32,  I32,  I32,  I64,  F16, BF16,  F32,  F64,  C64], // I32
    [ I64,  I64,  I64,  I64,  F32,  I64,  I64,  I64,  I64,  F16, BF16,  F32,  F64,  C64], // I64
    [ F16,  F16,  F16,  F16,  F16,  F16,  F16,  F16,  F16,  F16,  F32,  F32,  F64,  C64], // F16
    [BF16, BF16, BF16, BF16, BF16, BF16, BF16, BF16, BF16,  F32, BF16,  F32,  F64,  C64], // BF16
    [ F32,  F32,  F32,  F32,  F32,  F32,  F32,  F32,  F32,  F32,  F32,  F32,  F64,  C64], // F32
    [ F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  F64,  C64], // F64
    [ C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64,  C64], // C64
];

#[test]
fn promote_types_matches_mlx_for_every_pair() {
    assert_eq!(
        Dtype::ALL,
        [B, U8, U16, U32, U64, I8, I16, I32, I64, F16, BF16, F32, F64, C64]
    );
    let mut wrong = vec![];
    for (i, &a) in Dtype::ALL.iter().enumerate() {
        for (j, &b) in Dtype::ALL.iter().enumerate() {
            let got = promote_types(a, b);
            if got != MLX[i][j] {
                wrong.push(format!(
                    "promote_types({a}, {b}) = {got}, MLX says {}",
                    MLX[i][j]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn binary_ops_return_the_promoted_dtype() {
    for (i, &a) in Dtype::ALL.iter().enumerate() {
        for (j, &b) in Dtype::ALL.iter().enumerate() {
            let x = ops::ones(&[2], a, ()).unwrap();
            let y = ops::ones(&[2], b, ()).unwrap();
            let sum = ops::add(&x, &y, ()).unwrap();
            assert_eq!(sum.dtype(), MLX[i][j], "{a} + {b}");
            // Evaluated, the values are right too (1 + 1, or true | true).
            let expect = if MLX[i][j] == B { 1.0 } else { 2.0 };
            assert_eq!(sum.to_vec::<f64>().unwrap(), vec![expect; 2], "{a} + {b}");
            let eq = ops::equal(&x, &y, ()).unwrap();
            assert_eq!(eq.dtype(), B);
            assert_eq!(eq.to_vec::<bool>().unwrap(), vec![true; 2], "{a} == {b}");
        }
    }
}

#[test]
fn where_promotes_its_branches() {
    let cond = Array::from_slice(&[true, false], &[2]).unwrap();
    for (i, &a) in Dtype::ALL.iter().enumerate() {
        for (j, &b) in Dtype::ALL.iter().enumerate() {
            let x = ops::ones(&[2], a, ()).unwrap();
            let y = ops::zeros(&[2], b, ()).unwrap();
            let w = ops::where_(&cond, &x, &y, ()).unwrap();
            assert_eq!(w.dtype(), MLX[i][j], "where({a}, {b})");
            assert_eq!(
                w.to_vec::<f64>().unwrap(),
                vec![1.0, 0.0],
                "where({a}, {b})"
            );
        }
    }
}
