//! The safetensors format, through the `safetensors` crate: an 8-byte header length, a JSON
//! header (each tensor's dtype, shape and byte range; optional string metadata), then the data.
//!
//! The crate parses and validates headers (lengths, offsets that tile the data exactly, sizes
//! that fit their shapes) and builds the header it writes from the tensors' descriptions. rill
//! maps the file and builds arrays over the ranges the crate validated, and writes the data
//! itself through `atomic_write` rather than the crate's `serialize_to_file`: that one creates its
//! temporary file with mode 0600, so every saved model would be readable by its owner alone;
//! `serialize` would need the whole file in memory at once.

use super::atomic_write::write_atomically;
use super::file_bytes::{array_over, FileBytes, Stored};
use super::host_bytes::HostBytes;
use crate::shape::contiguous_strides;
use crate::{Array, Dtype, Error, Result, Stream};
use ::safetensors::tensor::{Metadata, TensorInfo};
use ::safetensors::{Dtype as StDtype, SafeTensors};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The safetensors dtype of a rill dtype (every rill dtype has one).
fn to_safetensors(dtype: Dtype) -> StDtype {
    match dtype {
        Dtype::Bool => StDtype::BOOL,
        Dtype::Uint8 => StDtype::U8,
        Dtype::Uint16 => StDtype::U16,
        Dtype::Uint32 => StDtype::U32,
        Dtype::Uint64 => StDtype::U64,
        Dtype::Int8 => StDtype::I8,
        Dtype::Int16 => StDtype::I16,
        Dtype::Int32 => StDtype::I32,
        Dtype::Int64 => StDtype::I64,
        Dtype::Float16 => StDtype::F16,
        Dtype::Bfloat16 => StDtype::BF16,
        Dtype::Float32 => StDtype::F32,
        Dtype::Float64 => StDtype::F64,
        Dtype::Complex64 => StDtype::C64,
    }
}

/// The rill dtype of a safetensors dtype; the float8, float6 and float4 formats have none.
fn from_safetensors(dtype: StDtype) -> Option<Dtype> {
    Dtype::ALL.into_iter().find(|&d| to_safetensors(d) == dtype)
}

/// Writes `arrays` (name, evaluated array, its row-major bytes) and `metadata`.
pub(crate) fn save(
    path: &Path,
    arrays: &[(&str, &Array, HostBytes)],
    metadata: Option<&super::Metadata>,
) -> Result<()> {
    const OP: &str = "save_safetensors";
    // The crate's own order: larger alignments first (so every tensor's data is aligned when
    // the data section is), then by name.
    let mut order: Vec<usize> = (0..arrays.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&arrays[i], &arrays[j]);
        to_safetensors(b.1.dtype())
            .cmp(&to_safetensors(a.1.dtype()))
            .then(a.0.cmp(b.0))
    });
    let mut offset = 0;
    let tensors: Vec<(String, TensorInfo)> = order
        .iter()
        .map(|&i| {
            let (name, a, bytes) = &arrays[i];
            let len = bytes.as_bytes().len();
            offset += len;
            let info = TensorInfo {
                dtype: to_safetensors(a.dtype()),
                shape: a.shape().to_vec(),
                data_offsets: (offset - len, offset),
            };
            (name.to_string(), info)
        })
        .collect();
    let metadata: Option<HashMap<String, String>> = metadata
        .filter(|m| !m.is_empty())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    let header = Metadata::new(metadata, tensors)
        .map_err(|e| Error::file(OP, path, format!("cannot describe the tensors: {e}")))?;
    let mut header = serde_json::to_vec(&header)
        .map_err(|e| Error::file(OP, path, format!("cannot write the header: {e}")))?;
    // The data section starts 8-byte aligned, as the crate and the Python package write it.
    header.resize(header.len().next_multiple_of(8), b' ');
    write_atomically(OP, path, |out| {
        out.write_all(&(header.len() as u64).to_le_bytes())?;
        out.write_all(&header)?;
        for &i in &order {
            out.write_all(arrays[i].2.as_bytes())?;
        }
        Ok(())
    })
}

/// Every tensor in the file, in the order of their data, and the file's metadata.
pub(crate) fn load(path: &Path, stream: Stream) -> Result<(Vec<(String, Array)>, super::Metadata)> {
    const OP: &str = "load";
    let bytes = FileBytes::map(OP, path)?;
    let (header_len, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::file(OP, path, format!("not a valid safetensors file: {e}")))?;
    let data_start = 8 + header_len;
    let mut arrays = Vec::new();
    for name in header.offset_keys() {
        let info = header
            .info(&name)
            .expect("offset_keys names the header's tensors");
        let dtype = from_safetensors(info.dtype).ok_or_else(|| {
            // A dtype error (MLX's ValueError), as for a `.npy` of a dtype rill does not have.
            Error::dtype(
                OP,
                format!(
                    "{}: tensor '{name}' has dtype {:?}, which rill does not have",
                    path.display(),
                    info.dtype
                ),
            )
        })?;
        let (start, end) = info.data_offsets;
        let array = array_over(
            OP,
            path,
            &bytes,
            Stored {
                start: data_start + start,
                limit: data_start + end,
                dtype,
                shape: info.shape.clone(),
                strides: contiguous_strides(&info.shape),
                // The format is little-endian.
                swapped: cfg!(target_endian = "big"),
            },
            stream,
        )?;
        arrays.push((name, array));
    }
    let metadata = header
        .metadata()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((arrays, metadata))
}
