//! Devices: the CPU, which always exists, and GPUs, which exist when a GPU backend finds one.
//!
//! Rules: the global default device is a process-wide setting; `with_default_device` and
//! [`DeviceScope`] override it for the current thread only, so two threads can work on two
//! devices without seeing each other's choice.

use crate::scope::{self, Scoped};
use crate::{backend, Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceType {
    Cpu,
    Gpu,
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceType::Cpu => "cpu",
            DeviceType::Gpu => "gpu",
        })
    }
}

/// A device: a type and an index among the devices of that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    pub kind: DeviceType,
    pub index: usize,
}

impl Device {
    pub const fn cpu() -> Device {
        Device {
            kind: DeviceType::Cpu,
            index: 0,
        }
    }
    pub const fn gpu(index: usize) -> Device {
        Device {
            kind: DeviceType::Gpu,
            index,
        }
    }
    pub fn new(kind: DeviceType, index: usize) -> Device {
        Device { kind, index }
    }
    /// Ok when this device exists in this process; otherwise an error naming `op`.
    pub fn check_available(self, op: &'static str) -> Result<Device> {
        if is_available(self) {
            Ok(self)
        } else {
            Err(Error::device(
                op,
                format!(
                    "{self} is not available (this process has {} {} device(s))",
                    device_count(self.kind),
                    self.kind
                ),
            ))
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Device({}, {})", self.kind, self.index)
    }
}

impl From<DeviceType> for Device {
    fn from(kind: DeviceType) -> Device {
        Device { kind, index: 0 }
    }
}

/// How many devices of a type this process can use.
pub fn device_count(kind: DeviceType) -> usize {
    backend::device_count(kind)
}

pub fn is_available(device: Device) -> bool {
    device.index < device_count(device.kind)
}

/// A value in [`device_info`].
#[derive(Debug, Clone, PartialEq)]
pub enum InfoValue {
    Str(String),
    Int(u64),
}

impl fmt::Display for InfoValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InfoValue::Str(s) => f.write_str(s),
            InfoValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// What is known about a device. Always has `device_name` and `architecture` (as MLX); the CPU
/// adds `memory_size` (bytes) and `cores`, a GPU its memory, multiprocessors, compute capability
/// and PCI bus id.
pub fn device_info(device: Device) -> Result<BTreeMap<String, InfoValue>> {
    backend::of("device_info", device)?.info(device.index)
}

/// The device `set_default_device` chose, as [`encode`] writes it (0: none yet). An atomic
/// rather than a lock: every op given neither a stream nor a device reads it, from every thread
/// building a graph, and a lock's shared counter made those threads write one cache line.
static DEFAULT_DEVICE: AtomicU64 = AtomicU64::new(0);

fn encode(d: Device) -> u64 {
    (((d.index as u64) << 1) | u64::from(d.kind == DeviceType::Gpu)) + 1
}

fn decode(v: u64) -> Option<Device> {
    let v = v.checked_sub(1)?;
    let kind = if v & 1 == 1 {
        DeviceType::Gpu
    } else {
        DeviceType::Cpu
    };
    Some(Device {
        kind,
        index: (v >> 1) as usize,
    })
}

/// The device ops use when given neither a stream nor a device: the innermost scope of this
/// thread, else the global default (the first GPU when there is one, else the CPU; the
/// environment variable `RILL_DEFAULT_DEVICE=cpu` or `gpu` picks one for the whole process, which
/// is how a test suite is run once per device).
pub fn default_device() -> Device {
    if let Some(scoped) = scope::innermost() {
        return match scoped {
            Scoped::Device(d) => d,
            Scoped::Stream(s) => s.device(),
        };
    }
    global_default_device()
}

pub(crate) fn global_default_device() -> Device {
    if let Some(d) = decode(DEFAULT_DEVICE.load(Ordering::Acquire)) {
        return d;
    }
    *INITIAL_DEFAULT.get_or_init(|| {
        match std::env::var("RILL_DEFAULT_DEVICE").as_deref() {
            Ok("cpu") => return Device::cpu(),
            Ok("gpu") if is_available(Device::gpu(0)) => return Device::gpu(0),
            Ok("gpu") => eprintln!("rill: RILL_DEFAULT_DEVICE=gpu, but this process has no GPU"),
            Ok(other) => eprintln!("rill: RILL_DEFAULT_DEVICE={other:?} is neither cpu nor gpu"),
            Err(_) => {}
        }
        if is_available(Device::gpu(0)) {
            Device::gpu(0)
        } else {
            Device::cpu()
        }
    })
}

static INITIAL_DEFAULT: OnceLock<Device> = OnceLock::new();

/// Sets the process-wide default device. Fails for a device that does not exist.
pub fn set_default_device(device: Device) -> Result<()> {
    device.check_available("set_default_device")?;
    DEFAULT_DEVICE.store(encode(device), Ordering::Release);
    Ok(())
}

/// Runs `f` with `device` as this thread's default device.
pub fn with_default_device<R>(device: Device, f: impl FnOnce() -> R) -> Result<R> {
    let _scope = DeviceScope::new(device)?;
    Ok(f())
}

/// While alive, makes `device` this thread's default device (an RAII form of
/// [`with_default_device`]). Scopes nest; drop them in reverse order of creation.
pub struct DeviceScope {
    _scope: scope::ScopeGuard,
}

impl DeviceScope {
    pub fn new(device: Device) -> Result<Self> {
        device.check_available("default_device")?;
        Ok(DeviceScope {
            _scope: scope::push(Scoped::Device(device)),
        })
    }
}
