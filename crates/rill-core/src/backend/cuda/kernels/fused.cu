// Fused kernels (`Op::Fused`, built by compile's fusion pass): a program of elementwise ops over
// one shape, evaluated per element in registers, optionally reduced over trailing rows. fused.rs
// generates, per program, `T` (the element type) and the functors of its ops (namespaces o0,
// o1, ...) before this file, and `fz_value`, the program's result for element i, after it; this
// file walks the elements.
//
// Reductions follow reduce.cu's `red_block` element for element (the same threads take the same
// elements into the same four accumulators, with the same chunks over grid.y), so a fused sum is
// the unfused sum bit for bit.

#define FZ_MAXIN 8

struct Fz {
    u64 out;
    u64 in[FZ_MAXIN];
    // Input k's element for i is in[k][i % period[k]] (period 1: a scalar; n: a full input).
    i64 period[FZ_MAXIN];
    // Elements of the program (the elementwise shape's product).
    i64 n;
    // With a reduction: elements reduced per output, outputs, and elements per chunk.
    i64 row;
    i64 n_out;
    i64 chunk;
    // Bit k set: input k is a host scalar (the constants of `x * 1.1`) whose bits travel here,
    // in byval[k], instead of being copied to the GPU before each launch.
    i64 byval_mask;
    u64 byval[FZ_MAXIN];
};

// Kernels take `p` as __grid_constant__, so the address of `p.byval[k]` is the parameter's own.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 700
#define FZ_GRID_CONSTANT __grid_constant__
#else
#define FZ_GRID_CONSTANT
#endif

INLINE u64 fz_in(const Fz& p, int k) {
    return (p.byval_mask >> k) & 1 ? (u64)(&p.byval[k]) : p.in[k];
}

template <class I> INLINE I fz_index(const Fz& p, int k, I i) {
    const I per = (I)p.period[k];
    return per == (I)p.n ? i : (per == 1 ? (I)0 : i % per);
}

template <class I> INLINE T fz_value(const Fz& p, I i);

template <class I> INLINE void fz_map(const Fz& p) {
    T* out = at_mut<T>(p.out, 0);
    const I stride = (I)gridDim.x * blockDim.x;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += stride) out[i] = fz_value<I>(p, i);
}

template <class R, class I, bool PARTIAL> INLINE void fz_reduce(const Fz& p) {
    const I n_red = (I)p.row;
    const I k0 = (I)blockIdx.y * (I)p.chunk;
    const I k1 = k0 + (I)p.chunk < n_red ? k0 + (I)p.chunk : n_red;
    for (I m = blockIdx.x; m < (I)p.n_out; m += gridDim.x) {
        const I base = m * n_red;
        typename R::A a0 = R::init(), a1 = R::init(), a2 = R::init(), a3 = R::init();
        I k = k0 + threadIdx.x;
        // red_block's packed path: 4-byte elements from a 16-byte aligned start. The unfused
        // intermediate is a fresh allocation (aligned), so its row starts where base + k0 is a
        // multiple of 4 elements.
        if (sizeof(T) == 4 && ((base + k0) & 3) == 0) {
            const I nv = (k1 - k0) / 4;
            for (I j = threadIdx.x; j < nv; j += blockDim.x) {
                const I e = base + k0 + 4 * j;
                a0 = R::combine(a0, R::load(fz_value<I>(p, e)));
                a1 = R::combine(a1, R::load(fz_value<I>(p, e + 1)));
                a2 = R::combine(a2, R::load(fz_value<I>(p, e + 2)));
                a3 = R::combine(a3, R::load(fz_value<I>(p, e + 3)));
            }
            k = k0 + nv * 4 + threadIdx.x;
        }
        for (; k + 3 * blockDim.x < k1; k += 4 * blockDim.x) {
            a0 = R::combine(a0, R::load(fz_value<I>(p, base + k)));
            a1 = R::combine(a1, R::load(fz_value<I>(p, base + k + blockDim.x)));
            a2 = R::combine(a2, R::load(fz_value<I>(p, base + k + 2 * blockDim.x)));
            a3 = R::combine(a3, R::load(fz_value<I>(p, base + k + 3 * blockDim.x)));
        }
        for (; k < k1; k += blockDim.x) a0 = R::combine(a0, R::load(fz_value<I>(p, base + k)));
        typename R::A acc = block_combine<R>(R::combine(R::combine(a0, a1), R::combine(a2, a3)));
        if (threadIdx.x == 0) {
            if constexpr (PARTIAL) at_mut<typename R::A>(p.out, 0)[(i64)m * gridDim.y + blockIdx.y] = acc;
            else at_mut<T>(p.out, 0)[m] = R::finish(acc);
        }
        __syncthreads();
    }
}
