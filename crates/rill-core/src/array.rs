//! `Array`: a cheap, thread-safe handle to a node of the lazy graph.
//!
//! A node is born either evaluated (made from host data) or lazy (an op and its inputs, the
//! "recipe"). Evaluating it moves the recipe into a task on the node's stream; when the task has
//! run, the node holds its result (data or the error that stopped it) and no longer references its
//! inputs, so their memory can go as soon as nothing else needs it.
//!
//! Rules (shared with `scheduler`): `result` is written once, before the node's waiters are woken;
//! `state` changes `Lazy -> Scheduled -> Done` under its mutex, and only the scheduler moves it.

use crate::memory::Data;
use crate::op::Op;
use crate::scheduler::Waiter;
use crate::shape::{numel, Layout};
use crate::{backend, Dtype, Element, Error, Result, Stream, StreamOrDevice};
use smallvec::SmallVec;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A lazily evaluated n-dimensional array. Cloning shares the node.
#[derive(Clone)]
pub struct Array(pub(crate) Arc<Node>);

pub(crate) struct Node {
    pub(crate) id: u64,
    /// Inline for up to six dims: nodes are built on one thread and often freed on another, and
    /// a heap-allocated shape made that a second cross-thread free per op.
    pub(crate) shape: SmallVec<[usize; 6]>,
    pub(crate) dtype: Dtype,
    pub(crate) stream: Stream,
    pub(crate) state: Mutex<NodeState>,
    pub(crate) result: OnceLock<Result<Data>>,
}

pub(crate) enum NodeState {
    Lazy(Recipe),
    Scheduled { waiters: Vec<Waiter> },
    Done,
}

pub(crate) struct Recipe {
    pub(crate) op: Op,
    pub(crate) inputs: Vec<Array>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Drop for Node {
    /// Drops a long lazy chain without recursing once per link (a 100 000-op chain would overflow
    /// the stack): inputs whose last handle is this node are unwound onto a local stack.
    fn drop(&mut self) {
        let NodeState::Lazy(recipe) = self.state.get_mut().unwrap_or_else(|e| e.into_inner())
        else {
            return;
        };
        let mut stack = std::mem::take(&mut recipe.inputs);
        while let Some(a) = stack.pop() {
            if let Some(mut node) = Arc::into_inner(a.0) {
                if let NodeState::Lazy(r) = node.state.get_mut().unwrap_or_else(|e| e.into_inner())
                {
                    stack.append(&mut r.inputs);
                }
            }
        }
    }
}

impl Array {
    /// A lazy array computing `op` of `inputs` on `stream`.
    pub(crate) fn lazy(
        shape: Vec<usize>,
        dtype: Dtype,
        stream: Stream,
        op: Op,
        inputs: Vec<Array>,
    ) -> Array {
        Array(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: SmallVec::from_slice(&shape),
            dtype,
            stream,
            state: Mutex::new(NodeState::Lazy(Recipe { op, inputs })),
            result: OnceLock::new(),
        }))
    }

    /// An evaluated array holding `data`.
    pub(crate) fn evaluated(shape: Vec<usize>, dtype: Dtype, stream: Stream, data: Data) -> Array {
        let node = Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: SmallVec::from_slice(&shape),
            dtype,
            stream,
            state: Mutex::new(NodeState::Done),
            result: OnceLock::new(),
        };
        let _ = node.result.set(Ok(data));
        Array(Arc::new(node))
    }

    /// An array with a copy of `data`, shaped `shape`, placed for the default stream.
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Array> {
        Array::from_slice_on(data, shape, ())
    }

    /// An array with a copy of `data`, shaped `shape`, for work on `s`.
    pub fn from_slice_on<T: Element>(
        data: &[T],
        shape: &[usize],
        s: impl Into<StreamOrDevice>,
    ) -> Result<Array> {
        let stream = s.into().resolve("array")?;
        if numel(shape) != data.len() {
            return Err(Error::shape(
                "array",
                format!("{} elements cannot have shape {shape:?}", data.len()),
            ));
        }
        let mut buf = backend::host_allocator().allocate("array", std::mem::size_of_val(data))?;
        buf.as_mut_slice::<T>().copy_from_slice(data);
        Ok(Array::evaluated(
            shape.to_vec(),
            T::DTYPE,
            stream,
            Data::contiguous(buf, shape),
        ))
    }

    /// A 0-d array holding `value`.
    pub fn scalar<T: Element>(value: T) -> Array {
        Array::from_slice(&[value], &[])
            .expect("a one-element array always fits the host allocator")
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    pub fn dtype(&self) -> Dtype {
        self.0.dtype
    }
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }
    pub fn size(&self) -> usize {
        numel(&self.0.shape)
    }
    pub fn itemsize(&self) -> usize {
        self.0.dtype.size()
    }
    pub fn nbytes(&self) -> usize {
        self.size() * self.itemsize()
    }
    /// The stream this array is computed on.
    pub fn stream(&self) -> Stream {
        self.0.stream
    }
    /// A number unique to this array's node (for traces and debugging).
    pub fn id(&self) -> u64 {
        self.0.id
    }
    /// The name of the op that computes this array, or `None` once evaluated or for data.
    pub fn op_name(&self) -> Option<&'static str> {
        match &*self.0.state.lock().unwrap() {
            NodeState::Lazy(r) => Some(r.op.name()),
            _ => None,
        }
    }

    /// True once the array's result (data or error) is known.
    pub fn is_available(&self) -> bool {
        self.0.result.get().is_some()
    }

    /// The error this array failed with, if its evaluation failed (None while pending).
    pub fn error(&self) -> Option<Error> {
        match self.0.result.get() {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// Evaluates this array (and what it depends on); returns its error if it failed.
    pub fn eval(&self) -> Result<()> {
        crate::eval(&[self])
    }

    /// The evaluated data (evaluating first).
    pub fn data(&self) -> Result<&Data> {
        self.eval()?;
        match self.0.result.get() {
            Some(Ok(d)) => Ok(d),
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("eval returned before the result was set"),
        }
    }

    /// The one element of a one-element array, converted to `T`.
    pub fn item<T: Element>(&self) -> Result<T> {
        if self.size() != 1 {
            return Err(Error::shape(
                "item",
                format!(
                    "item() needs an array of one element, this one has shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(self.to_vec::<T>()?[0])
    }

    /// All elements in row-major order, converted to `T`.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let a = if self.dtype() == T::DTYPE {
            self.clone()
        } else {
            crate::ops::astype(self, T::DTYPE, self.stream())?
        };
        let data = a.data()?;
        Ok(crate::backend::cpu::strided::gather_to_vec::<T>(
            data,
            a.shape(),
        ))
    }

    /// The layout of the evaluated data (evaluating first).
    pub fn layout(&self) -> Result<Layout> {
        Ok(self.data()?.layout.clone())
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Array(shape={:?}, dtype={}, stream={})",
            self.shape(),
            self.dtype(),
            self.stream()
        )
    }
}
