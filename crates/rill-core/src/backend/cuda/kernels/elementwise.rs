//! Elementwise ops on the GPU: unary and binary functions, `where`, and casts/copies, with the CPU
//! kernels' semantics per element type (backend/cpu/{unary,binary,num}.rs): integers wrap,
//! integer division by zero gives 0, half types compute in f32 and round once, `maximum` and
//! `minimum` propagate NaN, shifts past the width give 0 (or -1 for negative numbers shifted right).
//!
//! Each (op, element types) pair is one kernel module: the op as a functor (`F::apply`), generated
//! here as C source, instantiated into four kernels (contiguous or strided, 32- or 64-bit
//! indices). Ops without a GPU form here (complex transcendental functions, complex powers) return
//! `None` and run through the CPU fallback.

use super::super::launch::{grid_for, launch, BLOCK};
use super::super::stream::GpuStream;
use super::common::*;
use crate::backend::{Input, Output};
use crate::memory::Data;
use crate::op::{BinaryOp, Op, UnaryOp};
use crate::shape::numel;
use crate::{Dtype, DtypeKind, Result};

const SOURCE: &str = include_str!("elementwise.cu");

/// The parameters of every elementwise kernel (`struct Ew` in elementwise.cu).
#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    out: u64,
    input: [u64; 3],
    n: i64,
    ndim: i64,
    shape: [i64; MAXD],
    strides: [[i64; MAXD]; 3],
    offset: [i64; 3],
    contig: [i64; 3],
    vec: i64,
    byval_mask: i64,
    byval: [u64; 3],
}

/// Which elementwise module an op needs, as a number (`Kernels::function_by_key`): the family,
/// the op's index in its enum and the element types.
fn module_key(op: &Op, inputs: &[Input], out: &Output) -> Option<u64> {
    let d = |t: Dtype| Dtype::ALL.iter().position(|&x| x == t).unwrap_or(0) as u64;
    let (family, index) = match op {
        Op::Unary(u) => (1, UnaryOp::ALL.iter().position(|x| x == u)? as u64),
        Op::Binary(b) => (2, BinaryOp::ALL.iter().position(|x| x == b)? as u64),
        Op::Where => (3, 0),
        Op::AsType | Op::Copy | Op::Reshape => (4, 0),
        _ => return None,
    };
    Some(family << 40 | index << 24 | d(inputs[0].dtype) << 8 | d(out.dtype))
}

/// Runs an elementwise op natively, or returns `None` when the GPU has no kernel for it.
pub(super) fn run(
    op: &Op,
    inputs: &[Input],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let Some(key) = module_key(op, inputs, out) else {
        return Ok(None);
    };
    // The module's name, functor and arity: built only when its kernel is not loaded yet.
    let spec = || -> Option<(String, String, usize)> {
        Some(match op {
            Op::Unary(u) => (
                format!("ew/unary/{}/{}", u.name(), ctype(inputs[0].dtype)),
                unary_functor(*u, inputs[0].dtype, out.dtype)?,
                1,
            ),
            Op::Binary(b) => (
                format!("ew/binary/{}/{}", b.name(), ctype(inputs[0].dtype)),
                binary_functor(*b, inputs[0].dtype, out.dtype)?,
                2,
            ),
            Op::Where => (
                format!("ew/where/{}", ctype(out.dtype)),
                where_functor(out.dtype),
                3,
            ),
            _ => (
                format!("ew/cast/{}/{}", ctype(inputs[0].dtype), ctype(out.dtype)),
                cast_functor(inputs[0].dtype, out.dtype),
                1,
            ),
        })
    };
    let types = [
        ctype(out.dtype),
        ctype(inputs[0].dtype),
        inputs.get(1).map_or("bool", |i| ctype(i.dtype)),
        inputs.get(2).map_or("bool", |i| ctype(i.dtype)),
    ];
    // A reshape that reached a backend could not be a view: its input is read in row-major order
    // of its own shape, and written in the output's (same element count).
    let shape: &[usize] = if matches!(op, Op::Reshape) {
        inputs[0].shape
    } else {
        out.shape
    };
    launch_elementwise(op.name(), key, spec, types, inputs, shape, out, s)
}

/// The bits of a one-element host input (at most 8 bytes), which the kernels take by value; None
/// for device data.
pub(super) fn host_scalar_bits(i: &Input) -> Option<u64> {
    if !i.data.is_host() {
        return None;
    }
    let size = i.dtype.size();
    debug_assert!(
        size <= 8 && numel(i.shape) == 1,
        "only one-element host inputs reach a GPU kernel"
    );
    Some(i.data.first_element_bits(size))
}

/// Every elementwise module: (name, source). For compiling all kernels ahead of time.
pub(super) fn all_modules() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for d in Dtype::ALL {
        for &u in UnaryOp::ALL {
            let o = unary_out(u, d);
            if let Some(f) = unary_functor(u, d, o) {
                v.push((
                    format!("ew/unary/{}/{}", u.name(), ctype(d)),
                    source(&f, 1, [ctype(o), ctype(d), "bool", "bool"]),
                ));
            }
        }
        for &b in BinaryOp::ALL {
            let o = if is_test(b) { Dtype::Bool } else { d };
            if let Some(f) = binary_functor(b, d, o) {
                v.push((
                    format!("ew/binary/{}/{}", b.name(), ctype(d)),
                    source(&f, 2, [ctype(o), ctype(d), ctype(d), "bool"]),
                ));
            }
        }
        v.push((
            format!("ew/where/{}", ctype(d)),
            source(&where_functor(d), 3, [ctype(d), "bool", ctype(d), ctype(d)]),
        ));
        for o in Dtype::ALL {
            v.push((
                format!("ew/cast/{}/{}", ctype(d), ctype(o)),
                source(&cast_functor(d, o), 1, [ctype(o), ctype(d), "bool", "bool"]),
            ));
        }
    }
    v
}

fn unary_out(u: UnaryOp, d: Dtype) -> Dtype {
    match u {
        UnaryOp::IsNan | UnaryOp::IsInf => Dtype::Bool,
        UnaryOp::Abs if d == Dtype::Complex64 => Dtype::Float32,
        _ => d,
    }
}

fn is_test(b: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(
        b,
        Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual | LogicalAnd | LogicalOr
    )
}

/// The module source: prelude, the kernels, the functor, and the four entry points.
fn source(functor: &str, nin: usize, types: [&str; 4]) -> String {
    let [o, a, b, c] = types;
    let mut s = String::with_capacity(PRELUDE.len() + SOURCE.len() + 2048);
    s.push_str(PRELUDE);
    s.push_str(SOURCE);
    s.push_str(functor);
    for (kind, idx) in [
        ("contig", "u32"),
        ("contig", "u64"),
        ("strided", "u32"),
        ("strided", "u64"),
    ] {
        let bits = if idx == "u32" { 32 } else { 64 };
        s.push_str(&format!(
            "extern \"C\" __global__ void k_{kind}{bits}(const GRID_CONSTANT Ew p) {{ ew_{kind}<F, {nin}, {o}, {a}, {b}, {c}, {idx}>(p); }}\n"
        ));
    }
    s
}

/// Launches the module `key` (described by `spec` on first use) over `shape`; None when the
/// GPU has no kernel for the op (`spec` gives None).
#[allow(clippy::too_many_arguments)]
fn launch_elementwise(
    op: &'static str,
    key: u64,
    spec: impl FnOnce() -> Option<(String, String, usize)>,
    types: [&str; 4],
    inputs: &[Input],
    shape: &[usize],
    out: &Output,
    s: &'static GpuStream,
) -> Result<Option<Data>> {
    let n = numel(out.shape);
    // The common small op (every input row-contiguous in the output's shape, or a scalar) needs
    // no stride analysis: skipping it saves a handful of allocations per op.
    let plain = inputs.iter().all(|i| {
        i.data.is_host() || (i.shape == shape && i.data.layout.is_row_contiguous(i.shape))
    });
    let (cshape, cstrides) = if plain {
        (Vec::new(), Vec::new())
    } else {
        let per_input: Vec<Vec<isize>> =
            inputs.iter().map(|i| broadcast_strides(i, shape)).collect();
        collapse(shape, &per_input)
    };
    let mut p = Params {
        out: 0,
        input: [0; 3],
        n: n as i64,
        ndim: cshape.len() as i64,
        shape: [0; MAXD],
        strides: [[0; MAXD]; 3],
        offset: [0; 3],
        contig: [0; 3],
        vec: 0,
        byval_mask: 0,
        byval: [0; 3],
    };
    // Contiguous when every input, after merging dims, is one run with stride 1 (or 0: a scalar).
    let mut contiguous = cshape.len() <= 1;
    let mut aligned = true;
    for (k, i) in inputs.iter().enumerate() {
        if let Some(bits) = host_scalar_bits(i) {
            // Broadcast everywhere: strides 0, so `collapse` left nothing for it to walk.
            p.byval_mask |= 1 << k;
            p.byval[k] = bits;
            continue;
        }
        p.input[k] = i.data.buffer.as_ptr() as u64;
        p.offset[k] = i.data.layout.offset as i64;
        let c = match cstrides.get(k).map_or(&[1][..], |v| v.as_slice()) {
            [] => 0,
            [s] if *s == 1 || *s == 0 => *s as i64,
            _ => {
                contiguous = false;
                0
            }
        };
        p.contig[k] = c;
        if c == 1 && !addr(i).is_multiple_of((4 * i.dtype.size()) as u64) {
            aligned = false;
        }
    }
    let big = n > i32::MAX as usize / 2;
    let (name, variant, per_thread) = if contiguous {
        p.vec = (aligned && n >= 4) as i64;
        if big {
            ("k_contig64", 1, 4u64)
        } else {
            ("k_contig32", 0, 4u64)
        }
    } else {
        if cshape.len() > MAXD {
            return Ok(None);
        }
        p.shape = shape64(&cshape);
        for (k, st) in cstrides.iter().enumerate() {
            p.strides[k] = strides64(st);
        }
        if big {
            ("k_strided64", 3, 1u64)
        } else {
            ("k_strided32", 2, 1u64)
        }
    };
    let kernels = &s.gpu.kernels;
    let f = match kernels.lookup(key << 2 | variant) {
        Some(f) => f,
        None => {
            let Some((module, functor, nin)) = spec() else {
                return Ok(None);
            };
            kernels.function_by_key(
                s.gpu,
                key << 2 | variant,
                || module.clone(),
                name,
                || source(&functor, nin, types),
            )?
        }
    };
    let data = output(op, out, s)?;
    if n == 0 {
        return Ok(Some(data));
    }
    p.out = data.buffer.as_ptr() as u64;
    // Packed contiguous work gets one pack per thread and as many blocks as that takes, the way
    // PyTorch launches its elementwise kernels, instead of a grid capped at full occupancy that
    // loops (docs/benchmarks.md has the measurement behind this). Everything else keeps the cap.
    let grid = if p.vec == 1 && !big {
        (n as u64).div_ceil(BLOCK as u64 * per_thread).max(1) as u32
    } else {
        grid_for(n as u64, BLOCK as u64 * per_thread, s.gpu.sm_count)
    };
    launch(op, f, s, (grid, 1, 1), BLOCK, 0, &p)?;
    Ok(Some(data))
}

/// `struct F` for a unary op on `d` giving `o`, or None when the GPU has no kernel for it.
pub(super) fn unary_functor(u: UnaryOp, d: Dtype, o: Dtype) -> Option<String> {
    use UnaryOp::*;
    let (t, ot) = (ctype(d), ctype(o));
    let body: String = match d.kind() {
        DtypeKind::Bool => match u {
            Abs | Sign | Square | Floor | Ceil | Round | Trunc => "return x;".into(),
            LogicalNot | BitwiseInvert => "return !x;".into(),
            IsNan | IsInf => "return false;".into(),
            _ => return None,
        },
        DtypeKind::Unsigned | DtypeKind::Signed => match u {
            Abs => format!("return x < ({t})0 ? wneg(x) : x;"),
            Negative => "return wneg(x);".into(),
            Sign => format!("return ({t})((x > ({t})0) - (x < ({t})0));"),
            Square => "return wmul(x, x);".into(),
            Floor | Ceil | Round | Trunc => "return x;".into(),
            BitwiseInvert => format!("return ({t})~x;"),
            IsNan | IsInf => "return false;".into(),
            _ => return None,
        },
        DtypeKind::Float => {
            let f = if d == Dtype::Float64 { "" } else { "f" };
            let c = if d == Dtype::Float64 { "double" } else { "float" };
            let e = match u {
                Abs => format!("fabs{f}(v)"),
                Negative => "-v".into(),
                Sign => format!("v > ({c})0 ? ({c})1 : (v < ({c})0 ? ({c})-1 : (isnan(v) ? v : ({c})0))"),
                Exp => format!("exp{f}(v)"),
                Expm1 => format!("expm1{f}(v)"),
                Log => format!("log{f}(v)"),
                Log1p => format!("log1p{f}(v)"),
                Log2 => format!("log2{f}(v)"),
                Log10 => format!("log10{f}(v)"),
                Sqrt => format!("sqrt{f}(v)"),
                Rsqrt => format!("({c})1 / sqrt{f}(v)"),
                Square => "v * v".into(),
                Reciprocal => format!("({c})1 / v"),
                Sin => format!("sin{f}(v)"),
                Cos => format!("cos{f}(v)"),
                Tan => format!("tan{f}(v)"),
                ArcSin => format!("asin{f}(v)"),
                ArcCos => format!("acos{f}(v)"),
                ArcTan => format!("atan{f}(v)"),
                Sinh => format!("sinh{f}(v)"),
                Cosh => format!("cosh{f}(v)"),
                Tanh => format!("tanh{f}(v)"),
                ArcSinh => format!("asinh{f}(v)"),
                ArcCosh => format!("acosh{f}(v)"),
                ArcTanh => format!("atanh{f}(v)"),
                Trunc => format!("trunc{f}(v)"),
                Sigmoid => format!(
                    "[&]() {{ {c} e = exp{f}(-fabs{f}(v)); {c} s = ({c})1 / (({c})1 + e); return v >= ({c})0 ? s : e * s; }}()"
                ),
                Erf => format!("erf{f}(v)"),
                ErfInv => format!("erfinv{f}(v)"),
                Floor => format!("floor{f}(v)"),
                Ceil => format!("ceil{f}(v)"),
                Round => format!("rint{f}(v)"),
                IsNan => return Some(functor1(ot, t, "return isnan(load<T>(x));", t)),
                IsInf => return Some(functor1(ot, t, "return isinf(load<T>(x));", t)),
                LogicalNot | BitwiseInvert => return None,
            };
            format!("{c} v = load<{t}>(x); return store<{t}>({e});")
        }
        DtypeKind::Complex => match u {
            Abs => "return (float)hypot((double)x.re, (double)x.im);".into(),
            Negative => "return cmk(-x.re, -x.im);".into(),
            Square => "double re = (double)x.re * x.re - (double)x.im * x.im; double im = 2.0 * x.re * x.im; return cmk((float)re, (float)im);".into(),
            IsNan => "return isnan(x.re) || isnan(x.im);".into(),
            IsInf => "return isinf(x.re) || isinf(x.im);".into(),
            _ => return None,
        },
    };
    Some(functor1(ot, t, &body, t))
}

fn functor1(o: &str, a: &str, body: &str, t: &str) -> String {
    format!("typedef {t} T;\nstruct F {{ static INLINE {o} apply({a} x) {{ {body} }} }};\n")
}

fn functor2(o: &str, a: &str, body: &str) -> String {
    format!("typedef {a} T;\nstruct F {{ static INLINE {o} apply({a} a, {a} b) {{ {body} }} }};\n")
}

/// `struct F` for a binary op on `d` (both inputs) giving `o`, or None without a GPU kernel.
pub(super) fn binary_functor(b: BinaryOp, d: Dtype, o: Dtype) -> Option<String> {
    use BinaryOp::*;
    let (t, ot) = (ctype(d), ctype(o));
    let kind = d.kind();
    // Comparisons and logic are the same shape for every real type.
    let test = |e: &str| Some(functor2(ot, t, &format!("return {e};")));
    if kind != DtypeKind::Complex {
        let cmp = |op: &str| -> Option<String> {
            if matches!(d, Dtype::Float16 | Dtype::Bfloat16) {
                test(&format!("load<T>(a) {op} load<T>(b)"))
            } else {
                test(&format!("a {op} b"))
            }
        };
        match b {
            Equal => return cmp("=="),
            NotEqual => return cmp("!="),
            Less => return cmp("<"),
            LessEqual => return cmp("<="),
            Greater => return cmp(">"),
            GreaterEqual => return cmp(">="),
            LogicalAnd => return test("Num<T>::nz(a) && Num<T>::nz(b)"),
            LogicalOr => return test("Num<T>::nz(a) || Num<T>::nz(b)"),
            _ => {}
        }
    }
    let body: String = match kind {
        DtypeKind::Bool => match b {
            Add | Maximum | BitwiseOr => "return a | b;".into(),
            Subtract | BitwiseXor => "return a ^ b;".into(),
            Multiply | Minimum | BitwiseAnd => "return a & b;".into(),
            _ => return None,
        },
        DtypeKind::Unsigned | DtypeKind::Signed => {
            let signed = kind == DtypeKind::Signed;
            let bits = d.size() * 8;
            match b {
                Add => "return wadd(a, b);".into(),
                Subtract => "return wsub(a, b);".into(),
                Multiply => "return wmul(a, b);".into(),
                Divide => "return b == 0 ? (T)0 : wdiv(a, b);".into(),
                FloorDivide => "if (b == 0) return 0; T q = wdiv(a, b); T r = wrem(a, b); return (r != 0 && ((a < (T)0) != (b < (T)0))) ? wsub(q, (T)1) : q;".into(),
                Remainder => "if (b == 0) return 0; T r = wrem(a, b); return (r != 0 && ((r < (T)0) != (b < (T)0))) ? wadd(r, b) : r;".into(),
                Power => {
                    let neg = if signed {
                        "if (b < (T)0) { i64 x = (i64)a; if (x == 1) return (T)1; if (x == -1) return ((i64)b % 2 == 0) ? (T)1 : a; return (T)0; }"
                    } else {
                        ""
                    };
                    format!("{neg} T base = a, acc = (T)1; u64 e = (u64)b; while (e > 0) {{ if (e & 1) acc = wmul(acc, base); base = wmul(base, base); e >>= 1; }} return acc;")
                }
                Maximum => "return a >= b ? a : b;".into(),
                Minimum => "return a <= b ? a : b;".into(),
                BitwiseAnd => "return (T)(a & b);".into(),
                BitwiseOr => "return (T)(a | b);".into(),
                BitwiseXor => "return (T)(a ^ b);".into(),
                LeftShift => format!("return (b < (T)0 || (u64)b >= {bits}ULL) ? (T)0 : (T)((u64)a << (u64)b);"),
                RightShift => format!("return (b < (T)0 || (u64)b >= {bits}ULL) ? (a < (T)0 ? (T)~(T)0 : (T)0) : (T)(a >> b);"),
                _ => return None,
            }
        }
        DtypeKind::Float => {
            let f = if d == Dtype::Float64 { "" } else { "f" };
            let c = if d == Dtype::Float64 {
                "double"
            } else {
                "float"
            };
            let e = match b {
                Add => "x + y".to_string(),
                Subtract => "x - y".into(),
                Multiply => "x * y".into(),
                Divide => "x / y".into(),
                FloorDivide => format!(
                    "[&]() {{ if (y == ({c})0) return x / y; {c} m = fmod{f}(x, y); {c} d = (x - m) / y; if (m != ({c})0 && ((y < ({c})0) != (m < ({c})0))) d -= ({c})1; if (d == ({c})0) return copysign{f}(({c})0, x / y); {c} fl = floor{f}(d); return (d - fl > ({c})0.5) ? fl + ({c})1 : fl; }}()"
                ),
                Remainder => format!(
                    "[&]() {{ {c} r = fmod{f}(x, y); return (r != ({c})0 && ((r < ({c})0) != (y < ({c})0))) ? r + y : r; }}()"
                ),
                Power => format!("pow{f}(x, y)"),
                Maximum => "(isnan(x) || x >= y) ? x : y".into(),
                Minimum => "(isnan(x) || x <= y) ? x : y".into(),
                ArcTan2 => format!("atan2{f}(x, y)"),
                LogAddExp => format!(
                    "[&]() {{ if (isnan(x) || isnan(y)) return x + y; {c} m = x > y ? x : y; if (isinf(m)) return m; return m + log1p{f}(exp{f}(-fabs{f}(x - y))); }}()"
                ),
                _ => return None,
            };
            format!("{c} x = load<T>(a), y = load<T>(b); return store<T>({e});")
        }
        DtypeKind::Complex => match b {
            Add => "return cadd(a, b);".into(),
            Subtract => "return csub(a, b);".into(),
            Multiply => "return cmul(a, b);".into(),
            Divide => "return cdiv(a, b);".into(),
            Maximum => "return (cnan(a) || (!cnan(b) && cle(b, a))) ? a : b;".into(),
            Minimum => "return (cnan(a) || (!cnan(b) && cle(a, b))) ? a : b;".into(),
            Equal => return test("ceq(a, b)"),
            NotEqual => return test("!ceq(a, b)"),
            Less => return test("clt(a, b)"),
            LessEqual => return test("cle(a, b)"),
            Greater => return test("clt(b, a)"),
            GreaterEqual => return test("cle(b, a)"),
            LogicalAnd => return test("Num<T>::nz(a) && Num<T>::nz(b)"),
            LogicalOr => return test("Num<T>::nz(a) || Num<T>::nz(b)"),
            _ => return None,
        },
    };
    Some(functor2(ot, t, &body))
}

fn where_functor(d: Dtype) -> String {
    let t = ctype(d);
    format!(
        "struct F {{ static INLINE {t} apply(bool c, {t} a, {t} b) {{ return c ? a : b; }} }};\n"
    )
}

fn cast_functor(from: Dtype, to: Dtype) -> String {
    let (a, o) = (ctype(from), ctype(to));
    format!("struct F {{ static INLINE {o} apply({a} x) {{ return cast<{a}, {o}>(x); }} }};\n")
}
