//! `Op::Attention` on the CPU: `softmax(scale * q @ k^T + mask) @ v`, a block of query rows at a
//! time.
//!
//! For each (batch, query head) and block of query rows, one `gemm` writes the block's scores
//! (`rows x T_kv`, sized to stay in a core's L2 cache), the mask is applied and each row's softmax
//! is taken in place without its division, a second `gemm` multiplies the block by `v`, and each
//! output row is divided by its row's sum as it is written. The whole score matrix is never in
//! memory: composed from primitives, attention of 8 heads over 1024 positions writes and reads
//! back 32 MiB of scores (docs/benchmarks.md, issue 10).
//!
//! Causal masks skip the products of the keys no row of the block sees. A masked score becomes
//! `AttentionMask::MASKED`, as in the composition (`ops/attention.rs`): a row with no visible key
//! averages every value, as MLX.
//!
//! float32 and float64 operands are read in place through their strides (gemm packs them
//! anyway); float16 and bfloat16 are widened to float32 once. Scores and sums use float32 (float64
//! for float64). Parallelism: blocks across the pool, each block's products on its own thread.

use super::accum::Real;
use super::num::{GemmNative, Num};
use super::output;
use super::softmax::{exp_sum, max_of};
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::{AttentionMask, AttentionParams};
use crate::shape::contiguous_strides;
use crate::{Dtype, Error, Result};
use gemm::Parallelism;
use half::{bf16, f16};
use std::borrow::Cow;

/// Scores per block of query rows: 128 Ki float32 values are 512 KiB, which stay in a core's L2
/// cache (1 MiB on this machine's EPYC) between the two products. Each block's first product
/// packs all of `k` again, so taller blocks pay that less often: over 1024 keys (8 heads, 64
/// dims, one core busy elsewhere) blocks of 32/64/128/256 rows took 32.5/31.1/29.5/28.7 ms.
const BLOCK_SCORES: usize = 128 * 1024;
/// The fewest and most query rows of a block: fewer leave gemm's micro-kernel idle, more only
/// grow the scores past the cache.
const MIN_ROWS: usize = 16;
const MAX_ROWS: usize = 256;
/// Multiply-adds below which attention runs on the calling thread.
const PAR_WORK: usize = 1 << 18;

pub fn run(p: &AttentionParams, inputs: &[Input], out: &Output) -> Result<Data> {
    match out.dtype {
        Dtype::Float64 => typed::<f64, f64>(p, inputs, out),
        Dtype::Float32 => typed::<f32, f32>(p, inputs, out),
        Dtype::Float16 => typed::<f16, f32>(p, inputs, out),
        Dtype::Bfloat16 => typed::<bf16, f32>(p, inputs, out),
        d => Err(Error::runtime(
            "scaled_dot_product_attention",
            format!("internal error: no attention kernel for {d} (the builder composes it)"),
        )),
    }
}

/// The score types: those `gemm` multiplies natively, with softmax's arithmetic.
trait Score: GemmNative + Real {}
impl Score for f32 {}
impl Score for f64 {}

/// A 4-D operand `(B, N, T, D)` as elements of `A`, read through strides.
struct Operand<'a, A: Clone> {
    data: Cow<'a, [A]>,
    offset: isize,
    strides: [isize; 4],
}

impl<'a, A: Score> Operand<'a, A> {
    /// `x` in place when it already holds `A`s, else a row-major copy widened to `A`.
    fn of<T: Num>(x: &'a Input<'a>) -> Self {
        if T::DTYPE == A::DTYPE {
            let st = &x.data.layout.strides;
            return Operand {
                data: Cow::Borrowed(x.data.buffer.as_slice::<A>()),
                offset: x.data.layout.offset as isize,
                strides: [st[0], st[1], st[2], st[3]],
            };
        }
        let data = gather_to_vec::<T>(x.data, x.shape)
            .into_iter()
            .map(|e| A::from_f32(e.to_f32()))
            .collect();
        let st = contiguous_strides(x.shape);
        Operand {
            data: Cow::Owned(data),
            offset: 0,
            strides: [st[0], st[1], st[2], st[3]],
        }
    }

    /// The first element of matrix `(b, h)`.
    fn matrix(&self, b: usize, h: usize) -> *const A {
        let off = self.offset + b as isize * self.strides[0] + h as isize * self.strides[1];
        // `wrapping_offset`: the address is only formed here; the gemm calls that read through
        // it state why what they read is in bounds.
        self.data.as_ptr().wrapping_offset(off)
    }
}

/// The mask operand (input 3), broadcast to `(B, N_q, T_q, T_kv)`.
enum MaskData<'a, A> {
    None,
    Causal,
    Additive(&'a [A], isize, [isize; 4]),
    Boolean(&'a [bool], isize, [isize; 4]),
}

impl<A: Score> MaskData<'_, A> {
    /// Applies the mask to row `i` of matrix `(b, h)`, whose first `row.len()` scores were
    /// computed (`offset`: `T_kv - T_q`, for the causal mask).
    fn apply(&self, b: usize, h: usize, i: usize, row: &mut [A], offset: isize) {
        let masked = A::from_f64(AttentionMask::MASKED);
        let at = |off: isize, st: &[isize; 4]| {
            off + b as isize * st[0] + h as isize * st[1] + i as isize * st[2]
        };
        match self {
            MaskData::None => {}
            MaskData::Causal => {
                // Keys j <= i + offset are seen; none when that is negative.
                let seen = (i as isize + offset + 1).clamp(0, row.len() as isize) as usize;
                let tail = if seen == 0 {
                    &mut row[..]
                } else {
                    &mut row[seen..]
                };
                tail.fill(masked);
            }
            MaskData::Additive(m, off, st) => {
                let base = at(*off, st);
                for (j, s) in row.iter_mut().enumerate() {
                    *s = *s + m[(base + j as isize * st[3]) as usize];
                }
            }
            MaskData::Boolean(m, off, st) => {
                let base = at(*off, st);
                for (j, s) in row.iter_mut().enumerate() {
                    if !m[(base + j as isize * st[3]) as usize] {
                        *s = masked;
                    }
                }
            }
        }
    }
}

fn mask_data<'a, A: Score>(p: &AttentionParams, inputs: &'a [Input<'a>]) -> MaskData<'a, A> {
    let strides = |x: &Input| {
        let st = &x.data.layout.strides;
        [st[0], st[1], st[2], st[3]]
    };
    match p.mask {
        AttentionMask::None => MaskData::None,
        AttentionMask::Causal => MaskData::Causal,
        AttentionMask::Additive => {
            let m = &inputs[3];
            MaskData::Additive(
                m.data.buffer.as_slice::<A>(),
                m.data.layout.offset as isize,
                strides(m),
            )
        }
        AttentionMask::Boolean => {
            let m = &inputs[3];
            MaskData::Boolean(
                m.data.buffer.as_slice::<bool>(),
                m.data.layout.offset as isize,
                strides(m),
            )
        }
    }
}

/// The sizes of one attention.
#[derive(Clone, Copy)]
struct Dims {
    tq: usize,
    tkv: usize,
    d: usize,
    dv: usize,
    heads: usize,
    /// Query heads per key/value head.
    reps: usize,
    /// Query rows per block.
    rows: usize,
}

fn typed<T: Num, A: Score>(p: &AttentionParams, inputs: &[Input], out: &Output) -> Result<Data> {
    let (qs, ks) = (inputs[0].shape, inputs[1].shape);
    let dims = Dims {
        tq: qs[2],
        tkv: ks[2],
        d: qs[3],
        dv: out.shape[3],
        heads: qs[1],
        reps: qs[1] / ks[1].max(1),
        rows: (BLOCK_SCORES / ks[2].max(1)).clamp(MIN_ROWS, MAX_ROWS),
    };
    let q = Operand::<A>::of::<T>(&inputs[0]);
    let k = Operand::<A>::of::<T>(&inputs[1]);
    let v = Operand::<A>::of::<T>(&inputs[2]);
    let mask = mask_data::<A>(p, inputs);
    let scale = A::from_f64(p.scale);
    output::<T>("scaled_dot_product_attention", out, |o| {
        let head_len = dims.tq * dims.dv;
        if head_len == 0 {
            return Ok(());
        }
        let work = o.len() / dims.dv * dims.tkv * (dims.d + dims.dv);
        let threads = crate::kernel_threads::kernel_threads();
        let block = |bh: usize, blk: usize, chunk: &mut [T], bufs: &mut Buffers<A>| {
            let (b, h) = (bh / dims.heads, bh % dims.heads);
            let r0 = blk * dims.rows;
            let job = Block {
                dims: &dims,
                b,
                h,
                r0,
                count: chunk.len() / dims.dv,
            };
            job.run((&q, &k, &v), &mask, scale, chunk, bufs);
        };
        if work < PAR_WORK || threads == 1 {
            let mut bufs = Buffers::default();
            for (bh, head) in o.chunks_mut(head_len).enumerate() {
                for (blk, chunk) in head.chunks_mut(dims.rows * dims.dv).enumerate() {
                    block(bh, blk, chunk, &mut bufs);
                }
            }
        } else {
            use rayon::prelude::*;
            o.par_chunks_mut(head_len)
                .enumerate()
                .flat_map_iter(|(bh, head)| {
                    head.chunks_mut(dims.rows * dims.dv)
                        .enumerate()
                        .map(move |(blk, chunk)| (bh, blk, chunk))
                })
                .for_each_init(Buffers::default, |bufs, (bh, blk, chunk)| {
                    block(bh, blk, chunk, bufs)
                });
        }
        Ok(())
    })
}

/// A thread's scratch: the block's scores, its output rows before division, the rows' sums.
#[derive(Default)]
struct Buffers<A> {
    scores: Vec<A>,
    acc: Vec<A>,
    sums: Vec<A>,
}

/// `buf` at least `n` long (its contents are overwritten before they are read).
fn grow<A: Default + Clone>(buf: &mut Vec<A>, n: usize) {
    if buf.len() < n {
        buf.resize(n, A::default());
    }
}

/// One block: `count` query rows from `r0` of query head `h` of batch `b`.
struct Block<'a> {
    dims: &'a Dims,
    b: usize,
    h: usize,
    r0: usize,
    count: usize,
}

impl Block<'_> {
    fn run<T: Num, A: Score>(
        &self,
        (q, k, v): (&Operand<A>, &Operand<A>, &Operand<A>),
        mask: &MaskData<A>,
        scale: A,
        out: &mut [T],
        bufs: &mut Buffers<A>,
    ) {
        let d = self.dims;
        let (b, h, r0, count) = (self.b, self.h, self.r0, self.count);
        let kh = h / d.reps;
        // Keys j <= i + offset are visible to row i under a causal mask.
        let offset = d.tkv as isize - d.tq as isize;
        let cols = match mask {
            // A row that sees no key averages every value: it needs every score.
            MaskData::Causal if r0 as isize + offset >= 0 => {
                ((r0 + count) as isize + offset).clamp(0, d.tkv as isize) as usize
            }
            _ => d.tkv,
        };
        if cols == 0 {
            // No key at all: softmax of nothing times nothing, zeros (as the composition).
            out.fill(T::from_f64(0.0));
            return;
        }
        // Grown once per thread, never cleared: the product overwrites what it reads (zeroing
        // 512 KiB per block was ~1 ms of a 15 ms attention).
        grow(&mut bufs.scores, count * cols);
        let scores = &mut bufs.scores[..count * cols];
        if d.d == 0 {
            scores.fill(A::default());
        } else {
            let qm = q.matrix(b, h).wrapping_offset(r0 as isize * q.strides[2]);
            // SAFETY:
            // - dst: `scores` is `count * cols` elements, written as `count` rows of `cols`
            //   (row stride cols, column stride 1); read_dst is false, so it is not read.
            // - lhs: rows r0..r0+count (< T_q) and columns 0..D of query matrix (b, h), through
            //   its strides: in bounds of its buffer by the layout's invariant.
            // - rhs: element (kk, j) is k[b, kh, j, kk] for j < cols <= T_kv, kk < D: column
            //   stride k's T stride, row stride k's D stride; in bounds likewise.
            // - A is f32 or f64, which gemm implements; conj flags are false.
            unsafe {
                gemm::gemm(
                    count,
                    cols,
                    d.d,
                    scores.as_mut_ptr(),
                    1,
                    cols as isize,
                    false,
                    qm,
                    q.strides[3],
                    q.strides[2],
                    k.matrix(b, kh),
                    k.strides[2],
                    k.strides[3],
                    A::default(),
                    scale,
                    false,
                    false,
                    false,
                    Parallelism::None,
                )
            }
        }
        bufs.sums.clear();
        for (i, row) in scores.chunks_exact_mut(cols).enumerate() {
            mask.apply(b, h, r0 + i, row, offset);
            let m = max_of(row);
            bufs.sums.push(exp_sum(row, m));
        }
        if d.dv == 0 {
            return;
        }
        grow(&mut bufs.acc, count * d.dv);
        let acc = &mut bufs.acc[..count * d.dv];
        // SAFETY:
        // - dst: `acc` is `count * dv` elements, `count` rows of `dv`; not read.
        // - lhs: `scores`, `count` rows of `cols`, row-major, in bounds.
        // - rhs: element (j, c) is v[b, kh, j, c] for j < cols <= T_kv, c < D_v: row stride v's
        //   T stride, column stride v's D stride; in bounds by the layout's invariant.
        // - A is f32 or f64; conj flags are false.
        unsafe {
            gemm::gemm(
                count,
                d.dv,
                cols,
                acc.as_mut_ptr(),
                1,
                d.dv as isize,
                false,
                scores.as_ptr(),
                1,
                cols as isize,
                v.matrix(b, kh),
                v.strides[3],
                v.strides[2],
                A::default(),
                A::one(),
                false,
                false,
                false,
                Parallelism::None,
            )
        }
        for ((o, a), &sum) in out
            .chunks_exact_mut(d.dv)
            .zip(acc.chunks_exact(d.dv))
            .zip(&bufs.sums)
        {
            let inv = A::one().div(sum);
            for (o, &a) in o.iter_mut().zip(a) {
                *o = T::from_f64((a * inv).to_f64());
            }
        }
    }
}
