//! Batching: many samples with the same keys become one sample. Without a dim for a key, its
//! arrays are stacked along a new first dim; with one, they are concatenated along that dim.
//! Either way arrays of different sizes are padded (at the end of each dim) to the largest, with
//! the key's pad value (0 unless given). Samples must have the same keys, dtypes and ranks.

use crate::array::{filled, normalize_dim, place, HostArray};
use crate::error::{Error, Result};
use crate::sample::{missing, Sample};
use std::collections::HashMap;

/// How `batch` pads and joins each key.
#[derive(Clone, Debug, Default)]
pub struct BatchSpec {
    /// The pad value of a key (0 when absent).
    pub pad: HashMap<String, f64>,
    /// The dim along which a key's arrays are concatenated (stacked along a new dim 0 when absent).
    pub dim: HashMap<String, isize>,
}

/// One batch of `samples`, each given with its index (for errors).
pub fn batch_samples(samples: &[(usize, Sample)], spec: &BatchSpec) -> Result<Sample> {
    let mut out = Sample::new();
    let Some((i0, first)) = samples.first() else {
        return Ok(out);
    };
    // The same keys everywhere: a key one sample lacks is named with that sample.
    for (i, s) in &samples[1..] {
        if let Some(k) = first.keys().find(|k| !s.contains_key(*k)) {
            return Err(missing(s, k, "batch", *i));
        }
        if let Some(k) = s.keys().find(|k| !first.contains_key(*k)) {
            return Err(missing(first, k, "batch", *i0));
        }
    }
    for (key, a0) in first {
        let err = |index: usize, detail: String| Error::Sample {
            op: "batch",
            key: key.clone(),
            index,
            detail,
        };
        for (i, s) in &samples[1..] {
            let a = &s[key];
            if a.dtype() != a0.dtype() {
                return Err(err(
                    *i,
                    format!(
                        "dtype {} differs from {} in sample {i0}",
                        a.dtype(),
                        a0.dtype()
                    ),
                ));
            }
            if a.ndim() != a0.ndim() {
                return Err(err(
                    *i,
                    format!(
                        "shape {:?} cannot be batched with shape {:?} of sample {i0} (different ranks)",
                        a.shape(),
                        a0.shape()
                    ),
                ));
            }
        }
        let value = spec.pad.get(key).copied().unwrap_or(0.0);
        let mut max = a0.shape().to_vec();
        for (_, s) in samples {
            for (m, &n) in max.iter_mut().zip(s[key].shape()) {
                *m = (*m).max(n);
            }
        }
        let batched = match spec.dim.get(key) {
            None if samples.iter().all(|(_, s)| s[key].shape() == max) => {
                // Nothing to pad (the usual case: crops of one size): the arrays' bytes one after
                // the other are the stack, with no fill to overwrite and no row-by-row placing.
                let mut shape = vec![samples.len()];
                shape.extend_from_slice(&max);
                let mut bytes = Vec::with_capacity(samples.len() * a0.bytes().len());
                for (_, s) in samples {
                    bytes.extend_from_slice(s[key].bytes());
                }
                HostArray::new(a0.dtype(), shape, bytes)?
            }
            None => {
                let mut shape = vec![samples.len()];
                shape.extend_from_slice(&max);
                let mut bytes = filled(a0.dtype(), shape.iter().product(), value);
                let mut offset = vec![0; shape.len()];
                for (j, (_, s)) in samples.iter().enumerate() {
                    let a = &s[key];
                    let mut sh = vec![1];
                    sh.extend_from_slice(a.shape());
                    offset[0] = j;
                    place(&a.reshaped(sh)?, &mut bytes, &shape, &offset);
                }
                HostArray::new(a0.dtype(), shape, bytes)?
            }
            Some(&dim) => {
                let d = normalize_dim(dim, a0.ndim()).ok_or_else(|| {
                    err(
                        *i0,
                        format!("dim {dim} is out of range for shape {:?}", a0.shape()),
                    )
                })?;
                let mut shape = max.clone();
                shape[d] = samples.iter().map(|(_, s)| s[key].shape()[d]).sum();
                let mut bytes = filled(a0.dtype(), shape.iter().product(), value);
                let mut offset = vec![0; shape.len()];
                for (_, s) in samples {
                    let a = &s[key];
                    place(a, &mut bytes, &shape, &offset);
                    offset[d] += a.shape()[d];
                }
                HostArray::new(a0.dtype(), shape, bytes)?
            }
        };
        out.insert(key.clone(), batched);
    }
    Ok(out)
}
