//! Host arrays: a dtype, a shape and C-ordered bytes, shared cheaply (`Arc`) between the samples,
//! batches and buffers that hold them. The bytes belong to an [`Owner`]: a `Vec<u8>` made here, or
//! memory lent by a front-end (a NumPy array), which is then never written.

use crate::error::{argument, Result};
use rill_core::half::{bf16, f16};
use rill_core::{Dtype, Element, Scalar};
use std::fmt;
use std::sync::Arc;

/// Whoever keeps an array's bytes alive.
pub trait Owner: Send + Sync + 'static {
    fn bytes(&self) -> &[u8];
    /// Writable access, for memory that rill-data made (a `Vec<u8>`); None for lent memory.
    fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        None
    }
}

impl Owner for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        Some(self)
    }
}

/// An array on the host: what a sample maps its keys to.
#[derive(Clone)]
pub struct HostArray {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Arc<dyn Owner>,
}

impl fmt::Debug for HostArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostArray({}, {:?})", self.dtype, self.shape)
    }
}

fn check_len(dtype: Dtype, shape: &[usize], len: usize) -> Result<()> {
    let want = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
    match want {
        Some(w) if w == len => Ok(()),
        _ => Err(argument(
            "array",
            format!(
                "{len} bytes cannot hold a {dtype} array of shape {shape:?} ({} bytes)",
                want.map_or("too many".to_string(), |w| w.to_string())
            ),
        )),
    }
}

impl HostArray {
    /// An array over `bytes` (C order); their length must be the shape's byte size.
    pub fn new(dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) -> Result<Self> {
        Self::from_owner(dtype, shape, Arc::new(bytes))
    }

    /// An array over memory someone else owns (C order).
    pub fn from_owner(dtype: Dtype, shape: Vec<usize>, data: Arc<dyn Owner>) -> Result<Self> {
        check_len(dtype, &shape, data.bytes().len())?;
        Ok(Self { dtype, shape, data })
    }

    /// An array of `values` with `shape`.
    pub fn from_slice<T: Element>(values: &[T], shape: &[usize]) -> Result<Self> {
        // SAFETY: rill's element types (bool, integers, f16, bf16, f32, f64, Complex32) are plain
        // values without padding bytes, so their memory is `size_of_val` initialized bytes.
        let bytes = unsafe {
            std::slice::from_raw_parts(values.as_ptr() as *const u8, std::mem::size_of_val(values))
        };
        Self::new(T::DTYPE, shape.to_vec(), bytes.to_vec())
    }

    /// A string as a uint8 array of its UTF-8 bytes (how samples hold text).
    pub fn from_text(s: &str) -> Self {
        Self::from_bytes(s.as_bytes())
    }

    /// Raw bytes as a uint8 array.
    pub fn from_bytes(b: &[u8]) -> Self {
        Self {
            dtype: Dtype::Uint8,
            shape: vec![b.len()],
            data: Arc::new(b.to_vec()),
        }
    }

    /// The values, when `T` is the array's dtype.
    pub fn to_vec<T: Element>(&self) -> Option<Vec<T>> {
        if T::DTYPE != self.dtype {
            return None;
        }
        let b = self.bytes();
        if T::DTYPE == Dtype::Bool {
            // Lent memory may hold bytes other than 0 and 1: read them as NumPy does.
            return Some(
                b.iter()
                    .map(|&x| T::from_scalar(Scalar::Bool(x != 0)))
                    .collect(),
            );
        }
        let n = self.size();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: `i * size_of::<T>()` plus one element is inside `b` (its length is the
            // shape's byte size); read_unaligned because lent memory need not be aligned; every
            // bit pattern is a valid value of the non-bool element types.
            out.push(unsafe {
                std::ptr::read_unaligned(b.as_ptr().add(i * std::mem::size_of::<T>()) as *const T)
            });
        }
        Some(out)
    }

    /// The bytes as text (lossy UTF-8), for uint8 and int8 arrays.
    pub fn to_string_lossy(&self) -> Option<String> {
        matches!(self.dtype, Dtype::Uint8 | Dtype::Int8)
            .then(|| String::from_utf8_lossy(self.bytes()).into_owned())
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// The bytes, writable, when this array alone holds memory that rill-data made.
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        Arc::get_mut(&mut self.data).and_then(|d| d.bytes_mut())
    }

    /// The same bytes seen with another shape of the same size.
    pub fn reshaped(&self, shape: Vec<usize>) -> Result<Self> {
        check_len(self.dtype, &shape, self.bytes().len())?;
        Ok(Self {
            dtype: self.dtype,
            shape,
            data: self.data.clone(),
        })
    }

    /// Whether two arrays have the same dtype, shape and bytes.
    pub fn same(&self, other: &HostArray) -> bool {
        self.dtype == other.dtype && self.shape == other.shape && self.bytes() == other.bytes()
    }
}

/// The bytes of one element of `dtype` holding `value` (converted as a C cast would: integers
/// truncate, bool is `value != 0`, complex gets a zero imaginary part).
pub(crate) fn element_bytes(dtype: Dtype, value: f64) -> Vec<u8> {
    match dtype {
        Dtype::Bool => vec![(value != 0.0) as u8],
        Dtype::Uint8 => (value as u8).to_ne_bytes().to_vec(),
        Dtype::Uint16 => (value as u16).to_ne_bytes().to_vec(),
        Dtype::Uint32 => (value as u32).to_ne_bytes().to_vec(),
        Dtype::Uint64 => (value as u64).to_ne_bytes().to_vec(),
        Dtype::Int8 => (value as i8).to_ne_bytes().to_vec(),
        Dtype::Int16 => (value as i16).to_ne_bytes().to_vec(),
        Dtype::Int32 => (value as i32).to_ne_bytes().to_vec(),
        Dtype::Int64 => (value as i64).to_ne_bytes().to_vec(),
        Dtype::Float16 => f16::from_f64(value).to_ne_bytes().to_vec(),
        Dtype::Bfloat16 => bf16::from_f64(value).to_ne_bytes().to_vec(),
        Dtype::Float32 => (value as f32).to_ne_bytes().to_vec(),
        Dtype::Float64 => value.to_ne_bytes().to_vec(),
        Dtype::Complex64 => {
            let mut b = (value as f32).to_ne_bytes().to_vec();
            b.extend_from_slice(&0f32.to_ne_bytes());
            b
        }
    }
}

/// `n` elements of `dtype`, each holding `value`.
pub(crate) fn filled(dtype: Dtype, n: usize, value: f64) -> Vec<u8> {
    let one = element_bytes(dtype, value);
    if one.iter().all(|&b| b == one[0]) {
        return vec![one[0]; n * one.len()];
    }
    one.repeat(n)
}

/// Row-major strides, in elements.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// Copies `src` into `dst`, a C-ordered array of the same dtype and rank with shape `dst_shape`,
/// with its first element at `offset` (one entry per dim). The caller checks that it fits.
pub(crate) fn place(src: &HostArray, dst: &mut [u8], dst_shape: &[usize], offset: &[usize]) {
    let e = src.dtype.size();
    let n = src.ndim();
    debug_assert_eq!(dst_shape.len(), n);
    if src.size() == 0 {
        return;
    }
    if n == 0 {
        dst[..e].copy_from_slice(src.bytes());
        return;
    }
    let ds = strides(dst_shape);
    let row = src.shape[n - 1] * e;
    let rows = src.size() / src.shape[n - 1];
    let mut idx = vec![0usize; n - 1];
    let bytes = src.bytes();
    for r in 0..rows {
        let mut at = offset[n - 1];
        for ((i, o), s) in idx.iter().zip(offset).zip(&ds) {
            at += (i + o) * s;
        }
        dst[at * e..at * e + row].copy_from_slice(&bytes[r * row..(r + 1) * row]);
        // The next row's index (odometer over all dims but the last).
        for d in (0..n - 1).rev() {
            idx[d] += 1;
            if idx[d] < src.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Elements `start..start + len` of `a` along `dim`, copied.
pub(crate) fn slice_dim(a: &HostArray, dim: usize, start: usize, len: usize) -> HostArray {
    let e = a.dtype.size();
    let outer: usize = a.shape[..dim].iter().product();
    let inner: usize = a.shape[dim + 1..].iter().product::<usize>() * e;
    let mut out = Vec::with_capacity(outer * len * inner);
    let b = a.bytes();
    for o in 0..outer {
        let base = (o * a.shape[dim] + start) * inner;
        out.extend_from_slice(&b[base..base + len * inner]);
    }
    let mut shape = a.shape.clone();
    shape[dim] = len;
    HostArray {
        dtype: a.dtype,
        shape,
        data: Arc::new(out),
    }
}

/// A dim given as an int that may count from the end, checked against `ndim`.
pub(crate) fn normalize_dim(dim: isize, ndim: usize) -> Option<usize> {
    let d = if dim < 0 { dim + ndim as isize } else { dim };
    (0..ndim as isize).contains(&d).then_some(d as usize)
}
