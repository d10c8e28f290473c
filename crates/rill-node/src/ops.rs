//! The op builders. Each takes its stream as an explicit last argument (`None`: the default
//! stream of the default device), builds a lazy array and evaluates nothing; rill checks shapes,
//! axes and dtypes here, so a bad call throws at once with the op's message.

use crate::array::JsArray;
use crate::convert;
use crate::dtype;
use crate::errors::{guard, type_error, OrThrow};
use crate::stream::{sod, JsStream};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use rill_core::{ops, Dtype, Scalar};

fn usizes(op: &str, v: &[i64]) -> napi::Result<Vec<usize>> {
    v.iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| type_error(format!("[{op}] a shape cannot hold {d} (shape {v:?})")))
        })
        .collect()
}

fn isizes(v: &[i64]) -> Vec<isize> {
    v.iter().map(|&d| d as isize).collect()
}

/// An array of `shape` holding `bytes`, which are elements of `src_dtype` in native byte order,
/// converted to `dtype` when given.
#[napi]
pub fn from_bytes(
    bytes: Buffer,
    src_dtype: String,
    shape: Vec<i64>,
    dtype: Option<String>,
    stream: Option<&JsStream>,
) -> napi::Result<JsArray> {
    guard(|| {
        let src = dtype::parse("array", &src_dtype)?;
        let target = dtype::parse_opt("array", dtype)?.unwrap_or(src);
        let shape = usizes("array", &shape)?;
        let a = convert::from_bytes(&bytes, src, &shape, sod(stream))?;
        if target == src {
            return Ok(a.into());
        }
        Ok(ops::astype(&a, target, sod(stream)).or_throw()?.into())
    })
}

/// An integral JS number as an integer scalar: int64 when it fits, else uint64; past 2^64 a
/// `RangeError` (`as` would quietly saturate it to the largest int64).
fn int_scalar(value: f64) -> napi::Result<Scalar> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if (-TWO_63..TWO_63).contains(&value) {
        Ok(Scalar::Int(value as i64))
    } else if (TWO_63..TWO_64).contains(&value) {
        Ok(Scalar::UInt(value as u64))
    } else {
        Err(rill_core::Error::Overflow {
            op: "scalar",
            msg: format!("{value} is too large for any integer dtype"),
        })
        .or_throw()
    }
}

/// A 0-d array for a JS number or boolean beside `other`, typed as MLX types Python scalars: it
/// takes `other`'s dtype unless its kind ('bool' < 'int' < 'float') is greater, and an integer
/// that dtype cannot hold throws (`uint8 + 300`): the core's rule, shared with Python. Only
/// `node/index.js`'s `operand` calls it, for an op's operand (`ops::weak_operand`: shared bytes).
#[napi]
pub fn weak_scalar(
    other: &JsArray,
    value: f64,
    kind: String,
    stream: Option<&JsStream>,
) -> napi::Result<JsArray> {
    guard(|| {
        let s = match kind.as_str() {
            "bool" => Scalar::Bool(value != 0.0),
            "int" => int_scalar(value)?,
            "float" => Scalar::Float(value),
            _ => return Err(type_error(format!("[scalar] unknown scalar kind '{kind}'"))),
        };
        Ok(ops::weak_operand(&other.inner, s, sod(stream))
            .or_throw()?
            .into())
    })
}

macro_rules! unary_ops {
    ($($name:ident),* $(,)?) => {$(
        #[napi]
        pub fn $name(a: &JsArray, stream: Option<&JsStream>) -> napi::Result<JsArray> {
            guard(|| Ok(ops::$name(&a.inner, sod(stream)).or_throw()?.into()))
        }
    )*};
}

unary_ops!(negative, abs, exp, log, sqrt, sin, cos, tanh, sigmoid, square, reciprocal, copy);

macro_rules! binary_ops {
    ($($name:ident),* $(,)?) => {$(
        #[napi]
        pub fn $name(a: &JsArray, b: &JsArray, stream: Option<&JsStream>) -> napi::Result<JsArray> {
            guard(|| Ok(ops::$name(&a.inner, &b.inner, sod(stream)).or_throw()?.into()))
        }
    )*};
}

binary_ops!(add, subtract, multiply, divide, power, maximum, minimum, equal, less, greater, matmul);

macro_rules! reduce_ops {
    ($($name:ident),* $(,)?) => {$(
        /// A reduction over `axes` (every axis when absent), keeping them as size 1 with `keepdims`.
        #[napi]
        pub fn $name(
            a: &JsArray,
            axes: Option<Vec<i64>>,
            keepdims: Option<bool>,
            stream: Option<&JsStream>,
        ) -> napi::Result<JsArray> {
            guard(|| {
                let axes = axes.as_deref().map(isizes);
                let r = ops::$name(&a.inner, axes.as_deref(), keepdims.unwrap_or(false), sod(stream));
                Ok(r.or_throw()?.into())
            })
        }
    )*};
}

reduce_ops!(sum, mean, max, min, prod);

/// `a` with a new shape of the same size; one dimension may be -1.
#[napi]
pub fn reshape(a: &JsArray, shape: Vec<i64>, stream: Option<&JsStream>) -> napi::Result<JsArray> {
    guard(|| {
        let r = ops::reshape(&a.inner, &isizes(&shape), sod(stream));
        Ok(r.or_throw()?.into())
    })
}

/// `a` with its axes permuted (reversed when `axes` is absent).
#[napi]
pub fn transpose(
    a: &JsArray,
    axes: Option<Vec<i64>>,
    stream: Option<&JsStream>,
) -> napi::Result<JsArray> {
    guard(|| {
        let axes = axes.as_deref().map(isizes);
        let r = ops::transpose(&a.inner, axes.as_deref(), sod(stream));
        Ok(r.or_throw()?.into())
    })
}

/// `a` converted to `dtype`.
#[napi]
pub fn astype(a: &JsArray, dtype: String, stream: Option<&JsStream>) -> napi::Result<JsArray> {
    guard(|| {
        let dt = dtype::parse("astype", &dtype)?;
        Ok(ops::astype(&a.inner, dt, sod(stream)).or_throw()?.into())
    })
}

/// An array of `shape` filled with `value` (float32 unless `dtype` says otherwise).
#[napi]
pub fn full(
    shape: Vec<i64>,
    value: f64,
    dtype: Option<String>,
    stream: Option<&JsStream>,
) -> napi::Result<JsArray> {
    guard(|| {
        let shape = usizes("full", &shape)?;
        let dt = dtype::parse_opt("full", dtype)?.unwrap_or(Dtype::Float32);
        // An integral fill into an integer dtype is an integer, checked against the dtype (a
        // fill of 1000 into int8 throws, as in Python), not a float converted bit-wise.
        let value = if dt.is_integer() && value.fract() == 0.0 {
            int_scalar(value)?
        } else {
            Scalar::Float(value)
        };
        let r = ops::full(&shape, value, Some(dt), sod(stream));
        Ok(r.or_throw()?.into())
    })
}

/// `start, start + step, ...` below `stop` (float32 unless `dtype` says otherwise).
#[napi]
pub fn arange(
    start: f64,
    stop: f64,
    step: f64,
    dtype: Option<String>,
    stream: Option<&JsStream>,
) -> napi::Result<JsArray> {
    guard(|| {
        let dt = dtype::parse_opt("arange", dtype)?;
        let r = ops::arange(start, stop, step, dt, sod(stream));
        Ok(r.or_throw()?.into())
    })
}
