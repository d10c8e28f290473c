//! Dynamic batching: batches of samples of similar sizes, each holding about the same number of
//! elements, so that ragged samples (token sequences of 64 to 1024) waste little padding.
//!
//! The samples are ordered by the element count of one key (a stable sort: equal sizes keep their
//! order), then cut greedily: a batch takes the next sample as long as its padded size (the
//! number of samples times the element count of the largest shape among them, dim by dim) stays
//! within `max_data_size`; a sample larger than that alone is a batch of its own. Without a
//! limit (`max_data_size <= 0`) the whole buffer is one batch, as in mlx-data.

use crate::batch::{batch_samples, BatchSpec};
use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::sample::{get, Sample};

/// The groups of buffer indices that form the batches, in order of size. Samples that a filter
/// of the buffer rejects are left out.
pub(crate) fn groups(b: &Buffer, key: &str, max_data_size: i64) -> Result<Vec<Vec<usize>>> {
    let mut sized: Vec<(usize, Vec<usize>)> = Vec::with_capacity(b.len());
    for i in 0..b.len() {
        let s = b.get(i as i64)?;
        if s.is_empty() {
            continue;
        }
        let shape = get(&s, key, "dynamic_batch", i)?.shape().to_vec();
        sized.push((i, shape));
    }
    sized.sort_by_key(|(_, shape)| shape.iter().product::<usize>());
    if max_data_size <= 0 {
        return Ok(if sized.is_empty() {
            Vec::new()
        } else {
            vec![sized.into_iter().map(|(i, _)| i).collect()]
        });
    }
    let limit = max_data_size as usize;
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut largest: Vec<usize> = Vec::new();
    for (i, shape) in sized {
        if !current.is_empty() && shape.len() != largest.len() {
            return Err(Error::Sample {
                op: "dynamic_batch",
                key: key.to_string(),
                index: i,
                detail: format!(
                    "shape {shape:?} has {} dims where the samples before it have {}",
                    shape.len(),
                    largest.len()
                ),
            });
        }
        let grown: Vec<usize> = if current.is_empty() {
            shape.clone()
        } else {
            largest
                .iter()
                .zip(&shape)
                .map(|(&a, &b)| a.max(b))
                .collect()
        };
        let padded = (current.len() + 1).saturating_mul(grown.iter().product());
        if !current.is_empty() && padded > limit {
            out.push(std::mem::take(&mut current));
            largest = shape;
        } else {
            largest = grown;
        }
        current.push(i);
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Batch `i` of a dynamically batched buffer.
pub(crate) fn batch_of(b: &Buffer, group: &[usize], spec: &BatchSpec) -> Result<Sample> {
    let mut samples = Vec::with_capacity(group.len());
    for &j in group {
        samples.push((j, b.get(j as i64)?));
    }
    batch_samples(&samples, spec)
}
