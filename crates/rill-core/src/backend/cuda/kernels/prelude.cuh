// The prelude of every rill kernel module: element types, conversions with the CPU backend's
// rules (backend/cpu/num.rs), and index helpers. NVRTC compiles it with no system headers, so the
// half types are plain 16-bit words converted with PTX instructions.

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long long i64;

struct f16 { u16 bits; };
struct bf16 { u16 bits; };
struct __align__(8) c64 { float re, im; };

#define MAXD 8
#define INFINITY __int_as_float(0x7f800000)
#define INLINE __device__ __forceinline__

// ---------------------------------------------------------------- half conversions

INLINE float f16_to_f32(u16 h) {
    // NaN: keep the sign and payload, quieted, as the half crate does (PTX's cvt turns every NaN
    // into 0x7fffffff, which would change the bits a copy or a sort writes back).
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu))
        return __uint_as_float(((u32)(h & 0x8000u) << 16) | 0x7fc00000u | ((u32)(h & 0x3ffu) << 13));
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
INLINE u16 f32_to_f16(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)  // NaN: keep the sign and the payload's top bits, quiet
        return (u16)(((u >> 16) & 0x8000u) | 0x7e00u | ((u & 0x7fffffu) >> 13));
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
INLINE float bf16_to_f32(u16 b) { return __uint_as_float(((u32)b) << 16); }
INLINE u16 f32_to_bf16(float f) {
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x40u);  // a quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                          // round half to even
    return (u16)(u >> 16);
}
// f64 -> f32 rounding to odd: a second rounding to a half type is then correct (no double
// rounding), as a direct f64 -> half conversion would be.
INLINE float f64_to_f32_odd(double d) {
    float f = __double2float_rz(d);
    if (!isnan(d) && (double)f != d) f = __uint_as_float(__float_as_uint(f) | 1u);
    return f;
}

// ---------------------------------------------------------------- element kinds

enum Kind { KBool, KUnsigned, KSigned, KFloat, KComplex };
template <class T> struct Info;
#define INFO(T, K) template <> struct Info<T> { static constexpr Kind kind = K; };
INFO(bool, KBool) INFO(u8, KUnsigned) INFO(u16, KUnsigned) INFO(u32, KUnsigned) INFO(u64, KUnsigned)
INFO(i8, KSigned) INFO(i16, KSigned) INFO(i32, KSigned) INFO(i64, KSigned)
INFO(f16, KFloat) INFO(bf16, KFloat) INFO(float, KFloat) INFO(double, KFloat) INFO(c64, KComplex)

INLINE i64 sat_i64(double v) {
    if (isnan(v)) return 0;
    if (v >= 9223372036854775808.0) return 9223372036854775807LL;
    if (v < -9223372036854775808.0) return (-9223372036854775807LL - 1);
    return (i64)v;
}
INLINE u64 sat_u64(double v) {
    if (isnan(v) || v <= 0.0) return 0;
    if (v >= 18446744073709551616.0) return 18446744073709551615ULL;
    return (u64)v;
}
INLINE i64 sat_i64f(float v) { return sat_i64((double)v); }
INLINE u64 sat_u64f(float v) { return sat_u64((double)v); }

// Num<T>: what the CPU's `Num` trait gives, one element type at a time.
template <class T> struct Num;

// Integers: float -> int saturates (as Rust's `as`); int -> int wraps.
#define INT_NUM(T, FROM_F64)                                                                      \
    template <> struct Num<T> {                                                                  \
        static INLINE double to_f64(T x) { return (double)x; }                                   \
        static INLINE T from_f64(double v) { FROM_F64 }                                          \
        static INLINE float to_f32(T x) { return (float)x; }                                     \
        static INLINE T from_f32(float v) { return from_f64((double)v); }                        \
        static INLINE i64 to_i64(T x) { return (i64)x; }                                         \
        static INLINE T from_i64(i64 v) { return (T)v; }                                         \
        static INLINE u64 to_u64(T x) { return (u64)x; }                                         \
        static INLINE T from_u64(u64 v) { return (T)v; }                                         \
        static INLINE bool nz(T x) { return x != 0; }                                            \
    };
#define SAT_S(LO, HI) { i64 x = sat_i64(v); return x < (LO) ? (LO) : (x > (HI) ? (HI) : x); }
#define SAT_U(HI) { u64 x = sat_u64(v); return x > (HI) ? (HI) : x; }
INT_NUM(u8, SAT_U(255ULL)) INT_NUM(u16, SAT_U(65535ULL)) INT_NUM(u32, SAT_U(4294967295ULL))
INT_NUM(u64, return sat_u64(v);) INT_NUM(i8, SAT_S(-128LL, 127LL)) INT_NUM(i16, SAT_S(-32768LL, 32767LL))
INT_NUM(i32, SAT_S(-2147483648LL, 2147483647LL)) INT_NUM(i64, return sat_i64(v);)

template <> struct Num<bool> {
    static INLINE double to_f64(bool x) { return x ? 1.0 : 0.0; }
    static INLINE bool from_f64(double v) { return v != 0.0; }
    static INLINE float to_f32(bool x) { return x ? 1.0f : 0.0f; }
    static INLINE bool from_f32(float v) { return v != 0.0f; }
    static INLINE i64 to_i64(bool x) { return x; }
    static INLINE bool from_i64(i64 v) { return v != 0; }
    static INLINE u64 to_u64(bool x) { return x; }
    static INLINE bool from_u64(u64 v) { return v != 0; }
    static INLINE bool nz(bool x) { return x; }
};

#define FLOAT_NUM(T)                                                                              \
    template <> struct Num<T> {                                                                  \
        static INLINE double to_f64(T x) { return (double)x; }                                   \
        static INLINE T from_f64(double v) { return (T)v; }                                      \
        static INLINE float to_f32(T x) { return (float)x; }                                     \
        static INLINE T from_f32(float v) { return (T)v; }                                       \
        static INLINE i64 to_i64(T x) { return sat_i64((double)x); }                             \
        static INLINE T from_i64(i64 v) { return (T)v; }                                         \
        static INLINE u64 to_u64(T x) { return sat_u64((double)x); }                             \
        static INLINE T from_u64(u64 v) { return (T)v; }                                         \
        static INLINE bool nz(T x) { return x != (T)0; }                                         \
    };
FLOAT_NUM(float) FLOAT_NUM(double)

#define HALF_NUM(T, TO, FROM)                                                                     \
    template <> struct Num<T> {                                                                  \
        static INLINE float to_f32(T x) { return TO(x.bits); }                                   \
        static INLINE T from_f32(float v) { T r; r.bits = FROM(v); return r; }                    \
        static INLINE double to_f64(T x) { return (double)to_f32(x); }                           \
        static INLINE T from_f64(double v) { return from_f32(f64_to_f32_odd(v)); }              \
        static INLINE i64 to_i64(T x) { return sat_i64f(to_f32(x)); }                            \
        static INLINE T from_i64(i64 v) { return from_f32((float)v); }                           \
        static INLINE u64 to_u64(T x) { return sat_u64f(to_f32(x)); }                            \
        static INLINE T from_u64(u64 v) { return from_f32((float)v); }                           \
        static INLINE bool nz(T x) { return to_f32(x) != 0.0f; }                                 \
    };
HALF_NUM(f16, f16_to_f32, f32_to_f16)
HALF_NUM(bf16, bf16_to_f32, f32_to_bf16)

template <> struct Num<c64> {
    static INLINE double to_f64(c64 x) { return (double)x.re; }
    static INLINE c64 from_f64(double v) { c64 r; r.re = (float)v; r.im = 0.0f; return r; }
    static INLINE float to_f32(c64 x) { return x.re; }
    static INLINE c64 from_f32(float v) { c64 r; r.re = v; r.im = 0.0f; return r; }
    static INLINE i64 to_i64(c64 x) { return sat_i64((double)x.re); }
    static INLINE c64 from_i64(i64 v) { return from_f32((float)v); }
    static INLINE u64 to_u64(c64 x) { return sat_u64((double)x.re); }
    static INLINE c64 from_u64(u64 v) { return from_f32((float)v); }
    static INLINE bool nz(c64 x) { return x.re != 0.0f || x.im != 0.0f; }
};

template <class A, class B> struct SameType { static constexpr bool value = false; };
template <class A> struct SameType<A, A> { static constexpr bool value = true; };

// x86-64's truncating conversions (cvttsd2si): NaN and values out of range give the minimum.
INLINE i32 x86_trunc_i32(double v) { return (v > -2147483649.0 && v < 2147483648.0) ? (i32)v : (i32)0x80000000u; }
INLINE i64 x86_trunc_i64(double v) {
    return (v >= -9223372036854775808.0 && v < 9223372036854775808.0) ? (i64)v : (i64)0x8000000000000000ull;
}
// A float as the integer type B, as NumPy and MLX compute it on x86-64: the CPU's
// `float_to_int::float_to_int_bits`, rule for rule (its comment says where each comes from).
template <class B> INLINE u64 float_to_int_bits(double v, bool from_f16) {
    if constexpr (SameType<B, i64>::value) {
        return (u64)x86_trunc_i64(v);
    } else if constexpr (SameType<B, u64>::value) {
        if (v >= 9223372036854775808.0) return (u64)x86_trunc_i64(v - 9223372036854775808.0) ^ (1ull << 63);
        return (u64)x86_trunc_i64(v);
    } else if constexpr (SameType<B, u32>::value) {
        if (from_f16) return (u64)x86_trunc_i64(v);
        if (v >= 2147483648.0) return (u64)((u32)x86_trunc_i32(v - 2147483648.0) ^ 0x80000000u);
        return (u64)(i64)x86_trunc_i32(v);
    } else {
        return (u64)(i64)x86_trunc_i32(v);
    }
}

// `cast<A, B>`: the CPU's `num::cast`, rule for rule (a cast to the same type is the same bits).
template <class A, class B> INLINE B cast(A a) {
    constexpr Kind ka = Info<A>::kind, kb = Info<B>::kind;
    if constexpr (SameType<A, B>::value) {
        return a;
    } else if constexpr (kb == KBool) {
        return Num<B>::from_u64(Num<A>::nz(a) ? 1 : 0);
    } else if constexpr (ka == KComplex && kb == KComplex) {
        return a;
    } else if constexpr (ka == KBool || ka == KUnsigned) {
        return Num<B>::from_u64(Num<A>::to_u64(a));
    } else if constexpr (ka == KSigned) {
        return Num<B>::from_i64(Num<A>::to_i64(a));
    } else if constexpr (kb == KFloat || kb == KComplex) {
        if constexpr (sizeof(A) <= 4 && sizeof(B) <= 4) return Num<B>::from_f32(Num<A>::to_f32(a));
        else return Num<B>::from_f64(Num<A>::to_f64(a));
    } else {
        return Num<B>::from_u64(float_to_int_bits<B>(Num<A>::to_f64(a), SameType<A, f16>::value));
    }
}

// The type float math computes in: f32 for f32 and the half types, f64 for f64.
template <class T> struct Real { typedef float C; };
template <> struct Real<double> { typedef double C; };
template <class T> INLINE typename Real<T>::C load(T x) { return (typename Real<T>::C)Num<T>::to_f64(x); }
template <> INLINE float load<float>(float x) { return x; }
template <> INLINE double load<double>(double x) { return x; }
template <> INLINE float load<f16>(f16 x) { return f16_to_f32(x.bits); }
template <> INLINE float load<bf16>(bf16 x) { return bf16_to_f32(x.bits); }
template <class T> INLINE T store(typename Real<T>::C v);
template <> INLINE float store<float>(float v) { return v; }
template <> INLINE double store<double>(double v) { return v; }
template <> INLINE f16 store<f16>(float v) { f16 r; r.bits = f32_to_f16(v); return r; }
template <> INLINE bf16 store<bf16>(float v) { bf16 r; r.bits = f32_to_bf16(v); return r; }

// Wrapping integer arithmetic (two's complement, as Rust's wrapping_* and the CPU kernels).
template <class T> INLINE T wneg(T x) { return (T)(0ULL - (u64)x); }
template <class T> INLINE T wadd(T x, T y) { return (T)((u64)x + (u64)y); }
template <class T> INLINE T wsub(T x, T y) { return (T)((u64)x - (u64)y); }
template <class T> INLINE T wmul(T x, T y) { return (T)((u64)x * (u64)y); }
// Division and remainder that wrap where Rust's wrapping_div/wrapping_rem do (MIN / -1).
template <class T> INLINE T wdiv(T x, T y) {
    if constexpr (Info<T>::kind == KSigned) { if (y == (T)-1) return wneg(x); }
    return x / y;
}
template <class T> INLINE T wrem(T x, T y) {
    if constexpr (Info<T>::kind == KSigned) { if (y == (T)-1) return 0; }
    return x % y;
}

// ---------------------------------------------------------------- indexing

// The element offset of the row-major position `i` of `shape` in an array with `strides`.
template <class I> INLINE i64 offset_of(I i, int ndim, const i64* shape, const i64* strides) {
    i64 off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
        I n = (I)shape[d];
        I q = i / n;
        off += (i64)(i - q * n) * strides[d];
        i = q;
    }
    return off;
}

template <class T> INLINE const T* at(u64 base, i64 off) { return reinterpret_cast<const T*>(base) + off; }
template <class T> INLINE T* at_mut(u64 base, i64 off) { return reinterpret_cast<T*>(base) + off; }
