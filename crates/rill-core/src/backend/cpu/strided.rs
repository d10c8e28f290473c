//! Walking strided arrays fast: dimension collapsing and row-wise iteration.
//!
//! Every elementwise kernel reduces to "for each row of the innermost (collapsed) dimension, do a
//! tight loop". Rows whose inner strides are all 1 are plain slices, which the compiler vectorizes;
//! broadcast inputs have inner stride 0 and are read once per row.

use crate::backend::Input;
use crate::memory::Data;
use crate::Element;
use smallvec::SmallVec;
use std::ops::Range;

/// Per-dimension scratch that stays on the stack for up to six dims: these are built for every
/// kernel call, and heap vectors here were a measurable share of a small op's cost.
pub type Dims<T> = SmallVec<[T; 6]>;

/// The dims of `shape` with runs that are contiguous in every operand merged, size-1 dims dropped.
/// Returns the collapsed shape and each operand's collapsed strides.
pub fn collapse<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
) -> (Dims<usize>, [Dims<isize>; N]) {
    let mut dims: Dims<usize> = Dims::new();
    let mut out: [Dims<isize>; N] = std::array::from_fn(|_| Dims::new());
    for (d, &n) in shape.iter().enumerate() {
        if n == 1 {
            continue;
        }
        if let Some(&last) = dims.last() {
            let mergeable = (0..N).all(|k| *out[k].last().unwrap() == strides[k][d] * n as isize);
            if mergeable {
                *dims.last_mut().unwrap() = last * n;
                for k in 0..N {
                    *out[k].last_mut().unwrap() = strides[k][d];
                }
                continue;
            }
        }
        dims.push(n);
        for k in 0..N {
            out[k].push(strides[k][d]);
        }
    }
    (dims, out)
}

/// Calls `f(out_index, len, offsets, inner_strides)` for each run of output elements in `range`
/// (row-major flat indices of `shape`) that lies within one row of the innermost collapsed dim.
/// `offsets[k]` is operand `k`'s element offset of the run's first element.
pub fn for_each_row<const N: usize>(
    shape: &[usize],
    strides: [&[isize]; N],
    base: [usize; N],
    range: Range<usize>,
    mut f: impl FnMut(usize, usize, [isize; N], [isize; N]),
) {
    if range.is_empty() {
        return;
    }
    let (dims, st) = collapse(shape, strides);
    let base: [isize; N] = base.map(|b| b as isize);
    if dims.is_empty() {
        f(range.start, 1, base, [0; N]);
        return;
    }
    let nd = dims.len();
    let inner = dims[nd - 1];
    let inner_st: [isize; N] = std::array::from_fn(|k| st[k][nd - 1]);
    // Multi-index of the first row.
    let mut row = range.start / inner;
    let mut col = range.start % inner;
    let mut idx: Dims<usize> = smallvec::smallvec![0; nd - 1];
    for d in (0..nd - 1).rev() {
        idx[d] = row % dims[d];
        row /= dims[d];
    }
    let mut offs: [isize; N] = std::array::from_fn(|k| {
        base[k]
            + (0..nd - 1)
                .map(|d| idx[d] as isize * st[k][d])
                .sum::<isize>()
    });
    let mut pos = range.start;
    while pos < range.end {
        let len = (inner - col).min(range.end - pos);
        let start: [isize; N] = std::array::from_fn(|k| offs[k] + col as isize * inner_st[k]);
        f(pos, len, start, inner_st);
        pos += len;
        col = 0;
        // Odometer step over the outer dims.
        for d in (0..nd - 1).rev() {
            idx[d] += 1;
            for k in 0..N {
                offs[k] += st[k][d];
            }
            if idx[d] < dims[d] {
                break;
            }
            for k in 0..N {
                offs[k] -= st[k][d] * dims[d] as isize;
            }
            idx[d] = 0;
        }
    }
}

/// `x`'s strides seen as an array of `shape` (NumPy broadcasting: missing and size-1 dims get
/// stride 0). `x.shape` must broadcast to `shape`.
pub fn broadcast_strides(x: &Input, shape: &[usize]) -> Dims<isize> {
    let pad = shape.len() - x.shape.len();
    (0..shape.len())
        .map(|d| {
            if d < pad || x.shape[d - pad] == 1 {
                0
            } else {
                x.data.layout.strides[d - pad]
            }
        })
        .collect()
}

/// Elements per parallel chunk; below twice this an op runs on one thread (splitting costs more
/// than it saves for small arrays).
pub const PAR_CHUNK: usize = 1 << 15;

/// A raw output pointer that parallel chunks may carry; each chunk writes a disjoint part.
pub(super) struct DstPtr<T>(pub(super) *mut T);
// Copy for every `T` (a derive would ask `T: Copy`).
impl<T> Clone for DstPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for DstPtr<T> {}
// SAFETY: only used to hand disjoint output ranges to pool threads (`par_chunks`, matmul's
// `product`): each thread makes a `&mut` to its own range, as splitting a `&mut [T]` would, which
// needs only `T: Send`.
unsafe impl<T: Send> Send for DstPtr<T> {}
// SAFETY: as above (shared between the threads, it only yields disjoint ranges).
unsafe impl<T: Send> Sync for DstPtr<T> {}

impl<T> DstPtr<T> {
    /// The pointer `i` elements on (a method, so closures capture the `Send` wrapper, not the
    /// raw pointer field).
    pub(super) fn add(self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}

/// Runs `f(range, out_chunk)` over `out` in parallel chunks when it is large.
///
/// With more than one thread as this kernel's share of the pool (`kernel_threads.rs`), rayon's
/// loop splits it. With one (other streams are draining, or tasks run beside this one), it still
/// cuts `out` into chunks that threads idle later may join (`run_chunks`, kernel_threads.rs rule
/// 4): a kernel started beside a shorter one otherwise kept one thread after the other finished
/// (two chains on one stream, 2 cores: the second core idled half of the time).
pub fn par_chunks<O: Send>(out: &mut [O], f: impl Fn(Range<usize>, &mut [O]) + Sync + Send) {
    let n = out.len();
    if n < 2 * PAR_CHUNK {
        f(0..n, out);
        return;
    }
    let threads = crate::kernel_threads::kernel_threads();
    if threads == 1 {
        let chunk = (n / 8).max(PAR_CHUNK / 4);
        let dst = DstPtr(out.as_mut_ptr());
        crate::kernel_threads::run_chunks(n.div_ceil(chunk), |c| {
            let start = c * chunk;
            let len = chunk.min(n - start);
            // SAFETY: chunk `c` is `out[start..start + len]`, inside `out` and disjoint from
            // every other chunk; `run_chunks` returns only after every chunk is done, while
            // `out` is still borrowed here.
            let part = unsafe { std::slice::from_raw_parts_mut(dst.add(start), len) };
            f(start..start + len, part)
        });
        return;
    }
    let chunk = (n / (threads * 4)).max(PAR_CHUNK);
    use rayon::prelude::*;
    out.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| {
        let start = i * chunk;
        f(start..start + c.len(), c)
    });
}

/// Applies `f` to every element of `x` broadcast to `shape`, writing `out` (row-major).
pub fn map1<A: Element, O: Element>(
    x: &Input,
    shape: &[usize],
    out: &mut [O],
    f: impl Fn(A) -> O + Sync + Send,
) {
    let a: &[A] = x.data.buffer.as_slice();
    let sx = broadcast_strides(x, shape);
    if map1_transposed(a, shape, &sx, x.data.layout.offset, out, &f) {
        return;
    }
    let strides = [&sx[..]];
    let base = [x.data.layout.offset];
    par_chunks(out, |range, chunk| {
        let first = range.start;
        for_each_row(shape, strides, base, range, |pos, len, [oa], [sa]| {
            let o = &mut chunk[pos - first..pos - first + len];
            let oa = oa as usize;
            match sa {
                1 => map_unit(o, &a[oa..oa + len], &f),
                0 => o.fill(f(a[oa])),
                _ => o
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, o)| *o = f(a[(oa as isize + i as isize * sa) as usize])),
            }
        });
    });
}

/// Output rows per tile of [`map1_transposed`], and columns per tile: 32 x 32 float32 is 4 KiB
/// of input, 32 cache lines each read once per tile.
const TILE: usize = 32;

/// `map1` for an input whose last two (collapsed) dims are swapped in memory: the output's rows
/// run across the input with a stride `ld` while the dim before them is the input's contiguous
/// one (a transpose, `x.T` or `swapaxes(-1, -2)` made contiguous). Walked row by row, every
/// output element reads another cache line (2048 x 2048 float32: 10.7 ms on 2 cores, PyTorch
/// 3.9); walked in tiles of `TILE` rows by `TILE` columns, each line read serves `TILE` outputs.
/// Returns false, doing nothing, for any other layout.
fn map1_transposed<A: Element, O: Element>(
    a: &[A],
    shape: &[usize],
    strides: &[isize],
    base: usize,
    out: &mut [O],
    f: &(impl Fn(A) -> O + Sync + Send),
) -> bool {
    // Smaller outputs have no two dims of a tile each; leave before collapsing (small ops run
    // this check on every call).
    if out.len() < TILE * TILE {
        return false;
    }
    let (dims, [st]) = collapse(shape, [strides]);
    let nd = dims.len();
    if nd < 2 || st[nd - 2] != 1 || st[nd - 1].unsigned_abs() <= 1 {
        return false;
    }
    let (rows, cols, ld) = (dims[nd - 2], dims[nd - 1], st[nd - 1]);
    if rows < TILE || cols < TILE {
        return false;
    }
    // The input offset of output row `g` (over the outer dims and the row dim), column 0.
    let row_offset = |g: usize| -> isize {
        let (mut outer, i) = (g / rows, g % rows);
        let mut off = base as isize + i as isize;
        for d in (0..nd - 2).rev() {
            off += (outer % dims[d]) as isize * st[d];
            outer /= dims[d];
        }
        off
    };
    // Rows g0.. of the output into `block` (whole rows).
    let fill = |g0: usize, block: &mut [O]| {
        let n_rows = block.len() / cols;
        let offsets: Dims<isize> = (g0..g0 + n_rows).map(row_offset).collect();
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for (r, &off) in offsets.iter().enumerate() {
                let o = &mut block[r * cols + j0..r * cols + j1];
                for (k, o) in o.iter_mut().enumerate() {
                    *o = f(a[(off + (j0 + k) as isize * ld) as usize]);
                }
            }
        }
    };
    let threads = crate::kernel_threads::kernel_threads();
    if out.len() < 2 * PAR_CHUNK || threads == 1 {
        for (t, block) in out.chunks_mut(TILE * cols).enumerate() {
            fill(t * TILE, block);
        }
    } else {
        use rayon::prelude::*;
        out.par_chunks_mut(TILE * cols)
            .enumerate()
            .for_each(|(t, block)| fill(t * TILE, block));
    }
    true
}

/// `o[i] = f(src[i])`, compiled a second time for AVX2 + FMA and a third for AVX-512, and chosen
/// at run time (`simd.rs`): element functions written to vectorize (`vector_math.rs`'s `exp` and
/// `tanh`, `trig_f32.rs`) run ~2x faster with AVX2, and the f64 lanes of `sin` another 1.5x with
/// AVX-512. The same operations each way, so the same results.
#[inline]
pub(super) fn map_unit<A: Copy, O>(o: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    #[cfg(target_arch = "x86_64")]
    if super::simd::has_avx512() {
        // SAFETY: the CPU has the AVX-512 subsets, AVX2 and FMA, checked just above.
        return unsafe { map_unit_avx512(o, src, f) };
    }
    #[cfg(target_arch = "x86_64")]
    if super::simd::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { map_unit_avx2(o, src, f) };
    }
    map_unit_body(o, src, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_unit_avx2<A: Copy, O>(o: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    map_unit_body(o, src, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
unsafe fn map_unit_avx512<A: Copy, O>(o: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    map_unit_body(o, src, f)
}

#[inline(always)]
fn map_unit_body<A: Copy, O>(o: &mut [O], src: &[A], f: &impl Fn(A) -> O) {
    o.iter_mut().zip(src).for_each(|(o, &v)| *o = f(v))
}

/// Applies `f` elementwise to `x` and `y` broadcast to `shape`, writing `out` (row-major).
pub fn map2<A: Element, B: Element, O: Element>(
    x: &Input,
    y: &Input,
    shape: &[usize],
    out: &mut [O],
    f: impl Fn(A, B) -> O + Sync + Send,
) {
    let a: &[A] = x.data.buffer.as_slice();
    let b: &[B] = y.data.buffer.as_slice();
    let (sx, sy) = (broadcast_strides(x, shape), broadcast_strides(y, shape));
    let strides = [&sx[..], &sy[..]];
    let base = [x.data.layout.offset, y.data.layout.offset];
    par_chunks(out, |range, chunk| {
        let first = range.start;
        for_each_row(
            shape,
            strides,
            base,
            range,
            |pos, len, [oa, ob], [sa, sb]| {
                let o = &mut chunk[pos - first..pos - first + len];
                let (oa, ob) = (oa as usize, ob as usize);
                match (sa, sb) {
                    (1, 1) => {
                        let (a, b) = (&a[oa..oa + len], &b[ob..ob + len]);
                        for i in 0..len {
                            o[i] = f(a[i], b[i]);
                        }
                    }
                    (1, 0) => {
                        let (a, bv) = (&a[oa..oa + len], b[ob]);
                        for i in 0..len {
                            o[i] = f(a[i], bv);
                        }
                    }
                    (0, 1) => {
                        let (av, b) = (a[oa], &b[ob..ob + len]);
                        for i in 0..len {
                            o[i] = f(av, b[i]);
                        }
                    }
                    _ => {
                        for (i, o) in o.iter_mut().enumerate() {
                            let ia = (oa as isize + i as isize * sa) as usize;
                            let ib = (ob as isize + i as isize * sb) as usize;
                            *o = f(a[ia], b[ib]);
                        }
                    }
                }
            },
        );
    });
}

/// Applies `f` elementwise to three arrays broadcast to `shape`, writing `out` (row-major).
pub fn map3<A: Element, B: Element, C: Element, O: Element>(
    x: &Input,
    y: &Input,
    z: &Input,
    shape: &[usize],
    out: &mut [O],
    f: impl Fn(A, B, C) -> O + Sync + Send,
) {
    let a: &[A] = x.data.buffer.as_slice();
    let b: &[B] = y.data.buffer.as_slice();
    let c: &[C] = z.data.buffer.as_slice();
    let (sx, sy, sz) = (
        broadcast_strides(x, shape),
        broadcast_strides(y, shape),
        broadcast_strides(z, shape),
    );
    let strides = [&sx[..], &sy[..], &sz[..]];
    let base = [
        x.data.layout.offset,
        y.data.layout.offset,
        z.data.layout.offset,
    ];
    par_chunks(out, |range, chunk| {
        let first = range.start;
        for_each_row(
            shape,
            strides,
            base,
            range,
            |pos, len, [oa, ob, oc], [sa, sb, sc]| {
                let o = &mut chunk[pos - first..pos - first + len];
                let (ua, ub, uc) = (oa as usize, ob as usize, oc as usize);
                // Runs over slices, without per-element index arithmetic or bounds checks, so
                // the loop vectorizes: `where`'s select then becomes a blend instead of a branch
                // per element, which random conditions mispredicted half the time (13x slower
                // than an add, issue 11's MLP backward pass).
                match (sa, sb, sc) {
                    (1, 1, 1) => {
                        let (a, b, c) = (&a[ua..ua + len], &b[ub..ub + len], &c[uc..uc + len]);
                        for i in 0..len {
                            o[i] = f(a[i], b[i], c[i]);
                        }
                    }
                    (1, 1, 0) => {
                        let (a, b, cv) = (&a[ua..ua + len], &b[ub..ub + len], c[uc]);
                        for i in 0..len {
                            o[i] = f(a[i], b[i], cv);
                        }
                    }
                    (1, 0, 1) => {
                        let (a, bv, c) = (&a[ua..ua + len], b[ub], &c[uc..uc + len]);
                        for i in 0..len {
                            o[i] = f(a[i], bv, c[i]);
                        }
                    }
                    (1, 0, 0) => {
                        // `where(mask, g, 0)` with `g` broadcast: a gradient's usual shape.
                        let (a, bv, cv) = (&a[ua..ua + len], b[ub], c[uc]);
                        for i in 0..len {
                            o[i] = f(a[i], bv, cv);
                        }
                    }
                    _ => {
                        for (i, o) in o.iter_mut().enumerate() {
                            let i_ = i as isize;
                            *o = f(
                                a[(oa + i_ * sa) as usize],
                                b[(ob + i_ * sb) as usize],
                                c[(oc + i_ * sc) as usize],
                            );
                        }
                    }
                }
            },
        );
    });
}

/// The elements of `data` (viewed as `shape`) in row-major order.
pub fn gather_to_vec<T: Element>(data: &Data, shape: &[usize]) -> Vec<T> {
    let n = crate::shape::numel(shape);
    let mut out = vec![T::default(); n];
    let input = Input {
        shape,
        dtype: T::DTYPE,
        data,
    };
    map1::<T, T>(&input, shape, &mut out, |v| v);
    out
}

/// Element offsets (into the buffer) of every element of `x`, in row-major order. For kernels
/// that need random access to a strided input without copying it.
pub fn offsets(x: &Input) -> Vec<usize> {
    let n = crate::shape::numel(x.shape);
    let mut out = vec![0usize; n];
    for_each_row(
        x.shape,
        [&x.data.layout.strides[..]],
        [x.data.layout.offset],
        0..n,
        |pos, len, [o], [s]| {
            for i in 0..len {
                out[pos + i] = (o + i as isize * s) as usize;
            }
        },
    );
    out
}
