//! `eval` (blocks the JS thread until done) and `asyncEval` (submits on the JS thread, as MLX's
//! `async_eval` does, and returns a Promise that the runtime settles when the work is done, so
//! the event loop runs on while rill works and no thread waits).

use crate::array::JsArray;
use crate::errors::{guard, panic_message, OrThrow};
use napi::bindgen_prelude::{ClassInstance, Object};
use napi::{Env, Error as NapiError, Status};
use napi_derive::napi;
use rill_core::Array;
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

/// What resolves `asyncEval`'s Promise (no value: the arrays themselves are the results).
type Resolve = fn(Env) -> napi::Result<()>;

/// Submits `arrays` to their streams and returns a Promise at once; it resolves when all are done,
/// or rejects with the error of the first that failed. Nothing waits meanwhile: the runtime
/// settles the Promise from the thread that finishes the last array (through a threadsafe
/// function), so neither the JS thread nor libuv's pool is held (issue 15: four pending evals
/// used to occupy the whole pool and stall file I/O, and exit waited for them).
#[napi(ts_return_type = "Promise<void>")]
pub fn async_eval<'env>(
    env: &'env Env,
    arrays: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<Object<'env>> {
    guard(|| {
        let arrays = handles(&arrays);
        let refs: Vec<&Array> = arrays.iter().collect();
        let (deferred, promise) = env.create_deferred::<(), Resolve>()?;
        rill_core::async_eval(&refs).on_done(move |result| {
            // A panic must not unwind into the runtime's thread: it becomes the rejection.
            let settled = catch_unwind(AssertUnwindSafe(|| result.or_throw()));
            match settled {
                Ok(Ok(())) => deferred.resolve(|_env| Ok(())),
                Ok(Err(e)) => deferred.reject(e),
                Err(payload) => deferred.reject(NapiError::new(
                    Status::GenericFailure,
                    format!(
                        "internal error in rill (a Rust panic): {}",
                        panic_message(payload.as_ref())
                    ),
                )),
            }
        });
        Ok(promise)
    })
}
