//! An array's elements as bytes in row-major order, for writing to a file.

use crate::backend::cpu::strided::gather_to_vec;
use crate::memory::Data;
use crate::{Array, Result};
use std::ops::Range;

/// The row-major bytes of an evaluated array, read from host memory (copied there from its
/// device first when needed).
pub(crate) enum HostBytes {
    /// The array's own buffer, whose elements are already in row-major order without gaps.
    /// Holds the data alive while a save writes it.
    InPlace { data: Data, range: Range<usize> },
    /// The elements of a view (transposed, strided, broadcast) gathered into row-major order.
    Gathered(Vec<u8>),
}

impl HostBytes {
    /// Evaluates `a` and reads it through `Array::host_data`. A view is gathered as unsigned
    /// integers of the element's size, not through a copy op: a copy converts floats (a float16
    /// signalling NaN would come out quiet), and a file must hold the exact bits.
    pub(crate) fn of(a: &Array) -> Result<HostBytes> {
        let data = a.host_data()?;
        if data.layout.is_row_contiguous(a.shape()) {
            let start = data.layout.offset * a.itemsize();
            return Ok(HostBytes::InPlace {
                range: start..start + a.nbytes(),
                data,
            });
        }
        let shape = a.shape();
        Ok(HostBytes::Gathered(match a.itemsize() {
            1 => gather_to_vec::<u8>(&data, shape),
            2 => gather_to_vec::<u16>(&data, shape)
                .iter()
                .flat_map(|e| e.to_ne_bytes())
                .collect(),
            4 => gather_to_vec::<u32>(&data, shape)
                .iter()
                .flat_map(|e| e.to_ne_bytes())
                .collect(),
            8 => gather_to_vec::<u64>(&data, shape)
                .iter()
                .flat_map(|e| e.to_ne_bytes())
                .collect(),
            other => unreachable!("no dtype has {other}-byte elements"),
        }))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            HostBytes::InPlace { range, .. } if range.is_empty() => &[],
            HostBytes::InPlace { data, range } => &data.buffer.as_bytes()[range.clone()],
            HostBytes::Gathered(v) => v,
        }
    }
}
