//! `depends(inputs, dependencies)`: MLX's `mx.depends`. Each result has its input's value and is
//! computed only after every dependency (rill-core's `Op::Depends`; the scheduler completes it
//! with the input's data, no copy). `node/index.js` accepts one Array or a list for each argument.

use crate::array::JsArray;
use crate::errors::{guard, OrThrow};
use napi::bindgen_prelude::ClassInstance;
use napi_derive::napi;
use rill_core::Array;

#[napi(js_name = "depends")]
pub fn depends(
    inputs: Vec<ClassInstance<'_, JsArray>>,
    dependencies: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<Vec<JsArray>> {
    guard(|| {
        let xs: Vec<Array> = inputs.iter().map(|a| a.inner.clone()).collect();
        let deps: Vec<Array> = dependencies.iter().map(|a| a.inner.clone()).collect();
        let outs = rill_core::ops::depends(&xs, &deps).or_throw()?;
        Ok(outs.into_iter().map(JsArray::from).collect())
    })
}
