//! `repr(array)` in MLX's format: `array([[1, 2],\n       [3, 4]], dtype=int32)`.
//!
//! Numbers print as C++ streams print them by default (`%g`, six significant digits), so output
//! matches MLX character for character; a dimension longer than six shows its first and last three
//! entries around `...`. `set_printoptions(precision=p)` switches floats to C++'s `std::fixed`
//! with `p` decimals, as MLX's does; the setting is process-wide, as MLX's is.

use rill_core::memory::Data;
use rill_core::{dispatch_dtype, Array, Element, Scalar};
use std::sync::atomic::{AtomicI64, Ordering};

/// Decimals of printed floats; negative: C's `%g` with six significant digits (the default).
static PRECISION: AtomicI64 = AtomicI64::new(-1);

pub fn set_precision(p: i64) {
    PRECISION.store(p.max(-1), Ordering::Relaxed);
}

pub fn precision() -> i64 {
    PRECISION.load(Ordering::Relaxed)
}

/// A float as printed now: `%g` by default, `std::fixed` with the set precision otherwise.
fn fmt_float(v: f64) -> String {
    let p = precision();
    if p < 0 {
        return fmt_g(v, 6);
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    format!("{v:.*}", p as usize)
}

/// Entries shown at each end of a summarized dimension, and the length above which a dimension is
/// summarized.
const EDGE: usize = 3;
const SUMMARIZE_ABOVE: usize = 6;

/// `v` as C's `%g` with `prec` significant digits.
pub fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // The exponent after rounding to `prec` digits decides between fixed and scientific.
    let sci = format!("{:.*e}", prec - 1, v);
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    if exp < -4 || exp >= prec as i32 {
        let m = strip_zeros(mantissa);
        format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn fmt_scalar(s: Scalar) -> String {
    match s {
        Scalar::Bool(b) => if b { "True" } else { "False" }.into(),
        Scalar::Int(i) => i.to_string(),
        Scalar::UInt(u) => u.to_string(),
        Scalar::Float(f) => fmt_float(f),
        // MLX writes the imaginary part's own sign, after a '+' unless it is negative
        // (so `1+-0j` for a negative zero, as MLX prints it).
        Scalar::Complex(re, im) => {
            let sep = if (im as f64) < 0.0 { "" } else { "+" };
            format!("{}{sep}{}j", fmt_float(re as f64), fmt_float(im as f64))
        }
    }
}

/// The indices shown along a dimension of length `n`; `None` marks the `...`.
fn shown(n: usize) -> Vec<Option<usize>> {
    if n > SUMMARIZE_ABOVE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

struct Printer<'a, T> {
    shape: &'a [usize],
    strides: &'a [isize],
    elems: &'a [T],
    /// Column where the outermost `[` sits (after `array(`).
    base: usize,
}

impl<T: Element> Printer<'_, T> {
    fn write(&self, out: &mut String, depth: usize, offset: isize) {
        out.push('[');
        let n = self.shape[depth];
        let last = depth + 1 == self.shape.len();
        let sep = if last {
            ", ".to_string()
        } else {
            format!(",\n{}", " ".repeat(self.base + depth + 1))
        };
        for (k, i) in shown(n).into_iter().enumerate() {
            if k > 0 {
                out.push_str(&sep);
            }
            match i {
                None => out.push_str("..."),
                Some(i) => {
                    let off = offset + i as isize * self.strides[depth];
                    if last {
                        out.push_str(&fmt_scalar(self.elems[off as usize].to_scalar()));
                    } else {
                        self.write(out, depth + 1, off);
                    }
                }
            }
        }
        out.push(']');
    }
}

/// The repr of an evaluated array whose data is `data`.
pub fn repr(a: &Array, data: &Data) -> String {
    let prefix = "array(";
    let mut out = String::from(prefix);
    dispatch_dtype!(a.dtype(), T => {
        let elems = data.buffer.as_slice::<T>();
        if a.ndim() == 0 {
            out.push_str(&fmt_scalar(elems[data.layout.offset].to_scalar()));
        } else if a.size() == 0 {
            // No element is read; the strides of an empty array may point anywhere.
            let p = Printer { shape: a.shape(), strides: &vec![0; a.ndim()], elems: &[] as &[T], base: prefix.len() };
            write_empty(&p, &mut out, 0);
        } else {
            let p = Printer { shape: a.shape(), strides: &data.layout.strides, elems, base: prefix.len() };
            p.write(&mut out, 0, data.layout.offset as isize);
        }
    });
    out.push_str(&format!(", dtype={})", a.dtype()));
    out
}

/// An empty array: the brackets of its non-empty leading dims around `[]`s.
fn write_empty<T>(p: &Printer<'_, T>, out: &mut String, depth: usize) {
    out.push('[');
    let n = p.shape[depth];
    if depth + 1 < p.shape.len() {
        let sep = format!(",\n{}", " ".repeat(p.base + depth + 1));
        for (k, i) in shown(n).into_iter().enumerate() {
            if k > 0 {
                out.push_str(&sep);
            }
            match i {
                None => out.push_str("..."),
                Some(_) => write_empty(p, out, depth + 1),
            }
        }
    }
    out.push(']');
}
