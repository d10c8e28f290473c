//! How rill's errors and Rust panics become thrown JavaScript errors.
//!
//! Every error keeps rill's message (`[op] ...`, naming the op, the shapes and the device). Its
//! napi status tags the JavaScript class that `node/index.js` (`rethrow`) gives it, since napi-rs
//! throws every `napi::Error` as a plain `Error` whose `code` is the status name:
//! - `InvalidArg` -> `TypeError`: a dtype the op does not accept, an unknown dtype name, values
//!   that are not numbers;
//! - `Unknown` -> `RangeError`: an axis or index out of bounds, an integer too large for its
//!   dtype, a shape too large to exist (napi-rs gives `Unknown` only to a status
//!   it cannot name, which these entry points never meet, so it is free to serve as this tag);
//! - `GenericFailure` -> `Error`: shapes that do not fit, devices and streams, memory, and
//!   failures found while running.
//!
//! A Rust panic never crosses into Node: [`guard`] turns it into an `Error`.

use napi::{Error as NapiError, Status};
use rill_core::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The thrown error for a rill error.
pub fn to_napi(e: Error) -> NapiError {
    let status = match e {
        Error::Dtype { .. } => Status::InvalidArg,
        Error::Axis { .. }
        | Error::TooLarge { .. }
        | Error::Overflow { .. }
        | Error::Index { .. } => Status::Unknown,
        Error::Shape { .. }
        | Error::Argument { .. }
        | Error::Device { .. }
        | Error::OutOfMemory { .. }
        | Error::Runtime { .. }
        | Error::File { .. } => Status::GenericFailure,
    };
    NapiError::new(status, e.to_string())
}

/// A `TypeError` for a bad argument found by the addon itself (not by rill).
pub fn type_error(msg: impl Into<String>) -> NapiError {
    NapiError::new(Status::InvalidArg, msg.into())
}

/// `?` on a rill result inside the addon.
pub trait OrThrow<T> {
    fn or_throw(self) -> napi::Result<T>;
}

impl<T> OrThrow<T> for rill_core::Result<T> {
    fn or_throw(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs the body of an entry point, turning a panic into a thrown `Error`.
pub fn guard<T>(f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(NapiError::new(
            Status::GenericFailure,
            format!(
                "internal error in rill (a Rust panic): {}",
                panic_message(payload.as_ref())
            ),
        )),
    }
}
