//! The per-sample steps that buffers and streams share. A [`Transform`] is plain data (plus the
//! user's callbacks); [`Transforms`] gives both pipelines the same builder methods, with
//! mlx-data's names. A transform is pure: applying it to a sample touches nothing else, so
//! streams run it outside their locks, on as many threads as pull from them.

use crate::array::{filled, normalize_dim, place, HostArray};
use crate::error::{argument, BoxError, Error, Result};
use crate::image;
use crate::load::{load_file, load_numpy, TarIndex};
use crate::sample::{get, missing, Sample};
use crate::tokenize::{tokenize, CharTrie};
use rill_core::Dtype;
use std::sync::Arc;

/// A user function of one array.
pub type KeyFn = Arc<dyn Fn(&HostArray) -> std::result::Result<HostArray, BoxError> + Send + Sync>;
/// A user function of a whole sample (returning an empty sample filters it out).
pub type SampleFn = Arc<dyn Fn(Sample) -> std::result::Result<Sample, BoxError> + Send + Sync>;

#[derive(Clone)]
pub enum Transform {
    /// `output_key` (or `key` when empty) becomes `f(sample[key])`.
    Key {
        key: String,
        output_key: String,
        f: KeyFn,
    },
    Sample(SampleFn),
    /// Keep only `keys` (`remove`: drop them instead).
    FilterKey {
        keys: Vec<String>,
        remove: bool,
    },
    RenameKey {
        from: String,
        to: String,
    },
    /// `lpad` and `rpad` elements of `value` before and after along `dim`.
    Pad {
        key: String,
        dim: isize,
        lpad: usize,
        rpad: usize,
        value: f64,
    },
    /// Pad at the end of `dim` up to `size` (a longer array is left as it is, as in mlx-data).
    PadToSize {
        key: String,
        dim: isize,
        size: usize,
        value: f64,
    },
    /// Pad at the end of `dim` up to the next multiple of `multiple`.
    PadToMultiple {
        key: String,
        dim: isize,
        multiple: usize,
        value: f64,
    },
    /// Drop `dim` (which must be 1), or every dim of size 1.
    Squeeze {
        key: String,
        dim: Option<isize>,
    },
    /// `output_key` becomes the shape of `key` (int64), or its size along `dim` (a 0-d int64).
    Shape {
        key: String,
        output_key: String,
        dim: Option<isize>,
    },
    /// Keep samples whose size along `dim` is within `low..=high` (each bound optional).
    FilterByShape {
        key: String,
        dim: isize,
        low: Option<usize>,
        high: Option<usize>,
    },
    /// `output_key` (or `key`) becomes the bytes of the file that `key` names, below `prefix`.
    LoadFile {
        key: String,
        prefix: String,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes the array of the `.npy` file that `key` names, or of the
    /// `.npy` bytes it holds (`from_memory`).
    LoadNumpy {
        key: String,
        prefix: String,
        from_memory: bool,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes the pixels (uint8, height x width x channels) of the PNG
    /// or JPEG file that `key` names, or of the encoded bytes it holds (`from_memory`); with
    /// `info`, its `[width, height]` (int64) instead.
    LoadImage {
        key: String,
        prefix: String,
        info: bool,
        from_memory: bool,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes the image resized (`image.rs` says with which filter).
    ImageResize {
        key: String,
        size: ImageSize,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes the `width` x `height` middle of the image.
    ImageCenterCrop {
        key: String,
        width: usize,
        height: usize,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes a `width` x `height` crop of the image at a place drawn
    /// from `seed` and the sample's index.
    ImageRandomCrop {
        key: String,
        width: usize,
        height: usize,
        seed: u64,
        output_key: String,
    },
    /// `output_key` (or `key`) becomes the ids (int64) of the tokens of `trie` that cut the bytes
    /// of `key` most cheaply (`tokenize.rs`).
    Tokenize {
        key: String,
        trie: Arc<CharTrie>,
        ignore_unk: bool,
        scores: Arc<Vec<f64>>,
        output_key: String,
    },
    /// `output_key` becomes the bytes of the member of `tar` that `key` names, below `prefix`.
    ReadFromTar {
        tar: Arc<TarIndex>,
        key: String,
        prefix: String,
        output_key: String,
    },
}

/// The size an image is resized to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageSize {
    /// Exactly `width` x `height`.
    Exact { width: usize, height: usize },
    /// The smaller side becomes this, the other keeps the aspect ratio.
    SmallestSide(usize),
}

/// `output_key`, or `key` when it is empty (mlx-data's convention: overwrite the input).
fn out_key<'a>(key: &'a String, output_key: &'a String) -> &'a String {
    if output_key.is_empty() {
        key
    } else {
        output_key
    }
}

fn dim_of(a: &HostArray, dim: isize, op: &'static str, key: &str, index: usize) -> Result<usize> {
    normalize_dim(dim, a.ndim()).ok_or_else(|| Error::Sample {
        op,
        key: key.to_string(),
        index,
        detail: format!("dim {dim} is out of range for shape {:?}", a.shape()),
    })
}

/// `a` with `lo` and `hi` elements of `value` added along `dim`.
pub(crate) fn pad_dim(a: &HostArray, dim: usize, lo: usize, hi: usize, value: f64) -> HostArray {
    if lo == 0 && hi == 0 {
        return a.clone();
    }
    let mut shape = a.shape().to_vec();
    shape[dim] += lo + hi;
    let mut out = filled(a.dtype(), shape.iter().product(), value);
    let mut offset = vec![0; shape.len()];
    offset[dim] = lo;
    place(a, &mut out, &shape, &offset);
    HostArray::new(a.dtype(), shape, out).expect("the padded shape matches its bytes")
}

impl Transform {
    /// The step's name, as errors print it.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Key { .. } => "key_transform",
            Transform::Sample(_) => "sample_transform",
            Transform::FilterKey { .. } => "filter_key",
            Transform::RenameKey { .. } => "rename_key",
            Transform::Pad { .. } => "pad",
            Transform::PadToSize { .. } => "pad_to_size",
            Transform::PadToMultiple { .. } => "pad_to_multiple",
            Transform::Squeeze { .. } => "squeeze",
            Transform::Shape { .. } => "shape",
            Transform::FilterByShape { .. } => "filter_by_shape",
            Transform::LoadFile { .. } => "load_file",
            Transform::LoadNumpy { .. } => "load_numpy",
            Transform::ReadFromTar { .. } => "read_from_tar",
            Transform::LoadImage { .. } => "load_image",
            Transform::Tokenize { .. } => "tokenize",
            Transform::ImageResize {
                size: ImageSize::Exact { .. },
                ..
            } => "image_resize",
            Transform::ImageResize {
                size: ImageSize::SmallestSide(_),
                ..
            } => "image_resize_smallest_side",
            Transform::ImageCenterCrop { .. } => "image_center_crop",
            Transform::ImageRandomCrop { .. } => "image_random_crop",
        }
    }

    /// Applies the step to sample number `index` (for errors). An empty sample stays empty.
    pub fn apply(&self, mut s: Sample, index: usize) -> Result<Sample> {
        if s.is_empty() {
            return Ok(s);
        }
        let op = self.name();
        match self {
            Transform::Key { key, output_key, f } => {
                let out = f(get(&s, key, op, index)?).map_err(|source| Error::Callback {
                    op,
                    key: key.clone(),
                    index,
                    source,
                })?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::Sample(f) => {
                s = f(s).map_err(|source| Error::Callback {
                    op,
                    key: String::new(),
                    index,
                    source,
                })?;
            }
            Transform::FilterKey { keys, remove } => {
                if *remove {
                    for k in keys {
                        s.remove(k);
                    }
                } else {
                    // A key that is not there is an error, not an empty (filtered) sample.
                    if let Some(k) = keys.iter().find(|k| !s.contains_key(*k)) {
                        return Err(missing(&s, k, op, index));
                    }
                    s.retain(|k, _| keys.contains(k));
                }
            }
            Transform::RenameKey { from, to } => {
                let a = s.remove(from).ok_or_else(|| missing(&s, from, op, index))?;
                s.insert(to.clone(), a);
            }
            Transform::Pad {
                key,
                dim,
                lpad,
                rpad,
                value,
            } => {
                let a = get(&s, key, op, index)?;
                let d = dim_of(a, *dim, op, key, index)?;
                let out = pad_dim(a, d, *lpad, *rpad, *value);
                s.insert(key.clone(), out);
            }
            Transform::PadToSize {
                key,
                dim,
                size,
                value,
            } => {
                let a = get(&s, key, op, index)?;
                let d = dim_of(a, *dim, op, key, index)?;
                let out = pad_dim(a, d, 0, size.saturating_sub(a.shape()[d]), *value);
                s.insert(key.clone(), out);
            }
            Transform::PadToMultiple {
                key,
                dim,
                multiple,
                value,
            } => {
                let a = get(&s, key, op, index)?;
                let d = dim_of(a, *dim, op, key, index)?;
                let n = a.shape()[d];
                let out = pad_dim(a, d, 0, n.div_ceil(*multiple) * multiple - n, *value);
                s.insert(key.clone(), out);
            }
            Transform::Squeeze { key, dim } => {
                let a = get(&s, key, op, index)?;
                let shape: Vec<usize> = match dim {
                    None => a.shape().iter().copied().filter(|&n| n != 1).collect(),
                    Some(dim) => {
                        let d = dim_of(a, *dim, op, key, index)?;
                        if a.shape()[d] != 1 {
                            return Err(Error::Sample {
                                op,
                                key: key.clone(),
                                index,
                                detail: format!(
                                    "cannot squeeze dim {dim} of shape {:?}: its size is not 1",
                                    a.shape()
                                ),
                            });
                        }
                        let mut sh = a.shape().to_vec();
                        sh.remove(d);
                        sh
                    }
                };
                let out = a.reshaped(shape)?;
                s.insert(key.clone(), out);
            }
            Transform::Shape {
                key,
                output_key,
                dim,
            } => {
                let a = get(&s, key, op, index)?;
                let out = match dim {
                    None => {
                        let v: Vec<i64> = a.shape().iter().map(|&n| n as i64).collect();
                        HostArray::from_slice(&v, &[v.len()])?
                    }
                    Some(dim) => {
                        let d = dim_of(a, *dim, op, key, index)?;
                        HostArray::from_slice(&[a.shape()[d] as i64], &[])?
                    }
                };
                s.insert(output_key.clone(), out);
            }
            Transform::FilterByShape {
                key,
                dim,
                low,
                high,
            } => {
                let a = get(&s, key, op, index)?;
                let d = dim_of(a, *dim, op, key, index)?;
                let n = a.shape()[d];
                if low.is_some_and(|lo| n < lo) || high.is_some_and(|hi| n > hi) {
                    s.clear();
                }
            }
            Transform::LoadFile {
                key,
                prefix,
                output_key,
            } => {
                let out = load_file(&s, key, prefix, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::LoadNumpy {
                key,
                prefix,
                from_memory,
                output_key,
            } => {
                let out = load_numpy(&s, key, prefix, *from_memory, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::ReadFromTar {
                tar,
                key,
                prefix,
                output_key,
            } => {
                let name = crate::load::path_in(&s, key, prefix, op, index)?;
                let out = tar.read(&name.to_string_lossy(), op, key, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::LoadImage {
                key,
                prefix,
                info,
                from_memory,
                output_key,
            } => {
                let out = image::load_image(&s, key, prefix, *info, *from_memory, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::ImageResize {
                key,
                size,
                output_key,
            } => {
                let a = get(&s, key, op, index)?;
                let (w, h) = match *size {
                    ImageSize::Exact { width, height } => (width, height),
                    ImageSize::SmallestSide(n) => {
                        let (ih, iw) = image::extent(a, op, key, index)?;
                        image::smallest_side(iw, ih, n)
                    }
                };
                let out = image::resize(a, w, h, op, key, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::Tokenize {
                key,
                trie,
                ignore_unk,
                scores,
                output_key,
            } => {
                let a = get(&s, key, op, index)?;
                if !matches!(a.dtype(), Dtype::Uint8 | Dtype::Int8) {
                    return Err(Error::Sample {
                        op,
                        key: key.clone(),
                        index,
                        detail: format!(
                            "tokenizes text held as uint8 or int8 bytes, not a {} array",
                            a.dtype()
                        ),
                    });
                }
                let ids = tokenize(trie, a.bytes(), scores, *ignore_unk).map_err(|detail| {
                    Error::Sample {
                        op,
                        key: key.clone(),
                        index,
                        detail,
                    }
                })?;
                let out = HostArray::from_slice(&ids, &[ids.len()])?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::ImageCenterCrop {
                key,
                width,
                height,
                output_key,
            } => {
                let a = get(&s, key, op, index)?;
                let out = image::center_crop(a, *width, *height, op, key, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
            Transform::ImageRandomCrop {
                key,
                width,
                height,
                seed,
                output_key,
            } => {
                let a = get(&s, key, op, index)?;
                let out = image::random_crop(a, *width, *height, *seed, op, key, index)?;
                s.insert(out_key(key, output_key).clone(), out);
            }
        }
        Ok(s)
    }
}

/// The builder methods that buffers and streams share: each returns a new pipeline that applies
/// one more [`Transform`] to every sample of this one.
pub trait Transforms: Sized {
    fn transform(&self, t: Transform) -> Self;

    fn key_transform(&self, key: &str, output_key: &str, f: KeyFn) -> Self {
        self.transform(Transform::Key {
            key: key.into(),
            output_key: output_key.into(),
            f,
        })
    }
    fn sample_transform(&self, f: SampleFn) -> Self {
        self.transform(Transform::Sample(f))
    }
    fn filter_key(&self, keys: &[&str], remove: bool) -> Self {
        self.transform(Transform::FilterKey {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            remove,
        })
    }
    fn rename_key(&self, from: &str, to: &str) -> Self {
        self.transform(Transform::RenameKey {
            from: from.into(),
            to: to.into(),
        })
    }
    fn pad(&self, key: &str, dim: isize, lpad: usize, rpad: usize, value: f64) -> Self {
        self.transform(Transform::Pad {
            key: key.into(),
            dim,
            lpad,
            rpad,
            value,
        })
    }
    fn pad_to_size(&self, key: &str, dim: isize, size: usize, value: f64) -> Self {
        self.transform(Transform::PadToSize {
            key: key.into(),
            dim,
            size,
            value,
        })
    }
    /// `multiple` must be at least 1.
    fn pad_to_multiple(&self, key: &str, dim: isize, multiple: usize, value: f64) -> Result<Self> {
        if multiple == 0 {
            return Err(argument(
                "pad_to_multiple",
                "the multiple must be at least 1",
            ));
        }
        Ok(self.transform(Transform::PadToMultiple {
            key: key.into(),
            dim,
            multiple,
            value,
        }))
    }
    fn squeeze(&self, key: &str, dim: Option<isize>) -> Self {
        self.transform(Transform::Squeeze {
            key: key.into(),
            dim,
        })
    }
    fn shape(&self, key: &str, output_key: &str, dim: Option<isize>) -> Self {
        self.transform(Transform::Shape {
            key: key.into(),
            output_key: output_key.into(),
            dim,
        })
    }
    fn filter_by_shape(
        &self,
        key: &str,
        dim: isize,
        low: Option<usize>,
        high: Option<usize>,
    ) -> Self {
        self.transform(Transform::FilterByShape {
            key: key.into(),
            dim,
            low,
            high,
        })
    }
    fn load_file(&self, key: &str, prefix: &str, output_key: &str) -> Self {
        self.transform(Transform::LoadFile {
            key: key.into(),
            prefix: prefix.into(),
            output_key: output_key.into(),
        })
    }
    fn load_numpy(&self, key: &str, prefix: &str, from_memory: bool, output_key: &str) -> Self {
        self.transform(Transform::LoadNumpy {
            key: key.into(),
            prefix: prefix.into(),
            from_memory,
            output_key: output_key.into(),
        })
    }
    /// Reads the members that `key` names from the tar archive at `path` (whose headers are read
    /// here, once).
    fn read_from_tar(&self, path: &str, key: &str, output_key: &str, prefix: &str) -> Result<Self> {
        let tar = TarIndex::open(std::path::Path::new(path), "read_from_tar")?;
        Ok(self.transform(Transform::ReadFromTar {
            tar,
            key: key.into(),
            prefix: prefix.into(),
            output_key: output_key.into(),
        }))
    }
    /// Decodes the PNG or JPEG image that `key` names (or holds: `from_memory`) into uint8
    /// pixels, height x width x channels (3, or 1 for grey); `info`: its `[width, height]`.
    fn load_image(
        &self,
        key: &str,
        prefix: &str,
        info: bool,
        from_memory: bool,
        output_key: &str,
    ) -> Self {
        self.transform(Transform::LoadImage {
            key: key.into(),
            prefix: prefix.into(),
            info,
            from_memory,
            output_key: output_key.into(),
        })
    }
    fn image_resize(&self, key: &str, size: ImageSize, output_key: &str) -> Self {
        self.transform(Transform::ImageResize {
            key: key.into(),
            size,
            output_key: output_key.into(),
        })
    }
    fn image_center_crop(&self, key: &str, width: usize, height: usize, output_key: &str) -> Self {
        self.transform(Transform::ImageCenterCrop {
            key: key.into(),
            width,
            height,
            output_key: output_key.into(),
        })
    }
    /// A crop at a place drawn from `seed` and each sample's index: the same crops for the same
    /// seed whatever the threads. On a stream the index counts from the last `reset` of this
    /// step, so a crop below a `repeat` repeats its places each pass, and one above it does not.
    fn image_random_crop(
        &self,
        key: &str,
        width: usize,
        height: usize,
        seed: u64,
        output_key: &str,
    ) -> Self {
        self.transform(Transform::ImageRandomCrop {
            key: key.into(),
            width,
            height,
            seed,
            output_key: output_key.into(),
        })
    }
    /// Cuts the bytes of `key` into tokens of `trie` (a snapshot of it is taken here), the
    /// fewest or, with `scores` (one per id), the lightest. `ignore_unk` skips what no token
    /// covers instead of failing.
    fn tokenize(
        &self,
        key: &str,
        trie: &CharTrie,
        ignore_unk: bool,
        scores: &[f64],
        output_key: &str,
    ) -> Result<Self> {
        if !scores.is_empty() && !trie.ids_below(scores.len()) {
            return Err(argument(
                "tokenize",
                format!(
                    "{} scores do not cover the vocabulary's ids (each id must be in 0..{})",
                    scores.len(),
                    scores.len()
                ),
            ));
        }
        Ok(self.transform(Transform::Tokenize {
            key: key.into(),
            trie: Arc::new(trie.clone()),
            ignore_unk,
            scores: Arc::new(scores.to_vec()),
            output_key: output_key.into(),
        }))
    }
}
