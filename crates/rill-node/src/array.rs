//! The `Array` class: a handle to a lazy rill array. Values are read back through
//! `toFloat64Array` and `toBytes`; `node/index.js` builds `item`, `tolist`, `toTypedArray` and
//! `toString` on them.

use crate::convert;
use crate::errors::{guard, OrThrow};
use crate::external::External;
use crate::stream::JsStream;
use napi::bindgen_prelude::{Buffer, Float64Array};
use napi_derive::napi;
use rill_core::Array;

/// A lazily evaluated n-dimensional array. Made by `array` and the ops (there is no constructor).
#[napi(js_name = "Array")]
pub struct JsArray {
    pub(crate) inner: Array,
    /// What this object told V8 it keeps alive (`external.rs`).
    external: External,
    /// Set by `dispose`: `inner` is then a failed stand-in holding no data.
    disposed: bool,
}

impl From<Array> for JsArray {
    fn from(inner: Array) -> Self {
        // An absurd shape's byte count overflows; such an array never holds memory anyway.
        let bytes = inner.size().checked_mul(inner.itemsize()).unwrap_or(0);
        JsArray {
            inner,
            external: External::report(bytes),
            disposed: false,
        }
    }
}

#[napi]
impl JsArray {
    #[napi(getter)]
    pub fn shape(&self) -> Vec<i64> {
        self.inner.shape().iter().map(|&d| d as i64).collect()
    }
    /// The dtype's name, as MLX spells it ('float32', 'int32', 'bool', ...).
    #[napi(getter)]
    pub fn dtype(&self) -> String {
        self.inner.dtype().name().to_string()
    }
    #[napi(getter)]
    pub fn ndim(&self) -> u32 {
        self.inner.ndim() as u32
    }
    #[napi(getter)]
    pub fn size(&self) -> napi::Result<f64> {
        // Guarded: the element count of an absurd shape overflows (a panic in debug builds).
        guard(|| Ok(self.inner.size() as f64))
    }
    #[napi(getter)]
    pub fn itemsize(&self) -> u32 {
        self.inner.itemsize() as u32
    }
    #[napi(getter)]
    pub fn nbytes(&self) -> napi::Result<f64> {
        guard(|| Ok(self.inner.nbytes() as f64))
    }
    /// The stream this array is computed on.
    #[napi(getter)]
    pub fn stream(&self) -> JsStream {
        self.inner.stream().into()
    }
    /// True once the array's value can be read without waiting (on the GPU: its kernels have
    /// finished, not only been queued).
    #[napi(getter)]
    pub fn is_available(&self) -> bool {
        self.inner.is_ready()
    }
    /// Releases this object's hold on its data now instead of when V8 collects it (a server that
    /// makes large arrays per request should not wait for the garbage collector). Afterwards the
    /// object keeps its shape, dtype and stream, and any use of it (reading it, evaluating it, an
    /// op built on it) fails with an error that says it was disposed. The memory is freed once
    /// nothing else needs it: lazy arrays already built from this one keep their input. Calling
    /// it again does nothing.
    #[napi]
    pub fn dispose(&mut self) {
        if self.disposed {
            return;
        }
        let msg = format!(
            "this array (shape {:?}, dtype {}) was disposed: it cannot be read or used",
            self.inner.shape(),
            self.inner.dtype().name()
        );
        self.inner = self
            .inner
            .failed_like(rill_core::Error::Runtime { op: "dispose", msg });
        self.external = External::report(0);
        self.disposed = true;
    }
    /// True once `dispose()` was called.
    #[napi(getter)]
    pub fn is_disposed(&self) -> bool {
        self.disposed
    }
    /// The elements of a complex64 array as float64 pairs, row-major: `[re0, im0, re1, im1, ...]`
    /// (evaluating first; blocks until done). `tolist` and `item` build `{ re, im }` from it.
    #[napi]
    pub fn to_complex_parts(&self) -> napi::Result<Float64Array> {
        guard(|| {
            if self.inner.dtype() != rill_core::Dtype::Complex64 {
                return Err(crate::errors::type_error(format!(
                    "[toComplexParts] needs a complex64 array, this one is {}",
                    self.inner.dtype().name()
                )));
            }
            let values = self
                .inner
                .to_vec::<rill_core::num_complex::Complex32>()
                .or_throw()?;
            let parts: Vec<f64> = values
                .iter()
                .flat_map(|c| [c.re as f64, c.im as f64])
                .collect();
            Ok(Float64Array::new(parts))
        })
    }
    /// Every element as a float64, row-major (evaluating first; blocks until done).
    #[napi]
    pub fn to_float64_array(&self) -> napi::Result<Float64Array> {
        guard(|| Ok(Float64Array::new(self.inner.to_vec::<f64>().or_throw()?)))
    }
    /// Every element as bytes of `hostDtype`, row-major (evaluating first; blocks until done).
    #[napi]
    pub fn to_bytes(&self) -> napi::Result<Buffer> {
        guard(|| Ok(convert::to_bytes(&self.inner)?.into()))
    }
    /// The dtype `toBytes` writes: the array's own, with float16 and bfloat16 widened to float32.
    #[napi(getter)]
    pub fn host_dtype(&self) -> String {
        convert::host_dtype(self.inner.dtype()).name().to_string()
    }
}
