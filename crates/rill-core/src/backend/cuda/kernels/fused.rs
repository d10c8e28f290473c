//! `Op::Fused` on the GPU: one NVRTC kernel per fused program (`fusion.rs`), which computes every
//! op of the program for an element in registers and writes only the result (or reduces it), so
//! a chain of n elementwise ops costs one launch and one pass over memory instead of n.
//!
//! The program becomes C source here: each instruction's op is the functor its own elementwise
//! kernel uses (`elementwise::{unary_functor, binary_functor}`), in a namespace of its own, and
//! `fz_value` strings them together. Kernels are found by a hash of the program's structure (its
//! dtype, instructions and reduction), so a compiled function replayed again finds its kernel
//! without formatting any text; the text is built on a miss only. Kernels are
//! compiled with `--fmad=false` (compile.rs), so a multiply followed by an add stays two roundings,
//! as in the unfused ops; a fused reduction follows `reduce.cu`'s order (fused.cu), so a fused
//! program gives the unfused results bit for bit on the GPU too.

use super::super::background;
use super::super::gpu::Gpu;
use super::super::launch::{grid_for, launch, BLOCK};
use super::super::stream::GpuStream;
use super::super::transfer::upload;
use super::common::*;
use super::elementwise::{binary_functor, host_scalar_bits, unary_functor};
use super::movement::{broadcast_into, copy_contiguous};
use super::reduce::{acc_size, acc_type, reducer, split, Params as RedParams, Split};
use crate::backend::{Input, Output};
use crate::fusion::{leading_broadcast, FusedKernel, Inst, Operand};
use crate::memory::Data;
use crate::shape::numel;
use crate::{Dtype, Result};
use smallvec::SmallVec;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

const SOURCE: &str = include_str!("fused.cu");

/// Inputs a fused kernel takes (`FZ_MAXIN` in fused.cu); a program with more runs on the CPU.
const MAXIN: usize = 8;

/// `struct Fz` in fused.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    out: u64,
    input: [u64; MAXIN],
    period: [i64; MAXIN],
    n: i64,
    row: i64,
    n_out: i64,
    chunk: i64,
    byval_mask: i64,
    byval: [u64; MAXIN],
}

/// Runs a fused program natively, or returns `None` when the GPU has no kernel for one of its
/// ops or it takes more inputs than a kernel's parameters hold.
pub(super) fn run(
    k: &FusedKernel,
    inputs: &[Input],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    k.check(inputs.iter().map(|x| x.dtype), out.shape, out.dtype)?;
    if inputs.len() > MAXIN || !matches!(k.dtype, Dtype::Float32 | Dtype::Float64) {
        return Ok(None);
    }
    let n = numel(&k.shape);
    let n_out = numel(out.shape);
    let key = program_key(k);
    let module = || module_name(key);
    // The program's text, made once and only when a kernel of it is not loaded yet.
    let program = std::cell::OnceCell::new();
    let text = || program.get_or_init(|| program_source(k));
    let bits = if n > i32::MAX as usize / 2 { 64 } else { 32 };
    let sm = s.gpu.sm_count;
    let kernels = &s.gpu.kernels;
    let key_of = |variant: u64| kernel_key(key, variant);
    // A program is known to have a GPU form once one of its kernels is loaded; otherwise its
    // text says (None: an op without a GPU functor, which then runs on the CPU).
    let first_variant = match k.reduce {
        None => 0,
        Some(r) if n_out == 0 || split(n_out, r.row, sm).chunks <= 1 => 2,
        Some(_) => 4,
    } + u64::from(bits == 64);
    if kernels.lookup(key_of(first_variant)).is_none() && text().is_none() {
        return Ok(None);
    }
    let data = output("fused", out, s)?;
    if n == 0 || n_out == 0 {
        return Ok(Some(data));
    }
    // Views and broadcasts other than along leading dims are made contiguous first (the fusion
    // pass builds neither, but the kernel stays correct for any input).
    let mut copies: SmallVec<[Data; 4]> = SmallVec::new();
    let mut p = Params {
        out: data.buffer.as_ptr() as u64,
        input: [0; MAXIN],
        period: [1; MAXIN],
        n: n as i64,
        row: 0,
        n_out: n_out as i64,
        chunk: 0,
        byval_mask: 0,
        byval: [0; MAXIN],
    };
    let uploaded: SmallVec<[(usize, Data); 2]>;
    let mut moved: SmallVec<[Input; 4]> = inputs.into();
    // Host inputs reach this kernel by value (kernels/mod.rs); only one-element ones are meant
    // to, anything larger is copied to the GPU first.
    uploaded = inputs
        .iter()
        .enumerate()
        .filter(|(_, x)| x.data.is_host() && numel(x.shape) != 1)
        .map(|(slot, x)| Ok((slot, upload(x, s)?)))
        .collect::<Result<_>>()?;
    for (slot, data) in &uploaded {
        moved[*slot] = Input {
            data,
            ..moved[*slot]
        };
    }
    for (slot, x) in moved.iter().enumerate() {
        if let Some(bits) = host_scalar_bits(x) {
            p.byval_mask |= 1 << slot;
            p.byval[slot] = bits;
            continue;
        }
        let len = numel(x.shape);
        let direct = x.data.layout.is_row_contiguous(x.shape) || len == 1;
        let (address, period) = if direct && leading_broadcast(x.shape, &k.shape) {
            (addr(x), len)
        } else {
            let shape = if leading_broadcast(x.shape, &k.shape) {
                x.shape
            } else {
                &k.shape[..]
            };
            let copy = if shape == x.shape {
                copy_contiguous("fused", x, s)?
            } else {
                let full = output("fused", &Output { shape, ..*out }, s)?;
                broadcast_into("fused", x, &full, shape, s)?;
                full
            };
            let a = copy.buffer.as_ptr() as u64;
            copies.push(copy);
            (a, numel(shape))
        };
        p.input[slot] = address;
        p.period[slot] = period as i64;
    }
    let source = || match text() {
        Some(program) => module_source(k, program),
        // Unreachable: checked above; an empty module fails to compile with a clear error.
        None => String::new(),
    };
    match k.reduce {
        None => {
            let (name, variant) = if bits == 32 {
                ("k_map32", 0)
            } else {
                ("k_map64", 1)
            };
            let f = kernels.function_by_key(s.gpu, key_of(variant), module, name, source)?;
            let grid = grid_for(n as u64, BLOCK as u64 * 4, sm);
            launch("fused", f, s, (grid, 1, 1), BLOCK, 0, &p)?;
        }
        Some(r) => {
            let Split {
                grid_x,
                chunks,
                chunk,
            } = split(n_out, r.row, sm);
            p.row = r.row as i64;
            p.chunk = chunk as i64;
            if chunks <= 1 {
                let (name, variant) = if bits == 32 {
                    ("k_reduce32", 2)
                } else {
                    ("k_reduce64", 3)
                };
                let f = kernels.function_by_key(s.gpu, key_of(variant), module, name, source)?;
                launch("fused", f, s, (grid_x, 1, 1), BLOCK, 0, &p)?;
            } else {
                let (name, variant) = if bits == 32 {
                    ("k_partial32", 4)
                } else {
                    ("k_partial64", 5)
                };
                let a = acc_type(r.op, k.dtype);
                let tmp = s
                    .gpu
                    .memory
                    .allocate("fused", n_out * chunks * acc_size(a), s)?;
                p.out = tmp.as_ptr() as u64;
                let f = kernels.function_by_key(s.gpu, key_of(variant), module, name, source)?;
                launch("fused", f, s, (grid_x, chunks as u32, 1), BLOCK, 0, &p)?;
                // reduce.cu's combining kernel, as the unfused reduction runs it.
                let q = RedParams {
                    out: data.buffer.as_ptr() as u64,
                    input: tmp.as_ptr() as u64,
                    n_out: n_out as i64,
                    n_red: chunks as i64,
                    kept_ndim: 0,
                    red_ndim: 0,
                    kept_shape: [0; MAXD],
                    kept_strides: [0; MAXD],
                    red_shape: [0; MAXD],
                    red_strides: [0; MAXD],
                    offset: 0,
                    chunk: 0,
                };
                let f = kernels.function_by_key(s.gpu, key_of(6), module, "k_partials", source)?;
                launch("fused", f, s, (grid_x, 1, 1), BLOCK, 0, &q)?;
                // Freed on this stream after the kernels that read it (stream order).
                drop(tmp);
            }
        }
    }
    // The copies, too, are released in stream order after the kernel.
    drop(copies);
    Ok(Some(data))
}

/// The number under which `Kernels` holds the kernel `variant` (k_map32 0, k_map64 1, k_reduce 2
/// and 3, k_partial 4 and 5, k_partials 6) of the program whose structure hashes to `program`.
/// Keys of other families stay below 2^46 (elementwise.rs); the top bit sets these apart.
fn kernel_key(program: u64, variant: u64) -> u64 {
    (1u64 << 63) | ((program << 3 | variant) & !(1u64 << 63))
}

/// Whether `run` would launch `k` (an elementwise program, as the scheduler's auto-fusion builds)
/// with a kernel already loaded. When not, the kernel is compiled and loaded in the background
/// (once per process, `background.rs`) and the answer is no: the caller runs the program's ops
/// one by one until it is there, never waiting for NVRTC (but for NVRTC's very first compile in
/// the process, a tiny one made on this thread when the kernel is not in the disk cache:
/// `background.rs`, rule 6).
pub(in super::super) fn ready(k: &Arc<FusedKernel>, gpu: &'static Gpu) -> bool {
    if k.reduce.is_some()
        || k.input_count() > MAXIN
        || !matches!(k.dtype, Dtype::Float32 | Dtype::Float64)
    {
        return false;
    }
    let program = program_key(k);
    let (name, variant) = if numel(&k.shape) > i32::MAX as usize / 2 {
        ("k_map64", 1)
    } else {
        ("k_map32", 0)
    };
    let key = kernel_key(program, variant);
    if gpu.kernels.lookup(key).is_some() {
        return true;
    }
    background::compile(
        key,
        gpu.arch(),
        // None: an op without a GPU form; the program is then never fused.
        || Some(module_source(k, &program_source(k)?)),
        move |src| {
            // An error here is a bug in a generated kernel; the ops keep running one by one.
            let _ = gpu
                .kernels
                .function_by_key(gpu, key, || module_name(program), name, || src);
        },
    );
    false
}

/// The name a program's module is cached under (in memory and on disk): one for every path that
/// loads it, so that the background compiler, `run` and the ahead-of-time list meet.
fn module_name(program: u64) -> String {
    format!("fused/{program:016x}")
}

/// The program's own parts of the module: first its types, functors and reducer (before
/// fused.cu, whose templates name them), then `fz_value` (after it: it reads `Fz`); None when an
/// op has no GPU form.
fn program_source(k: &FusedKernel) -> Option<(String, String)> {
    let t = ctype(k.dtype);
    let mut head = format!("typedef {t} T;\n");
    for (i, inst) in k.insts.iter().enumerate() {
        let functor = match *inst {
            Inst::Unary(u, _) => unary_functor(u, k.dtype, k.dtype)?,
            Inst::Binary(b, _, _) => binary_functor(b, k.dtype, k.dtype)?,
        };
        let _ = writeln!(head, "namespace o{i} {{ {functor} }}");
    }
    if let Some(r) = k.reduce {
        head.push_str(&reducer(r.op, k.dtype, k.dtype)?);
    }
    let mut body = String::from("template <class I> INLINE T fz_value(const Fz& p, I i) {\n");
    for slot in 0..k.input_count() {
        let _ = writeln!(
            body,
            "    const T x{slot} = at<T>(fz_in(p, {slot}), 0)[fz_index<I>(p, {slot}, i)];"
        );
    }
    let name = |o: Operand| match o {
        Operand::Input(j) => format!("x{j}"),
        Operand::Inst(j) => format!("v{j}"),
    };
    for (i, inst) in k.insts.iter().enumerate() {
        let call = match *inst {
            Inst::Unary(_, a) => name(a),
            Inst::Binary(_, a, b) => format!("{}, {}", name(a), name(b)),
        };
        let _ = writeln!(body, "    const T v{i} = o{i}::F::apply({call});");
    }
    let _ = writeln!(body, "    return v{};\n}}", k.insts.len() - 1);
    Some((head, body))
}

/// What the module's text depends on, hashed: the dtype, each instruction (op and operands) and
/// the reduction's op. The shape and the row length are parameters, not part of the text.
fn program_key(k: &FusedKernel) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.dtype.hash(&mut h);
    for inst in &k.insts {
        match *inst {
            Inst::Unary(u, a) => (0u8, u, a).hash(&mut h),
            Inst::Binary(b, x, y) => (1u8, b, x, y).hash(&mut h),
        }
    }
    k.reduce.map(|r| r.op).hash(&mut h);
    h.finish()
}

/// The whole module: prelude, reduce.cu (for `block_combine` and its combining kernel), the
/// program's types and functors, fused.cu, `fz_value` and the entry points.
fn module_source(k: &FusedKernel, (head, body): &(String, String)) -> String {
    let mut s = String::with_capacity(PRELUDE.len() + 16 * 1024);
    s.push_str(PRELUDE);
    s.push_str(super::reduce::SOURCE);
    s.push_str(head);
    s.push_str(SOURCE);
    s.push_str(body);
    for (idx, bits) in [("u32", 32), ("u64", 64)] {
        let _ = writeln!(
            s,
            "extern \"C\" __global__ void k_map{bits}(const FZ_GRID_CONSTANT Fz p) {{ fz_map<{idx}>(p); }}"
        );
        if k.reduce.is_some() {
            let _ = writeln!(
                s,
                "extern \"C\" __global__ void k_reduce{bits}(const FZ_GRID_CONSTANT Fz p) {{ fz_reduce<R, {idx}, false>(p); }}\n\
                 extern \"C\" __global__ void k_partial{bits}(const FZ_GRID_CONSTANT Fz p) {{ fz_reduce<R, {idx}, true>(p); }}"
            );
        }
    }
    if k.reduce.is_some() {
        s.push_str(
            "extern \"C\" __global__ void k_partials(const Red p) { red_partials<R, T>(p); }\n",
        );
    }
    s
}

/// Modules of a few programs of each shape the pass builds (a map; a float32 sum over rows; a
/// float64 max), so the kernel-compile test checks that generated programs compile.
pub(super) fn sample_modules() -> Vec<(String, String)> {
    use crate::fusion::FusedReduce;
    use crate::op::{BinaryOp, ReduceOp, UnaryOp};
    use Operand::{Input as In, Inst as V};
    let chain = vec![
        Inst::Binary(BinaryOp::Multiply, In(0), In(1)),
        Inst::Binary(BinaryOp::Add, V(0), In(2)),
        Inst::Unary(UnaryOp::Tanh, V(1)),
        Inst::Unary(UnaryOp::Exp, V(2)),
        Inst::Binary(BinaryOp::LogAddExp, V(3), In(0)),
        Inst::Unary(UnaryOp::Sigmoid, V(4)),
    ];
    let programs = [
        (Dtype::Float32, None),
        (
            Dtype::Float32,
            Some(FusedReduce {
                op: ReduceOp::Sum,
                row: 64,
            }),
        ),
        (
            Dtype::Float64,
            Some(FusedReduce {
                op: ReduceOp::Max,
                row: 64,
            }),
        ),
    ];
    programs
        .into_iter()
        .filter_map(|(dtype, reduce)| {
            let k = FusedKernel {
                dtype,
                shape: vec![4, 64],
                insts: chain.clone(),
                reduce,
            };
            let program = program_source(&k)?;
            Some((module_name(program_key(&k)), module_source(&k, &program)))
        })
        .collect()
}
