//! The host allocator's shards: a thread gets back the block it freed.

use rill_core::internals::{home_shard, SHARDS};
use rill_core::memory::{Allocator, Buffer};
use rill_core::Device;
use std::sync::mpsc::channel;
use std::thread;

/// Block `x` is freed on thread A, then block `y` (same size) on a thread with another home
/// shard. When A allocates again it gets `x` back (still warm in its core's cache), not `y`,
/// which one shared last-in-first-out cache would have handed out.
#[test]
fn a_thread_gets_back_the_block_it_freed_not_the_last_one_freed() {
    let alloc: &'static Allocator = Box::leak(Box::new(Allocator::new(
        Device::cpu(),
        usize::MAX,
        usize::MAX,
    )));
    let x = alloc.allocate("test", 4096).unwrap();
    let y = alloc.allocate("test", 4096).unwrap();
    let x_addr = x.as_ptr() as usize;
    let (freed_tx, freed_rx) = channel();
    let (go_tx, go_rx) = channel::<()>();
    let a = thread::spawn(move || {
        drop(x);
        freed_tx.send(home_shard()).unwrap();
        go_rx.recv().unwrap();
        alloc.allocate("test", 4096).unwrap().as_ptr() as usize
    });
    let home_a = freed_rx.recv().unwrap();
    // Threads get home shards round-robin: one of the next few has another home than A's.
    let mut y = Some(y);
    for _ in 0..2 * SHARDS {
        let (home_tx, home_rx) = channel();
        let (buf_tx, buf_rx) = channel::<Buffer>();
        let b = thread::spawn(move || {
            home_tx.send(home_shard()).unwrap();
            drop(buf_rx.recv());
        });
        if home_rx.recv().unwrap() != home_a {
            buf_tx.send(y.take().unwrap()).unwrap();
        }
        drop(buf_tx);
        b.join().unwrap();
        if y.is_none() {
            break;
        }
    }
    assert!(y.is_none(), "no thread with another home shard than A's");
    assert_eq!(alloc.cached(), 2 * 4096);
    go_tx.send(()).unwrap();
    assert_eq!(a.join().unwrap(), x_addr);
}
