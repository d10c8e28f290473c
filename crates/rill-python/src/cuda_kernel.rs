//! `mx.fast.cuda_kernel` and `mx.fast.precompiled_cuda_kernel`: argument conversion only; the
//! kernel's signature and the op live in the core (`rill_core::ops::cuda_kernel`).
//! `rill/core/fast.py` holds the Python-facing functions (keyword names and defaults as MLX's).

use crate::array::PyArray;
use crate::dtype::PyDtype;
use crate::errors::{guard, OrRaise};
use crate::ops::{arg, shape_arg};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};
use rill_core::ops::{self, CudaKernelDef, Launch, TemplateArg};
use rill_core::user_kernel::KernelScalar;
use rill_core::{Array, Dtype};

/// A kernel made by `fast.cuda_kernel`; `fast.py` wraps it in the callable MLX returns.
#[pyclass(name = "_CudaKernel", module = "rill.core", frozen)]
pub struct PyCudaKernel(CudaKernelDef);

fn template_args(
    template: Vec<(String, Bound<'_, PyAny>)>,
) -> PyResult<Vec<(String, TemplateArg)>> {
    template
        .into_iter()
        .map(|(name, v)| {
            let arg = if let Ok(b) = v.cast::<PyBool>() {
                TemplateArg::Bool(b.is_true())
            } else if v.is_instance_of::<PyInt>() {
                TemplateArg::Int(v.extract::<i32>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "[cuda_kernel] template argument {name} = {v} does not fit an int"
                    ))
                })?)
            } else if let Ok(d) = v.extract::<PyDtype>() {
                TemplateArg::Dtype(d.0)
            } else {
                return Err(PyTypeError::new_err(format!(
                    "[cuda_kernel] template argument {name} must be an int, a bool or a Dtype, \
                     got {}",
                    v.get_type().name()?
                )));
            };
            Ok((name, arg))
        })
        .collect()
}

struct Args {
    inputs: Vec<Array>,
    output_shapes: Vec<Vec<usize>>,
    output_dtypes: Vec<Dtype>,
}

impl Args {
    fn launch(&self, grid: [i64; 3], threadgroup: [i64; 3], init_value: Option<f64>) -> Launch<'_> {
        Launch {
            inputs: &self.inputs,
            output_shapes: &self.output_shapes,
            output_dtypes: &self.output_dtypes,
            grid,
            threadgroup,
            init_value,
        }
    }
}

fn args(
    inputs: &[Bound<'_, PyAny>],
    output_shapes: &[Bound<'_, PyAny>],
    output_dtypes: Vec<PyDtype>,
) -> PyResult<Args> {
    Ok(Args {
        inputs: inputs.iter().map(arg).collect::<PyResult<_>>()?,
        output_shapes: output_shapes
            .iter()
            .map(|s| shape_arg("cuda_kernel", s))
            .collect::<PyResult<_>>()?,
        output_dtypes: output_dtypes.into_iter().map(|d| d.0).collect(),
    })
}

fn wrap(arrays: rill_core::Result<Vec<Array>>) -> PyResult<Vec<PyArray>> {
    Ok(arrays.or_raise()?.into_iter().map(PyArray::new).collect())
}

#[pymethods]
impl PyCudaKernel {
    #[new]
    #[pyo3(signature = (name, input_names, output_names, source, header, ensure_row_contiguous, shared_memory))]
    fn new(
        name: &str,
        input_names: Vec<String>,
        output_names: Vec<String>,
        source: &str,
        header: &str,
        ensure_row_contiguous: bool,
        shared_memory: i64,
    ) -> PyResult<Self> {
        guard(|| {
            ops::cuda_kernel(
                name,
                input_names,
                output_names,
                source,
                header,
                ensure_row_contiguous,
                shared_memory,
            )
            .or_raise()
            .map(PyCudaKernel)
        })
    }

    /// The source NVRTC compiles for these inputs, output dtypes and template arguments.
    fn source(
        &self,
        inputs: Vec<Bound<'_, PyAny>>,
        output_dtypes: Vec<PyDtype>,
        template: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<String> {
        guard(|| {
            let inputs: Vec<Array> = inputs.iter().map(arg).collect::<PyResult<_>>()?;
            let dtypes: Vec<Dtype> = inputs.iter().map(Array::dtype).collect();
            let ndims: Vec<usize> = inputs.iter().map(Array::ndim).collect();
            let outs: Vec<Dtype> = output_dtypes.into_iter().map(|d| d.0).collect();
            let (_, src) = self
                .0
                .source_for(&dtypes, &ndims, &outs, &template_args(template)?)
                .or_raise()?;
            Ok(src)
        })
    }

    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (inputs, output_shapes, output_dtypes, grid, threadgroup, template, init_value, stream))]
    fn launch(
        &self,
        inputs: Vec<Bound<'_, PyAny>>,
        output_shapes: Vec<Bound<'_, PyAny>>,
        output_dtypes: Vec<PyDtype>,
        grid: [i64; 3],
        threadgroup: [i64; 3],
        template: Vec<(String, Bound<'_, PyAny>)>,
        init_value: Option<f64>,
        stream: Option<StreamArg>,
    ) -> PyResult<Vec<PyArray>> {
        guard(|| {
            let a = args(&inputs, &output_shapes, output_dtypes)?;
            let launch = a.launch(grid, threadgroup, init_value);
            wrap(self.0.call(&launch, &template_args(template)?, sod(stream)))
        })
    }
}

fn scalar(v: &Bound<'_, PyAny>) -> PyResult<KernelScalar> {
    if let Ok(b) = v.cast::<PyBool>() {
        Ok(KernelScalar::Bool(b.is_true()))
    } else if v.is_instance_of::<PyInt>() {
        v.extract::<i32>().map(KernelScalar::Int).map_err(|_| {
            PyTypeError::new_err(format!(
                "[precompiled_cuda_kernel] the scalar {v} does not fit an int"
            ))
        })
    } else if v.is_instance_of::<PyFloat>() {
        Ok(KernelScalar::Float(v.extract::<f64>()? as f32))
    } else {
        Err(PyTypeError::new_err(format!(
            "[precompiled_cuda_kernel] scalars must be bool, int or float, got {}",
            v.get_type().name()?
        )))
    }
}

#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (name, compiled_source, inputs, output_shapes, output_dtypes, scalars, grid, threadgroup, shared_memory, init_value, ensure_row_contiguous, stream))]
pub fn _precompiled_cuda_kernel(
    name: &str,
    compiled_source: Vec<u8>,
    inputs: Vec<Bound<'_, PyAny>>,
    output_shapes: Vec<Bound<'_, PyAny>>,
    output_dtypes: Vec<PyDtype>,
    scalars: Vec<Bound<'_, PyAny>>,
    grid: [i64; 3],
    threadgroup: [i64; 3],
    shared_memory: i64,
    init_value: Option<f64>,
    ensure_row_contiguous: bool,
    stream: Option<StreamArg>,
) -> PyResult<Vec<PyArray>> {
    guard(|| {
        let a = args(&inputs, &output_shapes, output_dtypes)?;
        let scalars = scalars.iter().map(scalar).collect::<PyResult<Vec<_>>>()?;
        let launch = a.launch(grid, threadgroup, init_value);
        wrap(ops::precompiled_cuda_kernel(
            name,
            &compiled_source,
            &launch,
            &scalars,
            shared_memory,
            ensure_row_contiguous,
            sod(stream),
        ))
    })
}

/// Adds a directory (a CUDA toolkit's `include`) to those user kernels are compiled with.
#[pyfunction]
pub fn _add_cuda_include_dir(path: std::path::PathBuf) {
    rill_core::user_kernel::add_include_dir(path);
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCudaKernel>()?;
    m.add_function(wrap_pyfunction!(_precompiled_cuda_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(_add_cuda_include_dir, m)?)?;
    Ok(())
}
