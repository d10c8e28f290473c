//! Saving and loading arrays: NumPy's `.npy` and `.npz`, safetensors, and GGUF.
//!
//! - Saves evaluate their arrays, read them through `Array::host_data` (so arrays on a GPU are
//!   copied to the host first), and write row-major order whatever the array's layout. A save
//!   writes a temporary file beside the target and renames it over the target
//!   (`atomic_write.rs`): a failed save leaves the old file as it was.
//! - Loads map the file into memory and build evaluated host arrays over the mapped bytes where
//!   the elements can be used in place (native byte order, aligned); they copy otherwise
//!   (`file_bytes.rs`). A Fortran-order `.npy` loads as a transposed view, not a copy. Given a
//!   stream of another device, a load returns arrays computed there (a copy from the mapping,
//!   made when they are evaluated).
//! - A file that is missing, truncated, corrupt, or holds a dtype rill does not have gives an
//!   [`Error::File`] naming the op, the file and what is wrong; nothing in a file can make a load
//!   panic.
//!
//! - GGUF loads as MLX loads it: Q4_0, Q4_1 and Q8_0 tensors become MLX's quantized (weights,
//!   scales, biases) triplets, metadata values become strings, lists of strings or arrays; the
//!   differences from MLX (bfloat16, int64 and float64 kept exact) are listed in `gguf.rs`.
//!
//! One file per format: `npy.rs` (with the header parser), `npz.rs`, `safetensors.rs`,
//! `gguf.rs` (parsed and written by hand: see its header for why).

pub(crate) mod atomic_write;
mod file_bytes;
mod gguf;
pub(crate) mod host_bytes;
pub(crate) mod npy;
mod npz;
mod safetensors;

/// The `.npy` header parser, for readers of `.npy` bytes outside this module (rill-data's
/// `load_numpy`), so that one parser decides what a valid header is.
pub use npy::{
    parse_header as parse_npy_header, Header as NpyHeader, HeaderError as NpyHeaderError,
};

pub use gguf::{GgufMetadata, GgufValue};

use crate::{eval, Array, DeviceType, Error, Result, Stream, StreamOrDevice};
use host_bytes::HostBytes;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// String metadata of a safetensors file (its `__metadata__`).
pub type Metadata = BTreeMap<String, String>;

/// A file format that [`load`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Npy,
    Npz,
    Safetensors,
    Gguf,
}

impl Format {
    /// The format named `name` (MLX's `format=`: an extension without the dot).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "npy" => Some(Format::Npy),
            "npz" => Some(Format::Npz),
            "safetensors" => Some(Format::Safetensors),
            "gguf" => Some(Format::Gguf),
            _ => None,
        }
    }

    /// MLX's name of the format: its file extension without the dot.
    pub fn name(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Npz => "npz",
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
        }
    }

    /// The format `path`'s extension names.
    pub fn of_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .ok_or_else(|| Error::arg("load", "Could not infer file format from extension"))?;
        let ext = ext.to_string_lossy();
        Format::from_name(&ext)
            .ok_or_else(|| Error::arg("load", format!("Unknown file format {ext}")))
    }
}

/// What [`load`] found in a file.
#[derive(Debug)]
pub enum Loaded {
    /// The one array of a `.npy` file.
    Array(Array),
    /// The named arrays of an archive, in file order, and the file's metadata for formats that
    /// have it (safetensors; `None` for `.npz`).
    Named {
        arrays: Vec<(String, Array)>,
        metadata: Option<Metadata>,
    },
    /// The arrays of a GGUF file, in file order (a quantized tensor gives three), and its
    /// metadata.
    Gguf {
        arrays: Vec<(String, Array)>,
        metadata: GgufMetadata,
    },
}

/// Loads `path` in `format` (MLX's names: `"npy"`, `"npz"`, `"safetensors"`, `"gguf"`), or in
/// the format its extension names, for work on `s`.
pub fn load(
    path: impl AsRef<Path>,
    format: Option<&str>,
    s: impl Into<StreamOrDevice>,
) -> Result<Loaded> {
    let path = path.as_ref();
    let format = match format {
        Some(name) => Format::from_name(name)
            .ok_or_else(|| Error::arg("load", format!("Unknown file format {name}")))?,
        None => Format::of_path(path)?,
    };
    load_as(path, format, s)
}

/// Loads `path` as a `format` file, for work on `s`.
pub fn load_as(
    path: impl AsRef<Path>,
    format: Format,
    s: impl Into<StreamOrDevice>,
) -> Result<Loaded> {
    let path = path.as_ref();
    Ok(match format {
        Format::Npy => Loaded::Array(load_npy(path, s)?),
        Format::Npz => Loaded::Named {
            arrays: load_npz(path, s)?,
            metadata: None,
        },
        Format::Safetensors => {
            let (arrays, metadata) = load_safetensors(path, s)?;
            Loaded::Named {
                arrays,
                metadata: Some(metadata),
            }
        }
        Format::Gguf => {
            let (arrays, metadata) = load_gguf(path, s)?;
            Loaded::Gguf { arrays, metadata }
        }
    })
}

/// `path` with `extension` (such as `".npy"`) added when it does not already end with it: how
/// MLX's save functions name their files (`save("w", a)` writes `w.npy`).
pub fn with_extension(path: impl AsRef<Path>, extension: &str) -> PathBuf {
    let path = path.as_ref();
    if path.as_os_str().to_string_lossy().ends_with(extension) {
        return path.to_path_buf();
    }
    let mut with = OsString::from(path);
    with.push(extension);
    PathBuf::from(with)
}

/// Writes `a` to `path` as a `.npy` file (the path as given: no extension is added).
pub fn save_npy(path: impl AsRef<Path>, a: &Array) -> Result<()> {
    let path = path.as_ref();
    let bytes = HostBytes::of(a)?;
    atomic_write::write_atomically("save", path, |out| {
        npy::write(out, a.dtype(), a.shape(), bytes.as_bytes())
    })
}

/// The array in the `.npy` file at `path`, for work on `s`.
pub fn load_npy(path: impl AsRef<Path>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let path = path.as_ref();
    let stream = s.into().resolve("load")?;
    let bytes = file_bytes::FileBytes::map("load", path)?;
    let a = npy::array_in("load", path, &bytes, 0..bytes.len(), stream)?;
    place(a, stream)
}

/// Writes `arrays` to `path` as an `.npz` archive of `name.npy` members, deflated when
/// `compressed` (`np.savez` / `np.savez_compressed`). Names must be distinct.
pub fn save_npz<S: AsRef<str>>(
    path: impl AsRef<Path>,
    arrays: &[(S, Array)],
    compressed: bool,
) -> Result<()> {
    let named = host_bytes_of("savez", arrays)?;
    npz::save(path.as_ref(), &named, compressed)
}

/// The arrays of the `.npz` archive at `path`, in archive order, for work on `s`.
pub fn load_npz(
    path: impl AsRef<Path>,
    s: impl Into<StreamOrDevice>,
) -> Result<Vec<(String, Array)>> {
    let stream = s.into().resolve("load")?;
    npz::load(path.as_ref(), stream)?
        .into_iter()
        .map(|(name, a)| Ok((name, place(a, stream)?)))
        .collect()
}

/// Writes `arrays` and string `metadata` to `path` as a safetensors file. Names must be
/// distinct.
pub fn save_safetensors<S: AsRef<str>>(
    path: impl AsRef<Path>,
    arrays: &[(S, Array)],
    metadata: Option<&Metadata>,
) -> Result<()> {
    let named = host_bytes_of("save_safetensors", arrays)?;
    safetensors::save(path.as_ref(), &named, metadata)
}

/// The arrays (in the order of their data) and the metadata of the safetensors file at `path`,
/// for work on `s`.
pub fn load_safetensors(
    path: impl AsRef<Path>,
    s: impl Into<StreamOrDevice>,
) -> Result<(Vec<(String, Array)>, Metadata)> {
    let stream = s.into().resolve("load")?;
    let (arrays, metadata) = safetensors::load(path.as_ref(), stream)?;
    let arrays = arrays
        .into_iter()
        .map(|(name, a)| Ok((name, place(a, stream)?)))
        .collect::<Result<_>>()?;
    Ok((arrays, metadata))
}

/// Writes `arrays` and `metadata` to `path` as a GGUF file (version 3). Names must be distinct.
/// Tensors may be float32, float16, bfloat16, float64, int8, int16, int32 or int64; metadata
/// arrays 0-d or 1-D, non-empty, of an integer dtype, bool, float32 or float64.
pub fn save_gguf<S: AsRef<str>>(
    path: impl AsRef<Path>,
    arrays: &[(S, Array)],
    metadata: &[(String, GgufValue)],
) -> Result<()> {
    let named = host_bytes_of("save_gguf", arrays)?;
    gguf::save(path.as_ref(), &named, metadata)
}

/// The arrays (in file order; a Q4_0, Q4_1 or Q8_0 tensor gives MLX's quantized weights, scales
/// and biases) and the metadata of the GGUF file at `path`, for work on `s`.
pub fn load_gguf(
    path: impl AsRef<Path>,
    s: impl Into<StreamOrDevice>,
) -> Result<(Vec<(String, Array)>, GgufMetadata)> {
    let stream = s.into().resolve("load")?;
    let (arrays, metadata) = gguf::load(path.as_ref(), stream)?;
    let arrays = arrays
        .into_iter()
        .map(|(name, a)| Ok((name, place(a, stream)?)))
        .collect::<Result<_>>()?;
    Ok((arrays, metadata))
}

/// The elements of `a` in row-major order and native byte order, the form
/// [`Array::from_bytes`] takes back (evaluating `a`, and copying it from its device if needed).
pub fn to_bytes(a: &Array) -> Result<Vec<u8>> {
    Ok(HostBytes::of(a)?.as_bytes().to_vec())
}

/// Each named array, evaluated together (one graph, so independent arrays compute at once),
/// with its row-major host bytes. Refuses repeated names.
fn host_bytes_of<'a, S: AsRef<str>>(
    op: &'static str,
    arrays: &'a [(S, Array)],
) -> Result<Vec<(&'a str, &'a Array, HostBytes)>> {
    let mut names: Vec<&str> = arrays.iter().map(|(n, _)| n.as_ref()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::arg(
            op,
            format!("the name '{}' is given twice", w[0]),
        ));
    }
    eval(&arrays.iter().map(|(_, a)| a).collect::<Vec<_>>())?;
    arrays
        .iter()
        .map(|(n, a)| Ok((n.as_ref(), a, HostBytes::of(a)?)))
        .collect()
}

/// A loaded host array as the caller's stream wants it: itself for a CPU stream, else a lazy
/// copy on `stream`, so that it is computed on (and lives on) that stream's device.
fn place(a: Array, stream: Stream) -> Result<Array> {
    if stream.device().kind == DeviceType::Cpu {
        Ok(a)
    } else {
        crate::ops::copy(&a, stream)
    }
}
