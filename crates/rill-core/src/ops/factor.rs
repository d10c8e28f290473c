//! `mx.linalg`: factorizations, solves, inverses, determinants, norms and the cross product.
//!
//! Every function works on the last two dims and batches over the rest. The factorizations are
//! `Op::Factor` nodes (CPU kernels in `backend/cpu/factor.rs`; a GPU stream runs them through
//! the CPU fallback, where MLX asks for `stream=cpu`): one node per call writes every result of
//! a matrix packed into its last dim, and the builder slices the results out of it (views). The
//! rest (`det`, `cholesky_inv`, `lu`, `norm`, `cross`) is composed from those and ordinary ops.
//!
//! Dtypes as MLX: float32 and float64 only (`det`/`slogdet` also take integers and bool, as
//! float32); results keep the input's dtype, except `eig`/`eigvals`, which are complex64. Errors
//! name the op, the shapes and the dtypes. Not here yet: complex inputs to `eigh`/`eigvalsh`.

use super::{
    abs, astype, broadcast_to, expand_dims, make, matmul, max, min, multiply, not_equal, power,
    reshape, slice, sqrt, squeeze, stack, subtract, sum, swapaxes, take,
};
use crate::op::{FactorOp, Op};
use crate::shape::{broadcast_shapes, normalize_axis};
use crate::{promote_types, Array, Dtype, Error, Result, Stream, StreamOrDevice};

/// Checks that `a` holds matrices of a dtype the factorizations take (`square`: n x n).
fn check(name: &'static str, a: &Array, square: bool) -> Result<()> {
    if a.ndim() < 2 {
        return Err(Error::shape(
            name,
            format!(
                "arrays must have at least 2 dimensions, got shape {:?}",
                a.shape()
            ),
        ));
    }
    if !matches!(a.dtype(), Dtype::Float32 | Dtype::Float64) {
        return Err(Error::dtype(
            name,
            format!(
                "arrays must have type float32 or float64, got {} of shape {:?}",
                a.dtype(),
                a.shape()
            ),
        ));
    }
    let nd = a.ndim();
    if square && a.shape()[nd - 1] != a.shape()[nd - 2] {
        return Err(Error::shape(
            name,
            format!("expects square matrices, got shape {:?}", a.shape()),
        ));
    }
    Ok(())
}

fn batch_of(a: &Array) -> Vec<usize> {
    a.shape()[..a.ndim() - 2].to_vec()
}

/// One `Op::Factor` node: `per` packed values per matrix of `inputs[0]`.
fn factor(op: FactorOp, inputs: Vec<Array>, per: usize, stream: Stream) -> Result<Array> {
    let mut shape = batch_of(&inputs[0]);
    shape.push(per);
    let dtype = inputs[0].dtype();
    make(op.name(), shape, dtype, stream, Op::Factor(op), inputs)
}

/// The packed values `[offset, offset + prod(tail))` of every matrix, shaped `batch + tail`
/// (also how the rules of `transforms/rules/factor.rs` unpack an output and its cotangent).
pub(crate) fn piece(
    packed: &Array,
    offset: usize,
    tail: &[usize],
    stream: Stream,
) -> Result<Array> {
    let nd = packed.ndim();
    let len: usize = tail.iter().product();
    let mut start = vec![0isize; nd];
    let mut stop: Vec<isize> = packed.shape().iter().map(|&d| d as isize).collect();
    start[nd - 1] = offset as isize;
    stop[nd - 1] = (offset + len) as isize;
    let p = slice(packed, &start, &stop, &vec![1; nd], stream)?;
    let mut shape: Vec<isize> = packed.shape()[..nd - 1]
        .iter()
        .map(|&d| d as isize)
        .collect();
    shape.extend(tail.iter().map(|&d| d as isize));
    reshape(&p, &shape, stream)
}

fn dims(a: &Array) -> (usize, usize) {
    let nd = a.ndim();
    (a.shape()[nd - 2], a.shape()[nd - 1])
}

/// The inverse of each square matrix; a singular one fails the op when it runs.
pub fn inv(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("inv")?;
    check("inv", a, true)?;
    let (n, _) = dims(a);
    let p = factor(FactorOp::Inv, vec![a.clone()], n * n, stream)?;
    piece(&p, 0, &[n, n], stream)
}

/// The inverse of the lower (or `upper`) triangle of each square matrix (the other triangle is
/// not read).
pub fn tri_inv(a: &Array, upper: bool, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("tri_inv")?;
    check("tri_inv", a, true)?;
    let (n, _) = dims(a);
    let p = factor(FactorOp::TriInv { upper }, vec![a.clone()], n * n, stream)?;
    piece(&p, 0, &[n, n], stream)
}

/// The Cholesky factor of each symmetric positive definite matrix, read from its lower (or
/// `upper`) triangle: `L` with `a = L Lᵀ` (or `U` with `a = Uᵀ U`).
pub fn cholesky(a: &Array, upper: bool, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("cholesky")?;
    check("cholesky", a, true)?;
    let (n, _) = dims(a);
    let p = factor(FactorOp::Cholesky { upper }, vec![a.clone()], n * n, stream)?;
    piece(&p, 0, &[n, n], stream)
}

/// The inverse of `a = L Lᵀ` (or `Uᵀ U`) from its Cholesky factor `l` (MLX's `cholesky_inv`
/// takes the factor, not `a`).
pub fn cholesky_inv(l: &Array, upper: bool, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("cholesky_inv")?;
    check("cholesky_inv", l, true)?;
    let li = tri_inv(l, upper, stream)?;
    let lit = swapaxes(&li, -1, -2, stream)?;
    // (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹; (Uᵀ U)⁻¹ = U⁻¹ U⁻ᵀ.
    if upper {
        matmul(&li, &lit, stream)
    } else {
        matmul(&lit, &li, stream)
    }
}

/// LU with partial pivoting, as LAPACK's `getrf`: the packed `L\U` factors (`(..., m, n)`) and
/// the pivots (`(..., k)` uint32, `k = min(m, n)`: row `i` was swapped with row `pivots[i]`).
pub fn lu_factor(a: &Array, s: impl Into<StreamOrDevice>) -> Result<(Array, Array)> {
    let stream = s.into().resolve("lu_factor")?;
    check("lu_factor", a, false)?;
    let (m, n) = dims(a);
    let k = m.min(n);
    let p = factor(FactorOp::LuFactor, vec![a.clone()], m * n + k + m, stream)?;
    let lu = piece(&p, 0, &[m, n], stream)?;
    let piv = astype(&piece(&p, m * n, &[k], stream)?, Dtype::Uint32, stream)?;
    Ok((lu, piv))
}

/// The packed LU factors, the pivots and the row order, from one `LuFactor` node.
fn lu_parts(a: &Array, stream: Stream) -> Result<(Array, Array)> {
    let (m, n) = dims(a);
    let k = m.min(n);
    let p = factor(FactorOp::LuFactor, vec![a.clone()], m * n + k + m, stream)?;
    let lu = piece(&p, 0, &[m, n], stream)?;
    let order = astype(&piece(&p, m * n + k, &[m], stream)?, Dtype::Uint32, stream)?;
    Ok((lu, order))
}

/// `(p, L, U)` with `a = L[p] @ U` (MLX's `lu`): `p` the row permutation `(..., m)` uint32, `L`
/// unit lower `(..., m, k)`, `U` upper `(..., k, n)`.
pub fn lu(a: &Array, s: impl Into<StreamOrDevice>) -> Result<(Array, Array, Array)> {
    let stream = s.into().resolve("lu")?;
    check("lu", a, false)?;
    let (m, n) = dims(a);
    let k = m.min(n);
    let (packed, p) = lu_parts(a, stream)?;
    // L: the part below the diagonal plus the unit diagonal; U: on and above it.
    let rows = super::arange(0.0, m as f64, 1.0, Some(Dtype::Int32), stream)?;
    let cols = super::arange(0.0, n as f64, 1.0, Some(Dtype::Int32), stream)?;
    let r = reshape(&rows, &[m as isize, 1], stream)?;
    let below = super::greater(&r, &cols, stream)?;
    let diag = super::equal(&r, &cols, stream)?;
    let zero = Array::scalar(0.0f32);
    let one = Array::scalar(1.0f32);
    let dt = a.dtype();
    let lower = super::where_(
        &below,
        &packed,
        &astype(&super::where_(&diag, &one, &zero, stream)?, dt, stream)?,
        stream,
    )?;
    let upper = super::where_(
        &super::logical_not(&below, stream)?,
        &packed,
        &astype(&zero, dt, stream)?,
        stream,
    )?;
    let nd = a.ndim() as isize;
    let mut lstop: Vec<isize> = lower.shape().iter().map(|&d| d as isize).collect();
    lstop[(nd - 1) as usize] = k as isize;
    let zeros = vec![0isize; nd as usize];
    let ones = vec![1isize; nd as usize];
    let l = slice(&lower, &zeros, &lstop, &ones, stream)?;
    let mut ustop: Vec<isize> = upper.shape().iter().map(|&d| d as isize).collect();
    ustop[(nd - 2) as usize] = k as isize;
    let u = slice(&upper, &zeros, &ustop, &ones, stream)?;
    Ok((p, l, u))
}

/// `(sign, log|det|)` of each square matrix (sign 0 and log -inf for a singular one).
pub fn slogdet(a: &Array, s: impl Into<StreamOrDevice>) -> Result<(Array, Array)> {
    let stream = s.into().resolve("slogdet")?;
    let a = det_input("slogdet", a, stream)?;
    let p = factor(FactorOp::Slogdet, vec![a.clone()], 3, stream)?;
    Ok((piece(&p, 0, &[], stream)?, piece(&p, 1, &[], stream)?))
}

/// The determinant of each square matrix (from its LU factors).
pub fn det(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("det")?;
    let a = det_input("det", a, stream)?;
    let p = factor(FactorOp::Slogdet, vec![a.clone()], 3, stream)?;
    piece(&p, 2, &[], stream)
}

fn det_input(name: &'static str, a: &Array, stream: Stream) -> Result<Array> {
    if a.dtype().is_complex() {
        return Err(Error::dtype(
            name,
            format!(
                "complex inputs are not supported (complex64 of shape {:?})",
                a.shape()
            ),
        ));
    }
    let a = if matches!(a.dtype(), Dtype::Float32 | Dtype::Float64) {
        a.clone()
    } else if a.dtype().is_inexact() {
        // float16/bfloat16: refused as MLX does (through check below)
        a.clone()
    } else {
        astype(a, Dtype::Float32, stream)?
    };
    check(name, &a, true)?;
    Ok(a)
}

/// The right-hand side of a solve: `b` as `(..., n, r)` broadcast with `a`'s batch, and whether
/// it was a vector (`(n,)`, solved as one column).
fn rhs(name: &'static str, a: &Array, b: &Array, stream: Stream) -> Result<(Array, Array, bool)> {
    let (n, _) = dims(a);
    let vector = b.ndim() == 1;
    let b2 = if vector {
        reshape(b, &[b.shape()[0] as isize, 1], stream)?
    } else {
        b.clone()
    };
    if b2.ndim() < 2 || b2.shape()[b2.ndim() - 2] != n {
        return Err(Error::shape(
            name,
            format!(
                "the last dimension of the first input (shape {:?}) must match the second-to-last \
                 dimension of the second input (shape {:?})",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let r = b2.shape()[b2.ndim() - 1];
    let batch = broadcast_shapes(name, &batch_of(a), &batch_of(&b2)).map_err(|_| {
        Error::shape(
            name,
            format!(
                "the batch dimensions of shapes {:?} and {:?} cannot be broadcast together",
                a.shape(),
                b.shape()
            ),
        )
    })?;
    let mut ashape = batch.clone();
    ashape.extend([n, n]);
    let mut bshape = batch;
    bshape.extend([n, r]);
    Ok((
        broadcast_to(a, &ashape, stream)?,
        broadcast_to(&b2, &bshape, stream)?,
        vector,
    ))
}

fn solve_with(
    name: &'static str,
    op: FactorOp,
    a: &Array,
    b: &Array,
    stream: Stream,
) -> Result<Array> {
    let dt = promote_types(a.dtype(), b.dtype());
    for x in [a, b] {
        if !matches!(x.dtype(), Dtype::Float32 | Dtype::Float64) {
            return Err(Error::dtype(
                name,
                format!(
                    "arrays must have type float32 or float64, got {} {:?} and {} {:?}",
                    a.dtype(),
                    a.shape(),
                    b.dtype(),
                    b.shape()
                ),
            ));
        }
    }
    check(name, a, true)?;
    let a = astype(a, dt, stream)?;
    let b = astype(b, dt, stream)?;
    let (a, b, vector) = rhs(name, &a, &b, stream)?;
    let (n, r) = dims(&b);
    let p = factor(op, vec![a, b], n * r, stream)?;
    let x = piece(&p, 0, &[n, r], stream)?;
    if vector {
        squeeze(&x, Some(&[-1]), stream)
    } else {
        Ok(x)
    }
}

/// `x` with `a @ x = b` (`b` a vector `(n,)` or matrices `(..., n, r)`; batch dims broadcast).
pub fn solve(a: &Array, b: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("solve")?;
    solve_with("solve", FactorOp::Solve, a, b, stream)
}

/// `x` with `tri(a) @ x = b`, `tri` the lower (or `upper`) triangle of `a`.
pub fn solve_triangular(
    a: &Array,
    b: &Array,
    upper: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("solve_triangular")?;
    solve_with(
        "solve_triangular",
        FactorOp::SolveTriangular { upper },
        a,
        b,
        stream,
    )
}

/// `(Q, R)` with `a = Q R`: `Q` `(..., m, k)` with orthonormal columns, `R` `(..., k, n)` upper
/// triangular, `k = min(m, n)`.
pub fn qr(a: &Array, s: impl Into<StreamOrDevice>) -> Result<(Array, Array)> {
    let stream = s.into().resolve("qr")?;
    check("qr", a, false)?;
    let (m, n) = dims(a);
    let k = m.min(n);
    let p = factor(FactorOp::Qr, vec![a.clone()], m * k + k * n, stream)?;
    Ok((
        piece(&p, 0, &[m, k], stream)?,
        piece(&p, m * k, &[k, n], stream)?,
    ))
}

fn parse_uplo(name: &'static str, uplo: &str) -> Result<bool> {
    match uplo {
        "L" => Ok(false),
        "U" => Ok(true),
        _ => Err(Error::arg(
            name,
            format!("UPLO must be \"L\" or \"U\", got {uplo:?}"),
        )),
    }
}

fn check_eigh(name: &'static str, a: &Array) -> Result<()> {
    if a.dtype().is_complex() && a.ndim() >= 2 {
        return Err(Error::dtype(
            name,
            format!(
                "complex64 (Hermitian) matrices are not supported yet (shape {:?})",
                a.shape()
            ),
        ));
    }
    check(name, a, true)
}

/// Eigenvalues (ascending, `(..., n)`) and eigenvectors (columns, `(..., n, n)`) of each
/// symmetric matrix, read from its lower (`uplo = "L"`) or upper (`"U"`) triangle.
pub fn eigh(a: &Array, uplo: &str, s: impl Into<StreamOrDevice>) -> Result<(Array, Array)> {
    let stream = s.into().resolve("eigh")?;
    let upper = parse_uplo("eigh", uplo)?;
    check_eigh("eigh", a)?;
    let (n, _) = dims(a);
    let p = factor(
        FactorOp::Eigh {
            upper,
            vectors: true,
        },
        vec![a.clone()],
        n + n * n,
        stream,
    )?;
    Ok((piece(&p, 0, &[n], stream)?, piece(&p, n, &[n, n], stream)?))
}

/// The eigenvalues of [`eigh`] alone.
pub fn eigvalsh(a: &Array, uplo: &str, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("eigvalsh")?;
    let upper = parse_uplo("eigvalsh", uplo)?;
    check_eigh("eigvalsh", a)?;
    let (n, _) = dims(a);
    let p = factor(
        FactorOp::Eigh {
            upper,
            vectors: false,
        },
        vec![a.clone()],
        n,
        stream,
    )?;
    piece(&p, 0, &[n], stream)
}

/// The singular value decomposition of each matrix: with `compute_uv`, `[U (..., m, m), S (...,
/// k), Vt (..., n, n)]` with `a = U[..., :k] diag(S) Vt[..., :k, :]`, singular values descending;
/// else `[S]`.
pub fn svd(a: &Array, compute_uv: bool, s: impl Into<StreamOrDevice>) -> Result<Vec<Array>> {
    let stream = s.into().resolve("svd")?;
    check("svd", a, false)?;
    let (m, n) = dims(a);
    let k = m.min(n);
    let op = FactorOp::Svd {
        vectors: compute_uv,
    };
    if !compute_uv {
        let p = factor(op, vec![a.clone()], k, stream)?;
        return Ok(vec![piece(&p, 0, &[k], stream)?]);
    }
    let p = factor(op, vec![a.clone()], m * m + k + n * n, stream)?;
    Ok(vec![
        piece(&p, 0, &[m, m], stream)?,
        piece(&p, m * m, &[k], stream)?,
        piece(&p, m * m + k, &[n, n], stream)?,
    ])
}

/// The Moore-Penrose pseudo-inverse of each matrix (`(..., n, m)` for `(..., m, n)`), from its
/// SVD: singular values at most `max(m, n) * eps * largest` count as zero (NumPy's default).
pub fn pinv(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("pinv")?;
    check("pinv", a, false)?;
    let (m, n) = dims(a);
    let k = m.min(n);
    let parts = svd(a, true, stream)?;
    let (u, sv, vt) = (&parts[0], &parts[1], &parts[2]);
    let nd = a.ndim();
    let eps = match a.dtype() {
        Dtype::Float64 => f64::EPSILON,
        _ => f32::EPSILON as f64,
    };
    let largest = max(sv, Some(&[-1]), true, stream)?;
    let cutoff = multiply(
        &largest,
        &astype(&Array::scalar(m.max(n) as f64 * eps), a.dtype(), stream)?,
        stream,
    )?;
    let keep = super::greater(sv, &cutoff, stream)?;
    let one = astype(&Array::scalar(1.0f64), a.dtype(), stream)?;
    let zero = astype(&Array::scalar(0.0f64), a.dtype(), stream)?;
    let safe = super::where_(&keep, sv, &one, stream)?;
    let inv_s = super::where_(&keep, &super::divide(&one, &safe, stream)?, &zero, stream)?;
    // V[..., :, :k] * (1/S) @ U[..., :, :k]ᵀ
    let lo = vec![0isize; nd];
    let mut hi_u: Vec<isize> = u.shape().iter().map(|&d| d as isize).collect();
    hi_u[nd - 1] = k as isize;
    let uk = slice(u, &lo, &hi_u, &vec![1; nd], stream)?;
    let mut hi_v: Vec<isize> = vt.shape().iter().map(|&d| d as isize).collect();
    hi_v[nd - 2] = k as isize;
    let vk = slice(vt, &lo, &hi_v, &vec![1; nd], stream)?;
    let scaled = multiply(
        &swapaxes(&vk, -1, -2, stream)?,
        &expand_dims(&inv_s, &[-2], stream)?,
        stream,
    )?;
    matmul(&scaled, &swapaxes(&uk, -1, -2, stream)?, stream)
}

fn general_eig(
    name: &'static str,
    a: &Array,
    vectors: bool,
    stream: Stream,
) -> Result<(Array, Option<Array>)> {
    check(name, a, true)?;
    let (n, _) = dims(a);
    let per = if vectors { n + n * n } else { n };
    let mut shape = batch_of(a);
    shape.push(per);
    let p = make(
        name,
        shape,
        Dtype::Complex64,
        stream,
        Op::Factor(FactorOp::Eig { vectors }),
        vec![a.clone()],
    )?;
    let values = piece(&p, 0, &[n], stream)?;
    let vecs = if vectors {
        Some(piece(&p, n, &[n, n], stream)?)
    } else {
        None
    };
    Ok((values, vecs))
}

/// The eigenvalues `(..., n)` and unit eigenvectors (columns, `(..., n, n)`) of each general
/// square matrix, complex64 (real matrices may have complex eigenvalues). The order is the one the
/// algorithm finds them in, as LAPACK's is (NumPy's and MLX's differ from each other too).
pub fn eig(a: &Array, s: impl Into<StreamOrDevice>) -> Result<(Array, Array)> {
    let stream = s.into().resolve("eig")?;
    let (w, v) = general_eig("eig", a, true, stream)?;
    Ok((w, v.expect("eig computes vectors")))
}

/// The eigenvalues of [`eig`] alone.
pub fn eigvals(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("eigvals")?;
    Ok(general_eig("eigvals", a, false, stream)?.0)
}

/// The `ord` of [`norm`]: a number (`inf`, `-inf`, `0`, `1`, `2`, any `p`) or a name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormOrd {
    P(f64),
    Fro,
    Nuc,
}

impl std::fmt::Display for NormOrd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NormOrd::P(p) => write!(f, "{p}"),
            NormOrd::Fro => f.write_str("'fro'"),
            NormOrd::Nuc => f.write_str("'nuc'"),
        }
    }
}

/// Vector and matrix norms, NumPy's and MLX's `norm`: with no `ord` the 2-norm of the flattened
/// array (or of `axis`); with `ord` and one axis (or a 1-D array) a vector norm (`sum |x|^p`
/// to the `1/p`, `inf`/`-inf` max/min of `|x|`, `0` the count of non-zeros); with two axes (or a
/// 2-D array) a matrix norm (`fro`, `nuc`, `1`/`-1` max/min column sum, `inf`/`-inf` max/min
/// row sum, `2`/`-2` the largest/smallest singular value). Integer inputs give float32, complex
/// inputs their real type.
pub fn norm(
    a: &Array,
    ord: Option<NormOrd>,
    axis: Option<&[isize]>,
    keepdims: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    const NAME: &str = "norm";
    let stream = s.into().resolve(NAME)?;
    let x = match a.dtype() {
        Dtype::Complex64 => abs(a, stream)?,
        d if !d.is_inexact() => astype(a, Dtype::Float32, stream)?,
        _ => a.clone(),
    };
    let all: Vec<isize>;
    let axes: &[isize] = match axis {
        Some(ax) => ax,
        None => {
            if ord.is_none() {
                // The 2-norm of everything (keepdims keeps every dim).
                all = (0..a.ndim() as isize).collect();
                return vector_norm(&x, 2.0, &all, keepdims, stream);
            }
            all = (0..a.ndim() as isize).collect();
            &all
        }
    };
    let ord_num = ord.unwrap_or(NormOrd::P(2.0));
    match axes.len() {
        1 => match ord.unwrap_or(NormOrd::P(2.0)) {
            NormOrd::P(p) => vector_norm(&x, p, axes, keepdims, stream),
            o => Err(Error::arg(
                NAME,
                format!(
                    "norm {o} is only supported for matrices, but received 1 axis (shape {:?})",
                    a.shape()
                ),
            )),
        },
        2 => {
            let r = normalize_axis(NAME, axes[0], a.shape())?;
            let c = normalize_axis(NAME, axes[1], a.shape())?;
            if r == c {
                return Err(Error::arg(
                    NAME,
                    format!("repeated axis in {axes:?} (shape {:?})", a.shape()),
                ));
            }
            let (r, c) = (r as isize, c as isize);
            match ord {
                None | Some(NormOrd::Fro) => vector_norm(&x, 2.0, &[r, c], keepdims, stream),
                Some(NormOrd::P(p)) if p == 1.0 || p == -1.0 => {
                    let cols = sum(&abs(&x, stream)?, Some(&[r]), true, stream)?;
                    extreme(&cols, p > 0.0, c, r, keepdims, stream)
                }
                Some(NormOrd::P(p)) if p.is_infinite() => {
                    let rows = sum(&abs(&x, stream)?, Some(&[c]), true, stream)?;
                    extreme(&rows, p > 0.0, r, c, keepdims, stream)
                }
                Some(NormOrd::P(p)) if p == 2.0 || p == -2.0 => {
                    let sv = singular_values(&x, r, c, stream)?;
                    let v = if p > 0.0 {
                        max(&sv, Some(&[-1]), false, stream)?
                    } else {
                        min(&sv, Some(&[-1]), false, stream)?
                    };
                    restore_dims(&v, r, c, keepdims, stream)
                }
                Some(NormOrd::Nuc) => {
                    let sv = singular_values(&x, r, c, stream)?;
                    let v = sum(&sv, Some(&[-1]), false, stream)?;
                    restore_dims(&v, r, c, keepdims, stream)
                }
                Some(o) => Err(Error::arg(
                    NAME,
                    format!("invalid ord {o} for a matrix norm (shape {:?})", a.shape()),
                )),
            }
        }
        k => Err(Error::arg(
            NAME,
            format!(
                "received too many axes for a norm ({k} axes {axes:?}, ord {ord_num}, shape {:?})",
                a.shape()
            ),
        )),
    }
}

fn vector_norm(x: &Array, p: f64, axes: &[isize], keepdims: bool, stream: Stream) -> Result<Array> {
    let ax = abs(x, stream)?;
    if p == f64::INFINITY {
        max(&ax, Some(axes), keepdims, stream)
    } else if p == f64::NEG_INFINITY {
        min(&ax, Some(axes), keepdims, stream)
    } else if p == 0.0 {
        let zero = astype(&Array::scalar(0.0f32), x.dtype(), stream)?;
        let nz = astype(&not_equal(x, &zero, stream)?, x.dtype(), stream)?;
        sum(&nz, Some(axes), keepdims, stream)
    } else if p == 1.0 {
        sum(&ax, Some(axes), keepdims, stream)
    } else if p == 2.0 {
        sqrt(
            &sum(&multiply(&ax, &ax, stream)?, Some(axes), keepdims, stream)?,
            stream,
        )
    } else {
        let pp = astype(&Array::scalar(p), x.dtype(), stream)?;
        let inv = astype(&Array::scalar(1.0 / p), x.dtype(), stream)?;
        let s = sum(&power(&ax, &pp, stream)?, Some(axes), keepdims, stream)?;
        power(&s, &inv, stream)
    }
}

/// The max (or min) over `axis` of sums already reduced (kept) over `kept`.
fn extreme(
    sums: &Array,
    largest: bool,
    axis: isize,
    kept: isize,
    keepdims: bool,
    stream: Stream,
) -> Result<Array> {
    let v = if largest {
        max(sums, Some(&[axis]), true, stream)?
    } else {
        min(sums, Some(&[axis]), true, stream)?
    };
    if keepdims {
        Ok(v)
    } else {
        squeeze(&v, Some(&[axis, kept]), stream)
    }
}

/// Puts back (as size 1) the two matrix dims of a value reduced over them, for keepdims.
fn restore_dims(v: &Array, r: isize, c: isize, keepdims: bool, stream: Stream) -> Result<Array> {
    if !keepdims {
        return Ok(v.clone());
    }
    let (lo, hi) = (r.min(c), r.max(c));
    let v = expand_dims(v, &[lo], stream)?;
    expand_dims(&v, &[hi], stream)
}

/// The singular values of the matrices over dims `(r, c)` of `x`, as the square roots of the
/// eigenvalues of `xᵀx` (computed in float64, then cast back): enough for the 2-norm and the
/// nuclear norm to a float32 input's precision, without an SVD.
fn singular_values(x: &Array, r: isize, c: isize, stream: Stream) -> Result<Array> {
    let nd = x.ndim() as isize;
    let dt = x.dtype();
    let perm: Vec<isize> = (0..nd)
        .filter(|&d| d != r && d != c)
        .chain([r, c])
        .collect();
    let m = super::transpose(x, Some(&perm), stream)?;
    let m = astype(&m, Dtype::Float64, stream)?;
    let mt = swapaxes(&m, -1, -2, stream)?;
    let (rows, cols) = dims(&m);
    let g = if rows >= cols {
        matmul(&mt, &m, stream)?
    } else {
        matmul(&m, &mt, stream)?
    };
    let ev = eigvalsh(&g, "L", stream)?;
    let zero = Array::scalar(0.0f64);
    let ev = super::maximum(&ev, &zero, stream)?;
    astype(&sqrt(&ev, stream)?, dt, stream)
}

/// The cross product of 3-vectors (or 2-vectors, taken with a zero third component) along
/// `axis`; `a` and `b` broadcast.
pub fn cross(a: &Array, b: &Array, axis: isize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    const NAME: &str = "cross";
    let stream = s.into().resolve(NAME)?;
    let ax_a = normalize_axis(NAME, axis, a.shape())?;
    let ax_b = normalize_axis(NAME, axis, b.shape())?;
    let (la, lb) = (a.shape()[ax_a], b.shape()[ax_b]);
    if !matches!(la, 2 | 3) || !matches!(lb, 2 | 3) {
        return Err(Error::shape(
            NAME,
            format!(
                "the vectors along axis {axis} must have 2 or 3 components, got shapes {:?} and {:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let dt = promote_types(a.dtype(), b.dtype());
    let comps = |x: &Array, ax: usize, len: usize| -> Result<Vec<Array>> {
        let x = astype(x, dt, stream)?;
        let mut v = (0..len)
            .map(|i| {
                let idx = Array::scalar(i as i32);
                take(&x, &idx, Some(ax as isize), stream)
            })
            .collect::<Result<Vec<_>>>()?;
        if len == 2 {
            v.push(multiply(
                &v[0],
                &astype(&Array::scalar(0i32), dt, stream)?,
                stream,
            )?);
        }
        Ok(v)
    };
    let (x, y) = (comps(a, ax_a, la)?, comps(b, ax_b, lb)?);
    let term = |i: usize, j: usize| -> Result<Array> {
        subtract(
            &multiply(&x[i], &y[j], stream)?,
            &multiply(&x[j], &y[i], stream)?,
            stream,
        )
    };
    let parts = [term(1, 2)?, term(2, 0)?, term(0, 1)?];
    // The components were taken out of `axis`; they go back in at the same place, counted from
    // the end (so broadcasting leading dims does not move it).
    let out_nd = parts[0].ndim() as isize + 1;
    let pos = axis_from_end(axis, a.ndim(), b.ndim(), out_nd);
    stack(&parts, pos, stream)
}

/// Where the component axis lands in the broadcast result: `axis` counted from the end when
/// negative; a non-negative axis keeps its distance from the end of the longer input.
fn axis_from_end(axis: isize, nda: usize, ndb: usize, out_nd: isize) -> isize {
    if axis < 0 {
        out_nd + axis
    } else {
        let from_end = nda.max(ndb) as isize - axis;
        out_nd - from_end
    }
}
