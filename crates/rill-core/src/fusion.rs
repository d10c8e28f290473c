//! What a fused kernel computes: a chain (any DAG) of elementwise float ops over one shape, and
//! optionally a reduction of its result over trailing axes, in one pass over memory.
//!
//! `compile`'s fusion pass (`transforms/fuse.rs`) builds these from a traced program, and the
//! scheduler (`scheduler/auto_fuse.rs`) from lazy graphs as they are evaluated. The CPU
//! backend runs them a block of elements at a time (`backend/cpu/fused.rs`), so the values between
//! the ops stay in the cache instead of making a round trip through memory per op; the GPU backend
//! compiles each program into one kernel that keeps them in registers
//! (`backend/cuda/kernels/fused.rs`). Each op computes exactly what its own kernel computes,
//! element by element, and a fused reduction combines in the same order as the device's reduction
//! kernel: a fused program's results are bit for bit the unfused ones.

use crate::op::{BinaryOp, ReduceOp, UnaryOp};
use crate::shape::numel;
use crate::{Dtype, Error, Result};

/// A fused elementwise program. Every input and every intermediate value has the dtype `dtype`
/// (float32 or float64); inputs are full-shape, single elements, or broadcast along leading dims
/// (their shape is a suffix of `shape`, with or without leading 1s).
#[derive(Debug, Clone, PartialEq)]
pub struct FusedKernel {
    pub dtype: Dtype,
    /// The shape every instruction computes over (the elementwise output's).
    pub shape: Vec<usize>,
    /// In order; the last one's value is the result.
    pub insts: Vec<Inst>,
    /// A reduction of the result over its last dims, with `row` elements reduced per output
    /// element (`row` divides the number of elements of `shape`).
    pub reduce: Option<FusedReduce>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedReduce {
    pub op: ReduceOp,
    pub row: usize,
}

/// A value an instruction reads: an input of the fused node, or an earlier instruction's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    Input(usize),
    Inst(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Inst {
    Unary(UnaryOp, Operand),
    Binary(BinaryOp, Operand, Operand),
}

impl FusedKernel {
    /// What a timeline calls the node: its ops in order, then its reduction, e.g.
    /// `fused(subtract,square;sum)`. A fused node replaces several ops; naming them keeps a
    /// captured timeline readable.
    pub fn label(&self) -> String {
        let ops: Vec<&str> = self
            .insts
            .iter()
            .map(|i| match *i {
                Inst::Unary(u, _) => u.name(),
                Inst::Binary(b, _, _) => b.name(),
            })
            .collect();
        match self.reduce {
            Some(r) => format!("fused({};{})", ops.join(","), r.op.name()),
            None => format!("fused({})", ops.join(",")),
        }
    }

    /// The number of inputs the instructions read.
    pub fn input_count(&self) -> usize {
        self.insts
            .iter()
            .flat_map(|i| match *i {
                Inst::Unary(_, a) => vec![a],
                Inst::Binary(_, a, b) => vec![a, b],
            })
            .filter_map(|o| match o {
                Operand::Input(k) => Some(k + 1),
                Operand::Inst(_) => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// What `compile`'s fusion pass promises a backend: instructions that read only inputs and
    /// earlier results, with ops a fused kernel computes, inputs of its dtype, and an output of
    /// the right size. A broken promise is a bug in the pass, reported on the array.
    pub fn check(
        &self,
        input_dtypes: impl ExactSizeIterator<Item = Dtype>,
        out_shape: &[usize],
        out_dtype: Dtype,
    ) -> Result<()> {
        let bad = |why: String| Err(Error::runtime("fused", why));
        if self.insts.is_empty() || self.input_count() > input_dtypes.len() {
            return bad(format!(
                "a fused kernel of {} instructions reading {} inputs got {}",
                self.insts.len(),
                self.input_count(),
                input_dtypes.len()
            ));
        }
        for (i, inst) in self.insts.iter().enumerate() {
            let (ok, operands) = match *inst {
                Inst::Unary(op, a) => (fusible_unary(op), vec![a]),
                Inst::Binary(op, a, b) => (fusible_binary(op), vec![a, b]),
            };
            if !ok
                || operands
                    .iter()
                    .any(|o| matches!(*o, Operand::Inst(j) if j >= i))
            {
                return bad(format!("instruction {i} ({inst:?}) cannot be fused"));
            }
        }
        for d in input_dtypes {
            if d != self.dtype {
                return bad(format!(
                    "an input of {d} reached a fused kernel computing in {}",
                    self.dtype
                ));
            }
        }
        let n = numel(&self.shape);
        let expected = match self.reduce {
            Some(r) if r.row == 0 || !n.is_multiple_of(r.row) => {
                return bad(format!("rows of {} over shape {:?}", r.row, self.shape))
            }
            Some(r) => n / r.row,
            None => n,
        };
        if numel(out_shape) != expected || out_dtype != self.dtype {
            return bad(format!(
                "output {out_shape:?} {out_dtype} for a fused kernel over {:?}",
                self.shape
            ));
        }
        Ok(())
    }
}

/// True when `x` broadcasts to `shape` along leading dims only (its dims without leading 1s are
/// `shape`'s last dims): the broadcasts a fused kernel reads without a copy.
pub fn leading_broadcast(x: &[usize], shape: &[usize]) -> bool {
    let first = x.iter().position(|&d| d != 1).unwrap_or(x.len());
    let x = &x[first..];
    x.len() <= shape.len() && shape[shape.len() - x.len()..] == *x
}

/// Unary ops a fused kernel computes (the float functions; classifications and logical ops
/// produce bool and end a fused chain).
pub fn fusible_unary(op: UnaryOp) -> bool {
    !matches!(
        op,
        UnaryOp::IsNan | UnaryOp::IsInf | UnaryOp::LogicalNot | UnaryOp::BitwiseInvert
    )
}

/// Binary ops a fused kernel computes (arithmetic on floats; comparisons produce bool and bitwise
/// ops take integers).
pub fn fusible_binary(op: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(
        op,
        Add | Subtract
            | Multiply
            | Divide
            | FloorDivide
            | Remainder
            | Power
            | Maximum
            | Minimum
            | ArcTan2
            | LogAddExp
    )
}

/// The reduction a fused kernel can end with for `op` over `axes` of an input of `shape`: a
/// fusible op over a non-empty set of trailing axes, `row` elements reduced per output element.
/// Both fusion passes (`compile`'s and the scheduler's) ask this.
pub fn trailing_reduce(op: ReduceOp, axes: &[usize], shape: &[usize]) -> Option<FusedReduce> {
    let ndim = shape.len();
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let trailing = !axes.is_empty()
        && axes.len() <= ndim
        && sorted.iter().copied().eq(ndim - axes.len()..ndim);
    (fusible_reduce(op) && trailing).then(|| FusedReduce {
        op,
        row: numel(&shape[ndim - axes.len()..]),
    })
}

/// Reductions a fused kernel ends with (the ones whose float result has the input's dtype).
pub fn fusible_reduce(op: ReduceOp) -> bool {
    matches!(
        op,
        ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min
    )
}
