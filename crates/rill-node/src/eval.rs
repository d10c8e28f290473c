//! `eval` (blocks the JS thread until done) and `asyncEval` (submits the graph, as MLX's
//! `async_eval` does, from the JS thread or, for a big graph, from a thread of its own, and returns
//! a Promise that the runtime settles when the work is done, so the event loop runs on while rill
//! works and no thread waits).

use crate::array::JsArray;
use crate::errors::{guard, panic_message, OrThrow};
use napi::bindgen_prelude::{ClassInstance, Object};
use napi::Env;
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

/// Graphs with more lazy nodes than this are submitted from a thread of their own, not the JS
/// thread: submitting costs about 2 µs a node, so a 100 000-op graph held the event loop for
/// ~200 ms (issue 15). Below it, submitting here is cheaper than handing the graph over.
const SUBMIT_OFF_THREAD: usize = 4096;

/// Submits `arrays` to their streams and returns a Promise at once; it resolves when all are done,
/// or rejects with the error of the first that failed. Nothing waits meanwhile: the runtime
/// settles the Promise from the thread that finishes the last array (through a threadsafe
/// function), so neither the JS thread nor libuv's pool is held (issue 15: four pending evals
/// used to occupy the whole pool and stall file I/O, and exit waited for them). A big graph is
/// submitted from a short-lived thread, so the event loop does not stall while it is queued.
#[napi(ts_return_type = "Promise<void>")]
pub fn async_eval<'env>(
    env: &'env Env,
    arrays: Vec<ClassInstance<'_, JsArray>>,
) -> napi::Result<Object<'env>> {
    guard(|| {
        let arrays = handles(&arrays);
        let (deferred, promise) = env.create_deferred::<(), Resolve>()?;
        let settle = move |result: rill_core::Result<()>| match result.or_throw() {
            Ok(()) => deferred.resolve(|_env| Ok(())),
            Err(e) => deferred.reject(e),
        };
        let big = {
            let refs: Vec<&Array> = arrays.iter().collect();
            rill_core::lazy_nodes_exceed(&refs, SUBMIT_OFF_THREAD)
        };
        if !big {
            submit_and_settle(arrays, settle);
            return Ok(promise);
        }
        // The closure owns the arrays and the deferred; if no thread can be made, it runs here.
        let job = std::sync::Arc::new(std::sync::Mutex::new(Some((arrays, settle))));
        let for_thread = job.clone();
        let spawned = std::thread::Builder::new()
            .name("rill-submit".into())
            .spawn(move || {
                if let Some((arrays, settle)) = for_thread.lock().unwrap().take() {
                    submit_and_settle(arrays, settle);
                }
            });
        if spawned.is_err() {
            if let Some((arrays, settle)) = job.lock().unwrap().take() {
                submit_and_settle(arrays, settle);
            }
        }
        Ok(promise)
    })
}

/// Submits `arrays` and calls `settle` with the outcome once all are done. A panic (on this
/// thread or the runtime's) never unwinds out: it becomes the rejection.
fn submit_and_settle(
    arrays: Vec<Array>,
    settle: impl FnOnce(rill_core::Result<()>) + Send + 'static,
) {
    let refs: Vec<&Array> = arrays.iter().collect();
    let settle = std::sync::Arc::new(std::sync::Mutex::new(Some(settle)));
    let settle_on_done = settle.clone();
    let submitted = catch_unwind(AssertUnwindSafe(|| {
        rill_core::async_eval(&refs).on_done(move |result| {
            if let Some(settle) = settle_on_done.lock().unwrap().take() {
                let _ = catch_unwind(AssertUnwindSafe(|| settle(result)));
            }
        })
    }));
    if let Err(payload) = submitted {
        if let Some(settle) = settle.lock().unwrap().take() {
            settle(Err(rill_core::Error::Runtime {
                op: "asyncEval",
                msg: format!(
                    "internal error in rill (a Rust panic): {}",
                    panic_message(payload.as_ref())
                ),
            }));
        }
    }
}
