//! Creation functions beyond `ops/creation.rs`'s fills and ranges: `asarray`, `tri`, the window functions
//! (`bartlett`, `blackman`, `hamming`, `hanning`), and `empty`/`empty_like` (MLX's names for
//! `zeros`/`zeros_like`: rill has no uninitialized memory to hand out).

use crate::array::PyArray;
use crate::convert::to_array;
use crate::dtype::PyDtype;
use crate::errors::guard;
use crate::ops::out;
use crate::stream::{sod, StreamArg};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rill_core::ops::{self, Window};
use rill_core::Dtype;

/// `a` as an array of `dtype` (as `array(a, dtype)`; an array of that dtype is returned as it
/// is: arrays are immutable values, so `copy` changes nothing).
#[pyfunction]
#[pyo3(signature = (a, dtype = None, *, copy = None))]
pub fn asarray(
    a: &Bound<'_, PyAny>,
    dtype: Option<PyDtype>,
    copy: Option<bool>,
) -> PyResult<PyArray> {
    let _ = copy;
    guard(|| Ok(PyArray::new(to_array(a, dtype.map(|d| d.0))?)))
}

/// An `n x m` matrix (`m = n` when None) with ones on and below the `k`-th diagonal.
#[pyfunction]
#[pyo3(signature = (n, m = None, k = 0, dtype = None, *, stream = None))]
pub fn tri(
    n: i64,
    m: Option<i64>,
    k: isize,
    dtype: Option<PyDtype>,
    stream: Option<StreamArg>,
) -> PyResult<PyArray> {
    guard(|| {
        let dim = |x: i64| {
            usize::try_from(x).map_err(|_| {
                PyValueError::new_err(format!(
                    "[tri] n and m must be non-negative, got n={n}, m={m:?}"
                ))
            })
        };
        out(ops::tri(
            dim(n)?,
            m.map(dim).transpose()?,
            k,
            dtype.map_or(Dtype::Float32, |d| d.0),
            sod(stream),
        ))
    })
}

macro_rules! windows {
    ($($name:ident => $kind:ident, $doc:literal);* $(;)?) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (M, *, stream = None))]
        #[allow(non_snake_case)]
        pub fn $name(M: i64, stream: Option<StreamArg>) -> PyResult<PyArray> {
            guard(|| out(ops::window(Window::$kind, M, sod(stream))))
        }
    )*};
}

windows!(
    bartlett => Bartlett, "The Bartlett (triangular) window of `M` points (float32; empty for `M < 1`).";
    blackman => Blackman, "The Blackman window of `M` points (float32; empty for `M < 1`).";
    hamming => Hamming, "The Hamming window of `M` points (float32; empty for `M < 1`).";
    hanning => Hanning, "The Hann window of `M` points (float32; empty for `M < 1`).";
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(asarray, m)?)?;
    m.add_function(wrap_pyfunction!(tri, m)?)?;
    m.add_function(wrap_pyfunction!(bartlett, m)?)?;
    m.add_function(wrap_pyfunction!(blackman, m)?)?;
    m.add_function(wrap_pyfunction!(hamming, m)?)?;
    m.add_function(wrap_pyfunction!(hanning, m)?)?;
    // MLX binds `empty` and `empty_like` to the same functions as `zeros` and `zeros_like`.
    m.add("empty", m.getattr("zeros")?)?;
    m.add("empty_like", m.getattr("zeros_like")?)?;
    Ok(())
}
