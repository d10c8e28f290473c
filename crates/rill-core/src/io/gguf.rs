//! GGUF, the file format of ggml and llama.cpp, as MLX's `save_gguf` and `load` use it.
//!
//! Parsed and written here by hand, with no crate: the format is a little-endian header (magic,
//! version, counts), typed key-value metadata, tensor descriptions (name, dims, type, offset),
//! then the tensor data, each tensor aligned to `general.alignment` (32 by default). That is a
//! few hundred lines, reads through the same memory map as the other formats, and checks every
//! length and offset against the file itself; we know of no well-kept Rust crate that writes
//! GGUF with typed metadata arrays as MLX does, and a dependency would be one more crate in the
//! build that the Python, Node and C front-ends share.
//!
//! Loading (MLX's behaviour, and where rill differs):
//! - float32, float16, int8, int16 and int32 tensors load as arrays of those dtypes, over the
//!   mapped bytes when aligned (always, in a file with the default alignment). MLX converts
//!   bfloat16 tensors to float16 and cannot load int64 or float64 ones; rill loads them as
//!   bfloat16, int64 and float64 arrays, exactly.
//! - Q4_0, Q4_1 and Q8_0 tensors load as MLX loads them: three arrays in MLX's quantized form
//!   (`mx.quantize` with `group_size=32`): the packed weights (uint32) under the tensor's name,
//!   and float16 `scales` and `biases` under the name less its last 7 characters (".weight")
//!   plus ".scales" and ".biases". Other quantized types are refused, naming the tensor and its
//!   type (MLX dequantizes Q2_K, Q4_K and Q6_K to float16 and fails on the rest).
//! - GGUF lists a tensor's dims innermost first: they are reversed into a row-major shape.
//! - Metadata values: a string, a list of strings, or an array: 0-d for a scalar, 1-D for a GGUF
//!   array, of the value's type (uint8 to int64, float32, bool). float64 values load as float64
//!   (MLX means to give float32, and crashes on them). Arrays of arrays are refused, as in MLX.
//! - Repeated tensor names (a quantized tensor's scales can collide with another tensor) and
//!   repeated metadata keys are errors, as are files of GGUF versions other than 2 and 3 and
//!   big-endian files.
//!
//! Saving writes version 3 with the default alignment (or the `general.alignment` given in the
//! metadata), tensors in the order given. Tensors may be float32, float16, int8, int16, int32
//! (MLX's set) and also bfloat16, int64 and float64, which GGUF has; metadata arrays may be
//! 0-d or 1-D and non-empty, of any integer dtype, bool, float32 (MLX's set) or float64.

use super::atomic_write::write_atomically;
use super::file_bytes::{array_over, FileBytes, Stored};
use super::host_bytes::HostBytes;
use crate::memory::Data;
use crate::shape::contiguous_strides;
use crate::{Array, Dtype, Error, Result, Stream};
use half::f16;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A metadata value of a GGUF file.
#[derive(Debug, Clone)]
pub enum GgufValue {
    String(String),
    /// A GGUF array of strings.
    Strings(Vec<String>),
    /// A number or bool (a 0-d array) or a GGUF array of them (a 1-D array).
    Array(Array),
}

/// The metadata of a GGUF file, in file order (keys are distinct).
pub type GgufMetadata = Vec<(String, GgufValue)>;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
const ALIGNMENT_KEY: &str = "general.alignment";

// Metadata value types.
const T_UINT8: u32 = 0;
const T_INT8: u32 = 1;
const T_UINT16: u32 = 2;
const T_INT16: u32 = 3;
const T_UINT32: u32 = 4;
const T_INT32: u32 = 5;
const T_FLOAT32: u32 = 6;
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;
const T_UINT64: u32 = 10;
const T_INT64: u32 = 11;
const T_FLOAT64: u32 = 12;

/// The dtype of a numeric or bool metadata value type.
fn value_dtype(t: u32) -> Option<Dtype> {
    Some(match t {
        T_UINT8 => Dtype::Uint8,
        T_INT8 => Dtype::Int8,
        T_UINT16 => Dtype::Uint16,
        T_INT16 => Dtype::Int16,
        T_UINT32 => Dtype::Uint32,
        T_INT32 => Dtype::Int32,
        T_FLOAT32 => Dtype::Float32,
        T_BOOL => Dtype::Bool,
        T_UINT64 => Dtype::Uint64,
        T_INT64 => Dtype::Int64,
        T_FLOAT64 => Dtype::Float64,
        _ => return None,
    })
}

/// The metadata value type of a dtype, for saving.
fn dtype_value_type(d: Dtype) -> Option<u32> {
    [
        T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_UINT64,
        T_INT64, T_FLOAT64,
    ]
    .into_iter()
    .find(|&t| value_dtype(t) == Some(d))
}

// Tensor types (ggml's `ggml_type`).
const F32: u32 = 0;
const F16: u32 = 1;
const Q4_0: u32 = 2;
const Q4_1: u32 = 3;
const Q8_0: u32 = 8;
const I8: u32 = 24;
const I16: u32 = 25;
const I32: u32 = 26;
const I64: u32 = 27;
const F64: u32 = 28;
const BF16: u32 = 30;

/// The dtype of an unquantized tensor type.
fn tensor_dtype(t: u32) -> Option<Dtype> {
    Some(match t {
        F32 => Dtype::Float32,
        F16 => Dtype::Float16,
        BF16 => Dtype::Bfloat16,
        I8 => Dtype::Int8,
        I16 => Dtype::Int16,
        I32 => Dtype::Int32,
        I64 => Dtype::Int64,
        F64 => Dtype::Float64,
        _ => return None,
    })
}

/// The tensor type a dtype is saved as.
fn dtype_tensor_type(d: Dtype) -> Option<u32> {
    [F32, F16, BF16, I8, I16, I32, I64, F64]
        .into_iter()
        .find(|&t| tensor_dtype(t) == Some(d))
}

/// ggml's name of a tensor type, for errors.
fn tensor_type_name(t: u32) -> String {
    const NAMES: &[&str] = &[
        "F32",
        "F16",
        "Q4_0",
        "Q4_1",
        "Q4_2",
        "Q4_3",
        "Q5_0",
        "Q5_1",
        "Q8_0",
        "Q8_1",
        "Q2_K",
        "Q3_K",
        "Q4_K",
        "Q5_K",
        "Q6_K",
        "Q8_K",
        "IQ2_XXS",
        "IQ2_XS",
        "IQ3_XXS",
        "IQ1_S",
        "IQ4_NL",
        "IQ3_S",
        "IQ2_S",
        "IQ4_XS",
        "I8",
        "I16",
        "I32",
        "I64",
        "F64",
        "IQ1_M",
        "BF16",
        "Q4_0_4_4",
        "Q4_0_4_8",
        "Q4_0_8_8",
        "TQ1_0",
        "TQ2_0",
        "IQ4_NL_4_4",
        "IQ4_NL_4_8",
        "IQ4_NL_8_8",
        "MXFP4",
    ];
    match NAMES.get(t as usize) {
        Some(name) => format!("type {name} ({t})"),
        None => format!("the unknown type {t}"),
    }
}

/// A block-quantized type MLX loads in its quantized form: bytes per block of 32 weights, and
/// bits per weight of the result.
fn quantized(t: u32) -> Option<(usize, usize)> {
    match t {
        Q4_0 => Some((18, 4)),
        Q4_1 => Some((20, 4)),
        Q8_0 => Some((34, 8)),
        _ => None,
    }
}

const BLOCK: usize = 32;

// ---------------------------------------------------------------- loading

/// A cursor over the file's bytes whose reads fail, naming the file, where it ends.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, msg: impl Into<String>) -> Error {
        Error::file(OP, self.path, msg)
    }

    /// The next `n` bytes, which hold `what`.
    fn take(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= left)
            .ok_or_else(|| {
                self.corrupt(format!(
                    "truncated: the file ends inside {} (at byte {}: {n} bytes needed, {left} \
                     left)",
                    what(),
                    self.pos
                ))
            })?;
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// A string: a u64 length, then that many bytes of UTF-8.
    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String> {
        let len = self.u64(what)?;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.corrupt(format!("corrupt: {} is not valid UTF-8", what())))
    }
}

const OP: &str = "load";

/// The elements of a metadata value of `dtype` as an array of `shape` (0-d or 1-D), from their
/// little-endian bytes.
fn value_array(r: &Reader, raw: &[u8], dtype: Dtype, shape: &[usize], key: &str) -> Result<Array> {
    if dtype == Dtype::Bool {
        if let Some(b) = raw.iter().find(|&&b| b > 1) {
            return Err(r.corrupt(format!(
                "corrupt: the bool metadata value '{key}' holds the byte {b}"
            )));
        }
    }
    let mut bytes = raw.to_vec();
    if cfg!(target_endian = "big") {
        bytes
            .chunks_exact_mut(dtype.size())
            .for_each(<[u8]>::reverse);
    }
    Array::from_bytes(&bytes, dtype, shape, ())
}

/// The metadata value of type `t` for `key` at the reader's position.
fn read_value(r: &mut Reader, t: u32, key: &str) -> Result<GgufValue> {
    let what = || format!("the metadata value '{key}'");
    if t == T_STRING {
        return Ok(GgufValue::String(r.string(&what)?));
    }
    if let Some(dtype) = value_dtype(t) {
        let raw = r.take(dtype.size() as u64, &what)?;
        return Ok(GgufValue::Array(value_array(r, raw, dtype, &[], key)?));
    }
    if t != T_ARRAY {
        return Err(r.corrupt(format!(
            "corrupt: the metadata value '{key}' has the unknown type {t}"
        )));
    }
    let element = r.u32(&what)?;
    let len = r.u64(&what)?;
    if element == T_STRING {
        // No capacity from the count: a corrupt count must not allocate; each string read
        // checks that its bytes are there.
        let mut strings = Vec::new();
        for _ in 0..len {
            strings.push(r.string(&what)?);
        }
        return Ok(GgufValue::Strings(strings));
    }
    if element == T_ARRAY {
        // MLX's error class (ValueError) for what it does not support.
        return Err(Error::arg(
            OP,
            format!(
                "{}: the metadata value '{key}' is an array of arrays: only one level of arrays \
                 is supported",
                r.path.display()
            ),
        ));
    }
    let dtype = value_dtype(element).ok_or_else(|| {
        r.corrupt(format!(
            "corrupt: the metadata array '{key}' has the unknown element type {element}"
        ))
    })?;
    let nbytes = len.checked_mul(dtype.size() as u64).ok_or_else(|| {
        r.corrupt(format!(
            "corrupt: the metadata array '{key}' claims {len} elements"
        ))
    })?;
    let raw = r.take(nbytes, &what)?;
    let n = raw.len() / dtype.size();
    Ok(GgufValue::Array(value_array(r, raw, dtype, &[n], key)?))
}

/// One tensor's description.
struct TensorInfo {
    name: String,
    /// Row-major (the file's dims reversed).
    shape: Vec<usize>,
    kind: u32,
    offset: u64,
}

/// Every array in the GGUF file at `path` (in file order; a quantized tensor gives three) and
/// its metadata.
pub(crate) fn load(path: &Path, stream: Stream) -> Result<(Vec<(String, Array)>, GgufMetadata)> {
    // MLX raises ValueError for a file it cannot open (and RuntimeError for one it cannot
    // parse): an argument error becomes the former.
    let bytes = FileBytes::map(OP, path).map_err(|e| match e {
        Error::File { msg, .. } => Error::arg(OP, format!("{}: {msg}", path.display())),
        other => other,
    })?;
    let mut r = Reader {
        bytes: &bytes[..],
        pos: 0,
        path,
    };
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        let why = if bytes.is_empty() {
            "the file is empty".to_string()
        } else {
            "it does not start with the bytes 'GGUF'".to_string()
        };
        return Err(r.corrupt(format!("not a GGUF file: {why}")));
    }
    r.pos = 4;
    let header = || "the header".to_string();
    let version = r.u32(&header)?;
    match version {
        2 | 3 => {}
        v if matches!(v.swap_bytes(), 2 | 3) => {
            return Err(
                r.corrupt("big-endian GGUF files are not supported (only little-endian ones)")
            )
        }
        v => {
            return Err(r.corrupt(format!(
                "GGUF version {v} is not supported (only versions 2 and 3)"
            )))
        }
    }
    let tensor_count = r.u64(&header)?;
    let kv_count = r.u64(&header)?;

    let mut alignment = DEFAULT_ALIGNMENT;
    let mut metadata = GgufMetadata::new();
    let mut keys = HashSet::new();
    for i in 0..kv_count {
        let key = r.string(&|| format!("the key of metadata entry {i}"))?;
        let t = r.u32(&|| format!("the metadata value '{key}'"))?;
        let value = read_value(&mut r, t, &key)?;
        if !keys.insert(key.clone()) {
            return Err(r.corrupt(format!("corrupt: the metadata key '{key}' appears twice")));
        }
        if key == ALIGNMENT_KEY && t == T_UINT32 {
            let GgufValue::Array(a) = &value else {
                unreachable!("a uint32 value is an array")
            };
            let v = a.to_vec::<u32>()?[0];
            if !v.is_power_of_two() {
                return Err(r.corrupt(format!(
                    "corrupt: {ALIGNMENT_KEY} is {v}, not a power of two"
                )));
            }
            alignment = v.into();
        }
        metadata.push((key, value));
    }

    let mut infos = Vec::new();
    for i in 0..tensor_count {
        let name = r.string(&|| format!("the name of tensor {i}"))?;
        let what = || format!("the description of tensor '{name}'");
        let ndim = r.u32(&what)?;
        let mut shape = Vec::new();
        for _ in 0..ndim {
            let d = r.u64(&what)?;
            let d = usize::try_from(d)
                .map_err(|_| r.corrupt(format!("corrupt: tensor '{name}' has a dim of {d}")))?;
            shape.push(d);
        }
        shape.reverse();
        let kind = r.u32(&what)?;
        let offset = r.u64(&what)?;
        infos.push(TensorInfo {
            name,
            shape,
            kind,
            offset,
        });
    }
    // The data starts at the next multiple of the alignment.
    let data_start = (r.pos as u64).next_multiple_of(alignment);

    let mut arrays = Vec::new();
    // Each array's name, and the tensor of the file it comes from.
    let mut names: HashMap<String, String> = HashMap::new();
    for info in infos {
        for (name, a) in tensor(&r, &bytes, data_start, &info, stream)? {
            if let Some(first) = names.get(&name) {
                // A quantized tensor's scales and biases have names of their own.
                let quantized = [first, &info.name].into_iter().find(|&o| *o != name);
                return Err(r.corrupt(format!(
                    "two tensors are named '{name}'{}",
                    quantized
                        .map(|q| format!(" (the quantized tensor '{q}' gives it)"))
                        .unwrap_or_default()
                )));
            }
            names.insert(name.clone(), info.name.clone());
            arrays.push((name, a));
        }
    }
    Ok((arrays, metadata))
}

/// The array(s) of one tensor: one for an unquantized tensor, three for a quantized one.
fn tensor(
    r: &Reader,
    bytes: &Arc<FileBytes>,
    data_start: u64,
    info: &TensorInfo,
    stream: Stream,
) -> Result<Vec<(String, Array)>> {
    let name = &info.name;
    let start = data_start
        .checked_add(info.offset)
        .and_then(|s| usize::try_from(s).ok())
        .filter(|&s| s <= bytes.len())
        .ok_or_else(|| {
            r.corrupt(format!(
                "truncated or corrupt: tensor '{name}' starts at byte {} of the data, past the \
                 end of the file ({} bytes)",
                info.offset,
                bytes.len()
            ))
        })?;
    if let Some(dtype) = tensor_dtype(info.kind) {
        let a = array_over(
            OP,
            r.path,
            bytes,
            Stored {
                start,
                limit: bytes.len(),
                dtype,
                shape: info.shape.clone(),
                strides: contiguous_strides(&info.shape),
                swapped: cfg!(target_endian = "big"),
            },
            stream,
        )
        .map_err(|e| match e {
            Error::File { op, path, msg } => Error::File {
                op,
                path,
                msg: format!("tensor '{name}': {msg}"),
            },
            other => other,
        })?;
        return Ok(vec![(name.clone(), a)]);
    }
    let Some((block_bytes, bits)) = quantized(info.kind) else {
        return Err(r.corrupt(format!(
            "tensor '{name}' is of {}, which rill cannot load (it loads F32, F16, BF16, F64, \
             I8, I16, I32, I64, and Q4_0, Q4_1 and Q8_0 as MLX's quantized arrays)",
            tensor_type_name(info.kind)
        )));
    };
    let type_name = tensor_type_name(info.kind);
    let last = *info.shape.last().ok_or_else(|| {
        r.corrupt(format!(
            "corrupt: tensor '{name}' of {type_name} has no dims"
        ))
    })?;
    if !last.is_multiple_of(BLOCK) {
        return Err(r.corrupt(format!(
            "tensor '{name}' of {type_name} has an innermost dim of {last}, not a multiple of \
             {BLOCK}"
        )));
    }
    let blocks = info
        .shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .map(|n| n / BLOCK);
    let size = blocks.and_then(|b| b.checked_mul(block_bytes));
    let end = size.and_then(|s| s.checked_add(start));
    let (Some(blocks), Some(end)) = (blocks, end.filter(|&e| e <= bytes.len())) else {
        return Err(r.corrupt(format!(
            "truncated: tensor '{name}' of {type_name} and shape {:?} extends past the end of \
             the file",
            info.shape
        )));
    };
    let data = &bytes[start..end];

    let mut w_shape = info.shape.clone();
    *w_shape.last_mut().unwrap() = last * bits / 32;
    let mut s_shape = info.shape.clone();
    *s_shape.last_mut().unwrap() = last / BLOCK;
    let weights_per_block = BLOCK * bits / 8;
    let mut weights = vec![0u8; blocks * weights_per_block];
    let mut scales = Vec::with_capacity(blocks * 2);
    let mut biases = Vec::with_capacity(blocks * 2);
    let half = |b: &[u8]| f16::from_le_bytes([b[0], b[1]]);
    for (block, out) in data
        .chunks_exact(block_bytes)
        .zip(weights.chunks_exact_mut(weights_per_block))
    {
        let d = half(block);
        // MLX's biases: computed in float and rounded to float16 once (exact unless they
        // overflow float16).
        let (bias, qs) = match info.kind {
            Q4_0 => (f16::from_f32(-8.0 * d.to_f32()), &block[2..]),
            Q4_1 => (half(&block[2..]), &block[4..]),
            _ => (f16::from_f32(-128.0 * d.to_f32()), &block[2..]),
        };
        if bits == 8 {
            // Signed weights q become unsigned q + 128.
            for (o, &q) in out.iter_mut().zip(qs) {
                *o = q ^ 0x80;
            }
        } else {
            // ggml keeps weight j in the low nibble of byte j and weight j + 16 in its high
            // nibble; MLX packs weights in order, two to a byte, the first in the low nibble.
            for (k, o) in out.iter_mut().enumerate() {
                let (a, b) = if k < 8 {
                    (qs[2 * k] & 0x0F, qs[2 * k + 1] & 0x0F)
                } else {
                    (qs[2 * k - 16] >> 4, qs[2 * k - 15] >> 4)
                };
                *o = a | (b << 4);
            }
        }
        scales.extend_from_slice(&d.to_le_bytes());
        biases.extend_from_slice(&bias.to_le_bytes());
    }
    if cfg!(target_endian = "big") {
        weights.chunks_exact_mut(4).for_each(<[u8]>::reverse);
        for v in [&mut scales, &mut biases] {
            v.chunks_exact_mut(2).for_each(<[u8]>::reverse);
        }
    }
    // MLX's names: the tensor's name less its last 7 characters (".weight"), when it has them.
    let cut = name
        .len()
        .checked_sub(7)
        .filter(|&c| name.is_char_boundary(c));
    let prefix = &name[..cut.unwrap_or(name.len())];
    let owned = |b: &[u8], dtype, shape: &[usize]| -> Result<Array> {
        let mut buffer = crate::backend::cpu::allocator().allocate(OP, b.len())?;
        buffer.as_mut_slice::<u8>().copy_from_slice(b);
        Array::from_data(shape, dtype, Data::contiguous(buffer, shape), stream)
    };
    Ok(vec![
        (name.clone(), owned(&weights, Dtype::Uint32, &w_shape)?),
        (
            format!("{prefix}.scales"),
            owned(&scales, Dtype::Float16, &s_shape)?,
        ),
        (
            format!("{prefix}.biases"),
            owned(&biases, Dtype::Float16, &s_shape)?,
        ),
    ])
}

// ---------------------------------------------------------------- saving

fn write_string(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    out.write_all(&(s.len() as u64).to_le_bytes())?;
    out.write_all(s.as_bytes())
}

/// A metadata value ready to write: its type and its bytes.
struct Encoded {
    kind: u32,
    bytes: Vec<u8>,
}

/// Checks and encodes one metadata value (MLX's rules and error classes).
fn encode_value(key: &str, value: &GgufValue) -> Result<Encoded> {
    const SAVE: &str = "save_gguf";
    let mut bytes = Vec::new();
    let kind = match value {
        GgufValue::String(s) => {
            write_string(&mut bytes, s).expect("writes to a Vec do not fail");
            T_STRING
        }
        GgufValue::Strings(v) => {
            bytes.extend_from_slice(&T_STRING.to_le_bytes());
            bytes.extend_from_slice(&(v.len() as u64).to_le_bytes());
            for s in v {
                write_string(&mut bytes, s).expect("writes to a Vec do not fail");
            }
            T_ARRAY
        }
        GgufValue::Array(a) => {
            if a.ndim() > 1 {
                return Err(Error::runtime(
                    SAVE,
                    format!(
                        "Cannot save arrays with more than one dimension (metadata '{key}' has \
                         shape {:?})",
                        a.shape()
                    ),
                ));
            }
            if a.size() == 0 {
                return Err(Error::runtime(
                    SAVE,
                    format!("Cannot save empty arrays (metadata '{key}')"),
                ));
            }
            let t = dtype_value_type(a.dtype()).ok_or_else(|| {
                Error::dtype(
                    SAVE,
                    format!(
                        "array type {} not supported for metadata ('{key}'): GGUF metadata holds \
                         integers, bool, float32 and float64",
                        a.dtype()
                    ),
                )
            })?;
            let host = HostBytes::of(a)?;
            if a.ndim() == 1 {
                bytes.extend_from_slice(&t.to_le_bytes());
                bytes.extend_from_slice(&(a.size() as u64).to_le_bytes());
            }
            bytes.extend_from_slice(host.as_bytes());
            if a.ndim() == 1 {
                T_ARRAY
            } else {
                t
            }
        }
    };
    Ok(Encoded { kind, bytes })
}

/// Writes `arrays` (name, evaluated array, its row-major bytes) and `metadata` to `path`.
pub(crate) fn save(
    path: &Path,
    arrays: &[(&str, &Array, HostBytes)],
    metadata: &[(String, GgufValue)],
) -> Result<()> {
    const SAVE: &str = "save_gguf";
    let mut keys = HashSet::new();
    let mut alignment = DEFAULT_ALIGNMENT;
    let mut kvs = Vec::with_capacity(metadata.len());
    for (key, value) in metadata {
        if !keys.insert(key.as_str()) {
            return Err(Error::arg(
                SAVE,
                format!("the metadata key '{key}' is given twice"),
            ));
        }
        let encoded = encode_value(key, value)?;
        if key == ALIGNMENT_KEY {
            let v = match value {
                GgufValue::Array(a) if a.ndim() == 0 && a.dtype() == Dtype::Uint32 => {
                    a.to_vec::<u32>()?[0]
                }
                _ => {
                    return Err(Error::arg(
                        SAVE,
                        format!("{ALIGNMENT_KEY} must be a uint32 scalar"),
                    ))
                }
            };
            if !v.is_power_of_two() {
                return Err(Error::arg(
                    SAVE,
                    format!("{ALIGNMENT_KEY} must be a power of two, not {v}"),
                ));
            }
            alignment = v.into();
        }
        kvs.push((key, encoded));
    }
    let mut types = Vec::with_capacity(arrays.len());
    for (name, a, _) in arrays {
        let t = dtype_tensor_type(a.dtype()).ok_or_else(|| {
            // MLX's message and class (RuntimeError).
            Error::runtime(
                SAVE,
                format!(
                    "dtype {} is not supported (array '{name}'): GGUF tensors may be float32, \
                     float16, bfloat16, float64, int8, int16, int32 or int64",
                    a.dtype()
                ),
            )
        })?;
        types.push(t);
    }
    let alignment = alignment as usize;
    write_atomically(SAVE, path, |out| {
        let mut out = Counting { out, written: 0 };
        out.write_all(MAGIC)?;
        out.write_all(&3u32.to_le_bytes())?;
        out.write_all(&(arrays.len() as u64).to_le_bytes())?;
        out.write_all(&(kvs.len() as u64).to_le_bytes())?;
        for (key, v) in &kvs {
            write_string(&mut out, key)?;
            out.write_all(&v.kind.to_le_bytes())?;
            out.write_all(&v.bytes)?;
        }
        // Offsets are relative to the data section; each tensor starts aligned.
        let mut offset = 0usize;
        let mut offsets = Vec::with_capacity(arrays.len());
        for ((name, a, bytes), t) in arrays.iter().zip(&types) {
            offset = offset.next_multiple_of(alignment);
            offsets.push(offset);
            write_string(&mut out, name)?;
            out.write_all(&(a.ndim() as u32).to_le_bytes())?;
            // Innermost dim first.
            for &d in a.shape().iter().rev() {
                out.write_all(&(d as u64).to_le_bytes())?;
            }
            out.write_all(&t.to_le_bytes())?;
            out.write_all(&(offset as u64).to_le_bytes())?;
            offset += bytes.as_bytes().len();
        }
        let data_start = out.written.next_multiple_of(alignment);
        out.pad_to(data_start)?;
        for ((_, _, bytes), at) in arrays.iter().zip(offsets) {
            out.pad_to(data_start + at)?;
            out.write_all(bytes.as_bytes())?;
        }
        Ok(())
    })
}

/// A writer that counts the bytes written through it.
struct Counting<'w, W: Write> {
    out: &'w mut W,
    written: usize,
}

impl<W: Write> Counting<'_, W> {
    /// Writes zeros up to byte `at` of the file.
    fn pad_to(&mut self, at: usize) -> std::io::Result<()> {
        const ZEROS: [u8; 256] = [0; 256];
        while self.written < at {
            let n = (at - self.written).min(ZEROS.len());
            self.write_all(&ZEROS[..n])?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
