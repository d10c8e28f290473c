//! A user's own GPU kernel as a node of the graph (`Op::CudaKernel`): what `fast.cuda_kernel` and
//! `fast.precompiled_cuda_kernel` (`ops/cuda_kernel.rs`) hand the CUDA backend
//! (`backend/cuda/kernels/user.rs`). Data only, like every `Op`.
//!
//! The node's inputs are the user's inputs, followed (when `init` is set) by one array per output
//! holding its initial value. With one output, the node's output is that output; with several, it
//! is one `uint8` buffer holding them all, each at its `offset` (a multiple of 256 bytes), which
//! the builder slices and views as the outputs.

use crate::Dtype;

/// How the kernel's code arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelCode {
    /// CUDA source, compiled by NVRTC for the GPU's architecture (and cached like rill's own).
    Source(String),
    /// A compiled image: PTX text (ending in a NUL byte) or a CUBIN.
    Image(Vec<u8>),
}

/// Which descriptions of an input the kernel's signature takes after its pointer (a `Shape`, a
/// `Strides` and an `int` named `<input>_shape`, `<input>_strides`, `<input>_ndim`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShapeArgs {
    pub shape: bool,
    pub strides: bool,
    pub ndim: bool,
}

/// A scalar passed by value after the outputs (precompiled kernels only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KernelScalar {
    Bool(bool),
    Int(i32),
    Float(f32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KernelOutput {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    /// Byte offset in the node's buffer (0 with a single output).
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserKernel {
    /// The name the kernel is cached under, unique to its code.
    pub module: String,
    /// The `__global__` function to launch.
    pub entry: String,
    pub code: KernelCode,
    /// In threads, as MLX counts it; the launch uses `ceil(grid / block)` blocks per dimension.
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_memory: u32,
    /// One per user input.
    pub shape_args: Vec<ShapeArgs>,
    pub ensure_row_contiguous: bool,
    pub outputs: Vec<KernelOutput>,
    /// Whether each output is first set from the input after the user's (an initial value).
    pub init: bool,
    pub scalars: Vec<KernelScalar>,
}

impl UserKernel {
    /// How many of the node's inputs are the user's (the rest are initial values).
    pub fn user_inputs(&self) -> usize {
        self.shape_args.len()
    }
}

static INCLUDE_DIRS: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Adds a directory to those user kernels are compiled with (a CUDA toolkit's `include`, say);
/// the backend also looks in the usual places (`backend/cuda/kernels/user.rs`).
pub fn add_include_dir(dir: impl Into<std::path::PathBuf>) {
    let dir = dir.into();
    let mut dirs = INCLUDE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    if !dirs.contains(&dir) {
        dirs.push(dir);
    }
}

/// The directories `add_include_dir` added, in order.
pub fn added_include_dirs() -> Vec<std::path::PathBuf> {
    INCLUDE_DIRS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}
