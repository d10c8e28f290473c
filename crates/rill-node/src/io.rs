//! Saving and loading arrays: `save` (.npy), `savez` / `savezCompressed` (.npz),
//! `saveSafetensors` and `load`, as Python's `mx.save` and friends. The formats, the memory
//! mapping of loads, the atomic writes and the errors are the core's (`rill_core::io`); this file
//! only moves names, arrays and metadata across. The file work runs on the JS thread, as Node's
//! `fs.*Sync` functions do.

use crate::array::JsArray;
use crate::errors::{guard, type_error, OrThrow};
use crate::stream::{sod, JsStream};
use napi::bindgen_prelude::ClassInstance;
use napi_derive::napi;
use rill_core::io::{self, Format, Loaded, Metadata};
use rill_core::Array;
use std::collections::HashMap;

/// `(name, array)` pairs from the parallel lists `node/index.js` passes.
fn named(
    op: &str,
    names: Vec<String>,
    arrays: &[ClassInstance<'_, JsArray>],
) -> napi::Result<Vec<(String, Array)>> {
    if names.len() != arrays.len() {
        return Err(type_error(format!(
            "[{op}] {} names for {} arrays",
            names.len(),
            arrays.len()
        )));
    }
    Ok(names
        .into_iter()
        .zip(arrays.iter().map(|a| a.inner.clone()))
        .collect())
}

/// Writes `a` to `path` in NumPy's `.npy` format (`.npy` is added to a path without it).
#[napi]
pub fn save(path: String, a: &JsArray) -> napi::Result<()> {
    guard(|| io::save_npy(io::with_extension(&path, ".npy"), &a.inner).or_throw())
}

/// Writes the named arrays to `path` as an `.npz` archive, deflated when `compressed` (`.npz` is
/// added to a path without it).
#[napi]
pub fn savez(
    path: String,
    names: Vec<String>,
    arrays: Vec<ClassInstance<'_, JsArray>>,
    compressed: bool,
) -> napi::Result<()> {
    guard(|| {
        let op = if compressed {
            "savez_compressed"
        } else {
            "savez"
        };
        let arrays = named(op, names, &arrays)?;
        io::save_npz(io::with_extension(&path, ".npz"), &arrays, compressed).or_throw()
    })
}

/// Writes the named arrays and string metadata to `path` as a safetensors file
/// (`.safetensors` is added to a path without it).
#[napi]
pub fn save_safetensors(
    path: String,
    names: Vec<String>,
    arrays: Vec<ClassInstance<'_, JsArray>>,
    metadata: Option<HashMap<String, String>>,
) -> napi::Result<()> {
    guard(|| {
        let arrays = named("save_safetensors", names, &arrays)?;
        let metadata: Option<Metadata> = metadata.map(|m| m.into_iter().collect());
        io::save_safetensors(
            io::with_extension(&path, ".safetensors"),
            &arrays,
            metadata.as_ref(),
        )
        .or_throw()
    })
}

/// What `load` found: `array` for a `.npy` file; otherwise `names` and `arrays` in file order
/// and, for safetensors, `metadata`. `node/index.js` shapes it as Python's `load` returns.
#[napi(object, object_from_js = false)]
pub struct LoadedFile {
    pub array: Option<JsArray>,
    pub names: Vec<String>,
    pub arrays: Vec<JsArray>,
    pub metadata: Option<HashMap<String, String>>,
}

/// Loads `path` in `format` ('npy', 'npz', 'safetensors'), or in the format its extension
/// names. The file is memory-mapped; the arrays are computed on `stream`'s device when one is
/// given. `return_metadata` is refused for a format without metadata before the file is read.
#[napi]
pub fn load(
    path: String,
    format: Option<String>,
    return_metadata: bool,
    stream: Option<&JsStream>,
) -> napi::Result<LoadedFile> {
    guard(|| {
        let format = match format.as_deref() {
            Some(name) => Format::from_name(name)
                .ok_or_else(|| type_error(format!("[load] Unknown file format {name}")))?,
            None => Format::of_path(path.as_ref()).or_throw()?,
        };
        if return_metadata && format != Format::Safetensors {
            return Err(napi::Error::from_reason(format!(
                "[load] metadata not supported for format {}",
                format.name()
            )));
        }
        let loaded = io::load_as(&path, format, sod(stream)).or_throw()?;
        let mut out = LoadedFile {
            array: None,
            names: Vec::new(),
            arrays: Vec::new(),
            metadata: None,
        };
        match loaded {
            Loaded::Array(a) => out.array = Some(a.into()),
            Loaded::Named { arrays, metadata } => {
                for (name, a) in arrays {
                    out.names.push(name);
                    out.arrays.push(a.into());
                }
                out.metadata = metadata.map(|m| m.into_iter().collect());
            }
        }
        Ok(out)
    })
}
