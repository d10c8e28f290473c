//! Shapes, strides and NumPy broadcasting.

use crate::{Error, Result};

/// `shape` as the signed dims `reshape` takes.
pub fn as_isize(shape: &[usize]) -> Vec<isize> {
    shape.iter().map(|&d| d as isize).collect()
}

/// Row-major strides, in elements, of a contiguous array of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        // Saturating: a shape with a 0 may have huge other dims (it holds nothing), and their
        // product must not overflow (such strides are never used to address an element).
        acc = acc.saturating_mul(d.max(1) as isize);
    }
    strides
}

/// Number of elements of `shape`. Every array's shape passed [`check_size`], so this cannot
/// overflow for one; a shape with a 0 has no elements whatever its other dims.
pub fn numel(shape: &[usize]) -> usize {
    if shape.contains(&0) {
        return 0;
    }
    shape.iter().product()
}

/// Ok when an array of `shape` and `dtype` can exist: its element count and byte size fit in
/// `isize::MAX` (Rust's limit on one allocation); otherwise an error naming `op` and the shape.
/// Every op that makes an array calls it (through `ops::make`), so no array has a shape whose
/// size wraps (a wrapped size made `ones((2**32, 2**32))` an array of 0 elements).
pub fn check_size(op: &'static str, shape: &[usize], dtype: crate::Dtype) -> Result<()> {
    // Every dim must be an isize (strides and reshape's -1 are), even where a 0 makes the size 0,
    // as NumPy's dims are intp.
    if shape.iter().any(|&d| d > isize::MAX as usize) {
        return Err(too_large(op, shape, dtype));
    }
    if shape.contains(&0) {
        return Ok(());
    }
    let bytes = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .filter(|&b| b <= isize::MAX as usize);
    match bytes {
        Some(_) => Ok(()),
        None => Err(too_large(op, shape, dtype)),
    }
}

/// The error for an array of `shape` and `dtype` too large to exist.
pub fn too_large(op: &'static str, shape: &[usize], dtype: crate::Dtype) -> Error {
    Error::too_large(
        op,
        format!(
            "an array of shape {shape:?} and dtype {dtype} is too large to exist (more than {} bytes)",
            isize::MAX
        ),
    )
}

/// A shape held inline up to six dims, as graph nodes hold theirs: builders that run once per op
/// work out shapes in it without touching the heap.
pub(crate) type Dims = smallvec::SmallVec<[usize; 6]>;

/// The shape two shapes broadcast to, NumPy's rule: align on the right, a 1 stretches.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    broadcast_dims(op, a, b).map(Dims::into_vec)
}

/// [`broadcast_shapes`], inline.
pub(crate) fn broadcast_dims(op: &'static str, a: &[usize], b: &[usize]) -> Result<Dims> {
    let n = a.len().max(b.len());
    let mut out: Dims = smallvec::smallvec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(
                op,
                format!("shapes {a:?} and {b:?} cannot be broadcast together"),
            ));
        };
    }
    Ok(out)
}

/// Maps a possibly negative axis into `0..ndim`.
pub fn normalize_axis(op: &'static str, axis: isize, shape: &[usize]) -> Result<usize> {
    let ndim = shape.len() as isize;
    let a = if axis < 0 { axis + ndim } else { axis };
    if a < 0 || a >= ndim {
        return Err(Error::Axis {
            op,
            axis,
            ndim: shape.len(),
            shape: shape.to_vec(),
        });
    }
    Ok(a as usize)
}

/// Normalizes a list of axes, rejecting repeats; the result is sorted.
pub fn normalize_axes(op: &'static str, axes: &[isize], shape: &[usize]) -> Result<Vec<usize>> {
    let mut out = axes
        .iter()
        .map(|&a| normalize_axis(op, a, shape))
        .collect::<Result<Vec<_>>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::arg(op, format!("repeated axis in {axes:?}")));
    }
    Ok(out)
}

/// How an array's elements sit in its buffer: strides in elements and an element offset.
/// The shape itself lives on the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub strides: Vec<isize>,
    pub offset: usize,
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout {
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    /// True when the elements are in row-major order with no gaps (dims of size 1 may carry any
    /// stride).
    pub fn is_row_contiguous(&self, shape: &[usize]) -> bool {
        let mut expected = 1isize;
        for (&d, &s) in shape.iter().zip(&self.strides).rev() {
            if d == 1 {
                continue;
            }
            if s != expected {
                return false;
            }
            expected *= d as isize;
        }
        true
    }

    /// The strides of `shape` viewed as `new_shape` without copying, when the elements allow it
    /// (NumPy's `_attempt_nocopy_reshape`, reasoned from first principles: merge and split runs of
    /// dimensions that are contiguous with each other).
    pub fn reshape_strides(&self, shape: &[usize], new_shape: &[usize]) -> Option<Vec<isize>> {
        if self.is_row_contiguous(shape) {
            return Some(contiguous_strides(new_shape));
        }
        // Drop size-1 dims: their strides carry no information.
        let old: Vec<(usize, isize)> = shape
            .iter()
            .zip(&self.strides)
            .filter(|(&d, _)| d != 1)
            .map(|(&d, &s)| (d, s))
            .collect();
        let mut new_strides = vec![0isize; new_shape.len()];
        let (mut oi, mut ni) = (0usize, 0usize);
        while ni < new_shape.len() {
            if new_shape[ni] == 1 {
                new_strides[ni] = 0;
                ni += 1;
                continue;
            }
            if oi >= old.len() {
                return None;
            }
            // Gather old dims [oi, oj) and new dims [ni, nj) with equal products.
            let (mut oj, mut nj) = (oi + 1, ni + 1);
            let (mut op, mut np) = (old[oi].0, new_shape[ni]);
            while op != np {
                if op < np {
                    if oj >= old.len() {
                        return None;
                    }
                    op *= old[oj].0;
                    oj += 1;
                } else {
                    if nj >= new_shape.len() {
                        return None;
                    }
                    np *= new_shape[nj];
                    nj += 1;
                }
            }
            // The old run must be contiguous within itself.
            for k in oi..oj - 1 {
                if old[k].1 != old[k + 1].1 * old[k + 1].0 as isize {
                    return None;
                }
            }
            // Lay the new run out with the innermost old stride.
            let mut stride = old[oj - 1].1;
            for k in (ni..nj).rev() {
                new_strides[k] = stride;
                stride *= new_shape[k] as isize;
            }
            oi = oj;
            ni = nj;
        }
        if oi != old.len() {
            return None;
        }
        Some(new_strides)
    }
}
