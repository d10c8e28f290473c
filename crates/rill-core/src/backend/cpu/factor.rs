//! Matrix factorizations and solves (`Op::Factor`), written out by hand: LU with partial pivoting
//! (and the inverse, solve and determinant built on it), Cholesky, triangular inverse and solve,
//! Householder QR, and symmetric eigendecomposition by cyclic Jacobi rotations; the SVD and the
//! general eigenproblem are in `spectral.rs`.
//!
//! Why by hand and not through a linear-algebra crate: `faer` 0.24 (the candidate) took 329
//! CPU-seconds to build alone in the dev profile (dependencies at opt-level 3), about 220 of them
//! in crates rill does not already build (`nano-gemm-*`, `faer`, `private-gemm-x86`), and CI runs
//! close to its 30-minute budget on two cores (docs/ci.md). These algorithms are short, and the
//! matrices `mx.linalg` users hand to the CPU are small.
//!
//! Every matrix is computed in f64 whatever its dtype (float32 inputs gain accuracy at a cost
//! that small matrices do not notice), from a row-major copy of the input. Matrices of a batch
//! are independent and run in parallel. A matrix the algorithm cannot handle (singular, not
//! positive definite) fails the op with an error naming the op, the matrix's index in the batch
//! and the input's shape.

use super::output;
use super::spectral;
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::FactorOp;
use crate::{Dtype, Error, Result};
use rayon::prelude::*;

/// Below this many matrix elements in the whole batch, one thread does all of it.
const PAR_ELEMENTS: usize = 1 << 12;

/// The row-major values of `x` as f64 (float32 or float64 inputs only).
fn values(name: &'static str, x: &Input) -> Result<Vec<f64>> {
    match x.dtype {
        Dtype::Float32 => Ok(gather_to_vec::<f32>(x.data, x.shape)
            .into_iter()
            .map(f64::from)
            .collect()),
        Dtype::Float64 => Ok(gather_to_vec::<f64>(x.data, x.shape)),
        d => Err(Error::runtime(
            name,
            format!(
                "internal error: no CPU kernel for {d} (shape {:?})",
                x.shape
            ),
        )),
    }
}

fn matrix_dims(shape: &[usize]) -> (usize, usize, usize) {
    let nd = shape.len();
    let (m, n) = (shape[nd - 2], shape[nd - 1]);
    (shape[..nd - 2].iter().product(), m, n)
}

pub fn run(op: FactorOp, inputs: &[Input], out: &Output) -> Result<Data> {
    let name = op.name();
    let a = values(name, &inputs[0])?;
    let (batch, m, n) = matrix_dims(inputs[0].shape);
    if let FactorOp::Eig { vectors } = op {
        return run_eig(name, vectors, &a, (batch, n), inputs[0].shape, out);
    }
    let b = match inputs.get(1) {
        Some(b) => Some((values(name, b)?, b.shape[b.shape.len() - 1])),
        None => None,
    };
    let per = *out.shape.last().unwrap_or(&0);
    let mut res = vec![0f64; batch * per];
    let one = |(i, o): (usize, &mut [f64])| -> Result<()> {
        let ai = &a[i * m * n..(i + 1) * m * n];
        let bi = b
            .as_ref()
            .map(|(b, r)| (&b[i * n * r..(i + 1) * n * r], *r));
        factor(op, ai, m, n, bi, o).map_err(|msg| {
            Error::runtime(
                name,
                format!(
                    "matrix {i} of the input of shape {:?} {msg}",
                    inputs[0].shape
                ),
            )
        })
    };
    if per > 0 {
        if batch * m * n < PAR_ELEMENTS {
            res.chunks_mut(per).enumerate().try_for_each(one)?;
        } else {
            res.par_chunks_mut(per).enumerate().try_for_each(one)?;
        }
    }
    match out.dtype {
        Dtype::Float32 => output::<f32>(name, out, |o| {
            o.iter_mut().zip(&res).for_each(|(o, &v)| *o = v as f32);
            Ok(())
        }),
        _ => output::<f64>(name, out, |o| {
            o.copy_from_slice(&res);
            Ok(())
        }),
    }
}

/// `Op::Factor`'s eigenproblem of general matrices: complex results, written as complex64.
fn run_eig(
    name: &'static str,
    vectors: bool,
    a: &[f64],
    (batch, n): (usize, usize),
    shape: &[usize],
    out: &Output,
) -> Result<Data> {
    let per = *out.shape.last().unwrap_or(&0);
    let mut res = vec![num_complex::Complex::<f64>::new(0.0, 0.0); batch * per];
    let one = |(i, o): (usize, &mut [num_complex::Complex<f64>])| -> Result<()> {
        spectral::eig(&a[i * n * n..(i + 1) * n * n], n, vectors, o).map_err(|msg| {
            Error::runtime(
                name,
                format!("matrix {i} of the input of shape {shape:?} {msg}"),
            )
        })
    };
    if per > 0 {
        if batch * n * n < PAR_ELEMENTS {
            res.chunks_mut(per).enumerate().try_for_each(one)?;
        } else {
            res.par_chunks_mut(per).enumerate().try_for_each(one)?;
        }
    }
    output::<num_complex::Complex<f32>>(name, out, |o| {
        o.iter_mut()
            .zip(&res)
            .for_each(|(o, v)| *o = num_complex::Complex::new(v.re as f32, v.im as f32));
        Ok(())
    })
}

/// One matrix `a` (`m x n`, row-major), with the right-hand side `b` (`n x r`) of the solves;
/// writes the op's packed pieces to `o`. The error completes "matrix i of the input ...".
fn factor(
    op: FactorOp,
    a: &[f64],
    m: usize,
    n: usize,
    b: Option<(&[f64], usize)>,
    o: &mut [f64],
) -> std::result::Result<(), String> {
    match op {
        FactorOp::LuFactor => {
            let mut lu = a.to_vec();
            let piv = lu_in_place(&mut lu, m, n);
            o[..m * n].copy_from_slice(&lu);
            let k = piv.len();
            for (d, &p) in o[m * n..m * n + k].iter_mut().zip(&piv) {
                *d = p as f64;
            }
            // The row order `p` with `a = (L U)[p]`: the swaps applied to `0..m` give `perm`,
            // with `(P a)[i] = a[perm[i]]`; `p` is its inverse.
            let mut perm: Vec<usize> = (0..m).collect();
            for (i, &p) in piv.iter().enumerate() {
                perm.swap(i, p);
            }
            let order = &mut o[m * n + k..];
            for (i, &r) in perm.iter().enumerate() {
                order[r] = i as f64;
            }
            Ok(())
        }
        FactorOp::Inv => {
            let mut lu = a.to_vec();
            let piv = lu_in_place(&mut lu, n, n);
            check_nonsingular(&lu, n)?;
            let mut x = identity(n);
            lu_solve(&lu, &piv, n, &mut x, n);
            o.copy_from_slice(&x);
            Ok(())
        }
        FactorOp::Solve => {
            let (b, r) = b.expect("solve has a right-hand side");
            let mut lu = a.to_vec();
            let piv = lu_in_place(&mut lu, n, n);
            check_nonsingular(&lu, n)?;
            o.copy_from_slice(b);
            lu_solve(&lu, &piv, n, o, r);
            Ok(())
        }
        FactorOp::Slogdet => {
            let mut lu = a.to_vec();
            let piv = lu_in_place(&mut lu, n, n);
            let swaps = piv.iter().enumerate().filter(|(i, &p)| *i != p).count();
            let mut sign = if swaps % 2 == 0 { 1.0 } else { -1.0 };
            let (mut log, mut det) = (0.0, sign);
            for i in 0..n {
                let d = lu[i * n + i];
                det *= d;
                log += d.abs().ln();
                sign *= d.signum();
            }
            if det == 0.0 && (0..n).any(|i| lu[i * n + i] == 0.0) {
                sign = 0.0;
                log = f64::NEG_INFINITY;
            }
            o.copy_from_slice(&[sign, log, det]);
            Ok(())
        }
        FactorOp::Cholesky { upper } => cholesky(a, n, upper, o),
        FactorOp::TriInv { upper } => {
            check_triangular_nonsingular(a, n)?;
            let mut x = identity(n);
            tri_solve(a, n, upper, &mut x, n);
            o.copy_from_slice(&x);
            Ok(())
        }
        FactorOp::SolveTriangular { upper } => {
            let (b, r) = b.expect("solve_triangular has a right-hand side");
            check_triangular_nonsingular(a, n)?;
            o.copy_from_slice(b);
            tri_solve(a, n, upper, o, r);
            Ok(())
        }
        FactorOp::Qr => {
            qr(a, m, n, o);
            Ok(())
        }
        FactorOp::Eigh { upper, vectors } => {
            eigh(a, n, upper, vectors, o);
            Ok(())
        }
        FactorOp::Svd { vectors } => {
            spectral::svd(a, m, n, vectors, o);
            Ok(())
        }
        FactorOp::Eig { .. } => unreachable!("run_eig handles eig"),
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut x = vec![0.0; n * n];
    for i in 0..n {
        x[i * n + i] = 1.0;
    }
    x
}

/// LU with partial pivoting in place (LAPACK's `getrf`): `a` becomes the unit-lower `L` below
/// the diagonal and `U` on and above it; returns the pivot rows (`k = min(m, n)` of them). A zero
/// pivot leaves its column as it is and goes on, as LAPACK does.
fn lu_in_place(a: &mut [f64], m: usize, n: usize) -> Vec<usize> {
    let k = m.min(n);
    let mut piv = Vec::with_capacity(k);
    for j in 0..k {
        let mut p = j;
        for i in j + 1..m {
            if a[i * n + j].abs() > a[p * n + j].abs() {
                p = i;
            }
        }
        piv.push(p);
        if p != j {
            for c in 0..n {
                a.swap(j * n + c, p * n + c);
            }
        }
        let d = a[j * n + j];
        if d == 0.0 {
            continue;
        }
        for i in j + 1..m {
            let l = a[i * n + j] / d;
            a[i * n + j] = l;
            if l != 0.0 {
                for c in j + 1..n {
                    a[i * n + c] -= l * a[j * n + c];
                }
            }
        }
    }
    piv
}

fn check_nonsingular(lu: &[f64], n: usize) -> std::result::Result<(), String> {
    match (0..n).find(|&i| lu[i * n + i] == 0.0) {
        Some(i) => Err(format!(
            "is singular (U[{i}, {i}] of its LU factorization is exactly zero)"
        )),
        None => Ok(()),
    }
}

fn check_triangular_nonsingular(a: &[f64], n: usize) -> std::result::Result<(), String> {
    match (0..n).find(|&i| a[i * n + i] == 0.0) {
        Some(i) => Err(format!(
            "is singular (its diagonal element [{i}, {i}] is zero)"
        )),
        None => Ok(()),
    }
}

/// Solves `A X = B` in place in `x` (`n x r`) from `A`'s LU factors and pivots.
fn lu_solve(lu: &[f64], piv: &[usize], n: usize, x: &mut [f64], r: usize) {
    for (i, &p) in piv.iter().enumerate() {
        if p != i {
            for c in 0..r {
                x.swap(i * r + c, p * r + c);
            }
        }
    }
    // L y = P b (unit diagonal), then U x = y.
    for i in 0..n {
        for k in 0..i {
            let l = lu[i * n + k];
            if l != 0.0 {
                for c in 0..r {
                    x[i * r + c] -= l * x[k * r + c];
                }
            }
        }
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            let u = lu[i * n + k];
            if u != 0.0 {
                for c in 0..r {
                    x[i * r + c] -= u * x[k * r + c];
                }
            }
        }
        let d = lu[i * n + i];
        for c in 0..r {
            x[i * r + c] /= d;
        }
    }
}

/// Solves `T X = B` in place in `x` (`n x r`), `T` the lower or upper triangle of `a`
/// (the other triangle is never read).
fn tri_solve(a: &[f64], n: usize, upper: bool, x: &mut [f64], r: usize) {
    let row = |i: usize, x: &mut [f64]| {
        let ks = if upper { i + 1..n } else { 0..i };
        for k in ks {
            let t = a[i * n + k];
            if t != 0.0 {
                for c in 0..r {
                    x[i * r + c] -= t * x[k * r + c];
                }
            }
        }
        let d = a[i * n + i];
        for c in 0..r {
            x[i * r + c] /= d;
        }
    };
    if upper {
        (0..n).rev().for_each(|i| row(i, x));
    } else {
        (0..n).for_each(|i| row(i, x));
    }
}

/// The Cholesky factor of the symmetric matrix given by one triangle of `a`: `L` (lower, with
/// `a = L Lᵀ`) or `U = Lᵀ` (upper); the other triangle of the result is zero.
fn cholesky(a: &[f64], n: usize, upper: bool, o: &mut [f64]) -> std::result::Result<(), String> {
    // Element (i, j), i >= j, of the symmetric matrix, from the triangle the caller named.
    let sym = |i: usize, j: usize| if upper { a[j * n + i] } else { a[i * n + j] };
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let s = sym(j, j) - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if s.is_nan() || s <= 0.0 {
            return Err(format!(
                "is not positive definite (the leading minor of order {} is not positive)",
                j + 1
            ));
        }
        let d = s.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let s = sym(i, j) - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        for j in 0..n {
            o[i * n + j] = if upper { l[j * n + i] } else { l[i * n + j] };
        }
    }
    Ok(())
}

/// Householder QR of `a` (`m x n`): writes `Q` (`m x k`) then `R` (`k x n`), `k = min(m, n)`.
/// The reflections follow LAPACK's `geqrf` (`beta = -sign(alpha) * norm`), so the signs of `R`'s
/// diagonal are the ones NumPy and MLX give.
fn qr(a: &[f64], m: usize, n: usize, o: &mut [f64]) {
    let k = m.min(n);
    let mut r = a.to_vec();
    // Reflector j: I - tau v vᵀ with v[j] = 1, stored below the diagonal of column j.
    let mut taus = vec![0.0; k];
    let mut v = vec![0.0; m];
    for j in 0..k {
        let alpha = r[j * n + j];
        let tail: f64 = (j + 1..m).map(|i| r[i * n + j] * r[i * n + j]).sum();
        if tail == 0.0 {
            continue; // H = I, tau = 0
        }
        let norm = (alpha * alpha + tail).sqrt();
        let beta = if alpha >= 0.0 { -norm } else { norm };
        taus[j] = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        v[j] = 1.0;
        for i in j + 1..m {
            v[i] = r[i * n + j] * scale;
        }
        // R[j.., j..] -= tau v (vᵀ R[j.., j..])
        for c in j..n {
            let dot: f64 = (j..m).map(|i| v[i] * r[i * n + c]).sum();
            let f = taus[j] * dot;
            for i in j..m {
                r[i * n + c] -= f * v[i];
            }
        }
        for i in j + 1..m {
            r[i * n + j] = v[i]; // keep v below the diagonal for Q
        }
    }
    // Q = H_0 H_1 ... H_{k-1} applied to the first k columns of the identity, last reflector first.
    let mut q = vec![0.0; m * k];
    for i in 0..k {
        q[i * k + i] = 1.0;
    }
    for j in (0..k).rev() {
        if taus[j] == 0.0 {
            continue;
        }
        v[j] = 1.0;
        for i in j + 1..m {
            v[i] = r[i * n + j];
        }
        for c in 0..k {
            let dot: f64 = (j..m).map(|i| v[i] * q[i * k + c]).sum();
            let f = taus[j] * dot;
            for i in j..m {
                q[i * k + c] -= f * v[i];
            }
        }
    }
    o[..m * k].copy_from_slice(&q);
    let rr = &mut o[m * k..];
    for i in 0..k {
        for c in 0..n {
            rr[i * n + c] = if c >= i { r[i * n + c] } else { 0.0 };
        }
    }
}

/// Eigenvalues (ascending) and, with `vectors`, eigenvectors (columns) of the symmetric matrix
/// given by one triangle of `a`, by cyclic Jacobi rotations (Golub and Van Loan, 8.5): each
/// rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal part is below
/// rounding of the whole. Accurate to a few ulps of the matrix's norm, and simple; its cost,
/// `O(n³)` per sweep for a handful of sweeps, is fine for the small matrices it gets.
fn eigh(a: &[f64], n: usize, upper: bool, vectors: bool, o: &mut [f64]) {
    let mut s = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = if upper { a[j * n + i] } else { a[i * n + j] };
            s[i * n + j] = v;
            s[j * n + i] = v;
        }
    }
    let mut v = identity(n);
    let frob: f64 = s.iter().map(|x| x * x).sum();
    for _sweep in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| s[p * n + q] * s[p * n + q])
            .sum();
        if off <= frob * 1e-36 || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = s[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (s[q * n + q] - s[p * n + p]) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for k in 0..n {
                    let (kp, kq) = (s[k * n + p], s[k * n + q]);
                    s[k * n + p] = c * kp - sn * kq;
                    s[k * n + q] = sn * kp + c * kq;
                }
                for k in 0..n {
                    let (pk, qk) = (s[p * n + k], s[q * n + k]);
                    s[p * n + k] = c * pk - sn * qk;
                    s[q * n + k] = sn * pk + c * qk;
                }
                s[p * n + q] = 0.0;
                s[q * n + p] = 0.0;
                for k in 0..n {
                    let (kp, kq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * kp - sn * kq;
                    v[k * n + q] = sn * kp + c * kq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| s[i * n + i].total_cmp(&s[j * n + j]));
    for (d, &i) in order.iter().enumerate() {
        o[d] = s[i * n + i];
    }
    if vectors {
        let vs = &mut o[n..];
        for r in 0..n {
            for (d, &i) in order.iter().enumerate() {
                vs[r * n + d] = v[r * n + i];
            }
        }
    }
}
