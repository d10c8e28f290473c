//! `Array`: a cheap, thread-safe handle to a node of the lazy graph.
//!
//! A node is born either evaluated (made from host data) or lazy (an op and its inputs, the
//! "recipe"). Evaluating it moves the recipe into a task on the node's stream; when the task has
//! run, the node holds its result (data or the error that stopped it) and no longer references its
//! inputs, so their memory can go as soon as nothing else needs it.
//!
//! Rules (shared with `scheduler`): `result` is written once, before the node's waiters are woken;
//! `state` changes `Lazy -> Scheduled -> Done` under its mutex, and only the scheduler moves it.
//! An array lives on the device that computed it (or, made from host data, on the host); when an
//! op on another device (or a host read) needs it, a copy is made there once and kept in `copies`
//! for later reads, so a value read twice from the GPU or printed twice is copied once.

use crate::backend::Input;
use crate::memory::Data;
use crate::op::Op;
use crate::scheduler::Waiter;
use crate::shape::{numel, Dims, Layout};
use crate::{backend, Device, Dtype, Element, Error, Result, Stream, StreamOrDevice};
use smallvec::SmallVec;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A lazily evaluated n-dimensional array. Cloning shares the node.
#[derive(Clone)]
pub struct Array(pub(crate) Arc<Node>);

/// Fields in the order they are declared (`repr(C)`), the ones every op and every submission
/// reads first: a graph of thousands of nodes is out of the cache by the time `eval` walks it, and
/// with the compiler's order the dtype sat four cache lines past the shape (submitting a chain of
/// matmuls and fused steps spent a fifth of its time on that one load).
#[repr(C)]
pub(crate) struct Node {
    pub(crate) id: u64,
    pub(crate) stream: Stream,
    pub(crate) dtype: Dtype,
    /// Inline for up to six dims: nodes are built on one thread and often freed on another, and
    /// a heap-allocated shape made that a second cross-thread free per op.
    pub(crate) shape: Dims,
    pub(crate) state: Mutex<NodeState>,
    pub(crate) result: OnceLock<Result<Data>>,
    /// Copies of the result on other devices (the host included), made on first need.
    copies: Mutex<Vec<Data>>,
}

pub(crate) enum NodeState {
    Lazy(Recipe),
    /// Queued by the process of fork `generation` (see `scheduler::fork`).
    Scheduled {
        waiters: Vec<Waiter>,
        generation: u32,
    },
    Done,
}

pub(crate) struct Recipe {
    pub(crate) op: Op,
    pub(crate) inputs: Vec<Array>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The id the next node will get (ids only grow): `compile` tells what a trace built by it.
pub(crate) fn next_node_id() -> u64 {
    NEXT_ID.load(Ordering::Relaxed)
}

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
        shape: impl Into<Dims>,
        dtype: Dtype,
        stream: Stream,
        op: Op,
        inputs: Vec<Array>,
    ) -> Array {
        // An open transform keeps its own copy of the recipe (see `transforms::tape`); off, this
        // is one relaxed load.
        let traced = crate::transforms::tape::recording().then(|| (op.clone(), inputs.clone()));
        let a = Array(Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: shape.into(),
            dtype,
            stream,
            state: Mutex::new(NodeState::Lazy(Recipe { op, inputs })),
            result: OnceLock::new(),
            copies: Mutex::new(Vec::new()),
        }));
        if let Some((op, inputs)) = traced {
            crate::transforms::tape::record(&a, op, inputs);
        }
        a
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
            copies: Mutex::new(Vec::new()),
        };
        let _ = node.result.set(Ok(data));
        Array(Arc::new(node))
    }

    /// A stand-in for `self` that holds no data: the same shape, dtype and stream, already failed
    /// with `error`. A front-end that lets a user release an array early (Node's `dispose`) puts
    /// it in the released handle's place, so a later use fails with `error` (and every array built
    /// from it fails with the same error, rule 5 of the scheduler) instead of reading freed memory.
    pub fn failed_like(&self, error: Error) -> Array {
        let node = Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shape: self.0.shape.clone(),
            dtype: self.0.dtype,
            stream: self.0.stream,
            state: Mutex::new(NodeState::Done),
            result: OnceLock::new(),
            copies: Mutex::new(Vec::new()),
        };
        let _ = node.result.set(Err(error));
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
        crate::shape::check_size("array", shape, T::DTYPE)?;
        let mut buf = backend::cpu::allocator().allocate("array", std::mem::size_of_val(data))?;
        buf.as_mut_slice::<T>().copy_from_slice(data);
        Ok(Array::evaluated(
            shape.to_vec(),
            T::DTYPE,
            stream,
            Data::contiguous(buf, shape),
        ))
    }

    /// An array of `dtype` and `shape` holding a copy of `bytes` (native byte order, row-major),
    /// for work on `s`.
    pub fn from_bytes(
        bytes: &[u8],
        dtype: Dtype,
        shape: &[usize],
        s: impl Into<StreamOrDevice>,
    ) -> Result<Array> {
        let stream = s.into().resolve("array")?;
        crate::shape::check_size("array", shape, dtype)?;
        let want = numel(shape) * dtype.size();
        if bytes.len() != want {
            return Err(Error::shape(
                "array",
                format!(
                    "{} bytes cannot hold a {dtype} array of shape {shape:?} ({want} bytes)",
                    bytes.len()
                ),
            ));
        }
        if dtype == Dtype::Bool && bytes.iter().any(|&b| b > 1) {
            return Err(Error::arg(
                "array",
                "bool elements must be the bytes 0 or 1",
            ));
        }
        let mut buf = backend::cpu::allocator().allocate("array", want)?;
        buf.as_mut_slice::<u8>().copy_from_slice(bytes);
        Ok(Array::evaluated(
            shape.to_vec(),
            dtype,
            stream,
            Data::contiguous(buf, shape),
        ))
    }

    /// An evaluated array of `shape` and `dtype` over existing `data` (any device; host memory
    /// that rill does not own comes in through [`crate::memory::Buffer::external_host`]), for work on `s`. The
    /// layout must address only elements inside the buffer, aligned for `dtype`.
    pub fn from_data(
        shape: &[usize],
        dtype: Dtype,
        data: Data,
        s: impl Into<StreamOrDevice>,
    ) -> Result<Array> {
        let stream = s.into().resolve("array")?;
        crate::shape::check_size("array", shape, dtype)?;
        if data.layout.strides.len() != shape.len() {
            return Err(Error::shape(
                "array",
                format!(
                    "a layout of {} strides cannot describe shape {shape:?}",
                    data.layout.strides.len()
                ),
            ));
        }
        let (_, hi) = data.span(shape);
        let fits = numel(shape) == 0
            || hi
                .checked_mul(dtype.size())
                .is_some_and(|b| b <= data.buffer.len());
        let aligned = (data.buffer.as_ptr() as usize).is_multiple_of(dtype.size().clamp(1, 8));
        if !fits || !aligned {
            return Err(Error::arg(
                "array",
                format!(
                    "the layout {:?} of a {dtype} array of shape {shape:?} does not fit a buffer of {} bytes at an address aligned for {dtype}",
                    data.layout,
                    data.buffer.len()
                ),
            ));
        }
        Ok(Array::evaluated(shape.to_vec(), dtype, stream, data))
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

    /// True once the array's result (data or error) is known. On a device that runs work
    /// asynchronously the data may still be being computed: see [`Array::is_ready`].
    pub fn is_available(&self) -> bool {
        self.0.result.get().is_some()
    }

    /// True once the array's value can be read without waiting: its result is known and, on an
    /// asynchronous device, the work that writes its data has finished. What front-ends report.
    pub fn is_ready(&self) -> bool {
        match self.0.result.get() {
            Some(Ok(d)) => d.buffer.is_ready(),
            Some(Err(_)) => true,
            None => false,
        }
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

    /// The evaluated data, on the device that computed it (evaluating first). Device memory
    /// cannot be read from the host: use [`host_data`](Self::host_data) for that.
    pub fn data(&self) -> Result<&Data> {
        self.eval()?;
        match self.0.result.get() {
            Some(Ok(d)) => Ok(d),
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("eval returned before the result was set"),
        }
    }

    /// The result's data once it is known, on the device that computes it, without waiting for
    /// that device's work to finish (for a consumer that orders its own work after it:
    /// `crate::interop`). Starts the evaluation if nobody has.
    pub(crate) fn available_data(&self) -> Result<Data> {
        if !self.is_available() {
            // The handle is not needed: waiting for availability below is all that is wanted.
            let _started = crate::scheduler::async_eval(&[self]);
            crate::scheduler::wait(self);
        }
        match self.0.result.get() {
            Some(Ok(d)) => Ok(d.clone()),
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("wait returned before the result was set"),
        }
    }

    /// The evaluated data in host memory, readable with `Buffer::as_slice`: the data itself when
    /// it lives on the host, else a copy made once its device work is done (and kept for later
    /// reads). Every host read of an array (printing, `to_vec`, NumPy, `item`) goes through here.
    pub fn host_data(&self) -> Result<Data> {
        self.data_on(Device::cpu(), self.stream())
    }

    /// The evaluated data on `device`: the result itself when it lives there, else a copy made
    /// on `stream` (a stream of `device`; any stream when `device` is the CPU), kept for later.
    pub(crate) fn data_on(&self, device: Device, stream: Stream) -> Result<Data> {
        let data = self.data()?;
        if data.device() == device {
            data.buffer.wait_ready()?;
            return Ok(data.clone());
        }
        let mut copies = self.0.copies.lock().unwrap();
        if let Some(c) = copies.iter().find(|c| c.device() == device) {
            return Ok(c.clone());
        }
        let copy = backend::transfer(&self.input_view(data), device, stream)?;
        copies.push(copy.clone());
        Ok(copy)
    }

    /// The result data of an evaluated array on `device`, for a task running there: the result
    /// itself, or a copy (made on `stream` and kept). The scheduler guarantees the result is set.
    pub(crate) fn input_on(&self, device: Device, stream: Stream) -> Result<Data> {
        match self.0.result.get() {
            Some(Ok(d)) if d.device() == device => Ok(d.clone()),
            Some(Ok(d)) => {
                let mut copies = self.0.copies.lock().unwrap();
                if let Some(c) = copies.iter().find(|c| c.device() == device) {
                    return Ok(c.clone());
                }
                let copy = backend::transfer(&self.input_view(d), device, stream)?;
                copies.push(copy.clone());
                Ok(copy)
            }
            Some(Err(e)) => Err(e.clone()),
            None => unreachable!("a task ran before its input {self:?} was available"),
        }
    }

    /// This array's data when it is one element of at most 8 bytes in host memory and available:
    /// what a device backend takes by value instead of as a copy on the device.
    pub(crate) fn host_scalar(&self) -> Option<Data> {
        if self.size() != 1 || self.dtype().size() > 8 {
            return None;
        }
        match self.0.result.get() {
            Some(Ok(d)) if d.is_host() => Some(d.clone()),
            _ => None,
        }
    }

    fn input_view<'a>(&'a self, data: &'a Data) -> Input<'a> {
        Input {
            shape: self.shape(),
            dtype: self.dtype(),
            data,
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
        let data = a.host_data()?;
        Ok(crate::backend::cpu::strided::gather_to_vec::<T>(
            &data,
            a.shape(),
        ))
    }

    /// The layout of the evaluated data (evaluating first).
    pub fn layout(&self) -> Result<Layout> {
        Ok(self.data()?.layout.clone())
    }

    /// The device this array's data lives on once evaluated (its stream's device for lazy
    /// arrays; the host for arrays made from host data and not yet moved).
    pub fn data_device(&self) -> Device {
        match self.0.result.get() {
            Some(Ok(d)) => d.device(),
            _ => self.stream().device(),
        }
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
