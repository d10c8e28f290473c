//! The tape: what a transform sees of the graph its function builds.
//!
//! A lazy node gives its recipe to the scheduler at `eval` and forgets it once it has run, so the
//! graph cannot be walked after the fact. While a transform traces a function, every node that
//! [`Array::lazy`] builds on that thread is therefore also written here: the output array, a clone
//! of its op and its inputs. Entries are appended in creation order, which is a topological
//! order (a node's inputs exist before it), so a reverse walk over a slice of the tape visits
//! every node after all of its consumers.
//!
//! Nesting: one tape per thread, shared by the transforms open on it. A transform remembers
//! where the tape ended when it began ([`Recording::start`]); what it traced is the slice from
//! there. Entries stay until the outermost transform of the thread ends, so the ops an inner
//! transform builds while differentiating (its backward pass) are on the tape of the enclosing
//! one, which can then differentiate them in turn (grad of grad).
//!
//! A call of a function with its own rules (`custom_function`, `checkpoint`: see `custom.rs`) is
//! written as one more entry after the nodes it built, naming its inputs, its outputs and the
//! rules that stand in for those nodes.
//!
//! Cost when no transform is open: [`Array::lazy`] reads one process-wide counter of open
//! recordings with a relaxed load and goes on. Only when some thread records does a node builder
//! look at its own thread's tape.

use super::custom::Custom;
use crate::op::Op;
use crate::Array;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Recordings open in the process, on any thread. Relaxed is enough: a thread only ever needs
/// to see its own increments (program order), and a stale non-zero count from another thread
/// merely sends a builder to its own (empty) thread-local state.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// What the tape holds: a node, or a call with its own rules.
pub(crate) enum Entry {
    Node(NodeEntry),
    Custom(Rc<Custom>),
}

/// One node built while recording.
pub(crate) struct NodeEntry {
    pub(crate) out: Array,
    pub(crate) op: Op,
    pub(crate) inputs: Vec<Array>,
    /// Built inside an `untraced` section: a constant to differentiation, but still a node of
    /// the traced function for `compile`, which replays it.
    pub(crate) no_grad: bool,
}

#[derive(Default)]
struct Tape {
    entries: Vec<Rc<Entry>>,
    /// Transforms open on this thread (nested ones included).
    depth: usize,
    /// `untraced` sections open on this thread: nodes built inside are recorded as constants.
    paused: usize,
}

thread_local! {
    static TAPE: RefCell<Tape> = RefCell::new(Tape::default());
}

/// True when the caller should hand a new node to [`record`]: the hot path of `Array::lazy`.
#[inline]
pub(crate) fn recording() -> bool {
    OPEN.load(Ordering::Relaxed) != 0 && TAPE.with(|t| t.borrow().is_on())
}

impl Tape {
    fn is_on(&self) -> bool {
        self.depth > 0
    }
}

/// Writes a node onto this thread's tape (when a transform is open on it).
pub(crate) fn record(out: &Array, op: Op, inputs: Vec<Array>) {
    TAPE.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_on() {
            let no_grad = t.paused > 0;
            t.entries.push(Rc::new(Entry::Node(NodeEntry {
                out: out.clone(),
                op,
                inputs,
                no_grad,
            })));
        }
    });
}

/// Writes a call with its own rules onto this thread's tape (when a transform is open on it),
/// after the nodes it built.
pub(crate) fn record_custom(call: Rc<Custom>) {
    TAPE.with(|t| {
        let mut t = t.borrow_mut();
        if t.is_on() {
            t.entries.push(Rc::new(Entry::Custom(call)));
        }
    });
}

/// An open transform on this thread; closing it (dropping, also on an error or a panic) clears
/// the tape when it was the outermost one.
///
/// An `untraced` section stops at a transform opened inside it: `stop_gradient` and the nodes of a
/// custom function are constants to the transforms outside them, but a transform the function
/// itself opens differentiates what it builds.
pub(crate) struct Recording {
    start: usize,
    paused: usize,
}

impl Recording {
    pub(crate) fn begin() -> Recording {
        let (start, paused) = TAPE.with(|t| {
            let mut t = t.borrow_mut();
            t.depth += 1;
            (t.entries.len(), std::mem::take(&mut t.paused))
        });
        OPEN.fetch_add(1, Ordering::Relaxed);
        Recording { start, paused }
    }

    /// Where this transform's slice of the tape begins.
    pub(crate) fn start(&self) -> usize {
        self.start
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let dropped = TAPE.with(|t| {
            let mut t = t.borrow_mut();
            t.depth -= 1;
            t.paused = self.paused;
            if t.depth == 0 {
                std::mem::take(&mut t.entries)
            } else {
                Vec::new()
            }
        });
        OPEN.fetch_sub(1, Ordering::Relaxed);
        // Dropped outside the borrow: freeing nodes never builds any, but keep it that way cheap.
        drop(dropped);
    }
}

/// The tape's length now: the end of what a transform has traced so far.
pub(crate) fn len() -> usize {
    TAPE.with(|t| t.borrow().entries.len())
}

/// Entry `i` of this thread's tape.
pub(crate) fn entry(i: usize) -> Rc<Entry> {
    TAPE.with(|t| t.borrow().entries[i].clone())
}

/// Runs `f` with its nodes marked as constants to differentiation on this thread (how
/// `stop_gradient` cuts the graph); `compile` still replays them.
pub(crate) fn untraced<R>(f: impl FnOnce() -> R) -> R {
    struct Resume;
    impl Drop for Resume {
        fn drop(&mut self) {
            TAPE.with(|t| t.borrow_mut().paused -= 1);
        }
    }
    TAPE.with(|t| t.borrow_mut().paused += 1);
    let _resume = Resume;
    f()
}
