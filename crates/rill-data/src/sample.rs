//! A sample: string keys mapped to host arrays. An empty sample means "filtered out": a stream
//! skips it, and a buffer returns it as it is.

use crate::array::HostArray;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

pub type Sample = BTreeMap<String, HostArray>;

/// The array at `key`, or the error naming the key, the sample and the step.
pub(crate) fn get<'a>(
    s: &'a Sample,
    key: &str,
    op: &'static str,
    index: usize,
) -> Result<&'a HostArray> {
    s.get(key).ok_or_else(|| missing(s, key, op, index))
}

pub(crate) fn missing(s: &Sample, key: &str, op: &'static str, index: usize) -> Error {
    Error::MissingKey {
        op,
        key: key.to_string(),
        index,
        keys: s.keys().cloned().collect(),
    }
}
