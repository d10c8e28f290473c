//! Streams: logical in-order queues of work, each bound to a device.
//!
//! A [`Stream`] is a small `Copy` handle to a process-wide queue. Unlike MLX (where since 0.31 a
//! stream belongs to the thread that made it), any thread may submit work to any stream; work on
//! one stream still runs in the order it was submitted. A stream is not a thread: the scheduler
//! runs ready streams on a shared pool, so a thousand streams cost a thousand small queues.
//!
//! Rules: the default stream of each device is process-wide (`set_default_stream`); `with_stream`
//! and [`StreamScope`] override the default stream (and with it the default device) for the
//! current thread only. A thread remembers its last answer from the process-wide table with the
//! table's version; every change to the table bumps the version after making it, under the
//! table's lock, and a remembered answer is used only while the version is the one read before
//! the table was (so it is never older than a change another thread finished).

use crate::scope::{self, Scoped};
use crate::{scheduler, Device, DeviceType, Error, Result};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// A handle to a stream. Cheap to copy; equal handles are the same queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stream {
    index: u32,
    device: Device,
}

impl Stream {
    pub fn device(&self) -> Device {
        self.device
    }
    /// Unique among all streams of the process.
    pub fn index(&self) -> usize {
        self.index as usize
    }
    pub(crate) fn from_parts(index: u32, device: Device) -> Stream {
        Stream { index, device }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stream({}, {})", self.device, self.index)
    }
}

/// Where an op should run: MLX's `stream=` argument. `()` means "the default".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamOrDevice {
    #[default]
    Default,
    Stream(Stream),
    Device(Device),
}

impl StreamOrDevice {
    /// The stream an op built now with this argument runs on.
    pub fn resolve(self, op: &'static str) -> Result<Stream> {
        match self {
            StreamOrDevice::Stream(s) => Ok(s),
            StreamOrDevice::Device(d) => default_stream_for(op, d),
            StreamOrDevice::Default => match scope::innermost() {
                Some(Scoped::Stream(s)) => Ok(s),
                Some(Scoped::Device(d)) => default_stream_for(op, d),
                None => default_stream_for(op, crate::device::global_default_device()),
            },
        }
    }
}

impl From<()> for StreamOrDevice {
    fn from(_: ()) -> Self {
        StreamOrDevice::Default
    }
}
impl From<Stream> for StreamOrDevice {
    fn from(s: Stream) -> Self {
        StreamOrDevice::Stream(s)
    }
}
impl From<&Stream> for StreamOrDevice {
    fn from(s: &Stream) -> Self {
        StreamOrDevice::Stream(*s)
    }
}
impl From<Device> for StreamOrDevice {
    fn from(d: Device) -> Self {
        StreamOrDevice::Device(d)
    }
}
impl From<DeviceType> for StreamOrDevice {
    fn from(d: DeviceType) -> Self {
        StreamOrDevice::Device(d.into())
    }
}
impl From<Option<Stream>> for StreamOrDevice {
    fn from(s: Option<Stream>) -> Self {
        s.map_or(StreamOrDevice::Default, StreamOrDevice::Stream)
    }
}

/// The table of default streams, locked across a `fork()` (see `scheduler/fork.rs`).
pub(crate) type DefaultsGuard = std::sync::MutexGuard<'static, HashMap<Device, Stream>>;

pub(crate) fn lock_defaults() -> DefaultsGuard {
    defaults().lock().unwrap_or_else(|e| e.into_inner())
}

fn defaults() -> &'static Mutex<HashMap<Device, Stream>> {
    static DEFAULTS: OnceLock<Mutex<HashMap<Device, Stream>>> = OnceLock::new();
    DEFAULTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// This thread's default stream of `device`: the innermost scoped stream on that device (as MLX,
/// where `with stream(s)` makes `s` its device's default, so `default_stream(cpu)`,
/// `stream=cpu` and `synchronize(cpu)` inside the block all mean `s`), else the process-wide
/// default, made on first use.
fn default_stream_for(op: &'static str, device: Device) -> Result<Stream> {
    if let Some(s) = scope::innermost_stream_on(device) {
        return Ok(s);
    }
    // Read before the table: a change made after this read bumps the version, so the answer
    // cached below is refreshed by the next call instead of trusted.
    let version = DEFAULTS_VERSION.load(Ordering::Acquire);
    if let Some((v, d, s)) = LAST_DEFAULT.with(Cell::get) {
        if v == version && d == device {
            return Ok(s);
        }
    }
    let mut map = defaults().lock().unwrap();
    let s = match map.get(&device) {
        Some(s) => *s,
        None => {
            device.check_available(op)?;
            let s = scheduler::create_stream(device)?;
            map.insert(device, s);
            DEFAULTS_VERSION.fetch_add(1, Ordering::Release);
            s
        }
    };
    LAST_DEFAULT.with(|c| c.set(Some((version, device, s))));
    Ok(s)
}

/// Bumped (under the table's lock, after the change) whenever the table of default streams
/// changes.
static DEFAULTS_VERSION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's last answer from the table of default streams, with the version it was read
    /// at. Every op given neither a stream nor a device asks for its device's default stream
    /// (scalar operands too): from the table that was a lock and a hash per op, and threads
    /// building graphs at once took turns on the lock.
    static LAST_DEFAULT: Cell<Option<(u64, Device, Stream)>> = const { Cell::new(None) };
}

/// The default stream of `device` for this thread: the stream of the innermost `with_stream` /
/// [`StreamScope`] on `device`, else the process-wide one (made on first use).
pub fn default_stream(device: Device) -> Result<Stream> {
    default_stream_for("default_stream", device)
}

/// Makes `stream` the default stream of its device, for every thread.
pub fn set_default_stream(stream: Stream) -> Result<()> {
    scheduler::check_stream("set_default_stream", stream)?;
    let mut map = defaults().lock().unwrap();
    map.insert(stream.device, stream);
    DEFAULTS_VERSION.fetch_add(1, Ordering::Release);
    Ok(())
}

/// A new stream on `device`, independent of every other stream.
pub fn new_stream(device: Device) -> Result<Stream> {
    device.check_available("new_stream")?;
    scheduler::create_stream(device)
}

/// Runs `f` with `stream` (and its device) as this thread's defaults.
pub fn with_stream<R>(stream: Stream, f: impl FnOnce() -> R) -> Result<R> {
    let _scope = StreamScope::new(stream)?;
    Ok(f())
}

/// While alive, makes `stream` this thread's default stream and its device the default device.
pub struct StreamScope {
    _scope: scope::ScopeGuard,
}

impl StreamScope {
    pub fn new(stream: Stream) -> Result<Self> {
        scheduler::check_stream("stream", stream)?;
        Ok(StreamScope {
            _scope: scope::push(Scoped::Stream(stream)),
        })
    }
}

/// Errors for a stream handle that names no stream of this process (only possible through FFI).
pub(crate) fn unknown_stream(op: &'static str, stream: Stream) -> Error {
    Error::device(op, format!("{stream} does not exist"))
}
