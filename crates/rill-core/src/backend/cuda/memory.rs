//! GPU memory: a stream-ordered pool per GPU, its counters and hard limit, and [`CudaBlock`], the
//! device block behind every GPU buffer.
//!
//! Rules:
//! - Memory comes from a pool of rill's own (`cuMemPoolCreate`) through `cuMemAllocFromPoolAsync`
//!   on the stream that will write it (the block's *home* stream). The pool may not insert hidden
//!   dependencies between streams to reuse memory (`REUSE_ALLOW_INTERNAL_DEPENDENCIES` off): a
//!   block freed by one stream is reused by another only once the free has completed, so streams
//!   never wait on each other behind rill's back.
//! - Bytes are reserved in the [`Counters`] before the driver is asked, so the limit is hard.
//! - Small blocks (up to `block_cache::MAX`) that only their home stream used go, when freed, to
//!   that stream's [`BlockCache`](super::block_cache::BlockCache) instead of the pool, and its next
//!   allocations of the same class take them back without a driver call (the rules are there).
//! - A block knows when its data is ready: an event recorded on its home stream after the work
//!   that writes it ([`CudaBlock::ready_event`], recorded when first needed: at once when the
//!   producing task has waiters, else on the first cross-stream or host use).
//! - A block used by a stream other than its home stream records that stream (`used_on`), and that
//!   stream first waits for the block's ready event. When the block drops, its free is ordered
//!   after every such use: on the home stream directly when no other stream used it (the common
//!   case, one driver call), else on the GPU's free stream after waiting for an event recorded on
//!   each user, so no compute stream is made to wait for another.
//! - Memory lent to another library (DLPack, `interop.rs`) is given back with the queue that
//!   library used it on: the block keeps an event recorded there ([`CudaBlock::used_by_foreign`])
//!   and its free waits for it too, on the free stream, never in a stream cache.
//! - Memory borrowed from another library ([`CudaBlock::external`]) is neither counted nor freed
//!   by rill: when its buffer drops, the host waits for the rill work queued on it, then drops the
//!   owner, which gives it back (the lender cannot be told to wait on the device).

use super::block_cache::class_of;
use super::driver::{check, driver_error, make_current};
use super::event::Event;
use super::gpu::Gpu;
use super::stream::GpuStream;
use crate::memory::{Buffer, Counters, DeviceBlock, DeviceMemory};
use crate::{Error, Result};
use cudarc::driver::sys;
use smallvec::SmallVec;
use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Allocation granularity that the counters see (the pool rounds small sizes up too).
const GRAIN: usize = 512;

pub(super) struct GpuMemory {
    counters: Counters,
    /// Bytes of blocks freed and not yet taken again or trimmed: what the pool holds for reuse.
    /// The pool's own reserved-minus-used also counts the unused rest of chunks that live
    /// blocks keep, which no `clear_cache` can give back.
    freed: AtomicUsize,
    pool: sys::CUmemoryPool,
    ctx: sys::CUcontext,
}

// SAFETY: the pool and context handles are valid on any thread (with the context current, which
// every method makes sure of); the counters are atomics.
unsafe impl Send for GpuMemory {}
// SAFETY: as above.
unsafe impl Sync for GpuMemory {}

impl GpuMemory {
    /// A pool on device `ordinal` with a hard limit of `limit` bytes, keeping up to `cache_limit`
    /// freed bytes for reuse.
    pub(super) fn new(
        device: crate::Device,
        ordinal: i32,
        ctx: sys::CUcontext,
        limit: usize,
        cache_limit: usize,
    ) -> Result<GpuMemory> {
        make_current(ctx)?;
        // SAFETY: a zeroed props struct is the documented starting point; the fields set below
        // describe a pool of pinned device memory on `ordinal`.
        let mut props: sys::CUmemPoolProps = unsafe { std::mem::zeroed() };
        props.allocType = sys::CUmemAllocationType::CU_MEM_ALLOCATION_TYPE_PINNED;
        props.handleTypes = sys::CUmemAllocationHandleType::CU_MEM_HANDLE_TYPE_NONE;
        props.location.type_ = sys::CUmemLocationType::CU_MEM_LOCATION_TYPE_DEVICE;
        props.location.id = ordinal;
        let mut pool = std::ptr::null_mut();
        // SAFETY: valid out-pointer and props.
        check("cuda", "cuMemPoolCreate", unsafe {
            sys::cuMemPoolCreate(&mut pool, &props)
        })?;
        let mem = GpuMemory {
            counters: Counters::new(device, limit, cache_limit),
            freed: AtomicUsize::new(0),
            pool,
            ctx,
        };
        let mut no: i32 = 0;
        // SAFETY: the attribute takes an int; `pool` is valid.
        check("cuda", "cuMemPoolSetAttribute", unsafe {
            sys::cuMemPoolSetAttribute(
                pool,
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES,
                &mut no as *mut i32 as *mut _,
            )
        })?;
        mem.set_release_threshold(cache_limit)?;
        Ok(mem)
    }

    fn set_release_threshold(&self, bytes: usize) -> Result<()> {
        let mut v = bytes as u64;
        // SAFETY: the attribute takes a cuuint64_t; `pool` is valid.
        check("cuda", "cuMemPoolSetAttribute", unsafe {
            sys::cuMemPoolSetAttribute(
                self.pool,
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                &mut v as *mut u64 as *mut _,
            )
        })
    }

    fn pool_attr(&self, attr: sys::CUmemPool_attribute) -> usize {
        let mut v: u64 = 0;
        // SAFETY: the reserved/used attributes are cuuint64_t; `pool` is valid.
        let status =
            unsafe { sys::cuMemPoolGetAttribute(self.pool, attr, &mut v as *mut u64 as *mut _) };
        if status == sys::CUresult::CUDA_SUCCESS {
            v as usize
        } else {
            0
        }
    }

    /// A block of at least `len` bytes for the output of `op`, written on `home`.
    pub(super) fn allocate(
        &'static self,
        op: &'static str,
        len: usize,
        home: &'static GpuStream,
    ) -> Result<Buffer> {
        let class = class_of(len);
        let cap = match class {
            Some((_, cap)) => cap,
            None => len.max(1).div_ceil(GRAIN) * GRAIN,
        };
        self.counters.reserve(op, cap)?;
        if let Some(ptr) = class.and_then(|(k, _)| home.cache.take(k)) {
            self.counters.sub_cached(cap);
            return self.wrap(op, ptr, len, cap, home);
        }
        make_current(self.ctx)?;
        let mut ptr: sys::CUdeviceptr = 0;
        // SAFETY: valid out-pointer; pool and stream belong to the current context.
        let mut status =
            unsafe { sys::cuMemAllocFromPoolAsync(&mut ptr, cap, self.pool, home.raw) };
        if status == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
            // Memory cached by the streams or by the pool but not yet released may be held for
            // other streams: give it all back to the system and try once more.
            self.release_stream_caches(true);
            // SAFETY: `pool` is valid.
            unsafe { sys::cuMemPoolTrimTo(self.pool, 0) };
            // SAFETY: as above.
            status = unsafe { sys::cuMemAllocFromPoolAsync(&mut ptr, cap, self.pool, home.raw) };
        }
        if status != sys::CUresult::CUDA_SUCCESS {
            self.counters.unreserve(cap);
            return Err(if status == sys::CUresult::CUDA_ERROR_OUT_OF_MEMORY {
                self.counters.out_of_memory(op, len)
            } else {
                driver_error(op, "cuMemAllocFromPoolAsync", status)
            });
        }
        // Reuse of freed bytes, as far as the counters can tell (the pool does not say).
        let _ = self
            .freed
            .fetch_update(Relaxed, Relaxed, |f| Some(f.saturating_sub(cap)));
        self.wrap(op, ptr, len, cap, home)
    }

    /// The buffer over the device block `ptr` of `cap` bytes, `len` of them in use.
    fn wrap(
        &'static self,
        op: &'static str,
        ptr: sys::CUdeviceptr,
        len: usize,
        cap: usize,
        home: &'static GpuStream,
    ) -> Result<Buffer> {
        let addr = NonNull::new(ptr as usize as *mut u8)
            .ok_or_else(|| Error::device(op, "cuMemAllocFromPoolAsync returned a null address"))?;
        let block = CudaBlock {
            ptr,
            cap,
            home,
            origin: Origin::Pool(self),
            ready: Mutex::new(None),
            users: Mutex::new(SmallVec::new()),
            foreign: Mutex::new(SmallVec::new()),
        };
        Ok(Buffer::device_block(
            home.gpu.device,
            addr,
            len,
            cap,
            Box::new(block),
        ))
    }

    /// Gives every block in this GPU's stream caches back to the pool, each freed on its own
    /// stream. With `settle`, also waits for those frees, so that the pool can hand the memory to
    /// any stream at once (only for an allocation that failed: it stalls the host).
    fn release_stream_caches(&self, settle: bool) {
        if make_current(self.ctx).is_err() {
            return;
        }
        for s in super::stream::all() {
            if !std::ptr::eq(&s.gpu.memory, self) {
                continue;
            }
            let blocks = s.cache.drain();
            for &(ptr, cap) in &blocks {
                // SAFETY: `ptr` came from this pool; every use of it was queued on `s` (the
                // cache's rule), so freeing it on `s` is ordered after them.
                unsafe { sys::cuMemFreeAsync(ptr, s.raw) };
                self.counters.sub_cached(cap);
                self.freed.fetch_add(cap, Relaxed);
            }
            if settle && !blocks.is_empty() {
                let _ = s.synchronize("allocate");
            }
        }
    }
}

impl DeviceMemory for GpuMemory {
    fn counters(&self) -> &Counters {
        &self.counters
    }
    fn cached_bytes(&self) -> usize {
        let streams = self.counters.cached();
        let reserved =
            self.pool_attr(sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT);
        let used = self.pool_attr(sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_CURRENT);
        streams + reserved.saturating_sub(used).min(self.freed.load(Relaxed))
    }
    fn trim_cache(&self, keep: usize) {
        if self.counters.cached() > keep {
            self.release_stream_caches(false);
        }
        if make_current(self.ctx).is_ok() {
            // The threshold also bounds what the pool keeps at later synchronizations.
            let _ = self.set_release_threshold(self.counters.cache_limit());
            // SAFETY: `pool` is valid.
            unsafe { sys::cuMemPoolTrimTo(self.pool, keep) };
            let _ = self
                .freed
                .fetch_update(Relaxed, Relaxed, |f| Some(f.min(keep)));
        }
    }
}

/// Where a block's memory comes from, and so where it goes.
enum Origin {
    /// rill's pool, counted in its counters.
    Pool(&'static GpuMemory),
    /// Another library's memory, kept alive by its owner until the block drops.
    External(Option<Box<dyn Any + Send + Sync>>),
}

/// The device block behind a GPU buffer.
pub(super) struct CudaBlock {
    pub(super) ptr: sys::CUdeviceptr,
    cap: usize,
    pub(super) home: &'static GpuStream,
    origin: Origin,
    /// Recorded on `home` after the work that writes the block, when first needed.
    ready: Mutex<Option<Event>>,
    /// Streams other than `home` that queued work reading the block.
    users: Mutex<SmallVec<[&'static GpuStream; 2]>>,
    /// Points in other libraries' queues after their last use of the block (DLPack consumers).
    foreign: Mutex<SmallVec<[Event; 1]>>,
}

impl CudaBlock {
    /// A buffer over `len` bytes of another library's device memory at `ptr` on `home`'s GPU,
    /// whose data is ready for work queued on `home` from now on; `owner` keeps it alive and is
    /// dropped once rill's work on it has finished.
    ///
    /// # Safety
    /// `ptr` must address `len` bytes of device memory of `home`'s GPU that stay valid while
    /// `owner` lives and that nobody writes meanwhile.
    pub(super) unsafe fn external(
        home: &'static GpuStream,
        ptr: sys::CUdeviceptr,
        len: usize,
        owner: Box<dyn Any + Send + Sync>,
    ) -> Result<Buffer> {
        let addr = NonNull::new(ptr as usize as *mut u8)
            .ok_or_else(|| Error::arg("from_dlpack", "the device memory's address is null"))?;
        let block = CudaBlock {
            ptr,
            cap: 0,
            home,
            origin: Origin::External(Some(owner)),
            ready: Mutex::new(None),
            users: Mutex::new(SmallVec::new()),
            foreign: Mutex::new(SmallVec::new()),
        };
        Ok(Buffer::device_block(
            home.gpu.device,
            addr,
            len,
            0,
            Box::new(block),
        ))
    }

    /// Remembers that another library queued work reading the block on its queue `foreign` (a
    /// raw stream of this GPU's context, or a special handle such as `CU_STREAM_LEGACY`): the
    /// block's memory is released only after that work. The caller made the context current.
    pub(super) fn used_by_foreign(&self, foreign: sys::CUstream) -> Result<()> {
        let e = Event::record(self.gpu(), foreign)?;
        self.foreign.lock().unwrap().push(e);
        Ok(())
    }

    /// Blocks until all the work queued on the block so far (rill's, and that of the libraries
    /// it was lent to) has finished.
    fn settle(&self) -> Result<()> {
        let users = self.users.lock().unwrap().clone();
        for s in users.iter().copied().chain(std::iter::once(self.home)) {
            Event::record(self.gpu(), s.raw)?.wait("free")?;
        }
        for e in self.foreign.lock().unwrap().iter() {
            e.wait("free")?;
        }
        Ok(())
    }

    pub(super) fn gpu(&self) -> &'static Gpu {
        self.home.gpu
    }

    /// The event after the work that writes this block (recorded now if it was not yet: then it
    /// also covers whatever the home stream queued since, which is later but never wrong).
    pub(super) fn ready_event(&self) -> Result<Event> {
        let mut ready = self.ready.lock().unwrap();
        if let Some(e) = ready.as_ref() {
            return Ok(e.clone());
        }
        let e = Event::record(self.home.gpu, self.home.raw)?;
        *ready = Some(e.clone());
        Ok(e)
    }

    /// Orders `stream`'s next work after the work that writes this block, and remembers that
    /// `stream` uses it (so the block is freed only after that use). The caller made the GPU's
    /// context current.
    pub(super) fn used_on(&self, stream: &'static GpuStream) -> Result<()> {
        if std::ptr::eq(stream, self.home) {
            return Ok(());
        }
        let ready = self.ready_event()?;
        if !ready.is_done() {
            ready.wait_on(stream.raw)?;
        }
        let mut users = self.users.lock().unwrap();
        if !users.iter().any(|u| std::ptr::eq(*u, stream)) {
            users.push(stream);
        }
        Ok(())
    }

    fn free(&mut self) -> Result<()> {
        let gpu = self.home.gpu;
        make_current(gpu.ctx)?;
        let users = std::mem::take(self.users.get_mut().unwrap());
        let foreign = std::mem::take(self.foreign.get_mut().unwrap());
        if users.is_empty() && foreign.is_empty() {
            // SAFETY: `ptr` came from this pool on `home`; every use of it was queued on `home`
            // before this point (the buffer is being dropped, so nobody holds it).
            return check("free", "cuMemFreeAsync", unsafe {
                sys::cuMemFreeAsync(self.ptr, self.home.raw)
            });
        }
        let free_stream = gpu.free_stream;
        for s in users.iter().copied().chain(std::iter::once(self.home)) {
            Event::record(gpu, s.raw)?.wait_on(free_stream)?;
        }
        for e in &foreign {
            e.wait_on(free_stream)?;
        }
        // SAFETY: as above; the free stream now waits for every stream that used the block, and
        // for the other libraries' last uses.
        check("free", "cuMemFreeAsync", unsafe {
            sys::cuMemFreeAsync(self.ptr, free_stream)
        })
    }
}

impl Drop for CudaBlock {
    fn drop(&mut self) {
        let memory = match self.origin {
            Origin::Pool(m) => m,
            Origin::External(_) => {
                // The lender reuses the memory as soon as the owner drops: first let the work
                // queued on it finish. An error means a broken context, where nothing runs any
                // more.
                let _ = self.settle();
                if let Origin::External(owner) = &mut self.origin {
                    drop(owner.take());
                }
                return;
            }
        };
        let counters = &memory.counters;
        counters.unreserve(self.cap);
        let only_home =
            self.users.get_mut().unwrap().is_empty() && self.foreign.get_mut().unwrap().is_empty();
        if let Some((class, cap)) = class_of(self.cap).filter(|&(_, c)| c == self.cap) {
            if only_home && counters.cached() + cap <= counters.cache_limit() {
                counters.add_cached(cap);
                self.home.cache.put(class, self.ptr);
                return;
            }
        }
        // A failure here means the context is broken (a kernel faulted); the error has already
        // reached the arrays involved, and the memory goes with the context.
        let _ = self.free();
        memory.freed.fetch_add(self.cap, Relaxed);
    }
}

impl DeviceBlock for CudaBlock {
    fn wait_ready(&self) -> Result<()> {
        self.ready_event()?.wait("eval")
    }
    fn is_ready(&self) -> bool {
        self.ready_event().map(|e| e.is_done()).unwrap_or(true)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The CUDA block behind a GPU buffer (None for any other kind of buffer).
pub(super) fn block(buffer: &Buffer) -> Option<&CudaBlock> {
    buffer.block()?.as_any().downcast_ref::<CudaBlock>()
}
