//! Convolutions: `conv1d`/`conv2d`/`conv3d`, `conv_general`, `conv_transpose1d/2d/3d` and
//! `convolve`, with MLX's arguments (an int or one value per spatial dim); the core checks the
//! geometry and builds them.

use crate::array::PyArray;
use crate::errors::guard;
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops::{self, ConvolveMode};

/// An int (every spatial dim) or a sequence of `d` non-negative ints.
fn per_dim(name: &str, what: &str, v: &Bound<'_, PyAny>, d: usize) -> PyResult<Vec<usize>> {
    let values: Vec<i64> = match v.extract::<i64>() {
        Ok(i) => vec![i; d],
        Err(_) => v.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "[{name}] {what} must be an int or a sequence of ints"
            ))
        })?,
    };
    values
        .into_iter()
        .map(|x| {
            usize::try_from(x).map_err(|_| {
                PyValueError::new_err(format!("[{name}] {what} must not be negative, got {x}"))
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn conv_nd(
    name: &'static str,
    d: usize,
    input: &Bound<'_, PyAny>,
    weight: &Bound<'_, PyAny>,
    stride: &Bound<'_, PyAny>,
    padding: &Bound<'_, PyAny>,
    dilation: &Bound<'_, PyAny>,
    groups: usize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::conv_nd(
            name,
            &arg(input)?,
            &arg(weight)?,
            &per_dim(name, "stride", stride, d)?,
            &per_dim(name, "padding", padding, d)?,
            &per_dim(name, "dilation", dilation, d)?,
            groups,
            sod(stream),
        ))
    })
}

#[allow(clippy::too_many_arguments)]
fn conv_transpose_nd(
    name: &'static str,
    d: usize,
    input: &Bound<'_, PyAny>,
    weight: &Bound<'_, PyAny>,
    stride: &Bound<'_, PyAny>,
    padding: &Bound<'_, PyAny>,
    dilation: &Bound<'_, PyAny>,
    output_padding: &Bound<'_, PyAny>,
    groups: usize,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        out(ops::conv_transpose_nd(
            name,
            &arg(input)?,
            &arg(weight)?,
            &per_dim(name, "stride", stride, d)?,
            &per_dim(name, "padding", padding, d)?,
            &per_dim(name, "dilation", dilation, d)?,
            &per_dim(name, "output_padding", output_padding, d)?,
            groups,
            sod(stream),
        ))
    })
}

macro_rules! conv_fns {
    ($($fname:ident, $tname:ident, $d:literal, $doc:literal, $tdoc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (input, weight, /, stride = None, padding = None, dilation = None, groups = 1, *, stream = None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $fname(
            py: Python<'_>,
            input: &Bound<'_, PyAny>,
            weight: &Bound<'_, PyAny>,
            stride: Option<&Bound<'_, PyAny>>,
            padding: Option<&Bound<'_, PyAny>>,
            dilation: Option<&Bound<'_, PyAny>>,
            groups: usize,
            stream: Option<StreamArg>,
        ) -> PyResult<PyArray> {
            let one = 1i64.into_pyobject(py)?.into_any();
            let zero = 0i64.into_pyobject(py)?.into_any();
            conv_nd(
                stringify!($fname), $d, input, weight,
                stride.unwrap_or(&one), padding.unwrap_or(&zero), dilation.unwrap_or(&one),
                groups, stream,
            )
        }

        #[doc = $tdoc]
        #[pyfunction]
        #[pyo3(signature = (input, weight, /, stride = None, padding = None, dilation = None, output_padding = None, groups = 1, *, stream = None))]
        #[allow(clippy::too_many_arguments)]
        pub fn $tname(
            py: Python<'_>,
            input: &Bound<'_, PyAny>,
            weight: &Bound<'_, PyAny>,
            stride: Option<&Bound<'_, PyAny>>,
            padding: Option<&Bound<'_, PyAny>>,
            dilation: Option<&Bound<'_, PyAny>>,
            output_padding: Option<&Bound<'_, PyAny>>,
            groups: usize,
            stream: Option<StreamArg>,
        ) -> PyResult<PyArray> {
            let one = 1i64.into_pyobject(py)?.into_any();
            let zero = 0i64.into_pyobject(py)?.into_any();
            conv_transpose_nd(
                stringify!($tname), $d, input, weight,
                stride.unwrap_or(&one), padding.unwrap_or(&zero), dilation.unwrap_or(&one),
                output_padding.unwrap_or(&zero), groups, stream,
            )
        }
    )*};
}

conv_fns!(
    conv1d, conv_transpose1d, 1,
    "1-D convolution of `input` `(N, L, C_in)` with `weight` `(C_out, K, C_in / groups)`.",
    "1-D transposed convolution of `input` `(N, L, C_in)` with `weight` `(C_out, K, C_in / groups)`.";
    conv2d, conv_transpose2d, 2,
    "2-D convolution of `input` `(N, H, W, C_in)` with `weight` `(C_out, KH, KW, C_in / groups)`.",
    "2-D transposed convolution of `input` `(N, H, W, C_in)` with `weight` `(C_out, KH, KW, C_in / groups)`.";
    conv3d, conv_transpose3d, 3,
    "3-D convolution of `input` `(N, D, H, W, C_in)` with `weight` `(C_out, KD, KH, KW, C_in / groups)`.",
    "3-D transposed convolution of `input` `(N, D, H, W, C_in)` with `weight` `(C_out, KD, KH, KW, C_in / groups)`.";
);

/// The general convolution: `stride`, `kernel_dilation`, `input_dilation` as an int or one per
/// spatial dim; `padding` an int, one per dim, or a pair (low, high) of sequences; `flip` for a
/// true convolution.
#[pyfunction]
#[pyo3(signature = (input, weight, /, stride = None, padding = None, kernel_dilation = None, input_dilation = None, groups = 1, flip = false, *, stream = None))]
#[allow(clippy::too_many_arguments)]
pub fn conv_general(
    input: &Bound<'_, PyAny>,
    weight: &Bound<'_, PyAny>,
    stride: Option<&Bound<'_, PyAny>>,
    padding: Option<&Bound<'_, PyAny>>,
    kernel_dilation: Option<&Bound<'_, PyAny>>,
    input_dilation: Option<&Bound<'_, PyAny>>,
    groups: usize,
    flip: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    let name = "conv_general";
    guard(|| {
        let x = arg(input)?;
        let w = arg(weight)?;
        let d = x.ndim().saturating_sub(2).max(1);
        let get = |v: Option<&Bound<'_, PyAny>>, what: &str, default: usize| match v {
            Some(v) if !v.is_none() => per_dim(name, what, v, d),
            _ => Ok(vec![default; d]),
        };
        let (lo, hi) = match padding {
            Some(p) if !p.is_none() && p.extract::<i64>().is_err() => {
                // A pair of sequences is (low, high); a flat sequence pads both sides alike.
                match p.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>() {
                    Ok((l, h)) if l.extract::<i64>().is_err() => (
                        per_dim(name, "padding", &l, d)?,
                        per_dim(name, "padding", &h, d)?,
                    ),
                    _ => {
                        let v = per_dim(name, "padding", p, d)?;
                        (v.clone(), v)
                    }
                }
            }
            _ => {
                let v = get(padding, "padding", 0)?;
                (v.clone(), v)
            }
        };
        out(ops::conv_general(
            &x,
            &w,
            &get(stride, "stride", 1)?,
            &lo,
            &hi,
            &get(kernel_dilation, "kernel_dilation", 1)?,
            &get(input_dilation, "input_dilation", 1)?,
            groups,
            flip,
            sod(stream),
        ))
    })
}

/// NumPy's discrete convolution of two 1-D arrays; `mode` is "full", "same" or "valid".
#[pyfunction]
#[pyo3(signature = (a, v, /, mode = "full", *, stream = None))]
pub fn convolve(
    a: &Bound<'_, PyAny>,
    v: &Bound<'_, PyAny>,
    mode: &str,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let mode = ConvolveMode::parse(mode).map_err(|e| PyValueError::new_err(e.to_string()))?;
        out(ops::convolve(&arg(a)?, &arg(v)?, mode, sod(stream)))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),* $(,)?) => {$( m.add_function(wrap_pyfunction!($f, m)?)?; )*};
    }
    add!(
        conv1d,
        conv2d,
        conv3d,
        conv_transpose1d,
        conv_transpose2d,
        conv_transpose3d,
        conv_general,
        convolve
    );
    Ok(())
}
