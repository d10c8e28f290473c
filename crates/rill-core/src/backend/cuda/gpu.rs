//! One GPU: its primary context, what it is, and the per-GPU state every part of the backend
//! shares (memory pool, events, compiled kernels, cuBLASLt, the staging buffers of copies).
//!
//! A `Gpu` is made once at start-up and lives for the whole process (`&'static`).

use super::compile::Kernels;
use super::driver::{check, make_current};
use super::event::EventPool;
use super::memory::GpuMemory;
use super::transfer::Staging;
use crate::device::InfoValue;
use crate::{Device, Result};
use cudarc::driver::sys;
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::OnceLock;

pub(super) struct Gpu {
    pub(super) device: Device,
    pub(super) ctx: sys::CUcontext,
    pub(super) name: String,
    pub(super) cc: (i32, i32),
    pub(super) sm_count: i32,
    pub(super) total_memory: usize,
    pub(super) pci_bus_id: String,
    pub(super) memory: GpuMemory,
    pub(super) events: EventPool,
    pub(super) kernels: Kernels,
    pub(super) staging: Staging,
    /// Frees of blocks that several streams used are ordered here (see `memory.rs`).
    pub(super) free_stream: sys::CUstream,
    /// cuBLASLt's handle (thread-safe; the stream is given per call).
    pub(super) blas: OnceLock<std::result::Result<usize, String>>,
    /// cuBLASLt descriptors and algorithms by problem.
    pub(super) plans: super::matmul::Plans,
    /// The epoch of device timings in the current capture.
    pub(super) epochs: super::timing::Epochs,
}

// SAFETY: every handle is a driver handle usable from any thread once the context is current
// (which every user of `Gpu` ensures with `make_current`); the rest is immutable or synchronized.
unsafe impl Send for Gpu {}
// SAFETY: as above.
unsafe impl Sync for Gpu {}

fn attribute(cu: sys::CUdevice, attr: sys::CUdevice_attribute) -> Result<i32> {
    let mut v = 0;
    // SAFETY: valid out-pointer and device.
    check("cuda", "cuDeviceGetAttribute", unsafe {
        sys::cuDeviceGetAttribute(&mut v, attr, cu)
    })?;
    Ok(v)
}

impl Gpu {
    /// Opens GPU `ordinal` (the driver is initialised).
    pub(super) fn open(ordinal: usize) -> Result<Gpu> {
        let mut cu = 0;
        // SAFETY: valid out-pointer.
        check("cuda", "cuDeviceGet", unsafe {
            sys::cuDeviceGet(&mut cu, ordinal as i32)
        })?;
        let mut ctx = std::ptr::null_mut();
        // SAFETY: valid out-pointer and device; the primary context is retained for the life of
        // the process (never released).
        check("cuda", "cuDevicePrimaryCtxRetain", unsafe {
            sys::cuDevicePrimaryCtxRetain(&mut ctx, cu)
        })?;
        make_current(ctx)?;
        let mut raw_name = [0 as std::ffi::c_char; 256];
        // SAFETY: the buffer holds 256 chars, as passed.
        check("cuda", "cuDeviceGetName", unsafe {
            sys::cuDeviceGetName(raw_name.as_mut_ptr(), 256, cu)
        })?;
        // SAFETY: the driver wrote a NUL-terminated string into the buffer.
        let name = unsafe { CStr::from_ptr(raw_name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let mut bus = [0 as std::ffi::c_char; 64];
        // SAFETY: the buffer holds 64 chars, as passed.
        check("cuda", "cuDeviceGetPCIBusId", unsafe {
            sys::cuDeviceGetPCIBusId(bus.as_mut_ptr(), 64, cu)
        })?;
        // SAFETY: NUL-terminated by the driver.
        let pci_bus_id = unsafe { CStr::from_ptr(bus.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let mut total = 0usize;
        // SAFETY: valid out-pointer and device.
        check("cuda", "cuDeviceTotalMem", unsafe {
            sys::cuDeviceTotalMem_v2(&mut total, cu)
        })?;
        use sys::CUdevice_attribute as A;
        let cc = (
            attribute(cu, A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
            attribute(cu, A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
        );
        let sm_count = attribute(cu, A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?;
        let device = Device::gpu(ordinal);
        // MLX's default limit is 95% of the device's memory; rill's too. Freed memory stays in the
        // pool up to a quarter of the device before it is returned.
        let memory = GpuMemory::new(device, ordinal as i32, ctx, total / 20 * 19, total / 4)?;
        let mut free_stream = std::ptr::null_mut();
        // SAFETY: valid out-pointer; the context is current.
        check("cuda", "cuStreamCreate", unsafe {
            sys::cuStreamCreate(
                &mut free_stream,
                sys::CUstream_flags::CU_STREAM_NON_BLOCKING as u32,
            )
        })?;
        Ok(Gpu {
            device,
            ctx,
            name,
            cc,
            sm_count,
            total_memory: total,
            pci_bus_id,
            memory,
            events: EventPool::default(),
            kernels: Kernels::default(),
            staging: Staging::default(),
            free_stream,
            blas: OnceLock::new(),
            plans: Default::default(),
            epochs: Default::default(),
        })
    }

    /// The architecture NVRTC compiles for, as MLX names it (`sm_90`).
    pub(super) fn arch(&self) -> String {
        format!("sm_{}{}", self.cc.0, self.cc.1)
    }

    pub(super) fn info(&self) -> Result<BTreeMap<String, InfoValue>> {
        make_current(self.ctx)?;
        let (mut free, mut total) = (0usize, 0usize);
        // SAFETY: valid out-pointers; the context is current.
        check("device_info", "cuMemGetInfo", unsafe {
            sys::cuMemGetInfo_v2(&mut free, &mut total)
        })?;
        let mut m = BTreeMap::new();
        let s = |v: String| InfoValue::Str(v);
        m.insert("device_name".into(), s(self.name.clone()));
        m.insert("architecture".into(), s(self.arch()));
        m.insert(
            "total_memory".into(),
            InfoValue::Int(self.total_memory as u64),
        );
        m.insert("free_memory".into(), InfoValue::Int(free as u64));
        m.insert(
            "multiprocessors".into(),
            InfoValue::Int(self.sm_count as u64),
        );
        m.insert(
            "compute_capability_major".into(),
            InfoValue::Int(self.cc.0 as u64),
        );
        m.insert(
            "compute_capability_minor".into(),
            InfoValue::Int(self.cc.1 as u64),
        );
        m.insert("pci_bus_id".into(), s(self.pci_bus_id.clone()));
        Ok(m)
    }
}
