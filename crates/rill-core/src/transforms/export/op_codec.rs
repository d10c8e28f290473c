//! An `Op` in an export file: one tag byte per variant, then its fields in declaration order.
//!
//! The tags are written out here, not derived from the order of `Op`'s variants, so that adding
//! or moving a variant does not change what old files mean; the elementwise, reduction and other
//! named families are stored by their names (`"exp"`, `"sum"`), which are MLX's and stable. A
//! new variant gets a new tag; changing what a tag's fields mean needs a new format version
//! (`mod.rs`).
//!
//! Ops that hold something other than data cannot be written: a fused kernel (never in the
//! unfused steps that are exported) and a user's CUDA kernel.

use super::codec::{Bad, Reader, Writer};
use crate::op::{
    ArgReduceOp, AttentionMask, AttentionParams, BinaryOp, ConvParams, FactorOp, FftKind, FftNorm,
    Op, ReduceOp, ScanOp, ScatterReduce, UnaryOp,
};
use crate::Scalar;

/// Looks a named op up by its name among `all`.
fn named<T: Copy>(
    r: &mut Reader<'_>,
    all: &[T],
    name_of: fn(T) -> &'static str,
    what: &str,
) -> Result<T, Bad> {
    let name = r.str(what)?;
    all.iter()
        .copied()
        .find(|&v| name_of(v) == name)
        .ok_or_else(|| format!("{what} '{name}' is not one rill knows"))
}

fn write_scalar(w: &mut Writer, s: Scalar) {
    match s {
        Scalar::Bool(b) => {
            w.u8(0);
            w.bool(b);
        }
        Scalar::Int(i) => {
            w.u8(1);
            w.i64(i);
        }
        Scalar::UInt(u) => {
            w.u8(2);
            w.u64(u);
        }
        Scalar::Float(f) => {
            w.u8(3);
            w.f64(f);
        }
        Scalar::Complex(re, im) => {
            w.u8(4);
            w.f32(re);
            w.f32(im);
        }
    }
}

fn read_scalar(r: &mut Reader<'_>) -> Result<Scalar, Bad> {
    Ok(match r.u8("a scalar's kind")? {
        0 => Scalar::Bool(r.bool("a bool scalar")?),
        1 => Scalar::Int(r.i64("an int scalar")?),
        2 => Scalar::UInt(r.u64("a uint scalar")?),
        3 => Scalar::Float(r.f64("a float scalar")?),
        4 => Scalar::Complex(r.f32("a complex scalar")?, r.f32("a complex scalar")?),
        k => return Err(format!("a scalar's kind is {k}, not one of 0..=4")),
    })
}

fn write_factor(w: &mut Writer, f: FactorOp) {
    let (tag, a, b) = match f {
        FactorOp::LuFactor => (0, false, false),
        FactorOp::Inv => (1, false, false),
        FactorOp::Solve => (2, false, false),
        FactorOp::Slogdet => (3, false, false),
        FactorOp::Cholesky { upper } => (4, upper, false),
        FactorOp::TriInv { upper } => (5, upper, false),
        FactorOp::SolveTriangular { upper } => (6, upper, false),
        FactorOp::Qr => (7, false, false),
        FactorOp::Eigh { upper, vectors } => (8, upper, vectors),
        FactorOp::Svd { vectors } => (9, vectors, false),
        FactorOp::Eig { vectors } => (10, vectors, false),
    };
    w.u8(tag);
    w.bool(a);
    w.bool(b);
}

fn read_factor(r: &mut Reader<'_>) -> Result<FactorOp, Bad> {
    let tag = r.u8("a factorization")?;
    let a = r.bool("a factorization's flag")?;
    let b = r.bool("a factorization's flag")?;
    Ok(match tag {
        0 => FactorOp::LuFactor,
        1 => FactorOp::Inv,
        2 => FactorOp::Solve,
        3 => FactorOp::Slogdet,
        4 => FactorOp::Cholesky { upper: a },
        5 => FactorOp::TriInv { upper: a },
        6 => FactorOp::SolveTriangular { upper: a },
        7 => FactorOp::Qr,
        8 => FactorOp::Eigh {
            upper: a,
            vectors: b,
        },
        9 => FactorOp::Svd { vectors: a },
        10 => FactorOp::Eig { vectors: a },
        t => return Err(format!("a factorization's tag is {t}, not one rill knows")),
    })
}

/// Writes `op`, or says why it cannot be written (the op's name and the reason).
pub(super) fn write_op(w: &mut Writer, op: &Op) -> Result<(), String> {
    match op {
        Op::Full(s) => {
            w.u8(0);
            write_scalar(w, *s);
        }
        Op::Arange { start, step } => {
            w.u8(1);
            w.f64(*start);
            w.f64(*step);
        }
        Op::Eye { k } => {
            w.u8(2);
            w.i64(*k as i64);
        }
        Op::Unary(u) => {
            w.u8(3);
            w.str(u.name());
        }
        Op::Binary(b) => {
            w.u8(4);
            w.str(b.name());
        }
        Op::Where => w.u8(5),
        Op::AsType => w.u8(6),
        Op::Copy => w.u8(7),
        Op::View => w.u8(8),
        Op::Reshape => w.u8(9),
        Op::Transpose(perm) => {
            w.u8(10);
            w.usizes(perm);
        }
        Op::Slice { start, step } => {
            w.u8(11);
            w.usizes(start);
            w.isizes(step);
        }
        Op::BroadcastTo => w.u8(12),
        Op::Reduce { op, axes } => {
            w.u8(13);
            w.str(op.name());
            w.usizes(axes);
        }
        Op::ArgReduce { op, axis } => {
            w.u8(14);
            w.str(op.name());
            w.len(*axis);
        }
        Op::Scan {
            op,
            axis,
            reverse,
            inclusive,
        } => {
            w.u8(15);
            w.str(op.name());
            w.len(*axis);
            w.bool(*reverse);
            w.bool(*inclusive);
        }
        Op::Softmax { axis } => {
            w.u8(16);
            w.len(*axis);
        }
        Op::LogSumExp { axis } => {
            w.u8(17);
            w.len(*axis);
        }
        Op::Matmul => w.u8(18),
        Op::AddMm { alpha, beta } => {
            w.u8(19);
            w.f64(*alpha);
            w.f64(*beta);
        }
        Op::Factor(f) => {
            w.u8(20);
            write_factor(w, *f);
        }
        Op::Conv(p) => {
            w.u8(21);
            w.usizes(&p.stride);
            w.usizes(&p.padding_lo);
            w.usizes(&p.padding_hi);
            w.usizes(&p.kernel_dilation);
            w.usizes(&p.input_dilation);
            w.len(p.groups);
            w.bool(p.flip);
        }
        Op::Fft { axis, kind, norm } => {
            w.u8(22);
            w.len(*axis);
            w.str(kind.name());
            w.str(norm.name());
        }
        Op::Concatenate { axis } => {
            w.u8(23);
            w.len(*axis);
        }
        Op::Pad { low, value } => {
            w.u8(24);
            w.usizes(low);
            write_scalar(w, *value);
        }
        Op::Gather { axis } => {
            w.u8(25);
            w.len(*axis);
        }
        Op::TakeAlongAxis { axis } => {
            w.u8(26);
            w.len(*axis);
        }
        Op::SliceUpdate { start, step } => {
            w.u8(27);
            w.usizes(start);
            w.isizes(step);
        }
        Op::PutAlongAxis { axis } => {
            w.u8(28);
            w.len(*axis);
        }
        Op::Scatter { axis, reduce } => {
            w.u8(29);
            w.len(*axis);
            w.str(reduce.name());
        }
        Op::Sort { axis } => {
            w.u8(30);
            w.len(*axis);
        }
        Op::ArgSort { axis } => {
            w.u8(31);
            w.len(*axis);
        }
        Op::RandomBits => w.u8(32),
        Op::Depends => w.u8(33),
        Op::Attention(p) => {
            w.u8(34);
            w.f64(p.scale);
            w.str(match p.mask {
                AttentionMask::None => "none",
                AttentionMask::Causal => "causal",
                AttentionMask::Additive => "additive",
                AttentionMask::Boolean => "boolean",
            });
        }
        Op::Fused(_) => {
            return Err("a fused kernel (only compile's own replays build one)".into());
        }
        Op::CudaKernel(k) => {
            return Err(format!(
                "a user's CUDA kernel ('{}'): its source and launch are not part of the export \
                 format",
                k.entry
            ));
        }
    }
    Ok(())
}

pub(super) fn read_op(r: &mut Reader<'_>) -> Result<Op, Bad> {
    Ok(match r.u8("an op's tag")? {
        0 => Op::Full(read_scalar(r)?),
        1 => Op::Arange {
            start: r.f64("arange's start")?,
            step: r.f64("arange's step")?,
        },
        2 => Op::Eye {
            k: isize::try_from(r.i64("eye's k")?).map_err(|_| "eye's k is too large")?,
        },
        3 => Op::Unary(named(r, UnaryOp::ALL, UnaryOp::name, "a unary op")?),
        4 => Op::Binary(named(r, BinaryOp::ALL, BinaryOp::name, "a binary op")?),
        5 => Op::Where,
        6 => Op::AsType,
        7 => Op::Copy,
        8 => Op::View,
        9 => Op::Reshape,
        10 => Op::Transpose(r.usizes("transpose's axes")?),
        11 => Op::Slice {
            start: r.usizes("slice's start")?,
            step: r.isizes("slice's step")?,
        },
        12 => Op::BroadcastTo,
        13 => Op::Reduce {
            op: named(r, ReduceOp::ALL, ReduceOp::name, "a reduction")?,
            axes: r.usizes("a reduction's axes")?,
        },
        14 => Op::ArgReduce {
            op: named(r, ArgReduceOp::ALL, ArgReduceOp::name, "an arg reduction")?,
            axis: r.len("an axis")?,
        },
        15 => Op::Scan {
            op: named(r, ScanOp::ALL, ScanOp::name, "a scan")?,
            axis: r.len("an axis")?,
            reverse: r.bool("a scan's reverse")?,
            inclusive: r.bool("a scan's inclusive")?,
        },
        16 => Op::Softmax {
            axis: r.len("an axis")?,
        },
        17 => Op::LogSumExp {
            axis: r.len("an axis")?,
        },
        18 => Op::Matmul,
        19 => Op::AddMm {
            alpha: r.f64("addmm's alpha")?,
            beta: r.f64("addmm's beta")?,
        },
        20 => Op::Factor(read_factor(r)?),
        21 => Op::Conv(Box::new(ConvParams {
            stride: r.usizes("conv's stride")?,
            padding_lo: r.usizes("conv's padding")?,
            padding_hi: r.usizes("conv's padding")?,
            kernel_dilation: r.usizes("conv's kernel dilation")?,
            input_dilation: r.usizes("conv's input dilation")?,
            groups: r.len("conv's groups")?,
            flip: r.bool("conv's flip")?,
        })),
        22 => Op::Fft {
            axis: r.len("an axis")?,
            kind: named(r, FftKind::ALL, FftKind::name, "an fft kind")?,
            norm: named(r, FftNorm::ALL, FftNorm::name, "an fft norm")?,
        },
        23 => Op::Concatenate {
            axis: r.len("an axis")?,
        },
        24 => Op::Pad {
            low: r.usizes("pad's widths")?,
            value: read_scalar(r)?,
        },
        25 => Op::Gather {
            axis: r.len("an axis")?,
        },
        26 => Op::TakeAlongAxis {
            axis: r.len("an axis")?,
        },
        27 => Op::SliceUpdate {
            start: r.usizes("slice_update's start")?,
            step: r.isizes("slice_update's step")?,
        },
        28 => Op::PutAlongAxis {
            axis: r.len("an axis")?,
        },
        29 => Op::Scatter {
            axis: r.len("an axis")?,
            reduce: named(r, ScatterReduce::ALL, ScatterReduce::name, "a scatter")?,
        },
        30 => Op::Sort {
            axis: r.len("an axis")?,
        },
        31 => Op::ArgSort {
            axis: r.len("an axis")?,
        },
        32 => Op::RandomBits,
        33 => Op::Depends,
        34 => Op::Attention(AttentionParams {
            scale: r.f64("attention's scale")?,
            mask: match r.str("attention's mask")?.as_str() {
                "none" => AttentionMask::None,
                "causal" => AttentionMask::Causal,
                "additive" => AttentionMask::Additive,
                "boolean" => AttentionMask::Boolean,
                m => {
                    return Err(format!(
                        "attention's mask is {m:?}, not one this rill knows"
                    ))
                }
            },
        }),
        t => return Err(format!("an op's tag is {t}, not one this rill knows")),
    })
}
