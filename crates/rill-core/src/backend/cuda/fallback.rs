//! Ops the GPU has no kernel for (complex transcendental functions, integer matmul, rows too long
//! to sort in one block) run through the CPU kernels: the inputs are copied to the host once their
//! data is ready, the CPU kernel runs on this stream's thread, and the result is copied back on
//! the stream. Slow, but every op of the core works on every device, with the CPU's exact
//! semantics (errors included); the op tests run on the GPU cover these paths too.
//!
//! Kernels that find bad data (an index out of range) also end here: the CPU kernel finds the
//! same bad element and reports it with the same message.

use super::stream::GpuStream;
use super::transfer::{download, upload};
use crate::backend::{cpu, Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::Result;
use smallvec::SmallVec;

pub(super) fn run(
    op: &Op,
    inputs: &[Input],
    out: &Output,
    stream: &'static GpuStream,
) -> Result<Data> {
    // Host scalars (kernels::run lets them through) are already where the CPU kernel reads.
    let host: SmallVec<[Data; 4]> = inputs
        .iter()
        .map(|i| {
            if i.data.is_host() {
                Ok(i.data.clone())
            } else {
                download(i)
            }
        })
        .collect::<Result<_>>()?;
    let host_inputs: SmallVec<[Input; 4]> = inputs
        .iter()
        .zip(&host)
        .map(|(i, d)| Input {
            shape: i.shape,
            dtype: i.dtype,
            data: d,
        })
        .collect();
    let result = cpu::run(op, &host_inputs, out)?;
    upload(
        &Input {
            shape: out.shape,
            dtype: out.dtype,
            data: &result,
        },
        stream,
    )
}
