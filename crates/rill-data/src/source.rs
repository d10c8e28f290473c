//! Streams read from text: one sample per line (`line_reader`), or one per CSV record
//! (`csv_reader`, from a file or a string), each value a uint8 array of its bytes. Files are
//! opened when the stream is made (an unreadable file is an error then) and again at `reset`.
//! A read error is reported with the file and the line, and ends the stream.
//!
//! Both save their position as the byte offset of the next record (`position.rs`): a restored
//! reader seeks there instead of reading the records before it.

use crate::array::HostArray;
use crate::error::{Error, Result};
use crate::position::{tag, take, Position};
use crate::sample::Sample;
use crate::stream::{lock, Stream, StreamNode};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

fn open(op: &'static str, path: &str) -> Result<File> {
    File::open(path).map_err(|e| Error::File {
        op,
        path: path.to_string(),
        line: None,
        detail: e.to_string(),
    })
}

/// An open file: the reader, the lines read, and the byte offset of the next line.
type LinesState = (BufReader<File>, usize, u64);

struct Lines {
    path: String,
    key: String,
    /// None once the file has ended (or failed).
    state: Mutex<Option<LinesState>>,
}

impl Lines {
    fn open_at(&self, offset: u64, lines: usize) -> Result<LinesState> {
        let mut f = open("stream_line_reader", &self.path)?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| Error::File {
            op: "stream_line_reader",
            path: self.path.clone(),
            line: Some(lines + 1),
            detail: e.to_string(),
        })?;
        Ok((BufReader::new(f), lines, offset))
    }
}

impl StreamNode for Lines {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        let Some((r, n, offset)) = st.as_mut() else {
            return Ok(None);
        };
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => {
                *st = None;
                Ok(None)
            }
            Ok(read) => {
                *n += 1;
                *offset += read as u64;
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                let mut s = Sample::new();
                s.insert(self.key.clone(), HostArray::from_bytes(&line));
                Ok(Some(s))
            }
            Err(e) => {
                let line = *n + 1;
                *st = None;
                Err(Error::File {
                    op: "stream_line_reader",
                    path: self.path.clone(),
                    line: Some(line),
                    detail: e.to_string(),
                })
            }
        }
    }
    fn reset(&self) -> Result<()> {
        *lock(&self.state) = Some(self.open_at(0, 0)?);
        Ok(())
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        let st = lock(&self.state);
        // (ended, lines, offset)
        let (ended, n, offset) = st.as_ref().map_or((1, 0, 0), |s| (0, s.1 as u64, s.2));
        out.extend([tag::LINES, ended, n, offset]);
        Ok(())
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::LINES, 3)?;
        *lock(&self.state) = if v[0] != 0 {
            None
        } else {
            Some(self.open_at(v[2], v[1] as usize)?)
        };
        Ok(())
    }
}

/// One sample per line of the file at `path`: `{key: the line's bytes}` (without its `\n` or
/// `\r\n`).
pub fn line_reader(path: &str, key: &str) -> Result<Stream> {
    let f = open("stream_line_reader", path)?;
    Ok(Stream::from_node(Lines {
        path: path.to_string(),
        key: key.to_string(),
        state: Mutex::new(Some((BufReader::new(f), 0, 0))),
    }))
}

/// A CSV reader and the keys its header gave.
/// The reader, the keys, and the byte offset where the reader started (a restored reader
/// starts in the middle; its own positions count from there).
type CsvState = (csv::Reader<Box<dyn Read + Send>>, Vec<String>, u64);

type Opener = Box<dyn Fn(u64) -> Result<Box<dyn Read + Send>> + Send + Sync>;

struct Csv {
    /// The file's path, or "<string>".
    name: String,
    open: Opener,
    sep: u8,
    quote: u8,
    state: Mutex<Option<CsvState>>,
}

impl Csv {
    fn error(&self, line: Option<usize>, detail: String) -> Error {
        Error::File {
            op: "stream_csv_reader",
            path: self.name.clone(),
            line,
            detail,
        }
    }

    fn reader(&self, headers: bool, at: u64) -> Result<csv::Reader<Box<dyn Read + Send>>> {
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.sep)
            .quote(self.quote)
            .has_headers(headers)
            .from_reader((self.open)(at)?))
    }

    fn start(&self) -> Result<CsvState> {
        let mut r = self.reader(true, 0)?;
        let keys = r
            .byte_headers()
            .map_err(|e| self.error(Some(1), e.to_string()))?
            .iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect();
        Ok((r, keys, 0))
    }
}

impl StreamNode for Csv {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        let Some((r, keys, _)) = st.as_mut() else {
            return Ok(None);
        };
        let mut rec = csv::ByteRecord::new();
        match r.read_byte_record(&mut rec) {
            Ok(false) => {
                *st = None;
                Ok(None)
            }
            Ok(true) => Ok(Some(
                keys.iter()
                    .zip(rec.iter())
                    .map(|(k, v)| (k.clone(), HostArray::from_bytes(v)))
                    .collect(),
            )),
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                *st = None;
                Err(self.error(line, e.to_string()))
            }
        }
    }
    fn reset(&self) -> Result<()> {
        let s = self.start()?;
        *lock(&self.state) = Some(s);
        Ok(())
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        let st = lock(&self.state);
        // (ended, the byte offset of the next record)
        let (ended, offset) = st
            .as_ref()
            .map_or((1, 0), |(r, _, base)| (0, base + r.position().byte()));
        out.extend([tag::CSV, ended, offset]);
        Ok(())
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::CSV, 2)?;
        *lock(&self.state) = if v[0] != 0 {
            None
        } else {
            // The keys from the header, then a reader of records from the saved offset.
            let (_, keys, _) = self.start()?;
            Some((self.reader(false, v[1])?, keys, v[1]))
        };
        Ok(())
    }
}

fn csv_stream(name: String, open: Opener, sep: u8, quote: u8) -> Result<Stream> {
    let c = Csv {
        name,
        open,
        sep,
        quote,
        state: Mutex::new(None),
    };
    c.reset()?;
    Ok(Stream::from_node(c))
}

/// One sample per record of the CSV file at `path`; the first record names the keys. A record
/// with a different number of fields is an error naming its line.
pub fn csv_reader(path: &str, sep: u8, quote: u8) -> Result<Stream> {
    let p = path.to_string();
    csv_stream(
        path.to_string(),
        Box::new(move |at| {
            let mut f = open("stream_csv_reader", &p)?;
            f.seek(SeekFrom::Start(at)).map_err(|e| Error::File {
                op: "stream_csv_reader",
                path: p.clone(),
                line: None,
                detail: e.to_string(),
            })?;
            Ok(Box::new(BufReader::new(f)) as Box<dyn Read + Send>)
        }),
        sep,
        quote,
    )
}

/// `csv_reader` over text in memory.
pub fn csv_reader_from_string(text: &str, sep: u8, quote: u8) -> Result<Stream> {
    let text: Arc<[u8]> = text.as_bytes().into();
    csv_stream(
        "<string>".to_string(),
        Box::new(move |at| {
            let mut c = Cursor::new(text.clone());
            c.set_position(at);
            Ok(Box::new(c) as Box<dyn Read + Send>)
        }),
        sep,
        quote,
    )
}
