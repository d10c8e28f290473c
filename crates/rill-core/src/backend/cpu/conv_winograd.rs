//! 3x3 convolutions in two dims with unit strides and dilations and one group, in float32, by
//! Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015); `conv.rs` chooses this path.
//!
//! Each 2x2 block of outputs (a *tile*) depends on the 4x4 block of (padded) inputs under it.
//! With the input block transformed to `V = Bᵀ d B` and each kernel `(c_out, c_in)` to
//! `U = G g Gᵀ` (both 4x4), the tile's outputs are `Aᵀ (Σ_ci U ⊙ V) A`. For each of the 16
//! positions of the 4x4, the sum over input channels is a matrix product over a block of tiles,
//! `(tiles x c_in) @ (c_in x c_out)`: 16 multiply-adds per tile and channel pair where the direct
//! sum over the 3x3 kernel takes 36 for the same 4 outputs, 2.25x fewer. With channels last, the
//! transforms are additions of contiguous channel vectors, a small share of the time.
//!
//! Why: the direct products (`conv_shifted.rs`) already run `gemm` near the machine's peak, so on
//! a ResNet 3x3 layer only fewer multiplications could beat PyTorch's oneDNN (docs/benchmarks.md).
//!
//! Precision: the transforms' sums (up to 4 terms in, 9 out, with halves in `G`) add a few
//! roundings to each output; the error stays within a small multiple of the direct product's
//! (tests/ops/conv_einsum.rs compares against a float64 direct loop). float64 keeps the direct
//! path, whose users chose it for precision.
//!
//! Layouts (all row-major): the transformed weights `U` as `(16, c_in, c_out)`; a block's
//! transformed inputs `V` as `(tiles, 16, c_in)` and products `M` as `(tiles, 16, c_out)`, so a
//! tile's 16 vectors are adjacent for the transforms while `gemm` reads position `ξ`'s matrices
//! through strides. `gemm` computes `Mᵀ = Uᵀ Vᵀ` (its micro-kernel wants a column-major
//! destination), which with these layouts it reads without packing either operand.

use super::jobs;
use super::num::GemmNative;
use gemm::Parallelism;

/// Tiles per block, aimed at: a block's `V` and `M` (16 x 128 x 64 float32, 512 KiB each for 64
/// channels) stay in or near a core's L2 cache (1 MiB here) between the transforms and the
/// products. On the ResNet layer (rows of 28 tiles, so blocks of 112) blocks of 64/128/256 tiles
/// took 5.3/5.3/5.6 ms. A block is a whole number of rows of tiles of one image, so its outputs
/// are one contiguous run.
const BLOCK_TILES: usize = 128;

/// The sizes of a Winograd convolution.
pub(super) struct Winograd {
    pub batch: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output height and width.
    pub output: [usize; 2],
    /// Zeros before the input's first row and column.
    pub padding_lo: [usize; 2],
    pub flip: bool,
    pub c_in: usize,
    pub c_out: usize,
}

/// Whether a convolution with these channel counts gains from this path: with few channels the
/// products are too small for `gemm` to run well and the transforms dominate.
pub(super) fn worth_it(c_in: usize, c_out: usize) -> bool {
    c_in >= 16 && c_out >= 16
}

impl Winograd {
    /// `U = G g Gᵀ` for every (output, input) channel pair, as `(16, c_in, c_out)`, from weights
    /// `(c_out, 3, 3, c_in)` (flipped in both dims when `flip`).
    fn weights<A: GemmNative>(&self, ws: &[A]) -> Vec<A> {
        let (ci, co) = (self.c_in, self.c_out);
        // First `(c_out, 16, c_in)`, vectorized along the weights' contiguous input channels...
        let mut by_out = vec![A::default(); co * 16 * ci];
        let half = A::from_f64(0.5);
        let transform = |o: usize, dst: &mut [A]| {
            let tap = |ky: usize, kx: usize| {
                let (ky, kx) = if self.flip {
                    (2 - ky, 2 - kx)
                } else {
                    (ky, kx)
                };
                let at = ((o * 3 + ky) * 3 + kx) * ci;
                &ws[at..at + ci]
            };
            let g: [&[A]; 9] = std::array::from_fn(|k| tap(k / 3, k % 3));
            let mut rows = dst.chunks_exact_mut(ci);
            let u: [&mut [A]; 16] = std::array::from_fn(|_| rows.next().unwrap());
            for c in 0..ci {
                let row = |ky: usize| -> [A; 3] { std::array::from_fn(|kx| g[ky * 3 + kx][c]) };
                let (a, b, d) = (row(0), row(1), row(2));
                // Gg: the kernel's rows combined (4 x 3), then its columns ((Gg)Gᵀ, 4 x 4).
                let h = [
                    a,
                    std::array::from_fn(|k| (a[k] + b[k] + d[k]) * half),
                    std::array::from_fn(|k| (a[k] - b[k] + d[k]) * half),
                    d,
                ];
                for (r, h) in h.iter().enumerate() {
                    u[r * 4][c] = h[0];
                    u[r * 4 + 1][c] = (h[0] + h[1] + h[2]) * half;
                    u[r * 4 + 2][c] = (h[0] - h[1] + h[2]) * half;
                    u[r * 4 + 3][c] = h[2];
                }
            }
        };
        use rayon::prelude::*;
        by_out
            .par_chunks_mut(16 * ci)
            .enumerate()
            .for_each(|(o, dst)| transform(o, dst));
        // ... then each position's `(c_in, c_out)` matrix: `gemm` reads it in place this way
        // (packing the transposed layout for every block cost more than the products).
        let mut u = vec![A::default(); 16 * ci * co];
        u.par_chunks_mut(ci * co).enumerate().for_each(|(xi, m)| {
            for (o, src) in by_out.chunks_exact(16 * ci).enumerate() {
                for (c, &x) in src[xi * ci..(xi + 1) * ci].iter().enumerate() {
                    m[c * co + o] = x;
                }
            }
        });
        u
    }

    /// Tiles along each dim.
    fn tiles(&self) -> [usize; 2] {
        [self.output[0].div_ceil(2), self.output[1].div_ceil(2)]
    }

    /// `V = Bᵀ d B` of tile `(b, ty, tx)` into `v` (16 x c_in); `zeros` is c_in zeros, read for
    /// positions in the padding.
    fn input_tile<A: GemmNative>(&self, xs: &[A], zeros: &[A], (b, ty, tx): Tile, v: &mut [A]) {
        let n = self.c_in;
        let [h, w] = self.input;
        let y0 = (2 * ty) as isize - self.padding_lo[0] as isize;
        let x0 = (2 * tx) as isize - self.padding_lo[1] as isize;
        let d: [&[A]; 16] = std::array::from_fn(|k| {
            let (y, x) = (y0 + (k / 4) as isize, x0 + (k % 4) as isize);
            if y < 0 || x < 0 || y >= h as isize || x >= w as isize {
                zeros
            } else {
                let at = ((b * h + y as usize) * w + x as usize) * n;
                &xs[at..at + n]
            }
        });
        let mut rows = v.chunks_exact_mut(n);
        let v: [&mut [A]; 16] = std::array::from_fn(|_| rows.next().unwrap());
        for c in 0..n {
            // Bᵀ d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3); then the same on the columns.
            let mut t = [[A::default(); 4]; 4];
            for j in 0..4 {
                let (d0, d1, d2, d3) = (d[j][c], d[4 + j][c], d[8 + j][c], d[12 + j][c]);
                t[0][j] = d0 - d2;
                t[1][j] = d1 + d2;
                t[2][j] = d2 - d1;
                t[3][j] = d1 - d3;
            }
            for (r, t) in t.iter().enumerate() {
                v[r * 4][c] = t[0] - t[2];
                v[r * 4 + 1][c] = t[1] + t[2];
                v[r * 4 + 2][c] = t[2] - t[1];
                v[r * 4 + 3][c] = t[1] - t[3];
            }
        }
    }

    /// `Y = Aᵀ M A` of one tile's products `m` (16 x c_out) into `y` (4 x c_out: the tile's
    /// outputs (0,0), (0,1), (1,0), (1,1)).
    fn output_tile<A: GemmNative>(&self, m: &[A], y: &mut [A]) {
        let n = self.c_out;
        let mut rows = m.chunks_exact(n);
        let m: [&[A]; 16] = std::array::from_fn(|_| rows.next().unwrap());
        let mut outs = y.chunks_exact_mut(n);
        let y: [&mut [A]; 4] = std::array::from_fn(|_| outs.next().unwrap());
        let [y00, y01, y10, y11] = y;
        for c in 0..n {
            // Aᵀ M: rows (m0 + m1 + m2, m1 - m2 - m3); then the same on the columns.
            let mut s = [[A::default(); 4]; 2];
            for j in 0..4 {
                let (m0, m1, m2, m3) = (m[j][c], m[4 + j][c], m[8 + j][c], m[12 + j][c]);
                s[0][j] = m0 + m1 + m2;
                s[1][j] = m1 - m2 - m3;
            }
            y00[c] = s[0][0] + s[0][1] + s[0][2];
            y01[c] = s[0][1] - s[0][2] - s[0][3];
            y10[c] = s[1][0] + s[1][1] + s[1][2];
            y11[c] = s[1][1] - s[1][2] - s[1][3];
        }
    }

    /// The convolution of `xs` (`(batch, H, W, c_in)`) with `ws` (`(c_out, 3, 3, c_in)`) into
    /// `out` (`(batch, H_out, W_out, c_out)`), converting each result with `store`. `parallel`:
    /// blocks across the pool.
    pub(super) fn run<A: GemmNative, T: Send>(
        &self,
        xs: &[A],
        ws: &[A],
        out: &mut [T],
        store: impl Fn(A) -> T + Sync,
        parallel: bool,
    ) {
        let u = self.weights(ws);
        let (ci, co) = (self.c_in, self.c_out);
        let [tiles_y, tiles_x] = self.tiles();
        let [out_h, out_w] = self.output;
        let rows_per_block = (BLOCK_TILES / tiles_x).max(1);
        // Jobs: (image, first tile row, tile rows, the output rows they fill).
        let mut jobs = Vec::new();
        let mut rest = out;
        for b in 0..self.batch {
            for ty0 in (0..tiles_y).step_by(rows_per_block) {
                let ty1 = (ty0 + rows_per_block).min(tiles_y);
                let rows = (2 * ty1).min(out_h) - 2 * ty0;
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(rows * out_w * co);
                rest = tail;
                jobs.push((b, ty0, ty1, mine));
            }
        }
        let block = |(b, ty0, ty1, dst): (usize, usize, usize, &mut [T]), s: &mut Scratch<A>| {
            let tiles = (ty1 - ty0) * tiles_x;
            s.v.resize(tiles * 16 * ci, A::default());
            s.m.resize(tiles * 16 * co, A::default());
            s.y.resize(4 * co, A::default());
            s.zeros.resize(ci, A::default());
            for (t, v) in s.v.chunks_exact_mut(16 * ci).take(tiles).enumerate() {
                let tile = (b, ty0 + t / tiles_x, t % tiles_x);
                self.input_tile(xs, &s.zeros, tile, v);
            }
            for xi in 0..16 {
                // SAFETY:
                // - dst: element (t, o) of position ξ is `m[(t * 16 + ξ) * co + o]` for
                //   t < tiles, o < co: row stride 16 co, column stride 1, inside `m` (tiles x
                //   16 x co); read_dst is false, so it is not read.
                // - lhs: element (t, c) is `v[(t * 16 + ξ) * ci + c]`, c < ci: inside `v`.
                // - rhs: element (c, o) is `u[(ξ * ci + c) * co + o]`: row stride co, column
                //   stride 1, inside `u` (16 x ci x co).
                // - A is f32 or f64, which gemm implements; conj flags are false.
                unsafe {
                    gemm::gemm(
                        tiles,
                        co,
                        ci,
                        s.m.as_mut_ptr().add(xi * co),
                        1,
                        (16 * co) as isize,
                        false,
                        s.v.as_ptr().add(xi * ci),
                        1,
                        (16 * ci) as isize,
                        u.as_ptr().add(xi * ci * co),
                        1,
                        co as isize,
                        A::default(),
                        A::from_f64(1.0),
                        false,
                        false,
                        false,
                        Parallelism::None,
                    )
                }
            }
            for (t, m) in s.m.chunks_exact(16 * co).take(tiles).enumerate() {
                self.output_tile(m, &mut s.y);
                let (ty, tx) = (ty0 + t / tiles_x, t % tiles_x);
                for (k, y) in s.y.chunks_exact(co).enumerate() {
                    let (oy, ox) = (2 * ty + k / 2, 2 * tx + k % 2);
                    if oy < out_h && ox < out_w {
                        let at = ((oy - 2 * ty0) * out_w + ox) * co;
                        for (o, &a) in dst[at..at + co].iter_mut().zip(y) {
                            *o = store(a);
                        }
                    }
                }
            }
        };
        jobs::each_with_scratch(jobs, parallel, Scratch::default, block);
    }
}

/// Tile `(image, tile row, tile column)`.
type Tile = (usize, usize, usize);

/// A thread's buffers: a block's transformed inputs and products, one tile's outputs, a run of
/// zeros for the padding.
#[derive(Default)]
struct Scratch<A> {
    v: Vec<A>,
    m: Vec<A>,
    y: Vec<A>,
    zeros: Vec<A>,
}
