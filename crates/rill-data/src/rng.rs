//! Seeded randomness. ChaCha8 is a specified generator, so a seed gives the same shuffle on every
//! platform and every version of rill; the draws below are written out here (not rand's
//! `shuffle`, whose algorithm may change between its versions) for the same reason.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// The generator for `seed`; `stream` selects an independent sequence (a shuffle's epoch).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// A number in `0..n` (n > 0), by multiply-shift: the bias is below 2^-64 · n.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// A random permutation of `0..n` (Fisher-Yates).
pub(crate) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed, 0);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.below(i + 1));
    }
    p
}
