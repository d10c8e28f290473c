//! Writing a file so that it is either wholly written or not changed at all.
//!
//! A save writes a temporary file in the target's directory (so the rename below stays on one
//! file system), flushes it, and renames it over the target. A failure at any point removes the
//! temporary file and leaves whatever was at the target untouched. Renaming also gives a
//! memory-mapped load of the old file a safe life: the old contents keep their inode until the
//! last mapping goes, instead of being truncated under it (which would fault its readers).
//!
//! The temporary file is created with the same `OpenOptions` as any new file (mode 0666 less the
//! umask on unix), so the saved file gets the permissions a plain create would give it; the
//! `tempfile` crate creates 0600 files, which would make saved arrays private to their owner.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `path` through `write`, which gets a buffered writer over a fresh temporary file; the
/// file replaces `path` only when `write` and the flush succeed. Errors name `op` and `path`.
pub(crate) fn write_atomically(
    op: &'static str,
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let (temp_path, file) = create_temporary(op, path)?;
    let temp = TemporaryFile(Some(temp_path));
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    // No fsync: like NumPy and MLX, a save protects against failures of the process (an error, a
    // full disk), not against a power cut between the write-back and the rename.
    let written = write(&mut writer).and_then(|()| writer.flush());
    if let Err(e) = written {
        return Err(Error::file(op, path, format!("cannot write: {e}")));
    }
    drop(writer);
    let temp_path = temp.path();
    std::fs::rename(temp_path, path)
        .map_err(|e| Error::file(op, path, format!("cannot replace the file: {e}")))?;
    temp.keep();
    Ok(())
}

/// A temporary file beside `path`, named after it and unique in this process and across
/// processes (the pid), created exclusively so that it never overwrites anything.
fn create_temporary(op: &'static str, path: &Path) -> Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| Error::file(op, path, "not a file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    loop {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let temp_path = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(f) => return Ok((temp_path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::file(op, path, format!("cannot create: {e}"))),
        }
    }
}

/// Removes the temporary file on drop unless it was kept (renamed into place).
struct TemporaryFile(Option<PathBuf>);

impl TemporaryFile {
    fn path(&self) -> &Path {
        self.0.as_deref().expect("the path is taken only by keep")
    }
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // Best effort: the save already failed, and its error is the one to report.
            let _ = std::fs::remove_file(p);
        }
    }
}
