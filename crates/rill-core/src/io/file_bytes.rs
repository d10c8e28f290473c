//! The bytes a loaded array lives in, and arrays built over them.
//!
//! A load maps its file into memory and, where it can, makes arrays whose buffers point straight
//! into the mapping: no read, no copy, and the pages come from the page cache only when
//! something reads them. Each such buffer owns an `Arc` of the mapping, so the mapping lives as
//! long as the last array over it. A member of an `.npz` that had to be decompressed lives the
//! same way in an owned `Vec`.
//!
//! An array is copied into pooled memory instead when its elements cannot be used where they
//! are: stored in the other byte order, or at an address not aligned for its dtype (kernels read
//! elements as typed slices, which must be aligned).
//!
//! What a mapping cannot protect against: another program changing the file *in place* while it
//! is mapped (truncating it faults the readers; overwriting it changes the arrays). rill's own
//! saves never do that: they write a new file and rename it over the old one, which keeps the old
//! contents alive for the mapping (see `atomic_write`). NumPy's `mmap_mode` and the safetensors
//! package's `safe_open` make the same trade; MLX reads files into memory instead.

use crate::memory::{Buffer, Data};
use crate::shape::Layout;
use crate::{Array, Dtype, Error, Result, Stream};
use memmap2::Mmap;
use std::fs::File;
use std::ops::Deref;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

/// A whole file, memory-mapped, or the decompressed bytes of an archive member.
pub(crate) enum FileBytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl FileBytes {
    /// Maps the file at `path` read-only. Errors name `op` and the path.
    pub(crate) fn map(op: &'static str, path: &Path) -> Result<Arc<FileBytes>> {
        let file =
            File::open(path).map_err(|e| Error::file(op, path, format!("cannot open: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::file(op, path, format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(Error::file(op, path, "not a regular file"));
        }
        if meta.len() == 0 {
            // Nothing to map (mmap refuses an empty range); the format parsers report it.
            return Ok(Arc::new(FileBytes::Owned(Vec::new())));
        }
        // SAFETY: the mapping is read-only and never written by rill. Its contents can still
        // change if another program modifies the file in place while it is mapped; the module
        // doc explains why loads accept that, as every memory-mapping loader does. Nothing here
        // relies on the bytes staying the same for memory safety except `bool` elements, whose
        // bytes `array_over` checks (a later change by another program is outside any guarantee
        // a file-backed array can give).
        let map = unsafe { Mmap::map(&file) }
            .map_err(|e| Error::file(op, path, format!("cannot map into memory: {e}")))?;
        Ok(Arc::new(FileBytes::Mapped(map)))
    }
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

/// Where and how one array's elements are stored in a `FileBytes`.
pub(crate) struct Stored {
    /// Byte offset of the first element.
    pub start: usize,
    /// Where the region holding the elements ends (the file, or an archive member in it): the
    /// elements must end before it.
    pub limit: usize,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Element strides (non-negative): row-major, or column-major for a Fortran-order `.npy`.
    pub strides: Vec<isize>,
    /// The elements are in the byte order opposite to this machine's.
    pub swapped: bool,
}

/// The bytes of a `dtype` array of `shape` read from a file, or an error when no array of that
/// size can exist (a corrupt header can claim any shape).
pub(crate) fn byte_size(
    op: &'static str,
    path: &Path,
    dtype: Dtype,
    shape: &[usize],
) -> Result<usize> {
    shape
        .iter()
        .try_fold(dtype.size(), |n, &d| n.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| {
            Error::file(
                op,
                path,
                format!("a {dtype} array of shape {shape:?} is too large to exist"),
            )
        })
}

/// An evaluated host array for work on `stream` over the elements `stored` describes: the
/// bytes themselves when they are in native order and aligned, else a copy.
///
/// A region too short for the elements is reported as a truncated file.
pub(crate) fn array_over(
    op: &'static str,
    path: &Path,
    bytes: &Arc<FileBytes>,
    stored: Stored,
    stream: Stream,
) -> Result<Array> {
    let Stored {
        start,
        limit,
        dtype,
        shape,
        strides,
        swapped,
    } = stored;
    let nbytes = byte_size(op, path, dtype, &shape)?;
    let limit = limit.min(bytes.len());
    let end = start
        .checked_add(nbytes)
        .filter(|&e| e <= limit)
        .ok_or_else(|| {
            Error::file(
                op,
                path,
                format!(
                    "truncated: a {dtype} array of shape {shape:?} needs {nbytes} bytes of data, \
                 there are {}",
                    limit.saturating_sub(start)
                ),
            )
        })?;
    if nbytes == 0 {
        return Array::from_bytes(&[], dtype, &shape, stream);
    }
    let elements = &bytes[start..end];
    if dtype == Dtype::Bool {
        if let Some(b) = elements.iter().find(|&&b| b > 1) {
            return Err(Error::file(
                op,
                path,
                format!("corrupt data: a bool element holds the byte {b} (only 0 and 1 are bools)"),
            ));
        }
    }
    let layout = Layout { strides, offset: 0 };
    let aligned = (elements.as_ptr() as usize).is_multiple_of(dtype.size().clamp(1, 8));
    let buffer = if aligned && !swapped {
        let ptr = NonNull::new(elements.as_ptr() as *mut u8)
            .expect("a slice of a non-empty range has a non-null pointer");
        // SAFETY: `ptr` points to the `nbytes` bytes `elements` borrows from `bytes`, which the
        // owner (an `Arc` of the same `FileBytes`) keeps alive and in place for as long as the
        // buffer lives: a mapping or a `Vec` neither moves nor is written after it is shared.
        unsafe { Buffer::external_host(ptr, nbytes, Box::new(Arc::clone(bytes))) }
    } else {
        let mut buffer = crate::backend::cpu::allocator().allocate(op, nbytes)?;
        let out = buffer.as_mut_slice::<u8>();
        out.copy_from_slice(elements);
        if swapped {
            // complex64 is two float32s, each in the file's byte order.
            let unit = if dtype == Dtype::Complex64 {
                4
            } else {
                dtype.size()
            };
            out.chunks_exact_mut(unit).for_each(<[u8]>::reverse);
        }
        buffer
    };
    Array::from_data(&shape, dtype, Data::new(buffer, layout), stream)
}
