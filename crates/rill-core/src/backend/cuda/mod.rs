//! The CUDA backend: NVIDIA GPUs through the driver API, NVRTC and cuBLASLt, all loaded at run
//! time (cudarc's `dynamic-loading`), so the same build runs on machines without them.
//!
//! Layout, one concern per file: `driver.rs` (errors, the current context), `gpu.rs` (one GPU and
//! its shared state), `stream.rs` (a CUDA stream per rill stream), `event.rs` (recycled events),
//! `memory.rs` (the stream-ordered pool, counters, and the block behind every GPU buffer),
//! `block_cache.rs` (small blocks a stream freed, kept for its next allocations),
//! `transfer.rs` (host <-> device copies through pinned staging), `compile.rs` (NVRTC and the
//! kernel caches), `launch.rs`, `kernels/` (the kernels, one file per op family, each with its CUDA
//! source beside it), `fallback.rs` (ops without a kernel run through the CPU's), `matmul.rs`
//! (cuBLASLt).
//!
//! # Rules
//! 1. **A task queues, the device runs.** `run` queues the op's kernels on the stream's CUDA
//!    stream and returns its output at once; the output's block knows when its data is ready
//!    (`memory.rs`). The scheduler's rule 7 says who waits for that and how.
//! 2. **Streams order themselves.** Before queueing an op, every input block from another stream
//!    makes this stream wait for its ready event (`cuStreamWaitEvent`, on the device: no host
//!    thread waits, no spin kernel) and records that this stream used it, so its free is ordered
//!    after this use. GPU work never waits for CPU work on the device: a GPU task is only
//!    submitted once its CPU inputs are complete (the scheduler counts them), and its copy to the
//!    GPU is queued on its own stream.
//! 3. **Host callbacks never touch CUDA.** `when_ready` runs its callback from a driver thread
//!    (`cuLaunchHostFunc` on the stream's notify stream); the callback must not call the driver
//!    or drop device memory, so the scheduler's callbacks only hand work to the thread pool.
//! 4. **Presence is checked before use.** cudarc panics when a library is missing, so the driver,
//!    NVRTC and cuBLASLt libraries are looked for first; a GPU is registered only when all three
//!    load and the driver reports a device. `RILL_DISABLE_GPU=1` hides every GPU.

pub(crate) mod background;
pub(crate) mod block_cache;
mod compile;
mod driver;
mod event;
mod fallback;
mod gpu;
mod kernels;
mod launch;
mod matmul;
mod memory;
mod stream;
mod timing;
mod transfer;

pub use background::watch_main_thread_exit;
pub use compile::nvrtc_present;
pub use kernels::{all_modules, compile_all_kernels, compile_kernels};
pub use matmul::set_allow_tf32;

use crate::backend::{Backend, DeviceSpan, Input, Output, ReadyFn};
use crate::device::InfoValue;
use crate::memory::{Data, DeviceMemory};
use crate::op::Op;
use crate::{DeviceType, Error, Result, Stream};
use cudarc::driver::sys;
use driver::{check, make_current};
use gpu::Gpu;
use std::collections::BTreeMap;
use std::sync::OnceLock;

struct Cuda {
    gpus: Vec<&'static Gpu>,
}

/// The CUDA backend, when this process can use at least one GPU.
pub(crate) fn backend() -> Option<&'static dyn Backend> {
    static CUDA: OnceLock<Option<Cuda>> = OnceLock::new();
    CUDA.get_or_init(|| match probe() {
        Ok(c) => c,
        Err(why) => {
            eprintln!("rill: no GPU device: {why}");
            None
        }
    })
    .as_ref()
    .map(|c| c as &dyn Backend)
}

/// Ok(None) when there is simply no GPU (no driver, no device): not worth a message.
fn probe() -> std::result::Result<Option<Cuda>, String> {
    if std::env::var_os("RILL_DISABLE_GPU").is_some_and(|v| v != "0") {
        return Ok(None);
    }
    // SAFETY: only tries to open the library.
    if !unsafe { sys::is_culib_present() } {
        return Ok(None);
    }
    // SAFETY: the driver library is present (checked above); cuInit may be called any number of
    // times.
    let status = unsafe { sys::cuInit(0) };
    if status == sys::CUresult::CUDA_ERROR_NO_DEVICE {
        return Ok(None);
    }
    check("cuda", "cuInit", status).map_err(|e| e.to_string())?;
    let mut count = 0;
    // SAFETY: valid out-pointer; the driver is initialised.
    check("cuda", "cuDeviceGetCount", unsafe {
        sys::cuDeviceGetCount(&mut count)
    })
    .map_err(|e| e.to_string())?;
    if count == 0 {
        return Ok(None);
    }
    if !compile::nvrtc_present() {
        return Err(format!(
            "{count} GPU(s) found, but the NVRTC library (libnvrtc) cannot be loaded; rill runs on the CPU"
        ));
    }
    if !matmul::cublaslt_present() {
        return Err(format!(
            "{count} GPU(s) found, but the cuBLASLt library (libcublasLt) cannot be loaded; rill runs on the CPU"
        ));
    }
    let gpus = (0..count as usize)
        .map(|i| Gpu::open(i).map(|g| &*Box::leak(Box::new(g))))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;
    Ok(Some(Cuda { gpus }))
}

impl Cuda {
    fn gpu(&self, op: &'static str, index: usize) -> Result<&'static Gpu> {
        self.gpus
            .get(index)
            .copied()
            .ok_or_else(|| Error::device(op, format!("there is no GPU {index}")))
    }
}

/// Calls the boxed callback that `when_ready` handed to the driver.
unsafe extern "C" fn run_ready_fn(arg: *mut std::ffi::c_void) {
    // SAFETY: `arg` is the `Box<ReadyFn>` leaked by `when_ready`, passed to exactly one callback.
    let f = unsafe { Box::from_raw(arg as *mut ReadyFn) };
    // A panic must not unwind into the driver.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
}

impl Backend for Cuda {
    fn kind(&self) -> DeviceType {
        DeviceType::Gpu
    }
    fn device_count(&self) -> usize {
        self.gpus.len()
    }
    fn info(&self, index: usize) -> Result<BTreeMap<String, InfoValue>> {
        self.gpu("device_info", index)?.info()
    }
    fn memory(&self, index: usize) -> &dyn DeviceMemory {
        &self.gpus[index].memory
    }
    fn new_stream(&self, s: Stream) -> Result<()> {
        stream::create(self.gpu("new_stream", s.device().index)?, s)
    }
    fn run(&self, op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
        kernels::run(op, inputs, out)
    }
    fn upload(&self, host: &Input, s: Stream) -> Result<Data> {
        transfer::upload(host, stream::get("copy", s)?)
    }
    fn download(&self, data: &Input) -> Result<Data> {
        transfer::download(data)
    }
    fn when_ready(&self, data: &Data, f: ReadyFn) {
        let Some(block) = memory::block(&data.buffer) else {
            return f();
        };
        // Any failure to queue the callback runs it at once: the waiting task then reads the
        // data, meets the device's error and carries it. Never leave a waiter behind.
        let ready = match block.ready_event() {
            Ok(e) if !e.is_done() => e,
            _ => return f(),
        };
        let queued = block.home.notify().and_then(|notify| {
            make_current(block.gpu().ctx)?;
            ready.wait_on(notify)?;
            Ok(notify)
        });
        let Ok(notify) = queued else {
            return f();
        };
        let arg = Box::into_raw(Box::new(f));
        // SAFETY: `run_ready_fn` takes back exactly this box, once; the notify stream is valid.
        let status = unsafe {
            sys::cuLaunchHostFunc(notify, Some(run_ready_fn), arg as *mut std::ffi::c_void)
        };
        if status != sys::CUresult::CUDA_SUCCESS {
            // SAFETY: the driver did not take the callback: the box is still ours.
            let f = unsafe { Box::from_raw(arg) };
            f();
        }
    }
    fn mark_awaited(&self, data: &Data) {
        if let Some(block) = memory::block(&data.buffer) {
            let _ = block.ready_event();
        }
    }
    fn begin_span(&self, s: Stream) -> Option<Box<dyn DeviceSpan>> {
        timing::begin(stream::get("capture", s).ok()?)
    }
    fn synchronize(&self, s: Stream) -> Result<()> {
        stream::get("synchronize", s)?.synchronize("synchronize")
    }
    fn fusion_ready(&self, kernel: &std::sync::Arc<crate::fusion::FusedKernel>, s: Stream) -> bool {
        stream::get("eval", s).is_ok_and(|s| kernels::fused::ready(kernel, s.gpu))
    }
    fn raw_queue(&self, s: Stream) -> Option<usize> {
        stream::get("interop", s).ok().map(|g| g.raw as usize)
    }
    fn order_queue_after(&self, op: &'static str, data: &Data, queue: usize) -> Result<()> {
        let block = memory::block(&data.buffer)
            .ok_or_else(|| Error::device(op, "the array's memory is not a CUDA block"))?;
        let ready = block.ready_event()?;
        if ready.is_done() {
            return Ok(());
        }
        make_current(block.gpu().ctx)?;
        ready.wait_on(queue as sys::CUstream)
    }
    fn returned_by(&self, data: &Data, queue: Option<usize>) {
        let Some(block) = memory::block(&data.buffer) else {
            return;
        };
        let ctx = block.gpu().ctx;
        let recorded = make_current(ctx).and_then(|()| match queue {
            Some(q) => block.used_by_foreign(q as sys::CUstream),
            None => Err(Error::device("interop", "the consumer's queue is unknown")),
        });
        if recorded.is_err() {
            // The consumer's queue is unknown or gone: wait for the whole device instead, so
            // the memory is never reused under its work.
            // SAFETY: the context is valid for the process's life; synchronizing it is allowed
            // from any thread with it current.
            let _ = make_current(ctx).map(|()| unsafe { sys::cuCtxSynchronize() });
        }
    }
    unsafe fn borrow(
        &self,
        op: &'static str,
        s: Stream,
        addr: usize,
        len: usize,
        owner: Box<dyn std::any::Any + Send + Sync>,
    ) -> Result<crate::memory::Buffer> {
        let home = stream::get(op, s)?;
        // SAFETY: the caller's contract is `external`'s.
        unsafe { memory::CudaBlock::external(home, addr as sys::CUdeviceptr, len, owner) }
    }
}
