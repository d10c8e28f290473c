//! Devices: the `Device` class and the functions that name, check and choose devices.
//!
//! As in the Python binding, a GPU this process lacks can be named only to be refused: `device`,
//! `newStream`, `defaultStream` and `setDefaultDevice` throw an `Error` saying how many GPUs this
//! process has.

use crate::errors::{guard, type_error, OrThrow};
use napi_derive::napi;
use rill_core::{Device, DeviceType};

/// A device: a type ('cpu' or 'gpu') and an index among the devices of that type.
#[napi(js_name = "Device")]
#[derive(Clone, Copy)]
pub struct JsDevice {
    pub(crate) inner: Device,
}

#[napi]
impl JsDevice {
    /// 'cpu' or 'gpu'.
    #[napi(getter, js_name = "type")]
    pub fn kind(&self) -> String {
        self.inner.kind.to_string()
    }
    #[napi(getter)]
    pub fn index(&self) -> u32 {
        self.inner.index as u32
    }
    /// True for the same type and index.
    #[napi]
    pub fn equals(&self, other: &JsDevice) -> bool {
        self.inner == other.inner
    }
    /// rill's long form, `Device(cpu, 0)` (the JS layer's `toString` is the type alone, as the
    /// Node seed prints it).
    #[napi]
    pub fn describe(&self) -> String {
        self.inner.to_string()
    }
}

impl From<Device> for JsDevice {
    fn from(inner: Device) -> Self {
        JsDevice { inner }
    }
}

/// The device type named `name` ('cpu' or 'gpu').
pub fn parse_type(op: &str, name: &str) -> napi::Result<DeviceType> {
    match name {
        "cpu" => Ok(DeviceType::Cpu),
        "gpu" => Ok(DeviceType::Gpu),
        _ => Err(type_error(format!(
            "[{op}] unknown device type '{name}'; expected 'cpu' or 'gpu'"
        ))),
    }
}

/// The device of type `kind` at `index` (0 by default); throws for one this process does not have.
#[napi]
pub fn device(kind: String, index: Option<u32>) -> napi::Result<JsDevice> {
    guard(|| {
        let d = Device::new(parse_type("device", &kind)?, index.unwrap_or(0) as usize);
        Ok(d.check_available("device").or_throw()?.into())
    })
}

/// The device ops use when given no stream.
#[napi]
pub fn default_device() -> napi::Result<JsDevice> {
    guard(|| Ok(rill_core::default_device().into()))
}

/// Sets the process-wide default device; throws for a device this process does not have.
#[napi]
pub fn set_default_device(device: &JsDevice) -> napi::Result<()> {
    guard(|| rill_core::set_default_device(device.inner).or_throw())
}

/// True when this process can use a device of type `kind` at `index`.
#[napi]
pub fn is_available(kind: String, index: Option<u32>) -> napi::Result<bool> {
    guard(|| {
        let kind = parse_type("isAvailable", &kind)?;
        Ok(rill_core::is_available(Device::new(
            kind,
            index.unwrap_or(0) as usize,
        )))
    })
}

/// How many devices of type `kind` this process can use.
#[napi]
pub fn device_count(kind: String) -> napi::Result<u32> {
    guard(|| Ok(rill_core::device_count(parse_type("deviceCount", &kind)?) as u32))
}
