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
//! are merged: common subexpressions are computed once. Nothing is fused yet: a replayed program
//! costs its nodes.
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

use super::tape::{self, Recording};
use crate::op::Op;
use crate::{Array, Dtype, Error, Result, Stream};
use std::cell::Cell;
use std::collections::HashMap;

/// Where a step's input (or a program's output) comes from.
#[derive(Clone, Debug)]
enum Source {
    Input(usize),
    Step(usize),
    Const(Array),
}

impl Source {
    fn key(&self) -> (u8, u64) {
        match self {
            Source::Input(i) => (0, *i as u64),
            Source::Step(i) => (1, *i as u64),
            Source::Const(a) => (2, a.id()),
        }
    }
}

struct Step {
    op: Op,
    inputs: Vec<Source>,
    shape: Vec<usize>,
    dtype: Dtype,
    stream: Stream,
    /// Built under `stop_gradient`: replayed the same way, so that gradients stop there too.
    no_grad: bool,
}

/// A traced function: what replaying it builds.
pub struct Program {
    inputs: Vec<(Vec<usize>, Dtype)>,
    steps: Vec<Step>,
    outputs: Vec<Source>,
    merged: usize,
}

thread_local! {
    /// The first node id of the trace open on this thread (0: none), for rule 1.
    static TRACING_FROM: Cell<u64> = const { Cell::new(0) };
}

/// Refuses to evaluate, during a trace on this thread, an array that the traced function built.
pub(crate) fn check_eval(arrays: &[&Array]) -> Result<()> {
    let from = TRACING_FROM.with(|t| t.get());
    if from == 0 {
        return Ok(());
    }
    if let Some(a) = arrays.iter().find(|a| a.id() >= from && !a.is_available()) {
        return Err(Error::arg(
            "compile",
            format!(
                "cannot evaluate an array (shape {:?}, from {}) while its function is being \
                 compiled: a compiled function must not read its own results on the host \
                 (printing, item(), tolist(), eval) or branch on them",
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
        let first_id = crate::array::next_node_id();
        let outer = TRACING_FROM.with(|t| t.replace(first_id.max(1)));
        struct Restore(u64);
        impl Drop for Restore {
            fn drop(&mut self) {
                TRACING_FROM.with(|t| t.set(self.0));
            }
        }
        let restore = Restore(outer);
        let outputs = f(&xs)?;
        drop(restore);
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
        // Merging: a step's identity is its op (by its Debug form), inputs, shape, dtype, stream.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut merged = 0;
        for i in rec.start()..end {
            let e = tape::entry(i);
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
            let at = match seen.get(&key) {
                Some(&j) => {
                    merged += 1;
                    j
                }
                None => {
                    steps.push(Step {
                        op: e.op.clone(),
                        inputs: ins,
                        shape: e.out.shape().to_vec(),
                        dtype: e.out.dtype(),
                        stream: e.out.stream(),
                        no_grad: e.no_grad,
                    });
                    seen.insert(key, steps.len() - 1);
                    steps.len() - 1
                }
            };
            known.insert(e.out.id(), Source::Step(at));
        }
        let outs: Vec<Source> = outputs.iter().map(|o| source(&known, o)).collect();
        drop(rec);
        let program = Program {
            inputs: inputs
                .iter()
                .map(|x| (x.shape().to_vec(), x.dtype()))
                .collect(),
            steps,
            outputs: outs,
            merged,
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
        let mut built: Vec<Array> = Vec::with_capacity(self.steps.len());
        let get = |built: &[Array], s: &Source| match s {
            Source::Input(i) => inputs[*i].clone(),
            Source::Step(i) => built[*i].clone(),
            Source::Const(a) => a.clone(),
        };
        for step in &self.steps {
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
            built.push(if step.no_grad {
                tape::untraced(build)
            } else {
                build()
            });
        }
        Ok(self.outputs.iter().map(|s| get(&built, s)).collect())
    }

    /// Nodes a replay builds.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True for a program that builds nothing (its outputs are inputs or constants).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Steps merged into an identical earlier one while tracing.
    pub fn merged(&self) -> usize {
        self.merged
    }
}
