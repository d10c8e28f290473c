//! The primitive values of an export file: little-endian integers and floats, length-prefixed
//! strings and lists. Writing cannot fail (it appends to a `Vec`); reading fails with a message
//! saying what was expected where, which `mod.rs` turns into an error naming the file.

use crate::Dtype;

/// Appends values to a byte vector.
#[derive(Default)]
pub(super) struct Writer {
    pub(super) bytes: Vec<u8>,
}

impl Writer {
    pub(super) fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub(super) fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn f64(&mut self, v: f64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A count or an index: every count in rill fits 64 bits.
    pub(super) fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }
    pub(super) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
    pub(super) fn usizes(&mut self, v: &[usize]) {
        self.len(v.len());
        v.iter().for_each(|&x| self.len(x));
    }
    pub(super) fn isizes(&mut self, v: &[isize]) {
        self.len(v.len());
        v.iter().for_each(|&x| self.i64(x as i64));
    }
    /// A dtype by its name (`float32`), so that the numbering of `Dtype` is not part of the format.
    pub(super) fn dtype(&mut self, d: Dtype) {
        self.str(d.name());
    }
}

/// What went wrong while reading: a message for the error that names the file.
pub(super) type Bad = String;

/// Reads values back from a byte slice, in the order they were written.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    pub(super) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Bad> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "{what} needs {n} bytes at offset {}, only {} are left",
                    self.pos,
                    self.bytes.len() - self.pos
                )
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Bad> {
        Ok(self
            .take(N, what)?
            .try_into()
            .expect("take returns N bytes"))
    }
    pub(super) fn u8(&mut self, what: &str) -> Result<u8, Bad> {
        Ok(self.array::<1>(what)?[0])
    }
    pub(super) fn bool(&mut self, what: &str) -> Result<bool, Bad> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("{what} should be 0 or 1, found {v}")),
        }
    }
    pub(super) fn u64(&mut self, what: &str) -> Result<u64, Bad> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub(super) fn i64(&mut self, what: &str) -> Result<i64, Bad> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    pub(super) fn f32(&mut self, what: &str) -> Result<f32, Bad> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    pub(super) fn f64(&mut self, what: &str) -> Result<f64, Bad> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }
    pub(super) fn len(&mut self, what: &str) -> Result<usize, Bad> {
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| format!("{what} is {v}, too large for this machine"))
    }
    /// A count of items of at least `min_size` bytes each: refused when the rest of the file
    /// cannot hold that many (so a corrupt count never makes a huge allocation).
    pub(super) fn count(&mut self, min_size: usize, what: &str) -> Result<usize, Bad> {
        let n = self.len(what)?;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_size.max(1)) > left {
            return Err(format!(
                "{what} is {n}, more than the {left} bytes left can hold"
            ));
        }
        Ok(n)
    }
    pub(super) fn str(&mut self, what: &str) -> Result<String, Bad> {
        let n = self.count(1, what)?;
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }
    pub(super) fn usizes(&mut self, what: &str) -> Result<Vec<usize>, Bad> {
        let n = self.count(8, what)?;
        (0..n).map(|_| self.len(what)).collect()
    }
    pub(super) fn isizes(&mut self, what: &str) -> Result<Vec<isize>, Bad> {
        let n = self.count(8, what)?;
        (0..n)
            .map(|_| {
                let v = self.i64(what)?;
                isize::try_from(v).map_err(|_| format!("{what} holds {v}, too large"))
            })
            .collect()
    }
    pub(super) fn dtype(&mut self, what: &str) -> Result<Dtype, Bad> {
        let name = self.str(what)?;
        Dtype::from_name(&name).ok_or_else(|| format!("{what} is '{name}', not a rill dtype"))
    }
}
