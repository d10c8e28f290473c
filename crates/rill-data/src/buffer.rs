//! [`Buffer`]: a finite pipeline with random access. A buffer is a tree of nodes, each a view of
//! the one below (a permutation, a batching, a transform, an append), over a vector of samples;
//! nothing is computed until `get`, so a transform runs on the thread that asks for the sample
//! (which is how `ordered_prefetch` runs a buffer's whole pipeline in parallel).

use crate::batch::{batch_samples, BatchSpec};
use crate::error::{argument, Error, Result};
use crate::rng::permutation;
use crate::sample::Sample;
use crate::stream::{BufferStream, Stream};
use crate::transform::{Transform, Transforms};
use std::sync::Arc;

trait BufferNode: Send + Sync {
    fn len(&self) -> usize;
    /// Sample `i` (`i < len()`).
    fn get(&self, i: usize) -> Result<Sample>;
}

/// A finite, indexable sequence of samples. Cloning is cheap (the samples are shared).
#[derive(Clone)]
pub struct Buffer {
    node: Arc<dyn BufferNode>,
}

struct Samples(Vec<Sample>);

impl BufferNode for Samples {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        Ok(self.0[i].clone())
    }
}

struct Transformed {
    up: Buffer,
    t: Transform,
}

impl BufferNode for Transformed {
    fn len(&self) -> usize {
        self.up.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        self.t.apply(self.up.node.get(i)?, i)
    }
}

struct Perm {
    up: Buffer,
    perm: Vec<usize>,
}

impl BufferNode for Perm {
    fn len(&self) -> usize {
        self.perm.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        self.up.node.get(self.perm[i])
    }
}

struct Append {
    a: Buffer,
    b: Buffer,
}

impl BufferNode for Append {
    fn len(&self) -> usize {
        self.a.len() + self.b.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        let n = self.a.len();
        if i < n {
            self.a.node.get(i)
        } else {
            self.b.node.get(i - n)
        }
    }
}

struct Batched {
    up: Buffer,
    size: usize,
    spec: BatchSpec,
}

impl BufferNode for Batched {
    fn len(&self) -> usize {
        self.up.len().div_ceil(self.size)
    }
    fn get(&self, i: usize) -> Result<Sample> {
        let start = i * self.size;
        let end = (start + self.size).min(self.up.len());
        let mut samples = Vec::with_capacity(end - start);
        for j in start..end {
            let s = self.up.node.get(j)?;
            // A sample filtered out upstream is left out of its batch, not an error.
            if !s.is_empty() {
                samples.push((j, s));
            }
        }
        batch_samples(&samples, &self.spec)
    }
}

/// Batches of samples of similar sizes (`dynamic_batch.rs`).
struct Grouped {
    up: Buffer,
    groups: Vec<Vec<usize>>,
    spec: BatchSpec,
}

impl BufferNode for Grouped {
    fn len(&self) -> usize {
        self.groups.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        crate::dynamic_batch::batch_of(&self.up, &self.groups[i], &self.spec)
    }
}

impl Buffer {
    /// A buffer of these samples.
    pub fn from_vec(samples: Vec<Sample>) -> Self {
        Self::from_node(Samples(samples))
    }

    fn from_node(n: impl BufferNode + 'static) -> Self {
        Buffer { node: Arc::new(n) }
    }

    pub fn len(&self) -> usize {
        self.node.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i`; a negative `i` counts from the end. A sample that a filter of this buffer
    /// rejects comes back empty.
    pub fn get(&self, i: i64) -> Result<Sample> {
        let n = self.len();
        let j = if i < 0 { i + n as i64 } else { i };
        if j < 0 || j >= n as i64 {
            return Err(Error::Index {
                op: "get",
                index: i,
                len: n,
            });
        }
        self.node.get(j as usize)
    }

    /// Batches of `size` consecutive samples (the last may be smaller), padded as `spec` says.
    pub fn batch(&self, size: usize, spec: BatchSpec) -> Result<Buffer> {
        if size == 0 {
            return Err(argument("batch", "the batch size must be at least 1"));
        }
        Ok(Self::from_node(Batched {
            up: self.clone(),
            size,
            spec,
        }))
    }

    /// Batches of samples of similar sizes holding about `max_data_size` elements of `key` each
    /// (padding included; `max_data_size <= 0`: one batch of everything), smallest first. The
    /// sizes are read here: every sample is computed once now and again when its batch is.
    pub fn dynamic_batch(&self, key: &str, max_data_size: i64, spec: BatchSpec) -> Result<Buffer> {
        let groups = crate::dynamic_batch::groups(self, key, max_data_size)?;
        Ok(Self::from_node(Grouped {
            up: self.clone(),
            groups,
            spec,
        }))
    }

    /// The samples in the order `perm` gives (indices may repeat or be left out; negative ones
    /// count from the end).
    pub fn perm(&self, perm: &[i64]) -> Result<Buffer> {
        let n = self.len() as i64;
        let perm = perm
            .iter()
            .map(|&i| {
                let j = if i < 0 { i + n } else { i };
                if (0..n).contains(&j) {
                    Ok(j as usize)
                } else {
                    Err(Error::Index {
                        op: "perm",
                        index: i,
                        len: n as usize,
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_node(Perm {
            up: self.clone(),
            perm,
        }))
    }

    /// A random permutation of the samples, the same for the same seed.
    pub fn shuffle(&self, seed: u64) -> Buffer {
        Self::from_node(Perm {
            up: self.clone(),
            perm: permutation(self.len(), seed),
        })
    }

    /// Samples `i, i + n, i + 2n, ...`: part `i` of `n` (for one worker of `n`).
    pub fn partition(&self, n: usize, i: usize) -> Result<Buffer> {
        if i >= n {
            return Err(argument(
                "partition",
                format!("partition {i} does not exist among {n} partitions"),
            ));
        }
        Ok(Self::from_node(Perm {
            up: self.clone(),
            perm: (i..self.len()).step_by(n).collect(),
        }))
    }

    /// This buffer's samples followed by `other`'s.
    pub fn append(&self, other: &Buffer) -> Buffer {
        Self::from_node(Append {
            a: self.clone(),
            b: other.clone(),
        })
    }

    /// A stream over the samples in order (skipping the ones a filter rejected).
    pub fn to_stream(&self) -> Stream {
        Stream::from_node(BufferStream::new(self.clone()))
    }

    /// A stream that computes `prefetch_size` samples ahead on `num_threads` threads, and yields
    /// them in order.
    pub fn ordered_prefetch(&self, prefetch_size: usize, num_threads: usize) -> Result<Stream> {
        self.to_stream()
            .ordered_prefetch(prefetch_size, num_threads)
    }
}

impl Transforms for Buffer {
    fn transform(&self, t: Transform) -> Self {
        Self::from_node(Transformed {
            up: self.clone(),
            t,
        })
    }
}
