//! `fast.cuda_kernel` and `fast.precompiled_cuda_kernel`: a user's CUDA kernel as an op of the
//! graph, so it is ordered with rill's own ops across streams and devices like any other.
//!
//! As in MLX, the user writes a kernel's body; the signature is generated from the input and
//! output names: `const T* <input>` for each input (followed by `Shape <input>_shape`,
//! `Strides <input>_strides` and `int <input>_ndim` when the body names them), then `T* <output>`
//! for each output. Template arguments become `constexpr int`, `constexpr bool` and `using`
//! lines at the top of the body. The grid is counted in threads, as MLX counts it.
//!
//! The header rill puts in front of the user's is its own (MLX's includes MLX's device headers):
//! fixed-width integer types, `Shape`/`Strides` (8 dims), `complex64_t`, `elem_to_loc`, `inf`,
//! and the CUDA toolkit's `cuda_fp16.h`, `cuda_bf16.h` and `cooperative_groups.h` when the
//! kernel's types or text need them (NVRTC has none of these built in: the backend passes the
//! toolkit's include directory; `user.rs` says where it looks).

use super::{full, make, reshape, slice, view};
use crate::device::DeviceType;
use crate::op::Op;
use crate::stream::StreamOrDevice;
use crate::user_kernel::{KernelCode, KernelOutput, KernelScalar, ShapeArgs, UserKernel};
use crate::{Array, Dtype, Error, Result, Stream};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

const OP: &str = "cuda_kernel";

/// Outputs after the first start at multiples of this many bytes in the node's buffer.
const OUTPUT_ALIGN: usize = 256;

/// A template argument of a kernel: a compile-time constant of its body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TemplateArg {
    Int(i32),
    Bool(bool),
    Dtype(Dtype),
}

/// A kernel made by [`cuda_kernel`]: its text and names, launched by [`CudaKernelDef::call`].
#[derive(Debug, Clone)]
pub struct CudaKernelDef {
    pub name: String,
    pub input_names: Vec<String>,
    pub output_names: Vec<String>,
    pub source: String,
    pub header: String,
    pub ensure_row_contiguous: bool,
    pub shared_memory: u32,
    shape_args: Vec<ShapeArgs>,
}

/// What one launch of a kernel computes on.
pub struct Launch<'a> {
    pub inputs: &'a [Array],
    pub output_shapes: &'a [Vec<usize>],
    pub output_dtypes: &'a [Dtype],
    /// In threads per dimension.
    pub grid: [i64; 3],
    pub threadgroup: [i64; 3],
    /// Each output's value before the kernel runs (else its contents are undefined).
    pub init_value: Option<f64>,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn check_names(what: &str, names: &[String]) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        if !is_identifier(n) {
            return Err(Error::arg(
                OP,
                format!("{what} name {n:?} is not a C identifier"),
            ));
        }
        if names[..i].contains(n) {
            return Err(Error::arg(OP, format!("{what} name {n:?} appears twice")));
        }
    }
    Ok(())
}

/// A kernel from the body `source` (and `header`, placed before the function), whose parameters
/// are named by `input_names` and `output_names`.
pub fn cuda_kernel(
    name: &str,
    input_names: Vec<String>,
    output_names: Vec<String>,
    source: &str,
    header: &str,
    ensure_row_contiguous: bool,
    shared_memory: i64,
) -> Result<CudaKernelDef> {
    if !is_identifier(name) {
        return Err(Error::arg(
            OP,
            format!("the kernel's name {name:?} must be a C identifier (letters, digits, _)"),
        ));
    }
    if output_names.is_empty() {
        return Err(Error::arg(OP, "Must specify at least one output."));
    }
    check_names("input", &input_names)?;
    check_names("output", &output_names)?;
    if let Some(n) = input_names.iter().find(|n| output_names.contains(n)) {
        return Err(Error::arg(
            OP,
            format!("{n:?} names both an input and an output"),
        ));
    }
    let shared_memory = shared_memory_bytes(shared_memory)?;
    // As MLX: the shape, strides and ndim of an input are passed when the body names them.
    let shape_args = input_names
        .iter()
        .map(|n| ShapeArgs {
            shape: source.contains(&format!("{n}_shape")),
            strides: source.contains(&format!("{n}_strides")),
            ndim: source.contains(&format!("{n}_ndim")),
        })
        .collect();
    Ok(CudaKernelDef {
        name: name.to_string(),
        input_names,
        output_names,
        source: source.to_string(),
        header: header.to_string(),
        ensure_row_contiguous,
        shared_memory,
        shape_args,
    })
}

fn shared_memory_bytes(bytes: i64) -> Result<u32> {
    u32::try_from(bytes).map_err(|_| {
        Error::arg(
            OP,
            format!(
                "shared_memory must be between 0 and {} bytes, got {bytes}",
                u32::MAX
            ),
        )
    })
}

/// The C type a kernel's signature gives an element of `d`.
fn c_type(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::Uint8 => "uint8_t",
        Dtype::Uint16 => "uint16_t",
        Dtype::Uint32 => "uint32_t",
        Dtype::Uint64 => "uint64_t",
        Dtype::Int8 => "int8_t",
        Dtype::Int16 => "int16_t",
        Dtype::Int32 => "int32_t",
        Dtype::Int64 => "int64_t",
        Dtype::Float16 => "__half",
        Dtype::Bfloat16 => "__nv_bfloat16",
        Dtype::Float32 => "float",
        Dtype::Float64 => "double",
        Dtype::Complex64 => "complex64_t",
    }
}

/// rill's part of every user kernel's source, before the user's header. The integer typedefs are
/// the ones CUDA's own headers make under NVRTC (`long long` for 64 bits), so a toolkit header
/// that declares them again declares the same types.
const HEADER: &str = r#"// rill: fast.cuda_kernel's header
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define MAX_NDIM 8
#define inf __int_as_float(0x7f800000)
struct Shape {
    int32_t v[MAX_NDIM];
    __device__ int32_t operator[](int i) const { return v[i]; }
    __device__ const int32_t* data() const { return v; }
};
struct Strides {
    int64_t v[MAX_NDIM];
    __device__ int64_t operator[](int i) const { return v[i]; }
    __device__ const int64_t* data() const { return v; }
};
struct __align__(8) complex64_t {
    float re, im;
    __device__ float real() const { return re; }
    __device__ float imag() const { return im; }
};
// The memory offset (in elements) of the row-major element `elem` of an array laid out by
// `shape` and `strides`.
template <typename IdxT = int64_t>
__device__ IdxT elem_to_loc(IdxT elem, const int32_t* shape, const int64_t* strides, int ndim) {
    IdxT loc = 0;
    for (int i = ndim - 1; i >= 0; --i) {
        loc += (elem % shape[i]) * (IdxT)strides[i];
        elem /= shape[i];
    }
    return loc;
}
"#;

impl CudaKernelDef {
    /// The name of the generated `__global__` function for these template arguments (one
    /// function per set of them, as MLX names its instantiations).
    fn entry(&self, template: &[(String, TemplateArg)]) -> String {
        let mut name = format!("custom_kernel_{}", self.name);
        for (_, arg) in template {
            match arg {
                TemplateArg::Int(i) => {
                    let _ = write!(name, "_{}", i.to_string().replace('-', "n"));
                }
                TemplateArg::Bool(b) => name.push_str(if *b { "_t" } else { "_f" }),
                TemplateArg::Dtype(d) => {
                    let _ = write!(name, "_{d}");
                }
            }
        }
        name
    }

    /// The whole source NVRTC compiles for inputs of `input_dtypes`/`input_ndims` and outputs of
    /// `output_dtypes`, with its entry point's name.
    pub fn source_for(
        &self,
        input_dtypes: &[Dtype],
        input_ndims: &[usize],
        output_dtypes: &[Dtype],
        template: &[(String, TemplateArg)],
    ) -> Result<(String, String)> {
        for (name, _) in template {
            if !is_identifier(name) {
                return Err(Error::arg(
                    OP,
                    format!("template argument name {name:?} is not a C identifier"),
                ));
            }
        }
        let entry = self.entry(template);
        let dtypes = || {
            input_dtypes
                .iter()
                .chain(output_dtypes)
                .copied()
                .chain(template.iter().filter_map(|(_, a)| match a {
                    TemplateArg::Dtype(d) => Some(*d),
                    _ => None,
                }))
        };
        let text = format!("{}\n{}", self.header, self.source);
        let mut src = String::from(HEADER);
        if dtypes().any(|d| d == Dtype::Float16) || text.contains("__half") {
            src.push_str("#include <cuda_fp16.h>\n");
        }
        if dtypes().any(|d| d == Dtype::Bfloat16) || text.contains("__nv_bfloat16") {
            src.push_str("#include <cuda_bf16.h>\n");
        }
        if text.contains("cooperative_groups") || text.contains("cg::") {
            src.push_str("#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n");
        }
        src.push_str(&self.header);
        let _ = write!(src, "\nextern \"C\" __global__ void {entry}(\n");
        let mut params = Vec::new();
        for (i, name) in self.input_names.iter().enumerate() {
            params.push(format!("    const {}* {name}", c_type(input_dtypes[i])));
            let a = self.shape_args[i];
            if input_ndims[i] > 0 {
                if a.shape {
                    params.push(format!("    const Shape {name}_shape"));
                }
                if a.strides {
                    params.push(format!("    const Strides {name}_strides"));
                }
                if a.ndim {
                    params.push(format!("    const int {name}_ndim"));
                }
            }
        }
        for (name, &d) in self.output_names.iter().zip(output_dtypes) {
            params.push(format!("    {}* {name}", c_type(d)));
        }
        src.push_str(&params.join(",\n"));
        src.push_str(") {\n");
        for (name, arg) in template {
            let _ = match arg {
                TemplateArg::Int(i) => writeln!(src, "    constexpr int {name} = {i};"),
                TemplateArg::Bool(b) => writeln!(src, "    constexpr bool {name} = {b};"),
                TemplateArg::Dtype(d) => writeln!(src, "    using {name} = {};", c_type(*d)),
            };
        }
        src.push_str(&self.source);
        src.push_str("\n}\n");
        Ok((entry, src))
    }

    /// The kernel's outputs for one launch on `s` (a GPU stream).
    pub fn call(
        &self,
        launch: &Launch,
        template: &[(String, TemplateArg)],
        s: impl Into<StreamOrDevice>,
    ) -> Result<Vec<Array>> {
        let stream = s.into().resolve(OP)?;
        check_launch(launch, self.input_names.len(), self.output_names.len())?;
        let dtypes: Vec<Dtype> = launch.inputs.iter().map(Array::dtype).collect();
        let ndims: Vec<usize> = launch.inputs.iter().map(Array::ndim).collect();
        let (entry, src) = self.source_for(&dtypes, &ndims, launch.output_dtypes, template)?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        src.hash(&mut h);
        let module = format!("user/{entry}/{:016x}", h.finish());
        let shape_args = self.shape_args.clone();
        let code = KernelCode::Source(src);
        build(
            launch,
            stream,
            module,
            entry,
            code,
            shape_args,
            self.shared_memory,
            self.ensure_row_contiguous,
            Vec::new(),
        )
    }
}

/// Runs the kernel `name` of a compiled image (PTX text or a CUBIN), whose parameters are the
/// inputs' pointers, the outputs' pointers and then `scalars`.
#[allow(clippy::too_many_arguments)]
pub fn precompiled_cuda_kernel(
    name: &str,
    image: &[u8],
    launch: &Launch,
    scalars: &[KernelScalar],
    shared_memory: i64,
    ensure_row_contiguous: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<Array>> {
    let stream = s.into().resolve(OP)?;
    if name.is_empty() || name.contains('\0') {
        return Err(Error::arg(OP, format!("invalid kernel name {name:?}")));
    }
    if image.is_empty() {
        return Err(Error::arg(OP, "compiled_source is empty"));
    }
    check_launch(launch, launch.inputs.len(), launch.output_shapes.len())?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    image.hash(&mut h);
    let module = format!("user-image/{name}/{:016x}", h.finish());
    let mut bytes = image.to_vec();
    // PTX is text that the driver reads up to a NUL; a CUBIN is an ELF file and is read whole.
    if !bytes.starts_with(b"\x7fELF") && bytes.last() != Some(&0) {
        bytes.push(0);
    }
    build(
        launch,
        stream,
        module,
        name.to_string(),
        KernelCode::Image(bytes),
        vec![ShapeArgs::default(); launch.inputs.len()],
        shared_memory_bytes(shared_memory)?,
        ensure_row_contiguous,
        scalars.to_vec(),
    )
}

fn check_launch(l: &Launch, inputs: usize, outputs: usize) -> Result<()> {
    let count = |what: &str, want: usize, got: usize| {
        if want == got {
            Ok(())
        } else {
            Err(Error::arg(
                OP,
                format!("Expected `{what}` to have size {want} but got size {got}."),
            ))
        }
    };
    count("inputs", inputs, l.inputs.len())?;
    count("output_shapes", outputs, l.output_shapes.len())?;
    count("output_dtypes", outputs, l.output_dtypes.len())?;
    if outputs == 0 {
        return Err(Error::arg(OP, "Must specify at least one output."));
    }
    for (what, dims) in [("grid", l.grid), ("threadgroup", l.threadgroup)] {
        if dims.iter().any(|&d| d < 1 || d > u32::MAX as i64) {
            return Err(Error::arg(
                OP,
                format!(
                    "every dimension of {what} must be between 1 and {}, got {dims:?}",
                    u32::MAX
                ),
            ));
        }
    }
    let threads: i64 = l.threadgroup.iter().product();
    if threads > 1024 {
        return Err(Error::arg(
            OP,
            format!(
                "a threadgroup holds at most 1024 threads on CUDA GPUs, got {:?} ({threads})",
                l.threadgroup
            ),
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn build(
    launch: &Launch,
    stream: Stream,
    module: String,
    entry: String,
    code: KernelCode,
    shape_args: Vec<ShapeArgs>,
    shared_memory: u32,
    ensure_row_contiguous: bool,
    scalars: Vec<KernelScalar>,
) -> Result<Vec<Array>> {
    let device = stream.device();
    if device.kind != DeviceType::Gpu {
        return Err(Error::device(
            OP,
            format!(
                "user CUDA kernels run on GPU streams only; {stream} is on the {}",
                device.kind
            ),
        ));
    }
    // Each output's place in the node's buffer (one output: the buffer is the output).
    let single = launch.output_shapes.len() == 1;
    let mut outputs = Vec::with_capacity(launch.output_shapes.len());
    let mut bytes = 0usize;
    for (shape, &dtype) in launch.output_shapes.iter().zip(launch.output_dtypes) {
        crate::shape::check_size(OP, shape, dtype)?;
        outputs.push(KernelOutput {
            shape: shape.clone(),
            dtype,
            offset: bytes,
        });
        let size = shape.iter().product::<usize>() * dtype.size();
        bytes = bytes
            .checked_add(size.next_multiple_of(OUTPUT_ALIGN))
            .ok_or_else(|| Error::arg(OP, "the outputs' total size overflows"))?;
    }
    let mut inputs = launch.inputs.to_vec();
    if let Some(v) = launch.init_value {
        for o in &outputs {
            inputs.push(full(&o.shape, v, Some(o.dtype), stream)?);
        }
    }
    let kernel = UserKernel {
        module,
        entry,
        code,
        grid: launch.grid.map(|d| d as u32),
        block: launch.threadgroup.map(|d| d as u32),
        shared_memory,
        shape_args,
        ensure_row_contiguous,
        outputs: outputs.clone(),
        init: launch.init_value.is_some(),
        scalars,
    };
    let op = Op::CudaKernel(Arc::new(kernel));
    if single {
        let o = &outputs[0];
        return Ok(vec![make(
            OP,
            o.shape.clone(),
            o.dtype,
            stream,
            op,
            inputs,
        )?]);
    }
    let packed = make(OP, vec![bytes], Dtype::Uint8, stream, op, inputs)?;
    outputs
        .iter()
        .map(|o| {
            let len = o.shape.iter().product::<usize>() * o.dtype.size();
            let start = o.offset as isize;
            let piece = slice(&packed, &[start], &[start + len as isize], &[1], stream)?;
            // Bytes viewed as the dtype along one axis, then given the output's shape.
            let typed = view(&piece, o.dtype, stream)?;
            let shape: Vec<isize> = o.shape.iter().map(|&d| d as isize).collect();
            reshape(&typed, &shape, stream)
        })
        .collect()
}
