//! Fusing lazy elementwise chains when they are submitted ("auto-fusion"): a group of elementwise
//! float ops on one stream whose intermediate values nobody else holds runs as one `Op::Fused`
//! node (`fusion.rs`), so a GPU launches one kernel for `y + 1 + 1 + ...` instead of one per op,
//! and no intermediate is allocated. A sum, prod, max or min over trailing axes of such a chain
//! (`((x - y) ** 2).sum(-1)`) ends the same node: the chain's values are combined as they are
//! computed, never stored (CPU streams; a GPU runs fused reductions only through `compile`).
//! `compile` fuses a traced function the same way (`transforms/fuse.rs`); this pass fuses the
//! lazy graphs users build without it.
//!
//! # Rules
//!
//! 1. **Only values nobody can see are fused away.** A node joins a group only while every handle
//!    to it is an input of the group's members (its reference count says so): the user holds no
//!    handle, no other node reads it, no transform's tape recorded it, no other `eval` is
//!    submitting it. Such a node can never be evaluated on its own, so computing it inside the
//!    group is unobservable.
//! 2. **Only the root's recipe changes.** Members keep their lazy state and recipes; they vanish
//!    when the root's old recipe is dropped. A graph walk taking a handle at the same moment (after
//!    the count was read) therefore still holds a valid lazy node it can evaluate by itself.
//! 3. **Values never change.** A fused program computes each op with that op's own element
//!    function on the same stream (fusion.rs, rule 3 of `transforms/fuse.rs`), so results are the
//!    op-by-op results bit for bit; errors cannot differ either (elementwise float ops fail only
//!    for memory, and the group needs less of it).
//! 4. **The backend decides when.** `Backend::fusion_ready` is asked for every group: the GPU says
//!    yes only for programs whose kernel is already loaded and compiles a new program's kernel in
//!    the background, so fusion never makes an `eval` wait for NVRTC (a new chain runs op by op
//!    until its kernel exists); the CPU runs any program at once.
//! 5. **Locks.** Runs inside `submit`, under `SUBMIT`, with the root's state lock held; members
//!    are locked one at a time after it (parent before input, as everywhere).
//!
//! Which devices fuse is a process-wide setting ([`set_auto_fusion`], or `RILL_AUTO_FUSE` =
//! `off` / `cpu` / `gpu` / `all` at start-up). The default is every stream: on the CPU a fused
//! chain makes one pass over memory instead of one per op (a chain of 24 ops over 4 Mi floats:
//! 19.2 -> 15.1 ms on 2 cores) and fewer tasks (a lazy chain of tiny ops: 0.50 -> 0.32 µs per op
//! in Rust); on a GPU one launch instead of one per op (a lazy chain of tiny ops on the H200:
//! 5.67 -> 1.93 µs per op). A process may exit while the background compiler is inside NVRTC:
//! the compiler's exit handler runs before NVRTC's and cuBLASLt's own and waits for it
//! (`backend/cuda/background.rs`, rules 6-7; runs K-R in docs/benchmarks.md). Timelines name a
//! fused node by the ops it replaced (`fused(multiply,add,tanh)`, `fused(subtract,square;sum)`);
//! `off` brings the ops back one by one.

use crate::array::{Array, NodeState, Recipe};
use crate::fusion::{fusible_binary, fusible_unary, leading_broadcast, trailing_reduce};
use crate::fusion::{FusedKernel, FusedReduce, Inst, Operand};
use crate::op::{BinaryOp, Op, UnaryOp};
use crate::shape::numel;
use crate::{backend, DeviceType, Dtype};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// Ops one fused node computes at most: enough to divide a chain's launches by 32, few enough
/// that a kernel compiles in a few milliseconds and the structures a program meets stay few.
pub const MAX_OPS: usize = 32;

/// Distinct inputs one fused node reads at most (a GPU kernel's parameter block holds eight).
/// One-element host constants of equal value count once.
pub const MAX_INPUTS: usize = 8;

/// Which streams' lazy elementwise chains [`submit`](super::submit) fuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoFusion {
    /// None: every op runs as its own node.
    Off,
    /// CPU streams only.
    Cpu,
    /// Streams of devices other than the CPU.
    Gpu,
    /// Every stream (the default).
    All,
}

/// 0: not read from the environment yet; else `AutoFusion as u8 + 1`.
static MODE: AtomicU8 = AtomicU8::new(0);

/// Sets which streams fuse lazy elementwise chains from now on (graphs already submitted are not
/// affected).
pub fn set_auto_fusion(mode: AutoFusion) {
    MODE.store(mode as u8 + 1, Ordering::Relaxed);
}

/// The current setting: [`set_auto_fusion`]'s, else `RILL_AUTO_FUSE`'s (`off`, `gpu`, `all`),
/// else [`AutoFusion::All`].
pub fn auto_fusion() -> AutoFusion {
    match MODE.load(Ordering::Relaxed) {
        1 => AutoFusion::Off,
        2 => AutoFusion::Cpu,
        3 => AutoFusion::Gpu,
        4 => AutoFusion::All,
        _ => {
            let mode = match std::env::var("RILL_AUTO_FUSE").as_deref() {
                Ok("off") | Ok("0") => AutoFusion::Off,
                Ok("cpu") => AutoFusion::Cpu,
                Ok("gpu") => AutoFusion::Gpu,
                Ok("all") => AutoFusion::All,
                _ => AutoFusion::All,
            };
            // A concurrent `set_auto_fusion` wins over the environment.
            let _ = MODE.compare_exchange(0, mode as u8 + 1, Ordering::Relaxed, Ordering::Relaxed);
            auto_fusion()
        }
    }
}

/// Replaces the recipe of `root` (lazy, its state lock held by the caller) with one fused node
/// computing it and the lazy elementwise ops behind it that only it reads, when there are any and
/// its backend is ready for the program. Returns the old recipe, to be dropped after the lock is
/// released (dropping it frees the members).
pub(super) fn fuse(root: &Array, recipe: &mut Recipe) -> Option<Recipe> {
    let stream = root.stream();
    let device_fuses = match auto_fusion() {
        AutoFusion::Off => false,
        AutoFusion::Cpu => stream.device().kind == DeviceType::Cpu,
        AutoFusion::Gpu => stream.device().kind != DeviceType::Cpu,
        AutoFusion::All => true,
    };
    if !device_fuses {
        return None;
    }
    let kernel = if let Some(reduce) = fusible_reduction(root, recipe) {
        // The reduced value (checked by `fusible_reduction`: lazy, held by this recipe alone)
        // roots the elementwise group; the reduction combines its results.
        let top = &recipe.inputs[0];
        let state = top.0.state.lock().unwrap_or_else(|e| e.into_inner());
        let NodeState::Lazy(top_recipe) = &*state else {
            return None;
        };
        if !elementwise(&top_recipe.op, top, &top_recipe.inputs) {
            return None;
        }
        let mut group = Group::default();
        group.start(top, top_recipe)?;
        group.grow(top);
        group.program(top, Some(reduce))
    } else {
        if !elementwise(&recipe.op, root, &recipe.inputs) {
            return None;
        }
        // Most roots read nothing fusible (an op after an eval, a matmul's scale): leave at once.
        if !recipe.inputs.iter().any(|x| candidate(x, root)) {
            return None;
        }
        let mut group = Group::default();
        group.start(root, recipe)?;
        group.grow(root);
        group.program(root, None)
    };
    let (kernel, inputs) = kernel?;
    let kernel = Arc::new(kernel);
    if !backend::of("eval", stream.device())
        .ok()?
        .fusion_ready(&kernel, stream)
    {
        return None;
    }
    let fused = Recipe {
        op: Op::Fused(kernel),
        inputs,
    };
    Some(std::mem::replace(recipe, fused))
}

/// For a reduction a fused kernel can end with (sum, prod, max, min over trailing axes, keeping
/// the input's float dtype) of a lazy value of the same stream that this recipe alone holds: what
/// the fused node reduces, per output element.
fn fusible_reduction(root: &Array, recipe: &Recipe) -> Option<FusedReduce> {
    let Op::Reduce { op, ref axes } = recipe.op else {
        return None;
    };
    let x = recipe.inputs.first()?;
    // Rule 1 for the reduced value: the recipe's handle is the only one.
    let ok = !x.is_available()
        && x.dtype() == root.dtype()
        && x.stream() == root.stream()
        && Arc::strong_count(&x.0) == 1;
    ok.then(|| trailing_reduce(op, axes, x.shape())).flatten()
}

/// True for an op a fused kernel computes, producing `out`'s dtype (float32 or float64) from
/// inputs of that dtype that are full-shape or broadcast along leading dims.
fn elementwise(op: &Op, out: &Array, inputs: &[Array]) -> bool {
    let op_ok = match *op {
        Op::Unary(u) => fusible_unary(u),
        Op::Binary(b) => fusible_binary(b),
        _ => false,
    };
    op_ok
        && matches!(out.dtype(), Dtype::Float32 | Dtype::Float64)
        && numel(out.shape()) > 0
        && inputs
            .iter()
            .all(|x| x.dtype() == out.dtype() && leading_broadcast(x.shape(), out.shape()))
}

/// Whether `x` could be a member of `root`'s group, judged without its lock: still lazy, and of
/// the root's shape, dtype and stream.
fn candidate(x: &Array, root: &Array) -> bool {
    !x.is_available()
        && x.shape() == root.shape()
        && x.dtype() == root.dtype()
        && x.stream() == root.stream()
}

/// How the fused node names an input: one-element host constants by dtype and bits (the `1` of
/// each `y + 1` of a chain is a node of its own; one slot serves them all), anything else by node.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Constant(Dtype, u64),
    Node(u64),
}

fn key(x: &Array) -> Key {
    match x.0.result.get() {
        Some(Ok(d)) if numel(x.shape()) == 1 && d.is_host() && x.dtype().size() <= 8 => {
            Key::Constant(x.dtype(), d.first_element_bits(x.dtype().size()))
        }
        _ => Key::Node(x.id()),
    }
}

/// A member's op, as an instruction will name it.
#[derive(Clone, Copy)]
enum MemberOp {
    Unary(UnaryOp),
    Binary(BinaryOp),
}

struct Member {
    id: u64,
    op: MemberOp,
    inputs: SmallVec<[u64; 2]>,
}

/// A node some member reads: one handle of ours, and how many member inputs name it.
struct Read {
    array: Array,
    reads: usize,
}

/// A group being grown backwards from its root. Groups are small (at most `MAX_OPS` members,
/// a few reads each), so lookups are linear scans of short vectors: cheaper than hashing here,
/// where the pass runs once per submitted op. It is large (~900 bytes inline) and never moved:
/// built in place and used by reference (moving it cost a copy per submitted op).
#[derive(Default)]
struct Group {
    /// The root first, then members in the order they joined.
    members: SmallVec<[Member; 8]>,
    /// Every node some member reads.
    read: SmallVec<[Read; 16]>,
    /// Inputs of the group as it stands (read nodes that are not members), by key, with how
    /// many read nodes share the key.
    outside: SmallVec<[(Key, usize); MAX_INPUTS]>,
    /// Read nodes that may still join; the highest id is taken first.
    pending: SmallVec<[u64; 8]>,
}

fn member_op(op: &Op) -> Option<MemberOp> {
    match *op {
        Op::Unary(u) => Some(MemberOp::Unary(u)),
        Op::Binary(b) => Some(MemberOp::Binary(b)),
        _ => None,
    }
}

impl Group {
    /// Makes `root` (whose recipe is `recipe`) the first member; None if its op cannot be one.
    fn start(&mut self, root: &Array, recipe: &Recipe) -> Option<()> {
        self.join(root.id(), member_op(&recipe.op)?, &recipe.inputs, root);
        Some(())
    }

    /// Removes and returns the highest pending id.
    fn pop_pending(&mut self) -> Option<u64> {
        let (at, _) = self.pending.iter().enumerate().max_by_key(|(_, &id)| id)?;
        Some(self.pending.swap_remove(at))
    }

    fn read_index(&self, id: u64) -> Option<usize> {
        self.read.iter().position(|r| r.array.id() == id)
    }

    fn outside_index(&self, k: Key) -> Option<usize> {
        self.outside.iter().position(|(o, _)| *o == k)
    }

    fn join(&mut self, id: u64, op: MemberOp, inputs: &[Array], root: &Array) {
        for x in inputs {
            match self.read_index(x.id()) {
                Some(i) => self.read[i].reads += 1,
                None => {
                    let k = key(x);
                    match self.outside_index(k) {
                        Some(i) => self.outside[i].1 += 1,
                        None => self.outside.push((k, 1)),
                    }
                    if candidate(x, root) {
                        self.pending.push(x.id());
                    }
                    self.read.push(Read {
                        array: x.clone(),
                        reads: 1,
                    });
                }
            }
        }
        self.members.push(Member {
            id,
            op,
            inputs: inputs.iter().map(Array::id).collect(),
        });
    }

    /// Takes in pending nodes, highest id first, while the group has room. A node's readers all
    /// have higher ids than it (a recipe names existing nodes), so when a node is looked at, every
    /// member that will ever read it has joined: its count of reads is final.
    fn grow(&mut self, root: &Array) {
        while let Some(id) = self.pop_pending() {
            if self.members.len() == MAX_OPS {
                return;
            }
            let Some(at) = self.read_index(id) else {
                continue;
            };
            let Read { array, reads } = &self.read[at];
            // Ours is one handle; every other one must be a member's input (rule 1).
            if Arc::strong_count(&array.0) != reads + 1 {
                continue;
            }
            let x = array.clone();
            let state = x.0.state.lock().unwrap_or_else(|e| e.into_inner());
            let NodeState::Lazy(recipe) = &*state else {
                continue;
            };
            let Some(op) = member_op(&recipe.op) else {
                continue;
            };
            if !elementwise(&recipe.op, &x, &recipe.inputs) || !self.fits(&x, &recipe.inputs) {
                continue;
            }
            // A lazy node's key is its own: it was counted once, and leaves the inputs now.
            if let Some(i) = self.outside_index(Key::Node(id)) {
                self.outside[i].1 -= 1;
                if self.outside[i].1 == 0 {
                    self.outside.swap_remove(i);
                }
            }
            self.join(id, op, &recipe.inputs, root);
        }
    }

    /// Whether the group still reads at most `MAX_INPUTS` distinct inputs once `x` (one of them
    /// now) joins and its own inputs become the group's.
    fn fits(&self, x: &Array, inputs: &[Array]) -> bool {
        let mut count = self.outside.len();
        if self
            .outside_index(Key::Node(x.id()))
            .is_some_and(|i| self.outside[i].1 == 1)
        {
            count -= 1;
        }
        let mut new: SmallVec<[Key; 2]> = SmallVec::new();
        for i in inputs {
            if self.read_index(i.id()).is_some() {
                continue;
            }
            let k = key(i);
            if self.outside_index(k).is_none() && !new.contains(&k) {
                new.push(k);
            }
        }
        count + new.len() <= MAX_INPUTS
    }

    /// The fused program and its inputs, ending with `reduce` when given; None when it would
    /// replace a single op.
    fn program(
        &mut self,
        root: &Array,
        reduce: Option<FusedReduce>,
    ) -> Option<(FusedKernel, Vec<Array>)> {
        if self.members.len() < 2 && reduce.is_none() {
            return None;
        }
        // Ascending ids are an order in which every member comes after the members it reads.
        self.members.sort_unstable_by_key(|m| m.id);
        let mut slots: SmallVec<[Key; MAX_INPUTS]> = SmallVec::new();
        let mut inputs: Vec<Array> = Vec::with_capacity(self.outside.len());
        let mut insts = Vec::with_capacity(self.members.len());
        for m in &self.members {
            let mut operand = |id: u64| match self.members.binary_search_by_key(&id, |m| m.id) {
                Ok(i) => Operand::Inst(i),
                Err(_) => {
                    let x =
                        &self.read[self.read_index(id).expect("a member's input is read")].array;
                    let k = key(x);
                    Operand::Input(match slots.iter().position(|s| *s == k) {
                        Some(slot) => slot,
                        None => {
                            slots.push(k);
                            inputs.push(x.clone());
                            slots.len() - 1
                        }
                    })
                }
            };
            let inst = match m.op {
                MemberOp::Unary(u) => Inst::Unary(u, operand(m.inputs[0])),
                MemberOp::Binary(b) => {
                    let a = operand(m.inputs[0]);
                    Inst::Binary(b, a, operand(m.inputs[1]))
                }
            };
            insts.push(inst);
        }
        let kernel = FusedKernel {
            dtype: root.dtype(),
            shape: root.shape().to_vec(),
            insts,
            reduce,
        };
        Some((kernel, inputs))
    }
}
