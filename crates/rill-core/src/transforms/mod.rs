//! Function transforms: reverse-mode differentiation (`vjp`, `grad`, `value_and_grad`), `jvp`
//! through it, `stop_gradient`, `compile` (trace once, replay: `compile.rs`), `vmap` (trace one
//! example, replay over the batch with each op's batching rule: `vmap.rs`, `batching/`), and
//! functions with their own rules, `custom_function` and `checkpoint` (`custom.rs`), and
//! compile's programs written to files and read back (`export/`: MLX's `export_function` and
//! `import_function`, in rill's own format).
//!
//! How it works: a transform gives its inputs fresh node identities, opens a recording on the
//! calling thread's tape (`tape.rs`), and calls the function; every lazy node the function builds
//! on this thread is recorded. It then walks the recorded nodes backwards (`vjp.rs`), applying
//! each op's vector-Jacobian product (`rules/`), which builds the backward pass out of ordinary
//! lazy ops on the stream of each forward op. Nothing is evaluated: the gradients are lazy arrays.
//!
//! # Rules (who may touch what)
//! 1. A tape belongs to one thread and is reached only through a thread-local: many threads can
//!    differentiate at once without sharing anything but the process-wide count of open
//!    recordings (an atomic, read relaxed; see `tape.rs`).
//! 2. The function is traced on the calling thread. Nodes it builds on other threads are not
//!    recorded and count as constants, as do arrays made from host data and arrays built before
//!    the transform began (captured parameters): no gradient flows into them.
//! 3. Transforms nest on a thread (`grad(grad(f))`): the ops an inner transform builds while
//!    differentiating are recorded on the enclosing transform's tape, which differentiates them.
//!    Entries are freed when the outermost transform on the thread returns (or fails, or
//!    unwinds).
//! 4. Evaluating inside the function is allowed: the tape keeps its own copy of each recipe.
//! 5. A backward op runs on the stream of the forward op it differentiates (a model split across
//!    streams or devices differentiates across them too).
//! 6. Cotangents have the dtype of their primal. Bool and integer results carry no gradient;
//!    differentiating with respect to a bool or integer input is an error. Ops without a rule
//!    fail with an error naming the op when a gradient has to pass through them.

pub(crate) mod batching;
mod compile;
mod custom;
mod export;
mod fuse;
pub(crate) mod rules;
pub(crate) mod tape;
mod vjp;
mod vmap;

pub(crate) use compile::check_eval;
pub use compile::{InputMeta, Program};
pub use custom::{checkpoint, custom_function, CustomRules, Fun, JvpRule, VjpRule, VmapRule};
pub use export::{
    FunctionExporter, ImportedFunction, Signature, FORMAT_VERSION as EXPORT_FORMAT_VERSION,
};
pub use vmap::{place, vmap, Mapped};

use crate::op::Op;
use crate::{ops, Array, Error, Result, StreamOrDevice};
use tape::Recording;

/// `primals` as new nodes sharing their data (a view of each, built where the primal lives), so
/// that one array passed twice gets two cotangents, and an enclosing transform still sees the
/// link to the original.
fn fresh(primals: &[Array]) -> Result<Vec<Array>> {
    primals
        .iter()
        .map(|x| {
            ops::make(
                "vjp",
                x.shape().to_vec(),
                x.dtype(),
                x.stream(),
                Op::Reshape,
                vec![x.clone()],
            )
        })
        .collect()
}

/// Refuses a primal that cannot have a gradient.
fn check_primals(op: &'static str, primals: &[Array]) -> Result<()> {
    for (i, x) in primals.iter().enumerate() {
        if !x.dtype().is_inexact() {
            return Err(Error::dtype(
                op,
                format!(
                    "cannot differentiate with respect to argument {i}: it has dtype {} (shape {:?}); \
                     only floating point and complex arrays have gradients",
                    x.dtype(),
                    x.shape()
                ),
            ));
        }
    }
    Ok(())
}

/// Traces `f` at fresh copies of `primals`, seeds its outputs with `seeds(outputs)` and returns
/// the outputs and the cotangents of the primals (zeros where a primal does not matter).
fn reverse(
    op: &'static str,
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    primals: &[Array],
    seeds: impl FnOnce(&[Array]) -> Result<Vec<Option<Array>>>,
) -> Result<(Vec<Array>, Vec<Array>)> {
    check_primals(op, primals)?;
    let xs = fresh(primals)?;
    let rec = Recording::begin();
    let outputs = f(&xs)?;
    let end = tape::len();
    let seeds = seeds(&outputs)?;
    let pairs = outputs
        .iter()
        .zip(seeds)
        .filter_map(|(o, g)| g.map(|g| (o.clone(), g)))
        .collect();
    let grads = vjp::backward(rec.start(), end, &xs, pairs)?;
    let grads = grads
        .into_iter()
        .zip(primals)
        .map(|(g, x)| match g {
            Some(g) => Ok(g),
            None => ops::zeros(x.shape(), x.dtype(), x.stream()),
        })
        .collect::<Result<Vec<_>>>()?;
    drop(rec);
    Ok((outputs, grads))
}

/// MLX's `vjp`: the outputs of `f(primals)` and the vector-Jacobian products of `cotangents`
/// (one per output, of its shape) with respect to each primal.
pub fn vjp(
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    primals: &[Array],
    cotangents: &[Array],
) -> Result<(Vec<Array>, Vec<Array>)> {
    reverse("vjp", f, primals, |outputs| {
        if outputs.len() != cotangents.len() {
            return Err(Error::arg(
                "vjp",
                format!(
                    "the function has {} outputs but {} cotangents were given",
                    outputs.len(),
                    cotangents.len()
                ),
            ));
        }
        for (o, c) in outputs.iter().zip(cotangents) {
            if o.shape() != c.shape() {
                return Err(Error::shape(
                    "vjp",
                    format!(
                        "an output of shape {:?} cannot take a cotangent of shape {:?}",
                        o.shape(),
                        c.shape()
                    ),
                ));
            }
        }
        Ok(cotangents.iter().cloned().map(Some).collect())
    })
}

/// MLX's `value_and_grad` over arrays: the outputs of `f(primals)` and the gradient of the first
/// output, which must be a single element, with respect to each primal. Further outputs are
/// returned as they are (auxiliary values) and not differentiated.
pub fn value_and_grad(
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    primals: &[Array],
) -> Result<(Vec<Array>, Vec<Array>)> {
    reverse("grad", f, primals, |outputs| {
        let Some(first) = outputs.first() else {
            return Err(Error::arg(
                "grad",
                "the function returned no array; its first output must be a scalar array",
            ));
        };
        if first.size() != 1 {
            return Err(Error::shape(
                "grad",
                format!(
                    "the function's output must be a scalar array to take its gradient, got shape {:?}",
                    first.shape()
                ),
            ));
        }
        let mut seeds = vec![Some(ops::ones(
            first.shape(),
            first.dtype(),
            first.stream(),
        )?)];
        seeds.resize(outputs.len(), None);
        Ok(seeds)
    })
}

/// The gradient of `f`, whose output is one element, with respect to each primal.
pub fn grad(f: impl FnOnce(&[Array]) -> Result<Array>, primals: &[Array]) -> Result<Vec<Array>> {
    Ok(value_and_grad(|x| Ok(vec![f(x)?]), primals)?.1)
}

/// MLX's `jvp`: the outputs of `f(primals)` and the Jacobian-vector products with `tangents` (one
/// per primal, of its shape). Computed by transposing the vector-Jacobian product: the backward
/// pass is linear in the cotangents `u` and recorded like any other ops, so differentiating
/// `u -> J(x)ᵀ u` at the tangents gives `J(x) t`.
pub fn jvp(
    f: impl FnOnce(&[Array]) -> Result<Vec<Array>>,
    primals: &[Array],
    tangents: &[Array],
) -> Result<(Vec<Array>, Vec<Array>)> {
    check_primals("jvp", primals)?;
    if primals.len() != tangents.len() {
        return Err(Error::arg(
            "jvp",
            format!(
                "{} primals but {} tangents were given",
                primals.len(),
                tangents.len()
            ),
        ));
    }
    for (p, t) in primals.iter().zip(tangents) {
        if p.shape() != t.shape() {
            return Err(Error::shape(
                "jvp",
                format!(
                    "a primal of shape {:?} cannot take a tangent of shape {:?}",
                    p.shape(),
                    t.shape()
                ),
            ));
        }
    }
    let xs = fresh(primals)?;
    let rec = Recording::begin();
    let outputs = f(&xs)?;
    let end = tape::len();
    // Stand-ins for the cotangents. Not recorded: their value never matters (the result is the
    // derivative of a linear function of them), so they are constants to every transform.
    let us = tape::untraced(|| {
        outputs
            .iter()
            .map(|o| ops::zeros(o.shape(), o.dtype(), o.stream()))
            .collect::<Result<Vec<_>>>()
    })?;
    let seeds = outputs.iter().cloned().zip(us.iter().cloned()).collect();
    let transposed = vjp::backward(rec.start(), end, &xs, seeds)?;
    // Differentiate `u -> Jᵀu` (everything recorded since the start) at the tangents.
    let seeds = transposed
        .into_iter()
        .zip(tangents)
        .filter_map(|(g, t)| g.map(|g| (g, t.clone())))
        .collect();
    let jt = vjp::backward(rec.start(), tape::len(), &us, seeds)?;
    let jt = jt
        .into_iter()
        .zip(&outputs)
        .map(|(j, o)| match j {
            Some(j) => Ok(j),
            None => ops::zeros(o.shape(), o.dtype(), o.stream()),
        })
        .collect::<Result<Vec<_>>>()?;
    drop(rec);
    Ok((outputs, jt))
}

/// `a` with its gradient cut: the same values, but every transform treats the result as a
/// constant (MLX's `stop_gradient`).
pub fn stop_gradient(a: &Array, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("stop_gradient")?;
    tape::untraced(|| {
        ops::make(
            "stop_gradient",
            a.shape().to_vec(),
            a.dtype(),
            stream,
            Op::Reshape,
            vec![a.clone()],
        )
    })
}
