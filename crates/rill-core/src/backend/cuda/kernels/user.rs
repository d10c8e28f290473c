//! `Op::CudaKernel` on the GPU: a user's kernel (`user_kernel.rs`), compiled by NVRTC (or loaded
//! from the user's PTX/CUBIN) once per process and module, and launched on the node's stream
//! with the parameters its generated signature declares, in order: each input's pointer (and its
//! `Shape`, `Strides`, `int` ndim when asked for), each output's pointer, then the scalars.
//!
//! NVRTC has no CUDA headers built in; a kernel that includes `cuda_fp16.h`, `cuda_bf16.h` or
//! `cooperative_groups.h` (ops/cuda_kernel.rs adds them when its types or text need them) is
//! compiled with the include directories of a CUDA toolkit: those in `$RILL_CUDA_INCLUDE`
//! (separated by `:`), those added with `user_kernel::add_include_dir` (the Python package adds
//! the `nvidia/cu13/include` of pip's CUDA runtime when present), `$CUDA_HOME/include`,
//! `$CUDA_PATH/include` and `/usr/local/cuda/include`, each with its `cccl` subdirectory
//! (CUDA 13 keeps `cuda/std` there).

use super::super::compile::{cubin_with, Function};
use super::super::driver::check;
use super::super::stream::GpuStream;
use super::common::{addr, output};
use super::movement::copy_contiguous;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::shape::numel;
use crate::user_kernel::{KernelCode, KernelScalar, UserKernel};
use crate::{Error, Result};
use cudarc::driver::sys;
use smallvec::SmallVec;
use std::path::PathBuf;

const OP: &str = "cuda_kernel";

/// Dims a `Shape`/`Strides` parameter holds (`MAX_NDIM` in ops/cuda_kernel.rs's header).
const MAX_NDIM: usize = 8;

/// The most dynamic shared memory a kernel gets without asking the driver for more.
const DEFAULT_SHARED_LIMIT: u32 = 48 * 1024;

pub(super) fn run(
    k: &UserKernel,
    inputs: &[Input],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Data> {
    let users = k.user_inputs();
    let expected = users + if k.init { k.outputs.len() } else { 0 };
    if inputs.len() != expected {
        return Err(Error::runtime(
            OP,
            format!(
                "kernel {} got {} inputs, expected {expected}",
                k.entry,
                inputs.len()
            ),
        ));
    }
    let f = function(k, s)?;
    let data = output(OP, out, s)?;
    let base = data.buffer.as_ptr() as u64;
    // Kept until the launch is queued, then released in stream order after it.
    let mut copies: SmallVec<[Data; 4]> = SmallVec::new();
    if k.init {
        for (o, init) in k.outputs.iter().zip(&inputs[users..]) {
            let bytes = numel(&o.shape) * o.dtype.size();
            if bytes == 0 {
                continue;
            }
            let src = if init.data.layout.is_row_contiguous(init.shape) {
                addr(init)
            } else {
                let c = copy_contiguous(OP, init, s)?;
                let a = c.buffer.as_ptr() as u64;
                copies.push(c);
                a
            };
            // SAFETY: both ranges are `bytes` long inside live device buffers (the output was
            // allocated for every output; the initial value has the output's shape and dtype),
            // and the copy is queued on the stream that owns both.
            check(OP, "cuMemcpyDtoDAsync", unsafe {
                sys::cuMemcpyDtoDAsync_v2(base + o.offset as u64, src, bytes, s.raw)
            })?;
        }
    }
    // Each parameter in a block of 8-byte words (aligned for any parameter type), pointed to by
    // the array the driver reads.
    let mut params: Vec<Vec<u64>> = Vec::new();
    for (x, shape_args) in inputs[..users].iter().zip(&k.shape_args) {
        let contiguous = x.data.layout.is_row_contiguous(x.shape);
        let (address, strides) = if k.ensure_row_contiguous && !contiguous {
            let c = copy_contiguous(OP, x, s)?;
            let a = c.buffer.as_ptr() as u64;
            let strides = c.layout.strides.clone();
            copies.push(c);
            (a, strides)
        } else {
            (addr(x), x.data.layout.strides.clone())
        };
        params.push(vec![address]);
        if x.shape.is_empty() {
            continue;
        }
        if (shape_args.shape || shape_args.strides) && x.shape.len() > MAX_NDIM {
            return Err(Error::shape(
                OP,
                format!(
                    "an input whose shape or strides the kernel reads has at most {MAX_NDIM} \
                     dims, got shape {:?}",
                    x.shape
                ),
            ));
        }
        if shape_args.shape {
            let mut dims = [0i32; MAX_NDIM];
            for (d, &n) in dims.iter_mut().zip(x.shape) {
                *d = i32::try_from(n).map_err(|_| {
                    Error::shape(
                        OP,
                        format!("a dim of shape {:?} does not fit an int", x.shape),
                    )
                })?;
            }
            params.push(
                dims.chunks(2)
                    .map(|p| (p[0] as u32 as u64) | ((p[1] as u32 as u64) << 32))
                    .collect(),
            );
        }
        if shape_args.strides {
            let mut words = vec![0u64; MAX_NDIM];
            for (w, &st) in words.iter_mut().zip(&strides) {
                *w = st as i64 as u64;
            }
            params.push(words);
        }
        if shape_args.ndim {
            params.push(vec![x.shape.len() as u64]);
        }
    }
    for o in &k.outputs {
        params.push(vec![base + o.offset as u64]);
    }
    for sc in &k.scalars {
        params.push(vec![match *sc {
            KernelScalar::Bool(b) => b as u64,
            KernelScalar::Int(i) => i as u32 as u64,
            KernelScalar::Float(x) => x.to_bits() as u64,
        }]);
    }
    let mut pointers: Vec<*mut std::ffi::c_void> = params
        .iter_mut()
        .map(|p| p.as_mut_ptr() as *mut std::ffi::c_void)
        .collect();
    let Function(raw) = f;
    if k.shared_memory > DEFAULT_SHARED_LIMIT {
        // SAFETY: `raw` is a loaded kernel; the attribute takes a byte count.
        check(OP, "cuFuncSetAttribute", unsafe {
            sys::cuFuncSetAttribute(
                raw,
                sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                k.shared_memory as i32,
            )
        })?;
    }
    let blocks = [0, 1, 2].map(|d| k.grid[d].div_ceil(k.block[d]));
    // SAFETY: `raw` is the user's kernel; `pointers` holds one pointer per parameter of its
    // signature (generated from the same description for a kernel from source; the user's
    // promise for a precompiled one, as in MLX), each pointing at a block that lives until the
    // call returns (the driver copies the values at launch). Every device address is inside a
    // live buffer: the inputs', the copies' (kept until after the launch is queued) and the
    // output's. The stream's context is current (`kernels::run`).
    check(OP, "cuLaunchKernel", unsafe {
        sys::cuLaunchKernel(
            raw,
            blocks[0],
            blocks[1],
            blocks[2],
            k.block[0],
            k.block[1],
            k.block[2],
            k.shared_memory,
            s.raw,
            pointers.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    })
    .map_err(|e| Error::device(OP, format!("kernel {}: {e}", k.entry)))?;
    drop(copies);
    Ok(data)
}

fn function(k: &UserKernel, s: &'static GpuStream) -> Result<Function> {
    s.gpu
        .kernels
        .function_from(s.gpu, &k.module, &k.entry, |arch| match &k.code {
            KernelCode::Image(bytes) => Ok(bytes.clone()),
            KernelCode::Source(src) => {
                let dirs = include_dirs();
                let options: Vec<String> = dirs
                    .iter()
                    .map(|d| format!("--include-path={}", d.display()))
                    .collect();
                cubin_with(src, arch, &k.module, &options).map_err(|e| {
                    let mut msg = e.to_string();
                    if msg.contains("cannot open source file")
                        || msg.contains("could not open source file")
                    {
                        msg.push_str(&format!(
                            "\n(rill looked for CUDA's headers in {dirs:?}; set RILL_CUDA_INCLUDE \
                             or CUDA_HOME to a CUDA toolkit's include directory)"
                        ));
                    }
                    Error::device(OP, msg)
                })
            }
        })
}

/// The include directories that exist among the ones the module doc lists, in that order.
fn include_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("RILL_CUDA_INCLUDE") {
        roots.extend(std::env::split_paths(&v));
    }
    roots.extend(crate::user_kernel::added_include_dirs());
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(v) = std::env::var_os(var) {
            roots.push(PathBuf::from(v).join("include"));
        }
    }
    roots.push(PathBuf::from("/usr/local/cuda/include"));
    let mut dirs: Vec<PathBuf> = Vec::new();
    for r in roots {
        for d in [r.join("cccl"), r] {
            if d.is_dir() && !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs
}
