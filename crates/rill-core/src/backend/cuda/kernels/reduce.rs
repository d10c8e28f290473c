//! Reductions on the GPU: sum, prod, max, min, all, any over any set of axes (`Op::Reduce`).
//!
//! The input is split into kept dims (one output each) and reduced dims, both merged where
//! contiguous (as the CPU kernel does). Then:
//! - reduced dims innermost (the common case): a block per output, threads striding over the
//!   reduced run with four independent accumulators; when there are too few outputs to fill the
//!   GPU (a full reduction), the run is split into chunks over a second grid dimension, each
//!   writing a partial accumulator, and a second kernel combines the chunks;
//! - a kept dim innermost (a reduction over an outer axis): a thread per output, so adjacent
//!   threads read adjacent elements.
//!
//! Accumulators: float32 sums and products accumulate in f64, half types in f32 (the issue's
//! rule: f32 accumulation), integers wrap in their output type, as the CPU's.

use super::super::launch::{grid_for, launch, BLOCK};
use super::super::stream::GpuStream;
use super::common::*;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ReduceOp;
use crate::shape::numel;
use crate::{Dtype, DtypeKind, Result};

pub(super) const SOURCE: &str = include_str!("reduce.cu");

/// `struct Red` in reduce.cu.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Params {
    pub(super) out: u64,
    pub(super) input: u64,
    pub(super) n_out: i64,
    pub(super) n_red: i64,
    pub(super) kept_ndim: i64,
    pub(super) red_ndim: i64,
    pub(super) kept_shape: [i64; MAXD],
    pub(super) kept_strides: [i64; MAXD],
    pub(super) red_shape: [i64; MAXD],
    pub(super) red_strides: [i64; MAXD],
    pub(super) offset: i64,
    pub(super) chunk: i64,
}

/// Reduced elements a block handles before a full reduction is split across blocks.
const SPLIT_CHUNK: usize = 1 << 15;

/// The accumulator's C type for `op` producing `out`.
pub(super) fn acc_type(op: ReduceOp, out: Dtype) -> &'static str {
    match op {
        ReduceOp::Sum | ReduceOp::Prod => match out {
            Dtype::Float32 | Dtype::Float64 => "double",
            Dtype::Float16 | Dtype::Bfloat16 => "float",
            d => ctype(d),
        },
        ReduceOp::Max | ReduceOp::Min => ctype(out),
        ReduceOp::All | ReduceOp::Any => "bool",
    }
}

/// `struct R` for `op` from `input` to `out`, or None when the GPU has no kernel.
pub(super) fn reducer(op: ReduceOp, input: Dtype, out: Dtype) -> Option<String> {
    let (i, o, a) = (ctype(input), ctype(out), acc_type(op, out));
    let complex = out == Dtype::Complex64;
    let (init, combine) = match op {
        ReduceOp::Sum => match out.kind() {
            DtypeKind::Complex => (
                "cmk(0.0f, 0.0f)".to_string(),
                "cmk(x.re + y.re, x.im + y.im)",
            ),
            DtypeKind::Float => (format!("({a})0"), "x + y"),
            DtypeKind::Bool => ("false".into(), "x || y"),
            _ => (format!("({a})0"), "wadd(x, y)"),
        },
        ReduceOp::Prod => match out.kind() {
            DtypeKind::Complex => (
                "cmk(1.0f, 0.0f)".to_string(),
                "cmk(x.re * y.re - x.im * y.im, x.re * y.im + x.im * y.re)",
            ),
            DtypeKind::Float => (format!("({a})1"), "x * y"),
            DtypeKind::Bool => ("true".into(), "x && y"),
            _ => (format!("({a})1"), "wmul(x, y)"),
        },
        ReduceOp::Max => (lowest(out)?, "ext_max(x, y)"),
        ReduceOp::Min => (highest(out)?, "ext_min(x, y)"),
        ReduceOp::All => ("true".into(), "x && y"),
        ReduceOp::Any => ("false".into(), "x || y"),
    };
    let (load, finish) = match op {
        ReduceOp::All | ReduceOp::Any => (format!("Num<{i}>::nz(x)"), "x".to_string()),
        ReduceOp::Max | ReduceOp::Min => ("x".to_string(), "x".to_string()),
        _ if complex => (format!("cast<{i}, c64>(x)"), "x".to_string()),
        _ => (format!("cast<{i}, {a}>(x)"), format!("cast<{a}, {o}>(x)")),
    };
    Some(format!(
        "INLINE c64 cmk(float re, float im) {{ c64 r; r.re = re; r.im = im; return r; }}\n\
         struct R {{ typedef {a} A;\n\
           static INLINE A init() {{ return {init}; }}\n\
           static INLINE A load({i} x) {{ return {load}; }}\n\
           static INLINE A combine(A x, A y) {{ return {combine}; }}\n\
           static INLINE {o} finish(A x) {{ return {finish}; }} }};\n"
    ))
}

fn lowest(d: Dtype) -> Option<String> {
    Some(match d {
        Dtype::Bool => "false".into(),
        Dtype::Float16 => "Num<f16>::from_f32(-INFINITY)".into(),
        Dtype::Bfloat16 => "Num<bf16>::from_f32(-INFINITY)".into(),
        Dtype::Float32 => "-INFINITY".into(),
        Dtype::Float64 => "-(double)INFINITY".into(),
        Dtype::Complex64 => "cmk(-INFINITY, -INFINITY)".into(),
        Dtype::Uint8 | Dtype::Uint16 | Dtype::Uint32 | Dtype::Uint64 => format!("({})0", ctype(d)),
        Dtype::Int8 => "(i8)-128".into(),
        Dtype::Int16 => "(i16)-32768".into(),
        Dtype::Int32 => "(i32)(-2147483647 - 1)".into(),
        Dtype::Int64 => "(i64)(-9223372036854775807LL - 1)".into(),
    })
}

fn highest(d: Dtype) -> Option<String> {
    Some(match d {
        Dtype::Bool => "true".into(),
        Dtype::Float16 => "Num<f16>::from_f32(INFINITY)".into(),
        Dtype::Bfloat16 => "Num<bf16>::from_f32(INFINITY)".into(),
        Dtype::Float32 => "INFINITY".into(),
        Dtype::Float64 => "(double)INFINITY".into(),
        Dtype::Complex64 => "cmk(INFINITY, INFINITY)".into(),
        Dtype::Uint8 => "(u8)255".into(),
        Dtype::Uint16 => "(u16)65535".into(),
        Dtype::Uint32 => "(u32)4294967295u".into(),
        Dtype::Uint64 => "(u64)18446744073709551615ull".into(),
        Dtype::Int8 => "(i8)127".into(),
        Dtype::Int16 => "(i16)32767".into(),
        Dtype::Int32 => "(i32)2147483647".into(),
        Dtype::Int64 => "(i64)9223372036854775807LL".into(),
    })
}

/// The dtypes a reduction of `input` may produce (the builders' choices, as in the CPU kernel).
fn outputs(op: ReduceOp, input: Dtype) -> Vec<Dtype> {
    match op {
        ReduceOp::Sum | ReduceOp::Prod => {
            let s = match input {
                Dtype::Bool | Dtype::Int8 | Dtype::Int16 => Dtype::Int32,
                Dtype::Uint8 | Dtype::Uint16 => Dtype::Uint32,
                d => d,
            };
            if op == ReduceOp::Sum && s != Dtype::Float32 && !input.is_complex() {
                vec![s, Dtype::Float32]
            } else {
                vec![s]
            }
        }
        ReduceOp::Max | ReduceOp::Min => vec![input],
        ReduceOp::All | ReduceOp::Any => vec![Dtype::Bool],
    }
}

pub(super) fn source(r: &str, i: &str, o: &str, a: &str) -> String {
    let mut s = String::with_capacity(PRELUDE.len() + SOURCE.len() + 2048);
    s.push_str(PRELUDE);
    s.push_str(SOURCE);
    s.push_str(r);
    for (idx, bits) in [("u32", 32), ("u64", 64)] {
        s.push_str(&format!(
            "extern \"C\" __global__ void k_block{bits}(const Red p) {{ red_block<R, {i}, {o}, {idx}, false>(p); }}\n\
             extern \"C\" __global__ void k_partial{bits}(const Red p) {{ red_block<R, {i}, {o}, {idx}, true>(p); }}\n\
             extern \"C\" __global__ void k_thread{bits}(const Red p) {{ red_thread<R, {i}, {o}, {idx}>(p); }}\n"
        ));
    }
    s.push_str(&format!(
        "extern \"C\" __global__ void k_partials(const Red p) {{ red_partials<R, {o}>(p); }}\n"
    ));
    let _ = a;
    s
}

fn module_name(op: ReduceOp, input: Dtype, out: Dtype) -> String {
    format!("reduce/{}/{}/{}", op.name(), ctype(input), ctype(out))
}

pub(super) fn all_modules() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for d in Dtype::ALL {
        for &op in ReduceOp::ALL {
            for o in outputs(op, d) {
                if let Some(r) = reducer(op, d, o) {
                    v.push((
                        module_name(op, d, o),
                        source(&r, ctype(d), ctype(o), acc_type(op, o)),
                    ));
                }
            }
        }
    }
    v
}

/// Merges neighbouring dims of `dims` (size, stride) that are contiguous with each other.
fn merge(dims: Vec<(usize, isize)>) -> Vec<(usize, isize)> {
    let mut out: Vec<(usize, isize)> = Vec::with_capacity(dims.len());
    for (n, s) in dims {
        if n == 1 {
            continue;
        }
        if let Some(last) = out.last_mut() {
            if last.1 == s * n as isize {
                *last = (last.0 * n, s);
                continue;
            }
        }
        out.push((n, s));
    }
    out
}

/// How a block reduction covers `n_out` outputs of `n_red` elements each: `grid_x` blocks over
/// the outputs and, for long rows, `chunks` chunks of `chunk` elements over grid.y (each writes a
/// partial accumulator; `k_partials` combines them). Fused reductions (fused.rs) use the same
/// split, so they combine in the same order.
pub(super) struct Split {
    pub(super) grid_x: u32,
    pub(super) chunks: usize,
    pub(super) chunk: usize,
}

pub(super) fn split(n_out: usize, n_red: usize, sm: i32) -> Split {
    // Split long reductions when there are too few outputs to keep every multiprocessor busy.
    // Eight blocks of 256 threads fill a multiprocessor (2048 threads on Hopper and Ampere).
    let want_blocks = 8 * sm as usize;
    let chunks = if n_out < want_blocks && n_red >= 2 * SPLIT_CHUNK {
        (n_red.div_ceil(SPLIT_CHUNK))
            .min(want_blocks.div_ceil(n_out))
            .min(65535)
    } else {
        1
    };
    let grid_x = n_out.min(65535 * 32) as u32;
    if chunks <= 1 {
        return Split {
            grid_x,
            chunks: 1,
            chunk: n_red.max(1),
        };
    }
    // A multiple of 4 keeps every chunk of an aligned run aligned for the kernel's 16-byte loads.
    let chunk = n_red.div_ceil(chunks).next_multiple_of(4);
    Split {
        grid_x,
        chunks: n_red.div_ceil(chunk),
        chunk,
    }
}

/// The size of an accumulator of C type `a` (`acc_type`).
pub(super) fn acc_size(a: &str) -> usize {
    match a {
        "double" | "i64" | "u64" | "c64" => 8,
        "float" | "i32" | "u32" => 4,
        "i16" | "u16" => 2,
        _ => 1,
    }
}

/// Runs `op` over `axes` natively, or returns None.
pub(super) fn run(
    op: ReduceOp,
    axes: &[usize],
    x: &Input,
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let Some(r) = reducer(op, x.dtype, out.dtype) else {
        return Ok(None);
    };
    let data = output(op.name(), out, s)?;
    let n_out = numel(out.shape);
    if n_out == 0 {
        return Ok(Some(data));
    }
    let strides = &x.data.layout.strides;
    let kept: Vec<(usize, isize)> = (0..x.shape.len())
        .filter(|d| !axes.contains(d))
        .map(|d| (x.shape[d], strides[d]))
        .collect();
    // The order of a reduction does not matter: reduced dims are sorted by stride (outermost
    // first) and negative strides flipped, so contiguous runs merge.
    let mut offset = x.data.layout.offset as isize;
    let mut red: Vec<(usize, isize)> = axes
        .iter()
        .map(|&d| {
            let (n, st) = (x.shape[d], strides[d]);
            if st < 0 && n > 0 {
                offset += st * (n as isize - 1);
                (n, -st)
            } else {
                (n, st)
            }
        })
        .collect();
    red.sort_by_key(|&(_, st)| std::cmp::Reverse(st));
    let kept = merge(kept);
    let red = merge(red);
    let n_red: usize = red.iter().map(|d| d.0).product();
    if kept.len() > MAXD || red.len() > MAXD {
        return Ok(None);
    }
    let (i, o, a) = (ctype(x.dtype), ctype(out.dtype), acc_type(op, out.dtype));
    let module = module_name(op, x.dtype, out.dtype);
    let src = || source(&r, i, o, a);
    let mut p = Params {
        out: data.buffer.as_ptr() as u64,
        input: x.data.buffer.as_ptr() as u64,
        n_out: n_out as i64,
        n_red: n_red as i64,
        kept_ndim: kept.len() as i64,
        red_ndim: red.len() as i64,
        kept_shape: shape64(&kept.iter().map(|d| d.0).collect::<Vec<_>>()),
        kept_strides: strides64(&kept.iter().map(|d| d.1).collect::<Vec<_>>()),
        red_shape: shape64(&red.iter().map(|d| d.0).collect::<Vec<_>>()),
        red_strides: strides64(&red.iter().map(|d| d.1).collect::<Vec<_>>()),
        offset: offset as i64,
        chunk: n_red.max(1) as i64,
    };
    let span = x.data.buffer.len() / x.dtype.size().max(1);
    let bits = if span > i32::MAX as usize / 2 || n_red > i32::MAX as usize / 2 {
        64
    } else {
        32
    };
    let sm = s.gpu.sm_count;
    let red_inner = red.last().is_some_and(|d| d.1 == 1);
    let kept_inner = kept.last().is_some_and(|d| d.1 == 1);
    if !red_inner && kept_inner && n_red <= 4096 {
        let f = function(s, &module, &format!("k_thread{bits}"), src)?;
        let grid = grid_for(n_out as u64, BLOCK as u64, sm);
        launch(op.name(), f, s, (grid, 1, 1), BLOCK, 0, &p)?;
        return Ok(Some(data));
    }
    let Split {
        grid_x,
        chunks,
        chunk,
    } = split(n_out, n_red, sm);
    if chunks <= 1 {
        let f = function(s, &module, &format!("k_block{bits}"), src)?;
        launch(op.name(), f, s, (grid_x, 1, 1), BLOCK, 0, &p)?;
        return Ok(Some(data));
    }
    let acc_size = acc_size(a);
    let tmp = s
        .gpu
        .memory
        .allocate(op.name(), n_out * chunks * acc_size, s)?;
    p.out = tmp.as_ptr() as u64;
    p.chunk = chunk as i64;
    let f = function(s, &module, &format!("k_partial{bits}"), src)?;
    launch(op.name(), f, s, (grid_x, chunks as u32, 1), BLOCK, 0, &p)?;
    let q = Params {
        out: data.buffer.as_ptr() as u64,
        input: tmp.as_ptr() as u64,
        n_red: chunks as i64,
        ..p
    };
    let f = function(s, &module, "k_partials", src)?;
    launch(op.name(), f, s, (grid_x, 1, 1), BLOCK, 0, &q)?;
    // `tmp` is freed on this stream after the kernels that use it (stream order).
    drop(tmp);
    Ok(Some(data))
}
