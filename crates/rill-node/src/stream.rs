//! Streams: the `Stream` class and the functions that make, choose and wait for streams.
//!
//! A rill stream may be used from any thread and any async task; scopes (`withStream`,
//! `streamContext`) are kept by the JS layer, which passes the chosen stream to every op.

use crate::device::JsDevice;
use crate::errors::{guard, OrThrow};
use napi_derive::napi;
use rill_core::{Stream, StreamOrDevice};

/// An in-order queue of work bound to a device. Made by `newStream` or `defaultStream`.
#[napi(js_name = "Stream")]
#[derive(Clone, Copy)]
pub struct JsStream {
    pub(crate) inner: Stream,
}

#[napi]
impl JsStream {
    /// The device this stream runs on.
    #[napi(getter)]
    pub fn device(&self) -> JsDevice {
        self.inner.device().into()
    }
    /// Unique among the streams of this process.
    #[napi(getter)]
    pub fn index(&self) -> u32 {
        self.inner.index() as u32
    }
    /// True for the same stream.
    #[napi]
    pub fn equals(&self, other: &JsStream) -> bool {
        self.inner == other.inner
    }
    /// `Stream(Device(cpu, 0), 1)`.
    #[napi(js_name = "toString")]
    pub fn display(&self) -> String {
        self.inner.to_string()
    }
}

impl From<Stream> for JsStream {
    fn from(inner: Stream) -> Self {
        JsStream { inner }
    }
}

/// The core's form of an op's optional stream argument.
pub fn sod(s: Option<&JsStream>) -> StreamOrDevice {
    s.map_or(StreamOrDevice::Default, |s| StreamOrDevice::Stream(s.inner))
}

/// The default stream of `device` (made on first use).
#[napi]
pub fn default_stream(device: &JsDevice) -> napi::Result<JsStream> {
    guard(|| Ok(rill_core::default_stream(device.inner).or_throw()?.into()))
}

/// Makes `stream` the default stream of its device, for the whole process.
#[napi]
pub fn set_default_stream(stream: &JsStream) -> napi::Result<()> {
    guard(|| rill_core::set_default_stream(stream.inner).or_throw())
}

/// A new stream on `device`, independent of every other stream.
#[napi]
pub fn new_stream(device: &JsDevice) -> napi::Result<JsStream> {
    guard(|| Ok(rill_core::new_stream(device.inner).or_throw()?.into()))
}

/// Blocks until the work submitted so far is done: on `stream` only, or on every stream of every
/// device when none is given.
#[napi]
pub fn synchronize(stream: Option<&JsStream>) -> napi::Result<()> {
    guard(|| match stream {
        Some(s) => rill_core::synchronize(s.inner).or_throw(),
        None => {
            rill_core::synchronize_all();
            Ok(())
        }
    })
}
