//! Random numbers from counter-based keys, as MLX (and JAX) make them.
//!
//! A key is a uint32 array of shape [2]. Every draw is a pure function of its key: `bits` encrypts
//! a counter per output element with threefry2x32 (`threefry.rs`), so the same key
//! gives the same numbers on every stream, device and thread count, and `split` derives
//! independent keys from one. The distributions are ordinary lazy graphs over those bits, built
//! step by step as MLX 0.32 builds them, so a key gives MLX's numbers (bit for bit for `bits`,
//! `split`, `uniform` and `bernoulli`).
//!
//! Functions given no key draw one from a process-wide key sequence: under a mutex, the
//! sequence's key is split in two, the first half becomes the sequence's key and the second is
//! used. Concurrent callers therefore always get distinct keys. The sequence starts from the clock
//! (as MLX's does) until [`seed`] is called.

use crate::op::Op;
use crate::ops::{self, make};
use crate::shape::normalize_axis;
use crate::{Array, Dtype, Error, Result, Stream, StreamOrDevice};
use half::{bf16, f16};
use std::sync::{Mutex, OnceLock};

pub(crate) mod threefry;

use threefry::fill_bits;
pub use threefry::threefry2x32;

fn key_words(seed: u64) -> [u32; 2] {
    [(seed >> 32) as u32, seed as u32]
}

fn key_sequence() -> &'static Mutex<[u32; 2]> {
    static KEY: OnceLock<Mutex<[u32; 2]>> = OnceLock::new();
    KEY.get_or_init(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Mutex::new(key_words(ms))
    })
}

/// Restarts the global key sequence from `seed`.
pub fn seed(seed: u64) {
    *key_sequence().lock().unwrap_or_else(|e| e.into_inner()) = key_words(seed);
}

/// The key of `seed`: uint32 `[seed >> 32, seed & 0xffffffff]` (MLX's `random.key`).
pub fn key(seed: u64) -> Result<Array> {
    Array::from_slice(&key_words(seed), &[2])
}

/// The next key of the global sequence (MLX's `KeySequence::next`), computed on the host: the
/// split is four words, cheaper than a graph node.
fn next_key() -> Result<Array> {
    let mut state = key_sequence().lock().unwrap_or_else(|e| e.into_inner());
    let mut w = [0u32; 4];
    fill_bits(*state, &mut w);
    *state = [w[0], w[1]];
    drop(state);
    Array::from_slice(&[w[2], w[3]], &[2])
}

fn check_key(op: &'static str, key: &Array) -> Result<()> {
    if key.dtype() != Dtype::Uint32 {
        return Err(Error::dtype(
            op,
            format!(
                "a key must be uint32, got {} {:?}",
                key.dtype(),
                key.shape()
            ),
        ));
    }
    if key.shape() != [2] {
        return Err(Error::shape(
            op,
            format!("a key must have shape [2], got {:?}", key.shape()),
        ));
    }
    Ok(())
}

/// `key` checked, or the next key of the global sequence. Call it after every other argument
/// check, so that a call that fails does not advance the sequence: it checks first that a draw
/// of `shape`, computed in `dtype` (the widest dtype the draw's graph holds), can exist.
fn key_or_next(
    op: &'static str,
    key: Option<&Array>,
    shape: &[usize],
    dtype: Dtype,
) -> Result<Array> {
    crate::shape::check_size(op, shape, dtype)?;
    match key {
        Some(k) => {
            check_key(op, k)?;
            Ok(k.clone())
        }
        None => next_key(),
    }
}

/// The uint32 words of `shape` from `key`, in an op named `name` in errors.
fn random_bits(name: &'static str, shape: &[usize], key: Array, stream: Stream) -> Result<Array> {
    make(
        name,
        shape.to_vec(),
        Dtype::Uint32,
        stream,
        Op::RandomBits,
        vec![key],
    )
}

/// Uniformly random uint32 words of `shape` (MLX's `random.bits` with width 4).
pub fn bits(shape: &[usize], key: Option<&Array>, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("bits")?;
    let key = key_or_next("bits", key, shape, Dtype::Uint32)?;
    random_bits("bits", shape, key, stream)
}

/// `num` new keys from `key`, as rows of a uint32 array of shape `[num, 2]`.
pub fn split(key: &Array, num: usize, s: impl Into<StreamOrDevice>) -> Result<Array> {
    let stream = s.into().resolve("split")?;
    check_key("split", key)?;
    random_bits("split", &[num, 2], key.clone(), stream)
}

/// The two keys of `split(key, 2)`, each of shape [2].
fn split2(key: &Array, stream: Stream) -> Result<(Array, Array)> {
    let ks = split(key, 2, stream)?;
    let row = |i: isize| {
        ops::reshape(
            &ops::slice(&ks, &[i], &[i + 1], &[1], stream)?,
            &[2],
            stream,
        )
    };
    Ok((row(0)?, row(1)?))
}

/// The largest value below 1 in `dtype`, as float32 (uniform draws are clipped to it so that
/// rounding to a narrow dtype cannot reach `high`).
fn below_one(dtype: Dtype) -> f32 {
    match dtype {
        Dtype::Float16 => f16::from_bits(f16::ONE.to_bits() - 1).to_f32(),
        Dtype::Bfloat16 => bf16::from_bits(bf16::ONE.to_bits() - 1).to_f32(),
        _ => f32::from_bits(1.0f32.to_bits() - 1),
    }
}

/// `v` rounded to the float `dtype`, back in f64 (to check bounds as the kernels will see them).
fn round_to(dtype: Dtype, v: f32) -> f64 {
    match dtype {
        Dtype::Float16 => f16::from_f32(v).to_f64(),
        Dtype::Bfloat16 => bf16::from_f32(v).to_f64(),
        _ => v as f64,
    }
}

/// The float dtypes uniform draws can be made in (MLX's set: 24 random bits fill float32 at most).
fn check_uniform_dtype(op: &'static str, dtype: Dtype) -> Result<()> {
    match dtype {
        Dtype::Float16 | Dtype::Bfloat16 | Dtype::Float32 => Ok(()),
        _ => Err(Error::dtype(
            op,
            format!("can only draw float16, bfloat16 or float32 values, got {dtype}"),
        )),
    }
}

/// Checks `low < high` once both are rounded (through float32, as MLX's Python scalars are) to
/// `dtype`, and that the range `high - low` stays finite there.
fn check_bounds(
    op: &'static str,
    low: f64,
    high: f64,
    dtype: Dtype,
    allow_infinite: bool,
) -> Result<()> {
    let (lo, hi) = (round_to(dtype, low as f32), round_to(dtype, high as f32));
    let finite = allow_infinite
        || (lo.is_finite() && hi.is_finite() && round_to(dtype, (hi - lo) as f32).is_finite());
    // Written so that NaN bounds fail too.
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) || !finite {
        return Err(Error::arg(
            op,
            format!("needs finite bounds with low < high in {dtype}, got low={low}, high={high}"),
        ));
    }
    Ok(())
}

/// Uniform draws in `[lo, hi)` (arrays of `dtype` broadcasting to `shape`), MLX's recipe: the
/// uint32 bits divided by 2^32 in float32, clipped below 1, cast, then scaled and shifted.
fn uniform_between(
    name: &'static str,
    lo: &Array,
    hi: &Array,
    shape: &[usize],
    dtype: Dtype,
    key: Array,
    stream: Stream,
) -> Result<Array> {
    let range = ops::subtract(hi, lo, stream)?;
    let bits = random_bits(name, shape, key, stream)?;
    let maxval = ops::full(&[], u32::MAX as f32, Some(Dtype::Float32), stream)?;
    let upper = ops::full(&[], below_one(dtype), Some(Dtype::Float32), stream)?;
    let unit = ops::minimum(&ops::divide(&bits, &maxval, stream)?, &upper, stream)?;
    let unit = ops::astype(&unit, dtype, stream)?;
    ops::add(&ops::multiply(&range, &unit, stream)?, lo, stream)
}

/// Uniform draws from `[low, high)` of `shape` in `dtype` (float16, bfloat16 or float32).
pub fn uniform(
    low: f64,
    high: f64,
    shape: &[usize],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("uniform")?;
    check_uniform_dtype("uniform", dtype)?;
    check_bounds("uniform", low, high, dtype, false)?;
    let key = key_or_next("uniform", key, shape, Dtype::Float32)?;
    let lo = ops::full(&[], low as f32, Some(dtype), stream)?;
    let hi = ops::full(&[], high as f32, Some(dtype), stream)?;
    uniform_between("uniform", &lo, &hi, shape, dtype, key, stream)
}

/// Normal draws with mean `loc` and standard deviation `scale`, of `shape` in the float `dtype`:
/// `sqrt(2) * erfinv(u)` for `u` uniform in (-1, 1), drawn in float32 (MLX's recipe).
pub fn normal(
    shape: &[usize],
    dtype: Dtype,
    loc: f64,
    scale: f64,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("normal")?;
    if !dtype.is_float() {
        return Err(Error::dtype(
            "normal",
            format!("can only draw floating point values, got {dtype}"),
        ));
    }
    if !loc.is_finite() || !scale.is_finite() || scale < 0.0 {
        return Err(Error::arg(
            "normal",
            format!("needs a finite loc and a finite scale >= 0, got loc={loc}, scale={scale}"),
        ));
    }
    // Drawn in float32, then cast to `dtype` (which may be wider).
    let widest = if dtype.size() > 4 {
        dtype
    } else {
        Dtype::Float32
    };
    let key = key_or_next("normal", key, shape, widest)?;
    let f32_scalar = |v: f32| ops::full(&[], v, Some(Dtype::Float32), stream);
    let above_minus_one = f32_scalar(f32::from_bits((-1.0f32).to_bits() - 1))?;
    let u = uniform_between(
        "normal",
        &above_minus_one,
        &f32_scalar(1.0)?,
        shape,
        Dtype::Float32,
        key,
        stream,
    )?;
    let mut applied_scale = ops::full(&[], std::f64::consts::SQRT_2, Some(dtype), stream)?;
    if scale != 1.0 {
        applied_scale = ops::multiply(
            &applied_scale,
            &ops::full(&[], scale, Some(dtype), stream)?,
            stream,
        )?;
    }
    let z = ops::astype(&ops::erfinv(&u, stream)?, dtype, stream)?;
    let z = ops::multiply(&applied_scale, &z, stream)?;
    if loc != 0.0 {
        return ops::add(&ops::full(&[], loc, Some(dtype), stream)?, &z, stream);
    }
    Ok(z)
}

/// Uniform integers from `[low, high)` of `shape` in the integer (or bool) `dtype`.
///
/// Exact for any bounds: random words reduced modulo the range in uint64, then shifted by `low`
/// (MLX's current recipe; MLX 0.32 rounded through float32 instead, which loses integers past
/// 2^24). One 32-bit word per element serves ranges up to 2^16 in 32-bit and narrower dtypes;
/// wider ranges and 64-bit dtypes combine two words from the two halves of `split(key)`, so the
/// modulo bias stays below 2^-32 instead of reaching `range / 2^32`.
pub fn randint(
    low: i64,
    high: i64,
    shape: &[usize],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("randint")?;
    if !(dtype.is_integer() || dtype.is_bool()) {
        return Err(Error::dtype(
            "randint",
            format!("can only draw integer or bool values, got {dtype}"),
        ));
    }
    if low >= high {
        return Err(Error::arg(
            "randint",
            format!("needs low < high, got low={low}, high={high}"),
        ));
    }
    let (min, max) = dtype
        .int_range()
        .expect("an integer or bool dtype, checked above");
    if (low as i128) < min || (high as i128 - 1) > max {
        return Err(Error::arg(
            "randint",
            format!("[{low}, {high}) does not fit in {dtype}"),
        ));
    }
    // The draw computes in uint64 whatever `dtype` is.
    let key = key_or_next("randint", key, shape, Dtype::Uint64)?;
    let range = (high as i128 - low as i128) as u64;
    let u64_of = |a: &Array| ops::astype(a, Dtype::Uint64, stream);
    let raw = if range <= 1 << 16 && dtype.size() < 8 {
        u64_of(&random_bits("randint", shape, key, stream)?)?
    } else {
        let (k1, k2) = split2(&key, stream)?;
        let lo_bits = u64_of(&random_bits("randint", shape, k1, stream)?)?;
        let hi_bits = u64_of(&random_bits("randint", shape, k2, stream)?)?;
        let shift = ops::full(&[], 32u64, Some(Dtype::Uint64), stream)?;
        ops::bitwise_or(
            &ops::left_shift(&hi_bits, &shift, stream)?,
            &lo_bits,
            stream,
        )?
    };
    let offset = ops::remainder(
        &raw,
        &ops::full(&[], range, Some(Dtype::Uint64), stream)?,
        stream,
    )?;
    // In uint64 the sum wraps to the right bit pattern for negative `low`; the cast to `dtype`
    // keeps its low bits, which are the value.
    let low = ops::full(&[], low as u64, Some(Dtype::Uint64), stream)?;
    ops::astype(&ops::add(&low, &offset, stream)?, dtype, stream)
}

/// True with probability `p` (in [0, 1]), of `shape`: the bits compared, in float32, with
/// `p * nextafter(2^32, inf)` (MLX's recipe: p = 1 gives all true, p = 0 all false).
pub fn bernoulli(
    p: f64,
    shape: &[usize],
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("bernoulli")?;
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::arg(
            "bernoulli",
            format!("p must be in [0, 1], got {p}"),
        ));
    }
    let key = key_or_next("bernoulli", key, shape, Dtype::Float32)?;
    let above_2_32 = f32::from_bits((u32::MAX as f32).to_bits() + 1);
    let threshold = ops::full(&[], p as f32 * above_2_32, Some(Dtype::Float32), stream)?;
    ops::less(
        &random_bits("bernoulli", shape, key, stream)?,
        &threshold,
        stream,
    )
}

/// Normal draws truncated to `[lower, upper]` (bounds may be infinite), of `shape` in `dtype`
/// (float16, bfloat16 or float32): the normal CDF's inverse at uniform draws between the bounds'
/// CDF values, clipped to the bounds (MLX's and JAX's recipe).
pub fn truncated_normal(
    lower: f64,
    upper: f64,
    shape: &[usize],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("truncated_normal")?;
    check_uniform_dtype("truncated_normal", dtype)?;
    check_bounds("truncated_normal", lower, upper, dtype, true)?;
    let key = key_or_next("truncated_normal", key, shape, Dtype::Float32)?;
    let sqrt2 = ops::full(&[], std::f64::consts::SQRT_2, Some(dtype), stream)?;
    let lower = ops::full(&[], lower as f32, Some(dtype), stream)?;
    let upper = ops::full(&[], upper as f32, Some(dtype), stream)?;
    let cdf = |x: &Array| ops::erf(&ops::divide(x, &sqrt2, stream)?, stream);
    let u = uniform_between(
        "truncated_normal",
        &cdf(&lower)?,
        &cdf(&upper)?,
        shape,
        dtype,
        key,
        stream,
    )?;
    let out = ops::multiply(&sqrt2, &ops::erfinv(&u, stream)?, stream)?;
    ops::maximum(&ops::minimum(&upper, &out, stream)?, &lower, stream)
}

/// Samples from the categorical distributions whose unnormalized log-probabilities lie along
/// `axis` of `logits` (Gumbel-max: the argmax of logits plus Gumbel noise). The result (uint32)
/// has `logits`'s shape without `axis`, followed by `num_samples` when given.
pub fn categorical(
    logits: &Array,
    axis: isize,
    num_samples: Option<usize>,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("categorical")?;
    let ax = normalize_axis("categorical", axis, logits.shape())?;
    if logits.dtype().is_complex() {
        return Err(Error::dtype(
            "categorical",
            format!("logits must be real, got {}", logits.dtype()),
        ));
    }
    if logits.shape()[ax] == 0 {
        return Err(Error::shape(
            "categorical",
            format!(
                "axis {axis} of logits of shape {:?} has no categories",
                logits.shape()
            ),
        ));
    }
    let mut noise_shape = logits.shape().to_vec();
    let logits = match num_samples {
        Some(n) => {
            noise_shape.push(n);
            ops::expand_dims(logits, &[-1], stream)?
        }
        None => logits.clone(),
    };
    let key = key_or_next("categorical", key, &noise_shape, Dtype::Float32)?;
    let unit = uniform_between(
        "categorical",
        &ops::full(&[], 0.0f32, Some(Dtype::Float32), stream)?,
        &ops::full(&[], 1.0f32, Some(Dtype::Float32), stream)?,
        &noise_shape,
        Dtype::Float32,
        key,
        stream,
    )?;
    let gumbel = ops::negative(
        &ops::log(&ops::negative(&ops::log(&unit, stream)?, stream)?, stream)?,
        stream,
    )?;
    let scores = ops::add(&gumbel, &logits, stream)?;
    ops::argmax(&scores, Some(ax as isize), false, stream)
}

/// Gumbel draws of `shape` in `dtype` (float16, bfloat16 or float32): `-log(-log(u))` for `u`
/// uniform in [0, 1) (MLX's recipe).
pub fn gumbel(
    shape: &[usize],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("gumbel")?;
    check_uniform_dtype("gumbel", dtype)?;
    let key = key_or_next("gumbel", key, shape, Dtype::Float32)?;
    let lo = ops::full(&[], 0.0f32, Some(dtype), stream)?;
    let hi = ops::full(&[], 1.0f32, Some(dtype), stream)?;
    let u = uniform_between("gumbel", &lo, &hi, shape, dtype, key, stream)?;
    ops::negative(
        &ops::log(&ops::negative(&ops::log(&u, stream)?, stream)?, stream)?,
        stream,
    )
}

/// Laplace draws of `shape` with location `loc` and scale `scale`, in the float `dtype`: the
/// inverse CDF `-sign(u) log(1 - |u|)` at `u` uniform in (-1, 1), in float32, scaled, shifted,
/// then cast (MLX's recipe).
pub fn laplace(
    shape: &[usize],
    dtype: Dtype,
    loc: f64,
    scale: f64,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("laplace")?;
    if !dtype.is_float() {
        return Err(Error::dtype(
            "laplace",
            format!("only real floating point types are supported, got {dtype}"),
        ));
    }
    let key = key_or_next("laplace", key, shape, Dtype::Float32)?;
    let f32s = |v: f32| ops::full(&[], v, Some(Dtype::Float32), stream);
    let u = uniform_between(
        "laplace",
        &f32s(f32::from_bits((-1.0f32).to_bits() - 1))?,
        &f32s(1.0)?,
        shape,
        Dtype::Float32,
        key,
        stream,
    )?;
    let log_term = ops::log(
        &ops::subtract(&f32s(1.0)?, &ops::abs(&u, stream)?, stream)?,
        stream,
    )?;
    // sign(u) * log(1 - |u|): MLX's inverse CDF, so a key gives MLX's numbers.
    let mut x = ops::multiply(&ops::sign(&u, stream)?, &log_term, stream)?;
    if scale != 1.0 {
        x = ops::multiply(&f32s(scale as f32)?, &x, stream)?;
    }
    if loc != 0.0 {
        x = ops::add(&f32s(loc as f32)?, &x, stream)?;
    }
    ops::astype(&x, dtype, stream)
}

/// `x` shuffled along `axis`: the order is the argsort of one random word per slice.
pub fn permutation(
    x: &Array,
    axis: isize,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let stream = s.into().resolve("permutation")?;
    let ax = normalize_axis("permutation", axis, x.shape())?;
    let n = x.shape()[ax];
    let key = key_or_next("permutation", key, &[n], Dtype::Uint32)?;
    let order = ops::argsort(
        &random_bits("permutation", &[n], key, stream)?,
        Some(0),
        stream,
    )?;
    ops::take(x, &order, Some(ax as isize), stream)
}

/// `0..n` shuffled (uint32, as MLX's `permutation(n)`).
pub fn permutation_of(
    n: usize,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let s = s.into();
    let stream = s.resolve("permutation")?;
    let r = ops::arange(0.0, n as f64, 1.0, Some(Dtype::Uint32), stream)?;
    permutation(&r, 0, key, stream)
}

/// Jointly normal draws with mean `mean` `(..., n)` and covariance `cov` `(..., n, n)`
/// (symmetric positive semi-definite, read from its lower triangle), float32 only as in MLX. The
/// output is `shape + [n]`, or the broadcast batch shape of `mean` and `cov` plus `[n]` when
/// `shape` is empty. Each draw is `mean + L z` for standard normal `z` and `L = Q sqrt(w)` from
/// the eigendecomposition `cov = Q diag(w) Qᵀ`; MLX factors `cov` by SVD instead, so the same key
/// gives other (equally distributed) numbers.
pub fn multivariate_normal(
    mean: &Array,
    cov: &Array,
    shape: &[usize],
    dtype: Dtype,
    key: Option<&Array>,
    s: impl Into<StreamOrDevice>,
) -> Result<Array> {
    let name = "multivariate_normal";
    let stream = s.into().resolve(name)?;
    if dtype != Dtype::Float32 {
        return Err(Error::dtype(
            name,
            format!("dtype must be float32, got {dtype}"),
        ));
    }
    if mean.ndim() < 1 || cov.ndim() < 2 {
        return Err(Error::shape(
            name,
            format!(
                "mean must be at least 1-D and cov at least 2-D, got shapes {:?} and {:?}",
                mean.shape(),
                cov.shape()
            ),
        ));
    }
    let n = mean.shape()[mean.ndim() - 1];
    let (r, c) = (cov.shape()[cov.ndim() - 2], cov.shape()[cov.ndim() - 1]);
    if r != c || r != n {
        return Err(Error::shape(
            name,
            format!(
                "cov must be square with the size of mean's last dim, got shapes {:?} (mean) and {:?} (cov)",
                mean.shape(),
                cov.shape()
            ),
        ));
    }
    let batch = crate::shape::broadcast_shapes(
        name,
        &mean.shape()[..mean.ndim() - 1],
        &cov.shape()[..cov.ndim() - 2],
    )?;
    let batch = if shape.is_empty() {
        batch
    } else {
        let b = crate::shape::broadcast_shapes(name, shape, &batch)?;
        if b != shape {
            return Err(Error::shape(
                name,
                format!(
                    "shape {shape:?} is not broadcast-compatible with the batch shape {batch:?} of mean and cov"
                ),
            ));
        }
        b
    };
    let mut out_shape = batch.clone();
    out_shape.push(n);
    let mean = ops::astype(mean, Dtype::Float32, stream)?;
    let cov = ops::astype(cov, Dtype::Float32, stream)?;
    let z = normal(&out_shape, Dtype::Float32, 0.0, 1.0, key, stream)?;
    let (w, q) = ops::eigh(&cov, "L", stream)?;
    let w = ops::maximum(&w, &ops::full(&[], 0.0f32, None, stream)?, stream)?;
    // L = Q diag(sqrt(w)): column j of Q scaled by sqrt(w_j).
    let l = ops::multiply(
        &q,
        &ops::expand_dims(&ops::sqrt(&w, stream)?, &[-2], stream)?,
        stream,
    )?;
    // (L z) as a row vector: z (..., 1, n) @ Lᵀ (..., n, n).
    let lz = ops::matmul(
        &ops::expand_dims(&z, &[-2], stream)?,
        &ops::matrix_transpose(&l, stream)?,
        stream,
    )?;
    let lz = ops::squeeze(&lz, Some(&[-2]), stream)?;
    ops::add(&mean, &lz, stream)
}
