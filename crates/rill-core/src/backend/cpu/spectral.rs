//! The singular value decomposition and the eigenproblem of a general (non-symmetric) matrix, for
//! `Op::Factor` (`backend/cpu/factor.rs` calls these; its module doc says why rill writes its
//! factorizations by hand).
//!
//! - SVD: one-sided Jacobi (Hestenes): plane rotations orthogonalize the columns of `A V` until
//!   every pair is orthogonal to rounding; the column norms are the singular values and the
//!   normalized columns the left vectors. It computes small singular values to high relative
//!   accuracy, and it is short. `U` is completed to a square orthonormal basis (LAPACK's
//!   `jobu = 'A'`, which MLX returns).
//! - Eig: reduction to Hessenberg form by Householder reflections, then the shifted QR algorithm
//!   in complex arithmetic (Wilkinson shifts, with exceptional shifts against cycling), which
//!   leaves an upper triangular Schur form `T = Zᴴ A Z`; eigenvectors come from back
//!   substitution in `T`, mapped back by `Z`, each scaled to unit length with its largest
//!   component real and positive. Complex arithmetic handles conjugate pairs without the 2x2
//!   blocks of the real algorithm. Eigenvalues come in the order the algorithm deflates them
//!   (LAPACK's order differs; neither order means anything).
//!
//! Everything is f64 (or `Complex<f64>`), row-major, one matrix at a time.

use num_complex::Complex;

type C64 = Complex<f64>;

/// Below this many rotations' worth of change, a Jacobi pair counts as orthogonal.
const ORTHO_TOL: f64 = 1e-15;

/// Writes the SVD of `a` (`m x n`, row-major) to `o`: with `vectors`, `U (m x m)`, `S (k)`,
/// `Vt (n x n)`; else `S (k)`; singular values descending.
pub(super) fn svd(a: &[f64], m: usize, n: usize, vectors: bool, o: &mut [f64]) {
    // Work on the tall orientation: for m < n, decompose aᵀ = V S Uᵀ and swap the factors.
    let transposed = m < n;
    let (rows, cols) = if transposed { (n, m) } else { (m, n) };
    // `w[c * rows + r]`: column c of the tall matrix, contiguous (the rotations work on columns).
    let mut w = vec![0.0; rows * cols];
    for i in 0..m {
        for j in 0..n {
            let (r, c) = if transposed { (j, i) } else { (i, j) };
            w[c * rows + r] = a[i * n + j];
        }
    }
    // `v[c * cols + r]`: the accumulated right rotations, by columns.
    let mut v = vec![0.0; cols * cols];
    for c in 0..cols {
        v[c * cols + c] = 1.0;
    }
    for _sweep in 0..80 {
        let mut rotated = false;
        for p in 0..cols {
            for q in p + 1..cols {
                let (alpha, beta, gamma) = {
                    let (wp, wq) = (&w[p * rows..(p + 1) * rows], &w[q * rows..(q + 1) * rows]);
                    let mut s = (0.0, 0.0, 0.0);
                    for (x, y) in wp.iter().zip(wq) {
                        s.0 += x * x;
                        s.1 += y * y;
                        s.2 += x * y;
                    }
                    s
                };
                if gamma == 0.0 || gamma.abs() <= ORTHO_TOL * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate_columns(&mut w, rows, p, q, c, s);
                rotate_columns(&mut v, cols, p, q, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
    let sigma: Vec<f64> = (0..cols)
        .map(|c| {
            w[c * rows..(c + 1) * rows]
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let mut order: Vec<usize> = (0..cols).collect();
    order.sort_by(|&i, &j| sigma[j].total_cmp(&sigma[i]));
    let k = cols;
    let s_at = if vectors { m * m } else { 0 };
    for (d, &c) in order.iter().enumerate() {
        o[s_at + d] = sigma[c];
    }
    if !vectors {
        return;
    }
    // The left vectors (columns of length `rows`): normalized columns of `w` where the singular
    // value is not negligible, completed to an orthonormal basis of `rows` columns.
    let smax = sigma.iter().cloned().fold(0.0, f64::max);
    let negligible = smax * rows as f64 * f64::EPSILON;
    let mut left: Vec<Option<Vec<f64>>> = order
        .iter()
        .map(|&c| {
            (sigma[c] > negligible && sigma[c] > 0.0).then(|| {
                w[c * rows..(c + 1) * rows]
                    .iter()
                    .map(|x| x / sigma[c])
                    .collect()
            })
        })
        .collect();
    left.resize(rows, None);
    let left = complete_basis(left, rows);
    let right: Vec<&[f64]> = order
        .iter()
        .map(|&c| &v[c * cols..(c + 1) * cols])
        .collect();
    // a = L S Rᵀ for the tall matrix; for aᵀ, a = R S Lᵀ.
    let (u, vt_rows): (Vec<&[f64]>, Vec<&[f64]>) = if transposed {
        (right.clone(), left.iter().map(|c| c.as_slice()).collect())
    } else {
        (left.iter().map(|c| c.as_slice()).collect(), right.clone())
    };
    // U (m x m): column j is u[j]. Vt (n x n): row j is vt_rows[j].
    let (uo, rest) = o.split_at_mut(m * m);
    for i in 0..m {
        for (j, col) in u.iter().enumerate() {
            uo[i * m + j] = col[i];
        }
    }
    let vto = &mut rest[k..];
    for (j, row) in vt_rows.iter().enumerate() {
        vto[j * n..(j + 1) * n].copy_from_slice(row);
    }
}

/// Columns `p`, `q` (of length `len`, stored contiguously by column) <- `(c p - s q, s p + c q)`.
fn rotate_columns(x: &mut [f64], len: usize, p: usize, q: usize, c: f64, s: f64) {
    let (lo, hi) = x.split_at_mut(q * len);
    let xp = &mut lo[p * len..(p + 1) * len];
    let xq = &mut hi[..len];
    for (a, b) in xp.iter_mut().zip(xq.iter_mut()) {
        let (u, w) = (*a, *b);
        *a = c * u - s * w;
        *b = s * u + c * w;
    }
}

/// Fills the missing columns of an orthonormal set (of vectors of length `len`) from the
/// standard basis by Gram-Schmidt (twice, for orthogonality to rounding).
fn complete_basis(cols: Vec<Option<Vec<f64>>>, len: usize) -> Vec<Vec<f64>> {
    let mut done: Vec<Vec<f64>> = cols.iter().flatten().cloned().collect();
    let mut next_unit = 0;
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        if let Some(c) = c {
            out.push(c);
            continue;
        }
        loop {
            let mut x = vec![0.0; len];
            x[next_unit] = 1.0;
            next_unit += 1;
            for _ in 0..2 {
                for d in &done {
                    let dot: f64 = d.iter().zip(&x).map(|(a, b)| a * b).sum();
                    x.iter_mut().zip(d).for_each(|(xi, di)| *xi -= dot * di);
                }
            }
            let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.5 {
                x.iter_mut().for_each(|v| *v /= norm);
                done.push(x.clone());
                out.push(x);
                break;
            }
        }
    }
    out
}

/// Writes the eigenvalues of `a` (`n x n`, row-major) to `o[..n]` and, with `vectors`, the unit
/// eigenvectors as the columns of `o[n..]` (`n x n`, row-major). Fails when the QR iteration
/// does not converge (it does for every matrix short of adversarial ones).
pub(super) fn eig(
    a: &[f64],
    n: usize,
    vectors: bool,
    o: &mut [C64],
) -> std::result::Result<(), String> {
    let mut h: Vec<C64> = a.iter().map(|&x| C64::new(x, 0.0)).collect();
    let mut z: Vec<C64> = vec![C64::new(0.0, 0.0); if vectors { n * n } else { 0 }];
    if vectors {
        for i in 0..n {
            z[i * n + i] = C64::new(1.0, 0.0);
        }
    }
    hessenberg(&mut h, &mut z, n, vectors);
    schur(&mut h, &mut z, n, vectors)?;
    for i in 0..n {
        o[i] = h[i * n + i];
    }
    if vectors {
        triangular_eigenvectors(&h, &z, n, &mut o[n..]);
    }
    Ok(())
}

/// Reduces `h` to upper Hessenberg form by Householder reflections, accumulating them in `z`.
fn hessenberg(h: &mut [C64], z: &mut [C64], n: usize, vectors: bool) {
    for k in 0..n.saturating_sub(2) {
        let mut v: Vec<C64> = (k + 1..n).map(|i| h[i * n + k]).collect();
        let alpha = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
        if alpha == 0.0 {
            continue;
        }
        let phase = if v[0].norm() == 0.0 {
            C64::new(1.0, 0.0)
        } else {
            v[0] / v[0].norm()
        };
        v[0] += phase * alpha;
        let vnorm2: f64 = v.iter().map(|x| x.norm_sqr()).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        let f = 2.0 / vnorm2;
        // h <- (I - f v vᴴ) h (rows k+1..), then h <- h (I - f v vᴴ) (columns k+1..).
        for j in 0..n {
            let dot: C64 = v
                .iter()
                .enumerate()
                .map(|(r, vr)| vr.conj() * h[(k + 1 + r) * n + j])
                .sum();
            for (r, vr) in v.iter().enumerate() {
                h[(k + 1 + r) * n + j] -= vr * dot * f;
            }
        }
        let right = |m: &mut [C64]| {
            for i in 0..n {
                let dot: C64 = v
                    .iter()
                    .enumerate()
                    .map(|(c, vc)| m[i * n + k + 1 + c] * vc)
                    .sum();
                for (c, vc) in v.iter().enumerate() {
                    m[i * n + k + 1 + c] -= dot * vc.conj() * f;
                }
            }
        };
        right(h);
        if vectors {
            right(z);
        }
        for i in k + 2..n {
            h[i * n + k] = C64::new(0.0, 0.0);
        }
    }
}

/// The shifted QR algorithm on the Hessenberg matrix `h`, to upper triangular form, with every
/// rotation applied to the whole matrix (so that `h` ends as a Schur form) and accumulated in `z`.
fn schur(h: &mut [C64], z: &mut [C64], n: usize, vectors: bool) -> std::result::Result<(), String> {
    if n < 2 {
        return Ok(());
    }
    let zero = C64::new(0.0, 0.0);
    let mut hi = n - 1;
    let mut iter = 0usize;
    let mut total = 0usize;
    let mut rot: Vec<(C64, C64)> = Vec::with_capacity(n);
    while hi > 0 {
        // The active block is l..=hi, where h[l][l-1] is negligible.
        let mut l = hi;
        while l > 0 {
            let s = h[(l - 1) * n + l - 1].norm() + h[l * n + l].norm();
            let sub = h[l * n + l - 1].norm();
            if sub == 0.0 || sub <= f64::EPSILON * s || (s == 0.0 && sub < f64::MIN_POSITIVE) {
                h[l * n + l - 1] = zero;
                break;
            }
            l -= 1;
        }
        if l == hi {
            hi -= 1;
            iter = 0;
            continue;
        }
        iter += 1;
        total += 1;
        if total > 100 * n.max(10) {
            return Err(format!(
                "did not converge (the QR iteration stalled at eigenvalue {hi})"
            ));
        }
        let (a, b) = (h[(hi - 1) * n + hi - 1], h[(hi - 1) * n + hi]);
        let (c, d) = (h[hi * n + hi - 1], h[hi * n + hi]);
        let mu = if iter % 11 == 10 {
            // An exceptional shift breaks the rare cycles of the Wilkinson shift.
            d + C64::new(h[hi * n + hi - 1].norm() * 0.75, 0.0)
        } else {
            let half = (a - d) * 0.5;
            let disc = (half * half + b * c).sqrt();
            let (l1, l2) = (d + half + disc, d + half - disc);
            if (l1 - d).norm() <= (l2 - d).norm() {
                l1
            } else {
                l2
            }
        };
        for k in l..=hi {
            h[k * n + k] -= mu;
        }
        rot.clear();
        for k in l..hi {
            let (x, y) = (h[k * n + k], h[(k + 1) * n + k]);
            let r = (x.norm_sqr() + y.norm_sqr()).sqrt();
            let (cs, sn) = if r == 0.0 {
                (C64::new(1.0, 0.0), zero)
            } else {
                (x / r, y / r)
            };
            for j in k..n {
                let (p, q) = (h[k * n + j], h[(k + 1) * n + j]);
                h[k * n + j] = cs.conj() * p + sn.conj() * q;
                h[(k + 1) * n + j] = -sn * p + cs * q;
            }
            rot.push((cs, sn));
        }
        for (i, &(cs, sn)) in rot.iter().enumerate() {
            let k = l + i;
            let apply = |m: &mut [C64], rows: usize| {
                for r in 0..rows {
                    let (p, q) = (m[r * n + k], m[r * n + k + 1]);
                    m[r * n + k] = p * cs + q * sn;
                    m[r * n + k + 1] = -p * sn.conj() + q * cs.conj();
                }
            };
            apply(h, (k + 2).min(hi + 1));
            if vectors {
                apply(z, n);
            }
        }
        for k in l..=hi {
            h[k * n + k] += mu;
        }
    }
    Ok(())
}

/// The eigenvectors of `Z T Zᴴ` from the upper triangular `t`: back substitution for each
/// eigenvalue, mapped by `z`, scaled to unit length with the largest component real positive.
fn triangular_eigenvectors(t: &[C64], z: &[C64], n: usize, o: &mut [C64]) {
    let zero = C64::new(0.0, 0.0);
    let norm = t
        .iter()
        .map(|x| x.norm())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let small = norm * f64::EPSILON;
    let mut x = vec![zero; n];
    for k in 0..n {
        let lambda = t[k * n + k];
        x.iter_mut().for_each(|v| *v = zero);
        x[k] = C64::new(1.0, 0.0);
        for i in (0..k).rev() {
            let s: C64 = (i + 1..=k).map(|j| t[i * n + j] * x[j]).sum();
            let mut d = t[i * n + i] - lambda;
            if d.norm() < small {
                d = C64::new(small, 0.0);
            }
            x[i] = -s / d;
        }
        let mut v: Vec<C64> = (0..n)
            .map(|r| (0..=k).map(|j| z[r * n + j] * x[j]).sum())
            .collect();
        let len = v.iter().map(|c| c.norm_sqr()).sum::<f64>().sqrt();
        let big = v
            .iter()
            .copied()
            .max_by(|a, b| a.norm_sqr().total_cmp(&b.norm_sqr()))
            .unwrap_or(C64::new(1.0, 0.0));
        let phase = if big.norm() == 0.0 {
            C64::new(1.0, 0.0)
        } else {
            big.conj() / big.norm()
        };
        if len > 0.0 {
            v.iter_mut().for_each(|c| *c = *c * phase / len);
        }
        for (r, c) in v.into_iter().enumerate() {
            o[r * n + k] = c;
        }
    }
}
