//! `Stream::buffered`: gather a buffer of samples from a stream, let a function rework the whole
//! buffer (shuffle it, sort it, group it into batches), then hand out its samples; when they are
//! used up, gather the next buffer. `Stream::dynamic_batch` is buffered with a grouping as its
//! function.
//!
//! # Concurrency rules
//!
//! 1. The node's state (the current buffer, the position in it, how many buffers were made) is
//!    behind one mutex. A puller takes its sample's place under it, and computes the sample (the
//!    buffer's own steps) outside it, so threads that pull from a buffered stream compute their
//!    samples side by side.
//! 2. Refilling holds the mutex: the buffers follow each other in the stream's order, and a
//!    puller that finds the buffer used up waits for the next one instead of starting another.
//! 3. A refill with several threads claims its samples from the stream below in order, under a
//!    local lock, and computes them outside it (as `ordered_prefetch` does), so the buffer holds
//!    the samples in the stream's order whatever the thread count; a panic in a step becomes an
//!    error in its sample's place.

use crate::buffer::Buffer;
use crate::error::{argument, BoxError, Error, Result};
use crate::sample::Sample;
use crate::stream::{lock, Claim, Pending, Stream, StreamNode};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// A user function of a whole buffer, applied each time a buffer is gathered.
pub type RefillFn = Arc<dyn Fn(Buffer) -> std::result::Result<Buffer, BoxError> + Send + Sync>;

/// What the node applies to each buffer, given the refill's number (0 after a reset): a user's
/// function with its errors reported as `buffered`'s, or a step of rill-data's own.
pub(crate) type Refill = Arc<dyn Fn(Buffer, usize) -> Result<Buffer> + Send + Sync>;

#[derive(Default)]
struct State {
    buffer: Option<Buffer>,
    next: usize,
    /// Buffers made since the start or the last reset (the index in a refill function's errors).
    refills: usize,
    /// An error met while gathering the current buffer: raised in its place, after the samples
    /// gathered before it.
    error: Option<Error>,
    /// Samples that came after that error (a gather on several threads computes ahead): the
    /// start of the next buffer, so that nothing is dropped.
    carry: Vec<Sample>,
}

pub(crate) struct Buffered {
    up: Stream,
    size: usize,
    on_refill: Option<Refill>,
    threads: usize,
    state: Mutex<State>,
}

impl Buffered {
    pub(crate) fn new(
        up: Stream,
        size: usize,
        on_refill: Option<Refill>,
        threads: usize,
    ) -> Result<Self> {
        if size == 0 {
            return Err(argument("buffered", "the buffer size must be at least 1"));
        }
        if threads == 0 {
            return Err(argument("buffered", "the thread count must be at least 1"));
        }
        Ok(Buffered {
            up,
            size,
            on_refill,
            threads,
            state: Mutex::new(State::default()),
        })
    }
}

impl StreamNode for Buffered {
    fn next(&self) -> Result<Option<Sample>> {
        loop {
            let sample = match self.claim()? {
                Claim::Ready(s) => s,
                Claim::Later(f) => f()?,
            };
            match sample {
                Some(s) if s.is_empty() => continue,
                other => return Ok(other),
            }
        }
    }

    fn claim(&self) -> Result<Claim> {
        let mut st = lock(&self.state);
        loop {
            if let Some(b) = &st.buffer {
                if st.next < b.len() {
                    let (b, i) = (b.clone(), st.next);
                    st.next += 1;
                    let work: Pending = Box::new(move || b.get(i as i64).map(Some));
                    return Ok(Claim::Later(work));
                }
            }
            st.buffer = None;
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            let carry = std::mem::take(&mut st.carry);
            let g = gather(&self.up, self.size, self.threads, carry);
            st.error = g.error;
            st.carry = g.after;
            let samples = g.samples;
            if samples.is_empty() {
                if let Some(e) = st.error.take() {
                    return Err(e);
                }
                return Ok(Claim::Ready(None));
            }
            let mut b = Buffer::from_vec(samples);
            if let Some(f) = &self.on_refill {
                b = f(b, st.refills)?;
            }
            st.refills += 1;
            st.buffer = Some(b);
            st.next = 0;
        }
    }

    fn reset(&self) -> Result<()> {
        *lock(&self.state) = State::default();
        self.up.reset()
    }
}

/// What a refill gathered (rule 3).
struct Gathered {
    /// Up to `size` samples in the stream's order, filtered ones left out.
    samples: Vec<Sample>,
    /// The error that stopped the gathering, in the place after `samples`.
    error: Option<Error>,
    /// Samples computed after that error.
    after: Vec<Sample>,
}

/// Up to `size` samples of `up` after `carry` (rule 3).
fn gather(up: &Stream, size: usize, threads: usize, carry: Vec<Sample>) -> Gathered {
    let mut g = Gathered {
        samples: Vec::with_capacity(size),
        error: None,
        after: Vec::new(),
    };
    let mut carry = carry.into_iter();
    g.samples.extend(carry.by_ref().take(size));
    g.after.extend(carry);
    let want = size - g.samples.len();
    if want == 0 {
        return g;
    }
    if threads == 1 {
        while g.samples.len() < size {
            match up.next() {
                Ok(Some(s)) => g.samples.push(s),
                Ok(None) => break,
                Err(e) => {
                    g.error = Some(e);
                    break;
                }
            }
        }
        return g;
    }
    // (samples claimed, the end or an error seen) and one slot per place left in the buffer.
    let order = Mutex::new((0usize, false));
    let slots: Vec<Mutex<Option<Result<Option<Sample>>>>> =
        (0..want).map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let (i, claim) = {
            let mut o = lock(&order);
            if o.1 || o.0 >= want {
                return;
            }
            let i = o.0;
            o.0 += 1;
            match up.claim() {
                Ok(c) => (i, c),
                Err(e) => {
                    o.1 = true;
                    *lock(&slots[i]) = Some(Err(e));
                    return;
                }
            }
        };
        let r = match claim {
            Claim::Ready(s) => Ok(s),
            Claim::Later(f) => catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
                let detail = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(Error::Panic {
                    op: "buffered",
                    detail,
                })
            }),
        };
        if matches!(r, Ok(None)) {
            lock(&order).1 = true;
        }
        *lock(&slots[i]) = Some(r);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    for slot in slots {
        let r = slot.into_inner().unwrap_or_else(|p| p.into_inner());
        let into = if g.error.is_some() {
            &mut g.after
        } else {
            &mut g.samples
        };
        match r {
            Some(Ok(Some(s))) => {
                if !s.is_empty() {
                    into.push(s);
                }
            }
            Some(Err(e)) if g.error.is_none() => g.error = Some(e),
            // A second error after the first: the first is raised, and the stream stops there.
            Some(Err(_)) => break,
            Some(Ok(None)) | None => break,
        }
    }
    g
}
