//! Ops along one axis on the GPU, a block per line: argmax/argmin (`Op::ArgReduce`), softmax and
//! logsumexp, and the scans (cumsum, cumprod, cummax, cummin; inclusive or exclusive, forward or
//! reversed). Semantics are the CPU kernels': the first occurrence wins ties and NaN wins over
//! numbers; softmax subtracts the line's max; a logsumexp whose max is infinite or NaN is that
//! max; scans accumulate as the reductions do (`reduce::reducer`). Complex softmax runs through
//! the CPU fallback.

use super::super::launch::{launch, BLOCK};
use super::super::stream::GpuStream;
use super::common::*;
use super::reduce::reducer;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::{ArgReduceOp, ReduceOp, ScanOp};
use crate::shape::contiguous_strides;
use crate::{Dtype, Result};

const REDUCE: &str = include_str!("reduce.cu");
const SOURCE: &str = include_str!("lines.cu");

/// `struct Lines` in lines.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    out: u64,
    input: u64,
    n_lines: i64,
    n: i64,
    ndim: i64,
    shape: [i64; MAXD],
    in_strides: [i64; MAXD],
    out_strides: [i64; MAXD],
    in_axis: i64,
    out_axis: i64,
    offset: i64,
    flags: i64,
}

fn source(extra: &str, entries: &str) -> String {
    let mut s = String::with_capacity(PRELUDE.len() + REDUCE.len() + SOURCE.len() + 2048);
    s.push_str(PRELUDE);
    s.push_str(REDUCE);
    s.push_str(SOURCE);
    s.push_str(extra);
    s.push_str(entries);
    s
}

/// The lines of `x` along `axis`, written into an output laid out as `out_shape` (contiguous):
/// the same shape for softmax and scans, the axis kept as 1 (or dropped) for reductions.
fn params(x: &Input, axis: usize, out: u64, keeps_axis: bool) -> Option<Params> {
    let kept: Vec<usize> = (0..x.shape.len()).filter(|&d| d != axis).collect();
    if kept.len() > MAXD {
        return None;
    }
    let out_strides_full = contiguous_strides(x.shape);
    let kept_out: Vec<isize> = if keeps_axis {
        kept.iter().map(|&d| out_strides_full[d]).collect()
    } else {
        contiguous_strides(&kept.iter().map(|&d| x.shape[d]).collect::<Vec<_>>())
    };
    Some(Params {
        out,
        input: x.data.buffer.as_ptr() as u64,
        n_lines: kept.iter().map(|&d| x.shape[d]).product::<usize>() as i64,
        n: x.shape[axis] as i64,
        ndim: kept.len() as i64,
        shape: shape64(&kept.iter().map(|&d| x.shape[d]).collect::<Vec<_>>()),
        in_strides: strides64(
            &kept
                .iter()
                .map(|&d| x.data.layout.strides[d])
                .collect::<Vec<_>>(),
        ),
        out_strides: strides64(&kept_out),
        in_axis: x.data.layout.strides[axis] as i64,
        out_axis: if keeps_axis {
            out_strides_full[axis] as i64
        } else {
            0
        },
        offset: x.data.layout.offset as i64,
        flags: 0,
    })
}

fn go(
    name: &'static str,
    module: &str,
    kernel: &str,
    src: impl FnOnce() -> String,
    p: &Params,
    s: &'static GpuStream,
) -> Result<()> {
    if p.n_lines == 0 {
        return Ok(());
    }
    let f = function(s, module, kernel, src)?;
    let grid = (p.n_lines as u64).min(65535 * 16) as u32;
    launch(name, f, s, (grid, 1, 1), BLOCK, 0, p)
}

fn arg_source(t: &str) -> String {
    source(
        "",
        &format!(
            "extern \"C\" __global__ void k_argmax(const Lines p) {{ arg_lines<{t}, true>(p); }}\n\
             extern \"C\" __global__ void k_argmin(const Lines p) {{ arg_lines<{t}, false>(p); }}\n"
        ),
    )
}

pub(super) fn argreduce(
    op: ArgReduceOp,
    axis: usize,
    x: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    if x.shape[axis] == 0 {
        // The CPU kernel reports the empty axis.
        return Ok(None);
    }
    let data = output(op.name(), out, s)?;
    let Some(p) = params(x, axis, data.buffer.as_ptr() as u64, false) else {
        return Ok(None);
    };
    let t = ctype(x.dtype);
    let kernel = if op == ArgReduceOp::ArgMax {
        "k_argmax"
    } else {
        "k_argmin"
    };
    go(
        op.name(),
        &format!("lines/arg/{t}"),
        kernel,
        || arg_source(t),
        &p,
        s,
    )?;
    Ok(Some(data))
}

fn soft_source(t: &str) -> String {
    source(
        "",
        &format!(
            "extern \"C\" __global__ void k_softmax(const Lines p) {{ soft_lines<{t}, false>(p); }}\n\
             extern \"C\" __global__ void k_logsumexp(const Lines p) {{ soft_lines<{t}, true>(p); }}\n"
        ),
    )
}

/// softmax (`lse` false) or logsumexp along `axis`.
pub(super) fn softmax(
    lse: bool,
    axis: usize,
    x: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    if !matches!(
        x.dtype,
        Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 | Dtype::Float64
    ) || x.dtype != out.dtype
    {
        return Ok(None);
    }
    let name = if lse { "logsumexp" } else { "softmax" };
    let data = output(name, out, s)?;
    let Some(p) = params(x, axis, data.buffer.as_ptr() as u64, !lse) else {
        return Ok(None);
    };
    let t = ctype(x.dtype);
    let kernel = if lse { "k_logsumexp" } else { "k_softmax" };
    go(
        name,
        &format!("lines/soft/{t}"),
        kernel,
        || soft_source(t),
        &p,
        s,
    )?;
    Ok(Some(data))
}

/// The reduction a scan carries; None for `logcumsumexp`, which has no GPU kernel yet (it runs
/// through the CPU's, `fallback.rs`).
fn scan_reduce(op: ScanOp) -> Option<ReduceOp> {
    match op {
        ScanOp::Sum => Some(ReduceOp::Sum),
        ScanOp::Prod => Some(ReduceOp::Prod),
        ScanOp::Max => Some(ReduceOp::Max),
        ScanOp::Min => Some(ReduceOp::Min),
        ScanOp::LogAddExp => None,
    }
}

fn scan_source(r: &str, i: &str, o: &str) -> String {
    source(
        r,
        &format!("extern \"C\" __global__ void k_scan(const Lines p) {{ scan_lines<R, {i}, {o}>(p); }}\n"),
    )
}

pub(super) fn scan(
    op: ScanOp,
    axis: usize,
    reverse: bool,
    inclusive: bool,
    x: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let Some(r) = scan_reduce(op).and_then(|red| reducer(red, x.dtype, out.dtype)) else {
        return Ok(None);
    };
    let data = output(op.name(), out, s)?;
    let Some(mut p) = params(x, axis, data.buffer.as_ptr() as u64, true) else {
        return Ok(None);
    };
    p.flags = reverse as i64 | (inclusive as i64) << 1;
    let (i, o) = (ctype(x.dtype), ctype(out.dtype));
    let module = format!("lines/scan/{}/{i}/{o}", op.name());
    go(
        op.name(),
        &module,
        "k_scan",
        || scan_source(&r, i, o),
        &p,
        s,
    )?;
    Ok(Some(data))
}

/// Every module of this family (for compiling ahead of time).
pub(super) fn all_modules() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for d in Dtype::ALL {
        let t = ctype(d);
        v.push((format!("lines/arg/{t}"), arg_source(t)));
        if matches!(
            d,
            Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 | Dtype::Float64
        ) {
            v.push((format!("lines/soft/{t}"), soft_source(t)));
        }
        for op in [ScanOp::Sum, ScanOp::Prod, ScanOp::Max, ScanOp::Min] {
            let outs: Vec<Dtype> = match op {
                ScanOp::Sum | ScanOp::Prod => match d {
                    Dtype::Bool => vec![Dtype::Int32, Dtype::Bool],
                    Dtype::Int8 | Dtype::Int16 => vec![Dtype::Int32],
                    Dtype::Uint8 | Dtype::Uint16 => vec![Dtype::Uint32],
                    d => vec![d],
                },
                _ => vec![d],
            };
            for o in outs {
                if let Some(r) = scan_reduce(op).and_then(|red| reducer(red, d, o)) {
                    v.push((
                        format!("lines/scan/{}/{t}/{}", op.name(), ctype(o)),
                        scan_source(&r, t, ctype(o)),
                    ));
                }
            }
        }
    }
    v
}
