//! `save`, `savez`, `savez_compressed`, `save_safetensors`, `save_gguf` and `load`, with MLX's
//! arguments, names and return values, on rill-core's `io` (which maps loaded files into memory).
//!
//! Files are named by `str` or `os.PathLike`. As in MLX and NumPy, `save` adds `.npy` to a
//! path without it, `savez`/`savez_compressed` add `.npz`, `save_safetensors` adds
//! `.safetensors` and `save_gguf` adds `.gguf`. Reading and writing run with the GIL released.
//! Python file objects are not accepted (rill maps files, which a file object cannot offer): a
//! `TypeError` says so.

use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use rill_core::io::{self, GgufValue, Loaded, Metadata};
use rill_core::Array;
use std::path::PathBuf;

/// The path a `file` argument names (`str` or `os.PathLike`), with `extension` added when it
/// does not already end with it.
pub(crate) fn path_arg(
    op: &str,
    file: &Bound<'_, PyAny>,
    extension: Option<&str>,
) -> PyResult<PathBuf> {
    let path: PathBuf = file.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "[{op}] file must be a str or an os.PathLike, not {} (file objects are not supported)",
            file.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(match extension {
        Some(ext) => io::with_extension(path, ext),
        None => path,
    })
}

/// `(name, array)` pairs from a dict of arrays.
fn named_arrays(op: &str, arrays: &Bound<'_, PyDict>) -> PyResult<Vec<(String, Array)>> {
    arrays
        .iter()
        .map(|(k, v)| {
            let name: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("[{op}] array names must be strings")))?;
            let a = v.cast::<PyArray>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "[{op}] '{name}' must be an array, not {}",
                    v.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            Ok((name, a.get().get()))
        })
        .collect()
}

/// Saves an array to a binary file in NumPy's `.npy` format (`.npy` is added to a path without
/// it).
#[pyfunction]
pub fn save(py: Python<'_>, file: &Bound<'_, PyAny>, arr: PyRef<'_, PyArray>) -> PyResult<()> {
    guard(|| {
        let path = path_arg("save", file, Some(".npy"))?;
        let a = arr.get();
        py.detach(|| io::save_npy(&path, &a)).or_raise()
    })
}

fn savez_impl(
    py: Python<'_>,
    op: &str,
    file: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
    compressed: bool,
) -> PyResult<()> {
    let path = path_arg(op, file, Some(".npz"))?;
    // NumPy's naming: keywords by their names, then positional arrays as arr_0, arr_1, ...
    let mut arrays = match kwargs {
        Some(k) => named_arrays(op, k)?,
        None => Vec::new(),
    };
    for (i, v) in args.iter().enumerate() {
        let name = format!("arr_{i}");
        if arrays.iter().any(|(n, _)| *n == name) {
            return Err(PyValueError::new_err(format!(
                "[{op}] Cannot use un-named variables and keyword {name}"
            )));
        }
        let a = v
            .cast::<PyArray>()
            .map_err(|_| PyTypeError::new_err(format!("[{op}] argument {i} must be an array")))?;
        arrays.push((name, a.get().get()));
    }
    py.detach(|| io::save_npz(&path, &arrays, compressed))
        .or_raise()
}

/// Saves several arrays to a binary file in uncompressed `.npz` format: keyword arguments under
/// their names, positional ones as `arr_0`, `arr_1`, ... (`.npz` is added to a path without it).
#[pyfunction]
#[pyo3(signature = (file, *args, **kwargs))]
pub fn savez(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    guard(|| savez_impl(py, "savez", file, args, kwargs, false))
}

/// As `savez`, with every member deflated.
#[pyfunction]
#[pyo3(signature = (file, *args, **kwargs))]
pub fn savez_compressed(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    guard(|| savez_impl(py, "savez_compressed", file, args, kwargs, true))
}

/// Saves a dict of arrays (and optional string metadata) in the safetensors format
/// (`.safetensors` is added to a path without it).
#[pyfunction]
#[pyo3(signature = (file, arrays, metadata = None))]
pub fn save_safetensors(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    arrays: &Bound<'_, PyDict>,
    metadata: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    guard(|| {
        let path = path_arg("save_safetensors", file, Some(".safetensors"))?;
        let arrays = named_arrays("save_safetensors", arrays)?;
        let metadata: Option<Metadata> = match metadata {
            None => None,
            Some(m) => Some(m.extract().map_err(|_| {
                PyValueError::new_err(
                    "[save_safetensors] Metadata must be a dictionary with string keys and values",
                )
            })?),
        };
        py.detach(|| io::save_safetensors(&path, &arrays, metadata.as_ref()))
            .or_raise()
    })
}

/// A GGUF metadata value from Python: a `str`, a list (or tuple) of `str`, or an array. Other
/// values raise `RuntimeError`, as in MLX.
fn gguf_value(key: &str, v: &Bound<'_, PyAny>) -> PyResult<GgufValue> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(GgufValue::String(s.to_str()?.to_owned()));
    }
    if let Ok(a) = v.cast::<PyArray>() {
        return Ok(GgufValue::Array(a.get().get()));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        if let Ok(strings) = v.extract::<Vec<String>>() {
            return Ok(GgufValue::Strings(strings));
        }
    }
    Err(PyRuntimeError::new_err(format!(
        "[save_gguf] Received unexpected type in metadata: '{key}' is a {}, not an array, a \
         str or a list of str",
        v.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    )))
}

/// Saves a dict of arrays, and optional metadata (values: arrays, strings or lists of strings),
/// in the GGUF format (`.gguf` is added to a path without it).
#[pyfunction]
#[pyo3(signature = (file, arrays, metadata = None))]
pub fn save_gguf(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    arrays: &Bound<'_, PyDict>,
    metadata: Option<&Bound<'_, PyDict>>,
) -> PyResult<()> {
    guard(|| {
        let path = path_arg("save_gguf", file, Some(".gguf"))?;
        let arrays = named_arrays("save_gguf", arrays)?;
        let mut meta = Vec::new();
        for (k, v) in metadata.iter().flat_map(|m| m.iter()) {
            let key: String = k.extract().map_err(|_| {
                PyRuntimeError::new_err("[save_gguf] metadata keys must be strings")
            })?;
            let value = gguf_value(&key, &v)?;
            meta.push((key, value));
        }
        py.detach(|| io::save_gguf(&path, &arrays, &meta))
            .or_raise()
    })
}

/// Loads arrays from a `.npy`, `.npz`, `.safetensors` or `.gguf` file (the format named by
/// `format`, or by the extension): an array for `.npy`, a dict of arrays otherwise, and for
/// safetensors and GGUF with `return_metadata=True` a `(dict, metadata)` pair (GGUF metadata
/// values are strings, lists of strings or arrays). The file is memory-mapped; the arrays are
/// computed on `stream`'s device when one is given.
#[pyfunction]
#[pyo3(signature = (file, format = None, return_metadata = false, *, stream = None))]
pub fn load(
    py: Python<'_>,
    file: &Bound<'_, PyAny>,
    format: Option<&str>,
    return_metadata: bool,
    stream: Option<StreamArg>,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        let path = path_arg("load", file, None)?;
        // MLX's order of checks: the format first, then whether it has metadata.
        let fmt = match format {
            Some(name) => io::Format::from_name(name).ok_or_else(|| {
                PyValueError::new_err(format!("[load] Unknown file format {name}"))
            })?,
            None => io::Format::of_path(&path).or_raise()?,
        };
        if return_metadata && !matches!(fmt, io::Format::Safetensors | io::Format::Gguf) {
            return Err(PyValueError::new_err(format!(
                "[load] metadata not supported for format {}",
                fmt.name()
            )));
        }
        let s = sod(stream);
        let loaded = py.detach(|| io::load_as(&path, fmt, s)).or_raise()?;
        let dict_of = |arrays: Vec<(String, Array)>| -> PyResult<Bound<'_, PyDict>> {
            let dict = PyDict::new(py);
            for (name, a) in arrays {
                dict.set_item(PyString::new(py, &name), Py::new(py, PyArray::new(a))?)?;
            }
            Ok(dict)
        };
        let (dict, meta) = match loaded {
            Loaded::Array(a) => return Ok(Py::new(py, PyArray::new(a))?.into_any()),
            Loaded::Named { arrays, metadata } => {
                let meta = PyDict::new(py);
                for (k, v) in metadata.unwrap_or_default() {
                    meta.set_item(k, v)?;
                }
                (dict_of(arrays)?, meta)
            }
            Loaded::Gguf { arrays, metadata } => {
                let meta = PyDict::new(py);
                for (k, v) in metadata {
                    match v {
                        GgufValue::String(s) => meta.set_item(k, s)?,
                        GgufValue::Strings(v) => meta.set_item(k, v)?,
                        GgufValue::Array(a) => meta.set_item(k, Py::new(py, PyArray::new(a))?)?,
                    }
                }
                (dict_of(arrays)?, meta)
            }
        };
        if return_metadata {
            Ok(PyTuple::new(py, [dict.into_any(), meta.into_any()])?
                .into_any()
                .unbind())
        } else {
            Ok(dict.into_any().unbind())
        }
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(savez, m)?)?;
    m.add_function(wrap_pyfunction!(savez_compressed, m)?)?;
    m.add_function(wrap_pyfunction!(save_safetensors, m)?)?;
    m.add_function(wrap_pyfunction!(save_gguf, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    Ok(())
}
