//! Creation and data movement on the GPU: full, arange, eye, concatenate, pad, slice_update, and
//! the indexing ops (take, take_along_axis, put_along_axis). Elements are copied as words of
//! their size, so one module per element size serves every dtype.
//!
//! The indexing kernels check every index; one out of range sets a flag that this stream then
//! reads back (a wait for this stream only), and the op is redone by the CPU fallback, which
//! reports the bad index exactly as the CPU kernel does. Repeated indices in put_along_axis keep
//! the last write in row-major order (as the CPU's loop and NumPy), through a first pass that
//! records, per destination, the last update position that targets it.

use super::super::driver::check;
use super::super::launch::{grid_for, launch, BLOCK};
use super::super::stream::GpuStream;
use super::common::*;
use crate::backend::cpu::scalar_to;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::shape::{contiguous_strides, numel};
use crate::{dispatch_dtype, Dtype, Error, Result, Scalar};
use cudarc::driver::sys;

const SOURCE: &str = include_str!("movement.cu");
const CREATION: &str = include_str!("creation.cu");

/// `struct Move` in movement.cu.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Params {
    dst: u64,
    src: u64,
    idx: u64,
    flag: u64,
    n: i64,
    ndim: i64,
    shape: [i64; MAXD],
    src_strides: [i64; MAXD],
    dst_strides: [i64; MAXD],
    idx_strides: [i64; MAXD],
    src_offset: i64,
    dst_offset: i64,
    idx_offset: i64,
    axis: i64,
    axis_len: i64,
    axis_stride: i64,
    bits: [u64; 2],
    idx_ndim: i64,
}

/// `struct Create` in creation.cu.
#[repr(C)]
#[derive(Clone, Copy)]
struct CreateParams {
    out: u64,
    n: i64,
    start: f64,
    step: f64,
    cols: i64,
    k: i64,
}

const INDEX_TYPES: [Dtype; 8] = [
    Dtype::Uint8,
    Dtype::Uint16,
    Dtype::Uint32,
    Dtype::Uint64,
    Dtype::Int8,
    Dtype::Int16,
    Dtype::Int32,
    Dtype::Int64,
];

fn word(size: usize) -> &'static str {
    match size {
        1 => "u8",
        2 => "u16",
        4 => "u32",
        8 => "u64",
        _ => "W16",
    }
}

fn copy_source(w: &str) -> String {
    let mut s = format!("{PRELUDE}{SOURCE}");
    for (idx, bits) in [("u32", 32), ("u64", 64)] {
        s.push_str(&format!(
            "extern \"C\" __global__ void k_fill{bits}(const Move p) {{ fill<{w}, {idx}>(p); }}\n\
             extern \"C\" __global__ void k_copy{bits}(const Move p) {{ copy_strided<{w}, {idx}>(p); }}\n"
        ));
    }
    s
}

fn index_source(w: &str, ix: &str) -> String {
    let mut s = format!("{PRELUDE}{SOURCE}");
    for (idx, bits) in [("u32", 32), ("u64", 64)] {
        s.push_str(&format!(
            "extern \"C\" __global__ void k_take{bits}(const Move p) {{ take<{w}, {ix}, {idx}>(p); }}\n\
             extern \"C\" __global__ void k_along{bits}(const Move p) {{ take_along<{w}, {ix}, {idx}>(p); }}\n\
             extern \"C\" __global__ void k_winners{bits}(const Move p) {{ put_winners<{ix}, {idx}>(p); }}\n\
             extern \"C\" __global__ void k_put{bits}(const Move p) {{ put_write<{w}, {ix}, {idx}>(p); }}\n"
        ));
    }
    s
}

fn create_source(t: &str) -> String {
    let mut s = format!("{PRELUDE}{CREATION}");
    for (idx, bits) in [("u32", 32), ("u64", 64)] {
        s.push_str(&format!(
            "extern \"C\" __global__ void k_arange{bits}(const Create p) {{ arange<{t}, {idx}>(p); }}\n\
             extern \"C\" __global__ void k_eye{bits}(const Create p) {{ eye<{t}, {idx}>(p); }}\n"
        ));
    }
    s
}

pub(super) fn all_modules() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for size in [1, 2, 4, 8] {
        let w = word(size);
        v.push((format!("move/copy/{w}"), copy_source(w)));
        for ix in INDEX_TYPES {
            v.push((
                format!("move/index/{w}/{}", ctype(ix)),
                index_source(w, ctype(ix)),
            ));
        }
    }
    for d in Dtype::ALL {
        v.push((format!("create/{}", ctype(d)), create_source(ctype(d))));
    }
    v
}

fn bits_of(n: usize) -> u32 {
    if n > i32::MAX as usize / 2 {
        64
    } else {
        32
    }
}

fn run_copy_kernel(
    op: &'static str,
    kernel: &str,
    size: usize,
    p: &Params,
    s: &'static GpuStream,
) -> Result<()> {
    if p.n == 0 {
        return Ok(());
    }
    let w = word(size);
    let f = function(s, &format!("move/copy/{w}"), kernel, || copy_source(w))?;
    let grid = grid_for(p.n as u64, BLOCK as u64, s.gpu.sm_count);
    launch(op, f, s, (grid, 1, 1), BLOCK, 0, p)
}

/// Fills `n` contiguous elements at `dst` with `value` converted to `dtype`.
fn fill(
    op: &'static str,
    dst: u64,
    n: usize,
    dtype: Dtype,
    value: Scalar,
    s: &'static GpuStream,
) -> Result<()> {
    let mut bits = [0u64; 2];
    dispatch_dtype!(dtype, T => {
        let v: T = scalar_to::<T>(value);
        // SAFETY: `T` is a plain element type of at most 16 bytes with no padding (every rill
        // element type is), so its bytes can be copied into the zeroed `bits`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&v as *const T).cast::<u8>(),
                bits.as_mut_ptr() as *mut u8,
                std::mem::size_of::<T>(),
            )
        };
    });
    let p = Params {
        dst,
        n: n as i64,
        bits,
        ..Params::default()
    };
    run_copy_kernel(op, &format!("k_fill{}", bits_of(n)), dtype.size(), &p, s)
}

/// Copies `src` (an array of `shape` with `src_strides` from `src_offset`) to `dst` at
/// `dst_offset` with `dst_strides` (elements of `size` bytes).
#[allow(clippy::too_many_arguments)]
fn copy(
    op: &'static str,
    size: usize,
    shape: &[usize],
    src: u64,
    src_offset: usize,
    src_strides: &[isize],
    dst: u64,
    dst_offset: isize,
    dst_strides: &[isize],
    s: &'static GpuStream,
) -> Result<()> {
    let n = numel(shape);
    if n == 0 {
        return Ok(());
    }
    let (cshape, cst) = collapse(shape, &[src_strides.to_vec(), dst_strides.to_vec()]);
    if cshape.len() > MAXD {
        return Err(Error::device(
            op,
            format!("a copy over {} dims", cshape.len()),
        ));
    }
    let p = Params {
        dst,
        src,
        n: n as i64,
        ndim: cshape.len() as i64,
        shape: shape64(&cshape),
        src_strides: strides64(&cst[0]),
        dst_strides: strides64(&cst[1]),
        src_offset: src_offset as i64,
        dst_offset: dst_offset as i64,
        ..Params::default()
    };
    run_copy_kernel(op, &format!("k_copy{}", bits_of(n)), size, &p, s)
}

/// Copies `x` into the contiguous buffer `dst` (of `shape`), at element `base` with `strides`.
fn copy_into(
    op: &'static str,
    x: &Input,
    dst: u64,
    base: isize,
    strides: &[isize],
    s: &'static GpuStream,
) -> Result<()> {
    copy(
        op,
        x.dtype.size(),
        x.shape,
        x.data.buffer.as_ptr() as u64,
        x.data.layout.offset,
        &broadcast_strides(x, x.shape),
        dst,
        base,
        strides,
        s,
    )
}

pub(super) fn run(
    op: &Op,
    inputs: &[Input],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    if out.dtype.size() > 8 {
        return Ok(None);
    }
    let name = op.name();
    let n = numel(out.shape);
    let data = output(name, out, s)?;
    let dst = data.buffer.as_ptr() as u64;
    let out_strides = contiguous_strides(out.shape);
    match op {
        Op::Full(v) => fill(name, dst, n, out.dtype, *v, s)?,
        Op::Arange { start, step } => {
            create(name, "arange", dst, n, *start, *step, 1, 0, out.dtype, s)?
        }
        Op::Eye { k } => create(
            name,
            "eye",
            dst,
            n,
            0.0,
            0.0,
            out.shape[1].max(1) as i64,
            *k as i64,
            out.dtype,
            s,
        )?,
        Op::Concatenate { axis } => {
            let mut at = 0isize;
            for x in inputs {
                copy_into(name, x, dst, at * out_strides[*axis], &out_strides, s)?;
                at += x.shape[*axis] as isize;
            }
        }
        Op::Pad { low, value } => {
            fill(name, dst, n, out.dtype, *value, s)?;
            let base: isize = low
                .iter()
                .zip(&out_strides)
                .map(|(&l, &st)| l as isize * st)
                .sum();
            copy_into(name, &inputs[0], dst, base, &out_strides, s)?;
        }
        Op::SliceUpdate { start, step } => {
            copy_into(name, &inputs[0], dst, 0, &out_strides, s)?;
            let base: isize = start
                .iter()
                .zip(&out_strides)
                .map(|(&a, &st)| a as isize * st)
                .sum();
            let view: Vec<isize> = out_strides
                .iter()
                .zip(step)
                .map(|(&st, &k)| st * k)
                .collect();
            copy_into(name, &inputs[1], dst, base, &view, s)?;
        }
        Op::Gather { axis } => {
            if !index_op(name, IndexKind::Take, *axis, inputs, out, dst, s)? {
                return Ok(None);
            }
        }
        Op::TakeAlongAxis { axis } => {
            if !index_op(name, IndexKind::Along, *axis, inputs, out, dst, s)? {
                return Ok(None);
            }
        }
        Op::PutAlongAxis { axis } => {
            copy_into(name, &inputs[0], dst, 0, &out_strides, s)?;
            if !index_op(name, IndexKind::Put, *axis, inputs, out, dst, s)? {
                return Ok(None);
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(data))
}

#[allow(clippy::too_many_arguments)]
fn create(
    op: &'static str,
    which: &str,
    out: u64,
    n: usize,
    start: f64,
    step: f64,
    cols: i64,
    k: i64,
    dtype: Dtype,
    s: &'static GpuStream,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let t = ctype(dtype);
    let f = function(
        s,
        &format!("create/{t}"),
        &format!("k_{which}{}", bits_of(n)),
        || create_source(t),
    )?;
    let p = CreateParams {
        out,
        n: n as i64,
        start,
        step,
        cols,
        k,
    };
    launch(
        op,
        f,
        s,
        (grid_for(n as u64, BLOCK as u64, s.gpu.sm_count), 1, 1),
        BLOCK,
        0,
        &p,
    )
}

#[derive(PartialEq, Clone, Copy)]
enum IndexKind {
    Take,
    Along,
    Put,
}

/// Runs an indexing kernel; false when an index was out of range (the caller falls back).
fn index_op(
    op: &'static str,
    kind: IndexKind,
    axis: usize,
    inputs: &[Input],
    out: &Output,
    dst: u64,
    s: &'static GpuStream,
) -> Result<bool> {
    let (a, idx) = (&inputs[0], &inputs[1]);
    if !idx.dtype.is_integer() {
        return Ok(false);
    }
    let mut p = Params {
        dst,
        src: a.data.buffer.as_ptr() as u64,
        idx: idx.data.buffer.as_ptr() as u64,
        src_offset: a.data.layout.offset as i64,
        idx_offset: idx.data.layout.offset as i64,
        axis: axis as i64,
        axis_len: a.shape[axis] as i64,
        axis_stride: a.data.layout.strides[axis] as i64,
        ..Params::default()
    };
    let space: Vec<usize>;
    match kind {
        IndexKind::Take => {
            // The output's space: a's dims before the axis, the index's, a's after.
            space = out.shape.to_vec();
            let k = idx.shape.len();
            let mut src = Vec::with_capacity(space.len());
            let mut ix = Vec::with_capacity(space.len());
            for d in 0..axis {
                src.push(a.data.layout.strides[d]);
                ix.push(0);
            }
            for d in 0..k {
                src.push(0);
                ix.push(if idx.shape[d] == 1 {
                    0
                } else {
                    idx.data.layout.strides[d]
                });
            }
            for d in axis + 1..a.shape.len() {
                src.push(a.data.layout.strides[d]);
                ix.push(0);
            }
            if space.len() > MAXD {
                return Ok(false);
            }
            p.src_strides = strides64(&src);
            p.idx_strides = strides64(&ix);
        }
        IndexKind::Along | IndexKind::Put => {
            // The index's space (the output's for take_along_axis, the updates' for put).
            space = idx.shape.to_vec();
            if space.len() > MAXD {
                return Ok(false);
            }
            let mut src = broadcast_strides(a, &space);
            src[axis] = 0;
            p.idx_strides = strides64(&broadcast_strides(idx, &space));
            if kind == IndexKind::Put {
                // Reads the values (input 2, already of the index's shape); writes the output.
                let values = &inputs[2];
                p.src = values.data.buffer.as_ptr() as u64;
                p.src_offset = values.data.layout.offset as i64;
                p.src_strides = strides64(&broadcast_strides(values, &space));
                let mut dst_view = contiguous_strides(out.shape);
                p.axis_len = out.shape[axis] as i64;
                p.axis_stride = dst_view[axis] as i64;
                dst_view[axis] = 0;
                p.dst_strides = strides64(&dst_view);
            } else {
                p.src_strides = strides64(&src);
            }
        }
    }
    p.ndim = space.len() as i64;
    p.shape = shape64(&space);
    p.n = numel(&space) as i64;
    if p.n == 0 {
        return Ok(true);
    }
    let w = word(a.dtype.size().max(out.dtype.size()));
    let ix = ctype(idx.dtype);
    let module = format!("move/index/{w}/{ix}");
    let bits = bits_of(numel(&space).max(numel(out.shape)));
    // The flag (and, for put, the winners after it) starts zeroed.
    let flag_bytes = if kind == IndexKind::Put {
        8 * (1 + numel(out.shape))
    } else {
        8
    };
    let flag = s.gpu.memory.allocate(op, flag_bytes, s)?;
    p.flag = flag.as_ptr() as u64;
    // SAFETY: the flag buffer holds `flag_bytes` bytes on this stream's GPU; the context is current.
    check(op, "cuMemsetD8Async", unsafe {
        sys::cuMemsetD8Async(p.flag, 0, flag_bytes, s.raw)
    })?;
    let grid = grid_for(p.n as u64, BLOCK as u64, s.gpu.sm_count);
    let src = || index_source(w, ix);
    match kind {
        IndexKind::Take => launch(
            op,
            function(s, &module, &format!("k_take{bits}"), src)?,
            s,
            (grid, 1, 1),
            BLOCK,
            0,
            &p,
        )?,
        IndexKind::Along => launch(
            op,
            function(s, &module, &format!("k_along{bits}"), src)?,
            s,
            (grid, 1, 1),
            BLOCK,
            0,
            &p,
        )?,
        IndexKind::Put => {
            launch(
                op,
                function(s, &module, &format!("k_winners{bits}"), src)?,
                s,
                (grid, 1, 1),
                BLOCK,
                0,
                &p,
            )?;
            launch(
                op,
                function(s, &module, &format!("k_put{bits}"), src)?,
                s,
                (grid, 1, 1),
                BLOCK,
                0,
                &p,
            )?;
        }
    }
    let mut bad = 0u32;
    // SAFETY: reads 4 bytes of the flag buffer into `bad`, queued after the kernels on this
    // stream; the stream is then synchronized before `bad` is read.
    check(op, "cuMemcpyDtoHAsync", unsafe {
        sys::cuMemcpyDtoHAsync_v2(&mut bad as *mut u32 as *mut _, p.flag, 4, s.raw)
    })?;
    s.synchronize(op)?;
    Ok(bad == 0)
}

/// A contiguous copy of `x` on `s` (for kernels that need one).
pub(in crate::backend::cuda) fn copy_contiguous(
    op: &'static str,
    x: &Input,
    s: &'static GpuStream,
) -> Result<Data> {
    let bytes = numel(x.shape) * x.dtype.size();
    let data = Data::contiguous(s.gpu.memory.allocate(op, bytes, s)?, x.shape);
    let strides = contiguous_strides(x.shape);
    copy_into(op, x, data.buffer.as_ptr() as u64, 0, &strides, s)?;
    Ok(data)
}

/// Writes `x` broadcast to `shape` into the contiguous `dst` (of `shape`).
pub(in crate::backend::cuda) fn broadcast_into(
    op: &'static str,
    x: &Input,
    dst: &Data,
    shape: &[usize],
    s: &'static GpuStream,
) -> Result<()> {
    copy(
        op,
        x.dtype.size(),
        shape,
        x.data.buffer.as_ptr() as u64,
        x.data.layout.offset,
        &broadcast_strides(x, shape),
        dst.buffer.as_ptr() as u64,
        0,
        &contiguous_strides(shape),
        s,
    )
}

/// Sets every byte of `data`'s buffer to zero, on `s`.
pub(in crate::backend::cuda) fn zero(
    op: &'static str,
    data: &Data,
    s: &'static GpuStream,
) -> Result<()> {
    // SAFETY: the buffer is device memory of this stream's GPU of `len` bytes; the context is
    // current (the caller's).
    check(op, "cuMemsetD8Async", unsafe {
        sys::cuMemsetD8Async(data.buffer.as_ptr() as u64, 0, data.buffer.len(), s.raw)
    })
}

/// `view`: `x`'s bytes as `out`'s dtype. A row-contiguous input whose start is aligned for the
/// new dtype is shared, not copied (as a slice or reshape shares it); any other is laid out
/// contiguously first. Views as bool run on the CPU's kernel, which turns each nonzero byte into
/// `true`.
pub(super) fn view(x: &Input, out: &Output, s: &'static GpuStream) -> Result<Option<Data>> {
    if out.dtype == Dtype::Bool {
        return Ok(None);
    }
    let start = x.data.layout.offset * x.dtype.size();
    let (buffer, start) =
        if x.data.layout.is_row_contiguous(x.shape) && start.is_multiple_of(out.dtype.size()) {
            (x.data.buffer.clone(), start)
        } else {
            (copy_contiguous("view", x, s)?.buffer, 0)
        };
    Ok(Some(Data {
        buffer,
        layout: crate::shape::Layout {
            strides: contiguous_strides(out.shape),
            offset: start / out.dtype.size(),
        },
    }))
}
