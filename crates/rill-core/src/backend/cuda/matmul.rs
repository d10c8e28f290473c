//! Matrix products (`Matmul`, `AddMm`) through cuBLASLt.
//!
//! rill's matrices are row-major; cuBLASLt's are column-major. A row-major `(m, k)` matrix with
//! leading dimension `ld` *is* a column-major `(k, m)` one, so `D = A @ B` is computed as
//! `D^T = B^T @ A^T` with the operands swapped and no data moved; an operand whose matrices are
//! column-major in memory (a transposed view) is passed with a transpose flag instead. Batch
//! dims (broadcast already, stride 0 where an operand repeats) become cuBLASLt's strided batch
//! when they merge into one; otherwise each matrix of the batch is its own call. An operand with
//! any other layout is first copied contiguous on the stream.
//!
//! float32 computes in float32 (TF32 off, as PyTorch's default) unless [`set_allow_tf32`] turned
//! TF32 on (or `RILL_ALLOW_TF32=1`); float16 and bfloat16 accumulate in float32; float64 in
//! float64; complex64 in complex float32. `AddMm`'s `c` is first broadcast into the output, which
//! cuBLASLt then reads as C and overwrites as D (`beta * c + alpha * a @ b`).
//!
//! Rules: the cuBLASLt handle is per GPU (it holds no stream); the workspace is per stream (two
//! streams' products never share scratch memory). Descriptors and the chosen algorithm are cached
//! per GPU by problem, so a repeated shape costs one call.

use super::driver::make_current;
use super::kernels::copy_contiguous;
use super::stream::GpuStream;
use crate::backend::{Input, Output};
use crate::memory::{Buffer, Data};
use crate::op::Op;
use crate::shape::numel;
use crate::{Dtype, Error, Result};
use cudarc::cublaslt::sys as lt;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// True when cuBLASLt's library can be loaded.
pub(super) fn cublaslt_present() -> bool {
    // SAFETY: only tries to open the library.
    unsafe { lt::is_culib_present() }
}

static TF32: OnceLock<AtomicBool> = OnceLock::new();

fn tf32() -> &'static AtomicBool {
    TF32.get_or_init(|| AtomicBool::new(std::env::var("RILL_ALLOW_TF32").is_ok_and(|v| v == "1")))
}

/// Lets float32 matmuls on the GPU use TF32 tensor cores (about 10 bits of mantissa in the
/// products, much faster); returns the previous setting. Off by default.
pub fn set_allow_tf32(on: bool) -> bool {
    tf32().swap(on, Ordering::Relaxed)
}

/// Bytes of cuBLASLt workspace per stream (NVIDIA's advice for Hopper).
const WORKSPACE: usize = 32 << 20;

fn lt_check(op: &'static str, what: &str, status: lt::cublasStatus_t) -> Result<()> {
    if status == lt::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
        Ok(())
    } else {
        Err(Error::device(
            op,
            format!("cuBLASLt {what} failed: {status:?}"),
        ))
    }
}

/// One matrix operand as cuBLASLt sees it (column-major).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Operand {
    rows: u64,
    cols: u64,
    ld: i64,
    trans: bool,
    batch_stride: i64,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Key {
    dtype: Dtype,
    tf32: bool,
    a: Operand,
    b: Operand,
    m: u64,
    n: u64,
    batch: i32,
    d_batch_stride: i64,
}

/// Descriptors and the algorithm for one problem (column-major: D(n, m) = A'(n, k) @ B'(k, m)).
struct Plan {
    desc: lt::cublasLtMatmulDesc_t,
    a: lt::cublasLtMatrixLayout_t,
    b: lt::cublasLtMatrixLayout_t,
    d: lt::cublasLtMatrixLayout_t,
    algo: lt::cublasLtMatmulAlgo_t,
}

// SAFETY: descriptors are host-side structures that cuBLASLt only reads during a call; a plan is
// never changed after it is made, so sharing it between threads is sound.
unsafe impl Send for Plan {}
// SAFETY: as above.
unsafe impl Sync for Plan {}

#[derive(Default)]
pub(super) struct Plans {
    map: Mutex<HashMap<Key, &'static Plan>>,
}

fn types(
    d: Dtype,
    allow_tf32: bool,
) -> Option<(lt::cudaDataType, lt::cublasComputeType_t, lt::cudaDataType)> {
    use lt::cublasComputeType_t as C;
    use lt::cudaDataType as T;
    Some(match d {
        Dtype::Float32 if allow_tf32 => (
            T::CUDA_R_32F,
            C::CUBLAS_COMPUTE_32F_FAST_TF32,
            T::CUDA_R_32F,
        ),
        Dtype::Float32 => (T::CUDA_R_32F, C::CUBLAS_COMPUTE_32F, T::CUDA_R_32F),
        Dtype::Float16 => (T::CUDA_R_16F, C::CUBLAS_COMPUTE_32F, T::CUDA_R_32F),
        Dtype::Bfloat16 => (T::CUDA_R_16BF, C::CUBLAS_COMPUTE_32F, T::CUDA_R_32F),
        Dtype::Float64 => (T::CUDA_R_64F, C::CUBLAS_COMPUTE_64F, T::CUDA_R_64F),
        Dtype::Complex64 => (T::CUDA_C_32F, C::CUBLAS_COMPUTE_32F, T::CUDA_C_32F),
        _ => return None,
    })
}

fn layout(
    op: &'static str,
    ty: lt::cudaDataType,
    rows: u64,
    cols: u64,
    ld: i64,
    batch: i32,
    stride: i64,
) -> Result<lt::cublasLtMatrixLayout_t> {
    let mut l = std::ptr::null_mut();
    // SAFETY: valid out-pointer; plain values.
    lt_check(op, "layout", unsafe {
        lt::cublasLtMatrixLayoutCreate(&mut l, ty, rows, cols, ld)
    })?;
    if batch > 1 {
        // SAFETY: the attributes take an int32 and an int64, passed by pointer with their sizes.
        unsafe {
            lt_check(
                op,
                "batch count",
                lt::cublasLtMatrixLayoutSetAttribute(
                    l,
                    lt::cublasLtMatrixLayoutAttribute_t::CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                    &batch as *const i32 as *const c_void,
                    4,
                ),
            )?;
            lt_check(
                op,
                "batch stride",
                lt::cublasLtMatrixLayoutSetAttribute(
                    l,
                    lt::cublasLtMatrixLayoutAttribute_t::CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                    &stride as *const i64 as *const c_void,
                    8,
                ),
            )?;
        }
    }
    Ok(l)
}

fn plan(op: &'static str, s: &'static GpuStream, key: &Key) -> Result<&'static Plan> {
    // Each thread keeps the plans it used, as `compile.rs` does the kernels: the shared map's
    // mutex would make threads draining different streams take turns on every matmul. Plans are
    // never freed, so a remembered one stays valid.
    thread_local! {
        static SEEN: std::cell::RefCell<HashMap<(usize, Key), &'static Plan>> =
            std::cell::RefCell::new(HashMap::new());
    }
    let gpu = s.gpu;
    let id = (gpu as *const super::gpu::Gpu as usize, key.clone());
    if let Some(p) = SEEN.with(|m| m.borrow().get(&id).copied()) {
        return Ok(p);
    }
    if let Some(&p) = gpu.plans.map.lock().unwrap().get(key) {
        SEEN.with(|m| m.borrow_mut().insert(id, p));
        return Ok(p);
    }
    let handle = handle(op, s)?;
    let (ty, compute, scale) = types(key.dtype, key.tf32)
        .ok_or_else(|| Error::device(op, format!("no GPU matmul for {}", key.dtype)))?;
    let mut desc = std::ptr::null_mut();
    // SAFETY: valid out-pointer; plain values.
    lt_check(op, "descriptor", unsafe {
        lt::cublasLtMatmulDescCreate(&mut desc, compute, scale)
    })?;
    let trans = |t: bool| if t { 1i32 } else { 0i32 };
    // SAFETY: TRANSA/TRANSB take a cublasOperation_t (an int32: 0 = N, 1 = T).
    unsafe {
        lt_check(
            op,
            "transa",
            lt::cublasLtMatmulDescSetAttribute(
                desc,
                lt::cublasLtMatmulDescAttributes_t::CUBLASLT_MATMUL_DESC_TRANSA,
                &trans(key.a.trans) as *const i32 as *const c_void,
                4,
            ),
        )?;
        lt_check(
            op,
            "transb",
            lt::cublasLtMatmulDescSetAttribute(
                desc,
                lt::cublasLtMatmulDescAttributes_t::CUBLASLT_MATMUL_DESC_TRANSB,
                &trans(key.b.trans) as *const i32 as *const c_void,
                4,
            ),
        )?;
    }
    let a = layout(
        op,
        ty,
        key.a.rows,
        key.a.cols,
        key.a.ld,
        key.batch,
        key.a.batch_stride,
    )?;
    let b = layout(
        op,
        ty,
        key.b.rows,
        key.b.cols,
        key.b.ld,
        key.batch,
        key.b.batch_stride,
    )?;
    let d = layout(
        op,
        ty,
        key.n,
        key.m,
        key.n as i64,
        key.batch,
        key.d_batch_stride,
    )?;
    let mut pref = std::ptr::null_mut();
    // SAFETY: valid out-pointer.
    lt_check(op, "preference", unsafe {
        lt::cublasLtMatmulPreferenceCreate(&mut pref)
    })?;
    let ws = WORKSPACE as u64;
    // SAFETY: the attribute takes a uint64.
    lt_check(op, "workspace preference", unsafe {
        lt::cublasLtMatmulPreferenceSetAttribute(
            pref,
            lt::cublasLtMatmulPreferenceAttributes_t::CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
            &ws as *const u64 as *const c_void,
            8,
        )
    })?;
    // SAFETY: a zeroed heuristic result is a valid out-buffer; every descriptor is live.
    let mut heur: lt::cublasLtMatmulHeuristicResult_t = unsafe { std::mem::zeroed() };
    let mut count = 0;
    // SAFETY: as above.
    let status = unsafe {
        lt::cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, d, d, pref, 1, &mut heur, &mut count)
    };
    // SAFETY: `pref` was created above and is no longer used.
    unsafe { lt::cublasLtMatmulPreferenceDestroy(pref) };
    lt_check(op, "algorithm heuristic", status)?;
    if count == 0 {
        return Err(Error::device(
            op,
            format!(
                "cuBLASLt has no algorithm for a {} matmul of {key:?}",
                key.dtype
            ),
        ));
    }
    let p: &'static Plan = Box::leak(Box::new(Plan {
        desc,
        a,
        b,
        d,
        algo: heur.algo,
    }));
    gpu.plans.map.lock().unwrap().insert(key.clone(), p);
    Ok(p)
}

fn handle(op: &'static str, s: &GpuStream) -> Result<lt::cublasLtHandle_t> {
    let h = s.gpu.blas.get_or_init(|| {
        let mut h = std::ptr::null_mut();
        // SAFETY: valid out-pointer; the GPU's context is current (the caller's make_current).
        let status = unsafe { lt::cublasLtCreate(&mut h) };
        if status == lt::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            Ok(h as usize)
        } else {
            Err(format!("{status:?}"))
        }
    });
    match h {
        Ok(h) => Ok(*h as lt::cublasLtHandle_t),
        Err(e) => Err(Error::device(op, format!("cuBLASLt could not start: {e}"))),
    }
}

/// This stream's workspace (made on first use, kept for the life of the stream).
fn workspace(op: &'static str, s: &'static GpuStream) -> Result<u64> {
    let mut ws = s.workspace.lock().unwrap();
    if let Some(b) = ws.as_ref() {
        return Ok(b.as_ptr() as u64);
    }
    let b: Buffer = s.gpu.memory.allocate(op, WORKSPACE, s)?;
    let addr = b.as_ptr() as u64;
    *ws = Some(b);
    Ok(addr)
}

/// The matrices of an operand of shape (..., r, c) in cuBLASLt's terms, or None when they are
/// neither row- nor column-major (then the operand is copied first).
fn matrix_of(x: &Input, r: usize, c: usize) -> Option<(i64, bool)> {
    let nd = x.shape.len();
    let st = &x.data.layout.strides;
    let (sr, sc) = (st[nd - 2], st[nd - 1]);
    if (sc == 1 || c == 1) && sr >= c.max(1) as isize {
        Some((sr as i64, false))
    } else if (sr == 1 || r == 1) && sc >= r.max(1) as isize {
        Some((sc as i64, true))
    } else {
        None
    }
}

pub(super) fn run(
    op: &Op,
    inputs: &[Input],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let name = op.name();
    let (c, a, b, alpha, beta) = match (op, inputs) {
        (Op::Matmul, [a, b]) => (None, a, b, 1.0, 0.0),
        (Op::AddMm { alpha, beta }, [c, a, b]) => (Some(c), a, b, *alpha, *beta),
        _ => return Ok(None),
    };
    let allow_tf32 = tf32().load(Ordering::Relaxed);
    if types(out.dtype, allow_tf32).is_none() || a.dtype != out.dtype || b.dtype != out.dtype {
        return Ok(None);
    }
    make_current(s.gpu.ctx)?;
    let nd = out.shape.len();
    let (m, n) = (out.shape[nd - 2], out.shape[nd - 1]);
    let k = a.shape[a.shape.len() - 1];
    let data = super::kernels::output_buffer(name, out, s)?;
    let total = numel(out.shape);
    if total == 0 {
        return Ok(Some(data));
    }
    let beta = if c.is_some() { beta } else { 0.0 };
    if let (Some(c), true) = (c, beta != 0.0) {
        super::kernels::broadcast_into(name, c, &data, out.shape, s)?;
    }
    if k == 0 {
        // An empty sum: beta * c, or zeros.
        if beta == 0.0 {
            super::kernels::zero(name, &data, s)?;
        } else if beta != 1.0 {
            return Ok(None);
        }
        return Ok(Some(data));
    }
    // Operands with plain matrices are read in place; others are copied contiguous first.
    let mut keep: Vec<Data> = Vec::new();
    let mut prepare = |x: &Input, r: usize, cc: usize| -> Result<(u64, i64, bool, Vec<isize>)> {
        let x_nd = x.shape.len();
        let batch_strides: Vec<isize> = {
            let pad = nd - x_nd;
            (0..nd - 2)
                .map(|d| {
                    if d < pad || x.shape[d - pad] == 1 {
                        0
                    } else {
                        x.data.layout.strides[d - pad]
                    }
                })
                .collect()
        };
        let addr = x.data.buffer.as_ptr() as u64 + (x.data.layout.offset * x.dtype.size()) as u64;
        // cuBLASLt's fast kernels need 16-byte aligned matrices; views that are not get copied.
        if let (Some((ld, t)), true) = (matrix_of(x, r, cc), addr.is_multiple_of(16)) {
            return Ok((addr, ld, t, batch_strides));
        }
        let copy = copy_contiguous(name, x, s)?;
        let addr = copy.buffer.as_ptr() as u64;
        let strides = crate::shape::contiguous_strides(x.shape);
        let pad = nd - x_nd;
        let bs = (0..nd - 2)
            .map(|d| {
                if d < pad || x.shape[d - pad] == 1 {
                    0
                } else {
                    strides[d - pad]
                }
            })
            .collect();
        keep.push(copy);
        Ok((addr, cc as i64, false, bs))
    };
    let (pa, lda, ta, bsa) = prepare(a, m, k)?;
    let (pb, ldb, tb, bsb) = prepare(b, k, n)?;
    let batch_shape = &out.shape[..nd - 2];
    let d_strides = crate::shape::contiguous_strides(batch_shape)
        .iter()
        .map(|&st| st * (m * n) as isize)
        .collect::<Vec<_>>();
    // Merge the batch dims (for A, B and D together).
    let (bshape, bstrides) = super::kernels::collapse_dims(batch_shape, &[bsa, bsb, d_strides]);
    let batches: usize = bshape.iter().product();
    // One strided-batch call over the innermost merged batch dim; a loop over the outer ones.
    let (inner, inner_strides) = match bshape.len() {
        0 => (1usize, [0isize, 0, 0]),
        l => (
            bshape[l - 1],
            [bstrides[0][l - 1], bstrides[1][l - 1], bstrides[2][l - 1]],
        ),
    };
    let outer = batches / inner.max(1);
    let size = out.dtype.size() as u64;
    // cuBLASLt (column-major) computes D(n, m) = B^T(n, k) @ A^T(k, m): our B is its A.
    let op_b = Operand {
        rows: if tb { k as u64 } else { n as u64 },
        cols: if tb { n as u64 } else { k as u64 },
        ld: ldb,
        trans: tb,
        batch_stride: inner_strides[1] as i64,
    };
    let op_a = Operand {
        rows: if ta { m as u64 } else { k as u64 },
        cols: if ta { k as u64 } else { m as u64 },
        ld: lda,
        trans: ta,
        batch_stride: inner_strides[0] as i64,
    };
    let key = Key {
        dtype: out.dtype,
        tf32: allow_tf32,
        a: op_b,
        b: op_a,
        m: m as u64,
        n: n as u64,
        batch: inner as i32,
        d_batch_stride: inner_strides[2] as i64,
    };
    let p = plan(name, s, &key)?;
    let ws = workspace(name, s)?;
    let handle = handle(name, s)?;
    let scal = |v: f64| -> [u64; 2] {
        match out.dtype {
            Dtype::Float64 => [v.to_bits(), 0],
            Dtype::Complex64 => [(v as f32).to_bits() as u64, 0],
            _ => [(v as f32).to_bits() as u64, 0],
        }
    };
    let (al, be) = (scal(alpha), scal(beta));
    let d_addr = data.buffer.as_ptr() as u64;
    for o in 0..outer {
        // Element offsets of this outer batch position in A, B and D.
        let mut rem = o;
        let mut offs = [0isize; 3];
        for d in (0..bshape.len().saturating_sub(1)).rev() {
            let i = rem % bshape[d];
            rem /= bshape[d];
            for (off, st) in offs.iter_mut().zip(&bstrides) {
                *off += i as isize * st[d];
            }
        }
        let at = |base: u64, off: isize| (base as i64 + off as i64 * size as i64) as u64;
        let (a_ptr, b_ptr, d_ptr) = (at(pa, offs[0]), at(pb, offs[1]), at(d_addr, offs[2]));
        // SAFETY: the plan's layouts describe exactly the matrices at these addresses (sizes,
        // leading dimensions and batch strides computed above from the inputs' layouts); D is
        // this op's fresh output, also read as C when beta != 0 (in place, same layout); the
        // workspace belongs to this stream; alpha and beta are host scalars of the scale type.
        let status = unsafe {
            lt::cublasLtMatmul(
                handle,
                p.desc,
                al.as_ptr() as *const c_void,
                b_ptr as *const c_void,
                p.a,
                a_ptr as *const c_void,
                p.b,
                be.as_ptr() as *const c_void,
                d_ptr as *const c_void,
                p.d,
                d_ptr as *mut c_void,
                p.d,
                &p.algo,
                ws as *mut c_void,
                WORKSPACE,
                s.raw as lt::cudaStream_t,
            )
        };
        lt_check(name, "matmul", status)?;
    }
    // Copies made for the call are freed on this stream, after it (stream order).
    drop(keep);
    Ok(Some(data))
}
