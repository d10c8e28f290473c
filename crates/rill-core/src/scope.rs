//! Thread-local scoped defaults: the stack that `with_stream`, `with_default_device` and their
//! RAII guards push onto. Each thread has its own stack, so a scope never leaks across threads
//! (the experimental Node port of MLX set a global default inside an async scope, and concurrent
//! requests saw each other's stream).

use crate::{Device, Stream};
use std::cell::RefCell;
use std::marker::PhantomData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scoped {
    Device(Device),
    Stream(Stream),
}

thread_local! {
    static STACK: RefCell<Vec<Scoped>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn innermost() -> Option<Scoped> {
    STACK.with(|s| s.borrow().last().copied())
}

/// The innermost scoped stream on `device`, if any (a device scope opened inside it does not hide
/// it: it changes the default device, not that device's default stream).
pub(crate) fn innermost_stream_on(device: Device) -> Option<Stream> {
    STACK.with(|s| {
        s.borrow().iter().rev().find_map(|e| match e {
            Scoped::Stream(st) if st.device() == device => Some(*st),
            _ => None,
        })
    })
}

pub(crate) fn push(entry: Scoped) -> ScopeGuard {
    let depth = STACK.with(|s| {
        let mut s = s.borrow_mut();
        s.push(entry);
        s.len()
    });
    ScopeGuard {
        depth,
        _not_send: PhantomData,
    }
}

/// Pops its entry when dropped. Not `Send`: a scope belongs to the thread that opened it.
pub(crate) struct ScopeGuard {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        // Truncating (rather than popping) keeps the stack right even if guards are dropped out of
        // order: an inner scope dropped after its outer one is already gone.
        STACK.with(|s| s.borrow_mut().truncate(self.depth - 1));
    }
}
