//! Random bits from a key: the threefry2x32 block cipher (Salmon et al., "Parallel random numbers:
//! as easy as 1, 2, 3", SC 2011) with 20 rounds, used in counter mode the way JAX and MLX use it.
//!
//! For `n` output words and `h = ceil(n / 2)`, the counter pair `(i, h + i)` is encrypted under the
//! key for each `i < h`; the first word of the result is output `i`, the second is output `h + i`.
//! When `n` is odd the last pair's second counter (which would be `n`) is 0 instead and only its
//! first word is kept. This is JAX's layout (an iota split in halves, zero-padded), which MLX
//! follows, so the same key gives the same bits as both. Every word depends only on the key and
//! its index, so parallel chunks give the same output as one thread.
//!
//! This is the algorithm, shared by every device: the CPU kernel (`backend/cpu/random.rs`) runs
//! it, the GPU kernel (`backend/cuda/kernels/random.cu`) is the same cipher in CUDA, and the key
//! sequence (`random::next_key`) splits keys with it on the host.

use crate::backend::cpu::strided::PAR_CHUNK;
use rayon::prelude::*;

const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];
/// Threefry's key-schedule parity constant for 32-bit words.
const PARITY: u32 = 0x1BD1_1BDA;

/// threefry2x32 with 20 rounds: `count` encrypted under `key`.
#[inline(always)]
pub fn threefry2x32(key: [u32; 2], count: [u32; 2]) -> [u32; 2] {
    let ks = [key[0], key[1], key[0] ^ key[1] ^ PARITY];
    let mut x0 = count[0].wrapping_add(ks[0]);
    let mut x1 = count[1].wrapping_add(ks[1]);
    // Five groups of four rounds, each followed by injecting the next subkey.
    for g in 0..5u32 {
        for &r in &ROTATIONS[(g % 2) as usize] {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(r) ^ x0;
        }
        let s = g as usize + 1;
        x0 = x0.wrapping_add(ks[s % 3]);
        x1 = x1.wrapping_add(ks[(s + 1) % 3]).wrapping_add(g + 1);
    }
    [x0, x1]
}

/// Fills `out` with the random words of `key` (the layout in the module docs). Counters are
/// 32-bit and wrap past 2^32 pairs, as in JAX and MLX.
pub fn fill_bits(key: [u32; 2], out: &mut [u32]) {
    let n = out.len();
    let h = n.div_ceil(2);
    let (lo, hi) = out.split_at_mut(h);
    // Block `j` of `lo` pairs with block `j` of `hi` (which is one word shorter, or missing, at
    // the end when n is odd).
    let block = |j: usize, lo: &mut [u32], hi: &mut [u32], chunk: usize| {
        let base = j * chunk;
        for (k, l) in lo.iter_mut().enumerate() {
            let i = base + k;
            let second = if h + i < n { h + i } else { 0 };
            let [a, b] = threefry2x32(key, [i as u32, second as u32]);
            *l = a;
            if let Some(v) = hi.get_mut(k) {
                *v = b;
            }
        }
    };
    if n < 2 * PAR_CHUNK {
        block(0, lo, hi, h);
        return;
    }
    let chunk = (h / (rayon::current_num_threads() * 4)).max(PAR_CHUNK / 2);
    let mut his: Vec<&mut [u32]> = hi.chunks_mut(chunk).collect();
    his.resize_with(h.div_ceil(chunk), Default::default);
    lo.par_chunks_mut(chunk)
        .zip(his.into_par_iter())
        .enumerate()
        .for_each(|(j, (l, r))| block(j, l, r, chunk));
}
