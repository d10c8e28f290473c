//! Backends: what runs an [`Op`] on a device.
//!
//! The graph and the scheduler know only this module's functions. A backend receives evaluated
//! inputs and the output's shape, dtype and stream, and returns the output's [`Data`]. Views
//! (reshape, transpose, slice, broadcast) are the same on every device and are handled here,
//! before any backend sees them. The CPU backend always exists; a GPU backend plugs in beside it
//! (see ARCHITECTURE.md) and is reached through `gpu_count`, `allocator` and `run`.

pub mod cpu;
mod views;

use crate::memory::{Allocator, Data};
use crate::op::Op;
use crate::{Device, DeviceType, Dtype, Error, Result, Stream};
use std::collections::BTreeMap;

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

/// Runs `op` for the output `out` on `out.stream`'s device.
pub fn run(op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
    if let Some(data) = views::try_view(op, inputs, out) {
        return Ok(data);
    }
    match out.stream.device().kind {
        DeviceType::Cpu => cpu::run(op, inputs, out),
        DeviceType::Gpu => Err(Error::device(
            op.name(),
            format!("{} has no backend in this build", out.stream.device()),
        )),
    }
}

/// GPUs this process can use. No GPU backend is built in yet.
pub fn gpu_count() -> usize {
    0
}

pub fn gpu_info(device: Device) -> Result<BTreeMap<String, crate::device::InfoValue>> {
    Err(Error::device(
        "device_info",
        format!("{device} is not available"),
    ))
}

/// Called when a stream is made on `device`, so a backend can set up its own queue.
pub fn on_new_stream(device: Device) -> Result<()> {
    device.check_available("new_stream").map(|_| ())
}

/// The allocator of host memory (arrays made from host data live there).
pub fn host_allocator() -> &'static Allocator {
    cpu::allocator()
}

pub fn allocator(device: Device) -> Option<&'static Allocator> {
    match device.kind {
        DeviceType::Cpu if device.index == 0 => Some(cpu::allocator()),
        _ => None,
    }
}

pub fn allocators() -> Vec<&'static Allocator> {
    vec![cpu::allocator()]
}
