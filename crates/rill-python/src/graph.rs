//! The graph as arrays see it: `depends` (an edge that orders work without carrying data),
//! `export_to_dot` (the graph of some outputs as Graphviz text) and `get_array_buffer_size` (the
//! memory behind evaluated arrays). rill-core's `ops::depends` and `graph` module do the work;
//! this file converts MLX's arguments.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::eval::{collect, collect_only_arrays};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use rill_core::{graph, ops, Array};

/// `arg` as a list of arrays, and whether it was one array (MLX returns one array then, a list
/// otherwise). MLX takes an array or a sequence of arrays; anything else is a `TypeError` here
/// (MLX raises `RuntimeError: std::bad_cast`, which names nothing).
fn array_or_sequence(what: &str, arg: &Bound<'_, PyAny>) -> PyResult<(Vec<Array>, bool)> {
    if let Ok(a) = arg.cast::<PyArray>() {
        return Ok((vec![a.get().get()], true));
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = arg.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = arg.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "[depends] {what} must be an array or a list or tuple of arrays, not {}",
            arg.get_type().name()?
        )));
    };
    let arrays = items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.cast::<PyArray>() {
            Ok(a) => Ok(a.get().get()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "[depends] {what} must hold only arrays; item {i} is {}",
                item.get_type().name()?
            ))),
        })
        .collect::<PyResult<_>>()?;
    Ok((arrays, false))
}

/// Arrays with the values of `inputs` that are computed only after `dependencies`: one array
/// for one array, a list for a list or tuple.
#[pyfunction]
#[pyo3(signature = (inputs, dependencies))]
fn depends(
    py: Python<'_>,
    inputs: &Bound<'_, PyAny>,
    dependencies: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        let (xs, single) = array_or_sequence("inputs", inputs)?;
        let (deps, _) = array_or_sequence("dependencies", dependencies)?;
        let mut outs = ops::depends(&xs, &deps).or_raise()?;
        if single {
            let out = outs.pop().expect("one output per input");
            return Ok(Bound::new(py, PyArray::new(out))?.into_any().unbind());
        }
        let items = outs
            .into_iter()
            .map(|a| Bound::new(py, PyArray::new(a)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any().unbind())
    })
}

/// Writes the graph of the output arrays in `args` (arrays, or lists, tuples and dicts of them)
/// in DOT to `file`: a path (a string, or any `os.PathLike`, which MLX refuses) or an object with
/// `write` (given the text as one string). `kwargs` name arrays of the graph.
#[pyfunction]
#[pyo3(signature = (file, *args, **kwargs))]
fn export_to_dot(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    guard(|| {
        let mut outputs = Vec::new();
        collect_only_arrays("export_to_dot", args.as_any(), &mut outputs)?;
        let mut names = Vec::new();
        for (k, v) in kwargs.into_iter().flat_map(|d| d.iter()) {
            let a = v.cast::<PyArray>().map_err(|_| {
                PyValueError::new_err(format!(
                    "[export_to_dot] the keyword arguments name arrays; {k} is not an array"
                ))
            })?;
            names.push((k.extract::<String>()?, a.get().get()));
        }
        let text = graph::to_dot(&outputs, &names);
        let is_path = file.is_instance_of::<PyString>() || file.hasattr("__fspath__")?;
        if is_path {
            let os = py.import("os")?;
            let path: std::path::PathBuf = os.getattr("fspath")?.call1((file,))?.extract()?;
            return py.detach(|| std::fs::write(&path, text)).map_err(|e| {
                PyOSError::new_err(format!(
                    "[export_to_dot] cannot write {}: {e}",
                    path.display()
                ))
            });
        }
        if file.hasattr("write")? {
            file.call_method1("write", (text,))?;
            return Ok(());
        }
        Err(PyValueError::new_err(
            "[export_to_dot] Accepts file-like objects or strings to be used as filenames.",
        ))
    })
}

/// The bytes reserved for the distinct buffers behind the arrays in `args` (arrays, or lists,
/// tuples and dicts of them; other leaves are ignored), each buffer counted once. The arrays
/// must have been evaluated (or be under evaluation, which this waits for with the GIL released).
#[pyfunction]
#[pyo3(signature = (*args))]
fn get_array_buffer_size(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<usize> {
    guard(|| {
        let mut arrays = Vec::new();
        collect(args.as_any(), &mut arrays);
        py.detach(|| graph::array_buffer_size(&arrays)).or_raise()
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(depends, m)?)?;
    m.add_function(wrap_pyfunction!(export_to_dot, m)?)?;
    m.add_function(wrap_pyfunction!(get_array_buffer_size, m)?)?;
    Ok(())
}
