//! Host numbers as 0-d operands (`ops::weak_operand`, what `a + 1.0` makes in Python and Node).
//! Each thread shares the bytes of equal operands between arrays (`memory/constants.rs`): every
//! array must still read back its own value, exactly, whatever the table held before, and stay an
//! array of its own for transforms; arrays users can hold (`ops::scalar_array`, `ops::weak_scalar`)
//! share nothing.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::half::{bf16, f16};
use rill_core::num_complex::Complex32;
use rill_core::transforms::grad;
use rill_core::{ops, Array, Device, Dtype, Element, Scalar};
use std::sync::Arc;

/// A random value of `dtype` (exactly representable in it) and the scalar that makes it.
fn random_value(rng: &mut StdRng, dtype: Dtype) -> Scalar {
    match dtype {
        Dtype::Bool => Scalar::Bool(rng.random()),
        Dtype::Uint8 => Scalar::UInt(rng.random::<u8>() as u64),
        Dtype::Uint16 => Scalar::UInt(rng.random::<u16>() as u64),
        Dtype::Uint32 => Scalar::UInt(rng.random::<u32>() as u64),
        Dtype::Uint64 => Scalar::UInt(rng.random::<u64>()),
        Dtype::Int8 => Scalar::Int(rng.random::<i8>() as i64),
        Dtype::Int16 => Scalar::Int(rng.random::<i16>() as i64),
        Dtype::Int32 => Scalar::Int(rng.random::<i32>() as i64),
        Dtype::Int64 => Scalar::Int(rng.random::<i64>()),
        Dtype::Float16 => Scalar::Float(f16::from_f64(rng.random_range(-6e4..6e4)).to_f64()),
        Dtype::Bfloat16 => Scalar::Float(bf16::from_f64(rng.random_range(-1e30..1e30)).to_f64()),
        Dtype::Float32 => Scalar::Float(rng.random_range(-1e30f32..1e30) as f64),
        Dtype::Float64 => Scalar::Float(rng.random_range(-1e300..1e300)),
        Dtype::Complex64 => {
            Scalar::Complex(rng.random_range(-1e6..1e6), rng.random_range(-1e6..1e6))
        }
    }
}

/// The 0-d operand that `value` becomes beside an array of `dtype` (`a + value`).
fn operand(value: Scalar, dtype: Dtype) -> Array {
    let other =
        rill_core::dispatch_dtype!(dtype, T => Array::from_slice(&[T::default()], &[1]).unwrap());
    let a = ops::weak_operand(&other, value, Device::cpu()).unwrap();
    assert_eq!(a.dtype(), dtype);
    a
}

/// The value `a` holds, as the scalar it was made from would be written.
fn read(a: &Array) -> Scalar {
    fn one<T: Element>(a: &Array) -> Scalar {
        let v = a.to_vec::<T>().unwrap();
        assert_eq!(v.len(), 1);
        v[0].to_scalar()
    }
    rill_core::dispatch_dtype!(a.dtype(), T => one::<T>(a))
}

#[test]
fn constants_read_back_exactly_while_the_table_turns_over() {
    let mut rng = StdRng::seed_from_u64(14);
    // Far more distinct constants than a thread's table holds, interleaved with repeats of
    // earlier ones, all kept alive and read at the end: a slot reused for a new value must never
    // change what an older array holds.
    let mut made: Vec<(Scalar, Array)> = Vec::new();
    for round in 0..400 {
        let (value, dtype) = if round % 3 == 2 && !made.is_empty() {
            let (v, a) = &made[rng.random_range(0..made.len())];
            (*v, a.dtype())
        } else {
            let dtype = Dtype::ALL[rng.random_range(0..Dtype::ALL.len())];
            (random_value(&mut rng, dtype), dtype)
        };
        let a = operand(value, dtype);
        assert_eq!((a.shape(), a.dtype()), (&[][..], dtype));
        made.push((value, a));
    }
    for (value, a) in &made {
        assert_eq!(read(a), *value, "a {} constant", a.dtype());
    }
}

#[test]
fn signed_zeros_and_nans_are_different_constants() {
    let cpu = Device::cpu();
    let pos = operand(Scalar::Float(0.0), Dtype::Float32);
    let neg = operand(Scalar::Float(-0.0), Dtype::Float32);
    let pos2 = operand(Scalar::Float(0.0), Dtype::Float32);
    // 1 / x tells the zeros apart: +inf and -inf.
    let one = operand(Scalar::Float(1.0), Dtype::Float32);
    let inv = |x: &Array| ops::divide(&one, x, cpu).unwrap().item::<f32>().unwrap();
    assert_eq!(inv(&pos), f32::INFINITY);
    assert_eq!(inv(&neg), f32::NEG_INFINITY);
    assert_eq!(inv(&pos2), f32::INFINITY);
    let nan = operand(Scalar::Float(f64::NAN), Dtype::Float64);
    assert!(nan.item::<f64>().unwrap().is_nan());
    // The same value in two dtypes: two constants of their own sizes.
    let w = operand(Scalar::Int(-1), Dtype::Int64);
    let b = operand(Scalar::Int(-1), Dtype::Int8);
    assert_eq!((w.item::<i64>().unwrap(), w.nbytes()), (-1, 8));
    assert_eq!((b.item::<i8>().unwrap(), b.nbytes()), (-1, 1));
    let c = operand(Scalar::Complex(1.5, -2.0), Dtype::Complex64);
    assert_eq!(c.item::<Complex32>().unwrap(), Complex32::new(1.5, -2.0));
}

#[test]
fn equal_constants_share_bytes_but_stay_arrays_of_their_own() {
    let cpu = Device::cpu();
    let x = operand(Scalar::Float(2.0), Dtype::Float32);
    let y = operand(Scalar::Float(2.0), Dtype::Float32);
    let bytes = |a: &Array| a.data().unwrap().buffer.clone();
    assert!(Arc::ptr_eq(&bytes(&x), &bytes(&y)));
    assert_ne!(x.id(), y.id());
    // A user's own 0-d arrays share nothing: they may leave rill (DLPack) for a library that
    // writes into them.
    let mine = ops::scalar_array(Scalar::Float(2.0), Dtype::Float32, cpu).unwrap();
    let mine2 = ops::scalar_array(Scalar::Float(2.0), Dtype::Float32, cpu).unwrap();
    let assigned = ops::weak_scalar(&x, Scalar::Float(2.0), cpu).unwrap();
    assert!(!Arc::ptr_eq(&bytes(&mine), &bytes(&mine2)));
    assert!(!Arc::ptr_eq(&bytes(&mine), &bytes(&x)));
    assert!(!Arc::ptr_eq(&bytes(&assigned), &bytes(&x)));
    assert_eq!(mine.item::<f32>().unwrap(), 2.0);
    // f(x, y) = x * y + x: df/dx = y + 1 = 3, df/dy = x = 2. Were the two one array, the product
    // would be a square and df/dx would read 2x + 1 = 5.
    let g = grad(
        |v| {
            let p = ops::multiply(&v[0], &v[1], cpu)?;
            ops::add(&p, &v[0], cpu)
        },
        &[x, y],
    )
    .unwrap();
    assert_eq!(g[0].item::<f32>().unwrap(), 3.0);
    assert_eq!(g[1].item::<f32>().unwrap(), 2.0);
}

#[test]
fn constants_made_on_other_threads_keep_their_values() {
    // Each thread has a table of its own; arrays outlive the threads that made them.
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                (0..64)
                    .map(|i| {
                        let v = (t * 1000 + i) as f64 + 0.25;
                        (v, operand(Scalar::Float(v), Dtype::Float64))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (v, a) in h.join().unwrap() {
            assert_eq!(a.item::<f64>().unwrap(), v);
        }
    }
}
