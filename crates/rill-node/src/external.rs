//! Telling V8 how much native memory its `Array` objects keep alive.
//!
//! V8 sees an `Array` as a few bytes of JS object, so without this a loop that makes a 64 MB
//! result per turn runs for many turns before V8 collects the dead ones: memory grows, and every
//! new result lands in fresh pages instead of the freed buffers rill's allocator would hand back
//! (a 4096x4096 add took 250-480 ms in Node against 16-21 ms from Python, almost all of it the
//! kernel zeroing fresh pages). Each `Array` object reports its byte size when it is made and
//! takes it back when V8 finalizes it (`napi_adjust_external_memory`), so V8 collects in step.
//!
//! Rules: the report needs the `napi_env` of the JS thread that owns the object. `node/index.js`
//! calls `initThread` once per thread that loads the addon (the main thread and every worker),
//! which stores that thread's env in a thread-local; an `Array` made where none is stored reports
//! nothing and takes nothing back. Objects are made and finalized on their env's own thread, so
//! every report and its reversal use the same env. A lazy array reports what its result will
//! hold, capped at [`CAP`] per object (a broadcast view of a small buffer must not count as
//! gigabytes and make V8 collect all the time).

use napi::sys;
use napi::Env;
use napi_derive::napi;
use std::cell::Cell;

/// The most one `Array` object reports.
const CAP: usize = 1 << 30;

thread_local! {
    static ENV: Cell<sys::napi_env> = const { Cell::new(std::ptr::null_mut()) };
}

/// Remembers the calling JS thread's env (called by `node/index.js` when it loads the addon).
#[napi]
pub fn init_thread(env: Env) {
    ENV.with(|e| e.set(env.raw()));
}

fn adjust(change: i64) -> bool {
    let env = ENV.with(|e| e.get());
    if env.is_null() {
        return false;
    }
    let mut total = 0i64;
    // SAFETY: `env` is this thread's env, stored by `init_thread` on this thread, and napi calls
    // on it are made only from this thread; adjusting external memory runs no JavaScript, so it
    // is allowed inside finalizers too.
    let status = unsafe { sys::napi_adjust_external_memory(env, change, &mut total) };
    status == sys::Status::napi_ok
}

/// The bytes one `Array` object reported, given back when it is dropped.
pub(crate) struct External(i64);

impl External {
    pub(crate) fn report(bytes: usize) -> External {
        let bytes = bytes.min(CAP) as i64;
        if bytes > 0 && adjust(bytes) {
            External(bytes)
        } else {
            External(0)
        }
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if self.0 > 0 {
            adjust(-self.0);
        }
    }
}
