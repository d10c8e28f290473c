//! An array seen as lines along one axis, for the kernels that work line by line (argmax, scans,
//! softmax, logsumexp): `(outer, n, inner)`, where line `(o, i)` holds the `n` elements
//! `outer[o] + k * sa + i * si`.
//!
//! The dims before the axis may have any strides (their offsets are listed); the dims after it
//! must merge into one strided dim so that a block of adjacent lines can be walked together. When
//! they do not (a transposed view of three or more dims, say), the input is first copied into a
//! row-major buffer.

use super::strided::{for_each_row, gather_to_vec, PAR_CHUNK};
use crate::backend::Input;
use crate::Element;
use rayon::prelude::*;
use std::borrow::Cow;
use std::marker::PhantomData;

pub(crate) struct Lines<'a, T: Element> {
    pub xs: Cow<'a, [T]>,
    /// Element offset of the first element of each outer index.
    pub outer: Vec<usize>,
    pub n: usize,
    pub sa: isize,
    pub inner: usize,
    pub si: isize,
}

impl<T: Element> Lines<'_, T> {
    /// The offset of element `k` of line `(o, i)`.
    #[inline(always)]
    pub fn at(&self, o: usize, k: usize, i: usize) -> usize {
        (self.outer[o] as isize + k as isize * self.sa + i as isize * self.si) as usize
    }

    /// True when a line's own elements are closer in memory than adjacent lines: then each line is
    /// walked on its own; otherwise blocks of adjacent lines are walked together, one `k` at a
    /// time, so that reads are contiguous.
    pub fn by_line(&self) -> bool {
        self.inner == 1 || self.sa.unsigned_abs() <= self.si.unsigned_abs()
    }
}

pub(crate) fn lines<'a, T: Element>(x: &'a Input, axis: usize) -> Lines<'a, T> {
    let (shape, strides) = (x.shape, &x.data.layout.strides[..]);
    let mut inner_dims: Vec<(usize, isize)> = vec![];
    for d in axis + 1..shape.len() {
        if shape[d] == 1 {
            continue;
        }
        match inner_dims.last_mut() {
            Some(last) if last.1 == strides[d] * shape[d] as isize => {
                *last = (last.0 * shape[d], strides[d])
            }
            _ => inner_dims.push((shape[d], strides[d])),
        }
    }
    if inner_dims.len() > 1 {
        let xs = gather_to_vec::<T>(x.data, shape);
        let contiguous = crate::shape::contiguous_strides(shape);
        return build(
            Cow::Owned(xs),
            shape,
            &contiguous,
            0,
            axis,
            (shape[axis + 1..].iter().product(), 1),
        );
    }
    let inner = inner_dims.pop().unwrap_or((1, 0));
    build(
        Cow::Borrowed(x.data.buffer.as_slice()),
        shape,
        strides,
        x.data.layout.offset,
        axis,
        inner,
    )
}

fn build<'a, T: Element>(
    xs: Cow<'a, [T]>,
    shape: &[usize],
    strides: &[isize],
    offset: usize,
    axis: usize,
    (inner, si): (usize, isize),
) -> Lines<'a, T> {
    let outer_n: usize = shape[..axis].iter().product();
    let mut outer = Vec::with_capacity(outer_n);
    for_each_row(
        &shape[..axis],
        [&strides[..axis]],
        [offset],
        0..outer_n,
        |_, len, [o], [s]| {
            outer.extend((0..len).map(|i| (o + i as isize * s) as usize));
        },
    );
    Lines {
        xs,
        outer,
        n: shape[axis],
        sa: strides[axis],
        inner,
        si,
    }
}

/// Runs `f(o, i0, w)` for the lines `(o, i0..i0 + w)` of an `(outer, n, inner)` array: one line
/// at a time (`w == 1`) when `by_line`, else blocks of up to `block` adjacent lines. Units are
/// grouped into tasks of at least `PAR_CHUNK` elements, run in parallel when there is enough work.
pub(crate) fn for_units(
    by_line: bool,
    dims: (usize, usize, usize),
    block: usize,
    f: impl Fn(usize, usize, usize) + Sync + Send,
) {
    for_units_with(by_line, dims, block, || (), |_, o, i0, w| f(o, i0, w));
}

/// [`for_units`] with a scratch value made once per task (by `init`) and lent to every unit.
pub(crate) fn for_units_with<S>(
    by_line: bool,
    (outer, n, inner): (usize, usize, usize),
    block: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, usize, usize) + Sync + Send,
) {
    let width = if by_line { 1 } else { block.min(inner).max(1) };
    let per_outer = inner.div_ceil(width);
    let units = outer * per_outer;
    let run = |range: std::ops::Range<usize>| {
        let mut scratch = init();
        for u in range {
            let (o, b) = (u / per_outer, u % per_outer);
            let i0 = b * width;
            f(&mut scratch, o, i0, width.min(inner - i0));
        }
    };
    let work = outer.saturating_mul(inner).saturating_mul(n.max(1));
    if work < 2 * PAR_CHUNK || units < 2 {
        run(0..units);
        return;
    }
    let per = items_per_task(units, width.saturating_mul(n.max(1)));
    (0..units.div_ceil(per))
        .into_par_iter()
        .for_each(|t| run(t * per..((t + 1) * per).min(units)));
}

/// Groups `count` items of `per_item` elements of work each into tasks of at least `PAR_CHUNK`
/// elements (and at most `count`); returns items per task.
pub(crate) fn items_per_task(count: usize, per_item: usize) -> usize {
    (PAR_CHUNK / per_item.max(1)).clamp(1, count.max(1))
}

/// A fresh output buffer that parallel tasks write in disjoint, interleaved places (the columns
/// of a block of lines), which `chunks_mut` cannot express.
pub(crate) struct SharedOut<'a, T> {
    ptr: *mut T,
    len: usize,
    _life: PhantomData<&'a mut [T]>,
}

// SAFETY: `SharedOut` hands out only what `slice` does, whose contract makes every task's places
// disjoint; `T: Send` lets the elements be written from other threads.
unsafe impl<T: Send> Sync for SharedOut<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SharedOut<'_, T> {}

impl<'a, T> SharedOut<'a, T> {
    pub fn new(out: &'a mut [T]) -> Self {
        SharedOut {
            ptr: out.as_mut_ptr(),
            len: out.len(),
            _life: PhantomData,
        }
    }

    /// `out[start..start + len]`.
    ///
    /// # Safety
    /// No two live slices from this `SharedOut` may overlap (tasks must own disjoint places).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice(&self, start: usize, len: usize) -> &mut [T] {
        assert!(
            start + len <= self.len,
            "slice {start}+{len} outside an output of {}",
            self.len
        );
        // SAFETY: in bounds (checked above), the buffer outlives 'a, and the caller guarantees no
        // other live slice overlaps this one.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}
