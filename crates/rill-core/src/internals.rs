//! The crate's private pieces that its own tests reach (`tests/internals/`): not an API, hidden
//! from the documentation, and free to change with the code behind it.
//!
//! Why those tests live outside `src/`: a crate with `#[cfg(test)]` modules is compiled a second
//! time, whole, as its own test harness, and for rill-core that second compile was a quarter of
//! CI's time (docs/ci.md). `Cargo.toml` therefore sets `test = false` for the library, and the
//! tests that need private pieces reach them through here.

#[cfg(target_arch = "x86_64")]
pub use crate::backend::cpu::exp_avx512::exp_in_place as exp_avx512_in_place;
pub use crate::backend::cpu::num::cast;
pub use crate::backend::cpu::special::{erfinv_f32, erfinv_f64};
pub use crate::backend::cpu::strided::{collapse, for_each_row, par_chunks};
pub use crate::backend::cpu::trig_f32::{
    cos_f32, cos_near, is_near, sin_f32, sin_near, tan_f32, tan_near, NEAR,
};
pub use crate::backend::cpu::vector_math::{erf_f32, exp_f32, log_f32, tanh_f32};
pub use crate::io::npy::{header_bytes, parse_header, HeaderError, DATA_ALIGN, MAGIC};
pub use crate::memory::allocator::{home_shard, SHARDS};

/// The CUDA backend's cache of small device blocks (bookkeeping only: no GPU needed).
#[cfg(feature = "cuda")]
pub mod block_cache {
    pub use crate::backend::cuda::block_cache::{class_of, BlockCache, CLASSES, MAX};
}

/// The background compiler's guard on a thread's end (rule 7), on any thread (the public form,
/// `backend::cuda::watch_main_thread_exit`, sets it on the main thread only).
#[cfg(feature = "cuda")]
pub use crate::backend::cuda::background::close_when_this_thread_ends as background_close_at_thread_end;
/// The CUDA backend's background compiler (its queue and its exit rule: no GPU needed).
#[cfg(feature = "cuda")]
pub use crate::backend::cuda::background::request as background_request;

/// The background compiler running NVRTC as auto-fusion makes it (compiles, no GPU needed).
#[cfg(feature = "cuda")]
pub use crate::backend::cuda::background::compile_unloaded as background_compile;

/// The scheduler's submission and waiting, as `eval` uses them.
pub mod scheduler {
    use crate::scheduler::StreamQueue;
    use crate::Array;
    use std::sync::Arc;

    /// Tasks one submission queues on a stream before a pool thread starts draining it.
    pub const EARLY_START: usize = crate::scheduler::EARLY_START;

    /// A stream queue that a submission left to its caller to drain.
    pub struct Claimed(Arc<StreamQueue>);

    impl Claimed {
        /// Runs the queue's tasks until `until` is available (or the queue is empty), at most
        /// `budget` of them.
        pub fn drain(&self, until: Option<&Array>, budget: usize) {
            self.0.drain(until, budget)
        }
    }

    /// Queues every lazy node reachable from `roots`; returns the queues the caller must drain.
    pub fn submit(roots: &[&Array]) -> Vec<Claimed> {
        crate::scheduler::submit(roots)
            .into_iter()
            .map(Claimed)
            .collect()
    }

    /// Parks the calling thread until `a`, submitted, is available.
    pub fn wait(a: &Array) {
        crate::scheduler::wait(a)
    }
}

/// Runs chunks of a kernel on the caller and on idle pool threads (kernel_threads.rs rule 4).
pub use crate::kernel_threads::run_chunks;
