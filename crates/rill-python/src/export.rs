//! The native half of `export_function`, `exporter` and `import_function`: rill-core's
//! `transforms::{FunctionExporter, ImportedFunction}` over flat lists of arrays.
//! `python/rill/core/_export.py` maps MLX's calling conventions (positional and keyword arrays,
//! or one tuple and/or dict of them) to a flat list, a positional count and keyword names.
//!
//! Tracing calls the Python function with the GIL held (recording is per thread); writing the
//! file (which evaluates the constants) and reading one release it.

use crate::errors::{guard, OrRaise};
use crate::io::path_arg;
use crate::transforms::{arrays, call, to_list, transform};
use pyo3::prelude::*;
use pyo3::types::PyList;
use rill_core::transforms::{FunctionExporter, ImportedFunction, Program, Signature};
use std::sync::Mutex;

/// An open export: each `add` traces the function once more and rewrites the file.
#[pyclass(name = "_FunctionExporter", module = "rill.core", frozen)]
pub struct PyFunctionExporter(Mutex<FunctionExporter>);

#[pymethods]
impl PyFunctionExporter {
    #[new]
    #[pyo3(signature = (file, shapeless = false, metadata = String::new()))]
    fn new(file: &Bound<'_, PyAny>, shapeless: bool, metadata: String) -> PyResult<Self> {
        guard(|| {
            let path = path_arg("export_function", file, None)?;
            Ok(PyFunctionExporter(Mutex::new(FunctionExporter::new(
                path, shapeless, metadata,
            ))))
        })
    }

    /// Traces `fun(list_of_arrays) -> list_of_arrays` at `inputs` (the positional inputs, then
    /// one per keyword name, `keywords` sorted) and writes the trace.
    fn add(
        &self,
        py: Python<'_>,
        fun: &Bound<'_, PyAny>,
        inputs: &Bound<'_, PyAny>,
        positional: usize,
        keywords: Vec<String>,
    ) -> PyResult<()> {
        guard(|| {
            let xs = arrays(inputs)?;
            let (program, _) = transform(|| Program::trace(|xs| call(fun, xs), &xs))?;
            let signature = Signature {
                positional,
                keywords,
            };
            // The lock is taken with the GIL released: a thread waiting for it never holds
            // the GIL that the thread holding it needs to return.
            py.detach(|| {
                let mut exporter = self.0.lock().unwrap_or_else(|e| e.into_inner());
                exporter.add(signature, program)
            })
            .or_raise()
        })
    }

    /// Takes no more traces.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.0.lock().unwrap_or_else(|e| e.into_inner()).close());
    }
}

/// `(positional count, keyword names, [(shape, dtype name)])` of one trace.
type TraceSignature = (usize, Vec<String>, Vec<(Vec<usize>, &'static str)>);

/// A function read from an export file.
#[pyclass(name = "_ImportedFunction", module = "rill.core", frozen)]
pub struct PyImportedFunction(ImportedFunction);

#[pymethods]
impl PyImportedFunction {
    /// The outputs of the trace that takes `positional` (a list of arrays) and `keywords` (a
    /// list of `(name, array)` pairs).
    fn call<'py>(
        &self,
        positional: &Bound<'py, PyAny>,
        keywords: Vec<(String, PyRef<'py, crate::array::PyArray>)>,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let pos = arrays(positional)?;
            let kw: Vec<_> = keywords.iter().map(|(n, a)| (n.clone(), a.get())).collect();
            let out = self.0.call(&pos, &kw).or_raise()?;
            to_list(positional.py(), out)
        })
    }

    /// The metadata string stored with the function.
    #[getter]
    fn metadata(&self) -> &str {
        self.0.metadata()
    }

    /// Whether the function was exported with `shapeless=True`.
    #[getter]
    fn shapeless(&self) -> bool {
        self.0.shapeless()
    }

    /// `(positional count, keyword names, [(shape, dtype name)])` of each trace.
    #[getter]
    fn signatures(&self) -> Vec<TraceSignature> {
        self.0
            .signatures()
            .into_iter()
            .map(|(s, meta)| {
                (
                    s.positional,
                    s.keywords,
                    meta.into_iter()
                        .map(|(shape, d)| (shape, d.name()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// Reads the function exported to `file`.
#[pyfunction]
fn _import_function(py: Python<'_>, file: &Bound<'_, PyAny>) -> PyResult<PyImportedFunction> {
    guard(|| {
        let path = path_arg("import_function", file, None)?;
        let f = py.detach(|| ImportedFunction::read(&path)).or_raise()?;
        Ok(PyImportedFunction(f))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFunctionExporter>()?;
    m.add_class::<PyImportedFunction>()?;
    m.add_function(wrap_pyfunction!(_import_function, m)?)?;
    Ok(())
}
