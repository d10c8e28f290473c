//! Helpers shared by the reduction, scan and softmax tests: random data, f64 references over
//! row-major n-d data, and independent re-layouts (transpose, broadcast, reverse) of it.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// `n` uniform values in `[lo, hi)`.
pub fn uniform(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

/// `n` integers in `lo..hi`, as f64.
pub fn ints(seed: u64, n: usize, lo: i64, hi: i64) -> Vec<i64> {
    let mut r = rng(seed);
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    idx
}

pub fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Normalizes reduction axes as NumPy does (None = all).
pub fn norm_axes(axes: Option<&[isize]>, ndim: usize) -> Vec<usize> {
    let mut v: Vec<usize> = match axes {
        None => (0..ndim).collect(),
        Some(a) => a
            .iter()
            .map(|&x| {
                if x < 0 {
                    (x + ndim as isize) as usize
                } else {
                    x as usize
                }
            })
            .collect(),
    };
    v.sort();
    v
}

/// The shape of a reduction's result.
pub fn out_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..shape.len())
        .filter_map(|d| match (axes.contains(&d), keepdims) {
            (false, _) => Some(shape[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Groups the elements of row-major `data` (of `shape`) by their index outside `axes`; returns
/// each group in row-major order of the result (reduced dims kept as 1).
pub fn groups<T: Copy>(data: &[T], shape: &[usize], axes: &[usize]) -> Vec<Vec<T>> {
    let kshape = out_shape(shape, axes, true);
    let mut g = vec![vec![]; numel(&kshape)];
    for (flat, &v) in data.iter().enumerate() {
        let mut idx = unravel(flat, shape);
        for &a in axes {
            idx[a] = 0;
        }
        g[ravel(&idx, &kshape)].push(v);
    }
    g
}

/// `data` (of `shape`) with dims permuted: result dim `i` is input dim `perm[i]`.
pub fn permute<T: Copy>(data: &[T], shape: &[usize], perm: &[usize]) -> (Vec<T>, Vec<usize>) {
    let new_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let out = (0..data.len())
        .map(|flat| {
            let idx = unravel(flat, &new_shape);
            let mut src = vec![0; shape.len()];
            for (i, &p) in perm.iter().enumerate() {
                src[p] = idx[i];
            }
            data[ravel(&src, shape)]
        })
        .collect();
    (out, new_shape)
}

/// `data` (of `shape`) broadcast to `to` (NumPy rules).
pub fn broadcast<T: Copy>(data: &[T], shape: &[usize], to: &[usize]) -> Vec<T> {
    let pad = to.len() - shape.len();
    (0..numel(to))
        .map(|flat| {
            let idx = unravel(flat, to);
            let src: Vec<usize> = (0..shape.len())
                .map(|d| if shape[d] == 1 { 0 } else { idx[d + pad] })
                .collect();
            data[ravel(&src, shape)]
        })
        .collect()
}

/// `data` (of `shape`) with `axis` reversed.
pub fn reverse_axis<T: Copy>(data: &[T], shape: &[usize], axis: usize) -> Vec<T> {
    (0..data.len())
        .map(|flat| {
            let mut idx = unravel(flat, shape);
            idx[axis] = shape[axis] - 1 - idx[axis];
            data[ravel(&idx, shape)]
        })
        .collect()
}

/// Asserts `|got - want| <= atol + rtol * |want|` elementwise (NaNs must match NaNs, infinities
/// must be equal).
#[track_caller]
pub fn assert_close(got: &[f64], want: &[f64], rtol: f64, atol: f64, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(
            ok,
            "{ctx}: element {i}: got {g}, want {w} (rtol {rtol}, atol {atol})"
        );
    }
}
