//! Backends: what runs an [`Op`] on a device, and the registry that finds a device's backend.
//!
//! Every device type has one [`Backend`]: the CPU's always exists; the CUDA backend (feature
//! `cuda`, on by default) registers itself when the CUDA driver library is present and sees at
//! least one GPU, and is absent otherwise (the same build runs unchanged on machines without a
//! GPU). The graph, the scheduler and the front-ends reach devices only through this module: they
//! never name a backend's types.
//!
//! A backend receives evaluated inputs *already on its device* (the scheduler moves them, see
//! `scheduler/task.rs`) and returns the output's [`Data`]. On an asynchronous device the data may
//! still be in flight when `run` returns: its buffer knows when it is ready
//! ([`crate::memory::DeviceBlock`]). Views (reshape, transpose, slice, broadcast) are the same on
//! every device and are resolved here, before any backend sees them.

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod views;

use crate::device::InfoValue;
use crate::memory::{Data, DeviceMemory};
use crate::op::Op;
use crate::{Device, DeviceType, Dtype, Error, Result, Stream};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;

/// An evaluated input of an op.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub shape: &'a [usize],
    pub dtype: Dtype,
    pub data: &'a Data,
}

/// What the op must produce.
#[derive(Clone, Copy)]
pub struct Output<'a> {
    pub shape: &'a [usize],
    pub dtype: Dtype,
    pub stream: Stream,
}

/// A callback run once some device work has finished. It runs on a thread of the backend's
/// choosing and must not block or call into the device's driver (CUDA forbids driver calls from
/// its host callbacks); it may hand work to the thread pool.
pub type ReadyFn = Box<dyn FnOnce() + Send>;

/// The device-side time of one op's work, for timeline captures on asynchronous devices (where
/// the task that queues an op finishes long before the op runs).
pub trait DeviceSpan: Send + Sync {
    /// Marks the end of the op's device work; called right after the op was queued.
    fn end(&mut self);
    /// When the op's device work started and ended, once it has (waits for it); None if the
    /// device could not say.
    fn resolve(&self) -> Option<(std::time::Instant, std::time::Instant)>;
}

/// What every device type provides.
pub trait Backend: Send + Sync {
    fn kind(&self) -> DeviceType;
    /// Devices of this type in this process.
    fn device_count(&self) -> usize;
    /// What `device_info` reports (always `device_name` and `architecture`).
    fn info(&self, index: usize) -> Result<BTreeMap<String, InfoValue>>;
    /// The counters, limit and cache of one device.
    fn memory(&self, index: usize) -> &dyn DeviceMemory;
    /// Sets up the device-side queue of a new rill stream.
    fn new_stream(&self, stream: Stream) -> Result<()>;
    /// Runs `op` on `out.stream`. Every input is on this backend's device, except one-element
    /// host arrays of at most 8 bytes (scalars), which a device backend takes by value.
    fn run(&self, op: &Op, inputs: &[Input], out: &Output) -> Result<Data>;
    /// `host` (an array of `shape`/`dtype` in host memory) copied to `stream`'s device, the copy
    /// ordered on `stream`.
    fn upload(&self, host: &Input, stream: Stream) -> Result<Data>;
    /// `data` (on this backend's device) copied to host memory, once it is ready.
    fn download(&self, data: &Input) -> Result<Data>;
    /// Runs `f` once the work that writes `data` has finished (at once when it has).
    fn when_ready(&self, data: &Data, f: ReadyFn);
    /// Called when `data` has just been produced and something already waits for it: a backend
    /// that marks readiness lazily marks it now, right after the work that writes it.
    fn mark_awaited(&self, _data: &Data) {}
    /// Starts timing the device work queued on `stream` from now on (only while a capture runs);
    /// None for devices whose work runs inside the task (the CPU).
    fn begin_span(&self, _stream: Stream) -> Option<Box<dyn DeviceSpan>> {
        None
    }
    /// Blocks until the device work queued on `stream` so far has finished.
    fn synchronize(&self, stream: Stream) -> Result<()>;
    /// Whether the scheduler may run `kernel` on `stream` now in place of the lazy ops it
    /// computes (`scheduler/auto_fuse.rs`). A backend that must prepare a program first (compile
    /// a kernel) says no until it has, and prepares it meanwhile without blocking the caller.
    fn fusion_ready(
        &self,
        _kernel: &std::sync::Arc<crate::fusion::FusedKernel>,
        _stream: Stream,
    ) -> bool {
        false
    }

    // Interop with other libraries' queues and memory (`crate::interop`, DLPack). A queue is a
    // raw handle of the device's own API (CUDA: a `CUstream`, or 1 and 2 for the legacy and
    // per-thread default streams). Devices whose memory is the host's need none of these.

    /// The raw handle of `stream`'s device queue.
    fn raw_queue(&self, _stream: Stream) -> Option<usize> {
        None
    }
    /// Makes the other library's queue `queue` wait, on the device, for the work that writes
    /// `data` (the host does not wait).
    fn order_queue_after(&self, op: &'static str, _data: &Data, _queue: usize) -> Result<()> {
        Err(Error::device(
            op,
            format!(
                "{} memory is not lent to other libraries' queues",
                self.kind()
            ),
        ))
    }
    /// Another library is done with `data`, having queued work on it on `queue` (None: on a queue
    /// rill was not told): its memory is released only after that work.
    fn returned_by(&self, _data: &Data, _queue: Option<usize>) {}
    /// A buffer over `len` bytes of another library's memory at device address `addr`, whose
    /// contents are ready for work queued on `stream` from now on; `owner` keeps the memory alive
    /// and is dropped once rill's work on it has finished.
    ///
    /// # Safety
    /// `addr` must address `len` bytes of this device's memory, valid while `owner` lives and
    /// written by nobody meanwhile.
    unsafe fn borrow(
        &self,
        op: &'static str,
        _stream: Stream,
        _addr: usize,
        _len: usize,
        _owner: Box<dyn std::any::Any + Send + Sync>,
    ) -> Result<crate::memory::Buffer> {
        Err(Error::device(
            op,
            format!("{} memory cannot be borrowed", self.kind()),
        ))
    }
}

static REGISTRY: OnceLock<Vec<&'static dyn Backend>> = OnceLock::new();

/// Whether a backend other than the CPU's has been set up in this process (read before a fork:
/// such a backend does not survive one).
pub(crate) fn gpu_initialized() -> bool {
    REGISTRY.get().is_some_and(|r| r.len() > 1)
}

/// Set in a process forked after a GPU backend was set up (by the scheduler's fork handler):
/// CUDA does not survive fork, so GPU ops there fail with an error saying so.
static GPU_LOST_TO_FORK: AtomicBool = AtomicBool::new(false);

pub(crate) fn gpu_lost_to_fork() -> bool {
    GPU_LOST_TO_FORK.load(Relaxed)
}

pub(crate) fn set_gpu_lost_to_fork(lost: bool) {
    GPU_LOST_TO_FORK.store(lost, Relaxed);
}

fn registry() -> &'static [&'static dyn Backend] {
    REGISTRY.get_or_init(|| {
        #[allow(unused_mut)]
        let mut backends: Vec<&'static dyn Backend> = vec![cpu::backend()];
        #[cfg(feature = "cuda")]
        if let Some(gpu) = cuda::backend() {
            backends.push(gpu);
        }
        backends
    })
}

/// The backend of a device type, when this process has one.
pub fn of_kind(kind: DeviceType) -> Option<&'static dyn Backend> {
    registry().iter().copied().find(|b| b.kind() == kind)
}

/// The backend of `device`, or an error naming `op` when the device does not exist.
pub fn of(op: &'static str, device: Device) -> Result<&'static dyn Backend> {
    if device.kind != DeviceType::Cpu && gpu_lost_to_fork() {
        return Err(Error::device(
            op,
            format!(
                "{device} cannot be used in a process forked after the GPU was initialized (CUDA \
                 does not survive fork); start workers with the \"spawn\" method instead"
            ),
        ));
    }
    match of_kind(device.kind) {
        Some(b) if device.index < b.device_count() => Ok(b),
        _ => Err(Error::device(
            op,
            format!(
                "{device} is not available (this process has {} {} device(s))",
                device_count(device.kind),
                device.kind
            ),
        )),
    }
}

/// Devices of a type in this process.
pub fn device_count(kind: DeviceType) -> usize {
    of_kind(kind).map_or(0, |b| b.device_count())
}

/// The memory of one device, if it exists.
pub fn memory(device: Device) -> Option<&'static dyn DeviceMemory> {
    let b = of_kind(device.kind)?;
    (device.index < b.device_count()).then(|| b.memory(device.index))
}

/// The memory of every device.
pub fn memories() -> Vec<&'static dyn DeviceMemory> {
    registry()
        .iter()
        .flat_map(|b| (0..b.device_count()).map(move |i| b.memory(i)))
        .collect()
}

/// Every backend (for `synchronize_all`).
pub fn all() -> &'static [&'static dyn Backend] {
    registry()
}

/// Runs `op` for the output `out` on `out.stream`'s device. Inputs must be on that device, or
/// host scalars (see `Backend::run`).
pub fn run(op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
    let device = out.stream.device();
    debug_assert!(
        inputs.iter().all(|i| i.data.device() == device
            || (i.data.is_host() && i.shape.iter().product::<usize>() == 1 && i.dtype.size() <= 8)),
        "[{}] an input is neither on {device} nor a host scalar",
        op.name()
    );
    if let Some(data) = views::try_view(op, inputs, out) {
        return Ok(data);
    }
    of(op.name(), device)?.run(op, inputs, out)
}

/// `data` (an array of `shape`/`dtype`) on `device`, copied there on `stream` when it lives
/// elsewhere (`stream` must be on `device`, or be any stream when `device` is the CPU).
pub fn transfer(input: &Input, device: Device, stream: Stream) -> Result<Data> {
    let from = input.data.device();
    if from == device {
        return Ok(input.data.clone());
    }
    let host = if from.kind == DeviceType::Cpu {
        input.data.clone()
    } else {
        of("copy", from)?.download(input)?
    };
    if device.kind == DeviceType::Cpu {
        return Ok(host);
    }
    of("copy", device)?.upload(
        &Input {
            shape: input.shape,
            dtype: input.dtype,
            data: &host,
        },
        stream,
    )
}
