//! Shared by the movement and indexing tests: reference n-d arrays computed by plain index
//! arithmetic, random values of every dtype family, and inputs in several memory layouts.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rill_core::{ops, Array, DtypeKind, Element, Scalar};

/// A logical n-d array in row-major order: what an `Array` should read as.
#[derive(Clone, Debug)]
pub struct Nd<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

pub fn unravel(mut p: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = p % shape[d];
        p /= shape[d];
    }
    idx
}

impl<T: Copy> Nd<T> {
    pub fn from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> T) -> Self {
        let n: usize = shape.iter().product();
        let data = (0..n).map(|p| f(&unravel(p, shape))).collect();
        Nd {
            shape: shape.to_vec(),
            data,
        }
    }
    pub fn at(&self, idx: &[usize]) -> T {
        let mut p = 0;
        for (d, &i) in idx.iter().enumerate() {
            assert!(i < self.shape[d]);
            p = p * self.shape[d] + i;
        }
        self.data[p]
    }
}

pub fn rand_val<T: Element>(rng: &mut StdRng) -> T {
    match T::DTYPE.kind() {
        DtypeKind::Bool => T::from_scalar(Scalar::Bool(rng.random())),
        DtypeKind::Unsigned => T::from_scalar(Scalar::UInt(rng.random_range(1..250))),
        DtypeKind::Signed => T::from_scalar(Scalar::Int(rng.random_range(-120..120))),
        // Quarters below 32 are exact in every float type, bfloat16 included.
        DtypeKind::Float => T::from_scalar(Scalar::Float(rng.random_range(-120..120) as f64 / 4.0)),
        DtypeKind::Complex => T::from_scalar(Scalar::Complex(
            rng.random_range(-50..50) as f32,
            rng.random_range(-50..50) as f32 / 2.0,
        )),
    }
}

pub fn rand_nd<T: Element>(rng: &mut StdRng, shape: &[usize]) -> Nd<T> {
    Nd::from_fn(shape, |_| rand_val(rng))
}

/// How an input array lies in memory.
#[derive(Clone, Copy, Debug)]
pub enum Lay {
    Contiguous,
    /// A transpose of a contiguous array.
    Transposed,
    /// Every other element of a larger array, from an offset.
    Strided,
    /// A slice with step -1 along every dim.
    Reversed,
    /// Broadcast from a shape with some dims 1 (and maybe fewer dims).
    Broadcast,
}

pub const LAYS: [Lay; 5] = [
    Lay::Contiguous,
    Lay::Transposed,
    Lay::Strided,
    Lay::Reversed,
    Lay::Broadcast,
];

pub fn rand_lay(rng: &mut StdRng) -> Lay {
    LAYS[rng.random_range(0..LAYS.len())]
}

/// An array holding the values of `r`, laid out as `lay` (not `Broadcast`).
pub fn arrange<T: Element>(r: &Nd<T>, lay: Lay) -> Array {
    let shape = &r.shape[..];
    let nd = shape.len();
    match lay {
        Lay::Contiguous => Array::from_slice(&r.data, shape).unwrap(),
        Lay::Transposed => {
            let rev: Vec<usize> = shape.iter().rev().copied().collect();
            let t = Nd::from_fn(&rev, |i| r.at(&i.iter().rev().copied().collect::<Vec<_>>()));
            ops::transpose(&Array::from_slice(&t.data, &rev).unwrap(), None, ()).unwrap()
        }
        Lay::Strided => {
            let big: Vec<usize> = shape.iter().map(|&n| 2 * n + 1).collect();
            let b = Nd::from_fn(&big, |i| {
                if i.iter().all(|&k| k % 2 == 1) {
                    r.at(&i.iter().map(|&k| k / 2).collect::<Vec<_>>())
                } else {
                    rand_val(&mut StdRng::seed_from_u64(i.iter().sum::<usize>() as u64))
                }
            });
            let stop: Vec<isize> = big.iter().map(|&n| n as isize).collect();
            let a = Array::from_slice(&b.data, &big).unwrap();
            ops::slice(&a, &vec![1; nd], &stop, &vec![2; nd], ()).unwrap()
        }
        Lay::Reversed => {
            let big: Vec<usize> = shape.iter().map(|&n| n + 1).collect();
            // big[j] = r[n - j] for j in 1..=n; big[0] is never read.
            let b = Nd::from_fn(&big, |j| {
                if j.contains(&0) {
                    T::default()
                } else {
                    r.at(&j
                        .iter()
                        .zip(shape)
                        .map(|(&k, &n)| n - k)
                        .collect::<Vec<_>>())
                }
            });
            let start: Vec<isize> = shape.iter().map(|&n| n as isize).collect();
            let a = Array::from_slice(&b.data, &big).unwrap();
            ops::slice(&a, &start, &vec![0; nd], &vec![-1; nd], ()).unwrap()
        }
        Lay::Broadcast => panic!("arrange cannot make a broadcast layout"),
    }
}

/// A random input of `shape` laid out as `lay`, and the values it should read as.
pub fn input<T: Element>(rng: &mut StdRng, shape: &[usize], lay: Lay) -> (Nd<T>, Array) {
    let nd = shape.len();
    match lay {
        Lay::Broadcast => {
            let drop = rng.random_range(0..=nd);
            let src_shape: Vec<usize> = shape[drop..]
                .iter()
                .map(|&n| if rng.random_bool(0.5) { 1 } else { n })
                .collect();
            let src = rand_nd::<T>(rng, &src_shape);
            let r = Nd::from_fn(shape, |i| {
                let j: Vec<usize> = i[drop..]
                    .iter()
                    .zip(&src_shape)
                    .map(|(&k, &n)| if n == 1 { 0 } else { k })
                    .collect();
                src.at(&j)
            });
            let a = Array::from_slice(&src.data, &src_shape).unwrap();
            let a = ops::broadcast_to(&a, shape, ()).unwrap();
            (r, a)
        }
        _ => {
            let r = rand_nd::<T>(rng, shape);
            let a = arrange(&r, lay);
            (r, a)
        }
    }
}

pub fn rand_shape(rng: &mut StdRng, ndim: usize, max: usize) -> Vec<usize> {
    (0..ndim).map(|_| rng.random_range(1..=max)).collect()
}

pub fn check<T: Element>(out: &Array, expect: &Nd<T>, what: &str) {
    assert_eq!(out.shape(), &expect.shape[..], "{what}: shape");
    assert_eq!(out.dtype(), T::DTYPE, "{what}: dtype");
    assert_eq!(out.to_vec::<T>().unwrap(), expect.data, "{what}: values");
}

/// An axis as the user would give it: sometimes counted from the end.
pub fn user_axis(rng: &mut StdRng, ax: usize, ndim: usize) -> isize {
    if rng.random_bool(0.5) {
        ax as isize
    } else {
        ax as isize - ndim as isize
    }
}

macro_rules! for_dtypes {
    ($f:ident, $rng:expr) => {{
        use half::{bf16, f16};
        use num_complex::Complex32;
        $f::<bool>($rng);
        $f::<u8>($rng);
        $f::<u16>($rng);
        $f::<i32>($rng);
        $f::<i64>($rng);
        $f::<f16>($rng);
        $f::<bf16>($rng);
        $f::<f32>($rng);
        $f::<f64>($rng);
        $f::<Complex32>($rng);
    }};
}
