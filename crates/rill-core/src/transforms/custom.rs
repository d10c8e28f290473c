//! Functions with rules of their own: `custom_function` (a user's vjp, jvp or vmap rule in place
//! of differentiating or batching what the function builds) and `checkpoint` (no rule: the
//! gradient recomputes the function instead of keeping what it built).
//!
//! A call runs the function with its nodes marked as constants to differentiation (`untraced`),
//! gives each output a fresh identity node, and writes one [`Custom`] entry on the tape after
//! them. The reverse walk (`vjp.rs`) meets that entry before the nodes the function built (it
//! walks backwards), hands it the outputs' cotangents and gets the inputs' from [`vjp_of`]:
//! - a vjp rule: called as it is;
//! - a jvp rule only: transposed (the rule is linear in its tangents, so the vjp of `t -> jvp(x,
//!   t)` at any `t` is the wanted product), by the same walk over the nodes the rule builds;
//! - neither (`checkpoint`): the function is traced again at the inputs and differentiated.
//!   Nothing the first run built is referenced by the gradient, so those buffers are freed as soon
//!   as the forward values are: memory traded for a second forward pass.
//!
//! `compile` keeps the entry as a step and writes it again when it replays (`compile.rs`);
//! `vmap` uses the vmap rule when there is one, else the batched replay of the nodes, and writes
//! an entry for the batched call whose rules are the user's rules vmapped ([`batch_call`]).
//!
//! # Rules
//! 1. The rules are called on the thread that differentiates, batches or replays, while a
//!    recording is open on it: they build ordinary lazy ops, which enclosing transforms see (grad
//!    of grad goes through a custom vjp; jvp through it is the transposed vjp).
//! 2. A vjp rule returns one cotangent per input, of the input's shape (or one that broadcasts to
//!    it); a jvp rule one tangent per output; a vmap rule the outputs and their batch axes.

use super::batching::Arg;
use super::tape;
use super::vjp;
use super::vmap::{arg_of, at_front, vmap_args, Batched};
use crate::op::Op;
use crate::{ops, Array, Error, Result};
use std::rc::Rc;
use std::sync::Arc;

/// A function of arrays, as the transforms call it.
pub type Fun = Arc<dyn Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync>;
/// `(primals, cotangents of the outputs, outputs) -> one cotangent per primal`.
pub type VjpRule = Arc<dyn Fn(&[Array], &[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync>;
/// `(primals, tangents of the primals) -> one tangent per output`.
pub type JvpRule = Arc<dyn Fn(&[Array], &[Array]) -> Result<Vec<Array>> + Send + Sync>;
/// `(inputs, their batch axes) -> (outputs, their batch axes)`; `None`: not batched.
pub type VmapRule = Arc<
    dyn Fn(&[Array], &[Option<usize>]) -> Result<(Vec<Array>, Vec<Option<usize>>)> + Send + Sync,
>;

/// The rules a custom function brings; any may be missing.
#[derive(Clone, Default)]
pub struct CustomRules {
    pub vjp: Option<VjpRule>,
    pub jvp: Option<JvpRule>,
    pub vmap: Option<VmapRule>,
}

/// One call of a custom function, as the tape keeps it.
pub(crate) struct Custom {
    pub(crate) fun: Fun,
    pub(crate) rules: CustomRules,
    pub(crate) primals: Vec<Array>,
    pub(crate) outputs: Vec<Array>,
}

/// `fun(inputs)`, differentiated and batched by `rules` (MLX's `custom_function`).
pub fn custom_function(fun: Fun, rules: CustomRules, inputs: &[Array]) -> Result<Vec<Array>> {
    let inner = tape::untraced(|| fun(inputs))?;
    let outputs = tape::untraced(|| identities(&inner))?;
    record(fun, rules, inputs.to_vec(), outputs.clone());
    Ok(outputs)
}

/// `fun(inputs)`, whose gradient recomputes `fun` instead of keeping the arrays it built in
/// between (MLX's `checkpoint`).
pub fn checkpoint(fun: Fun, inputs: &[Array]) -> Result<Vec<Array>> {
    custom_function(fun, CustomRules::default(), inputs)
}

/// A fresh node for each output: the entry's outputs must be nodes of their own (an output may
/// be an input of the function, or the same array twice).
fn identities(xs: &[Array]) -> Result<Vec<Array>> {
    xs.iter()
        .map(|o| {
            ops::make(
                "custom_function",
                o.shape().to_vec(),
                o.dtype(),
                o.stream(),
                Op::Reshape,
                vec![o.clone()],
            )
        })
        .collect()
}

pub(crate) fn record(fun: Fun, rules: CustomRules, primals: Vec<Array>, outputs: Vec<Array>) {
    if tape::recording() {
        tape::record_custom(Rc::new(Custom {
            fun,
            rules,
            primals,
            outputs,
        }));
    }
}

/// The cotangents of the call's primals, given one cotangent per output.
pub(crate) fn vjp_of(call: &Custom, cotangents: &[Array]) -> Result<Vec<Option<Array>>> {
    let grads = if let Some(rule) = &call.rules.vjp {
        rule(&call.primals, cotangents, &call.outputs)?
            .into_iter()
            .map(Some)
            .collect()
    } else if let Some(rule) = &call.rules.jvp {
        // Tangents whose values never matter (see the module's comment): constants to every
        // transform.
        let ts = tape::untraced(|| {
            call.primals
                .iter()
                .map(|p| ops::zeros(p.shape(), p.dtype(), p.stream()))
                .collect::<Result<Vec<_>>>()
        })?;
        let start = tape::len();
        let outs = rule(&call.primals, &ts)?;
        check_count("jvp", outs.len(), call.outputs.len(), "outputs")?;
        let seeds = outs.into_iter().zip(cotangents.iter().cloned()).collect();
        vjp::backward(start, tape::len(), &ts, seeds)?
    } else {
        let xs = super::fresh(&call.primals)?;
        let start = tape::len();
        let outs = (call.fun)(&xs)?;
        check_count("checkpoint", outs.len(), call.outputs.len(), "outputs")?;
        let seeds = outs.into_iter().zip(cotangents.iter().cloned()).collect();
        vjp::backward(start, tape::len(), &xs, seeds)?
    };
    check_count("vjp", grads.len(), call.primals.len(), "inputs")?;
    Ok(grads)
}

fn check_count(rule: &str, got: usize, want: usize, what: &str) -> Result<()> {
    if got != want {
        return Err(Error::arg(
            "custom_function",
            format!("the custom {rule} returned {got} arrays for a function of {want} {what}"),
        ));
    }
    Ok(())
}

/// The call rebuilt over a batch of `n` examples by `vmap` (`batched` maps one-example nodes to
/// their batched versions and receives the call's outputs).
pub(crate) fn batch_call(call: &Custom, batched: &mut Batched, n: usize) -> Result<()> {
    let args: Vec<Arg> = call.primals.iter().map(|p| arg_of(batched, p)).collect();
    if !args.iter().any(|a| a.batched) {
        return Ok(());
    }
    let outs = match &call.rules.vmap {
        Some(rule) => by_vmap_rule(rule, &args, n)?,
        // The replay already rebuilt the function's nodes and its outputs' identities.
        None => call
            .outputs
            .iter()
            .map(|o| match batched.get(&o.id()) {
                Some(a) => Ok(a.clone()),
                None => at_front(
                    super::vmap::Mapped {
                        array: o.clone(),
                        batched: false,
                    },
                    n,
                ),
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let outputs = tape::untraced(|| identities(&outs))?;
    for (o, b) in call.outputs.iter().zip(&outputs) {
        batched.insert(o.id(), b.clone());
    }
    let (fun, rules) = batched_rules(call, &args, n);
    record(
        fun,
        rules,
        args.iter().map(|a| a.array.clone()).collect(),
        outputs,
    );
    Ok(())
}

fn by_vmap_rule(rule: &VmapRule, args: &[Arg], n: usize) -> Result<Vec<Array>> {
    let inputs: Vec<Array> = args.iter().map(|a| a.array.clone()).collect();
    let axes: Vec<Option<usize>> = args.iter().map(|a| a.batched.then_some(0)).collect();
    let (outs, out_axes) = rule(&inputs, &axes)?;
    check_count("vmap", out_axes.len(), outs.len(), "outputs")?;
    outs.into_iter()
        .zip(out_axes)
        .map(|(o, axis)| match axis {
            Some(axis) => {
                if axis >= o.ndim() || o.shape()[axis] != n {
                    return Err(Error::shape(
                        "custom_function",
                        format!(
                            "the custom vmap returned an output of shape {:?} with batch axis \
                             {axis}, for a batch of {n}",
                            o.shape()
                        ),
                    ));
                }
                ops::moveaxis(&o, axis as isize, 0, o.stream())
            }
            None => at_front(
                super::vmap::Mapped {
                    array: o,
                    batched: false,
                },
                n,
            ),
        })
        .collect()
}

/// The function and rules of the batched call: the user's, vmapped. Every output of the batched
/// call has the batch first; an input keeps its batch (first) or has none.
fn batched_rules(call: &Custom, args: &[Arg], n: usize) -> (Fun, CustomRules) {
    let in_batched: Vec<bool> = args.iter().map(|a| a.batched).collect();
    let n_out = call.outputs.len();
    let fun = {
        let f = call.fun.clone();
        let in_batched = in_batched.clone();
        Arc::new(move |xs: &[Array]| {
            let outs = vmap_args(|ys| f(ys), &tag(xs, &in_batched), n)?;
            outs.into_iter().map(|o| at_front(o, n)).collect()
        }) as Fun
    };
    let vjp = call.rules.vjp.clone().map(|rule| {
        let in_batched = in_batched.clone();
        Arc::new(move |p: &[Array], c: &[Array], o: &[Array]| {
            let np = p.len();
            let all: Vec<Array> = p.iter().chain(c).chain(o).cloned().collect();
            let flags: Vec<bool> = in_batched
                .iter()
                .copied()
                .chain(std::iter::repeat_n(true, c.len() + o.len()))
                .collect();
            let grads = vmap_args(
                |ys| rule(&ys[..np], &ys[np..np + c.len()], &ys[np + c.len()..]),
                &tag(&all, &flags),
                n,
            )?;
            grads
                .into_iter()
                .zip(&in_batched)
                .map(|(g, &batched)| match (batched, g.batched) {
                    (true, _) => at_front(g, n),
                    // A shared input's gradient is the sum over the examples.
                    (false, true) => ops::sum(&g.array, Some(&[0]), false, g.array.stream()),
                    (false, false) => Ok(g.array),
                })
                .collect()
        }) as VjpRule
    });
    let jvp = call.rules.jvp.clone().map(|rule| {
        let in_batched = in_batched.clone();
        Arc::new(move |p: &[Array], t: &[Array]| {
            let np = p.len();
            let all: Vec<Array> = p.iter().chain(t).cloned().collect();
            let flags: Vec<bool> = in_batched.iter().chain(&in_batched).copied().collect();
            let outs = vmap_args(|ys| rule(&ys[..np], &ys[np..]), &tag(&all, &flags), n)?;
            check_count("jvp", outs.len(), n_out, "outputs")?;
            outs.into_iter().map(|o| at_front(o, n)).collect()
        }) as JvpRule
    });
    (
        fun,
        CustomRules {
            vjp,
            jvp,
            vmap: None,
        },
    )
}

fn tag(xs: &[Array], batched: &[bool]) -> Vec<Arg> {
    xs.iter()
        .zip(batched)
        .map(|(x, &b)| Arg {
            array: x.clone(),
            batched: b,
        })
        .collect()
}
