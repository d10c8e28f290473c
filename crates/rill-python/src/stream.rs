//! Streams: `Stream`, the `stream=` argument every op takes, `with stream(...)` /
//! `with default_device(...)` scopes, and the functions that make and choose streams.
//!
//! Unlike MLX (where since 0.31 a stream belongs to the thread that made it), a rill stream may be
//! used from any Python thread: work submitted to it runs in submission order whoever submits it.
//! Scopes are per thread: a `with` block changes the defaults of the thread that entered it only.

use crate::device::{DeviceArg, PyDevice};
use crate::errors::{guard, OrRaise};
use pyo3::prelude::*;
use rill_core::{Device, DeviceScope, Stream, StreamOrDevice, StreamScope};
use std::cell::RefCell;

/// An in-order queue of work bound to a device. Made by `new_stream` or `default_stream` (there is
/// no constructor); `repr` is `Stream(Device(cpu, 0), 1)`.
#[pyclass(
    name = "Stream",
    module = "rill.core",
    frozen,
    eq,
    hash,
    from_py_object
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyStream(pub Stream);

#[pymethods]
impl PyStream {
    /// The device this stream runs on.
    #[getter]
    fn device(&self) -> PyDevice {
        PyDevice(self.0.device())
    }
    /// The stream's index, as in its repr and in `stop_capture()`'s summary.
    #[getter]
    fn index(&self) -> usize {
        self.0.index()
    }
    fn __repr__(&self) -> String {
        self.0.to_string()
    }
    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// The `stream=` argument: None (the default stream of the default device), a `Stream`, a
/// `Device` or a `DeviceType` (that device's default stream).
#[derive(Clone, Copy, Default)]
pub struct StreamArg(pub StreamOrDevice);

impl StreamArg {
    pub fn from_any(obj: &Bound<'_, PyAny>) -> PyResult<StreamArg> {
        if obj.is_none() {
            return Ok(StreamArg(StreamOrDevice::Default));
        }
        if let Ok(s) = obj.cast::<PyStream>() {
            return Ok(StreamArg(StreamOrDevice::Stream(s.get().0)));
        }
        if let Some(DeviceArg(d)) = DeviceArg::from_any(obj) {
            return Ok(StreamArg(StreamOrDevice::Device(d)));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "stream must be a Stream, a Device, a DeviceType or None, got {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for StreamArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        StreamArg::from_any(&obj)
    }
}

/// The core's form of an optional `stream=` argument.
pub fn sod(s: Option<StreamArg>) -> StreamOrDevice {
    s.map(|s| s.0).unwrap_or_default()
}

/// What a scope makes the default.
#[derive(Clone, Copy)]
enum Target {
    Stream(Stream),
    Device(Device),
}

/// A scope opened by `__enter__`, held by the thread that opened it.
enum Held {
    Stream(#[allow(dead_code)] StreamScope),
    Device(#[allow(dead_code)] DeviceScope),
}

thread_local! {
    /// The scopes this thread has entered, innermost last, each with the address of the context
    /// object that opened it. The core's scope guards are not `Send`, so they live here, on
    /// the thread they belong to, rather than in the (shareable) context object.
    static HELD: RefCell<Vec<(usize, Held)>> = const { RefCell::new(Vec::new()) };
}

/// A context manager that makes a stream (and its device), or a device, this thread's default
/// inside a `with` block. Made by `stream(s)` and `default_device(d)`.
#[pyclass(name = "StreamContext", module = "rill.core", frozen)]
pub struct StreamContext {
    target: Target,
}

impl StreamContext {
    pub fn for_device(d: Device) -> Self {
        StreamContext {
            target: Target::Device(d),
        }
    }
}

#[pymethods]
impl StreamContext {
    /// Opens the scope; returns the stream or device it selects.
    fn __enter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        guard(|| {
            let py = slf.py();
            let key = slf.as_ptr() as usize;
            let (held, obj) = match slf.get().target {
                Target::Stream(s) => (
                    Held::Stream(StreamScope::new(s).or_raise()?),
                    Py::new(py, PyStream(s))?.into_any(),
                ),
                Target::Device(d) => (
                    Held::Device(DeviceScope::new(d).or_raise()?),
                    Py::new(py, PyDevice(d))?.into_any(),
                ),
            };
            HELD.with(|h| h.borrow_mut().push((key, held)));
            Ok(obj)
        })
    }

    /// Closes the scope (and any scope opened inside it and left open).
    #[pyo3(signature = (*_args))]
    fn __exit__(slf: &Bound<'_, Self>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        let key = slf.as_ptr() as usize;
        let found = HELD.with(|h| {
            let mut h = h.borrow_mut();
            match h.iter().rposition(|(k, _)| *k == key) {
                Some(pos) => {
                    // Drop innermost first so the core's scope stack unwinds in order.
                    while h.len() > pos {
                        h.pop();
                    }
                    true
                }
                None => false,
            }
        });
        if !found {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "this scope was not entered on this thread (a `with` block must be exited by the thread that entered it)",
            ));
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.target {
            Target::Stream(s) => format!("StreamContext({s})"),
            Target::Device(d) => format!("StreamContext({d})"),
        }
    }
}

/// The default stream of `device` (made on first use).
#[pyfunction]
pub fn default_stream(device: DeviceArg) -> PyResult<PyStream> {
    guard(|| Ok(PyStream(rill_core::default_stream(device.0).or_raise()?)))
}

/// Makes `stream` the default stream of its device, for every thread.
#[pyfunction]
pub fn set_default_stream(stream: PyStream) -> PyResult<()> {
    guard(|| rill_core::set_default_stream(stream.0).or_raise())
}

/// A new stream on `device` (the default device when None), independent of every other stream.
/// Any thread may submit work to it.
#[pyfunction]
#[pyo3(signature = (device = None))]
pub fn new_stream(device: Option<DeviceArg>) -> PyResult<PyStream> {
    guard(|| {
        let d = device
            .map(|d| d.0)
            .unwrap_or_else(rill_core::default_device);
        Ok(PyStream(rill_core::new_stream(d).or_raise()?))
    })
}

/// MLX compatibility: MLX ties streams to threads and offers this for a stream usable in every
/// thread. Every rill stream already is, so this is `new_stream(device)`.
#[pyfunction]
pub fn new_thread_local_stream(device: DeviceArg) -> PyResult<PyStream> {
    new_stream(Some(device))
}

/// MLX compatibility: in MLX, destroys the streams the current thread made. rill streams own no
/// threads or device resources (a stream is a small queue on a shared pool) and their handles stay
/// valid, so there is nothing to release: this waits for outstanding work on every stream and
/// returns.
#[pyfunction]
pub fn clear_streams(py: Python<'_>) -> PyResult<()> {
    guard(|| {
        py.detach(rill_core::synchronize_all);
        Ok(())
    })
}

/// A context manager that makes `s` this thread's default inside a `with` block: a `Stream` (and
/// its device), or a `Device`/`DeviceType` (and its default stream).
#[pyfunction]
pub fn stream(s: &Bound<'_, PyAny>) -> PyResult<StreamContext> {
    guard(|| {
        // `StreamArg` accepts None (the `stream=` default), which a scope cannot select: say
        // so without listing None as allowed.
        let arg = match s.is_none() {
            true => None,
            false => StreamArg::from_any(s).ok(),
        };
        let Some(arg) = arg else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "stream() needs a Stream, a Device or a DeviceType, got {}",
                s.repr().map(|r| r.to_string()).unwrap_or_default()
            )));
        };
        let target = match arg.0 {
            StreamOrDevice::Stream(st) => {
                // Fails here, not at `__enter__`, for a stream handle that is not valid.
                StreamScope::new(st).or_raise()?;
                Target::Stream(st)
            }
            StreamOrDevice::Device(d) => {
                d.check_available("stream").or_raise()?;
                Target::Device(d)
            }
            StreamOrDevice::Default => unreachable!("None is refused above"),
        };
        Ok(StreamContext { target })
    })
}

/// Blocks until the work submitted so far is done: on `stream` only (a Stream, or a device's
/// default stream), or on every stream of every device when None. Releases the GIL while waiting.
#[pyfunction]
#[pyo3(signature = (stream = None))]
pub fn synchronize(py: Python<'_>, stream: Option<StreamArg>) -> PyResult<()> {
    guard(|| {
        let target: Option<Stream> = match stream.map(|s| s.0) {
            None | Some(StreamOrDevice::Default) => None,
            Some(s) => Some(s.resolve("synchronize").or_raise()?),
        };
        match target {
            None => py.detach(rill_core::synchronize_all),
            Some(s) => py.detach(|| rill_core::synchronize(s)).or_raise()?,
        }
        Ok(())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStream>()?;
    m.add_class::<StreamContext>()?;
    m.add_function(wrap_pyfunction!(default_stream, m)?)?;
    m.add_function(wrap_pyfunction!(set_default_stream, m)?)?;
    m.add_function(wrap_pyfunction!(new_stream, m)?)?;
    m.add_function(wrap_pyfunction!(new_thread_local_stream, m)?)?;
    m.add_function(wrap_pyfunction!(clear_streams, m)?)?;
    m.add_function(wrap_pyfunction!(stream, m)?)?;
    m.add_function(wrap_pyfunction!(synchronize, m)?)?;
    Ok(())
}
