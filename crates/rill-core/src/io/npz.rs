//! NumPy's `.npz` format: a zip archive with one `.npy` member per array, named after the array
//! (`np.savez` stores members uncompressed, `np.savez_compressed` deflates them).
//!
//! Loading maps the archive. A stored member is used in place, like a `.npy` file (its CRC is
//! checked first: a mapped member is never read through the zip reader, which would check it);
//! a deflated one is decompressed into memory (the zip reader checks its CRC at the end) and its
//! arrays live over that. Saving aligns stored members' data to 64 bytes, so that rill's own
//! archives load without a copy.

use super::atomic_write::write_atomically;
use super::file_bytes::FileBytes;
use super::host_bytes::HostBytes;
use super::npy;
use crate::{Array, Error, Result, Stream};
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

/// Writes `arrays` (name, row-major bytes of an evaluated array) as members `name.npy`.
pub(crate) fn save(
    path: &Path,
    arrays: &[(&str, &Array, HostBytes)],
    compressed: bool,
) -> Result<()> {
    write_atomically("savez", path, |out| {
        let mut archive = zip::ZipWriter::new(out);
        for (name, a, bytes) in arrays {
            let header = npy::header_bytes(a.dtype(), a.shape());
            let size = header.len() + bytes.as_bytes().len();
            let options = SimpleFileOptions::default()
                .compression_method(if compressed {
                    CompressionMethod::Deflated
                } else {
                    CompressionMethod::Stored
                })
                // Zip64 records only where the 4 GiB fields cannot hold the member.
                .large_file(size as u64 >= u32::MAX as u64)
                .with_alignment(64);
            archive
                .start_file(format!("{name}.npy"), options)
                .map_err(std::io::Error::other)?;
            npy::write(&mut archive, a.dtype(), a.shape(), bytes.as_bytes())?;
        }
        archive.finish().map_err(std::io::Error::other)?;
        Ok(())
    })
}

/// Every array in the archive, in archive order, named as NumPy names them (the member name
/// without `.npy`).
pub(crate) fn load(path: &Path, stream: Stream) -> Result<Vec<(String, Array)>> {
    const OP: &str = "load";
    // MLX raises ValueError for an `.npz` that cannot be opened as a zip archive, missing or not
    // a zip (Python's `zipfile` refuses it before anything is read); argument errors become that.
    let not_a_zip = |why: String| {
        Error::arg(
            OP,
            format!("{}: cannot be read as an .npz file ({why})", path.display()),
        )
    };
    let bytes = FileBytes::map(OP, path).map_err(|e| match e {
        Error::File { msg, .. } => not_a_zip(msg),
        other => other,
    })?;
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..])).map_err(|e| {
        // MLX raises ValueError for an `.npz` that is not a zip archive (Python's `zipfile`
        // refuses it before anything is read); an argument error becomes that.
        Error::arg(
            OP,
            format!(
                "{}: not an .npz file (not a zip archive: {e})",
                path.display()
            ),
        )
    })?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut member = archive
            .by_index(i)
            .map_err(|e| Error::file(OP, path, format!("corrupt archive: {e}")))?;
        if member.is_dir() {
            continue;
        }
        let member_name = member.name().to_string();
        let key = member_name
            .strip_suffix(".npy")
            .unwrap_or(&member_name)
            .to_string();
        let bad = |msg: String| Error::file(OP, path, format!("member '{member_name}': {msg}"));
        if member.encrypted() {
            return Err(bad("encrypted members are not supported".into()));
        }
        let array = match member.compression() {
            CompressionMethod::Stored => {
                let start = member.data_start() as usize;
                let end = start
                    .checked_add(member.compressed_size() as usize)
                    .filter(|&e| e <= bytes.len())
                    .ok_or_else(|| bad("truncated: the archive ends inside it".into()))?;
                if crc32fast::hash(&bytes[start..end]) != member.crc32() {
                    return Err(bad("corrupt: its CRC-32 does not match its contents".into()));
                }
                npy::array_in(OP, path, &bytes, start..end, stream)
            }
            CompressionMethod::Deflated => {
                let mut contents = Vec::with_capacity(member.size().min(1 << 30) as usize);
                member
                    .read_to_end(&mut contents)
                    .map_err(|e| bad(format!("corrupt: cannot decompress it: {e}")))?;
                let len = contents.len();
                let contents = Arc::new(FileBytes::Owned(contents));
                npy::array_in(OP, path, &contents, 0..len, stream)
            }
            other => {
                return Err(bad(format!(
                    "compression method {other} is not supported (only stored and deflated)"
                )))
            }
        };
        // Name the member in errors from the `.npy` inside it too.
        let array = array.map_err(|e| match e {
            Error::File { op, path, msg } => Error::File {
                op,
                path,
                msg: format!("member '{member_name}': {msg}"),
            },
            other => other,
        })?;
        out.push((key, array));
    }
    Ok(out)
}
