//! How many bytes of memory some evaluated arrays hold (`mx.get_array_buffer_size`): the size
//! the allocator reserved for each buffer behind them, each buffer counted once however many
//! arrays see it (a view, a reshape or a `depends` output shares its input's buffer).

use crate::array::NodeState;
use crate::{Array, Error, Result};
use std::collections::HashSet;
use std::sync::Arc;

/// The bytes reserved for the distinct buffers behind `arrays`: a pooled buffer's bucket (which
/// can exceed the bytes its arrays use), a device block's reserved size, and the bytes of
/// memory rill borrows (a NumPy array, a mapped file) for external buffers. Only the data an
/// array was computed into counts, not copies made later to read it from another device.
///
/// An array that was never evaluated is an error (as in MLX: its buffer does not exist yet);
/// one whose evaluation is under way is waited for; one whose evaluation failed gives its error.
pub fn array_buffer_size(arrays: &[Array]) -> Result<usize> {
    let mut seen = HashSet::new();
    let mut total = 0;
    for a in arrays {
        if matches!(&*a.0.state.lock().unwrap(), NodeState::Lazy(_)) {
            return Err(Error::arg(
                "get_array_buffer_size",
                format!(
                    "arrays must be evaluated before querying buffer size (an array of shape {:?} and dtype {} is not)",
                    a.shape(),
                    a.dtype()
                ),
            ));
        }
        crate::scheduler::wait(a);
        let data = match a.0.result.get() {
            Some(Ok(d)) => d,
            Some(Err(e)) => return Err(e.clone()),
            None => unreachable!("wait returned before the result was set"),
        };
        if seen.insert(Arc::as_ptr(&data.buffer)) {
            let b = &data.buffer;
            // External memory reserves nothing (capacity 0): what it spans is what it holds.
            total += b.capacity().max(b.len());
        }
    }
    Ok(total)
}
