//! Function transforms for JavaScript: the native half of `grad`, `valueAndGrad`, `vmap` and
//! `compile` (`node/index.js` maps argnums, single values and the compile cache).
//!
//! The JS function takes an array of `Array`s and returns one. It runs synchronously, on the JS
//! thread that called the transform (the only thread a napi call runs on), while rill-core records
//! the ops it builds on that thread's tape; nothing here waits for device work. An exception it
//! throws ends the transform and is thrown again as it was.

use crate::array::JsArray;
use crate::errors::{guard, OrThrow};
use napi::bindgen_prelude::{ClassInstance, Function};
use napi_derive::napi;
use rill_core::{transforms, Array, Error};
use std::cell::RefCell;

/// A JS function from arrays to arrays.
type JsFn<'a> = Function<'a, Vec<JsArray>, Vec<ClassInstance<'a, JsArray>>>;

fn handles(arrays: &[ClassInstance<'_, JsArray>]) -> Vec<Array> {
    arrays.iter().map(|a| a.inner.clone()).collect()
}

fn wrap(arrays: Vec<Array>) -> Vec<JsArray> {
    arrays.into_iter().map(JsArray::from).collect()
}

/// Runs a transform over `fun`; a JS exception thrown by `fun` is thrown again in place of the
/// rill error that ended the transform.
fn transform<T>(
    fun: &JsFn<'_>,
    t: impl FnOnce(&dyn Fn(&[Array]) -> rill_core::Result<Vec<Array>>) -> rill_core::Result<T>,
) -> napi::Result<T> {
    let thrown: RefCell<Option<napi::Error>> = RefCell::new(None);
    let call = |xs: &[Array]| -> rill_core::Result<Vec<Array>> {
        match fun.call(wrap(xs.to_vec())) {
            Ok(out) => Ok(handles(&out)),
            Err(e) => {
                thrown.borrow_mut().get_or_insert(e);
                Err(Error::Runtime {
                    op: "transform",
                    msg: "the function threw".into(),
                })
            }
        }
    };
    let result = t(&call);
    if let Some(e) = thrown.into_inner() {
        return Err(e);
    }
    result.or_throw()
}

/// `fun(primals)`'s outputs followed by the gradient of its first output (a single element) with
/// respect to each primal.
#[napi]
pub fn value_and_grad(
    fun: JsFn<'_>,
    primals: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<Vec<JsArray>> {
    guard(|| {
        let xs = handles(&primals);
        let (outs, grads) = transform(&fun, |f| transforms::value_and_grad(f, &xs))?;
        Ok(wrap(outs.into_iter().chain(grads).collect()))
    })
}

/// `fun` over the batch of `inputs` split along `inAxes` (one per input; null: shared), each
/// output placed at its entry of `outAxes` (one entry: the same for every output; null: an output
/// that does not depend on the batch, returned as it is).
#[napi]
pub fn vmap(
    fun: JsFn<'_>,
    inputs: Vec<ClassInstance<'_, JsArray>>,
    in_axes: Vec<Option<i64>>,
    out_axes: Vec<Option<i64>>,
) -> napi::Result<Vec<JsArray>> {
    guard(|| {
        let xs = handles(&inputs);
        let in_axes: Vec<Option<isize>> = in_axes.iter().map(|a| a.map(|a| a as isize)).collect();
        let n = xs
            .iter()
            .zip(&in_axes)
            .find_map(|(x, a)| {
                let a = (*a)?;
                let d = if a < 0 { a + x.ndim() as isize } else { a };
                x.shape().get(usize::try_from(d).ok()?).copied()
            })
            .unwrap_or(0);
        let mapped = transform(&fun, |f| transforms::vmap(f, &xs, &in_axes))?;
        if out_axes.len() != 1 && out_axes.len() != mapped.len() {
            return Err(crate::errors::type_error(format!(
                "[vmap] {} output axes were given for {} outputs",
                out_axes.len(),
                mapped.len()
            )));
        }
        let placed = mapped
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let axis = out_axes[if out_axes.len() == 1 { 0 } else { i }];
                transforms::place(m, axis.map(|a| a as isize), n)
            })
            .collect::<rill_core::Result<Vec<_>>>()
            .or_throw()?;
        Ok(wrap(placed))
    })
}

/// A traced function (`compile`'s native half): what replaying it builds.
#[napi(js_name = "Program")]
pub struct JsProgram {
    program: transforms::Program,
    /// The outputs of the call that traced it, until `takeOutputs` hands them over.
    first: Vec<Array>,
}

#[napi]
impl JsProgram {
    /// The traced function's outputs at `inputs` (of the traced shapes and dtypes), built
    /// without calling it.
    #[napi]
    pub fn replay(&self, inputs: Vec<ClassInstance<'_, JsArray>>) -> napi::Result<Vec<JsArray>> {
        guard(|| {
            let xs = handles(&inputs);
            Ok(wrap(self.program.replay(&xs).or_throw()?))
        })
    }

    /// The outputs of the call that traced the program (once; afterwards empty).
    #[napi]
    pub fn take_outputs(&mut self) -> Vec<JsArray> {
        wrap(std::mem::take(&mut self.first))
    }

    /// Nodes one replay builds.
    #[napi(getter)]
    pub fn nodes(&self) -> u32 {
        self.program.len() as u32
    }
}

/// `fun` traced at `inputs`: the program, holding the outputs of this first call.
#[napi]
pub fn compile_trace(
    fun: JsFn<'_>,
    inputs: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<JsProgram> {
    guard(|| {
        let xs = handles(&inputs);
        let (program, first) = transform(&fun, |f| transforms::Program::trace(f, &xs))?;
        Ok(JsProgram { program, first })
    })
}
