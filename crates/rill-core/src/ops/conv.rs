//! Convolutions, MLX's layout: inputs `(N, spatial..., C_in)`, weights
//! `(C_out, kernel..., C_in / groups)`, channels last.
//!
//! `conv_general` checks the geometry and builds one `Op::Conv` node; `conv1d`/`conv2d`/`conv3d`
//! fix the number of spatial dims and use symmetric padding; a transposed convolution is the
//! convolution of the input dilated by the stride with the flipped kernel, padded by
//! `dilation * (k - 1) - padding` (MLX's definition, the gradient of the forward convolution
//! with respect to its input); `convolve` is NumPy's 1-D convolution as a one-channel `conv1d`.

use super::{astype, make, reshape};
use crate::dtype::promote_types;
use crate::op::{ConvParams, Op};
use crate::{Array, Error, Result, Stream, StreamOrDevice};

/// One value per spatial dim: a single value repeats, otherwise there must be exactly `d`.
fn per_dim<T: Copy + std::fmt::Debug>(
    name: &'static str,
    what: &str,
    v: &[T],
    d: usize,
) -> Result<Vec<T>> {
    match v.len() {
        1 => Ok(vec![v[0]; d]),
        n if n == d => Ok(v.to_vec()),
        _ => Err(Error::arg(
            name,
            format!("{what} {v:?} must have one value or one per spatial dimension ({d})"),
        )),
    }
}

fn check_float(name: &'static str, what: &str, a: &Array) -> Result<()> {
    if !a.dtype().is_float() {
        return Err(Error::dtype(
            name,
            format!(
                "Invalid {what} array with type {}. Convolution currently only supports floating point types",
                a.dtype()
            ),
        ));
    }
    Ok(())
}

/// The general convolution (cross-correlation unless `flip`) of `input` `(N, spatial..., C_in)`
/// with `weight` `(C_out, kernel..., C_in / groups)`: `stride`, `padding_lo`/`padding_hi`,
/// `kernel_dilation` and `input_dilation` take one value or one per spatial dim (1 to 3 of
/// them). Floating dtypes only; the result has their promoted dtype.
#[allow(clippy::too_many_arguments)]
pub fn conv_general(
    input: &Array,
    weight: &Array,
    stride: &[usize],
    padding_lo: &[usize],
    padding_hi: &[usize],
    kernel_dilation: &[usize],
    input_dilation: &[usize],
    groups: usize,
    flip: bool,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let name = "conv";
    let stream = s.into().resolve(name)?;
    let (x_shape, w_shape) = (input.shape(), weight.shape());
    if !(3..=5).contains(&x_shape.len()) {
        return Err(Error::shape(
            name,
            format!("Only works for inputs with 1-3 spatial dimensions. The inputs must be in the format [N, ..., C_in] (got input shape {x_shape:?})"),
        ));
    }
    if w_shape.len() != x_shape.len() {
        return Err(Error::shape(
            name,
            format!("The weight must have as many dimensions as the input, in the format [C_out, ..., C_in] (input shape {x_shape:?}, weight shape {w_shape:?})"),
        ));
    }
    check_float(name, "input", input)?;
    check_float(name, "weight", weight)?;
    let d = x_shape.len() - 2;
    let (c_in, c_out) = (x_shape[d + 1], w_shape[0]);
    if groups == 0 || c_in % groups != 0 || w_shape[d + 1] * groups != c_in {
        return Err(Error::shape(
            name,
            format!("Expect the input channels in the input and weight array to match but got shapes - input: {x_shape:?} and weight: {w_shape:?} (groups {groups})"),
        ));
    }
    if c_out % groups != 0 {
        return Err(Error::shape(
            name,
            format!("If groups > 1, the output channels must be divisible by the number of groups. Got {c_out} output channels and {groups} groups."),
        ));
    }
    let p = ConvParams {
        stride: per_dim(name, "stride", stride, d)?,
        padding_lo: per_dim(name, "padding", padding_lo, d)?,
        padding_hi: per_dim(name, "padding", padding_hi, d)?,
        kernel_dilation: per_dim(name, "kernel dilation", kernel_dilation, d)?,
        input_dilation: per_dim(name, "input dilation", input_dilation, d)?,
        groups,
        flip,
    };
    for (what, v) in [
        ("stride", &p.stride),
        ("kernel dilation", &p.kernel_dilation),
        ("input dilation", &p.input_dilation),
    ] {
        if v.contains(&0) {
            return Err(Error::arg(
                name,
                format!("{what} must be positive, got {v:?}"),
            ));
        }
    }
    let mut out_shape = vec![x_shape[0]];
    for i in 0..d {
        let dilated_in = if x_shape[i + 1] == 0 {
            0
        } else {
            (x_shape[i + 1] - 1) * p.input_dilation[i] + 1
        };
        let padded = dilated_in + p.padding_lo[i] + p.padding_hi[i];
        let dilated_k = (w_shape[i + 1].max(1) - 1) * p.kernel_dilation[i] + 1;
        if w_shape[i + 1] == 0 || padded < dilated_k {
            return Err(Error::shape(
                name,
                format!(
                    "Spatial dimensions of input after padding cannot be smaller than weight spatial dimensions. Got error at axis {} for input with shape {x_shape:?}, padding low {:?}, padding high {:?}, and weight of shape {w_shape:?}.",
                    i + 1,
                    p.padding_lo,
                    p.padding_hi
                ),
            ));
        }
        out_shape.push((padded - dilated_k) / p.stride[i] + 1);
    }
    out_shape.push(c_out);
    let dtype = promote_types(input.dtype(), weight.dtype());
    let x = astype(input, dtype, stream)?;
    let w = astype(weight, dtype, stream)?;
    make(
        name,
        out_shape,
        dtype,
        stream,
        Op::Conv(Box::new(p)),
        vec![x, w],
    )
}

fn check_rank(name: &'static str, d: usize, input: &Array, weight: &Array) -> Result<()> {
    if input.ndim() != d + 2 || weight.ndim() != d + 2 {
        return Err(Error::shape(
            name,
            format!(
                "Expected input and weight of {} dimensions ([N, ..., C_in] and [C_out, ..., C_in]), got shapes {:?} and {:?}",
                d + 2,
                input.shape(),
                weight.shape()
            ),
        ));
    }
    Ok(())
}

/// A convolution over `d = stride.len()` spatial dims with symmetric `padding` and kernel
/// `dilation` (`conv1d`, `conv2d`, `conv3d`; `name` is the caller's).
#[allow(clippy::too_many_arguments)]
pub fn conv_nd(
    name: &'static str,
    input: &Array,
    weight: &Array,
    stride: &[usize],
    padding: &[usize],
    dilation: &[usize],
    groups: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve(name)?;
    check_rank(name, stride.len(), input, weight)?;
    conv_general(
        input,
        weight,
        stride,
        padding,
        padding,
        dilation,
        &[1],
        groups,
        false,
        stream,
    )
}

/// The transposed convolution over `d = stride.len()` spatial dims (`conv_transpose1d/2d/3d`):
/// output size `(in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1`.
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose_nd(
    name: &'static str,
    input: &Array,
    weight: &Array,
    stride: &[usize],
    padding: &[usize],
    dilation: &[usize],
    output_padding: &[usize],
    groups: usize,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve(name)?;
    let d = stride.len();
    check_rank(name, d, input, weight)?;
    let padding = per_dim(name, "padding", padding, d)?;
    let dilation = per_dim(name, "dilation", dilation, d)?;
    let output_padding = per_dim(name, "output padding", output_padding, d)?;
    let mut lo = Vec::with_capacity(d);
    let mut hi = Vec::with_capacity(d);
    for i in 0..d {
        let reach = dilation[i] * weight.shape()[i + 1].saturating_sub(1);
        if padding[i] > reach {
            return Err(Error::arg(
                name,
                format!(
                    "padding {padding:?} is larger than the dilated kernel's reach {reach} at spatial axis {} (weight shape {:?}, dilation {dilation:?})",
                    i + 1,
                    weight.shape()
                ),
            ));
        }
        lo.push(reach - padding[i]);
        hi.push(reach - padding[i] + output_padding[i]);
    }
    conv_general(
        input,
        weight,
        &[1],
        &lo,
        &hi,
        &dilation,
        stride,
        groups,
        true,
        stream,
    )
}

/// How much of the full discrete convolution `convolve` keeps (NumPy's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvolveMode {
    /// Every point where the two overlap: length `n + m - 1`.
    Full,
    /// The middle `max(n, m)` points of `Full`.
    Same,
    /// Only the points where the shorter lies wholly inside the longer: `max(n, m) - min(n, m) + 1`.
    Valid,
}

impl ConvolveMode {
    pub fn parse(mode: &str) -> Result<Self> {
        match mode {
            "full" => Ok(ConvolveMode::Full),
            "same" => Ok(ConvolveMode::Same),
            "valid" => Ok(ConvolveMode::Valid),
            _ => Err(Error::arg(
                "convolve",
                format!("Invalid mode '{mode}': expected 'full', 'same' or 'valid'"),
            )),
        }
    }
}

/// NumPy's `convolve` of two 1-D arrays (swapped when `v` is the longer); floating dtypes only,
/// as in MLX.
pub fn convolve(
    a: &Array,
    v: &Array,
    mode: ConvolveMode,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream: Stream = s.into().resolve("convolve")?;
    if a.ndim() != 1 || v.ndim() != 1 {
        return Err(Error::shape(
            "convolve",
            format!(
                "Inputs must be 1D (got shapes {:?} and {:?})",
                a.shape(),
                v.shape()
            ),
        ));
    }
    let (a, v) = if v.shape()[0] > a.shape()[0] {
        (v, a)
    } else {
        (a, v)
    };
    let (n, m) = (a.shape()[0], v.shape()[0]);
    if m == 0 {
        return Err(Error::shape("convolve", "Inputs cannot be empty"));
    }
    let (lo, hi) = match mode {
        ConvolveMode::Full => (m - 1, m - 1),
        ConvolveMode::Same => (m - 1 - (m - 1) / 2, (m - 1) / 2),
        ConvolveMode::Valid => (0, 0),
    };
    // conv_general refuses integer inputs with MLX's message and promotes the two floats.
    let x = reshape(a, &[1, n as isize, 1], stream)?;
    let w = reshape(v, &[1, m as isize, 1], stream)?;
    let y = conv_general(&x, &w, &[1], &[lo], &[hi], &[1], &[1], 1, true, stream)?;
    reshape(&y, &[-1], stream)
}
