//! What a lazy array will compute: the contract between the graph (which builds ops and infers
//! their shapes and dtypes) and the backends (which run them).
//!
//! An `Op` is data only. The output's shape and dtype live on the array; everything a backend needs
//! beyond that and the inputs is in the variant. Builders in `ops/` check arguments, promote and
//! cast dtypes, and infer the output shape; inputs of elementwise ops are passed with their own
//! shapes, which broadcast to the output's (kernels broadcast by stride 0, with no extra node).

use crate::Scalar;

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    // --- creation (no inputs) ---
    /// Every element is the value, cast to the output dtype.
    Full(Scalar),
    /// Element `i` is `start + i * step`, computed in f64 then cast.
    Arange {
        start: f64,
        step: f64,
    },
    /// Ones on the `k`-th diagonal of a 2-D output.
    Eye {
        k: isize,
    },

    // --- elementwise; inputs broadcast to the output shape ---
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// `where(cond, x, y)`; `cond` is bool, `x` and `y` have the output dtype.
    Where,
    /// Cast to the output dtype.
    AsType,
    /// A row-contiguous copy.
    Copy,
    /// The input's bytes, in row-major order, read as the output dtype (`ops::view`); the last
    /// dim's length is scaled by the ratio of the element sizes.
    View,

    // --- views: the output shares the input's buffer when the layout allows ---
    /// To the output shape; copies only when the input's strides cannot express it.
    Reshape,
    /// Output dim `i` is input dim `perm[i]`.
    Transpose(Vec<usize>),
    /// Output element `idx` is input element `start + idx * step` (per dim; steps may be negative).
    Slice {
        start: Vec<usize>,
        step: Vec<isize>,
    },
    /// To the output shape by NumPy broadcasting (stride 0).
    BroadcastTo,

    // --- reductions; the output keeps reduced dims as size 1 ---
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
    },
    ArgReduce {
        op: ArgReduceOp,
        axis: usize,
    },
    Scan {
        op: ScanOp,
        axis: usize,
        reverse: bool,
        inclusive: bool,
    },
    Softmax {
        axis: usize,
    },
    LogSumExp {
        axis: usize,
    },

    // --- linear algebra ---
    /// `(..., m, k) @ (..., k, n)`; batch dims already broadcast to the output's.
    Matmul,
    /// `alpha * (a @ b) + beta * c`; `c` broadcasts to the output shape.
    AddMm {
        alpha: f64,
        beta: f64,
    },

    /// A factorization or solve of the matrices in the last two dims (`ops::linalg_*`); the
    /// CPU kernels are in `backend/cpu/factor.rs`, the GPU runs them through its CPU fallback.
    /// Ops with several results write them packed into one output, which the builder slices.
    Factor(FactorOp),

    /// An N-dimensional convolution (cross-correlation) of a channels-last input
    /// `(batch, spatial..., c_in)` with weights `(c_out, kernel..., c_in / groups)`, to
    /// `(batch, out_spatial..., c_out)` (`ops::conv_general`). Boxed: its five vectors made
    /// every `Op`, and so every graph node, 80 bytes larger.
    Conv(Box<ConvParams>),

    /// Scaled dot-product attention, `softmax(scale * q @ k^T + mask) @ v` with the softmax in
    /// float32 (float64 for float64), over inputs `q (B, N_q, T_q, D)`, `k (B, N_kv, T_kv, D)`,
    /// `v (B, N_kv, T_kv, D_v)` of one float dtype (query head `h` reads key/value head
    /// `h / (N_q / N_kv)`), plus the mask as input 3 when `mask` names one (broadcast to
    /// `(B, N_q, T_q, T_kv)`). Output `(B, N_q, T_q, D_v)` (`ops::scaled_dot_product_attention`).
    Attention(AttentionParams),

    // --- spectral ---
    /// A one-dimensional discrete Fourier transform along `axis`, of length `n` (the input's
    /// length along `axis`, except for `RealInverse`, whose `n` is the output's and whose input
    /// holds `n / 2 + 1` terms). Complex64 in and out, except float32 into `RealForward` and
    /// out of `RealInverse`. `norm` says which direction is scaled (MLX's and NumPy's `norm`).
    Fft {
        axis: usize,
        kind: FftKind,
        norm: FftNorm,
    },

    // --- data movement ---
    Concatenate {
        axis: usize,
    },
    /// Pads `low[d]` elements before each dim `d` (the rest after) with `value`.
    Pad {
        low: Vec<usize>,
        value: Scalar,
    },
    /// `take(a, indices, axis)`: output = `a.shape[..axis] + indices.shape + a.shape[axis+1..]`.
    /// Negative indices count from the end; indices out of range are a runtime error.
    Gather {
        axis: usize,
    },
    /// `take_along_axis(a, indices, axis)`; `indices` already broadcast against `a`.
    TakeAlongAxis {
        axis: usize,
    },
    /// Writes `update` into a copy of `a` at the slice `start, step` (`a[slice] = update`).
    SliceUpdate {
        start: Vec<usize>,
        step: Vec<isize>,
    },
    /// `put_along_axis`: writes `values` into a copy of `a` at `indices` along `axis`.
    PutAlongAxis {
        axis: usize,
    },
    /// `a` with `updates` combined by `reduce` into it at `indices` along `axis`: with `Add`, the
    /// transpose of `Gather` (take's gradient), and MLX's `.at[]` updates. `updates` has take's
    /// output shape, `a.shape[..axis] + indices.shape + a.shape[axis+1..]`; repeated indices all
    /// combine (in the order of the updates).
    Scatter {
        axis: usize,
        reduce: ScatterReduce,
    },

    // --- sorting ---
    Sort {
        axis: usize,
    },
    ArgSort {
        axis: usize,
    },

    // --- random ---
    /// Uniformly random bits from a threefry key (`uint32[2]`), one uint32 per output element.
    RandomBits,

    // --- graph order ---
    /// Input 0's value, computed only after the other inputs (the dependencies) are
    /// (`ops::depends`): the output shares input 0's buffer and layout, nothing is copied, and the
    /// dependencies are only waited for, never read nor moved to the output's device.
    Depends,

    // --- built by compile ---
    /// Several elementwise float ops (and a reduction after them) in one pass (`fusion.rs`). Only
    /// `compile` builds it, for replays outside any transform, so no gradient or batching rule
    /// ever meets it.
    Fused(std::sync::Arc<crate::fusion::FusedKernel>),

    // --- the user's own ---
    /// A user's CUDA kernel (`user_kernel.rs`); GPU streams only.
    CudaKernel(std::sync::Arc<crate::user_kernel::UserKernel>),
}

impl Op {
    /// The op's name, as MLX names its primitives; errors and traces use it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Full(_) => "full",
            Op::Arange { .. } => "arange",
            Op::Eye { .. } => "eye",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Where => "where",
            Op::AsType => "astype",
            Op::Copy => "copy",
            Op::View => "view",
            Op::Reshape => "reshape",
            Op::Transpose(_) => "transpose",
            Op::Slice { .. } => "slice",
            Op::BroadcastTo => "broadcast_to",
            Op::Reduce { op, .. } => op.name(),
            Op::ArgReduce { op, .. } => op.name(),
            Op::Scan { op, .. } => op.name(),
            Op::Softmax { .. } => "softmax",
            Op::LogSumExp { .. } => "logsumexp",
            Op::Matmul => "matmul",
            Op::AddMm { .. } => "addmm",
            Op::Conv(_) => "conv",
            Op::Attention(_) => "scaled_dot_product_attention",
            Op::Factor(f) => f.name(),
            Op::Fft { kind, .. } => kind.name(),
            Op::Concatenate { .. } => "concatenate",
            Op::Pad { .. } => "pad",
            Op::Gather { .. } => "take",
            Op::TakeAlongAxis { .. } => "take_along_axis",
            Op::SliceUpdate { .. } => "slice_update",
            Op::PutAlongAxis { .. } => "put_along_axis",
            Op::Scatter { reduce, .. } => reduce.name(),
            Op::Sort { .. } => "sort",
            Op::ArgSort { .. } => "argsort",
            Op::RandomBits => "random_bits",
            Op::Depends => "depends",
            Op::Fused(_) => "fused",
            Op::CudaKernel(_) => "cuda_kernel",
        }
    }
}

/// What `Op::Attention` multiplies and masks the scores with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionParams {
    pub scale: f64,
    pub mask: AttentionMask,
}

/// The mask of `Op::Attention`. A masked score becomes [`AttentionMask::MASKED`] (MLX's
/// `finfo(float32).min`, not `-inf`: a row masked everywhere averages all values instead of
/// turning into NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttentionMask {
    None,
    /// Query `i` sees keys `j <= i + T_kv - T_q` (aligned to the lower right, as MLX).
    Causal,
    /// Input 3 (the scores' float type) is added to the scores.
    Additive,
    /// Input 3 (bool): false masks the score out.
    Boolean,
}

impl AttentionMask {
    pub const MASKED: f64 = f32::MIN as f64;

    /// Whether the op has the mask as input 3.
    pub fn is_input(self) -> bool {
        matches!(self, AttentionMask::Additive | AttentionMask::Boolean)
    }
}

/// The geometry of `Op::Conv`, one entry per spatial dim. Input position `i` (in the input
/// dilated by `input_dilation`: `input_dilation - 1` zeros between elements, then padded by
/// `padding_lo`/`padding_hi` zeros) meets kernel tap `k` at output position `o` when
/// `i = o * stride + k * kernel_dilation`; `flip` reads the kernel backwards along every spatial
/// dim (a true convolution). The input channels split into `groups` equal groups, each seen by
/// `c_out / groups` output channels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvParams {
    pub stride: Vec<usize>,
    pub padding_lo: Vec<usize>,
    pub padding_hi: Vec<usize>,
    pub kernel_dilation: Vec<usize>,
    pub input_dilation: Vec<usize>,
    pub groups: usize,
    pub flip: bool,
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }
    };
}

named_enum!(
    /// Elementwise functions of one array.
    UnaryOp {
        Abs => "abs", Negative => "negative", Sign => "sign",
        Exp => "exp", Expm1 => "expm1", Log => "log", Log1p => "log1p", Log2 => "log2", Log10 => "log10",
        Sqrt => "sqrt", Rsqrt => "rsqrt", Square => "square", Reciprocal => "reciprocal",
        Sin => "sin", Cos => "cos", Tan => "tan", ArcSin => "arcsin", ArcCos => "arccos", ArcTan => "arctan",
        Sinh => "sinh", Cosh => "cosh", Tanh => "tanh", Sigmoid => "sigmoid",
        ArcSinh => "arcsinh", ArcCosh => "arccosh", ArcTanh => "arctanh",
        Erf => "erf", ErfInv => "erfinv",
        Floor => "floor", Ceil => "ceil", Round => "round", Trunc => "trunc",
        LogicalNot => "logical_not", IsNan => "isnan", IsInf => "isinf", BitwiseInvert => "bitwise_invert",
    }
);

named_enum!(
    /// Elementwise functions of two arrays.
    BinaryOp {
        Add => "add", Subtract => "subtract", Multiply => "multiply", Divide => "divide",
        FloorDivide => "floor_divide", Remainder => "remainder", Power => "power",
        Maximum => "maximum", Minimum => "minimum", ArcTan2 => "arctan2", LogAddExp => "logaddexp",
        Equal => "equal", NotEqual => "not_equal", Less => "less", LessEqual => "less_equal",
        Greater => "greater", GreaterEqual => "greater_equal",
        LogicalAnd => "logical_and", LogicalOr => "logical_or",
        BitwiseAnd => "bitwise_and", BitwiseOr => "bitwise_or", BitwiseXor => "bitwise_xor",
        LeftShift => "left_shift", RightShift => "right_shift",
    }
);

named_enum!(ReduceOp { Sum => "sum", Prod => "prod", Max => "max", Min => "min", All => "all", Any => "any" });
named_enum!(ArgReduceOp { ArgMax => "argmax", ArgMin => "argmin" });
named_enum!(
    /// How a scatter combines an update with the element it lands on.
    ScatterReduce { Add => "scatter_add", Prod => "scatter_prod", Max => "scatter_max", Min => "scatter_min" }
);
named_enum!(
    /// Running reductions; `LogAddExp` is `logcumsumexp` (`log(exp(a) + exp(b))` carried along).
    ScanOp { Sum => "cumsum", Prod => "cumprod", Max => "cummax", Min => "cummin", LogAddExp => "logcumsumexp" }
);
named_enum!(
    /// The direction of a one-dimensional transform, and whether one side is real.
    FftKind { Forward => "fft", Inverse => "ifft", RealForward => "rfft", RealInverse => "irfft" }
);
named_enum!(
    /// Which direction of a transform is scaled by `1/n`: the inverse (`backward`, the default),
    /// both by `1/sqrt(n)` (`ortho`), or the forward one (`forward`).
    FftNorm { Backward => "backward", Ortho => "ortho", Forward => "forward" }
);

/// The factorizations and solves of `Op::Factor`, over the last two dims (batched over the rest),
/// float32 or float64. Each writes, per matrix, the pieces listed, in order, flattened row-major
/// into the last dim of one output of the input's dtype (the builders slice them out); `k` is
/// `min(m, n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactorOp {
    /// `(m, n)` -> the packed `L\U` factors `(m, n)`, then the `k` pivot rows (LAPACK's `getrf`
    /// order: row `i` was swapped with row `piv[i]`), then the row order `p` (`m`) with
    /// `a = (L U)[p]`, both as values of the dtype.
    LuFactor,
    /// `(n, n)` -> its inverse `(n, n)`; a singular matrix is an error.
    Inv,
    /// `(n, n)`, `(n, r)` -> `x` with `a @ x = b`, `(n, r)`; a singular matrix is an error.
    Solve,
    /// `(n, n)` -> `[sign, log|det|, det]`.
    Slogdet,
    /// `(n, n)` -> the Cholesky factor `(n, n)`, lower (`a = L Lᵀ`) or upper (`a = Uᵀ U`), read
    /// from that triangle of `a`; a matrix that is not positive definite is an error.
    Cholesky { upper: bool },
    /// `(n, n)` -> the inverse `(n, n)` of its lower or upper triangle.
    TriInv { upper: bool },
    /// `(n, n)`, `(n, r)` -> `x` with `tri(a) @ x = b`, `(n, r)`.
    SolveTriangular { upper: bool },
    /// `(m, n)` -> `Q (m, k)`, `R (k, n)` (Householder reflections).
    Qr,
    /// `(n, n)` symmetric, read from one triangle -> eigenvalues `(n)` ascending, then (with
    /// `vectors`) the eigenvectors `(n, n)` as columns.
    Eigh { upper: bool, vectors: bool },
    /// `(m, n)` -> with `vectors`, `U (m, m)`, the singular values `S (k)` descending, `Vt
    /// (n, n)`; without, `S (k)` alone.
    Svd { vectors: bool },
    /// `(n, n)` -> the eigenvalues `(n)`, then (with `vectors`) the eigenvectors `(n, n)` as
    /// columns of unit length. The one factorization whose output is complex64, whatever the
    /// input's real dtype.
    Eig { vectors: bool },
}

impl FactorOp {
    /// The name errors and traces use (MLX's function names).
    pub fn name(self) -> &'static str {
        match self {
            FactorOp::LuFactor => "lu_factor",
            FactorOp::Inv => "inv",
            FactorOp::Solve => "solve",
            FactorOp::Slogdet => "slogdet",
            FactorOp::Cholesky { .. } => "cholesky",
            FactorOp::TriInv { .. } => "tri_inv",
            FactorOp::SolveTriangular { .. } => "solve_triangular",
            FactorOp::Qr => "qr",
            FactorOp::Eigh { vectors: true, .. } => "eigh",
            FactorOp::Eigh { vectors: false, .. } => "eigvalsh",
            FactorOp::Svd { .. } => "svd",
            FactorOp::Eig { vectors: true } => "eig",
            FactorOp::Eig { vectors: false } => "eigvals",
        }
    }
}
