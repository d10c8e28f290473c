//! Which vector instructions the CPU running rill has, for the hot loops compiled twice.
//!
//! rill is built for the baseline x86-64 (SSE2), so one binary runs on any x86-64 CPU. A loop
//! that matters (softmax's and attention's `exp`, ...) is also compiled for AVX2 + FMA, in a
//! `#[target_feature(enable = "avx2,fma")]` function around the same `#[inline(always)]` body,
//! and called when [`has_avx2_fma`] says the CPU has both. The body is the same code, and Rust
//! never contracts `a * b + c` into an FMA by itself, so both versions compute the same bits.
//! Measured on this machine's EPYC (`exp_sum` over rows of 1024 f32 in cache): 1.6 ns an element
//! with SSE2, 0.7 with AVX2. gemm, the matmul crate, makes the same choice for its kernels. The
//! unit-stride loop of the elementwise maps (`strided::map_unit`) is compiled a third time for
//! AVX-512, where the f64 lanes of `trig_f32.rs` gain another 1.5x.

/// Whether the CPU has AVX2 and FMA (std caches the detection: a load and a test).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Whether the CPU has the AVX-512 subsets that vectorized loops compiled for it use (F, VL, DQ,
/// BW), with AVX2 and FMA (`strided::map_unit`).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx512() -> bool {
    has_avx2_fma()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

/// Whether the CPU has AVX-512F (`exp_avx512.rs`).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx512f() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
}
