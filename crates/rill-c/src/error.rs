//! Status codes, the thread-local last-error message, and the guard every entry point runs in.
//!
//! Each rill [`Error`] kind has a code of its own; the C API adds three of its own (a null
//! pointer, a value that names no dtype/device, and a Rust panic). The message is rill's own
//! (`[op] ...`, naming the op, the shapes and the device). A panic never unwinds into C:
//! [`guard`] catches it and reports [`RILL_ERR_PANIC`].

use rill_core::Error;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The call succeeded.
pub const RILL_OK: c_int = 0;
/// Shapes that do not fit the op (`add` of `[2, 3]` and `[4]`, a reshape to another size, a
/// caller's buffer of the wrong size).
pub const RILL_ERR_SHAPE: c_int = 1;
/// An axis out of bounds, or repeated.
pub const RILL_ERR_AXIS: c_int = 2;
/// A dtype the op does not accept, or a `rill_dtype` value that names no dtype.
pub const RILL_ERR_DTYPE: c_int = 3;
/// Any other bad argument.
pub const RILL_ERR_ARGUMENT: c_int = 4;
/// An index out of bounds.
pub const RILL_ERR_INDEX: c_int = 5;
/// A shape too large for any array to have (its byte size overflows).
pub const RILL_ERR_TOO_LARGE: c_int = 6;
/// A host scalar that does not fit the integer dtype it would become.
pub const RILL_ERR_OVERFLOW: c_int = 7;
/// A device or stream this process does not have (a GPU on a machine without one), a
/// `rill_device_type` value that names no device type, or an op the device cannot run.
pub const RILL_ERR_DEVICE: c_int = 8;
/// An allocation past the memory limit (found when the array is evaluated).
pub const RILL_ERR_OUT_OF_MEMORY: c_int = 9;
/// A failure found while running an op.
pub const RILL_ERR_RUNTIME: c_int = 10;
/// A file that cannot be read or written.
pub const RILL_ERR_FILE: c_int = 11;
/// A pointer argument that must not be NULL was NULL.
pub const RILL_ERR_NULL_POINTER: c_int = 12;
/// A Rust panic inside rill (a bug): caught at the boundary, never unwound into C.
pub const RILL_ERR_PANIC: c_int = 13;

/// A failure of one entry point: its code and message.
#[derive(Debug)]
pub(crate) struct Failure {
    code: c_int,
    msg: String,
}

impl Failure {
    pub(crate) fn new(code: c_int, op: &str, msg: impl std::fmt::Display) -> Failure {
        Failure {
            code,
            msg: format!("[{op}] {msg}"),
        }
    }

    /// A NULL passed for the argument `arg` of `op`.
    pub(crate) fn null(op: &str, arg: &str) -> Failure {
        Failure::new(
            RILL_ERR_NULL_POINTER,
            op,
            format!("the argument `{arg}` is NULL"),
        )
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = match e {
            Error::Shape { .. } => RILL_ERR_SHAPE,
            Error::Axis { .. } => RILL_ERR_AXIS,
            Error::Dtype { .. } => RILL_ERR_DTYPE,
            Error::Argument { .. } => RILL_ERR_ARGUMENT,
            Error::Index { .. } => RILL_ERR_INDEX,
            Error::TooLarge { .. } => RILL_ERR_TOO_LARGE,
            Error::Overflow { .. } => RILL_ERR_OVERFLOW,
            Error::Device { .. } => RILL_ERR_DEVICE,
            Error::OutOfMemory { .. } => RILL_ERR_OUT_OF_MEMORY,
            Error::Runtime { .. } => RILL_ERR_RUNTIME,
            Error::File { .. } => RILL_ERR_FILE,
        };
        Failure {
            code,
            msg: e.to_string(),
        }
    }
}

pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

thread_local! {
    /// The message of this thread's last call (None: it succeeded). `rill_last_error` hands out
    /// a pointer into it, valid until the next call on this thread replaces it.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(msg: Option<String>) {
    let msg = msg.map(|m| {
        // rill's messages hold no NUL; a NUL would cut the C string, so it is replaced.
        CString::new(m.replace('\0', "\\0")).expect("NULs were replaced")
    });
    // `try_with`: a call made while this thread's locals are being destroyed (from another
    // thread-local destructor) still returns its code; it only has no message.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = msg);
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs the body of the entry point `op`: its status code, with this thread's last error set to
/// the failure's message (or cleared on success). A panic becomes [`RILL_ERR_PANIC`].
pub(crate) fn guard(op: &str, body: impl FnOnce() -> Result<()>) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        Err(Failure::new(
            RILL_ERR_PANIC,
            op,
            format!(
                "internal error in rill (a Rust panic): {}",
                panic_message(payload.as_ref())
            ),
        ))
    });
    match outcome {
        Ok(()) => {
            set_last_error(None);
            RILL_OK
        }
        Err(f) => {
            let code = f.code;
            set_last_error(Some(f.msg));
            code
        }
    }
}

/// The message of the last call made on this thread: rill's description of the failure (it
/// names the op, and the shapes, dtypes or device involved), or `""` when that call succeeded.
/// The pointer stays valid until the next `rill_*` call on this thread; copy the text to keep it.
/// Never NULL. Calling it changes nothing.
#[no_mangle]
pub extern "C" fn rill_last_error() -> *const c_char {
    static EMPTY: &[u8] = b"\0";
    let empty = EMPTY.as_ptr().cast::<c_char>();
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|last| match &*last.borrow() {
                // The CString lives in this thread's local until the next call replaces it.
                Some(msg) => msg.as_ptr(),
                None => empty,
            })
            .unwrap_or(empty)
    })
    .unwrap_or(empty)
}
