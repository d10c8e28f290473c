//! [`Stream`]: a pull-based pipeline of unknown length, one pass until `reset`.
//!
//! A stream is a chain of nodes; `next` on the last pulls from the ones below. Nodes may be
//! pulled from several threads at once (that is how `prefetch` works: its threads all call the
//! node below), so every node is `Sync`: transforms hold no lock and run on the pulling thread;
//! nodes with state (a position, a batch being gathered, a shuffle buffer, a file) keep it behind
//! a mutex, held only while they touch it or pull what they must pull in order.
//!
//! `claim` is the ordered form of `next`, used by `ordered_prefetch`: it takes the next sample's
//! place in the order (cheaply, in order) and returns the work that computes it, which the
//! caller may run on any thread. Buffers and transforms split their work this way; the other
//! nodes compute the sample in `claim` itself.

use crate::array::{normalize_dim, slice_dim};
use crate::batch::{batch_samples, BatchSpec};
use crate::buffer::Buffer;
use crate::buffered::{Buffered, Refill, RefillFn};
use crate::error::{argument, Error, Result};
use crate::position::{cannot, cannot_default, same, tag, take, Position};
use crate::prefetch::{OrderedPrefetch, Prefetch};
use crate::rng::Rng;
use crate::sample::{get, Sample};
use crate::transform::{Transform, Transforms};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The work that computes a claimed sample. `Ok(Some(empty))`: filtered out; `Ok(None)`: the end.
pub type Pending = Box<dyn FnOnce() -> Result<Option<Sample>> + Send>;

/// A claimed place in a stream's order.
pub enum Claim {
    /// The sample (or the end), already computed.
    Ready(Option<Sample>),
    /// The work that computes it, to run on any thread.
    Later(Pending),
}

/// One node of a stream. Implement it for a source of your own (the Python package implements
/// it for Python iterables).
pub trait StreamNode: Send + Sync {
    /// The next sample, or None at the end. Filtered (empty) samples are never returned.
    fn next(&self) -> Result<Option<Sample>>;
    /// Back to the start. Callers reset a node only while nothing pulls from it.
    fn reset(&self) -> Result<()>;
    /// The next sample's place in the order, with the work that computes it (see the module doc).
    fn claim(&self) -> Result<Claim> {
        Ok(Claim::Ready(self.next()?))
    }
    /// Appends this node's position and the nodes' below it to `out` (`position.rs`): numbers,
    /// never samples. Called only while nothing pulls from the node.
    fn save(&self, _out: &mut Position) -> Result<()> {
        Err(cannot_default())
    }
    /// Takes back the position `save` wrote, reading from the front of `input`. Called only while
    /// nothing pulls from the node.
    fn restore(&self, _input: &mut &[u64]) -> Result<()> {
        Err(cannot_default())
    }
}

/// A stream of samples. Cloning gives another handle to the same stream (they share position).
#[derive(Clone)]
pub struct Stream {
    node: Arc<dyn StreamNode>,
}

/// A mutex whose poisoning (a panic in another thread while it held the lock) is ignored: the
/// state it guards stays consistent between statements, and the panic is reported where it
/// happened.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Stream {
    pub fn from_node(n: impl StreamNode + 'static) -> Self {
        Stream { node: Arc::new(n) }
    }

    /// A stream of these samples, in order.
    pub fn from_vec(samples: Vec<Sample>) -> Self {
        Buffer::from_vec(samples).to_stream()
    }

    pub fn next(&self) -> Result<Option<Sample>> {
        self.node.next()
    }

    /// Back to the start (a shuffle draws a new order, reproducibly).
    pub fn reset(&self) -> Result<()> {
        self.node.reset()
    }

    pub fn claim(&self) -> Result<Claim> {
        self.node.claim()
    }

    /// Where the stream is (`position.rs`): small numbers to save with a checkpoint. Call it
    /// between samples, while nothing else pulls from the stream.
    pub fn state(&self) -> Result<Position> {
        let mut out = Position::new();
        self.node.save(&mut out)?;
        Ok(out)
    }

    pub(crate) fn save_into(&self, out: &mut Position) -> Result<()> {
        self.node.save(out)
    }
    pub(crate) fn restore_from(&self, input: &mut &[u64]) -> Result<()> {
        self.node.restore(input)
    }

    /// Moves a stream built the same way as the one that gave `state` to that position; the next
    /// sample is the one that would have come next there.
    pub fn restore(&self, state: &[u64]) -> Result<()> {
        let mut input = state;
        self.node.restore(&mut input)?;
        if !input.is_empty() {
            return Err(Error::Argument {
                op: "restore",
                detail: "the position was saved from a pipeline built differently".into(),
            });
        }
        Ok(())
    }

    /// Every remaining sample (for tests and small streams).
    pub fn collect(&self) -> Result<Vec<Sample>> {
        let mut v = Vec::new();
        while let Some(s) = self.next()? {
            v.push(s);
        }
        Ok(v)
    }

    /// Batches of `size` consecutive samples (the last may be smaller).
    pub fn batch(&self, size: usize, spec: BatchSpec) -> Result<Stream> {
        if size == 0 {
            return Err(argument("batch", "the batch size must be at least 1"));
        }
        Ok(Self::from_node(Batched {
            up: self.clone(),
            size,
            spec,
            position: Mutex::new(0),
        }))
    }

    /// Gathers `buffer_size` samples (on `num_threads` threads, keeping their order), applies
    /// `on_refill` to that buffer, yields its samples, and starts again (`buffered.rs`). A refill
    /// function's error is reported as the `buffered` step's, with the refill's number.
    pub fn buffered(
        &self,
        buffer_size: usize,
        on_refill: Option<RefillFn>,
        num_threads: usize,
    ) -> Result<Stream> {
        let refill = on_refill.map(|f| -> Refill {
            Arc::new(move |b: Buffer, n: usize| {
                f(b).map_err(|source| Error::Callback {
                    op: "buffered",
                    key: String::new(),
                    index: n,
                    source,
                })
            })
        });
        Ok(Self::from_node(Buffered::new(
            self.clone(),
            buffer_size,
            refill,
            num_threads,
        )?))
    }

    /// Buffers of `buffer_size` samples cut into batches of similar sizes with about
    /// `max_data_size` elements of `key` each (see `Buffer::dynamic_batch`); with `shuffle`, the
    /// batches of each buffer come in a random order drawn from that seed (a new one per buffer,
    /// the same sequence for the same seed).
    pub fn dynamic_batch(
        &self,
        buffer_size: usize,
        key: &str,
        max_data_size: i64,
        spec: BatchSpec,
        shuffle: Option<u64>,
        num_threads: usize,
    ) -> Result<Stream> {
        let key = key.to_string();
        let refill: Refill = Arc::new(move |b: Buffer, n: usize| {
            let batched = b.dynamic_batch(&key, max_data_size, spec.clone())?;
            Ok(match shuffle {
                Some(seed) => batched
                    .shuffle(seed.wrapping_add((n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))),
                None => batched,
            })
        });
        Ok(Self::from_node(Buffered::new(
            self.clone(),
            buffer_size,
            Some(refill),
            num_threads,
        )?))
    }

    /// Computes up to `prefetch_size` samples ahead on `num_threads` threads. With more than one
    /// thread the order may change (the multiset of samples does not); see `ordered_prefetch`.
    pub fn prefetch(&self, prefetch_size: usize, num_threads: usize) -> Result<Stream> {
        check_prefetch("prefetch", prefetch_size, num_threads)?;
        Ok(Self::from_node(Prefetch::new(
            self.clone(),
            prefetch_size,
            num_threads,
        )))
    }

    /// Like `prefetch`, but the samples come out in this stream's order.
    pub fn ordered_prefetch(&self, prefetch_size: usize, num_threads: usize) -> Result<Stream> {
        check_prefetch("ordered_prefetch", prefetch_size, num_threads)?;
        Ok(Self::from_node(OrderedPrefetch::new(
            self.clone(),
            prefetch_size,
            num_threads,
        )))
    }

    /// A shuffle buffer of `buffer_size` samples: each sample comes from a random place in the
    /// buffer, which is refilled from this stream. The order is the same for the same seed; each
    /// `reset` draws a new one (the same sequence of orders for the same seed).
    pub fn shuffle(&self, buffer_size: usize, seed: u64) -> Result<Stream> {
        if buffer_size == 0 {
            return Err(argument("shuffle", "the buffer size must be at least 1"));
        }
        Ok(Self::from_node(Shuffled {
            up: self.clone(),
            size: buffer_size,
            seed,
            state: Mutex::new(ShuffleState {
                buf: Vec::new(),
                rng: Rng::new(seed, 0),
                epoch: 0,
            }),
        }))
    }

    /// After the end, start again `n` more times (mlx-data's count: `repeat(2)` makes three
    /// passes); `n <= 0` repeats forever. A pass that yields nothing ends the stream.
    pub fn repeat(&self, n: i64) -> Stream {
        Self::from_node(Repeated {
            up: self.clone(),
            n,
            state: Mutex::new((0, false)),
        })
    }

    /// The same samples, counted on a progress bar (with samples per second, and the time left
    /// when `total` is given), drawn on stderr only when it is a terminal (`progress.rs`).
    pub fn progress(&self, total: Option<u64>, desc: &str) -> Stream {
        Self::from_node(crate::progress::Progress::new(self.clone(), total, desc))
    }

    /// Samples `i, i + n, i + 2n, ...` of this stream.
    pub fn partition(&self, n: usize, i: usize) -> Result<Stream> {
        if i >= n {
            return Err(argument(
                "partition",
                format!("partition {i} does not exist among {n} partitions"),
            ));
        }
        Ok(Self::from_node(Partitioned {
            up: self.clone(),
            n,
            i,
            position: Mutex::new(0),
        }))
    }

    /// Each sample becomes several: windows of `size` along `dim` of `key` (starting every
    /// `stride`; the last ones are shorter where the array ends), the other keys repeated.
    pub fn sliding_window(
        &self,
        key: &str,
        size: usize,
        stride: usize,
        dim: isize,
    ) -> Result<Stream> {
        if size == 0 || stride == 0 {
            return Err(argument(
                "sliding_window",
                "the window size and the stride must be at least 1",
            ));
        }
        Ok(Self::from_node(SlidingWindow {
            up: self.clone(),
            key: key.to_string(),
            size,
            stride,
            dim,
            state: Mutex::new((VecDeque::new(), 0)),
        }))
    }
}

fn check_prefetch(op: &'static str, size: usize, threads: usize) -> Result<()> {
    if size == 0 || threads == 0 {
        return Err(argument(
            op,
            format!("the prefetch size ({size}) and the number of threads ({threads}) must be at least 1"),
        ));
    }
    Ok(())
}

impl Transforms for Stream {
    fn transform(&self, t: Transform) -> Self {
        Self::from_node(Transformed::new(self.clone(), t))
    }
}

/// A buffer's samples in order; `claim` defers the `get`, so a buffer's whole pipeline runs on
/// the claiming threads.
pub(crate) struct BufferStream {
    buffer: Buffer,
    pos: AtomicUsize,
}

impl BufferStream {
    pub fn new(buffer: Buffer) -> Self {
        BufferStream {
            buffer,
            pos: AtomicUsize::new(0),
        }
    }

    /// The next index, or None past the end (the position then stops growing).
    fn take(&self) -> Option<usize> {
        let n = self.buffer.len();
        self.pos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                (p < n).then_some(p + 1)
            })
            .ok()
    }
}

impl StreamNode for BufferStream {
    fn next(&self) -> Result<Option<Sample>> {
        while let Some(i) = self.take() {
            let s = self.buffer.get(i as i64)?;
            if !s.is_empty() {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }
    fn reset(&self) -> Result<()> {
        self.pos.store(0, Ordering::Relaxed);
        Ok(())
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        let pos = self.pos.load(Ordering::Relaxed);
        out.extend([tag::BUFFER, self.buffer.len() as u64, pos as u64]);
        Ok(())
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::BUFFER, 2)?;
        same("buffer's length", v[0], self.buffer.len() as u64)?;
        self.pos.store(v[1] as usize, Ordering::Relaxed);
        Ok(())
    }
    fn claim(&self) -> Result<Claim> {
        Ok(match self.take() {
            None => Claim::Ready(None),
            Some(i) => {
                let b = self.buffer.clone();
                Claim::Later(Box::new(move || b.get(i as i64).map(Some)))
            }
        })
    }
}

struct Transformed {
    up: Stream,
    t: Arc<Transform>,
    /// Samples seen: the index in errors, and the one a random step draws from.
    count: AtomicUsize,
    /// Held while a sample is claimed from below and numbered: with several threads pulling,
    /// the number must be the sample's place in the stream, not the order in which the threads
    /// got to the counter, both for steps whose result depends on it (random crops) and for
    /// errors, which name the sample by it. Claims are cheap (the work is in the `Later`
    /// closure, run outside this lock), so numbering every step in order costs little.
    numbering: Mutex<()>,
}

impl Transformed {
    pub(crate) fn new(up: Stream, t: Transform) -> Self {
        Transformed {
            up,
            t: Arc::new(t),
            count: AtomicUsize::new(0),
            numbering: Mutex::new(()),
        }
    }
}

impl StreamNode for Transformed {
    fn next(&self) -> Result<Option<Sample>> {
        // Claimed and numbered in order, computed outside the lock.
        loop {
            let s = match self.claim()? {
                Claim::Ready(s) => s,
                Claim::Later(f) => f()?,
            };
            match s {
                Some(s) if s.is_empty() => continue,
                s => return Ok(s),
            }
        }
    }
    fn reset(&self) -> Result<()> {
        self.count.store(0, Ordering::Relaxed);
        self.up.reset()
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        out.extend([tag::TRANSFORM, self.count.load(Ordering::Relaxed) as u64]);
        self.up.node.save(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::TRANSFORM, 1)?;
        self.count.store(v[0] as usize, Ordering::Relaxed);
        self.up.node.restore(input)
    }
    fn claim(&self) -> Result<Claim> {
        let (up, i) = {
            let _numbering = lock(&self.numbering);
            let up = self.up.claim()?;
            if matches!(up, Claim::Ready(None)) {
                return Ok(Claim::Ready(None));
            }
            (up, self.count.fetch_add(1, Ordering::Relaxed))
        };
        let t = self.t.clone();
        Ok(match up {
            Claim::Ready(None) => Claim::Ready(None),
            Claim::Ready(Some(s)) => Claim::Later(Box::new(move || t.apply(s, i).map(Some))),
            Claim::Later(f) => Claim::Later(Box::new(move || match f()? {
                Some(s) => t.apply(s, i).map(Some),
                None => Ok(None),
            })),
        })
    }
}

struct Batched {
    up: Stream,
    size: usize,
    spec: BatchSpec,
    /// Places claimed so far: the index of each sample in errors. Held while a batch claims its
    /// places, so that a batch is `size` consecutive places of the stream (with one puller; with
    /// several, a batch that lost samples to a filter claims its missing ones after the places
    /// other threads claimed meanwhile).
    position: Mutex<usize>,
}

impl StreamNode for Batched {
    fn next(&self) -> Result<Option<Sample>> {
        let mut samples = Vec::with_capacity(self.size);
        let mut ended = false;
        while samples.len() < self.size && !ended {
            // The places are claimed in order under the lock, and the samples computed outside
            // it: threads that pull batches (`prefetch`) decode and transform in parallel, as
            // mlx-data's do, instead of queueing behind the one gathering.
            let claims = {
                let mut pos = lock(&self.position);
                let mut v = Vec::with_capacity(self.size - samples.len());
                while samples.len() + v.len() < self.size {
                    match self.up.claim()? {
                        Claim::Ready(None) => {
                            ended = true;
                            break;
                        }
                        c => {
                            v.push((*pos, c));
                            *pos += 1;
                        }
                    }
                }
                v
            };
            for (i, c) in claims {
                let s = match c {
                    Claim::Ready(s) => s,
                    Claim::Later(f) => f()?,
                };
                match s {
                    Some(s) if !s.is_empty() => samples.push((i, s)),
                    Some(_) => {} // filtered out: claim another
                    None => ended = true,
                }
            }
        }
        if samples.is_empty() {
            return Ok(None);
        }
        // The copying runs outside the lock, beside other threads' batches.
        batch_samples(&samples, &self.spec).map(Some)
    }
    fn reset(&self) -> Result<()> {
        *lock(&self.position) = 0;
        self.up.reset()
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        out.extend([tag::BATCH, self.size as u64, *lock(&self.position) as u64]);
        self.up.node.save(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::BATCH, 2)?;
        same("batch size", v[0], self.size as u64)?;
        *lock(&self.position) = v[1] as usize;
        self.up.node.restore(input)
    }
}

struct ShuffleState {
    buf: Vec<Sample>,
    rng: Rng,
    epoch: u64,
}

struct Shuffled {
    up: Stream,
    size: usize,
    seed: u64,
    state: Mutex<ShuffleState>,
}

impl StreamNode for Shuffled {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        while st.buf.len() < self.size {
            match self.up.next()? {
                Some(s) => st.buf.push(s),
                None => break,
            }
        }
        if st.buf.is_empty() {
            return Ok(None);
        }
        let n = st.buf.len();
        let j = st.rng.below(n);
        Ok(Some(st.buf.swap_remove(j)))
    }
    fn reset(&self) -> Result<()> {
        let mut st = lock(&self.state);
        st.buf.clear();
        st.epoch += 1;
        st.rng = Rng::new(self.seed, st.epoch);
        self.up.reset()
    }
    fn save(&self, _out: &mut Position) -> Result<()> {
        Err(cannot(
            "a stream's shuffle(buffer_size)",
            "its buffer holds samples; shuffle a Buffer (buffer.shuffle(seed)) to resume",
        ))
    }
}

struct Repeated {
    up: Stream,
    n: i64,
    /// (restarts done, whether this pass yielded a sample). Held across the pull, so that two
    /// threads that both meet the end restart the stream once.
    state: Mutex<(i64, bool)>,
}

impl StreamNode for Repeated {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        loop {
            if let Some(s) = self.up.next()? {
                st.1 = true;
                return Ok(Some(s));
            }
            if (self.n > 0 && st.0 >= self.n) || !st.1 {
                return Ok(None);
            }
            st.0 += 1;
            st.1 = false;
            self.up.reset()?;
        }
    }
    fn reset(&self) -> Result<()> {
        *lock(&self.state) = (0, false);
        self.up.reset()
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        let st = lock(&self.state);
        out.extend([tag::REPEAT, self.n as u64, st.0 as u64, st.1 as u64]);
        self.up.node.save(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::REPEAT, 3)?;
        same("repeat count", v[0], self.n as u64)?;
        *lock(&self.state) = (v[1] as i64, v[2] != 0);
        self.up.node.restore(input)
    }
}

struct Partitioned {
    up: Stream,
    n: usize,
    i: usize,
    position: Mutex<usize>,
}

impl StreamNode for Partitioned {
    fn next(&self) -> Result<Option<Sample>> {
        let mut pos = lock(&self.position);
        while let Some(s) = self.up.next()? {
            let p = *pos;
            *pos += 1;
            if p % self.n == self.i {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }
    fn reset(&self) -> Result<()> {
        *lock(&self.position) = 0;
        self.up.reset()
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        out.extend([
            tag::PARTITION,
            self.n as u64,
            self.i as u64,
            *lock(&self.position) as u64,
        ]);
        self.up.node.save(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        let v = take(input, tag::PARTITION, 3)?;
        same("number of partitions", v[0], self.n as u64)?;
        same("partition", v[1], self.i as u64)?;
        *lock(&self.position) = v[2] as usize;
        self.up.node.restore(input)
    }
}

struct SlidingWindow {
    up: Stream,
    key: String,
    size: usize,
    stride: usize,
    dim: isize,
    /// Windows not yet returned, and samples seen (for errors).
    state: Mutex<(VecDeque<Sample>, usize)>,
}

impl StreamNode for SlidingWindow {
    fn next(&self) -> Result<Option<Sample>> {
        let mut st = lock(&self.state);
        loop {
            if let Some(w) = st.0.pop_front() {
                return Ok(Some(w));
            }
            let Some(s) = self.up.next()? else {
                return Ok(None);
            };
            let index = st.1;
            st.1 += 1;
            let a = get(&s, &self.key, "sliding_window", index)?;
            let d = normalize_dim(self.dim, a.ndim()).ok_or_else(|| Error::Sample {
                op: "sliding_window",
                key: self.key.clone(),
                index,
                detail: format!("dim {} is out of range for shape {:?}", self.dim, a.shape()),
            })?;
            let n = a.shape()[d];
            for start in (0..n).step_by(self.stride) {
                let mut w = s.clone();
                let len = self.size.min(n - start);
                w.insert(self.key.clone(), slice_dim(a, d, start, len));
                st.0.push_back(w);
            }
        }
    }
    fn reset(&self) -> Result<()> {
        *lock(&self.state) = (VecDeque::new(), 0);
        self.up.reset()
    }
}
