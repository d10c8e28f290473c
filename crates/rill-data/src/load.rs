//! Loading what a sample names: `load_file` (a file's bytes), `load_numpy` (a `.npy` file, or
//! `.npy` bytes held in the sample), and reading members of a tar archive (`files_from_tar`,
//! `read_from_tar`, through the `tar` crate for the archive's headers).
//!
//! A sample names a file with the bytes of its path (a uint8 or int8 array, as mlx-data's
//! samples hold text). The `.npy` header is read by rill-core's parser (the one `mx.load` uses);
//! big-endian elements are swapped and Fortran-ordered arrays reordered, since a sample's arrays
//! are C-ordered native bytes.

use crate::array::HostArray;
use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::sample::{get, Sample};
use rill_core::io::{parse_npy_header, NpyHeaderError};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The path a sample's `key` names, below `prefix` when one is given.
pub(crate) fn path_in(
    s: &Sample,
    key: &str,
    prefix: &str,
    op: &'static str,
    index: usize,
) -> Result<PathBuf> {
    let a = get(s, key, op, index)?;
    let name = a.to_string_lossy().ok_or_else(|| Error::Sample {
        op,
        key: key.to_string(),
        index,
        detail: format!(
            "a file name is held as uint8 or int8 bytes, not as a {} array",
            a.dtype()
        ),
    })?;
    Ok(if prefix.is_empty() {
        PathBuf::from(name)
    } else {
        Path::new(prefix).join(name)
    })
}

pub(crate) fn read(path: &Path, op: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::File {
        op,
        path: path.display().to_string(),
        line: None,
        detail: e.to_string(),
    })
}

/// The bytes of the file that `key` names, as a uint8 array.
pub(crate) fn load_file(s: &Sample, key: &str, prefix: &str, index: usize) -> Result<HostArray> {
    let path = path_in(s, key, prefix, "load_file", index)?;
    let bytes = read(&path, "load_file")?;
    let n = bytes.len();
    HostArray::new(rill_core::Dtype::Uint8, vec![n], bytes)
}

/// The array of the `.npy` file that `key` names, or of the `.npy` bytes `key` holds
/// (`from_memory`).
pub(crate) fn load_numpy(
    s: &Sample,
    key: &str,
    prefix: &str,
    from_memory: bool,
    index: usize,
) -> Result<HostArray> {
    const OP: &str = "load_numpy";
    let (bytes, what) = if from_memory {
        let a = get(s, key, OP, index)?;
        (a.bytes().to_vec(), format!("the bytes of key '{key}'"))
    } else {
        let path = path_in(s, key, prefix, OP, index)?;
        (read(&path, OP)?, path.display().to_string())
    };
    npy_array(&bytes).map_err(|detail| Error::Sample {
        op: OP,
        key: key.to_string(),
        index,
        detail: format!("{what}: {detail}"),
    })
}

/// The array of whole `.npy` bytes, C-ordered and native-endian.
fn npy_array(bytes: &[u8]) -> std::result::Result<HostArray, String> {
    let h = parse_npy_header(bytes).map_err(|e| match e {
        NpyHeaderError::Corrupt(m) | NpyHeaderError::Unsupported(m) => m,
    })?;
    let size = h.dtype.size();
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(size))
        .ok_or_else(|| format!("the shape {:?} is too large", h.shape))?;
    let data = bytes
        .get(h.data_start..)
        .filter(|d| d.len() >= count)
        .ok_or_else(|| {
            format!(
                "truncated: the header promises {count} bytes of data, the file holds {}",
                bytes.len().saturating_sub(h.data_start)
            )
        })?;
    let mut data = data[..count].to_vec();
    if h.big_endian != cfg!(target_endian = "big") {
        // complex64 is two float32 halves, each swapped on its own.
        let unit = if h.dtype == rill_core::Dtype::Complex64 {
            4
        } else {
            size
        };
        for e in data.chunks_exact_mut(unit) {
            e.reverse();
        }
    }
    if h.fortran_order && h.shape.len() > 1 {
        data = fortran_to_c(&data, &h.shape, size);
    }
    HostArray::new(h.dtype, h.shape, data).map_err(|e| e.to_string())
}

/// Column-major elements of `shape` (each `size` bytes) reordered row-major.
fn fortran_to_c(data: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let n: usize = shape.iter().product();
    let mut out = vec![0u8; data.len()];
    // Column-major strides, in elements.
    let mut fstride = vec![1usize; shape.len()];
    for d in 1..shape.len() {
        fstride[d] = fstride[d - 1] * shape[d - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    for o in 0..n {
        let src: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        out[o * size..(o + 1) * size].copy_from_slice(&data[src * size..(src + 1) * size]);
        // The next row-major index: the last dim moves fastest.
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Where each regular file of a tar archive lies in it: read once, shared by every sample.
pub struct TarIndex {
    path: PathBuf,
    file: File,
    members: HashMap<String, (u64, u64)>,
    /// Member names in archive order.
    order: Vec<String>,
}

impl TarIndex {
    /// Reads the headers of `path` (not the members' contents).
    pub fn open(path: &Path, op: &'static str) -> Result<Arc<TarIndex>> {
        let fail = |detail: String| Error::File {
            op,
            path: path.display().to_string(),
            line: None,
            detail,
        };
        let file = File::open(path).map_err(|e| fail(e.to_string()))?;
        let mut archive = tar::Archive::new(file.try_clone().map_err(|e| fail(e.to_string()))?);
        let mut members = HashMap::new();
        let mut order = Vec::new();
        let entries = archive
            .entries()
            .map_err(|e| fail(format!("not a readable tar archive: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| fail(format!("a damaged tar header: {e}")))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry
                .path()
                .map_err(|e| fail(format!("a member name that is not a path: {e}")))?
                .to_string_lossy()
                .into_owned();
            let at = (entry.raw_file_position(), entry.size());
            if members.insert(name.clone(), at).is_none() {
                order.push(name);
            }
        }
        Ok(Arc::new(TarIndex {
            path: path.to_path_buf(),
            file,
            members,
            order,
        }))
    }

    /// A buffer of one sample per regular file, `{"file": its name}`, in archive order.
    pub fn files(&self) -> Buffer {
        Buffer::from_vec(
            self.order
                .iter()
                .map(|n| Sample::from([("file".to_string(), HostArray::from_text(n))]))
                .collect(),
        )
    }

    /// The bytes of member `name`.
    pub(crate) fn read(
        &self,
        name: &str,
        op: &'static str,
        key: &str,
        index: usize,
    ) -> Result<HostArray> {
        let &(offset, len) = self.members.get(name).ok_or_else(|| Error::Sample {
            op,
            key: key.to_string(),
            index,
            detail: format!("'{}' has no member '{name}'", self.path.display()),
        })?;
        let mut bytes = vec![0u8; len as usize];
        // Positioned reads: many threads read members of one archive at once, without a lock.
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|e| Error::File {
                op,
                path: self.path.display().to_string(),
                line: None,
                detail: format!("member '{name}': {e}"),
            })?;
        HostArray::new(rill_core::Dtype::Uint8, vec![len as usize], bytes)
    }
}
