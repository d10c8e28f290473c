//! rill-data: data pipelines with mlx-data's programming model, in Rust.
//!
//! A *sample* ([`Sample`]) maps string keys to host arrays ([`HostArray`]: any dtype of
//! rill-core, a shape, C-ordered bytes; text is uint8 bytes). Pipelines come in two kinds:
//! - [`Buffer`] (`buffer.rs`): finite, indexable; its steps are views computed at `get`;
//! - [`Stream`] (`stream.rs`): pull-based, one pass until `reset`; nodes may be pulled from many
//!   threads at once.
//!
//! Both take the same per-sample steps ([`Transforms`], `transform.rs`: key and sample
//! transforms, padding, squeezing, shapes, filters) and batch samples the same way
//! (`batch.rs`: stacking or concatenating, padding ragged shapes to the largest).
//! `prefetch.rs` runs a stream on worker threads (its module doc states the concurrency rules);
//! `buffered.rs` gathers a stream into buffers that a function reworks (`dynamic_batch.rs` groups
//! samples of similar sizes that way); `source.rs` reads lines and CSV records; `load.rs` loads
//! the files samples name (raw bytes, `.npy`, members of a tar archive); `decode.rs` decodes
//! PNG and JPEG bytes into pixels and `image.rs` loads, resizes and crops images; `tokenize.rs`
//! cuts text into a vocabulary's tokens; `rng.rs` makes shuffles and random crops reproducible
//! from a seed. `position.rs` saves where a stream is and restores it; `progress.rs` draws a
//! progress bar on a terminal.
//!
//! Errors ([`Error`]) name the step, the key and the sample's index; a sample that fails is
//! reported in its place and never dropped. An *empty* sample means "filtered out" (mlx-data's
//! convention): streams skip it.
//!
//! This crate knows nothing of Python, of lazy arrays or of rill's scheduler: front-ends convert
//! samples to their own arrays (the Python package to NumPy, or to rill arrays with
//! `prefetch_to`).

mod array;
mod batch;
mod buffer;
mod buffered;
mod decode;
mod dynamic_batch;
mod error;
mod image;
mod load;
mod position;
mod prefetch;
mod progress;
mod rng;
mod sample;
mod source;
mod stream;
mod tokenize;
mod transform;

pub use array::{HostArray, Owner};
pub use batch::{batch_samples, BatchSpec};
pub use buffer::Buffer;
pub use buffered::RefillFn;
pub use error::{BoxError, Error, Result};
pub use load::TarIndex;
pub use position::Position;
pub use rill_core::Dtype;
pub use sample::Sample;
pub use source::{csv_reader, csv_reader_from_string, line_reader};
pub use stream::{Claim, Pending, Stream, StreamNode};
pub use tokenize::{tokenize, CharTrie};
pub use transform::{ImageSize, KeyFn, SampleFn, Transform, Transforms};
