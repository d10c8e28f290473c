//! Exporting traced functions to a file and importing them back (MLX's `export_function`,
//! `exporter` and `import_function`).
//!
//! An export is one or more *traces* of a function, each a `compile` program (`compile.rs`)
//! traced at one signature: how many positional inputs, which keyword names, and the shape and
//! dtype of each input. A file holds the unfused steps of each program (those with rules: an
//! imported function can be differentiated and vmapped; the import fuses them again for plain
//! replays), the constants they read (captured weights, random keys) once for every trace, and
//! an optional metadata string. Importing gives an [`ImportedFunction`]: a call picks the trace
//! whose signature matches its inputs exactly and replays it; no trace matching is an error that
//! lists the traces the file holds.
//!
//! # The file format (version 1)
//! rill's own: MLX cannot read it, and rill does not read MLX's `.mlxfn` files (a file that is
//! not rill's is refused with an error saying what it looks like). All numbers little-endian.
//! ```text
//! "RILLFUNC"          8 bytes, the magic
//! version             u32 (1); a newer version is refused with an error naming it
//! body length         u64
//! body                the bytes below
//! checksum            u32, CRC-32 of the body (a changed byte is refused as corrupt)
//!
//! body:   shapeless (u8), metadata (string), constants (list), traces (list)
//! string: u64 length, UTF-8 bytes       list: u64 count, items
//! constant: dtype (its name, a string), shape (list of u64), data (u64 length, raw bytes,
//!           row-major, little-endian)
//! trace:  positional count (u64), keyword names (list of strings), inputs (list of dtype and
//!         shape), steps (list), outputs (list of sources)
//! step:   op (`op_codec.rs`), inputs (list of sources), shape, dtype, device type (u8: 0 cpu,
//!         1 gpu), device index (u64), no_grad (u8)
//! source: u8 (0 an input, 1 an earlier step, 2 a constant), u64 index
//! ```
//!
//! # Rules
//! 1. Only data is written. A step that holds host code (a `custom_function` or `checkpoint`
//!    call, whose function and rules are the caller's callbacks) or a user's CUDA kernel makes
//!    the export fail with an error naming it.
//! 2. A step runs, once imported, on the importing thread's default stream of the device it was
//!    traced on (the device type and index are stored, not the stream); a file whose steps name
//!    a device this process lacks fails to import, naming the device.
//! 3. A trace replays at the shapes it was traced at. `shapeless` is stored (MLX's flag) but a
//!    call at other shapes is refused with an error that says so: rill's ops carry the shapes
//!    they were built for (a reshape's target, a slice's bounds), so replaying them at other
//!    shapes could compute something else. Export each shape needed (several traces).
//! 4. An import reads a file it trusts, as loading a pickle does: it checks the structure (every
//!    step reads inputs, earlier steps or constants that exist; sizes fit; the checksum), not
//!    that each op's shapes agree with its inputs'.
//! 5. Writing goes through a temporary file renamed over the target (`io::atomic_write`): a
//!    failed export leaves the old file as it was. An exporter rewrites the whole file after
//!    each trace, so the file is complete (and importable) after every call.

mod codec;
mod op_codec;

use super::compile::{InputMeta, NodeStep, Program, Source, Step};
use crate::io::atomic_write::write_atomically;
use crate::io::host_bytes::HostBytes;
use crate::{Array, Device, DeviceType, Dtype, Error, Result, Stream};
use codec::{Bad, Reader, Writer};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"RILLFUNC";
/// The version this rill writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version and body length.
const HEADER: usize = 8 + 4 + 8;

/// How a trace is called: `positional` inputs, then one input per keyword name, the names
/// sorted (a call may name them in any order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub positional: usize,
    pub keywords: Vec<String>,
}

/// Writes the traces of one function to a file (MLX's `FunctionExporter`).
pub struct FunctionExporter {
    path: PathBuf,
    shapeless: bool,
    metadata: String,
    traces: Vec<(Signature, Program)>,
    closed: bool,
}

impl FunctionExporter {
    /// An exporter to `path` (written at the first trace).
    pub fn new(path: impl AsRef<Path>, shapeless: bool, metadata: impl Into<String>) -> Self {
        FunctionExporter {
            path: path.as_ref().to_path_buf(),
            shapeless,
            metadata: metadata.into(),
            traces: Vec::new(),
            closed: false,
        }
    }

    /// Adds the trace `program`, called as `signature`, and rewrites the file with every trace
    /// so far. Refuses a signature (with the same input shapes and dtypes) already exported, a
    /// program that cannot be written (rule 1), and an exporter that is closed.
    pub fn add(&mut self, signature: Signature, program: Program) -> Result<()> {
        const OP: &str = "export_function";
        if self.closed {
            return Err(Error::runtime(
                OP,
                format!(
                    "the exporter of {} is closed: it takes no more traces",
                    self.path.display()
                ),
            ));
        }
        if !signature.keywords.windows(2).all(|w| w[0] < w[1])
            || signature.positional + signature.keywords.len() != program.input_meta().len()
        {
            return Err(Error::arg(
                OP,
                format!(
                    "a trace of {} inputs cannot be called with {} positional inputs and the \
                     keywords {:?} (sorted, each once)",
                    program.input_meta().len(),
                    signature.positional,
                    signature.keywords
                ),
            ));
        }
        if self
            .traces
            .iter()
            .any(|(s, p)| *s == signature && p.input_meta() == program.input_meta())
        {
            return Err(Error::runtime(
                OP,
                format!(
                    "{}: a trace with this signature ({}) was already exported; each signature \
                     is exported once",
                    self.path.display(),
                    describe(&signature, program.input_meta())
                ),
            ));
        }
        self.traces.push((signature, program));
        let written = encode(&self.traces, self.shapeless, &self.metadata)
            .and_then(|bytes| write_atomically(OP, &self.path, |w| w.write_all(&bytes)));
        if written.is_err() {
            self.traces.pop();
        }
        written
    }

    /// Takes no more traces (the file is already complete).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// The traces exported so far.
    pub fn len(&self) -> usize {
        self.traces.len()
    }

    /// True before the first trace.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
    }
}

/// A function read from an export file: its traces, replayed by [`ImportedFunction::call`].
pub struct ImportedFunction {
    path: String,
    traces: Vec<(Signature, Program)>,
    shapeless: bool,
    metadata: String,
}

impl ImportedFunction {
    /// Reads the function exported to `path`. Errors name the file and what is wrong with it:
    /// missing, not a rill export (an MLX `.mlxfn` file, say), written by a newer rill, truncated
    /// or corrupt; or a step on a device this process lacks (rule 2).
    pub fn read(path: impl AsRef<Path>) -> Result<ImportedFunction> {
        const OP: &str = "import_function";
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|e| Error::file(OP, path, format!("cannot read: {e}")))?;
        let body = check_container(&bytes).map_err(|bad| Error::file(OP, path, bad))?;
        let decoded =
            decode(body).map_err(|bad| Error::file(OP, path, format!("corrupt: {bad}")))?;
        let mut streams: HashMap<(u8, usize), Stream> = HashMap::new();
        let mut traces = Vec::with_capacity(decoded.traces.len());
        for t in decoded.traces {
            let steps = t
                .steps
                .into_iter()
                .map(|s| {
                    let stream = match streams.get(&s.device) {
                        Some(&st) => st,
                        None => {
                            let st = device_stream(path, s.device)?;
                            streams.insert(s.device, st);
                            st
                        }
                    };
                    Ok(Step::Node(NodeStep {
                        op: s.op,
                        inputs: s.inputs.iter().map(|x| x.to(&decoded.constants)).collect(),
                        shape: s.shape,
                        dtype: s.dtype,
                        stream,
                        no_grad: s.no_grad,
                    }))
                })
                .collect::<Result<Vec<_>>>()?;
            let outputs = t.outputs.iter().map(|x| x.to(&decoded.constants)).collect();
            traces.push((t.signature, Program::from_parts(t.inputs, steps, outputs)));
        }
        Ok(ImportedFunction {
            path: path.display().to_string(),
            traces,
            shapeless: decoded.shapeless,
            metadata: decoded.metadata,
        })
    }

    /// The outputs of the trace whose signature is that of `positional` and `keywords` (in any
    /// order), replayed at them. No such trace is an error listing the file's traces.
    pub fn call(&self, positional: &[Array], keywords: &[(String, Array)]) -> Result<Vec<Array>> {
        let mut kw: Vec<&(String, Array)> = keywords.iter().collect();
        kw.sort_by(|a, b| a.0.cmp(&b.0));
        let signature = Signature {
            positional: positional.len(),
            keywords: kw.iter().map(|(n, _)| n.clone()).collect(),
        };
        let inputs: Vec<Array> = positional
            .iter()
            .chain(kw.iter().map(|(_, a)| a))
            .cloned()
            .collect();
        let meta: Vec<InputMeta> = inputs
            .iter()
            .map(|x| (x.shape().to_vec(), x.dtype()))
            .collect();
        match self
            .traces
            .iter()
            .find(|(s, p)| *s == signature && p.input_meta() == meta.as_slice())
        {
            Some((_, program)) => program.replay(&inputs),
            None => Err(self.no_match(&signature, &meta)),
        }
    }

    fn no_match(&self, signature: &Signature, meta: &[InputMeta]) -> Error {
        let mut msg = format!(
            "no function exported to {} takes these inputs. The file holds:\n",
            self.path
        );
        for (i, (s, p)) in self.traces.iter().enumerate() {
            let _ = writeln!(msg, "  {}. {}", i + 1, describe(s, p.input_meta()));
        }
        let _ = write!(msg, "Called with {}", describe(signature, meta));
        let other_sizes = self.traces.iter().any(|(s, p)| {
            s == signature
                && p.input_meta().len() == meta.len()
                && p.input_meta()
                    .iter()
                    .zip(meta)
                    .all(|(a, b)| a.0.len() == b.0.len() && a.1 == b.1)
        });
        if self.shapeless && other_sizes {
            msg.push_str(
                ".\nThe function was exported with shapeless=True, but rill replays an exported \
                 trace only at the shapes it was traced at (its ops hold those shapes): export \
                 a trace for each shape you need (mx.exporter)",
            );
        }
        Error::arg("import_function", msg)
    }

    /// The metadata string stored with the function ("" when none was).
    pub fn metadata(&self) -> &str {
        &self.metadata
    }

    /// Whether the function was exported with `shapeless` (rule 3).
    pub fn shapeless(&self) -> bool {
        self.shapeless
    }

    /// The signatures of the traces, with their inputs' shapes and dtypes.
    pub fn signatures(&self) -> Vec<(Signature, Vec<InputMeta>)> {
        self.traces
            .iter()
            .map(|(s, p)| (s.clone(), p.input_meta().to_vec()))
            .collect()
    }
}

/// `2 positional inputs and 1 keyword input: (2, 3) float32, (2,) int32, "w": (3,) float32`.
fn describe(s: &Signature, meta: &[InputMeta]) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut out = format!(
        "{} positional input{} and {} keyword input{}",
        s.positional,
        plural(s.positional),
        s.keywords.len(),
        plural(s.keywords.len())
    );
    let items: Vec<String> = meta
        .iter()
        .enumerate()
        .map(|(i, (shape, dtype))| {
            let name = match i.checked_sub(s.positional) {
                Some(k) => format!("\"{}\": ", s.keywords.get(k).map_or("?", |n| n.as_str())),
                None => String::new(),
            };
            format!("{name}{shape:?} {dtype}")
        })
        .collect();
    if !items.is_empty() {
        let _ = write!(out, ": {}", items.join(", "));
    }
    out
}

/// The default stream of the device a step was traced on (rule 2).
fn device_stream(path: &Path, (kind, index): (u8, usize)) -> Result<Stream> {
    let kind = match kind {
        0 => DeviceType::Cpu,
        _ => DeviceType::Gpu,
    };
    let device = Device::new(kind, index);
    crate::stream::default_stream(device).map_err(|e| {
        Error::device(
            "import_function",
            format!(
                "{}: the function was exported to run on {kind}:{index}, which this process \
                 cannot use ({e})",
                path.display()
            ),
        )
    })
}

/// The body of a file, after checking the magic, the version, the length and the checksum.
fn check_container(bytes: &[u8]) -> std::result::Result<&[u8], Bad> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(not_rill(bytes));
    }
    if bytes.len() < HEADER {
        return Err(format!(
            "truncated: a rill function export has a {HEADER}-byte header, the file has {} bytes",
            bytes.len()
        ));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version > FORMAT_VERSION {
        return Err(format!(
            "written in rill's function format version {version}, by a newer rill; this rill \
             reads versions up to {FORMAT_VERSION}"
        ));
    }
    if version == 0 {
        return Err("corrupt: the format version is 0".into());
    }
    let body_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let want = usize::try_from(body_len)
        .ok()
        .and_then(|n| n.checked_add(HEADER + 4));
    match want {
        Some(n) if n == bytes.len() => {}
        Some(n) if n < bytes.len() => {
            return Err(format!(
                "corrupt: {} bytes follow the end of the function ({n} bytes)",
                bytes.len() - n
            ))
        }
        _ => {
            return Err(format!(
                "truncated: the header announces {} bytes, the file has {}",
                body_len.saturating_add(HEADER as u64 + 4),
                bytes.len()
            ))
        }
    }
    let body = &bytes[HEADER..bytes.len() - 4];
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4 bytes"));
    if crc32fast::hash(body) != stored {
        return Err("corrupt: the checksum does not match the contents".into());
    }
    Ok(body)
}

/// Why a file that does not start with the magic is refused: what it looks like.
fn not_rill(bytes: &[u8]) -> Bad {
    if bytes.is_empty() {
        return "not a rill function export: the file is empty".into();
    }
    // MLX's .mlxfn files begin with the MLX version that wrote them, as a u64 length and text.
    if bytes.len() >= 8 {
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        if (1..=32).contains(&n) && bytes.len() >= 8 + n {
            let text = &bytes[8..8 + n];
            if text[0].is_ascii_digit()
                && text.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.')
            {
                return format!(
                    "not a rill function export: it looks like an MLX .mlxfn file (written by \
                     MLX {}). rill's function files are its own format: rill cannot import \
                     MLX's, nor MLX rill's; export the function again with rill",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "not a rill function export: it should begin with \"RILLFUNC\", it begins with the \
         bytes {}",
        head.join(" ")
    )
}

// --- writing ---

fn write_source(w: &mut Writer, s: &Source, constants: &HashMap<u64, usize>) {
    match s {
        Source::Input(i) => {
            w.u8(0);
            w.len(*i);
        }
        Source::Step(i) => {
            w.u8(1);
            w.len(*i);
        }
        Source::Const(a) => {
            w.u8(2);
            w.len(constants[&a.id()]);
        }
    }
}

/// The whole file for `traces`.
fn encode(traces: &[(Signature, Program)], shapeless: bool, metadata: &str) -> Result<Vec<u8>> {
    const OP: &str = "export_function";
    // The constants of every trace, each once.
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut constants: Vec<Array> = Vec::new();
    for (_, program) in traces {
        let (_, steps, outputs) = program.parts();
        let mut note = |s: &Source| {
            if let Source::Const(a) = s {
                index.entry(a.id()).or_insert_with(|| {
                    constants.push(a.clone());
                    constants.len() - 1
                });
            }
        };
        for step in steps {
            match step {
                Step::Node(n) => n.inputs.iter().for_each(&mut note),
                Step::Custom(c) => {
                    let name =
                        if c.rules.vjp.is_none() && c.rules.jvp.is_none() && c.rules.vmap.is_none()
                        {
                            "checkpoint"
                        } else {
                            "custom_function"
                        };
                    return Err(Error::arg(
                        OP,
                        format!(
                            "the function calls {name}, which cannot be exported: its function \
                             and rules are host code, and an export file holds only ops and \
                             data"
                        ),
                    ));
                }
            }
        }
        outputs.iter().for_each(&mut note);
    }
    crate::eval(&constants.iter().collect::<Vec<_>>())?;

    let mut w = Writer::default();
    w.bool(shapeless);
    w.str(metadata);
    w.len(constants.len());
    for c in &constants {
        w.dtype(c.dtype());
        w.usizes(c.shape());
        let bytes = HostBytes::of(c)?;
        let bytes = to_little_endian(bytes.as_bytes(), c.dtype());
        w.len(bytes.len());
        w.bytes.extend_from_slice(&bytes);
    }
    w.len(traces.len());
    for (signature, program) in traces {
        let (inputs, steps, outputs) = program.parts();
        w.len(signature.positional);
        w.len(signature.keywords.len());
        signature.keywords.iter().for_each(|k| w.str(k));
        w.len(inputs.len());
        for (shape, dtype) in inputs {
            w.dtype(*dtype);
            w.usizes(shape);
        }
        w.len(steps.len());
        for step in steps {
            let Step::Node(n) = step else {
                unreachable!("custom steps were refused above")
            };
            op_codec::write_op(&mut w, &n.op).map_err(|why| {
                Error::arg(
                    OP,
                    format!(
                        "the function uses {} ({why}), which cannot be exported",
                        n.op.name()
                    ),
                )
            })?;
            w.len(n.inputs.len());
            n.inputs
                .iter()
                .for_each(|s| write_source(&mut w, s, &index));
            w.usizes(&n.shape);
            w.dtype(n.dtype);
            let device = n.stream.device();
            w.u8(match device.kind {
                DeviceType::Cpu => 0,
                DeviceType::Gpu => 1,
            });
            w.len(device.index);
            w.bool(n.no_grad);
        }
        w.len(outputs.len());
        outputs.iter().for_each(|s| write_source(&mut w, s, &index));
    }

    let body = w.bytes;
    let mut file = Vec::with_capacity(HEADER + body.len() + 4);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&body);
    file.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    Ok(file)
}

/// Native-order element bytes as little-endian ones (and back: the swap is its own inverse).
fn to_little_endian(bytes: &[u8], dtype: Dtype) -> std::borrow::Cow<'_, [u8]> {
    // A complex64 element is two float32s, each swapped on its own.
    let unit = if dtype == Dtype::Complex64 {
        4
    } else {
        dtype.size()
    };
    if cfg!(target_endian = "little") || unit == 1 {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    out.chunks_exact_mut(unit).for_each(|c| c.reverse());
    std::borrow::Cow::Owned(out)
}

// --- reading ---

/// A source as read: indices checked against what exists where it is read.
enum ReadSource {
    Input(usize),
    Step(usize),
    Const(usize),
}

impl ReadSource {
    fn to(&self, constants: &[Array]) -> Source {
        match self {
            ReadSource::Input(i) => Source::Input(*i),
            ReadSource::Step(i) => Source::Step(*i),
            ReadSource::Const(i) => Source::Const(constants[*i].clone()),
        }
    }
}

struct ReadStep {
    op: crate::op::Op,
    inputs: Vec<ReadSource>,
    shape: Vec<usize>,
    dtype: Dtype,
    device: (u8, usize),
    no_grad: bool,
}

struct ReadTrace {
    signature: Signature,
    inputs: Vec<InputMeta>,
    steps: Vec<ReadStep>,
    outputs: Vec<ReadSource>,
}

struct Decoded {
    shapeless: bool,
    metadata: String,
    constants: Vec<Array>,
    traces: Vec<ReadTrace>,
}

/// A source that must name one of `inputs` inputs, `steps` earlier steps or `constants`.
fn read_source(
    r: &mut Reader<'_>,
    inputs: usize,
    steps: usize,
    constants: usize,
) -> std::result::Result<ReadSource, Bad> {
    let kind = r.u8("a source's kind")?;
    let i = r.len("a source's index")?;
    let (source, limit, what) = match kind {
        0 => (ReadSource::Input(i), inputs, "inputs"),
        1 => (ReadSource::Step(i), steps, "earlier steps"),
        2 => (ReadSource::Const(i), constants, "constants"),
        k => return Err(format!("a source's kind is {k}, not 0, 1 or 2")),
    };
    if i >= limit {
        return Err(format!(
            "a source names item {i} of {limit} {what} (step {steps})"
        ));
    }
    Ok(source)
}

fn decode(body: &[u8]) -> std::result::Result<Decoded, Bad> {
    let mut r = Reader::new(body);
    let shapeless = r.bool("the shapeless flag")?;
    let metadata = r.str("the metadata")?;
    let n_constants = r.count(17, "the number of constants")?;
    let mut constants = Vec::with_capacity(n_constants);
    for i in 0..n_constants {
        let dtype = r.dtype("a constant's dtype")?;
        let shape = r.usizes("a constant's shape")?;
        let n = r.count(1, "a constant's byte length")?;
        let bytes = r.take(n, "a constant's data")?;
        let bytes = to_little_endian(bytes, dtype);
        let a = Array::from_bytes(&bytes, dtype, &shape, Device::cpu())
            .map_err(|e| format!("constant {i}: {e}"))?;
        constants.push(a);
    }
    let n_traces = r.count(1, "the number of traces")?;
    let mut traces = Vec::with_capacity(n_traces);
    for _ in 0..n_traces {
        let positional = r.len("a trace's positional count")?;
        let n_keywords = r.count(8, "a trace's keyword count")?;
        let keywords = (0..n_keywords)
            .map(|_| r.str("a keyword name"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let n_inputs = r.count(9, "a trace's input count")?;
        if n_inputs != positional + n_keywords {
            return Err(format!(
                "a trace has {n_inputs} inputs for {positional} positional and {n_keywords} \
                 keyword ones"
            ));
        }
        let inputs = (0..n_inputs)
            .map(|_| {
                let dtype = r.dtype("an input's dtype")?;
                Ok((r.usizes("an input's shape")?, dtype))
            })
            .collect::<std::result::Result<Vec<_>, Bad>>()?;
        let n_steps = r.count(1, "a trace's step count")?;
        let mut steps = Vec::with_capacity(n_steps);
        for at in 0..n_steps {
            let op = op_codec::read_op(&mut r)?;
            let n_in = r.count(9, "a step's input count")?;
            let ins = (0..n_in)
                .map(|_| read_source(&mut r, n_inputs, at, n_constants))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let shape = r.usizes("a step's shape")?;
            let dtype = r.dtype("a step's dtype")?;
            let kind = r.u8("a step's device type")?;
            if kind > 1 {
                return Err(format!(
                    "a step's device type is {kind}, not 0 (cpu) or 1 (gpu)"
                ));
            }
            let index = r.len("a step's device index")?;
            let no_grad = r.bool("a step's no_grad flag")?;
            steps.push(ReadStep {
                op,
                inputs: ins,
                shape,
                dtype,
                device: (kind, index),
                no_grad,
            });
        }
        let n_out = r.count(9, "a trace's output count")?;
        let outputs = (0..n_out)
            .map(|_| read_source(&mut r, n_inputs, n_steps, n_constants))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        traces.push(ReadTrace {
            signature: Signature {
                positional,
                keywords,
            },
            inputs,
            steps,
            outputs,
        });
    }
    if !r.at_end() {
        return Err("bytes follow the last trace".into());
    }
    Ok(Decoded {
        shapeless,
        metadata,
        constants,
        traces,
    })
}
