//! The reverse walk: cotangents from the outputs of a traced function back to its inputs.
//!
//! The walk goes over a slice of this thread's tape (see `tape.rs`) from its end to its start. A
//! first, forward pass marks the nodes that depend on an input ("needed"): only their cotangents
//! are computed, so constants captured by the function cost nothing, and an op with no rule fails
//! only when a gradient really has to go through it. Cotangents are kept in a map keyed by node
//! id; several uses of one node add up. A rule returns, for each input, a cotangent of the
//! output's shape or of the input's; this file sums a broadcast one down to the input's shape (the
//! kernels broadcast implicitly, so no node records it) and casts it to the input's dtype.

use super::custom::{self, Custom};
use super::rules;
use super::tape::{self, Entry};
use crate::{ops, Array, Error, Result, Stream};
use std::collections::{HashMap, HashSet};

/// The cotangents of `inputs` given `seeds` (an output and its cotangent), over the tape entries
/// `start..end`. `None` where an input does not affect the seeded outputs.
pub(crate) fn backward(
    start: usize,
    end: usize,
    inputs: &[Array],
    seeds: Vec<(Array, Array)>,
) -> Result<Vec<Option<Array>>> {
    let mut needed: HashSet<u64> = inputs.iter().map(|x| x.id()).collect();
    for i in start..end {
        match &*tape::entry(i) {
            Entry::Node(e) => {
                if !e.no_grad && e.inputs.iter().any(|x| needed.contains(&x.id())) {
                    needed.insert(e.out.id());
                }
            }
            Entry::Custom(call) => {
                if call.primals.iter().any(|x| needed.contains(&x.id())) {
                    needed.extend(call.outputs.iter().map(Array::id));
                }
            }
        }
    }
    let wanted: HashSet<u64> = inputs.iter().map(|x| x.id()).collect();
    let mut cot: HashMap<u64, Array> = HashMap::new();
    for (out, seed) in seeds {
        if needed.contains(&out.id()) {
            let seed = fit(&out, seed, out.stream(), "vjp")?;
            accumulate(&mut cot, &out, seed, out.stream())?;
        }
    }
    for i in (start..end).rev() {
        let entry = tape::entry(i);
        let e = match &*entry {
            Entry::Node(e) => e,
            Entry::Custom(call) => {
                through_custom(call, &needed, &mut cot)?;
                continue;
            }
        };
        if e.no_grad {
            continue;
        }
        let id = e.out.id();
        // An input of the transform keeps its cotangent for the caller.
        let g = if wanted.contains(&id) {
            cot.get(&id).cloned()
        } else {
            cot.remove(&id)
        };
        let Some(g) = g else { continue };
        let wants: Vec<bool> = e
            .inputs
            .iter()
            .map(|x| needed.contains(&x.id()) && x.dtype().is_inexact())
            .collect();
        if !wants.iter().any(|&w| w) || !e.out.dtype().is_inexact() {
            continue;
        }
        // The backward op runs where the forward op ran (issue 11: streams stay honoured).
        let s = e.out.stream();
        let grads = rules::vjp(&e.op, &e.inputs, &e.out, &g, &wants, s)?;
        for ((x, gx), &want) in e.inputs.iter().zip(grads).zip(&wants) {
            if let (Some(gx), true) = (gx, want) {
                let gx = fit(x, gx, s, e.op.name())?;
                accumulate(&mut cot, x, gx, s)?;
            }
        }
    }
    Ok(inputs.iter().map(|x| cot.remove(&x.id())).collect())
}

/// Passes the cotangents of a custom call's outputs to its primals through its rules.
fn through_custom(
    call: &Custom,
    needed: &HashSet<u64>,
    cot: &mut HashMap<u64, Array>,
) -> Result<()> {
    let got: Vec<Option<Array>> = call.outputs.iter().map(|o| cot.remove(&o.id())).collect();
    let wants: Vec<bool> = call
        .primals
        .iter()
        .map(|x| needed.contains(&x.id()) && x.dtype().is_inexact())
        .collect();
    if got.iter().all(Option::is_none) || !wants.iter().any(|&w| w) {
        return Ok(());
    }
    let cotangents = got
        .into_iter()
        .zip(&call.outputs)
        .map(|(g, o)| match g {
            Some(g) => Ok(g),
            None => ops::zeros(o.shape(), o.dtype(), o.stream()),
        })
        .collect::<Result<Vec<_>>>()?;
    let grads = custom::vjp_of(call, &cotangents)?;
    for ((x, g), want) in call.primals.iter().zip(grads).zip(wants) {
        if let (Some(g), true) = (g, want) {
            let s = x.stream();
            let g = fit(x, g, s, "custom_function")?;
            accumulate(cot, x, g, s)?;
        }
    }
    Ok(())
}

fn accumulate(cot: &mut HashMap<u64, Array>, x: &Array, g: Array, s: Stream) -> Result<()> {
    let g = match cot.remove(&x.id()) {
        Some(prev) => ops::add(&prev, &g, s)?,
        None => g,
    };
    cot.insert(x.id(), g);
    Ok(())
}

/// `g` summed over the dims it was broadcast along to reach `x`'s shape, and cast to `x`'s dtype.
fn fit(x: &Array, g: Array, s: Stream, op: &'static str) -> Result<Array> {
    let g = if g.shape() == x.shape() {
        g
    } else {
        unbroadcast(&g, x.shape(), s, op)?
    };
    ops::astype(&g, x.dtype(), s)
}

/// Sums `g` down to `shape`, which broadcasts to `g`'s shape.
pub(crate) fn unbroadcast(
    g: &Array,
    shape: &[usize],
    s: Stream,
    op: &'static str,
) -> Result<Array> {
    let gs = g.shape();
    let lead = gs.len().checked_sub(shape.len());
    let bad = || {
        Error::runtime(
            op,
            format!(
                "internal error: a cotangent of shape {gs:?} does not broadcast from the input's shape {shape:?}"
            ),
        )
    };
    let lead = lead.ok_or_else(bad)?;
    let mut axes: Vec<isize> = (0..lead as isize).collect();
    for (d, &n) in shape.iter().enumerate() {
        match (n, gs[lead + d]) {
            (a, b) if a == b => {}
            (1, _) => axes.push((lead + d) as isize),
            _ => return Err(bad()),
        }
    }
    let summed = ops::sum(g, Some(&axes), true, s)?;
    let shape: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
    ops::reshape(&summed, &shape, s)
}
