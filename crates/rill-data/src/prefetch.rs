//! Prefetching: worker threads that pull from a stream ahead of its consumer.
//!
//! # Concurrency rules
//!
//! 1. A prefetch node owns at most one *run*: its workers, the receiving end of the bounded
//!    channel they send on, and a stop flag. The run starts at the first `next` after the node is
//!    made or reset.
//! 2. Workers hold no lock of this node while they pull from the stream below: `prefetch`'s
//!    workers call `next` below concurrently (the nodes below are `Sync` and lock what they
//!    must); `ordered_prefetch`'s workers take their ticket and `claim` under the gate's lock (so
//!    tickets follow the stream's order), then compute the claimed sample outside it.
//! 3. What a worker gets, a sample or an error, is sent as it is: an error takes its sample's
//!    place in the output, and a panic in a step becomes an error there. Nothing is dropped.
//! 4. A worker stops at the end of the stream below, when the stop flag is set, or when its send
//!    fails because the run's receiver is gone.
//! 5. `reset` stops the run, drops its receiver (waking workers blocked on a full channel) and
//!    joins the workers before resetting the stream below: a node is reset only while nothing
//!    pulls from it. A caller holding a lock that a worker may need (Python's GIL, for a Python
//!    callback below) must release it around `reset`.
//! 6. Dropping the node stops its run without joining: each worker finishes its current pull and
//!    exits. Workers own clones of the stream below, so nothing they use is freed under them.
//! 7. `ordered_prefetch` bounds its reorder buffer: a worker takes ticket `t` only once the
//!    consumer has taken sample `t - prefetch_size`, waiting on the gate's condition variable.
//! 8. Positions (`position.rs`): an `ordered_prefetch` worker saves the position of the stream
//!    below under the gate's lock, just before it claims ticket `t`; that is where the stream
//!    stands once the consumer has taken the samples before `t`, so `save` gives the one of the
//!    consumer's next ticket (or, when no worker has claimed it yet, the stream's own, read under
//!    the same lock). `restore`, like `reset`, first stops the run. An unordered `prefetch` has
//!    no position: the samples it has handed out are not a prefix of the stream below.

use crate::error::{Error, Result};
use crate::position::{cannot, tag, take, Position};
use crate::sample::Sample;
use crate::stream::{lock, Claim, Stream, StreamNode};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

fn panic_error(op: &'static str, payload: Box<dyn std::any::Any + Send>) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    Error::Panic { op, detail }
}

fn spawn(op: &'static str, i: usize, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("rill-data-{op}-{i}"))
        .spawn(f)
        .map_err(|e| Error::Thread {
            op,
            detail: e.to_string(),
        })
}

/// Workers and their stop flag (rules 1, 4-6).
struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    fn join(self) {
        for h in self.handles {
            // A worker's panics are caught around each step (rule 3); nothing is left to report.
            let _ = h.join();
        }
    }
}

// ------------------------------------------------------------------------------ prefetch

type Item = Result<Sample>;

pub(crate) struct Prefetch {
    up: Stream,
    size: usize,
    threads: usize,
    run: Mutex<Option<(Receiver<Item>, Workers)>>,
}

impl Prefetch {
    pub fn new(up: Stream, size: usize, threads: usize) -> Self {
        Prefetch {
            up,
            size,
            threads,
            run: Mutex::new(None),
        }
    }

    fn start(&self) -> Result<(Receiver<Item>, Workers)> {
        let (tx, rx) = bounded::<Item>(self.size);
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::with_capacity(self.threads);
        for i in 0..self.threads {
            let (up, tx, stop) = (self.up.clone(), tx.clone(), stop.clone());
            handles.push(spawn("prefetch", i, move || worker(up, tx, stop))?);
        }
        Ok((rx, Workers { stop, handles }))
    }

    /// Stops the run, if any (rule 5 when `join`, rule 6 otherwise).
    fn stop(&self, join: bool) {
        let run = lock(&self.run).take();
        if let Some((rx, w)) = run {
            w.stop.store(true, Ordering::Relaxed);
            drop(rx);
            if join {
                w.join();
            }
        }
    }
}

fn worker(up: Stream, tx: Sender<Item>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        // The pull is this thread's work: a span on its lane of a captured timeline.
        let span = rill_core::trace::host_span("prefetch");
        let item = match catch_unwind(AssertUnwindSafe(|| up.next())) {
            Ok(Ok(Some(s))) => Ok(s),
            Ok(Ok(None)) => break,
            Ok(Err(e)) => Err(e),
            Err(p) => Err(panic_error("prefetch", p)),
        };
        drop(span);
        if tx.send(item).is_err() {
            break;
        }
    }
}

impl StreamNode for Prefetch {
    fn next(&self) -> Result<Option<Sample>> {
        let rx = {
            let mut run = lock(&self.run);
            if run.is_none() {
                *run = Some(self.start()?);
            }
            run.as_ref()
                .map(|(rx, _)| rx.clone())
                .expect("started above")
        };
        match rx.recv() {
            Ok(item) => item.map(Some),
            // Every worker has finished: the stream below has ended.
            Err(_) => Ok(None),
        }
    }
    fn reset(&self) -> Result<()> {
        self.stop(true);
        self.up.reset()
    }
    fn save(&self, _out: &mut Position) -> Result<()> {
        Err(cannot(
            "prefetch",
            "its threads hand samples out of order; use ordered_prefetch to resume (rule 8)",
        ))
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop(false);
    }
}

// ---------------------------------------------------------------------- ordered_prefetch

type Ticketed = (u64, Result<Option<Sample>>);

/// Tickets handed out and samples the consumer has taken (rule 7), and the positions of the
/// stream below before each ticket not yet taken (rule 8).
struct Gate {
    state: Mutex<(u64, u64)>,
    positions: Mutex<BTreeMap<u64, Position>>,
    cv: Condvar,
}

struct OrderedRun {
    rx: Receiver<Ticketed>,
    workers: Workers,
    gate: Arc<Gate>,
    /// Samples that arrived before their turn.
    pending: BTreeMap<u64, Result<Option<Sample>>>,
    /// The next ticket to give out to the consumer.
    want: u64,
    done: bool,
}

pub(crate) struct OrderedPrefetch {
    up: Stream,
    size: usize,
    threads: usize,
    run: Mutex<Option<OrderedRun>>,
}

impl OrderedPrefetch {
    pub fn new(up: Stream, size: usize, threads: usize) -> Self {
        OrderedPrefetch {
            up,
            size,
            threads,
            run: Mutex::new(None),
        }
    }

    fn start(&self) -> Result<OrderedRun> {
        let (tx, rx) = bounded::<Ticketed>(self.size);
        let stop = Arc::new(AtomicBool::new(false));
        let gate = Arc::new(Gate {
            state: Mutex::new((0, 0)),
            positions: Mutex::new(BTreeMap::new()),
            cv: Condvar::new(),
        });
        // Positions are saved only when the stream below has them (one try, not one per sample).
        let resumable = self.up.state().is_ok();
        let mut handles = Vec::with_capacity(self.threads);
        for i in 0..self.threads {
            let (up, tx, stop, gate) = (self.up.clone(), tx.clone(), stop.clone(), gate.clone());
            let size = self.size as u64;
            handles.push(spawn("ordered_prefetch", i, move || {
                ordered_worker(up, tx, stop, gate, size, resumable)
            })?);
        }
        Ok(OrderedRun {
            rx,
            workers: Workers { stop, handles },
            gate,
            pending: BTreeMap::new(),
            want: 0,
            done: false,
        })
    }

    fn stop(&self, join: bool) {
        let run = lock(&self.run).take();
        if let Some(run) = run {
            run.workers.stop.store(true, Ordering::Relaxed);
            {
                // Under the gate's lock, so that no worker misses the wake-up between its check
                // of the flag and its wait.
                let _g = lock(&run.gate.state);
                run.gate.cv.notify_all();
            }
            drop(run.rx);
            if join {
                run.workers.join();
            }
        }
    }
}

fn ordered_worker(
    up: Stream,
    tx: Sender<Ticketed>,
    stop: Arc<AtomicBool>,
    gate: Arc<Gate>,
    size: u64,
    resumable: bool,
) {
    loop {
        let (t, claim) = {
            let mut g = lock(&gate.state);
            while g.0 >= g.1 + size && !stop.load(Ordering::Relaxed) {
                g = gate.cv.wait(g).unwrap_or_else(|p| p.into_inner());
            }
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let t = g.0;
            g.0 += 1;
            if resumable {
                // Rule 8; the lock order is state, then positions.
                if let Ok(p) = up.state() {
                    lock(&gate.positions).insert(t, p);
                }
            }
            (
                t,
                catch_unwind(AssertUnwindSafe(|| up.claim()))
                    .unwrap_or_else(|p| Err(panic_error("ordered_prefetch", p))),
            )
        };
        let item = match claim {
            Err(e) => Err(e),
            Ok(Claim::Ready(s)) => Ok(s),
            Ok(Claim::Later(f)) => {
                let _span = rill_core::trace::host_span("ordered_prefetch");
                catch_unwind(AssertUnwindSafe(f))
                    .unwrap_or_else(|p| Err(panic_error("ordered_prefetch", p)))
            }
        };
        let end = matches!(item, Ok(None));
        if tx.send((t, item)).is_err() || end {
            return;
        }
    }
}

impl StreamNode for OrderedPrefetch {
    fn next(&self) -> Result<Option<Sample>> {
        let mut guard = lock(&self.run);
        if guard.is_none() {
            *guard = Some(self.start()?);
        }
        let run = guard.as_mut().expect("started above");
        while !run.done {
            if let Some(item) = run.pending.remove(&run.want) {
                run.want += 1;
                lock(&run.gate.state).1 = run.want;
                lock(&run.gate.positions).remove(&(run.want - 1));
                run.gate.cv.notify_all();
                match item {
                    Ok(Some(s)) if s.is_empty() => continue,
                    Ok(Some(s)) => return Ok(Some(s)),
                    Ok(None) => run.done = true,
                    Err(e) => return Err(e),
                }
            } else {
                match run.rx.recv() {
                    Ok((t, item)) => {
                        run.pending.insert(t, item);
                    }
                    Err(_) => run.done = true,
                }
            }
        }
        Ok(None)
    }
    fn reset(&self) -> Result<()> {
        self.stop(true);
        self.up.reset()
    }
    fn save(&self, out: &mut Position) -> Result<()> {
        out.push(tag::ORDERED_PREFETCH);
        let run = lock(&self.run);
        let Some(run) = run.as_ref().filter(|r| !r.done) else {
            return self.up.save_into(out);
        };
        let g = lock(&run.gate.state);
        if let Some(p) = lock(&run.gate.positions).get(&run.want) {
            out.extend_from_slice(p);
            return Ok(());
        }
        // No worker has claimed the consumer's next ticket: the stream below is there (its
        // claims happen under the lock held here).
        debug_assert!(g.0 <= run.want);
        self.up.save_into(out)
    }
    fn restore(&self, input: &mut &[u64]) -> Result<()> {
        take(input, tag::ORDERED_PREFETCH, 0)?;
        self.stop(true);
        self.up.restore_from(input)
    }
}

impl Drop for OrderedPrefetch {
    fn drop(&mut self) {
        self.stop(false);
    }
}
