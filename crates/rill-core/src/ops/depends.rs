//! `depends`: arrays whose values are other arrays' values, computed only after some further
//! arrays (MLX's `mx.depends`). It orders work that no data edge orders, for example a
//! send whose result nobody reads, which must still happen when the output is evaluated.
//!
//! The graph has one output per node, so each input gets its own `Op::Depends` node, with the
//! input first and every dependency after it. The scheduler runs such a node without a kernel
//! (`scheduler/task.rs`): once its inputs are available the output shares input 0's data.

use super::make;
use crate::op::Op;
use crate::{Array, Error, Result};

/// One array per `inputs[i]`, with its value, shape and dtype, evaluated only after every array
/// of `dependencies` (evaluating an output evaluates the dependencies first; a dependency that
/// failed makes every output fail with its error). Output `i` is on `inputs[i]`'s stream.
/// Gradients go to `inputs` unchanged and to no dependency.
pub fn depends(inputs: &[Array], dependencies: &[Array]) -> Result<Vec<Array>> {
    if inputs.is_empty() {
        return Err(Error::arg(
            "depends",
            "needs at least one input (the arrays whose values the outputs take)",
        ));
    }
    inputs
        .iter()
        .map(|x| {
            let mut all = Vec::with_capacity(1 + dependencies.len());
            all.push(x.clone());
            all.extend(dependencies.iter().cloned());
            make(
                "depends",
                x.shape().to_vec(),
                x.dtype(),
                x.stream(),
                Op::Depends,
                all,
            )
        })
        .collect()
}
