//! `vmap`: a function of one example applied to a batch of examples at once.
//!
//! The function is traced once, at stand-ins of one example's shape, with a recording open on
//! this thread's tape (`tape.rs`), as `grad` and `compile` trace. What it built is then replayed
//! over the real batch: a node none of whose inputs depend on the batch is kept as it is (it is
//! the same for every example); any other node is rebuilt by its op's batching rule
//! (`batching/`), which puts the batch dim first. Nothing runs while this happens: the results
//! are lazy arrays, and the trace's own nodes are never evaluated.
//!
//! # Rules
//! 1. The function sees arrays of one example's shape and must not read their values on the host
//!    (printing, `item()`, `eval`): there is no single example to read. Doing so is an error, as
//!    in MLX.
//! 2. Transforms compose: a vmap inside `grad` is recorded on grad's tape as the ops of its
//!    replay, so grad differentiates them; `grad` inside a vmapped function is traced and its
//!    backward pass replayed batched like any other ops; vmaps nest.
//! 3. A function with its own rules (`custom_function`, `checkpoint`) uses its vmap rule when it
//!    has one; either way it keeps its vjp and jvp rules over the batch (`custom.rs`).
//! 4. As for the other transforms, the trace is per thread: nodes built on other threads, and
//!    arrays built before the call (captured weights), are the same for every example.

use super::batching::{self, Arg};
use super::compile::EvalGuard;
use super::custom;
use super::tape::{self, Entry, Recording};
use crate::{ops, Array, Error, Result};
use std::collections::HashMap;

/// An output of a vmapped function: batched along its first dim, or the same for every example.
pub struct Mapped {
    pub array: Array,
    pub batched: bool,
}

/// Arrays built for the whole batch, by the id of the one-example node they stand for.
pub(crate) type Batched = HashMap<u64, Array>;

/// `f` over the batch: each input is split along its axis in `in_axes` (`None`: the same for every
/// example; negative axes count from the end), every mapped axis having the same length. Returns
/// each output with the batch as its first dim, or unbatched when it does not depend on the batch
/// (callers place it with [`place`]).
pub fn vmap(
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    inputs: &[Array],
    in_axes: &[Option<isize>],
) -> Result<Vec<Mapped>> {
    if in_axes.len() != inputs.len() {
        return Err(Error::arg(
            "vmap",
            format!(
                "{} inputs but {} input axes were given",
                inputs.len(),
                in_axes.len()
            ),
        ));
    }
    let mut n: Option<usize> = None;
    let mut args = Vec::with_capacity(inputs.len());
    for (i, (x, axis)) in inputs.iter().zip(in_axes).enumerate() {
        let Some(axis) = *axis else {
            args.push(Arg {
                array: x.clone(),
                batched: false,
            });
            continue;
        };
        let nd = x.ndim() as isize;
        let d = if axis < 0 { axis + nd } else { axis };
        if d < 0 || d >= nd {
            return Err(Error::arg(
                "vmap",
                format!(
                    "cannot map over axis {axis} of input {i}, which has shape {:?}",
                    x.shape()
                ),
            ));
        }
        let len = x.shape()[d as usize];
        match n {
            Some(m) if m != len => {
                return Err(Error::shape(
                    "vmap",
                    format!(
                        "inconsistent axis sizes: input {i} (shape {:?}) has {len} along axis \
                         {axis}, an earlier input has {m}",
                        x.shape()
                    ),
                ))
            }
            _ => n = Some(len),
        }
        args.push(Arg {
            array: ops::moveaxis(x, d, 0, x.stream())?,
            batched: true,
        });
    }
    let Some(n) = n else {
        return Err(Error::arg(
            "vmap",
            "at least one input axis must be given (not None): there is nothing to map over",
        ));
    };
    vmap_args(f, &args, n)
}

/// `vmap` over inputs whose batch (if any) is already their first dim.
pub(crate) fn vmap_args(
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    args: &[Arg],
    n: usize,
) -> Result<Vec<Mapped>> {
    let guard = EvalGuard::begin("vmap");
    // Stand-ins of one example: never evaluated (rule 1), so zeros that cost nothing.
    let stand_ins = args
        .iter()
        .map(|a| {
            if a.batched {
                tape::untraced(|| {
                    ops::zeros(&a.array.shape()[1..], a.array.dtype(), a.array.stream())
                })
            } else {
                Ok(a.array.clone())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let rec = Recording::begin();
    let outputs = f(&stand_ins)?;
    drop(guard);
    let end = tape::len();
    let mut batched: Batched = HashMap::new();
    for (x, a) in stand_ins.iter().zip(args) {
        if a.batched {
            batched.insert(x.id(), a.array.clone());
        }
    }
    for i in rec.start()..end {
        replay(&tape::entry(i), &mut batched, n)?;
    }
    let mapped = outputs
        .iter()
        .map(|o| match batched.get(&o.id()) {
            Some(a) => Mapped {
                array: a.clone(),
                batched: true,
            },
            None => Mapped {
                array: o.clone(),
                batched: false,
            },
        })
        .collect();
    drop(rec);
    Ok(mapped)
}

/// `x` as a replayed node's input: its batched version when the replay built one, else itself.
pub(crate) fn arg_of(batched: &Batched, x: &Array) -> Arg {
    match batched.get(&x.id()) {
        Some(a) => Arg {
            array: a.clone(),
            batched: true,
        },
        None => Arg {
            array: x.clone(),
            batched: false,
        },
    }
}

/// Rebuilds one traced entry over the batch when it depends on it.
fn replay(entry: &Entry, batched: &mut Batched, n: usize) -> Result<()> {
    match entry {
        Entry::Node(node) => {
            if !node.inputs.iter().any(|x| batched.contains_key(&x.id())) {
                return Ok(());
            }
            let args: Vec<Arg> = node.inputs.iter().map(|x| arg_of(batched, x)).collect();
            let build = || batching::batch(&node.op, &args, &node.out, n);
            let out = if node.no_grad {
                tape::untraced(build)?
            } else {
                build()?
            };
            batched.insert(node.out.id(), out);
            Ok(())
        }
        Entry::Custom(call) => custom::batch_call(call, batched, n),
    }
}

/// A vmapped output placed at `axis` (`None`: returned as it is, which a batched output cannot
/// be). An output that does not depend on the batch is broadcast along a new axis, as MLX does.
pub fn place(out: Mapped, axis: Option<isize>, n: usize) -> Result<Array> {
    let Some(axis) = axis else {
        if out.batched {
            return Err(Error::arg(
                "vmap",
                format!(
                    "an output of shape {:?} depends on the mapped inputs, so its output axis \
                     cannot be None",
                    &out.array.shape()[1..]
                ),
            ));
        }
        return Ok(out.array);
    };
    let a = at_front(out, n)?;
    let nd = a.ndim() as isize;
    let d = if axis < 0 { axis + nd } else { axis };
    if d < 0 || d >= nd {
        return Err(Error::arg(
            "vmap",
            format!(
                "output axis {axis} is out of bounds for an output of {} dims (batch included)",
                nd
            ),
        ));
    }
    ops::moveaxis(&a, 0, d, a.stream())
}

/// The output with the batch as its first dim, broadcast there when it does not depend on it.
pub(crate) fn at_front(out: Mapped, n: usize) -> Result<Array> {
    if out.batched {
        return Ok(out.array);
    }
    let shape: Vec<usize> = std::iter::once(n)
        .chain(out.array.shape().iter().copied())
        .collect();
    ops::broadcast_to(&out.array, &shape, out.array.stream())
}
