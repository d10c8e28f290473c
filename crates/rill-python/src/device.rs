//! Devices: `DeviceType` (`mx.cpu`, `mx.gpu`), `Device`, and the functions about them.
//!
//! As in MLX, `mx.cpu` is a `DeviceType` that compares equal to `Device(cpu, 0)`, and every
//! function that takes a device also takes a `DeviceType` (meaning index 0). A GPU that this
//! process does not have may be named (`Device(gpu, 0)` is a plain value) but not used: asking for
//! its streams or making it the default raises `ValueError`.

use crate::errors::{guard, OrRaise};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rill_core::device::InfoValue;
use rill_core::{Device, DeviceType};

/// The kind of a device: `DeviceType.cpu` or `DeviceType.gpu` (also `rill.core.cpu`, `rill.core.gpu`).
#[pyclass(name = "DeviceType", module = "rill.core", frozen, from_py_object)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PyDeviceType {
    cpu,
    gpu,
}

impl From<PyDeviceType> for DeviceType {
    fn from(t: PyDeviceType) -> DeviceType {
        match t {
            PyDeviceType::cpu => DeviceType::Cpu,
            PyDeviceType::gpu => DeviceType::Gpu,
        }
    }
}

impl From<DeviceType> for PyDeviceType {
    fn from(t: DeviceType) -> PyDeviceType {
        match t {
            DeviceType::Cpu => PyDeviceType::cpu,
            DeviceType::Gpu => PyDeviceType::gpu,
        }
    }
}

/// One hash for a device whether it is named by a `Device` or a `DeviceType`, since they compare
/// equal.
fn device_hash(d: Device) -> u64 {
    (d.kind as u64) << 32 | d.index as u64
}

#[pymethods]
impl PyDeviceType {
    /// Equal to the same type, and to `Device(type, 0)`.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match DeviceArg::from_any(other) {
            Some(DeviceArg(d)) => d == Device::from(DeviceType::from(*self)),
            None => false,
        }
    }
    fn __hash__(&self) -> u64 {
        device_hash(DeviceType::from(*self).into())
    }
}

/// A device: a type and an index among the devices of that type. `str` and `repr` are
/// `Device(cpu, 0)`.
#[pyclass(name = "Device", module = "rill.core", frozen, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PyDevice(pub Device);

#[pymethods]
impl PyDevice {
    #[new]
    #[pyo3(signature = (r#type, index = 0))]
    fn new(r#type: PyDeviceType, index: usize) -> Self {
        PyDevice(Device::new(r#type.into(), index))
    }
    /// The device's type.
    #[getter]
    fn r#type(&self) -> PyDeviceType {
        self.0.kind.into()
    }
    fn __repr__(&self) -> String {
        self.0.to_string()
    }
    fn __str__(&self) -> String {
        self.0.to_string()
    }
    /// Equal to the same device, and (at index 0) to its `DeviceType`.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        matches!(DeviceArg::from_any(other), Some(DeviceArg(d)) if d == self.0)
    }
    fn __hash__(&self) -> u64 {
        device_hash(self.0)
    }
}

/// An argument that names a device: a `Device` or a `DeviceType`.
#[derive(Clone, Copy)]
pub struct DeviceArg(pub Device);

impl DeviceArg {
    pub fn from_any(obj: &Bound<'_, PyAny>) -> Option<DeviceArg> {
        if let Ok(d) = obj.cast::<PyDevice>() {
            return Some(DeviceArg(d.get().0));
        }
        if let Ok(t) = obj.cast::<PyDeviceType>() {
            return Some(DeviceArg(DeviceType::from(*t.get()).into()));
        }
        None
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for DeviceArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        DeviceArg::from_any(&obj).ok_or_else(|| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "expected a Device or a DeviceType (rill.core.cpu, rill.core.gpu), got {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })
    }
}

/// The device ops use when given no stream: the innermost `with` scope of this thread, else the
/// process-wide default.
///
/// With an argument, returns a context manager instead: `with default_device(d):` makes `d` the
/// default device of this thread inside the block (and `default_device()` still returns the
/// device when called plainly). Raises `ValueError` for a device this process does not have.
#[pyfunction]
#[pyo3(signature = (device = None))]
pub fn default_device(py: Python<'_>, device: Option<DeviceArg>) -> PyResult<Py<PyAny>> {
    guard(|| match device {
        None => Ok(Py::new(py, PyDevice(rill_core::default_device()))?.into_any()),
        Some(DeviceArg(d)) => {
            d.check_available("default_device").or_raise()?;
            Ok(Py::new(py, crate::stream::StreamContext::for_device(d))?.into_any())
        }
    })
}

/// Sets the default device of the process (every thread without a scope of its own).
#[pyfunction]
pub fn set_default_device(device: DeviceArg) -> PyResult<()> {
    guard(|| rill_core::set_default_device(device.0).or_raise())
}

/// True when this process can use `device`.
#[pyfunction]
pub fn is_available(device: DeviceArg) -> bool {
    rill_core::is_available(device.0)
}

/// How many devices of a type this process can use.
#[pyfunction]
pub fn device_count(device_type: DeviceArg) -> usize {
    rill_core::device_count(device_type.0.kind)
}

/// What is known about a device (the default device when None): a dict with at least
/// `device_name` and `architecture`; the CPU adds `memory_size` (bytes) and `cores`. Empty for a
/// device this process does not have, as MLX.
#[pyfunction]
#[pyo3(signature = (d = None))]
pub fn device_info<'py>(py: Python<'py>, d: Option<DeviceArg>) -> PyResult<Bound<'py, PyDict>> {
    guard(|| {
        let device = d.map(|d| d.0).unwrap_or_else(rill_core::default_device);
        let dict = PyDict::new(py);
        if !rill_core::is_available(device) {
            return Ok(dict);
        }
        for (k, v) in rill_core::device_info(device).or_raise()? {
            match v {
                InfoValue::Str(s) => dict.set_item(k, s)?,
                InfoValue::Int(i) => dict.set_item(k, i)?,
            }
        }
        Ok(dict)
    })
}

/// rill's own switch (not MLX's): lets float32 matmuls on the GPU use TF32 tensor cores; returns
/// the previous setting. Exposed as `mx.cuda.set_allow_tf32`.
#[pyfunction]
pub fn _cuda_set_allow_tf32(on: bool) -> bool {
    rill_core::backend::cuda::set_allow_tf32(on)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_cuda_set_allow_tf32, m)?)?;
    m.add_class::<PyDeviceType>()?;
    m.add_class::<PyDevice>()?;
    m.add("cpu", PyDeviceType::cpu)?;
    m.add("gpu", PyDeviceType::gpu)?;
    m.add_function(wrap_pyfunction!(default_device, m)?)?;
    m.add_function(wrap_pyfunction!(set_default_device, m)?)?;
    m.add_function(wrap_pyfunction!(is_available, m)?)?;
    m.add_function(wrap_pyfunction!(device_count, m)?)?;
    m.add_function(wrap_pyfunction!(device_info, m)?)?;
    Ok(())
}
