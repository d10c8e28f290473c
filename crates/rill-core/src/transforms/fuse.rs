//! `compile`'s fusion pass: groups of elementwise float ops (and a reduction over trailing axes
//! after them) become one `Op::Fused` node, so a replay reads its inputs and writes its result
//! once instead of once per op (`fusion.rs` says what the node computes).
//!
//! A group grows backwards from a root (an elementwise op, or a reduction whose input is one)
//! through the steps it reads. A step joins when it is an elementwise float op of the group's
//! shape, dtype and stream, every step that reads it is already in the group, and it is neither an
//! output of the program nor part of a custom function's call (those must stay nodes of their
//! own: the caller holds them, or the custom rules name them). Inputs of a member that are not
//! members (function inputs, constants, other steps) become the fused node's inputs; they may be
//! full-shape, single elements, or broadcast along leading dims.
//!
//! # Rules
//! 1. A group's ops all run on one stream, so the fused node runs where each of them would have
//!    run: one loop on a CPU stream (`backend/cpu/fused.rs`), one NVRTC kernel on a GPU stream
//!    (`backend/cuda/kernels/fused.rs`).
//! 2. A fused program is replayed only outside every transform: a grad, vjp, jvp or vmap that
//!    calls a compiled function while tracing gets the unfused steps, which have rules. So no rule
//!    ever meets a fused node.
//! 3. Fusion never changes a value: each member computes with its own kernel's element function,
//!    and a fused reduction combines in its kernel's order, on either device.

use super::compile::{CustomStep, NodeStep, Source, Step};
use crate::fusion::{fusible_binary, fusible_unary, leading_broadcast, trailing_reduce};
use crate::fusion::{FusedKernel, Inst, Operand};
use crate::op::Op;
use crate::shape::numel;
use crate::Dtype;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;

/// Steps and outputs with groups fused, and the number of nodes the fusion saved; None when no
/// group formed.
pub(super) fn fuse(
    steps: &[Step],
    outputs: &[Source],
    inputs: &[(Vec<usize>, Dtype)],
) -> Option<(Vec<Step>, Vec<Source>, usize)> {
    let graph = Graph::new(steps, outputs, inputs);
    let mut in_group = vec![false; steps.len()];
    // Root index -> (the fused step, members other than the root).
    let mut fused: HashMap<usize, (NodeStep, BTreeSet<usize>)> = HashMap::new();
    for root in (0..steps.len()).rev() {
        if in_group[root] {
            continue;
        }
        if let Some((step, members)) = graph.group(root, &in_group) {
            for &m in &members {
                in_group[m] = true;
            }
            in_group[root] = true;
            fused.insert(root, (step, members));
        }
    }
    if fused.is_empty() {
        return None;
    }
    // Renumber: members vanish, roots become fused steps.
    let mut index: Vec<Option<usize>> = vec![None; steps.len()];
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    let map = |index: &[Option<usize>], s: &Source| match s {
        Source::Step(i) => Source::Step(index[*i].expect("a member is read only by its group")),
        other => other.clone(),
    };
    for (i, step) in steps.iter().enumerate() {
        let new = match (fused.get(&i), step) {
            (Some((node, _)), _) => Step::Node(NodeStep {
                inputs: node.inputs.iter().map(|s| map(&index, s)).collect(),
                ..node.clone()
            }),
            (None, _) if in_group[i] => continue,
            (None, Step::Node(node)) => Step::Node(NodeStep {
                inputs: node.inputs.iter().map(|s| map(&index, s)).collect(),
                ..node.clone()
            }),
            (None, Step::Custom(call)) => Step::Custom(CustomStep {
                primals: call.primals.iter().map(|s| map(&index, s)).collect(),
                outputs: call.outputs.iter().map(|s| map(&index, s)).collect(),
                ..call.clone()
            }),
        };
        if matches!(new, Step::Node(_)) {
            index[i] = Some(out.len());
        }
        out.push(new);
    }
    let saved = steps.len() - out.len();
    let outputs = outputs.iter().map(|s| map(&index, s)).collect();
    Some((out, outputs, saved))
}

/// What the pass needs to know of each step: who reads it, and whether it must stay a node.
struct Graph<'a> {
    steps: &'a [Step],
    inputs: &'a [(Vec<usize>, Dtype)],
    readers: Vec<Vec<usize>>,
    /// Program outputs and the steps a custom call names.
    pinned: Vec<bool>,
}

impl<'a> Graph<'a> {
    fn new(steps: &'a [Step], outputs: &[Source], inputs: &'a [(Vec<usize>, Dtype)]) -> Self {
        let mut readers = vec![Vec::new(); steps.len()];
        let mut pinned = vec![false; steps.len()];
        for (j, step) in steps.iter().enumerate() {
            match step {
                Step::Node(node) => {
                    for s in &node.inputs {
                        if let Source::Step(i) = s {
                            readers[*i].push(j);
                        }
                    }
                }
                Step::Custom(call) => {
                    for s in call.primals.iter().chain(&call.outputs) {
                        if let Source::Step(i) = s {
                            pinned[*i] = true;
                        }
                    }
                }
            }
        }
        for s in outputs {
            if let Source::Step(i) = s {
                pinned[*i] = true;
            }
        }
        Graph {
            steps,
            inputs,
            readers,
            pinned,
        }
    }

    fn node(&self, i: usize) -> Option<&NodeStep> {
        match &self.steps[i] {
            Step::Node(node) => Some(node),
            Step::Custom(_) => None,
        }
    }

    fn meta(&self, s: &Source) -> (Vec<usize>, Dtype) {
        match s {
            Source::Input(i) => self.inputs[*i].clone(),
            Source::Step(i) => match self.node(*i) {
                Some(n) => (n.shape.clone(), n.dtype),
                // A custom call has no value of its own; nothing reads it as a source.
                None => (vec![], Dtype::Bool),
            },
            Source::Const(a) => (a.shape().to_vec(), a.dtype()),
        }
    }

    /// True for an elementwise float op a fused kernel computes, with inputs of its dtype that are full-shape or broadcast along leading dims.
    fn elementwise(&self, i: usize) -> bool {
        let Some(n) = self.node(i) else {
            return false;
        };
        let op_ok = match n.op {
            Op::Unary(u) => fusible_unary(u),
            Op::Binary(b) => fusible_binary(b),
            _ => false,
        };
        op_ok
            && matches!(n.dtype, Dtype::Float32 | Dtype::Float64)
            && numel(&n.shape) > 0
            && n.inputs.iter().all(|s| {
                let (shape, dtype) = self.meta(s);
                dtype == n.dtype && leading_broadcast(&shape, &n.shape)
            })
    }

    /// The fused step rooted at `root` and its other members, when fusing saves a node.
    fn group(&self, root: usize, taken: &[bool]) -> Option<(NodeStep, BTreeSet<usize>)> {
        let node = self.node(root)?;
        // The elementwise step on top and, for a reduction root, what it reduces.
        let (top, reduce) = match &node.op {
            Op::Reduce { op, axes } => {
                let Source::Step(top) = node.inputs[0] else {
                    return None;
                };
                let t = self.node(top)?;
                let reduce = trailing_reduce(*op, axes, &t.shape)?;
                let ok = !taken[top]
                    && !self.pinned[top]
                    && self.readers[top].iter().all(|&r| r == root)
                    && self.elementwise(top)
                    && t.dtype == node.dtype
                    && t.stream == node.stream;
                if !ok {
                    return None;
                }
                (top, Some(reduce))
            }
            _ if self.elementwise(root) => (root, None),
            _ => return None,
        };
        let t = self.node(top)?;
        let mut members: BTreeSet<usize> = BTreeSet::from([top]);
        let mut decided: BTreeSet<usize> = BTreeSet::from([top]);
        let mut candidates: BinaryHeap<usize> = step_inputs(t).collect();
        // Highest index first: every reader of a candidate is decided before it (readers come
        // after what they read), so "all readers are members" is final when it is checked.
        while let Some(c) = candidates.pop() {
            if !decided.insert(c) {
                continue;
            }
            let joins = !taken[c]
                && !self.pinned[c]
                && self.elementwise(c)
                && self.node(c).is_some_and(|n| {
                    n.shape == t.shape && n.dtype == t.dtype && n.stream == t.stream
                })
                && self.readers[c].iter().all(|r| members.contains(r));
            if joins {
                members.insert(c);
                candidates.extend(step_inputs(self.node(c)?));
            }
        }
        if members.len() < 2 && reduce.is_none() {
            return None;
        }
        // Inputs of the fused node, in the order members first read them.
        let mut externals: Vec<Source> = Vec::new();
        let mut external_of: HashMap<(u8, u64), usize> = HashMap::new();
        let mut inst_of: HashMap<usize, usize> = HashMap::new();
        let mut insts = Vec::with_capacity(members.len());
        for &m in &members {
            let n = self.node(m)?;
            let mut operand = |s: &Source| match s {
                Source::Step(i) if members.contains(i) => Operand::Inst(inst_of[i]),
                _ => Operand::Input(*external_of.entry(s.key()).or_insert_with(|| {
                    externals.push(s.clone());
                    externals.len() - 1
                })),
            };
            let inst = match n.op {
                Op::Unary(u) => Inst::Unary(u, operand(&n.inputs[0])),
                Op::Binary(b) => {
                    let a = operand(&n.inputs[0]);
                    Inst::Binary(b, a, operand(&n.inputs[1]))
                }
                _ => return None,
            };
            inst_of.insert(m, insts.len());
            insts.push(inst);
        }
        let kernel = FusedKernel {
            dtype: t.dtype,
            shape: t.shape.clone(),
            insts,
            reduce,
        };
        members.remove(&root);
        Some((
            NodeStep {
                op: Op::Fused(Arc::new(kernel)),
                inputs: externals,
                ..node.clone()
            },
            members,
        ))
    }
}

fn step_inputs(n: &NodeStep) -> impl Iterator<Item = usize> + '_ {
    n.inputs.iter().filter_map(|s| match s {
        Source::Step(i) => Some(*i),
        _ => None,
    })
}
