//! `Op::RandomBits` on the CPU: the threefry2x32 words of a key (`random/threefry.rs`).

use super::output;
use super::strided::gather_to_vec;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::random::threefry::fill_bits;
use crate::{Dtype, Error, Result};

/// `Op::RandomBits`: one uint32 per output element from the key `inputs[0]` (uint32, shape [2]).
pub fn run(key: &Input, out: &Output) -> Result<Data> {
    if key.dtype != Dtype::Uint32 || key.shape != [2] {
        return Err(Error::runtime(
            "random_bits",
            format!(
                "the key must be uint32 of shape [2], got {} {:?}",
                key.dtype, key.shape
            ),
        ));
    }
    let k = gather_to_vec::<u32>(key.data, key.shape);
    output::<u32>("random_bits", out, |o| {
        fill_bits([k[0], k[1]], o);
        Ok(())
    })
}
