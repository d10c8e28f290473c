// Elementwise kernels: one output element from up to three inputs, each input read through its
// own strides (broadcast inputs have stride 0). `F::apply` is the op, generated per op and types
// by elementwise.rs; the kernels only walk the elements.

struct Ew {
    u64 out;
    u64 in[3];
    i64 n;
    i64 ndim;
    i64 shape[MAXD];
    i64 strides[3][MAXD];
    i64 offset[3];
    // Contiguous kernels: 1 when input k is contiguous from its offset, 0 when it is one scalar.
    i64 contig[3];
    // Contiguous kernels: 1 when every contiguous input and the output are aligned for packs of 4.
    i64 vec;
    // Bit k set: input k is a host scalar whose bits travel here, in byval[k], instead of in
    // device memory (no copy to the GPU before the kernel; its strides and offset are 0).
    i64 byval_mask;
    u64 byval[3];
};

// Where input k's elements are: device memory, or the parameter block itself for a scalar passed
// by value. Kernels take `p` as __grid_constant__ so that address is the parameter's own (on
// older GPUs the compiler copies `p` to the thread's stack first, which is slower but the same).
INLINE u64 in_addr(const Ew& p, int k) {
    return (p.byval_mask >> k) & 1 ? (u64)(&p.byval[k]) : p.in[k];
}
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define GRID_CONSTANT __grid_constant__
#else
#define GRID_CONSTANT
#endif

template <class T, int N> struct alignas(sizeof(T) * N) Pack { T v[N]; };

template <class F, int NIN, class O, class A, class B, class C>
INLINE O apply3(A a, B b, C c) {
    if constexpr (NIN == 1) return F::apply(a);
    else if constexpr (NIN == 2) return F::apply(a, b);
    else return F::apply(a, b, c);
}

// Every input contiguous or a scalar: element i of input k is at offset[k] + contig[k] * i.
template <class F, int NIN, class O, class A, class B, class C, class I>
INLINE void ew_contig(const Ew& p) {
    const I n = (I)p.n;
    const I tid = (I)blockIdx.x * blockDim.x + threadIdx.x;
    const I stride = (I)gridDim.x * blockDim.x;
    const A* pa = at<A>(in_addr(p, 0), p.offset[0]);
    const B* pb = NIN > 1 ? at<B>(in_addr(p, 1), p.offset[1]) : nullptr;
    const C* pc = NIN > 2 ? at<C>(in_addr(p, 2), p.offset[2]) : nullptr;
    O* po = at_mut<O>(p.out, 0);
    I start = 0;
    if (p.vec) {
        const I nvec = n / 4;
        for (I v = tid; v < nvec; v += stride) {
            Pack<A, 4> va; Pack<B, 4> vb; Pack<C, 4> vc; Pack<O, 4> vo;
            if (p.contig[0]) va = reinterpret_cast<const Pack<A, 4>*>(pa)[v];
            else for (int k = 0; k < 4; ++k) va.v[k] = pa[0];
            if constexpr (NIN > 1) {
                if (p.contig[1]) vb = reinterpret_cast<const Pack<B, 4>*>(pb)[v];
                else for (int k = 0; k < 4; ++k) vb.v[k] = pb[0];
            }
            if constexpr (NIN > 2) {
                if (p.contig[2]) vc = reinterpret_cast<const Pack<C, 4>*>(pc)[v];
                else for (int k = 0; k < 4; ++k) vc.v[k] = pc[0];
            }
#pragma unroll
            for (int k = 0; k < 4; ++k) vo.v[k] = apply3<F, NIN, O, A, B, C>(va.v[k], vb.v[k], vc.v[k]);
            reinterpret_cast<Pack<O, 4>*>(po)[v] = vo;
        }
        start = nvec * 4;
    }
    for (I i = start + tid; i < n; i += stride) {
        A a = pa[p.contig[0] ? i : 0];
        B b; C c;
        if constexpr (NIN > 1) b = pb[p.contig[1] ? i : 0];
        if constexpr (NIN > 2) c = pc[p.contig[2] ? i : 0];
        po[i] = apply3<F, NIN, O, A, B, C>(a, b, c);
    }
}

// Any strides: each element's input offsets come from its row-major position.
template <class F, int NIN, class O, class A, class B, class C, class I>
INLINE void ew_strided(const Ew& p) {
    const I n = (I)p.n;
    const I stride = (I)gridDim.x * blockDim.x;
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        A a = *at<A>(in_addr(p, 0), p.offset[0] + offset_of<I>(i, nd, p.shape, p.strides[0]));
        B b; C c;
        if constexpr (NIN > 1) b = *at<B>(in_addr(p, 1), p.offset[1] + offset_of<I>(i, nd, p.shape, p.strides[1]));
        if constexpr (NIN > 2) c = *at<C>(in_addr(p, 2), p.offset[2] + offset_of<I>(i, nd, p.shape, p.strides[2]));
        *at_mut<O>(p.out, (i64)i) = apply3<F, NIN, O, A, B, C>(a, b, c);
    }
}

// Complex arithmetic in f32, as num_complex's operators.
INLINE c64 cmk(float re, float im) { c64 r; r.re = re; r.im = im; return r; }
INLINE c64 cadd(c64 a, c64 b) { return cmk(a.re + b.re, a.im + b.im); }
INLINE c64 csub(c64 a, c64 b) { return cmk(a.re - b.re, a.im - b.im); }
INLINE c64 cmul(c64 a, c64 b) { return cmk(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re); }
INLINE c64 cdiv(c64 a, c64 b) {
    // By zero: an infinity in each part that is not zero, as the CPU's (C99 Annex G).
    if (b.re == 0.f && b.im == 0.f && !(isnan(a.re) && isnan(a.im))) {
        float inf = copysignf(INFINITY, b.re);
        return cmk(inf * a.re, inf * a.im);
    }
    float d = b.re * b.re + b.im * b.im;
    return cmk((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
INLINE bool ceq(c64 a, c64 b) { return a.re == b.re && a.im == b.im; }
INLINE bool clt(c64 a, c64 b) { return a.re < b.re || (a.re == b.re && a.im < b.im); }
INLINE bool cle(c64 a, c64 b) { return a.re < b.re || (a.re == b.re && a.im <= b.im); }
INLINE bool cnan(c64 a) { return isnan(a.re) || isnan(a.im); }
