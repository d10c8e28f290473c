//! Saving and loading arrays: `save` (.npy), `savez` / `savezCompressed` (.npz),
//! `saveSafetensors`, `saveGguf` and `load`, as Python's `mx.save` and friends. The formats, the
//! memory mapping of loads, the atomic writes and the errors are the core's (`rill_core::io`);
//! this file only moves names, arrays and metadata across. The file work runs on the JS thread,
//! as Node's `fs.*Sync` functions do.

use crate::array::JsArray;
use crate::errors::{guard, type_error, OrThrow};
use crate::stream::{sod, JsStream};
use napi::bindgen_prelude::ClassInstance;
use napi_derive::napi;
use rill_core::io::{self, Format, GgufValue, Loaded, Metadata};
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

/// Writes the named arrays and metadata to `path` as a GGUF file (`.gguf` is added to a path
/// without it). The metadata comes as `keys` in order, each found in one of three groups that
/// `node/index.js` sorts the values into: strings, lists of strings, and arrays.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn save_gguf(
    path: String,
    names: Vec<String>,
    arrays: Vec<ClassInstance<'_, JsArray>>,
    keys: Vec<String>,
    string_keys: Vec<String>,
    strings: Vec<String>,
    list_keys: Vec<String>,
    lists: Vec<Vec<String>>,
    array_keys: Vec<String>,
    array_values: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<()> {
    guard(|| {
        let arrays = named("save_gguf", names, &arrays)?;
        let mut values: HashMap<String, GgufValue> = HashMap::new();
        values.extend(
            string_keys
                .into_iter()
                .zip(strings.into_iter().map(GgufValue::String)),
        );
        values.extend(
            list_keys
                .into_iter()
                .zip(lists.into_iter().map(GgufValue::Strings)),
        );
        values.extend(
            array_keys.into_iter().zip(
                array_values
                    .iter()
                    .map(|a| GgufValue::Array(a.inner.clone())),
            ),
        );
        let metadata = keys
            .into_iter()
            .map(|k| {
                let v = values.remove(&k).ok_or_else(|| {
                    type_error(format!("[save_gguf] no value for the metadata key '{k}'"))
                })?;
                Ok((k, v))
            })
            .collect::<napi::Result<Vec<_>>>()?;
        io::save_gguf(io::with_extension(&path, ".gguf"), &arrays, &metadata).or_throw()
    })
}

/// One metadata value of a GGUF file: exactly one of `string`, `strings` and `array` is set.
#[napi(object, object_from_js = false)]
pub struct GgufEntry {
    pub key: String,
    pub string: Option<String>,
    pub strings: Option<Vec<String>>,
    pub array: Option<JsArray>,
}

/// What `load` found: `array` for a `.npy` file; otherwise `names` and `arrays` in file order
/// and, for safetensors, `metadata`, for GGUF, `gguf_metadata`. `node/index.js` shapes it as
/// Python's `load` returns.
#[napi(object, object_from_js = false)]
pub struct LoadedFile {
    pub array: Option<JsArray>,
    pub names: Vec<String>,
    pub arrays: Vec<JsArray>,
    pub metadata: Option<HashMap<String, String>>,
    pub gguf_metadata: Option<Vec<GgufEntry>>,
}

/// Loads `path` in `format` ('npy', 'npz', 'safetensors', 'gguf'), or in the format its extension
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
        if return_metadata && !matches!(format, Format::Safetensors | Format::Gguf) {
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
            gguf_metadata: None,
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
            Loaded::Gguf { arrays, metadata } => {
                for (name, a) in arrays {
                    out.names.push(name);
                    out.arrays.push(a.into());
                }
                let entry = |key| GgufEntry {
                    key,
                    string: None,
                    strings: None,
                    array: None,
                };
                out.gguf_metadata = Some(
                    metadata
                        .into_iter()
                        .map(|(k, v)| match v {
                            GgufValue::String(s) => GgufEntry {
                                string: Some(s),
                                ..entry(k)
                            },
                            GgufValue::Strings(v) => GgufEntry {
                                strings: Some(v),
                                ..entry(k)
                            },
                            GgufValue::Array(a) => GgufEntry {
                                array: Some(a.into()),
                                ..entry(k)
                            },
                        })
                        .collect(),
                );
            }
        }
        Ok(out)
    })
}
