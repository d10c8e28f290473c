//! argmax and argmin along one axis (`Op::ArgReduce`), as uint32 indices.
//!
//! Ties keep the first occurrence and a NaN wins over any number (the first NaN), as NumPy;
//! complex numbers compare lexicographically, as MLX.

use super::accum::Extremum;
use super::lines::{for_units, lines, Lines, SharedOut};
use super::output;
use super::reduce::{reduce_contig, Max, Min};
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::ArgReduceOp;
use crate::{dispatch_dtype, Error, Result};

/// Lines walked together in one block when adjacent lines are contiguous.
const BLOCK: usize = 1024;

pub fn run(op: ArgReduceOp, axis: usize, x: &Input, out: &Output) -> Result<Data> {
    dispatch_dtype!(x.dtype, T => typed::<T>(op, axis, x, out))
}

fn typed<T: Extremum>(op: ArgReduceOp, axis: usize, x: &Input, out: &Output) -> Result<Data> {
    let name = op.name();
    output::<u32>(name, out, |o| {
        if o.is_empty() {
            return Ok(());
        }
        let l = lines::<T>(x, axis);
        if l.n == 0 {
            return Err(Error::runtime(
                name,
                format!("cannot {name} over an empty axis (shape {:?})", x.shape),
            ));
        }
        // `v` replaces the best so far when it is strictly better, or NaN; a NaN best stays.
        match op {
            ArgReduceOp::ArgMax => arg(&l, o, true, |v: T, best: T| {
                !best.is_nan() && (v.is_nan() || v.gt(best))
            }),
            ArgReduceOp::ArgMin => arg(&l, o, false, |v: T, best: T| {
                !best.is_nan() && (v.is_nan() || v.lt(best))
            }),
        }
        Ok(())
    })
}

fn arg<T: Extremum>(
    l: &Lines<T>,
    out: &mut [u32],
    max: bool,
    better: impl Fn(T, T) -> bool + Sync + Send,
) {
    let (n, inner, xs) = (l.n, l.inner, &l.xs[..]);
    let by_line = l.by_line();
    let shared = SharedOut::new(out);
    for_units(by_line, (l.outer.len(), n, inner), BLOCK, |o, i0, w| {
        // SAFETY: the unit of lines (o, i0..i0 + w) is the only writer of these outputs.
        let y = unsafe { shared.slice(o * inner + i0, w) };
        if by_line {
            let base = l.at(o, 0, i0);
            if l.sa == 1 {
                y[0] = first_extreme(&xs[base..base + n], max) as u32;
                return;
            }
            let (mut best, mut bi) = (xs[base], 0);
            for k in 1..n {
                let v = xs[(base as isize + k as isize * l.sa) as usize];
                if better(v, best) {
                    (best, bi) = (v, k);
                }
            }
            y[0] = bi as u32;
            return;
        }
        // Adjacent lines walked together, one `k` at a time.
        let mut best: Vec<T> = (0..w).map(|j| xs[l.at(o, 0, i0 + j)]).collect();
        y.fill(0);
        for k in 1..n {
            let row = l.at(o, k, i0) as isize;
            for (j, (bv, by)) in best.iter_mut().zip(y.iter_mut()).enumerate() {
                let v = xs[(row + j as isize * l.si) as usize];
                if better(v, *bv) {
                    (*bv, *by) = (v, k as u32);
                }
            }
        }
    });
}

/// Elements compared at once by [`first_where`].
const CHUNK: usize = 16;

/// The first position of `line`'s maximum (`max`) or minimum, or of its first NaN: the extreme by
/// the vectorized reduction (`reduce.rs`), then its first position, sought a chunk at a time
/// (a test over a whole chunk vectorizes; a search that stops at each element does not, and
/// took 3x NumPy's time over rows of 2048).
fn first_extreme<T: Extremum>(line: &[T], max: bool) -> usize {
    let best = if max {
        reduce_contig(&Max::<T>::default(), line)
    } else {
        reduce_contig(&Min::<T>::default(), line)
    };
    let found = if best.is_nan() {
        first_where(line, |v: T| v.is_nan())
    } else {
        first_where(line, |v: T| v == best)
    };
    found.expect("the extreme is an element of the line")
}

#[inline(always)]
fn first_where<T: Copy>(line: &[T], hit: impl Fn(T) -> bool) -> Option<usize> {
    let mut chunks = line.chunks_exact(CHUNK);
    for (c, ch) in (&mut chunks).enumerate() {
        if ch.iter().fold(false, |any, &v| any | hit(v)) {
            return ch.iter().position(|&v| hit(v)).map(|j| c * CHUNK + j);
        }
    }
    let tail = line.len() - chunks.remainder().len();
    chunks
        .remainder()
        .iter()
        .position(|&v| hit(v))
        .map(|j| tail + j)
}
