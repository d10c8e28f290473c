//! Streams read from text: one sample per line (`line_reader`), or one per CSV record
//! (`csv_reader`, from a file or a string), each value a uint8 array of its bytes. Files are
//! opened when the stream is made (an unreadable file is an error then) and again at `reset`.
//! A read error is reported with the file and the line, and ends the stream.

use crate::array::HostArray;
use crate::error::{Error, Result};
use crate::sample::Sample;
use crate::stream::{lock, Stream, StreamNode};
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::{Arc, Mutex};

fn open(op: &'static str, path: &str) -> Result<File> {
    File::open(path).map_err(|e| Error::File {
        op,
        path: path.to_string(),
        line: None,
        detail: e.to_string(),
    })
}

struct Lines {
    path: String,
    key: String,
    /// The reader and the number of lines read; None after an error or at the end.
    state: Mutex<Option<(BufReader<File>, usize)>>,
}

impl StreamNode for Lines {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        let Some((r, n)) = st.as_mut() else {
            return Ok(None);
        };
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => {
                *st = None;
                Ok(None)
            }
            Ok(_) => {
                *n += 1;
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
        let f = open("stream_line_reader", &self.path)?;
        *lock(&self.state) = Some((BufReader::new(f), 0));
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
        state: Mutex::new(Some((BufReader::new(f), 0))),
    }))
}

/// A CSV reader and the keys its header gave.
type CsvState = (csv::Reader<Box<dyn Read + Send>>, Vec<String>);

type Opener = Box<dyn Fn() -> Result<Box<dyn Read + Send>> + Send + Sync>;

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

    fn start(&self) -> Result<CsvState> {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(self.sep)
            .quote(self.quote)
            .has_headers(true)
            .from_reader((self.open)()?);
        let keys = r
            .byte_headers()
            .map_err(|e| self.error(Some(1), e.to_string()))?
            .iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect();
        Ok((r, keys))
    }
}

impl StreamNode for Csv {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        let Some((r, keys)) = st.as_mut() else {
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
        Box::new(move || {
            open("stream_csv_reader", &p)
                .map(|f| Box::new(BufReader::new(f)) as Box<dyn Read + Send>)
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
        Box::new(move || Ok(Box::new(Cursor::new(text.clone())) as Box<dyn Read + Send>)),
        sep,
        quote,
    )
}
