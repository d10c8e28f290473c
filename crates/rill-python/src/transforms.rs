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
use std::sync::Arc;

thread_local! {
    /// The exception a Python function raised inside a transform on this thread, waiting to be
    /// raised again by the binding that started the transform (a rule of a custom function can
    /// run long after the call that registered it, inside another transform: every transform
    /// binding looks here when rill-core returns an error).
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Keeps a Python exception in `RAISED` (the first one wins: later ones are its consequences) and
/// returns the rill error that ends the transform in its place.
fn keep_raised(e: PyErr) -> rill_core::Error {
    RAISED.with(|r| {
        r.borrow_mut().get_or_insert(e);
    });
    Error::Runtime {
        op: "transform",
        msg: "the function raised an exception".into(),
    }
}

/// Calls `fun` with `args` (converted by the caller) and reads back the list of arrays it
/// returns. A Python exception is kept in `RAISED` and stands behind the rill error that ends
/// the transform.
fn call_with(
    fun: &Bound<'_, PyAny>,
    args: impl FnOnce(Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyTuple>>,
) -> rill_core::Result<Vec<Array>> {
    let run = || -> PyResult<Vec<Array>> {
        let out = fun.call1(args(fun.py())?)?;
        arrays(&out)
    };
    run().map_err(keep_raised)
}

/// Calls `fun` with a list of arrays and reads back the list of arrays it returns.
pub(crate) fn call(fun: &Bound<'_, PyAny>, xs: &[Array]) -> rill_core::Result<Vec<Array>> {
    call_with(fun, |py| {
        pyo3::types::PyTuple::new(py, [to_list(py, xs.to_vec())?])
    })
}

/// Runs a transform, raising again the exception a Python function raised inside it (the first
/// one: later ones are consequences).
pub(crate) fn transform<T>(t: impl FnOnce() -> rill_core::Result<T>) -> PyResult<T> {
    RAISED.with(|r| r.borrow_mut().take());
    let result = t();
    if let Some(e) = RAISED.with(|r| r.borrow_mut().take()) {
        return Err(e);
    }
    result.or_raise()
}

pub(crate) fn arrays(list: &Bound<'_, PyAny>) -> PyResult<Vec<Array>> {
    list.try_iter()?
        .map(|item| Ok(item?.cast::<PyArray>()?.borrow().get()))
        .collect()
}

pub(crate) fn to_list(py: Python<'_>, xs: Vec<Array>) -> PyResult<Bound<'_, PyList>> {
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
    let (a, b) = transform(|| t(&|xs: &[Array]| call(fun, xs)))?;
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
        let (program, outputs) = transform(|| transforms::Program::trace(|xs| call(fun, xs), &xs))?;
        Ok((PyProgram(program), to_list(fun.py(), outputs)?))
    })
}

/// `(outputs, batched, n)`: `fun(list_of_arrays) -> list_of_arrays` over the batch of `inputs`
/// split along `in_axes` (one per input; None: shared), each output with the batch as its first
/// dim when `batched` says so; `n` is the batch's length.
#[pyfunction]
fn _vmap<'py>(
    fun: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    in_axes: Vec<Option<isize>>,
) -> PyResult<(Bound<'py, PyList>, Vec<bool>, usize)> {
    guard(|| {
        let xs = arrays(inputs)?;
        let n = batch_len(&xs, &in_axes);
        let mapped = transform(|| transforms::vmap(|xs| call(fun, xs), &xs, &in_axes))?;
        let batched = mapped.iter().map(|m| m.batched).collect();
        let outs = mapped.into_iter().map(|m| m.array).collect();
        Ok((to_list(fun.py(), outs)?, batched, n))
    })
}

/// The length of the first mapped axis (vmap checks the others and the axes themselves).
fn batch_len(xs: &[Array], in_axes: &[Option<isize>]) -> usize {
    xs.iter()
        .zip(in_axes)
        .find_map(|(x, axis)| {
            let axis = (*axis)?;
            let d = if axis < 0 {
                axis + x.ndim() as isize
            } else {
                axis
            };
            x.shape().get(usize::try_from(d).ok()?).copied()
        })
        .unwrap_or(0)
}

/// A vmapped output placed at `axis` (rill_core::transforms::place).
#[pyfunction]
fn _vmap_place(
    out: PyRef<'_, PyArray>,
    batched: bool,
    axis: Option<isize>,
    n: usize,
) -> PyResult<PyArray> {
    guard(|| {
        let m = transforms::Mapped {
            array: out.get(),
            batched,
        };
        Ok(PyArray::new(transforms::place(m, axis, n).or_raise()?))
    })
}

/// A Python callable kept by a custom function's rules; called with the GIL taken.
fn py_fun(fun: Py<PyAny>) -> transforms::Fun {
    Arc::new(move |xs: &[Array]| Python::attach(|py| call(fun.bind(py), xs)))
}

/// `fun(list) -> list` with custom rules, each a Python callable over lists of arrays (or None):
/// `vjp(primals, cotangents, outputs) -> list`, `jvp(primals, tangents) -> list`,
/// `vmap(inputs, axes) -> (outputs, axes)`. `python/rill/core/_custom.py` maps MLX's arguments.
#[pyfunction]
#[pyo3(signature = (fun, inputs, vjp = None, jvp = None, vmap = None))]
fn _custom_function<'py>(
    fun: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    vjp: Option<Py<PyAny>>,
    jvp: Option<Py<PyAny>>,
    vmap: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    guard(|| {
        let xs = arrays(inputs)?;
        let rules = transforms::CustomRules {
            vjp: vjp.map(|f| {
                Arc::new(move |p: &[Array], c: &[Array], o: &[Array]| {
                    Python::attach(|py| {
                        call_with(f.bind(py), |py| {
                            pyo3::types::PyTuple::new(
                                py,
                                [
                                    to_list(py, p.to_vec())?,
                                    to_list(py, c.to_vec())?,
                                    to_list(py, o.to_vec())?,
                                ],
                            )
                        })
                    })
                }) as transforms::VjpRule
            }),
            jvp: jvp.map(|f| {
                Arc::new(move |p: &[Array], t: &[Array]| {
                    Python::attach(|py| {
                        call_with(f.bind(py), |py| {
                            pyo3::types::PyTuple::new(
                                py,
                                [to_list(py, p.to_vec())?, to_list(py, t.to_vec())?],
                            )
                        })
                    })
                }) as transforms::JvpRule
            }),
            vmap: vmap.map(|f| {
                Arc::new(move |xs: &[Array], axes: &[Option<usize>]| {
                    Python::attach(|py| call_vmap_rule(f.bind(py), xs, axes))
                }) as transforms::VmapRule
            }),
        };
        let f = py_fun(fun.clone().unbind());
        let outs = transform(|| transforms::custom_function(f, rules, &xs))?;
        to_list(fun.py(), outs)
    })
}

/// Calls a Python vmap rule: `(inputs, axes) -> (outputs, axes)`.
fn call_vmap_rule(
    f: &Bound<'_, PyAny>,
    xs: &[Array],
    axes: &[Option<usize>],
) -> rill_core::Result<(Vec<Array>, Vec<Option<usize>>)> {
    let run = || -> PyResult<(Vec<Array>, Vec<Option<usize>>)> {
        let py = f.py();
        let out = f.call1((to_list(py, xs.to_vec())?, axes.to_vec()))?;
        let (outs, out_axes): (Bound<'_, PyAny>, Vec<Option<usize>>) = out.extract()?;
        Ok((arrays(&outs)?, out_axes))
    };
    run().map_err(keep_raised)
}

/// `fun(list) -> list`, whose gradient recomputes it (MLX's `checkpoint`).
#[pyfunction]
fn _checkpoint<'py>(
    fun: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    guard(|| {
        let xs = arrays(inputs)?;
        let f = py_fun(fun.clone().unbind());
        let outs = transform(|| transforms::checkpoint(f, &xs))?;
        to_list(fun.py(), outs)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgram>()?;
    m.add_function(wrap_pyfunction!(_compile_trace, m)?)?;
    m.add_function(wrap_pyfunction!(_vmap, m)?)?;
    m.add_function(wrap_pyfunction!(_vmap_place, m)?)?;
    m.add_function(wrap_pyfunction!(_custom_function, m)?)?;
    m.add_function(wrap_pyfunction!(_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(_value_and_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_vjp, m)?)?;
    m.add_function(wrap_pyfunction!(_jvp, m)?)?;
    m.add_function(wrap_pyfunction!(stop_gradient, m)?)?;
    Ok(())
}
