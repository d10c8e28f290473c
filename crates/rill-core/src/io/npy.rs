//! NumPy's `.npy` format: a magic string, a version, a header (a Python dict literal naming the
//! dtype, the order and the shape) and the elements.
//!
//! The header is parsed here by hand. It is a Python literal, not JSON, and the Rust crates that
//! read `.npy` either pull in a Python-literal parser far larger than the three keys need, or
//! accept only the exact spelling NumPy writes today (files from older NumPy, Python 2's `3L`
//! dims, or MLX's `(3, )` differ). The grammar below is small and its errors can say what is
//! wrong with the file.
//!
//! Dtypes follow NumPy's type strings, plus MLX's convention for bfloat16, which NumPy lacks:
//! `'<V2'`, two raw bytes (NumPy reads such a file as a void array, MLX as bfloat16).
//! Multi-byte elements are written in little-endian order (this machine's; `'<'`), and read in
//! either.

use super::file_bytes::{array_over, byte_size, FileBytes, Stored};
use crate::shape::contiguous_strides;
use crate::{Array, Dtype, Error, Result, Stream};
use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy pads the header so that the data starts at a multiple of 64 bytes (its `ARRAY_ALIGN`),
/// which keeps the elements of a mapped file aligned for every dtype.
pub const DATA_ALIGN: usize = 64;

/// What a `.npy` header says about the array that follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub dtype: Dtype,
    /// The file's elements are big-endian.
    pub big_endian: bool,
    /// Column-major order (the first index varies fastest).
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Byte offset of the first element from the start of the `.npy` bytes.
    pub data_start: usize,
}

/// Why a header cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderError {
    /// Not a `.npy` header, or a damaged one.
    Corrupt(String),
    /// A well-formed header of an array rill cannot hold (strings, complex128, structured...).
    Unsupported(String),
}

impl From<String> for HeaderError {
    fn from(msg: String) -> Self {
        HeaderError::Corrupt(msg)
    }
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Corrupt(m) | HeaderError::Unsupported(m) => f.write_str(m),
        }
    }
}

impl HeaderError {
    /// The rill error for `op` on `path`: a file error for a damaged file, a dtype error (MLX's
    /// `ValueError`) for a dtype rill does not have.
    fn into_error(self, op: &'static str, path: &Path) -> Error {
        match self {
            HeaderError::Corrupt(msg) => Error::file(op, path, msg),
            HeaderError::Unsupported(msg) => Error::dtype(op, format!("{}: {msg}", path.display())),
        }
    }
}

/// Reads the header at the start of `bytes` (a whole `.npy` file or archive member). The error
/// message says what is wrong; callers add the op and the file.
pub fn parse_header(bytes: &[u8]) -> std::result::Result<Header, HeaderError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        let msg = "not a .npy file (it does not start with the magic string \\x93NUMPY)";
        return Err(msg.to_string().into());
    }
    let (len_start, len_size) = match bytes.get(6..8) {
        Some([1, _]) => (8, 2),
        Some([2 | 3, _]) => (8, 4),
        Some([major, minor]) => {
            return Err(format!("unsupported .npy format version {major}.{minor}").into())
        }
        _ => return Err(truncated_header(bytes.len()).into()),
    };
    let text_start = len_start + len_size;
    let len_bytes = bytes
        .get(len_start..text_start)
        .ok_or_else(|| truncated_header(bytes.len()))?;
    let text_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |n, &b| (n << 8) | b as usize);
    let text_end = text_start + text_len;
    let raw = bytes.get(text_start..text_end).ok_or_else(|| {
        format!(
            "truncated: the header says it is {text_len} bytes long, the file ends {} bytes in",
            bytes.len().saturating_sub(text_start)
        )
    })?;
    // Versions 1 and 2 are latin-1, version 3 UTF-8; every header NumPy writes is ASCII.
    let text: String = if bytes[6] == 3 {
        std::str::from_utf8(raw)
            .map_err(|_| "the header is not valid UTF-8".to_string())?
            .to_string()
    } else {
        raw.iter().map(|&b| b as char).collect()
    };
    let Literal::Dict(entries) = Parser::new(&text).whole()? else {
        return Err(format!("the header is not a dict: {}", text.trim_end()).into());
    };
    let mut descr = None;
    let mut fortran_order = None;
    let mut shape = None;
    for (key, value) in entries {
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran_order = Some(value),
            "shape" => shape = Some(value),
            other => return Err(format!("the header has an unexpected key '{other}'").into()),
        }
    }
    let missing = |k: &str| format!("the header has no '{k}': {}", text.trim_end());
    let (dtype, big_endian) = match descr.ok_or_else(|| missing("descr"))? {
        Literal::Str(s) => parse_descr(&s)?,
        other => {
            return Err(HeaderError::Unsupported(format!(
                "structured dtypes are not supported (the header's descr is {other:?})"
            )))
        }
    };
    let fortran_order = match fortran_order.ok_or_else(|| missing("fortran_order"))? {
        Literal::Bool(b) => b,
        other => return Err(format!("fortran_order must be True or False, not {other:?}").into()),
    };
    let shape = match shape.ok_or_else(|| missing("shape"))? {
        Literal::Tuple(dims) => dims
            .into_iter()
            .map(|d| match d {
                Literal::Int(n) => {
                    usize::try_from(n).map_err(|_| format!("negative dimension {n}"))
                }
                other => Err(format!("a dimension must be an integer, not {other:?}")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        other => return Err(format!("the shape must be a tuple, not {other:?}").into()),
    };
    Ok(Header {
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_start: text_end,
    })
}

fn truncated_header(len: usize) -> String {
    format!("truncated: {len} bytes is too short for a .npy header")
}

/// The dtype and byte order of a NumPy type string such as `'<f4'` or `'|b1'`.
fn parse_descr(descr: &str) -> std::result::Result<(Dtype, bool), HeaderError> {
    let (big_endian, code) = match descr.as_bytes().first() {
        Some(b'<') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        Some(b'=') => (cfg!(target_endian = "big"), &descr[1..]),
        Some(b'|') => (false, &descr[1..]),
        _ => (cfg!(target_endian = "big"), descr),
    };
    let dtype = match code {
        "b1" | "?" => Dtype::Bool,
        "u1" | "B" => Dtype::Uint8,
        "u2" => Dtype::Uint16,
        "u4" => Dtype::Uint32,
        "u8" => Dtype::Uint64,
        "i1" | "b" => Dtype::Int8,
        "i2" => Dtype::Int16,
        "i4" => Dtype::Int32,
        "i8" => Dtype::Int64,
        "f2" | "e" => Dtype::Float16,
        "f4" | "f" => Dtype::Float32,
        "f8" | "d" => Dtype::Float64,
        "c8" | "F" => Dtype::Complex64,
        "V2" => Dtype::Bfloat16,
        _ => {
            let what = match code.as_bytes().first() {
                Some(b'c') => " (complex128 and wider: rill's complex type is complex64)",
                Some(b'f' | b'g') => " (rill's floats are float16, bfloat16, float32 and float64)",
                Some(b'U' | b'S' | b'a') => " (strings)",
                Some(b'O') => " (Python objects)",
                Some(b'M' | b'm') => " (dates and time deltas)",
                Some(b'V') => " (raw bytes: only 'V2', MLX's bfloat16, is read)",
                _ => "",
            };
            return Err(HeaderError::Unsupported(format!(
                "unsupported dtype '{descr}'{what}"
            )));
        }
    };
    Ok((dtype, big_endian && dtype.size() > 1))
}

/// The NumPy type string of `dtype` in this machine's byte order.
fn descr(dtype: Dtype) -> String {
    let code = match dtype {
        Dtype::Bool => "b1",
        Dtype::Uint8 => "u1",
        Dtype::Uint16 => "u2",
        Dtype::Uint32 => "u4",
        Dtype::Uint64 => "u8",
        Dtype::Int8 => "i1",
        Dtype::Int16 => "i2",
        Dtype::Int32 => "i4",
        Dtype::Int64 => "i8",
        Dtype::Float16 => "f2",
        Dtype::Bfloat16 => "V2",
        Dtype::Float32 => "f4",
        Dtype::Float64 => "f8",
        Dtype::Complex64 => "c8",
    };
    let order = if dtype.size() == 1 {
        '|'
    } else if cfg!(target_endian = "big") {
        '>'
    } else {
        '<'
    };
    format!("{order}{code}")
}

/// The magic string, version, header length and header of a row-major `.npy` file holding a
/// `dtype` array of `shape`, padded so the data that follows starts at a multiple of 64 bytes.
pub fn header_bytes(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut text = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        descr(dtype)
    );
    // Version 1 stores the header length in 2 bytes; longer headers (thousands of dims) need 2.0.
    let version: u8 = if text.len() + 1 + 10 + DATA_ALIGN <= u16::MAX as usize {
        1
    } else {
        2
    };
    let prefix = if version == 1 { 10 } else { 12 };
    let total = (prefix + text.len() + 1).next_multiple_of(DATA_ALIGN);
    text.extend(std::iter::repeat_n(' ', total - prefix - text.len() - 1));
    text.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out
}

/// Writes a `.npy` stream: the header of a `dtype` array of `shape`, then `data`, its elements in
/// row-major order.
pub(crate) fn write(
    out: &mut impl Write,
    dtype: Dtype,
    shape: &[usize],
    data: &[u8],
) -> std::io::Result<()> {
    out.write_all(&header_bytes(dtype, shape))?;
    out.write_all(data)
}

/// The array in the `.npy` bytes `region` of `bytes` (a whole mapped file, or an archive member
/// in one). Errors name `op` and `path`.
pub(crate) fn array_in(
    op: &'static str,
    path: &Path,
    bytes: &Arc<FileBytes>,
    region: Range<usize>,
    stream: Stream,
) -> Result<Array> {
    let header = parse_header(&bytes[region.clone()]).map_err(|e| e.into_error(op, path))?;
    // Before the strides: a corrupt header can claim a shape whose strides overflow.
    byte_size(op, path, header.dtype, &header.shape)?;
    let strides = if header.fortran_order {
        // Column-major: the row-major strides of the reversed shape, reversed. The array is a
        // transposed view of the file's elements, not a copy of them.
        let reversed: Vec<usize> = header.shape.iter().rev().copied().collect();
        let mut s = contiguous_strides(&reversed);
        s.reverse();
        s
    } else {
        contiguous_strides(&header.shape)
    };
    array_over(
        op,
        path,
        bytes,
        Stored {
            start: region.start + header.data_start,
            limit: region.end,
            dtype: header.dtype,
            shape: header.shape,
            strides,
            swapped: header.big_endian != cfg!(target_endian = "big"),
        },
        stream,
    )
}

// ---- The header literal -------------------------------------------------------------------

/// The Python literals a `.npy` header is made of.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(String, Literal)>),
}

/// A recursive-descent parser of the literal grammar above (strings, integers, `True`, `False`,
/// `None`, tuples, lists and dicts with string keys; whitespace and trailing commas anywhere
/// Python allows them). Nesting is bounded so that a hostile header cannot overflow the stack.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 32;

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// One literal making up the whole text (trailing whitespace allowed).
    fn whole(mut self) -> std::result::Result<Literal, String> {
        let value = self.value()?;
        self.skip_space();
        if self.pos != self.text.len() {
            return Err(self.error("unexpected text after the header's dict"));
        }
        Ok(value)
    }

    fn error(&self, what: &str) -> String {
        let near: String = self.text[self.pos..].chars().take(20).collect();
        format!(
            "cannot parse the header: {what} at byte {} (near {near:?}) in {:?}",
            self.pos,
            self.text.trim_end()
        )
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> std::result::Result<Literal, String> {
        self.skip_space();
        match self.peek() {
            Some('\'' | '"') => self.string().map(Literal::Str),
            Some('(') => self
                .sequence('(', ')')
                .map(|(items, _)| Literal::Tuple(items)),
            Some('[') => self
                .sequence('[', ']')
                .map(|(items, _)| Literal::List(items)),
            Some('{') => self.dict(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.int(),
            Some(c) if c.is_ascii_alphabetic() => {
                let word: String = self.text[self.pos..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let value = match word.as_str() {
                    "True" => Literal::Bool(true),
                    "False" => Literal::Bool(false),
                    "None" => Literal::None,
                    _ => return Err(self.error("unknown name")),
                };
                self.pos += word.len();
                Ok(value)
            }
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("the header ends too early")),
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let quote = self.peek().expect("called at a quote");
        let mut out = String::new();
        let mut chars = self.text[self.pos + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    }),
                    None => break,
                },
                c if c == quote => {
                    self.pos += 1 + i + 1;
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    fn int(&mut self) -> std::result::Result<Literal, String> {
        let start = self.pos;
        if matches!(self.peek(), Some('-' | '+')) {
            self.pos += 1;
        }
        let digits = self.text[self.pos..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 {
            return Err(self.error("expected a number"));
        }
        self.pos += digits;
        let n = self.text[start..self.pos]
            .parse::<i128>()
            .map_err(|_| self.error("number out of range"))?;
        // Python 2's long integers (`3L`), found in headers of old files.
        if matches!(self.peek(), Some('L' | 'l')) {
            self.pos += 1;
        }
        Ok(Literal::Int(n))
    }

    /// Items between `open` and `close`, separated by commas, a trailing comma allowed. Also
    /// says whether a comma followed the last item (how Python tells `(1,)` from `(1)`).
    fn sequence(
        &mut self,
        open: char,
        close: char,
    ) -> std::result::Result<(Vec<Literal>, bool), String> {
        self.enter()?;
        assert!(self.eat(open));
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                break;
            }
            items.push(self.value()?);
            trailing_comma = self.eat(',');
            if !trailing_comma {
                if self.eat(close) {
                    break;
                }
                return Err(self.error(&format!("expected ',' or '{close}'")));
            }
        }
        self.depth -= 1;
        Ok((items, trailing_comma))
    }

    fn dict(&mut self) -> std::result::Result<Literal, String> {
        self.enter()?;
        assert!(self.eat('{'));
        let mut entries: Vec<(String, Literal)> = Vec::new();
        loop {
            if self.eat('}') {
                break;
            }
            self.skip_space();
            if !matches!(self.peek(), Some('\'' | '"')) {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            if !self.eat(':') {
                return Err(self.error("expected ':'"));
            }
            let value = self.value()?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(self.error(&format!("repeated key '{key}'")));
            }
            entries.push((key, value));
            if !self.eat(',') {
                if self.eat('}') {
                    break;
                }
                return Err(self.error("expected ',' or '}'"));
            }
        }
        self.depth -= 1;
        Ok(Literal::Dict(entries))
    }

    fn enter(&mut self) -> std::result::Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        Ok(())
    }
}
