//! Matrix products (`Matmul`, `AddMm`) on the `gemm` crate.
//!
//! The builder hands us `(..., m, k) @ (..., k, n)` with the batch dims of both operands already
//! broadcast to the output's (stride 0 where an operand repeats). Each operand is read in place
//! when its matrices have a plain row- or column-major layout (so a transposed view costs no
//! copy), and gathered into a contiguous buffer otherwise. float32, float64, float16 and
//! complex64 run natively in `gemm`; bfloat16 is widened to float32, multiplied, and rounded
//! once.
//!
//! Parallelism: a large product is cut into tiles that threads compute with single-threaded
//! `gemm` calls (`tile_grid`), a mid-sized one uses `gemm`'s own rayon split; many small ones (a
//! batch) run one per rayon task; small work stays on the calling thread, where spawning would
//! cost more than it saves.

use super::binary::Arith;
use super::num::{cast, Num};
use super::output;
use super::strided::{broadcast_strides, collapse, map1, par_chunks, DstPtr};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::shape::{contiguous_strides, numel, Layout};
use crate::{Dtype, Element, Error, Result};
use gemm::Parallelism;
use half::{bf16, f16};
use num_complex::Complex32;
use std::borrow::Cow;

/// Multiply-adds (`m * n * k`) from which a product is worth splitting across threads. Measured
/// on 16 cores (one product, float32, docs/benchmarks.md): 64^3 takes 5.0 µs on one thread and
/// 5.6 split, 96^3 13.3 both ways, 128^3 31.3 against 18.4: below ~96^3 the split's
/// synchronization costs more than the work it shares.
const PAR_WORK: usize = 96 * 96 * 96;

/// The fewest rows of a block that idle threads take from a product (`product`): below this,
/// gemm's packing of the right-hand matrix for every block costs more than sharing gains.
const CHUNK_ROWS: usize = 32;

pub fn run(op: &Op, inputs: &[Input], out: &Output) -> Result<Data> {
    let name = op.name();
    let (c, a, b, alpha, beta) = match (op, inputs) {
        (Op::Matmul, [a, b]) => (None, a, b, 1.0, 0.0),
        (Op::AddMm { alpha, beta }, [c, a, b]) => (Some(c), a, b, *alpha, *beta),
        _ => {
            return Err(Error::runtime(
                name,
                format!("{name} got {} inputs", inputs.len()),
            ))
        }
    };
    // With beta == 0, c is not read at all (BLAS semantics: a NaN in c does not spread).
    let c = c.filter(|_| beta != 0.0);
    let job = Job {
        c,
        a,
        b,
        alpha,
        beta,
        out,
    };
    match out.dtype {
        Dtype::Float32 => job.native::<f32>(name),
        Dtype::Float64 => job.native::<f64>(name),
        Dtype::Float16 => job.native::<f16>(name),
        Dtype::Complex64 => job.native::<Complex32>(name),
        Dtype::Bfloat16 => job.widened::<bf16>(name),
        dt => Err(Error::runtime(
            name,
            format!("no CPU kernel for {dt}; the builder should have rejected it"),
        )),
    }
}

struct Job<'a> {
    c: Option<&'a Input<'a>>,
    a: &'a Input<'a>,
    b: &'a Input<'a>,
    alpha: f64,
    beta: f64,
    out: &'a Output<'a>,
}

impl Job<'_> {
    fn dims(&self) -> Dims {
        let nd = self.out.shape.len();
        Dims {
            batch: self.out.shape[..nd - 2].to_vec(),
            m: self.out.shape[nd - 2],
            n: self.out.shape[nd - 1],
            k: self.a.shape[self.a.shape.len() - 1],
        }
    }

    /// Element types `gemm` multiplies directly.
    fn native<T: Arith>(&self, name: &'static str) -> Result<Data> {
        output::<T>(name, self.out, |o| {
            let d = self.dims();
            let a = Mat::<T>::of(self.a, &d.batch);
            let b = Mat::<T>::of(self.b, &d.batch);
            let keep = self.c.map(|c| {
                map1::<T, T>(c, self.out.shape, o, |v| v);
                T::from_f64(self.beta)
            });
            product(o, &d, &a, &b, keep, T::from_f64(self.alpha));
            Ok(())
        })
    }

    /// Half types `gemm` has no kernel for: multiply in f32, round once at the end.
    fn widened<H: Num>(&self, name: &'static str) -> Result<Data> {
        output::<H>(name, self.out, |o| {
            let d = self.dims();
            let a = Mat::<f32>::gathered::<H>(self.a, &d.batch);
            let b = Mat::<f32>::gathered::<H>(self.b, &d.batch);
            let mut acc = vec![0f32; o.len()];
            let keep = self.c.map(|c| {
                map1::<H, f32>(c, self.out.shape, &mut acc, cast::<H, f32>);
                self.beta as f32
            });
            product(&mut acc, &d, &a, &b, keep, self.alpha as f32);
            par_chunks(o, |range, chunk| {
                for (o, &v) in chunk.iter_mut().zip(&acc[range]) {
                    *o = H::from_f32(v);
                }
            });
            Ok(())
        })
    }
}

/// The sizes of a batched product: `batch` (each dim), then `(m, k) @ (k, n)`.
struct Dims {
    batch: Vec<usize>,
    m: usize,
    n: usize,
    k: usize,
}

/// One operand as `gemm` reads it: element `[i..., r, c]` (batch index `i`) is at
/// `data[offset + sum(i * batch) + r * rs + c * cs]`.
struct Mat<'a, T: Element> {
    data: Cow<'a, [T]>,
    offset: usize,
    /// Per batch dim; 0 where the operand is broadcast.
    batch: Vec<isize>,
    rs: isize,
    cs: isize,
}

impl<'a, T: Num> Mat<'a, T> {
    /// `x` read in place when its matrices are plain, a contiguous copy otherwise.
    fn of(x: &'a Input<'a>, batch: &[usize]) -> Self {
        let (full, st) = full_strides(x, batch);
        let nb = batch.len();
        match plain(full[nb], full[nb + 1], st[nb], st[nb + 1]) {
            Some((rs, cs)) => Mat {
                data: Cow::Borrowed(x.data.buffer.as_slice::<T>()),
                offset: x.data.layout.offset,
                batch: st[..nb].to_vec(),
                rs,
                cs,
            },
            None => Self::gathered::<T>(x, batch),
        }
    }

    /// A row-major copy of `x`, converted from `S` to `T`, holding each distinct matrix once
    /// (batch dims along which `x` is broadcast stay broadcast).
    fn gathered<S: Num>(x: &Input, batch: &[usize]) -> Mat<'static, T> {
        let (full, st) = full_strides(x, batch);
        let nb = batch.len();
        // A dim along which x repeats (stride 0) is gathered once and read with stride 0.
        let distinct: Vec<usize> = full
            .iter()
            .zip(&st)
            .enumerate()
            .map(|(d, (&n, &s))| if d < nb && s == 0 { 1 } else { n })
            .collect();
        let view = Data {
            buffer: x.data.buffer.clone(),
            layout: Layout {
                strides: st,
                offset: x.data.layout.offset,
            },
        };
        let src = Input {
            shape: &full,
            dtype: S::DTYPE,
            data: &view,
        };
        let mut data = vec![T::default(); numel(&distinct)];
        map1::<S, T>(&src, &distinct, &mut data, cast::<S, T>);
        let cst = contiguous_strides(&distinct);
        let batch_st = (0..nb)
            .map(|d| if distinct[d] == 1 { 0 } else { cst[d] })
            .collect();
        Mat {
            data: Cow::Owned(data),
            offset: 0,
            batch: batch_st,
            rs: cst[nb],
            cs: cst[nb + 1],
        }
    }

    /// Element offset of batch `i` (row-major over `batch`) from `data`'s start.
    fn batch_offset(&self, mut i: usize, batch: &[usize]) -> isize {
        let mut off = self.offset as isize;
        for (&n, &s) in batch.iter().zip(&self.batch).rev() {
            off += (i % n) as isize * s;
            i /= n;
        }
        off
    }
}

/// `x`'s shape as batch dims + its two matrix dims, and its strides in that shape (0 for batch
/// dims it is broadcast along).
fn full_strides(x: &Input, batch: &[usize]) -> (Vec<usize>, Vec<isize>) {
    let nd = x.shape.len();
    let full: Vec<usize> = batch
        .iter()
        .copied()
        .chain([x.shape[nd - 2], x.shape[nd - 1]])
        .collect();
    let st = broadcast_strides(x, &full);
    (full, st.to_vec())
}

/// `(rs, cs)` when a `rows x cols` matrix with these strides is plain row-major (`cs == 1`, rows
/// apart by at least a row) or column-major (the transpose), so `gemm` can read it in place.
/// Strides of a dim of length 1 never step, so they are chosen to make the layout plain.
fn plain(rows: usize, cols: usize, mut rs: isize, mut cs: isize) -> Option<(isize, isize)> {
    if rows <= 1 {
        rs = if cs == 1 { cols.max(1) as isize } else { 1 };
    }
    if cols <= 1 {
        cs = if rs == 1 { rows.max(1) as isize } else { 1 };
    }
    let row_major = cs == 1 && rs >= cols.max(1) as isize;
    let col_major = rs == 1 && cs >= rows.max(1) as isize;
    (row_major || col_major).then_some((rs, cs))
}

/// Tiles (rows of tiles, columns of tiles) that `threads` threads cut an `m x n` output into,
/// when it holds at least four tiles of `MIN_TILE`^2 a thread; None for smaller outputs.
///
/// About four tiles a thread, so threads that finish early take more, and near-square, so the
/// panels each tile packs (its rows of a, its columns of b) are small next to its work. A large
/// product split this way ran faster than `gemm`'s own parallel split (`Parallelism::Rayon`),
/// which shares the packed panels but makes all threads wait for each other at every block of
/// `k`: 2048^3 float32 on 16 cores, 10.8-12.0 ms against 13.9-17.1 (PyTorch: 11.8-12.6), 1024^3
/// on 2 cores 8.9-9.6 ms against 10.3. Below that size the tiles' packing costs more than the
/// waits (512^3 on 2 cores: 1.14-1.23 ms against 1.06), so `gemm` splits those
/// (`examples/gemm_split.rs`).
fn tile_grid(m: usize, n: usize, threads: usize) -> Option<(usize, usize)> {
    const MIN_TILE: usize = 256;
    let want = 4 * threads.max(1);
    if m.saturating_mul(n) < want * MIN_TILE * MIN_TILE {
        return None;
    }
    // Rows of tiles: a power of two near sqrt(want * m / n) (near-square tiles), so that with a
    // power-of-two thread count the tiles divide evenly among the threads.
    let ideal = (want as f64 * m as f64 / n as f64).sqrt().max(1.0);
    let tr = (1usize << ideal.log2().round() as u32).clamp(1, m.div_ceil(MIN_TILE).max(1));
    let tc = want.div_ceil(tr).clamp(1, n.div_ceil(MIN_TILE).max(1));
    Some((tr, tc))
}

/// `dst = alpha * (a @ b) + keep * dst` for every batch (`dst` is row-major, batch dims then
/// `m, n`); with `keep == None`, `dst` is not read.
fn product<T: Arith>(dst: &mut [T], d: &Dims, a: &Mat<T>, b: &Mat<T>, keep: Option<T>, alpha: T) {
    let Dims { m, n, k, .. } = *d;
    let count = numel(&d.batch);
    debug_assert_eq!(dst.len(), count * m * n);
    if dst.is_empty() {
        return;
    }
    if k == 0 {
        // An empty sum: gemm would leave dst untouched.
        match keep {
            None => dst.fill(T::default()),
            Some(s) => dst.iter_mut().for_each(|v| *v = v.mul(s)),
        }
        return;
    }

    // b is the same matrix for every batch and a's matrices are stacked rows: one product of
    // (count * m, k) @ (k, n), which gemm splits better than `count` small ones.
    let b_shared = d
        .batch
        .iter()
        .zip(&b.batch)
        .all(|(&n, &s)| n == 1 || s == 0);
    let mut a_rows = d.batch.clone();
    a_rows.push(m);
    let mut a_row_st = a.batch.clone();
    a_row_st.push(a.rs);
    let (folded, [fst]) = collapse(&a_rows, [&a_row_st]);
    let fold = match (&folded[..], &fst[..]) {
        ([_], [rs]) if count > 1 && b_shared => plain(count * m, k, *rs, a.cs),
        _ => None,
    };
    let (count, m, a_rs, a_cs) = match fold {
        Some((rs, cs)) => (1, count * m, rs, cs),
        None => (count, m, a.rs, a.cs),
    };
    let batch: &[usize] = if count == 1 { &[] } else { &d.batch };

    let work = m * n * k;
    let dst_ptr = DstPtr(dst.as_mut_ptr());
    // Rows `rows` and columns `cols` of batch `i`'s product.
    let tile =
        |i: usize, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>, par: Parallelism| {
            let (oa, ob) = if batch.is_empty() {
                (a.offset as isize, b.offset as isize)
            } else {
                (a.batch_offset(i, batch), b.batch_offset(i, batch))
            };
            let oa = oa + rows.start as isize * a_rs;
            let ob = ob + cols.start as isize * b.cs;
            // SAFETY:
            // - dst: batch `i` owns `dst[i*m*n .. (i+1)*m*n]` (in bounds: `dst.len() == count*m*n`),
            //   written row-major (rs = n, cs = 1); the tile `rows` x `cols` (within `0..m` x `0..n`)
            //   of it is the elements `i*m*n + r*n + c` for r in `rows`, c in `cols`, the only ones
            //   gemm touches. Batches and tiles are disjoint, so concurrent tasks never write the
            //   same element, and `dst` is a fresh buffer that no input aliases. `read_dst` is set
            //   only when `keep` is, and then every element was written first (c broadcast into
            //   dst, or the widened accumulator).
            // - lhs/rhs: `Mat` describes a valid view of its `data` (an evaluated array's layout,
            //   broadcast with stride 0, or a contiguous copy), so `offset + batch strides + r*rs +
            //   c*cs` is in bounds of `data` for every `r < m`, `c < k` (`c < n` for rhs); the tile
            //   reads a's rows `rows` and b's columns `cols`, a subset. When the batch was folded
            //   into rows, a's rows are equally spaced by `a_rs` (that is what `collapse` checked),
            //   so the folded rows are the same elements. The data outlives the call and is only
            //   read.
            // - T is f32, f64, f16 (half's, the type gemm re-exports) or Complex32: all types gemm
            //   implements; conj flags are false, so complex values are used as they are.
            unsafe {
                gemm::gemm(
                    rows.len(),
                    cols.len(),
                    k,
                    dst_ptr.add(i * m * n + rows.start * n + cols.start),
                    1,
                    n as isize,
                    keep.is_some(),
                    a.data.as_ptr().offset(oa),
                    a_cs,
                    a_rs,
                    b.data.as_ptr().offset(ob),
                    b.cs,
                    b.rs,
                    keep.unwrap_or_default(),
                    alpha,
                    false,
                    false,
                    false,
                    par,
                )
            }
        };
    let block = |i: usize, rows: std::ops::Range<usize>, par: Parallelism| tile(i, rows, 0..n, par);
    // This product's share of the pool: all of it while no other stream runs, one thread when
    // every thread already drains a stream of its own (kernel_threads.rs).
    let one = |i: usize, par: Parallelism| block(i, 0..m, par);
    let threads = crate::kernel_threads::kernel_threads();
    let pool = rayon::current_num_threads();
    if threads < pool && work >= PAR_WORK && m >= 2 * CHUNK_ROWS {
        // Another stream or a task beside this one holds part of the pool now, perhaps not for
        // long: blocks of rows that threads take as they become idle (kernel_threads.rs rule 4).
        let per = (m / (pool * 4))
            .clamp(CHUNK_ROWS, m)
            .next_multiple_of(8)
            .min(m);
        let blocks = m.div_ceil(per);
        crate::kernel_threads::run_chunks(count * blocks, |c| {
            let (i, r) = (c / blocks, (c % blocks) * per);
            block(i, r..(r + per).min(m), Parallelism::None)
        });
    } else if threads == 1 {
        (0..count).for_each(|i| one(i, Parallelism::None));
    } else if work >= PAR_WORK {
        match tile_grid(m, n, threads) {
            // A large output with the whole pool: cut into tiles that threads compute with
            // single-threaded products, each packing its own panels.
            Some((tr, tc)) => {
                let (th, tw) = (m.div_ceil(tr), n.div_ceil(tc));
                let tiles = tr * tc;
                crate::kernel_threads::run_chunks(count * tiles, |c| {
                    let (i, t) = (c / tiles, c % tiles);
                    let (r, col) = ((t / tc) * th, (t % tc) * tw);
                    tile(
                        i,
                        r..(r + th).min(m),
                        col..(col + tw).min(n),
                        Parallelism::None,
                    )
                });
            }
            // Smaller ones: `gemm`'s own split, as `Rayon(0)` would with the whole pool.
            None => (0..count).for_each(|i| one(i, Parallelism::Rayon(threads))),
        }
    } else if count > 1 && count * work >= PAR_WORK {
        use rayon::prelude::*;
        // Enough batches per task that scheduling stays cheap next to the products, and no more
        // tasks than this product's share of threads.
        let per_task = (PAR_WORK / work.max(1)).max(count.div_ceil(threads)).max(1);
        (0..count)
            .into_par_iter()
            .with_min_len(per_task)
            .for_each(|i| one(i, Parallelism::None));
    } else {
        (0..count).for_each(|i| one(i, Parallelism::None));
    }
}
