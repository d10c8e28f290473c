//! `compile`: a function traced once per input signature, then replayed without running it.
//!
//! Tracing runs the function at fresh views of its inputs with a recording open on this thread's
//! tape (`tape.rs`), exactly as the differentiating transforms do, and keeps what it built as a
//! *program*: one step per recorded node (its op, shape, dtype and stream, and each input named
//! as an input of the function, an earlier step, or a constant, i.e. an array that existed before
//! the trace: captured weights, host data). Replaying builds the same lazy nodes over new inputs
//! in one loop, with no call into the function (from Python: no Python at all).
//!
//! While a program is built, identical steps (same op, same inputs, same shape, dtype and stream)
//! are merged: common subexpressions are computed once. Then chains of elementwise float ops on
//! one stream (CPU or GPU), and a reduction after them, are fused into single nodes (`fuse.rs`): a replay
//! outside any transform builds the fused program, a replay inside one (grad of a compiled
//! function, say) builds the unfused steps, whose ops have rules.
//!
//! # Rules
//! 1. The function must be pure in rill's arrays: a replay repeats its ops, not its side effects
//!    or its host decisions. Evaluating an array the function built while it is being traced is
//!    therefore an error (its value would be frozen into the program), as in MLX.
//! 2. Random numbers drawn from the global state inside the function come from a key fixed at
//!    trace time, so a replay draws the same numbers (MLX's compile does the same unless the state
//!    is passed through the function).
//! 3. A program replays on the streams it was traced on; callers key their caches by the default
//!    stream as well as by shapes and dtypes.
//! 4. Tracing is per thread (the tape is thread-local): many threads trace and replay at once.

use super::custom::{self, CustomRules, Fun};
use super::tape::{self, Entry, Recording};
use crate::op::Op;
use crate::{Array, Dtype, Error, Result, Stream};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// Where a step's input (or a program's output) comes from.
#[derive(Clone, Debug)]
pub(super) enum Source {
    Input(usize),
    Step(usize),
    Const(Array),
}

impl Source {
    pub(super) fn key(&self) -> (u8, u64) {
        match self {
            Source::Input(i) => (0, *i as u64),
            Source::Step(i) => (1, *i as u64),
            Source::Const(a) => (2, a.id()),
        }
    }
}

/// What a replay builds, in order: a node, or a call of a custom function (written on the tape
/// again, so that transforms of the replay still use its rules: `custom.rs`).
pub(super) enum Step {
    Node(NodeStep),
    Custom(CustomStep),
}

#[derive(Clone)]
pub(super) struct CustomStep {
    pub(super) fun: Fun,
    pub(super) rules: CustomRules,
    pub(super) primals: Vec<Source>,
    pub(super) outputs: Vec<Source>,
}

#[derive(Clone)]
pub(super) struct NodeStep {
    pub(super) op: Op,
    pub(super) inputs: Vec<Source>,
    pub(super) shape: Vec<usize>,
    pub(super) dtype: Dtype,
    pub(super) stream: Stream,
    /// Built under `stop_gradient`: replayed the same way, so that gradients stop there too.
    pub(super) no_grad: bool,
}

/// The shape and dtype of one input of a program.
pub type InputMeta = (Vec<usize>, Dtype);

/// A traced function: what replaying it builds.
pub struct Program {
    inputs: Vec<(Vec<usize>, Dtype)>,
    steps: Vec<Step>,
    outputs: Vec<Source>,
    merged: usize,
    /// The steps and outputs with groups fused (`fuse.rs`), and the nodes that saved; None when
    /// nothing fused.
    fused: Option<(Vec<Step>, Vec<Source>, usize)>,
}

thread_local! {
    /// The first node id of the trace open on this thread (0: none) and the transform tracing,
    /// for rule 1.
    static TRACING_FROM: Cell<(u64, &'static str)> = const { Cell::new((0, "")) };
}

/// While alive, evaluating an array built on this thread since it began is refused (rule 1; vmap
/// has the same rule). Restores the enclosing trace's guard when dropped.
pub(super) struct EvalGuard((u64, &'static str));

impl EvalGuard {
    pub(super) fn begin(transform: &'static str) -> EvalGuard {
        let first_id = crate::array::next_node_id().max(1);
        EvalGuard(TRACING_FROM.with(|t| t.replace((first_id, transform))))
    }
}

impl Drop for EvalGuard {
    fn drop(&mut self) {
        TRACING_FROM.with(|t| t.set(self.0));
    }
}

/// Refuses to evaluate, during a trace on this thread, an array that the traced function built.
pub(crate) fn check_eval(arrays: &[&Array]) -> Result<()> {
    let (from, transform) = TRACING_FROM.with(|t| t.get());
    if from == 0 {
        return Ok(());
    }
    if let Some(a) = arrays.iter().find(|a| a.id() >= from && !a.is_available()) {
        return Err(Error::arg(
            transform,
            format!(
                "cannot evaluate an array (shape {:?}, from {}) while its function is being \
                 traced by {transform}: the function must not read the values of the arrays it \
                 builds on the host (printing, item(), tolist(), eval) or branch on them",
                a.shape(),
                a.op_name().unwrap_or("data")
            ),
        ));
    }
    Ok(())
}

impl Program {
    /// Traces `f` at `inputs` and returns the program and the outputs of this first call.
    pub fn trace(
        f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
        inputs: &[Array],
    ) -> Result<(Program, Vec<Array>)> {
        let xs = super::fresh(inputs)?;
        let rec = Recording::begin();
        let guard = EvalGuard::begin("compile");
        let outputs = f(&xs)?;
        drop(guard);
        let end = tape::len();
        let mut known: HashMap<u64, Source> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id(), Source::Input(i)))
            .collect();
        let source = |known: &HashMap<u64, Source>, a: &Array| {
            known
                .get(&a.id())
                .cloned()
                .unwrap_or_else(|| Source::Const(a.clone()))
        };
        let mut steps: Vec<Step> = Vec::new();
        // The outputs of custom calls are never merged: each call's rules get its own.
        let custom_outputs: HashSet<u64> = (rec.start()..end)
            .filter_map(|i| match &*tape::entry(i) {
                Entry::Custom(call) => Some(call.outputs.iter().map(Array::id).collect::<Vec<_>>()),
                Entry::Node(_) => None,
            })
            .flatten()
            .collect();
        // Merging: a step's identity is its op (by its Debug form), inputs, shape, dtype, stream.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merged = 0;
        for i in rec.start()..end {
            let entry = tape::entry(i);
            let e = match &*entry {
                Entry::Node(e) => e,
                Entry::Custom(call) => {
                    steps.push(Step::Custom(CustomStep {
                        fun: call.fun.clone(),
                        rules: call.rules.clone(),
                        primals: call.primals.iter().map(|x| source(&known, x)).collect(),
                        outputs: call.outputs.iter().map(|x| source(&known, x)).collect(),
                    }));
                    continue;
                }
            };
            let ins: Vec<Source> = e.inputs.iter().map(|x| source(&known, x)).collect();
            let key = format!(
                "{:?}|{:?}|{:?}|{:?}|{:?}|{}",
                e.op,
                ins.iter().map(Source::key).collect::<Vec<_>>(),
                e.out.shape(),
                e.out.dtype(),
                e.out.stream(),
                e.no_grad
            );
            let unique = custom_outputs.contains(&e.out.id());
            let at = match seen.get(&key).filter(|_| !unique) {
                Some(&j) => {
                    merged += 1;
                    j
                }
                None => {
                    steps.push(Step::Node(NodeStep {
                        op: e.op.clone(),
                        inputs: ins,
                        shape: e.out.shape().to_vec(),
                        dtype: e.out.dtype(),
                        stream: e.out.stream(),
                        no_grad: e.no_grad,
                    }));
                    if !unique {
                        seen.insert(key, steps.len() - 1);
                    }
                    steps.len() - 1
                }
            };
            known.insert(e.out.id(), Source::Step(at));
        }
        let outs: Vec<Source> = outputs.iter().map(|o| source(&known, o)).collect();
        drop(rec);
        let input_meta: Vec<(Vec<usize>, Dtype)> = inputs
            .iter()
            .map(|x| (x.shape().to_vec(), x.dtype()))
            .collect();
        let fused = super::fuse::fuse(&steps, &outs, &input_meta);
        let program = Program {
            inputs: input_meta,
            steps,
            outputs: outs,
            merged,
            fused,
        };
        Ok((program, outputs))
    }

    /// The outputs of the traced function at `inputs` (of the traced shapes and dtypes), built
    /// without calling it.
    pub fn replay(&self, inputs: &[Array]) -> Result<Vec<Array>> {
        if inputs.len() != self.inputs.len()
            || inputs
                .iter()
                .zip(&self.inputs)
                .any(|(x, (shape, dtype))| x.shape() != shape.as_slice() || x.dtype() != *dtype)
        {
            return Err(Error::arg(
                "compile",
                format!(
                    "a program traced for inputs {:?} cannot replay inputs {:?}",
                    self.inputs,
                    inputs
                        .iter()
                        .map(|x| (x.shape().to_vec(), x.dtype()))
                        .collect::<Vec<_>>()
                ),
            ));
        }
        // Transforms need the steps that have rules (`fuse.rs`, rule 2).
        let (steps, outputs) = match &self.fused {
            Some((steps, outputs, _)) if !tape::recording() => (steps, outputs),
            _ => (&self.steps, &self.outputs),
        };
        // One slot per step; a custom call's slot stays empty (its outputs are node steps).
        let mut built: Vec<Option<Array>> = Vec::with_capacity(steps.len());
        let get = |built: &[Option<Array>], s: &Source| match s {
            Source::Input(i) => inputs[*i].clone(),
            Source::Step(i) => built[*i]
                .clone()
                .expect("a source names a node step built before it"),
            Source::Const(a) => a.clone(),
        };
        for step in steps {
            match step {
                Step::Node(step) => {
                    let ins = step.inputs.iter().map(|s| get(&built, s)).collect();
                    let build = || {
                        Array::lazy(
                            step.shape.clone(),
                            step.dtype,
                            step.stream,
                            step.op.clone(),
                            ins,
                        )
                    };
                    built.push(Some(if step.no_grad {
                        tape::untraced(build)
                    } else {
                        build()
                    }));
                }
                Step::Custom(call) => {
                    custom::record(
                        call.fun.clone(),
                        call.rules.clone(),
                        call.primals.iter().map(|s| get(&built, s)).collect(),
                        call.outputs.iter().map(|s| get(&built, s)).collect(),
                    );
                    built.push(None);
                }
            }
        }
        Ok(outputs.iter().map(|s| get(&built, s)).collect())
    }

    /// A program from its unfused parts (what `export.rs` reads), fused as a trace's would be.
    pub(super) fn from_parts(
        inputs: Vec<(Vec<usize>, Dtype)>,
        steps: Vec<Step>,
        outputs: Vec<Source>,
    ) -> Program {
        let fused = super::fuse::fuse(&steps, &outputs, &inputs);
        Program {
            inputs,
            steps,
            outputs,
            merged: 0,
            fused,
        }
    }

    /// The inputs' shapes and dtypes, the unfused steps and the outputs (what `export.rs`
    /// writes).
    pub(super) fn parts(&self) -> (&[InputMeta], &[Step], &[Source]) {
        (&self.inputs, &self.steps, &self.outputs)
    }

    /// The shape and dtype of each input the program replays.
    pub fn input_meta(&self) -> &[InputMeta] {
        &self.inputs
    }

    /// Nodes a replay builds.
    pub fn len(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Node(_)))
            .count()
    }

    /// True for a program that builds nothing (its outputs are inputs or constants).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Steps merged into an identical earlier one while tracing.
    pub fn merged(&self) -> usize {
        self.merged
    }

    /// Nodes a replay outside transforms saves by fusing (0 when nothing fused).
    pub fn fused_away(&self) -> usize {
        self.fused.as_ref().map_or(0, |f| f.2)
    }
}
