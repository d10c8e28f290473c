//! Tests of rill-core's private pieces, reached through `rill_core::internals`: one test binary,
//! so that the library is not compiled a second time as its own test harness (docs/ci.md).

mod allocator_shards;
#[cfg(feature = "cuda")]
mod background_compile;
#[cfg(feature = "cuda")]
mod block_cache;
mod casts;
mod early_start;
mod erf;
mod erfinv;
mod exp;
mod layout;
mod log;
mod npy_header;
mod run_chunks;
mod slices;
mod strided;
mod tanh;
mod trig;
mod ulp;
