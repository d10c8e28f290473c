//! A read-only look at the lazy graph, for tools that show or measure it (`mx.export_to_dot`,
//! `mx.get_array_buffer_size`): which op computes an array that is not yet evaluated and from
//! which inputs, and which buffer backs an evaluated one.
//!
//! It only reads: a node's recipe is looked at under its lock and its inputs cloned out, so a
//! walk never holds a lock while it visits another node, and an evaluation running at the same
//! time is neither blocked nor changed (a node it has taken shows up as a leaf).

mod buffers;
mod dot;

pub use buffers::array_buffer_size;
pub use dot::to_dot;

use crate::array::NodeState;
use crate::Array;
use std::collections::HashSet;

/// The name of the op that computes an array, and its inputs in order (a repeated input
/// appears each time).
pub type OpInputs = (&'static str, Vec<Array>);

/// One array met by [`walk`].
#[derive(Clone, Debug)]
pub struct GraphNode {
    pub array: Array,
    /// The op that will compute it; `None` for a leaf: data, an evaluated array or one whose
    /// evaluation has started.
    pub op: Option<OpInputs>,
}

/// The op and inputs of `a` while it is unevaluated (no evaluation has taken its recipe).
pub fn recipe(a: &Array) -> Option<OpInputs> {
    match &*a.0.state.lock().unwrap() {
        NodeState::Lazy(r) => Some((r.op.name(), r.inputs.clone())),
        _ => None,
    }
}

/// Every array that `outputs` are computed from, down to the leaves (evaluated arrays, whose
/// inputs are gone), each once, in post-order: an array comes after all its inputs, and
/// `outputs` are visited in order. Iterative, so a chain of 100 000 ops does not overflow the
/// stack.
pub fn walk(outputs: &[Array]) -> Vec<GraphNode> {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    // (array, its recipe, how many of its inputs have been pushed)
    let mut stack: Vec<(Array, Option<OpInputs>, usize)> = Vec::new();
    for out in outputs {
        if !seen.insert(out.id()) {
            continue;
        }
        stack.push((out.clone(), recipe(out), 0));
        while let Some((_, op, next)) = stack.last_mut() {
            let input = op
                .as_ref()
                .and_then(|(_, inputs)| inputs.get(*next))
                .cloned();
            *next += 1;
            match input {
                Some(x) => {
                    if seen.insert(x.id()) {
                        let r = recipe(&x);
                        stack.push((x, r, 0));
                    }
                }
                None => {
                    let (array, op, _) = stack.pop().expect("the loop's top");
                    order.push(GraphNode { array, op });
                }
            }
        }
    }
    order
}
