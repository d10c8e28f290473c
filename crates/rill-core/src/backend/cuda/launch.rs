//! Launching a compiled kernel: every rill kernel takes one parameter, a `#[repr(C)]` struct of
//! 8-byte fields passed by value, whose C twin is declared in the kernel's source.

use super::compile::Function;
use super::driver::check;
use super::stream::GpuStream;
use crate::Result;
use cudarc::driver::sys;

/// Threads per block of the elementwise and reduction kernels.
pub(super) const BLOCK: u32 = 256;

/// Blocks for `n` work items of `per_block` each, capped so a grid-stride loop covers the rest.
pub(super) fn grid_for(n: u64, per_block: u64, sm_count: i32) -> u32 {
    let want = n.div_ceil(per_block.max(1)).max(1);
    want.min(sm_count as u64 * 32).min(u32::MAX as u64) as u32
}

/// Queues `f` on `stream` with `params` as its one argument.
///
/// The caller guarantees that `P` matches the kernel's parameter struct field for field, and that
/// every device address in it is valid for what the kernel does with it.
pub(super) fn launch<P: Copy>(
    op: &'static str,
    f: super::compile::Function,
    stream: &GpuStream,
    grid: (u32, u32, u32),
    block: u32,
    shared_bytes: u32,
    params: &P,
) -> Result<()> {
    let Function(raw) = f;
    let mut p = *params;
    let mut args = [&mut p as *mut P as *mut std::ffi::c_void];
    // SAFETY: `raw` is a loaded kernel whose single parameter has the layout of `P` (the caller's
    // guarantee); `args` points at a copy of the parameters that lives until the call returns (the
    // driver copies it at launch); the stream is valid and its context current (the caller ran
    // `make_current`).
    check(op, "cuLaunchKernel", unsafe {
        sys::cuLaunchKernel(
            raw,
            grid.0,
            grid.1,
            grid.2,
            block,
            1,
            1,
            shared_bytes,
            stream.raw,
            args.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    })
}
