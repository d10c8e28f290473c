//! Float to integer conversion as NumPy and MLX do it on x86-64, for every place that turns a
//! float into an integer element: the CPU's cast kernels, fill values, host scalars. (The CUDA
//! kernels' `cast` in `backend/cuda/kernels/prelude.cuh` follows the same rules.)

/// x86-64's truncating conversion to 32 bits (`cvttsd2si`): NaN and values whose truncation does
/// not fit give `i32::MIN`.
#[inline(always)]
fn x86_trunc_i32(v: f64) -> i32 {
    if v > -2_147_483_649.0 && v < 2_147_483_648.0 {
        v as i32
    } else {
        i32::MIN
    }
}

/// [`x86_trunc_i32`] for 64 bits.
#[inline(always)]
fn x86_trunc_i64(v: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&v) {
        v as i64
    } else {
        i64::MIN
    }
}

/// The bits a float `v` becomes as the integer type `to` (truncated to its width by the caller),
/// as NumPy and MLX compute it on x86-64, where both are C casts compiled to the same
/// instructions. Every rule below was read off their results (tests/python cover each type):
/// - 8-, 16- and 32-bit types: the 32-bit conversion, then the low bits (`300.0 -> uint8` is 44,
///   `inf -> int8` is 0, `nan -> int32` is `i32::MIN`);
/// - int64: the 64-bit conversion (`i64::MIN` for NaN and out of range);
/// - uint32 and uint64: values from 2^31 (2^63) up convert `v - 2^31` and set the top bit back,
///   smaller ones convert as signed (`-1.0 -> 2^32 - 1`, NaN -> 2^31, `inf -> 0`); except uint32
///   from float16, which both compute as the 64-bit conversion's low bits (NaN -> 0).
///
/// Rust's `as` saturates instead (`inf as i32` is `i32::MAX`): a quiet difference from the two
/// references that users compare against, hence this function.
#[inline(always)]
pub(crate) fn float_to_int_bits(v: f64, to: crate::Dtype, from_float16: bool) -> u64 {
    use crate::Dtype as D;
    const TWO_31: f64 = 2_147_483_648.0;
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    match to {
        D::Int64 => x86_trunc_i64(v) as u64,
        D::Uint64 if v >= TWO_63 => (x86_trunc_i64(v - TWO_63) as u64) ^ (1 << 63),
        D::Uint64 => x86_trunc_i64(v) as u64,
        D::Uint32 if from_float16 => x86_trunc_i64(v) as u64,
        D::Uint32 if v >= TWO_31 => ((x86_trunc_i32(v - TWO_31) as u32) ^ (1 << 31)) as u64,
        // Sign-extended: the caller keeps the low bits of the target's width.
        _ => x86_trunc_i32(v) as i64 as u64,
    }
}
