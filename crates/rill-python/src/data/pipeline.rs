//! The `Buffer` and `Stream` classes of `rill.data`, its sources, and Python callbacks as
//! rill-data transforms.

use super::convert::{boxed, from_sample, sample_class, to_host, to_py_err, to_sample};
use crate::array::PyArray;
use crate::errors::{guard, OrRaise};
use crate::stream::StreamArg;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rill_core::{Array, DeviceType, StreamOrDevice};
use rill_data::{
    BatchSpec, CharTrie, Error, HostArray, ImageSize, KeyFn, RefillFn, Result as DataResult,
    Sample, SampleFn, Stream, StreamNode, TarIndex, Transforms,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The seed of the next shuffle made without one: a fixed sequence from `set_state` (1234 at
/// start, as mlx-data), so a script that builds the same pipeline gets the same orders.
static STATE: AtomicU64 = AtomicU64::new(1234);

fn next_seed() -> u64 {
    // splitmix64: each call advances the state and mixes it.
    let mut z = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sets the state that shuffles made without a seed draw their seeds from.
#[pyfunction]
fn set_state(seed: u64) {
    STATE.store(seed, Ordering::Relaxed);
}

fn raise<T>(py: Python<'_>, r: DataResult<T>) -> PyResult<T> {
    r.map_err(|e| to_py_err(py, e))
}

/// `load_image`'s `format`: mlx-data documents it and ignores it; rill takes "RGB" (colour as 3
/// channels, grey as 1, alpha dropped: what mlx-data does) and refuses the others rather than
/// ignore them.
fn image_format(format: &str) -> PyResult<()> {
    if format == "RGB" {
        Ok(())
    } else {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "load_image: format {format:?} is not supported (only \"RGB\")"
        )))
    }
}

/// A vocabulary for `tokenize` (mlx-data's `CharTrie`): tokens are bytes (a `str` is taken as
/// its UTF-8 bytes, a list as one byte per character).
#[pyclass(name = "CharTrie", module = "rill.data")]
pub struct PyCharTrie(CharTrie);

fn token_bytes(token: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = token.extract::<String>() {
        return Ok(s.into_bytes());
    }
    if let Ok(b) = token.extract::<Vec<u8>>() {
        if token.is_instance_of::<pyo3::types::PyBytes>() {
            return Ok(b);
        }
    }
    if let Ok(chars) = token.extract::<Vec<char>>() {
        return chars
            .iter()
            .map(|&c| {
                u8::try_from(c as u32).map_err(|_| {
                    pyo3::exceptions::PyValueError::new_err(format!(
                    "a token given as a list holds one byte per character, and {c:?} is not one"
                ))
                })
            })
            .collect();
    }
    Err(PyTypeError::new_err(
        "a token is a str, bytes or a list of characters",
    ))
}

#[pymethods]
impl PyCharTrie {
    #[new]
    fn new() -> Self {
        PyCharTrie(CharTrie::new())
    }
    /// Adds `token` (with `id`, or the number of tokens so far when `id` < 0) and returns its id
    /// (mlx-data returns a node whose `.id` this is); a token already there keeps its id.
    #[pyo3(signature = (token, id = -1))]
    fn insert(&mut self, token: &Bound<'_, PyAny>, id: i64) -> PyResult<i64> {
        let t = token_bytes(token)?;
        self.0
            .insert(&t, (id >= 0).then_some(id))
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("CharTrie.insert: {e}")))
    }
    /// The id of `token`, or None.
    fn search(&self, token: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
        Ok(self.0.search(&token_bytes(token)?))
    }
    fn key_bytes<'py>(
        &self,
        py: Python<'py>,
        id: i64,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let k = self.0.key(id).ok_or_else(|| {
            pyo3::exceptions::PyKeyError::new_err(format!("no token has the id {id}"))
        })?;
        Ok(pyo3::types::PyBytes::new(py, k))
    }
    /// The token as text (its bytes decoded as UTF-8, invalid bytes replaced).
    fn key_string(&self, py: Python<'_>, id: i64) -> PyResult<String> {
        let b = self.key_bytes(py, id)?;
        Ok(String::from_utf8_lossy(b.as_bytes()).into_owned())
    }
    /// The token as a list of one-byte characters (mlx-data's `key`).
    fn key(&self, py: Python<'_>, id: i64) -> PyResult<Vec<char>> {
        let b = self.key_bytes(py, id)?;
        Ok(b.as_bytes().iter().map(|&c| c as char).collect())
    }
    fn num_keys(&self) -> usize {
        self.0.num_keys()
    }
}

/// `tokenize`'s `mode`: only the shortest (lightest) cut; mlx-data's random cut is not built.
fn tokenize_mode(mode: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(m) = mode else { return Ok(()) };
    let name = if let Ok(s) = m.extract::<String>() {
        s
    } else if let Ok(n) = m.getattr("name").and_then(|n| n.extract::<String>()) {
        n
    } else {
        m.extract::<i64>().map(|i| {
            if i == 0 {
                "shortest".to_string()
            } else {
                i.to_string()
            }
        })?
    };
    if name.eq_ignore_ascii_case("shortest") {
        Ok(())
    } else {
        Err(pyo3::exceptions::PyValueError::new_err(format!(
            "tokenize: mode {name:?} is not supported (only TokenizeMode.Shortest)"
        )))
    }
}

fn key_fn(f: Py<PyAny>) -> KeyFn {
    Arc::new(move |a: &HostArray| {
        Python::attach(|py| -> PyResult<HostArray> {
            let x = super::convert::to_numpy(py, a.clone())?;
            let r = f.bind(py).call1((x,))?;
            to_host(&r, "key_transform's result")
        })
        .map_err(boxed)
    })
}

fn sample_fn(f: Py<PyAny>) -> SampleFn {
    Arc::new(move |s: Sample| {
        Python::attach(|py| -> PyResult<Sample> {
            let d = from_sample(py, s)?;
            let r = f.bind(py).call1((d,))?;
            to_sample(&r, "sample_transform's result")
        })
        .map_err(boxed)
    })
}

fn refill_fn(f: Py<PyAny>) -> RefillFn {
    Arc::new(move |b: rill_data::Buffer| {
        Python::attach(|py| -> PyResult<rill_data::Buffer> {
            let r = f.bind(py).call1((PyBuffer(b),))?;
            let out = r.cast::<PyBuffer>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "buffered: on_refill must return a Buffer, not {}",
                    r.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            Ok(out.get().0.clone())
        })
        .map_err(boxed)
    })
}

/// Nested archives (tars inside the tar) are not read: refused with a clear error.
fn refuse_nested(op: &str, nested: bool) -> PyResult<()> {
    if nested {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{op}: nested=True (tar archives inside the archive) is not supported; extract the inner archives first"
        )));
    }
    Ok(())
}

/// `key` of `filter_key`: a str or a list of them.
fn keys(key: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = key.extract::<String>() {
        return Ok(vec![s]);
    }
    key.extract::<Vec<String>>()
        .map_err(|_| PyTypeError::new_err("filter_key: key must be a str or a list of str"))
}

fn bound(v: i64) -> Option<usize> {
    (v >= 0).then_some(v as usize)
}

fn batch_spec(
    pad: Option<&Bound<'_, PyDict>>,
    dim: Option<&Bound<'_, PyDict>>,
) -> PyResult<BatchSpec> {
    let mut spec = BatchSpec::default();
    if let Some(p) = pad {
        for (k, v) in p.iter() {
            spec.pad.insert(k.extract()?, v.extract()?);
        }
    }
    if let Some(d) = dim {
        for (k, v) in d.iter() {
            spec.dim.insert(k.extract()?, v.extract()?);
        }
    }
    Ok(spec)
}

/// A finite, indexable sequence of samples (mlx-data's `Buffer`).
#[pyclass(name = "Buffer", module = "rill.data", frozen)]
pub struct PyBuffer(rill_data::Buffer);

/// A stream of samples, pulled one at a time (mlx-data's `Stream`); iterate it, `reset()` it.
#[pyclass(name = "Stream", module = "rill.data", frozen)]
pub struct PyStream(Stream);

/// The transforms both classes have, with mlx-data's arguments.
macro_rules! transforms {
    ($ty:ident) => {
        #[pymethods]
        impl $ty {
            /// `output_key` (or `key`) becomes `func(sample[key])`, a NumPy array in and out.
            #[pyo3(signature = (key, func, output_key = ""))]
            fn key_transform(&self, key: &str, func: Py<PyAny>, output_key: &str) -> Self {
                $ty(self.0.key_transform(key, output_key, key_fn(func)))
            }
            /// Each sample becomes `func(sample)`; an empty dict drops it.
            fn sample_transform(&self, func: Py<PyAny>) -> Self {
                $ty(self.0.sample_transform(sample_fn(func)))
            }
            /// Keep only `key` (a str or a list), or drop it with `remove=True`.
            #[pyo3(signature = (key, remove = false))]
            fn filter_key(&self, key: &Bound<'_, PyAny>, remove: bool) -> PyResult<Self> {
                let k = keys(key)?;
                let k: Vec<&str> = k.iter().map(|s| s.as_str()).collect();
                Ok($ty(self.0.filter_key(&k, remove)))
            }
            fn rename_key(&self, old_key: &str, new_key: &str) -> Self {
                $ty(self.0.rename_key(old_key, new_key))
            }
            #[pyo3(signature = (key, dim, lpad, rpad, pad_value = 0.0))]
            fn pad(&self, key: &str, dim: isize, lpad: usize, rpad: usize, pad_value: f64) -> Self {
                $ty(self.0.pad(key, dim, lpad, rpad, pad_value))
            }
            #[pyo3(signature = (key, dim, size, pad_value = 0.0))]
            fn pad_to_size(&self, key: &str, dim: isize, size: usize, pad_value: f64) -> Self {
                $ty(self.0.pad_to_size(key, dim, size, pad_value))
            }
            #[pyo3(signature = (key, dim, size, pad_value = 0.0))]
            fn pad_to_multiple(
                &self,
                py: Python<'_>,
                key: &str,
                dim: isize,
                size: usize,
                pad_value: f64,
            ) -> PyResult<Self> {
                raise(py, self.0.pad_to_multiple(key, dim, size, pad_value)).map($ty)
            }
            #[pyo3(signature = (key, dim = None))]
            fn squeeze(&self, key: &str, dim: Option<isize>) -> Self {
                $ty(self.0.squeeze(key, dim))
            }
            /// `output_key` becomes the shape of `key` (int64), or its size along `dim`.
            #[pyo3(signature = (key, output_key, dim = None))]
            fn shape(&self, key: &str, output_key: &str, dim: Option<isize>) -> Self {
                $ty(self.0.shape(key, output_key, dim))
            }
            /// Keep samples with `low <= key.shape[dim] <= high` (-1: no bound).
            #[pyo3(signature = (key, dim, low = -1, high = -1))]
            fn filter_by_shape(&self, key: &str, dim: isize, low: i64, high: i64) -> Self {
                $ty(self.0.filter_by_shape(key, dim, bound(low), bound(high)))
            }
            /// `output_key` (or `key`) becomes the bytes (uint8) of the file `key` names.
            #[pyo3(signature = (key, prefix = "", output_key = ""))]
            fn load_file(&self, key: &str, prefix: &str, output_key: &str) -> Self {
                $ty(self.0.load_file(key, prefix, output_key))
            }
            /// `output_key` (or `key`) becomes the array of the `.npy` file `key` names, or of
            /// the `.npy` bytes it holds (`from_memory=True`).
            #[pyo3(signature = (key, prefix = "", from_memory = false, output_key = ""))]
            fn load_numpy(&self, key: &str, prefix: &str, from_memory: bool, output_key: &str) -> Self {
                $ty(self.0.load_numpy(key, prefix, from_memory, output_key))
            }
            /// `okey` becomes the bytes of the member of the tar archive `tarfile` that `ikey`
            /// names (below `prefix`). The archive's index is read once, here.
            #[pyo3(signature = (tarfile, ikey, okey, prefix = "", nested = false, num_threads = 1))]
            #[allow(clippy::too_many_arguments)] // mlx-data's signature
            fn read_from_tar(
                &self,
                py: Python<'_>,
                tarfile: &str,
                ikey: &str,
                okey: &str,
                prefix: &str,
                nested: bool,
                num_threads: usize,
            ) -> PyResult<Self> {
                let _ = num_threads; // the index is read by one thread; reads are positioned
                refuse_nested("read_from_tar", nested)?;
                let r = py.detach(|| self.0.read_from_tar(tarfile, ikey, okey, prefix));
                raise(py, r).map($ty)
            }

            /// `output_key` (or `key`) becomes the pixels (uint8, height x width x channels: 3, or
            /// 1 for grey) of the PNG or JPEG file `key` names, or of the encoded bytes it holds
            /// (`from_memory=True`); `info=True`: its `[width, height]` (int64) instead.
            #[pyo3(signature = (key, prefix = "", info = false, format = "RGB", from_memory = false, output_key = ""))]
            fn load_image(
                &self,
                key: &str,
                prefix: &str,
                info: bool,
                format: &str,
                from_memory: bool,
                output_key: &str,
            ) -> PyResult<Self> {
                image_format(format)?;
                Ok($ty(self.0.load_image(key, prefix, info, from_memory, output_key)))
            }
            /// The image resized to `w` x `h` (a bilinear filter that averages when shrinking).
            #[pyo3(signature = (key, w, h, output_key = ""))]
            fn image_resize(&self, key: &str, w: usize, h: usize, output_key: &str) -> Self {
                $ty(self.0.image_resize(key, ImageSize::Exact { width: w, height: h }, output_key))
            }
            /// The image resized so that its smaller side is `size`, keeping its aspect ratio.
            #[pyo3(signature = (key, size, output_key = ""))]
            fn image_resize_smallest_side(&self, key: &str, size: usize, output_key: &str) -> Self {
                $ty(self.0.image_resize(key, ImageSize::SmallestSide(size), output_key))
            }
            /// The `w` x `h` middle of the image.
            #[pyo3(signature = (key, w, h, output_key = ""))]
            fn image_center_crop(&self, key: &str, w: usize, h: usize, output_key: &str) -> Self {
                $ty(self.0.image_center_crop(key, w, h, output_key))
            }
            /// A `w` x `h` crop at a random place, drawn from `seed` (or the `set_state`
            /// sequence) and the sample's index, so the same on any number of threads.
            #[pyo3(signature = (key, w, h, output_key = "", seed = None))]
            fn image_random_crop(&self, key: &str, w: usize, h: usize, output_key: &str, seed: Option<u64>) -> Self {
                $ty(self.0.image_random_crop(key, w, h, seed.unwrap_or_else(next_seed), output_key))
            }

            /// `output_key` (or `key`) becomes the ids (int64) of the fewest tokens of `trie`
            /// (or the lightest, with one score per id) that cut the bytes of `key`.
            #[pyo3(signature = (key, trie, mode = None, ignore_unk = false, trie_key_scores = Vec::new(), output_key = ""))]
            #[allow(clippy::too_many_arguments)] // mlx-data's signature
            fn tokenize(
                &self,
                py: Python<'_>,
                key: &str,
                trie: PyRef<'_, PyCharTrie>,
                mode: Option<&Bound<'_, PyAny>>,
                ignore_unk: bool,
                trie_key_scores: Vec<f64>,
                output_key: &str,
            ) -> PyResult<Self> {
                tokenize_mode(mode)?;
                raise(py, self.0.tokenize(key, &trie.0, ignore_unk, &trie_key_scores, output_key)).map($ty)
            }

            // mlx-data's `*_if` forms: the step when `cond` is true, the pipeline unchanged
            // otherwise (a condition known when the pipeline is built).
            #[pyo3(signature = (cond, key, func, output_key = ""))]
            fn key_transform_if(&self, cond: bool, key: &str, func: Py<PyAny>, output_key: &str) -> Self {
                if cond { self.key_transform(key, func, output_key) } else { $ty(self.0.clone()) }
            }
            fn sample_transform_if(&self, cond: bool, func: Py<PyAny>) -> Self {
                if cond { self.sample_transform(func) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, remove = false))]
            fn filter_key_if(&self, cond: bool, key: &Bound<'_, PyAny>, remove: bool) -> PyResult<Self> {
                if cond { self.filter_key(key, remove) } else { Ok($ty(self.0.clone())) }
            }
            fn rename_key_if(&self, cond: bool, old_key: &str, new_key: &str) -> Self {
                if cond { self.rename_key(old_key, new_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, dim, lpad, rpad, pad_value = 0.0))]
            fn pad_if(&self, cond: bool, key: &str, dim: isize, lpad: usize, rpad: usize, pad_value: f64) -> Self {
                if cond { self.pad(key, dim, lpad, rpad, pad_value) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, dim, size, pad_value = 0.0))]
            fn pad_to_size_if(&self, cond: bool, key: &str, dim: isize, size: usize, pad_value: f64) -> Self {
                if cond { self.pad_to_size(key, dim, size, pad_value) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, dim, size, pad_value = 0.0))]
            fn pad_to_multiple_if(
                &self,
                py: Python<'_>,
                cond: bool,
                key: &str,
                dim: isize,
                size: usize,
                pad_value: f64,
            ) -> PyResult<Self> {
                if cond { self.pad_to_multiple(py, key, dim, size, pad_value) } else { Ok($ty(self.0.clone())) }
            }
            #[pyo3(signature = (cond, key, dim = None))]
            fn squeeze_if(&self, cond: bool, key: &str, dim: Option<isize>) -> Self {
                if cond { self.squeeze(key, dim) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, output_key, dim = None))]
            fn shape_if(&self, cond: bool, key: &str, output_key: &str, dim: Option<isize>) -> Self {
                if cond { self.shape(key, output_key, dim) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, dim, low = -1, high = -1))]
            fn filter_by_shape_if(&self, cond: bool, key: &str, dim: isize, low: i64, high: i64) -> Self {
                if cond { self.filter_by_shape(key, dim, low, high) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, prefix = "", output_key = ""))]
            fn load_file_if(&self, cond: bool, key: &str, prefix: &str, output_key: &str) -> Self {
                if cond { self.load_file(key, prefix, output_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, prefix = "", from_memory = false, output_key = ""))]
            fn load_numpy_if(&self, cond: bool, key: &str, prefix: &str, from_memory: bool, output_key: &str) -> Self {
                if cond { self.load_numpy(key, prefix, from_memory, output_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, prefix = "", info = false, format = "RGB", from_memory = false, output_key = ""))]
            #[allow(clippy::too_many_arguments)] // mlx-data's signature
            fn load_image_if(
                &self,
                cond: bool,
                key: &str,
                prefix: &str,
                info: bool,
                format: &str,
                from_memory: bool,
                output_key: &str,
            ) -> PyResult<Self> {
                if cond { self.load_image(key, prefix, info, format, from_memory, output_key) } else { Ok($ty(self.0.clone())) }
            }
            #[pyo3(signature = (cond, key, w, h, output_key = ""))]
            fn image_resize_if(&self, cond: bool, key: &str, w: usize, h: usize, output_key: &str) -> Self {
                if cond { self.image_resize(key, w, h, output_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, size, output_key = ""))]
            fn image_resize_smallest_side_if(&self, cond: bool, key: &str, size: usize, output_key: &str) -> Self {
                if cond { self.image_resize_smallest_side(key, size, output_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, w, h, output_key = ""))]
            fn image_center_crop_if(&self, cond: bool, key: &str, w: usize, h: usize, output_key: &str) -> Self {
                if cond { self.image_center_crop(key, w, h, output_key) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, w, h, output_key = "", seed = None))]
            fn image_random_crop_if(&self, cond: bool, key: &str, w: usize, h: usize, output_key: &str, seed: Option<u64>) -> Self {
                if cond { self.image_random_crop(key, w, h, output_key, seed) } else { $ty(self.0.clone()) }
            }
            #[pyo3(signature = (cond, key, trie, mode = None, ignore_unk = false, trie_key_scores = Vec::new(), output_key = ""))]
            #[allow(clippy::too_many_arguments)] // mlx-data's signature
            fn tokenize_if(
                &self,
                py: Python<'_>,
                cond: bool,
                key: &str,
                trie: PyRef<'_, PyCharTrie>,
                mode: Option<&Bound<'_, PyAny>>,
                ignore_unk: bool,
                trie_key_scores: Vec<f64>,
                output_key: &str,
            ) -> PyResult<Self> {
                if cond {
                    self.tokenize(py, key, trie, mode, ignore_unk, trie_key_scores, output_key)
                } else {
                    Ok($ty(self.0.clone()))
                }
            }
            #[pyo3(signature = (cond, tarfile, ikey, okey, prefix = "", nested = false, num_threads = 1))]
            #[allow(clippy::too_many_arguments)]
            fn read_from_tar_if(
                &self,
                py: Python<'_>,
                cond: bool,
                tarfile: &str,
                ikey: &str,
                okey: &str,
                prefix: &str,
                nested: bool,
                num_threads: usize,
            ) -> PyResult<Self> {
                if cond {
                    self.read_from_tar(py, tarfile, ikey, okey, prefix, nested, num_threads)
                } else {
                    Ok($ty(self.0.clone()))
                }
            }
        }
    };
}

transforms!(PyBuffer);
transforms!(PyStream);

#[pymethods]
impl PyBuffer {
    fn __len__(&self) -> usize {
        self.0.len()
    }
    fn __getitem__<'py>(&self, py: Python<'py>, i: i64) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let r = py.detach(|| self.0.get(i));
            from_sample(py, raise(py, r)?)
        })
    }
    fn __iter__(&self) -> PyStream {
        PyStream(self.0.to_stream())
    }
    /// Batches of `batch_size` samples, ragged shapes padded to the largest with `pad[key]`
    /// (0 by default); a key in `dim` is concatenated along that dim instead of stacked.
    #[pyo3(signature = (batch_size, pad = None, dim = None))]
    fn batch(
        &self,
        py: Python<'_>,
        batch_size: usize,
        pad: Option<&Bound<'_, PyDict>>,
        dim: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        raise(py, self.0.batch(batch_size, batch_spec(pad, dim)?)).map(PyBuffer)
    }
    /// A random order of the samples, the same for the same seed.
    #[pyo3(signature = (seed = None))]
    fn shuffle(&self, seed: Option<u64>) -> Self {
        PyBuffer(self.0.shuffle(seed.unwrap_or_else(next_seed)))
    }
    fn perm(&self, py: Python<'_>, perm: Vec<i64>) -> PyResult<Self> {
        raise(py, self.0.perm(&perm)).map(PyBuffer)
    }
    fn partition(&self, py: Python<'_>, num_partitions: usize, partition: usize) -> PyResult<Self> {
        raise(py, self.0.partition(num_partitions, partition)).map(PyBuffer)
    }
    fn append(&self, other: &PyBuffer) -> Self {
        PyBuffer(self.0.append(&other.0))
    }
    /// Batches of samples of similar sizes, each with about `max_data_size` elements of `key`
    /// (padding included; -1: one batch of everything), smallest first.
    #[pyo3(signature = (key, max_data_size = -1, pad = None, dim = None))]
    fn dynamic_batch(
        &self,
        py: Python<'_>,
        key: &str,
        max_data_size: i64,
        pad: Option<&Bound<'_, PyDict>>,
        dim: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let spec = batch_spec(pad, dim)?;
        let r = py.detach(|| self.0.dynamic_batch(key, max_data_size, spec));
        raise(py, r).map(PyBuffer)
    }
    fn to_stream(&self) -> PyStream {
        PyStream(self.0.to_stream())
    }
    /// A stream computing `prefetch_size` samples ahead on `num_threads` threads, in order.
    fn ordered_prefetch(
        &self,
        py: Python<'_>,
        prefetch_size: usize,
        num_threads: usize,
    ) -> PyResult<PyStream> {
        raise(py, self.0.ordered_prefetch(prefetch_size, num_threads)).map(PyStream)
    }
}

#[pymethods]
impl PyStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| {
            let r = py.detach(|| self.0.next());
            match raise(py, r)? {
                Some(s) => from_sample(py, s).map(Some),
                None => Ok(None),
            }
        })
    }
    /// Back to the start (a shuffle draws its next order).
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let r = py.detach(|| self.0.reset());
            raise(py, r)
        })
    }
    /// The same samples, counted on a progress bar on stderr (samples per second; with `total`,
    /// a bar and the time left), drawn only when stderr is a terminal.
    #[pyo3(signature = (total = None, desc = ""))]
    fn progress(&self, total: Option<u64>, desc: &str) -> Self {
        PyStream(self.0.progress(total, desc))
    }
    /// Where the stream is, as a short list of ints (counters, a reader's byte offset; never
    /// samples) to save with a checkpoint. `restore` takes it back on a stream built the same
    /// way. A stream that cannot say where it is (a Python iterable, a stream's shuffle
    /// buffer, an unordered `prefetch`) raises ValueError.
    fn state(&self, py: Python<'_>) -> PyResult<Vec<u64>> {
        let r = py.detach(|| self.0.state());
        raise(py, r)
    }
    /// Goes to the position `state()` gave on a stream built the same way: the next sample is
    /// the one that came next there, and the ones before it are not read again.
    fn restore(&self, py: Python<'_>, state: Vec<u64>) -> PyResult<()> {
        guard(|| {
            let r = py.detach(|| self.0.restore(&state));
            raise(py, r)
        })
    }
    #[pyo3(signature = (batch_size, pad = None, dim = None))]
    fn batch(
        &self,
        py: Python<'_>,
        batch_size: usize,
        pad: Option<&Bound<'_, PyDict>>,
        dim: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        raise(py, self.0.batch(batch_size, batch_spec(pad, dim)?)).map(PyStream)
    }
    /// Gathers `buffer_size` samples, gives that `Buffer` to `on_refill` (which returns a
    /// buffer: shuffled, sorted, batched...), yields its samples, and starts again.
    #[pyo3(signature = (buffer_size, on_refill = None, num_threads = 1))]
    fn buffered(
        &self,
        py: Python<'_>,
        buffer_size: usize,
        on_refill: Option<Py<PyAny>>,
        num_threads: usize,
    ) -> PyResult<Self> {
        let f = on_refill.map(refill_fn);
        raise(py, self.0.buffered(buffer_size, f, num_threads)).map(PyStream)
    }
    /// Buffers of `buffer_size` samples cut into batches of similar sizes with about
    /// `max_data_size` elements of `key` each; `shuffle=True` shuffles the batches of each buffer.
    #[pyo3(signature = (buffer_size, key, max_data_size = -1, pad = None, dim = None, shuffle = false, num_threads = 1))]
    #[allow(clippy::too_many_arguments)]
    fn dynamic_batch(
        &self,
        py: Python<'_>,
        buffer_size: usize,
        key: &str,
        max_data_size: i64,
        pad: Option<&Bound<'_, PyDict>>,
        dim: Option<&Bound<'_, PyDict>>,
        shuffle: bool,
        num_threads: usize,
    ) -> PyResult<Self> {
        let spec = batch_spec(pad, dim)?;
        let seed = shuffle.then(next_seed);
        raise(
            py,
            self.0
                .dynamic_batch(buffer_size, key, max_data_size, spec, seed, num_threads),
        )
        .map(PyStream)
    }
    /// Computes `prefetch_size` samples ahead on `num_threads` threads (order may change).
    fn prefetch(&self, py: Python<'_>, prefetch_size: usize, num_threads: usize) -> PyResult<Self> {
        raise(py, self.0.prefetch(prefetch_size, num_threads)).map(PyStream)
    }
    /// Like `prefetch`, keeping the order.
    fn ordered_prefetch(
        &self,
        py: Python<'_>,
        prefetch_size: usize,
        num_threads: usize,
    ) -> PyResult<Self> {
        raise(py, self.0.ordered_prefetch(prefetch_size, num_threads)).map(PyStream)
    }
    /// A shuffle buffer of `buffer_size` samples.
    #[pyo3(signature = (buffer_size, seed = None))]
    fn shuffle(&self, py: Python<'_>, buffer_size: usize, seed: Option<u64>) -> PyResult<Self> {
        raise(
            py,
            self.0.shuffle(buffer_size, seed.unwrap_or_else(next_seed)),
        )
        .map(PyStream)
    }
    /// Start again `num_time` more times after the end (forever when <= 0).
    fn repeat(&self, num_time: i64) -> Self {
        PyStream(self.0.repeat(num_time))
    }
    fn partition(&self, py: Python<'_>, num_partitions: usize, partition: usize) -> PyResult<Self> {
        raise(py, self.0.partition(num_partitions, partition)).map(PyStream)
    }
    /// Batches as rill arrays already on `stream_or_device` (a stream of its own when a device
    /// is given), `prefetch_size` of them copied and evaluated ahead of the loop.
    #[pyo3(signature = (stream_or_device, prefetch_size = 2))]
    fn prefetch_to(
        &self,
        stream_or_device: StreamArg,
        prefetch_size: usize,
    ) -> PyResult<PyPrefetchTo> {
        guard(|| {
            if prefetch_size == 0 {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "prefetch_to: the prefetch size must be at least 1",
                ));
            }
            let target = match stream_or_device.0 {
                StreamOrDevice::Stream(s) => s,
                StreamOrDevice::Device(d) => rill_core::new_stream(d).or_raise()?,
                StreamOrDevice::Default => {
                    rill_core::new_stream(rill_core::default_device()).or_raise()?
                }
            };
            Ok(PyPrefetchTo {
                up: self.0.clone(),
                target,
                n: prefetch_size,
                ready: VecDeque::new(),
                error: None,
                done: false,
            })
        })
    }
    #[pyo3(signature = (key, size, stride, dim = -1))]
    fn sliding_window(
        &self,
        py: Python<'_>,
        key: &str,
        size: usize,
        stride: usize,
        dim: isize,
    ) -> PyResult<Self> {
        raise(py, self.0.sliding_window(key, size, stride, dim)).map(PyStream)
    }
}

/// The iterator `Stream.prefetch_to` returns: samples of rill arrays resident on its stream.
#[pyclass(name = "_PrefetchTo", module = "rill.data")]
pub struct PyPrefetchTo {
    up: Stream,
    target: rill_core::Stream,
    n: usize,
    /// Samples copied (and being evaluated) ahead, in order.
    ready: VecDeque<Vec<(String, Array)>>,
    /// An error met while reading ahead, raised after the samples before it.
    error: Option<PyErr>,
    done: bool,
}

/// A sample's arrays as rill arrays on `target`: made from the host bytes, copied to the
/// target's device when it is not the CPU, and submitted for evaluation (not waited for).
fn upload(s: Sample, target: rill_core::Stream) -> rill_core::Result<Vec<(String, Array)>> {
    let mut v = Vec::with_capacity(s.len());
    for (k, a) in s {
        let host = Array::from_bytes(a.bytes(), a.dtype(), a.shape(), target)?;
        let on = if target.device().kind == DeviceType::Cpu {
            host
        } else {
            rill_core::ops::copy(&host, target)?
        };
        v.push((k, on));
    }
    let refs: Vec<&Array> = v.iter().map(|(_, a)| a).collect();
    // Submitted, not waited for: the loop reads the arrays when their work is done.
    let _ = rill_core::async_eval(&refs);
    Ok(v)
}

#[pymethods]
impl PyPrefetchTo {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| {
            while !self.done && self.error.is_none() && self.ready.len() < self.n {
                let up = self.up.clone();
                let target = self.target;
                let r = py.detach(move || up.next().map(|s| s.map(|s| upload(s, target))));
                match r {
                    Ok(None) => self.done = true,
                    Ok(Some(Ok(v))) => self.ready.push_back(v),
                    Ok(Some(Err(e))) => self.error = Some(crate::errors::to_py_err(e)),
                    Err(e) => self.error = Some(to_py_err(py, e)),
                }
            }
            match self.ready.pop_front() {
                Some(v) => {
                    let d = sample_class(py)?.call0()?;
                    for (k, a) in v {
                        d.set_item(k, Py::new(py, PyArray::new(a))?)?;
                    }
                    Ok(Some(d))
                }
                None => match self.error.take() {
                    Some(e) => Err(e),
                    None => Ok(None),
                },
            }
        })
    }
}

/// A buffer of the given samples (dicts of arrays).
#[pyfunction]
fn buffer_from_vector(data: &Bound<'_, PyAny>) -> PyResult<PyBuffer> {
    guard(|| {
        let list = data
            .cast::<PyList>()
            .map_err(|_| PyTypeError::new_err("buffer_from_vector: expected a list of dicts"))?;
        let samples = list
            .iter()
            .enumerate()
            .map(|(i, d)| to_sample(&d, &format!("buffer_from_vector, sample {i}")))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyBuffer(rill_data::Buffer::from_vec(samples)))
    })
}

/// Samples from a Python iterable: `factory()` makes it, again at each `reset`.
struct PyIterable {
    factory: Py<PyAny>,
    /// The iterator and the number of samples taken. Locked before the GIL is taken (mod.rs).
    state: Mutex<Option<Py<PyAny>>>,
    count: AtomicUsize,
}

impl StreamNode for PyIterable {
    fn next(&self) -> DataResult<Option<Sample>> {
        let mut st = rill_lock(&self.state);
        let index = self.count.load(Ordering::Relaxed);
        Python::attach(|py| -> PyResult<Option<Sample>> {
            if st.is_none() {
                let it = self.factory.bind(py).call0()?.try_iter()?;
                *st = Some(it.into_any().unbind());
            }
            let it = st.as_ref().expect("made above").bind(py);
            match it.call_method0("__next__") {
                Ok(v) => to_sample(&v, "stream_python_iterable").map(Some),
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .inspect(|r| {
            if r.is_some() {
                self.count.fetch_add(1, Ordering::Relaxed);
            }
        })
        .map_err(|e| Error::Callback {
            op: "stream_python_iterable",
            key: String::new(),
            index,
            source: boxed(e),
        })
    }
    fn reset(&self) -> DataResult<()> {
        *rill_lock(&self.state) = None;
        self.count.store(0, Ordering::Relaxed);
        Ok(())
    }
}

fn rill_lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A stream over the iterable that `iterable_factory()` returns (called again at `reset`).
#[pyfunction]
fn stream_python_iterable(iterable_factory: Py<PyAny>) -> PyStream {
    PyStream(Stream::from_node(PyIterable {
        factory: iterable_factory,
        state: Mutex::new(None),
        count: AtomicUsize::new(0),
    }))
}

/// One sample per line of the file: `{key: the line's bytes}`.
#[pyfunction]
fn stream_line_reader(py: Python<'_>, file: &str, key: &str) -> PyResult<PyStream> {
    raise(py, rill_data::line_reader(file, key)).map(PyStream)
}

fn one_byte(what: &str, s: &str) -> PyResult<u8> {
    match s.as_bytes() {
        [b] => Ok(*b),
        _ => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "stream_csv_reader: {what} must be one ASCII character, got {s:?}"
        ))),
    }
}

/// One sample per CSV record of the file; the header names the keys; values are bytes.
#[pyfunction]
#[pyo3(signature = (file, sep = ",", quote = "\""))]
fn stream_csv_reader(py: Python<'_>, file: &str, sep: &str, quote: &str) -> PyResult<PyStream> {
    let (s, q) = (one_byte("sep", sep)?, one_byte("quote", quote)?);
    raise(py, rill_data::csv_reader(file, s, q)).map(PyStream)
}

/// `stream_csv_reader` over a string.
#[pyfunction]
#[pyo3(signature = (content, sep = ",", quote = "\""))]
fn stream_csv_reader_from_string(
    py: Python<'_>,
    content: &str,
    sep: &str,
    quote: &str,
) -> PyResult<PyStream> {
    let (s, q) = (one_byte("sep", sep)?, one_byte("quote", quote)?);
    raise(py, rill_data::csv_reader_from_string(content, s, q)).map(PyStream)
}

/// A buffer of one sample per regular file of the tar archive `file`: `{"file": its name}`.
#[pyfunction]
#[pyo3(signature = (file, nested = false, num_threads = 1))]
fn files_from_tar(
    py: Python<'_>,
    file: &str,
    nested: bool,
    num_threads: usize,
) -> PyResult<PyBuffer> {
    let _ = num_threads; // reading the headers is one sequential pass
    refuse_nested("files_from_tar", nested)?;
    let r = py.detach(|| TarIndex::open(std::path::Path::new(file), "files_from_tar"));
    Ok(PyBuffer(raise(py, r)?.files()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBuffer>()?;
    m.add_class::<PyStream>()?;
    m.add_class::<PyPrefetchTo>()?;
    m.add_class::<PyCharTrie>()?;
    m.add_function(wrap_pyfunction!(buffer_from_vector, m)?)?;
    m.add_function(wrap_pyfunction!(stream_python_iterable, m)?)?;
    m.add_function(wrap_pyfunction!(stream_line_reader, m)?)?;
    m.add_function(wrap_pyfunction!(stream_csv_reader, m)?)?;
    m.add_function(wrap_pyfunction!(stream_csv_reader_from_string, m)?)?;
    m.add_function(wrap_pyfunction!(set_state, m)?)?;
    m.add_function(wrap_pyfunction!(files_from_tar, m)?)?;
    Ok(())
}
