//! `eval` (blocks the JS thread until done) and `asyncEval` (submits on the JS thread, as MLX's
//! `async_eval` does, then a libuv worker waits and settles the Promise, so the event loop runs on
//! while rill works).

use crate::array::JsArray;
use crate::errors::{guard, panic_message, OrThrow};
use napi::bindgen_prelude::{AsyncTask, ClassInstance};
use napi::{Env, Error as NapiError, Status, Task};
use napi_derive::napi;
use rill_core::{Array, AsyncEval};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn handles(arrays: &[ClassInstance<'_, JsArray>]) -> Vec<Array> {
    arrays.iter().map(|a| a.inner.clone()).collect()
}

/// Evaluates `arrays` and waits for them; throws the error of the first that failed.
#[napi]
pub fn eval(arrays: Vec<ClassInstance<'_, JsArray>>) -> napi::Result<()> {
    guard(|| {
        let arrays = handles(&arrays);
        let refs: Vec<&Array> = arrays.iter().collect();
        rill_core::eval(&refs).or_throw()
    })
}

/// The wait of `asyncEval`: runs on a libuv worker thread, never on the JS thread.
pub struct EvalTask {
    started: AsyncEval,
}

impl Task for EvalTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        match catch_unwind(AssertUnwindSafe(|| self.started.wait())) {
            Ok(r) => r.or_throw(),
            Err(payload) => Err(NapiError::new(
                Status::GenericFailure,
                format!(
                    "internal error in rill (a Rust panic): {}",
                    panic_message(payload.as_ref())
                ),
            )),
        }
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> napi::Result<()> {
        Ok(())
    }
}

/// Submits `arrays` to their streams and returns at once; the Promise resolves when all are done,
/// or rejects with the error of the first that failed. The JS thread does not wait.
#[napi]
pub fn async_eval(arrays: Vec<ClassInstance<'_, JsArray>>) -> napi::Result<AsyncTask<EvalTask>> {
    guard(|| {
        let arrays = handles(&arrays);
        let refs: Vec<&Array> = arrays.iter().collect();
        Ok(AsyncTask::new(EvalTask {
            started: rill_core::async_eval(&refs),
        }))
    })
}
