//! Views: ops whose output shares its input's buffer under another layout. They are the same on
//! every device, so they are resolved here and never reach a backend, except a reshape whose input
//! strides cannot express the new shape, which falls through to the backend as a copy.

use super::{Input, Output};
use crate::memory::Data;
use crate::op::Op;
use crate::shape::Layout;

pub(super) fn try_view(op: &Op, inputs: &[Input], out: &Output) -> Option<Data> {
    let src = inputs.first()?;
    let layout = &src.data.layout;
    let new_layout = match op {
        Op::Reshape => Layout {
            strides: layout.reshape_strides(src.shape, out.shape)?,
            offset: layout.offset,
        },
        Op::Transpose(perm) => Layout {
            strides: perm.iter().map(|&p| layout.strides[p]).collect(),
            offset: layout.offset,
        },
        Op::Slice { start, step } => {
            let mut offset = layout.offset as isize;
            for (d, &s) in start.iter().enumerate() {
                if out.shape[d] > 0 {
                    offset += s as isize * layout.strides[d];
                }
            }
            Layout {
                strides: layout
                    .strides
                    .iter()
                    .zip(step)
                    .map(|(&st, &k)| st * k)
                    .collect(),
                offset: offset.max(0) as usize,
            }
        }
        Op::BroadcastTo => {
            let pad = out.shape.len() - src.shape.len();
            let strides = (0..out.shape.len())
                .map(|d| {
                    if d < pad || src.shape[d - pad] == 1 {
                        0
                    } else {
                        layout.strides[d - pad]
                    }
                })
                .collect();
            Layout {
                strides,
                offset: layout.offset,
            }
        }
        _ => return None,
    };
    Some(Data {
        buffer: src.data.buffer.clone(),
        layout: new_layout,
    })
}
