//! Rules of `Op::Factor`, the factorizations and solves of `mx.linalg`. MLX refuses to
//! differentiate these on its CPU; the formulas are the standard ones (PyTorch's), derived again
//! here for real matrices. `ᵀ` swaps the last two dims, `∘` multiplies elementwise, `G` is the
//! cotangent of a result.
//!
//! A node writes all its results packed into the last dim of one output (`FactorOp`), and the
//! builders slice them out, so `g` is the cotangent of the packed output, zero where a result
//! was not used. A rule cuts the pieces out of `out` and `g` as the builders do and returns the
//! cotangent of each input. Every step is an op builder, the factorizations included (`solve`,
//! `tri_inv`, `eigh`, `svd` are their own nodes again), so the backward pass is differentiable:
//! grad of grad, and jvp, which transposes a rule (linear in `g`) through these same rules.
//!
//! One triangle: `cholesky`, `eigh`/`eigvalsh`, `tri_inv` and `solve_triangular` read only one
//! triangle of their matrix, so the other gets a zero gradient: the derivative of what rill
//! computes. For the two that read a symmetric matrix `Σ` from it, the rule first finds `S`
//! with `d f = <S, dΣ>` for symmetric `dΣ`; element `(i, j)` of the read triangle is both
//! `Σ_ij` and `Σ_ji`, so it gets `S_ij + S_ji`, and a diagonal element `S_ii`. (PyTorch returns
//! `(S + Sᵀ)/2` on both triangles, the gradient for perturbations kept symmetric; summed over
//! the two triangles the two agree.)
//!
//! Limits, as PyTorch's: repeated eigenvalues or singular values (and, for a rectangular
//! `svd`'s vectors, a zero singular value) make the vectors' gradients infinite; `det` and
//! `slogdet` go through `inv`, so a singular matrix fails there. The columns of a full `svd`'s
//! `U` (or rows of `Vt`) past `min(m, n)` are any orthonormal completion, not a function of the
//! input one can differentiate: their cotangent is dropped. `lu_factor`/`lu` and
//! `eig`/`eigvals` have no rule.

use super::{constant, cut, no_rule};
use crate::op::{FactorOp, Op};
use crate::ops::{
    add, concatenate, expand_dims, eye, matmul, multiply, negative, piece, reciprocal, subtract,
    swapaxes, tri, tril, triu,
};
use crate::{ops, Array, Result, Stream};

pub(super) fn factor(
    f: FactorOp,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let a = &inputs[0];
    let (m, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    match f {
        FactorOp::Inv => {
            let (y, gy) = (piece(out, 0, &[n, n], s)?, piece(g, 0, &[n, n], s)?);
            Ok(vec![Some(inverse(&y, &gy, s)?)])
        }
        FactorOp::TriInv { upper } => {
            let (y, gy) = (piece(out, 0, &[n, n], s)?, piece(g, 0, &[n, n], s)?);
            Ok(vec![Some(triangle(&inverse(&y, &gy, s)?, upper, s)?)])
        }
        FactorOp::Solve => solve(None, inputs, out, g, wants, s),
        FactorOp::SolveTriangular { upper } => solve(Some(upper), inputs, out, g, wants, s),
        FactorOp::Slogdet => Ok(vec![Some(slogdet(a, out, g, s)?)]),
        FactorOp::Cholesky { upper } => Ok(vec![Some(cholesky(out, g, n, upper, s)?)]),
        FactorOp::Eigh { upper, vectors } => Ok(vec![Some(eigh(a, out, g, n, upper, vectors, s)?)]),
        FactorOp::Svd { vectors } => Ok(vec![Some(svd(a, out, g, m, n, vectors, s)?)]),
        FactorOp::Qr => Ok(vec![Some(qr(a, out, g, m, n, s)?)]),
        FactorOp::LuFactor | FactorOp::Eig { .. } => Err(no_rule(&Op::Factor(f))),
    }
}

fn t(x: &Array, s: Stream) -> Result<Array> {
    swapaxes(x, -1, -2, s)
}

/// `x @ y @ z`.
fn mm3(x: &Array, y: &Array, z: &Array, s: Stream) -> Result<Array> {
    matmul(&matmul(x, y, s)?, z, s)
}

/// The lower (or `upper`) triangle of `x`, diagonal included.
fn triangle(x: &Array, upper: bool, s: Stream) -> Result<Array> {
    if upper {
        triu(x, 0, s)
    } else {
        tril(x, 0, s)
    }
}

/// `x @ diag(v)`: column `j` of `x` times `v_j`.
fn scale_cols(x: &Array, v: &Array, s: Stream) -> Result<Array> {
    multiply(x, &expand_dims(v, &[-2], s)?, s)
}

/// `diag(v) @ x`: row `i` of `x` times `v_i`.
fn scale_rows(v: &Array, x: &Array, s: Stream) -> Result<Array> {
    multiply(&expand_dims(v, &[-1], s)?, x, s)
}

/// `(..., k)` -> `(..., k, k)` with `v` on the diagonal.
fn diag_embed(v: &Array, s: Stream) -> Result<Array> {
    let k = v.shape()[v.ndim() - 1];
    scale_cols(&eye(k, None, 0, v.dtype(), s)?, v, s)
}

/// The first `k` columns of `x`.
fn first_cols(x: &Array, k: usize, s: Stream) -> Result<Array> {
    cut(x, x.ndim() - 1, 0, k, s)
}

/// Columns `k..` of `x`.
fn last_cols(x: &Array, k: usize, s: Stream) -> Result<Array> {
    cut(x, x.ndim() - 1, k, x.shape()[x.ndim() - 1], s)
}

/// The first `k` rows of `x`.
fn first_rows(x: &Array, k: usize, s: Stream) -> Result<Array> {
    cut(x, x.ndim() - 2, 0, k, s)
}

/// `Φ`: the lower (or `upper`) triangle of `x` with its diagonal halved. It is its own adjoint
/// (an elementwise weighting), which the Cholesky rule relies on.
fn half_diagonal(x: &Array, upper: bool, s: Stream) -> Result<Array> {
    let n = x.shape()[x.ndim() - 1];
    let dt = x.dtype();
    let half = multiply(&eye(n, None, 0, dt, s)?, &constant(0.5, dt, s)?, s)?;
    let lower = subtract(&tri(n, None, 0, dt, s)?, &half, s)?;
    let w = if upper { t(&lower, s)? } else { lower };
    multiply(x, &w, s)
}

/// The gradient on the read triangle of a matrix whose symmetric reading `Σ` has gradient `S`
/// (see the module doc): `S_ij + S_ji` off the diagonal, `S_ii` on it.
fn onto_triangle(sym: &Array, upper: bool, s: Stream) -> Result<Array> {
    half_diagonal(&add(sym, &t(sym, s)?, s)?, upper, s)
}

/// `F` with `F_ij = 1 / (d_j - d_i)` off the diagonal and 0 on it, for `d` `(..., k)`.
fn gaps(d: &Array, s: Stream) -> Result<Array> {
    let k = d.shape()[d.ndim() - 1];
    let dt = d.dtype();
    let i = eye(k, None, 0, dt, s)?;
    // d_j - d_i, with 1 on the diagonal, so the reciprocal is finite there and the mask (not a
    // `where` after an infinity, whose derivative would be NaN) makes it 0.
    let diff = subtract(&expand_dims(d, &[-2], s)?, &expand_dims(d, &[-1], s)?, s)?;
    let off = subtract(&ops::ones(&[k, k], dt, s)?, &i, s)?;
    multiply(&off, &reciprocal(&add(&diff, &i, s)?, s)?, s)
}

/// `Y = A⁻¹` (or of a triangle): `dY = -Y dA Y`, so `dA = -Yᵀ G Yᵀ`. For `tri_inv` the caller
/// keeps the read triangle (a triangular `dA` gives a triangular `dY`, so `G`'s other triangle,
/// constant zeros, adds nothing there).
fn inverse(y: &Array, gy: &Array, s: Stream) -> Result<Array> {
    let yt = t(y, s)?;
    negative(&mm3(&yt, gy, &yt, s)?, s)
}

/// `X = A⁻¹ B` (`triangular`: `Some(upper)`, `A` one triangle): `dB = A⁻ᵀ G`, a solve with `Aᵀ`
/// (its other triangle for a triangular `A`), and `dA = -dB Xᵀ`, kept on the read triangle. The
/// node's inputs are already broadcast to one batch and `B` is `(..., n, r)` (the builder made a
/// vector `(n, 1)`), so both cotangents have the inputs' shapes.
fn solve(
    triangular: Option<bool>,
    inputs: &[Array],
    out: &Array,
    g: &Array,
    wants: &[bool],
    s: Stream,
) -> Result<Vec<Option<Array>>> {
    let (a, b) = (&inputs[0], &inputs[1]);
    let (n, r) = (b.shape()[b.ndim() - 2], b.shape()[b.ndim() - 1]);
    let gx = piece(g, 0, &[n, r], s)?;
    let at = t(a, s)?;
    let gb = match triangular {
        None => ops::solve(&at, &gx, s)?,
        Some(upper) => ops::solve_triangular(&at, &gx, !upper, s)?,
    };
    let ga = if wants[0] {
        let x = piece(out, 0, &[n, r], s)?;
        let full = negative(&matmul(&gb, &t(&x, s)?, s)?, s)?;
        Some(match triangular {
            None => full,
            Some(upper) => triangle(&full, upper, s)?,
        })
    } else {
        None
    };
    Ok(vec![ga, wants[1].then_some(gb)])
}

/// Pieces `[sign, log|det|, det]`: `d log|det| = <A⁻ᵀ, dA>` and `d det = det <A⁻ᵀ, dA>`; the
/// sign is piecewise constant. So `dA = (G_log + G_det det) A⁻ᵀ`.
fn slogdet(a: &Array, out: &Array, g: &Array, s: Stream) -> Result<Array> {
    let det = piece(out, 2, &[1, 1], s)?;
    let coef = add(
        &piece(g, 1, &[1, 1], s)?,
        &multiply(&piece(g, 2, &[1, 1], s)?, &det, s)?,
        s,
    )?;
    multiply(&coef, &t(&ops::inv(a, s)?, s)?, s)
}

/// `Σ = L Lᵀ` (`upper`: `Σ = Uᵀ U`, the same with `L = Uᵀ`). From `dL = L Φ(L⁻¹ dΣ L⁻ᵀ)` and
/// `Φ` its own adjoint: `<Ḡ, dL> = <S, dΣ>` with `S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹`, `Ḡ` the cotangent's
/// lower triangle (the factor's other triangle is constant zeros). `S` is not symmetric;
/// [`onto_triangle`] puts it on the triangle that was read.
fn cholesky(out: &Array, g: &Array, n: usize, upper: bool, s: Stream) -> Result<Array> {
    let (f, gf) = (piece(out, 0, &[n, n], s)?, piece(g, 0, &[n, n], s)?);
    let (l, gl) = if upper {
        (t(&f, s)?, t(&gf, s)?)
    } else {
        (f, gf)
    };
    let gl = tril(&gl, 0, s)?;
    let p = half_diagonal(&matmul(&t(&l, s)?, &gl, s)?, false, s)?;
    let li = ops::tri_inv(&l, false, s)?;
    let sym = mm3(&t(&li, s)?, &p, &li, s)?;
    onto_triangle(&sym, upper, s)
}

/// Eigenvalues `w` ascending, vectors `V` (columns) of `Σ`: `dw_i = v_iᵀ dΣ v_i` and
/// `dV = V (F ∘ (Vᵀ dΣ V))` with `F_ij = 1/(w_j - w_i)` (0 on the diagonal), so
/// `S = V (diag(G_w) + F ∘ (Vᵀ G_V)) Vᵀ`, put on the read triangle. `eigvalsh` has no vectors
/// in its output; the rule computes them (an `eigh` node, so grad of grad goes through its rule).
fn eigh(
    a: &Array,
    out: &Array,
    g: &Array,
    n: usize,
    upper: bool,
    vectors: bool,
    s: Stream,
) -> Result<Array> {
    let gw = piece(g, 0, &[n], s)?;
    let mut inner = diag_embed(&gw, s)?;
    let v = if vectors {
        let v = piece(out, n, &[n, n], s)?;
        let gv = piece(g, n, &[n, n], s)?;
        let w = piece(out, 0, &[n], s)?;
        let f = multiply(&gaps(&w, s)?, &matmul(&t(&v, s)?, &gv, s)?, s)?;
        inner = add(&inner, &f, s)?;
        v
    } else {
        ops::eigh(a, if upper { "U" } else { "L" }, s)?.1
    };
    let sym = mm3(&v, &inner, &t(&v, s)?, s)?;
    onto_triangle(&sym, upper, s)
}

/// `A = U diag(σ) Vᵀ` over the first `k = min(m, n)` columns of `U` and `V`. With `P = Uᵀ dA V`:
/// `dσ = diag(P)`, `Uᵀ dU = F ∘ (P Σ + Σ Pᵀ)`, `Vᵀ dV = F ∘ (Σ P + Pᵀ Σ)` with
/// `F_ij = 1/(σ_j² - σ_i²)`, and the parts outside the spans `(I - UUᵀ) dA V Σ⁻¹` of `dU` and
/// `(I - VVᵀ) dAᵀ U Σ⁻¹` of `dV`. Transposed:
///
/// `dA = U (J Σ + diag(G_σ) + Σ K) Vᵀ + (I - UUᵀ) G_U Σ⁻¹ Vᵀ + U Σ⁻¹ G_Vᵀ (I - VVᵀ)`,
/// `J = F ∘ (Uᵀ G_U - G_Uᵀ U)`, `K = F ∘ (Vᵀ G_V - G_Vᵀ V)`
///
/// (the last two terms only for a rectangular `A`, on its longer side). Without vectors only
/// `U diag(G_σ) Vᵀ` remains, with `U` and `V` computed by an `svd` node.
fn svd(
    a: &Array,
    out: &Array,
    g: &Array,
    m: usize,
    n: usize,
    vectors: bool,
    s: Stream,
) -> Result<Array> {
    let k = m.min(n);
    if !vectors {
        let gs = piece(g, 0, &[k], s)?;
        let parts = ops::svd(a, true, s)?;
        let u = first_cols(&parts[0], k, s)?;
        let vt = first_rows(&parts[2], k, s)?;
        return matmul(&scale_cols(&u, &gs, s)?, &vt, s);
    }
    let thin = |x: &Array| -> Result<(Array, Array, Array)> {
        Ok((
            first_cols(&piece(x, 0, &[m, m], s)?, k, s)?,
            piece(x, m * m, &[k], s)?,
            t(&first_rows(&piece(x, m * m + k, &[n, n], s)?, k, s)?, s)?,
        ))
    };
    let (u, sv, v) = thin(out)?;
    let (gu, gs, gv) = thin(g)?;
    let f = gaps(&multiply(&sv, &sv, s)?, s)?;
    let (ut_gu, vt_gv) = (matmul(&t(&u, s)?, &gu, s)?, matmul(&t(&v, s)?, &gv, s)?);
    let j = multiply(&f, &subtract(&ut_gu, &t(&ut_gu, s)?, s)?, s)?;
    let kk = multiply(&f, &subtract(&vt_gv, &t(&vt_gv, s)?, s)?, s)?;
    let inner = add(
        &add(&scale_cols(&j, &sv, s)?, &diag_embed(&gs, s)?, s)?,
        &scale_rows(&sv, &kk, s)?,
        s,
    )?;
    let mut ga = mm3(&u, &inner, &t(&v, s)?, s)?;
    let inv_s = reciprocal(&sv, s)?;
    // `Uᵀ G_U` and `Vᵀ G_V` are already at hand: `(I - UUᵀ) G_U = G_U - U (Uᵀ G_U)`.
    if m > k {
        let off = subtract(&gu, &matmul(&u, &ut_gu, s)?, s)?;
        ga = add(
            &ga,
            &matmul(&scale_cols(&off, &inv_s, s)?, &t(&v, s)?, s)?,
            s,
        )?;
    }
    if n > k {
        let off = subtract(&gv, &matmul(&v, &vt_gv, s)?, s)?;
        ga = add(
            &ga,
            &matmul(&scale_cols(&u, &inv_s, s)?, &t(&off, s)?, s)?,
            s,
        )?;
    }
    Ok(ga)
}

/// `A = Q R`. For `m >= n` (`R` square, invertible): with `C = Qᵀ dA R⁻¹`, `Qᵀ dQ` is
/// antisymmetric and `dR R⁻¹` upper triangular, so `Qᵀ dQ = Ω = tril(C, -1) - tril(C, -1)ᵀ`,
/// `dR = (C - Ω) R`, `dQ = dA R⁻¹ - Q (C - Ω)`. Transposed, with `N = G_R Rᵀ - Qᵀ G_Q` and `Z`
/// the symmetric matrix with `N`'s upper triangle:
///
/// `dA = (G_Q + Q Z) R⁻ᵀ`.
///
/// For `m < n`, `A = [A₁ A₂]` with `A₁` square: `R = [X Y]` where `A₁ = Q X` is a square QR
/// (the Householder reflections see only `A₁`'s columns) and `Y = Qᵀ A₂`. So `dA₂ = Q G_Y`, and
/// `A₁` gets the square rule with `G_Q + A₂ G_Yᵀ` (what `Y` adds to `Q`'s cotangent).
fn qr(a: &Array, out: &Array, g: &Array, m: usize, n: usize, s: Stream) -> Result<Array> {
    let k = m.min(n);
    let q = piece(out, 0, &[m, k], s)?;
    let r = piece(out, m * k, &[k, n], s)?;
    let gq = piece(g, 0, &[m, k], s)?;
    let gr = piece(g, m * k, &[k, n], s)?;
    if m >= n {
        return qr_square(&q, &r, &gq, &gr, s);
    }
    let (x, gx) = (first_cols(&r, m, s)?, first_cols(&gr, m, s)?);
    let (a2, gy) = (last_cols(a, m, s)?, last_cols(&gr, m, s)?);
    let gq = add(&gq, &matmul(&a2, &t(&gy, s)?, s)?, s)?;
    let ga1 = qr_square(&q, &x, &gq, &gx, s)?;
    concatenate(&[ga1, matmul(&q, &gy, s)?], Some(-1), s)
}

/// The rule of `A = Q R` with `R` square (see [`qr`]); `G_R`'s lower triangle (constant zeros
/// of `R`) is dropped.
fn qr_square(q: &Array, r: &Array, gq: &Array, gr: &Array, s: Stream) -> Result<Array> {
    let gr = triu(gr, 0, s)?;
    let nn = subtract(&matmul(&gr, &t(r, s)?, s)?, &matmul(&t(q, s)?, gq, s)?, s)?;
    let z = add(&triu(&nn, 0, s)?, &t(&triu(&nn, 1, s)?, s)?, s)?;
    let lhs = add(gq, &matmul(q, &z, s)?, s)?;
    matmul(&lhs, &t(&ops::tri_inv(r, true, s)?, s)?, s)
}
