//! Function transforms: the native half of `grad`, `value_and_grad`, `vjp` and `jvp` (over flat
//! lists of arrays; `python/rill/core/_transforms.py` handles argnums, argnames and pytrees),
//! `stop_gradient`, and `compile`'s tracing and replay (`python/rill/core/_compile.py` keeps the
//! cache and the pytrees).
//!
//! The Python function runs on this thread while rill-core records the ops it builds, with the
//! GIL held (recording is per thread, so the function's ops must be built on the thread that
//! called the transform; nothing here waits for device work). An exception it raises stops the
//! transform and is raised again as it was.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::stream::{sod, StreamArg};
use pyo3::prelude::*;
use pyo3::types::PyList;
use rill_core::{transforms, Array, Error};
use std::cell::RefCell;

/// Calls `fun` with a list of arrays and reads back the list of arrays it returns. A Python
/// exception is kept in `raised` and stands behind the rill error that ends the transform.
fn call(
    fun: &Bound<'_, PyAny>,
    xs: &[Array],
    raised: &RefCell<Option<PyErr>>,
) -> rill_core::Result<Vec<Array>> {
    let run = || -> PyResult<Vec<Array>> {
        let py = fun.py();
        let args = xs
            .iter()
            .map(|a| Bound::new(py, PyArray::new(a.clone())))
            .collect::<PyResult<Vec<_>>>()?;
        let out = fun.call1((PyList::new(py, args)?,))?;
        out.try_iter()?
            .map(|item| Ok(item?.cast::<PyArray>()?.borrow().get()))
            .collect()
    };
    run().map_err(|e| {
        *raised.borrow_mut() = Some(e);
        Error::Runtime {
            op: "transform",
            msg: "the function raised an exception".into(),
        }
    })
}

fn arrays(list: &Bound<'_, PyAny>) -> PyResult<Vec<Array>> {
    list.try_iter()?
        .map(|item| Ok(item?.cast::<PyArray>()?.borrow().get()))
        .collect()
}

fn to_list(py: Python<'_>, xs: Vec<Array>) -> PyResult<Bound<'_, PyList>> {
    let items = xs
        .into_iter()
        .map(|a| Bound::new(py, PyArray::new(a)))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// The traced function as the transforms take it.
type Traced<'a> = &'a dyn Fn(&[Array]) -> rill_core::Result<Vec<Array>>;
/// What a transform returns: its outputs and one list of derivatives.
type Pair = (Vec<Array>, Vec<Array>);

/// Runs a transform whose function is `fun`, raising the function's own exception if it raised.
fn with_fun<'py>(
    fun: &Bound<'py, PyAny>,
    t: impl FnOnce(Traced<'_>) -> rill_core::Result<Pair>,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    let raised = RefCell::new(None);
    let result = t(&|xs: &[Array]| call(fun, xs, &raised));
    if let Some(e) = raised.into_inner() {
        return Err(e);
    }
    let (a, b) = result.or_raise()?;
    Ok((to_list(fun.py(), a)?, to_list(fun.py(), b)?))
}

/// `(outputs, grads)`: `fun(list_of_arrays) -> list_of_arrays` at `primals`, and the gradient of
/// its first output (a scalar) with respect to each primal.
#[pyfunction]
fn _value_and_grad<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    guard(|| {
        let primals = arrays(primals)?;
        with_fun(fun, |f| transforms::value_and_grad(f, &primals))
    })
}

/// `(outputs, vjps)` of `fun(list_of_arrays) -> list_of_arrays` at `primals`.
#[pyfunction]
fn _vjp<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyAny>,
    cotangents: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    guard(|| {
        let primals = arrays(primals)?;
        let cotangents = arrays(cotangents)?;
        with_fun(fun, |f| transforms::vjp(f, &primals, &cotangents))
    })
}

/// `(outputs, jvps)` of `fun(list_of_arrays) -> list_of_arrays` at `primals`.
#[pyfunction]
fn _jvp<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyAny>,
    tangents: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    guard(|| {
        let primals = arrays(primals)?;
        let tangents = arrays(tangents)?;
        with_fun(fun, |f| transforms::jvp(f, &primals, &tangents))
    })
}

/// `a`'s values, with its gradient cut: transforms treat the result as a constant.
#[pyfunction]
#[pyo3(signature = (a, /, *, stream = None))]
fn stop_gradient(a: &Bound<'_, PyAny>, stream: Option<StreamArg>) -> PyResult<PyArray> {
    guard(|| crate::ops::out(transforms::stop_gradient(&crate::ops::arg(a)?, sod(stream))))
}

/// A traced function (`rill.core.compile`'s native half): what replaying it builds.
#[pyclass(name = "Program", module = "rill.core", frozen)]
pub struct PyProgram(transforms::Program);

#[pymethods]
impl PyProgram {
    /// The traced function's outputs at `inputs` (a list of arrays of the traced shapes and
    /// dtypes), built without calling it.
    fn replay<'py>(&self, inputs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let xs = arrays(inputs)?;
            let out = self.0.replay(&xs).or_raise()?;
            to_list(inputs.py(), out)
        })
    }
    /// Nodes one replay builds.
    #[getter]
    fn nodes(&self) -> usize {
        self.0.len()
    }
    /// Nodes merged into identical ones while tracing (common subexpressions).
    #[getter]
    fn merged(&self) -> usize {
        self.0.merged()
    }
}

/// `(program, outputs)`: `fun(list_of_arrays) -> list_of_arrays` traced at `inputs`, and its
/// results for them.
#[pyfunction]
fn _compile_trace<'py>(
    fun: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
) -> PyResult<(PyProgram, Bound<'py, PyList>)> {
    guard(|| {
        let xs = arrays(inputs)?;
        let raised = RefCell::new(None);
        let result = transforms::Program::trace(|xs| call(fun, xs, &raised), &xs);
        if let Some(e) = raised.into_inner() {
            return Err(e);
        }
        let (program, outputs) = result.or_raise()?;
        Ok((PyProgram(program), to_list(fun.py(), outputs)?))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgram>()?;
    m.add_function(wrap_pyfunction!(_compile_trace, m)?)?;
    m.add_function(wrap_pyfunction!(_value_and_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_vjp, m)?)?;
    m.add_function(wrap_pyfunction!(_jvp, m)?)?;
    m.add_function(wrap_pyfunction!(stop_gradient, m)?)?;
    Ok(())
}
