//! `fast.scaled_dot_product_attention`'s core (`_scaled_dot_product_attention`): the mask
//! argument parsed, the core builds the node (fused on the CPU) or its composition. `sinks` stay
//! in `python/rill/core/fast.py`, which calls this without them.

use crate::array::PyArray;
use crate::errors::{guard, to_py_err};
use crate::ops::{arg, out};
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops::{self, AttentionMaskArg};
use rill_core::promote_types;

/// `mask`: None, "causal", or an array (or anything that becomes one). `force_fused`: an error
/// unless the fused kernel runs it.
#[pyfunction]
#[pyo3(signature = (q, k, v, scale, mask = None, force_fused = false, *, stream = None))]
pub fn _scaled_dot_product_attention(
    q: &Bound<'_, PyAny>,
    k: &Bound<'_, PyAny>,
    v: &Bound<'_, PyAny>,
    scale: f64,
    mask: Option<&Bound<'_, PyAny>>,
    force_fused: bool,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let (q, k, v) = (arg(q)?, arg(k)?, arg(v)?);
        if force_fused {
            let dtype = promote_types(promote_types(q.dtype(), k.dtype()), v.dtype());
            let s = sod(stream)
                .resolve("scaled_dot_product_attention")
                .map_err(to_py_err)?;
            if !ops::has_fused_attention(dtype, s) {
                return Err(PyValueError::new_err(format!(
                    "[scaled_dot_product_attention] force_fused=True but there is no fused \
                     kernel for {dtype} on {s} (rill fuses float dtypes on CPU streams)"
                )));
            }
        }
        let mask = match mask {
            None => AttentionMaskArg::None,
            Some(m) if m.is_none() => AttentionMaskArg::None,
            Some(m) => match m.extract::<String>() {
                Ok(s) if s == "causal" => AttentionMaskArg::Causal,
                Ok(s) => {
                    return Err(PyValueError::new_err(format!(
                        "[scaled_dot_product_attention] the only string mask is 'causal', got \
                         {s:?}"
                    )))
                }
                Err(_) => AttentionMaskArg::Array(arg(m)?),
            },
        };
        out(ops::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            scale,
            mask,
            sod(stream),
        ))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_scaled_dot_product_attention, m)?)
}
