// Reductions: each output element reduces `n_red` input elements. The input is described as kept
// dims (one position per output, row-major) and reduced dims, each with strides; `R` is the
// reducer (init, load, combine, finish), generated per op and types by reduce.rs.
//
// - red_block: one block per output (grid-stride over outputs), threads stride over the reduced
//   elements, a tree in shared memory combines them. With grid.y > 1 each block reduces one chunk
//   of the reduced range and writes a partial accumulator; red_partials then combines the chunks.
// - red_thread: one thread per output, looping over all its reduced elements (coalesced when the
//   outputs are adjacent in memory: a reduction over an outer axis).

struct Red {
    u64 out;
    u64 in;
    i64 n_out;
    i64 n_red;
    i64 kept_ndim;
    i64 red_ndim;
    i64 kept_shape[MAXD];
    i64 kept_strides[MAXD];
    i64 red_shape[MAXD];
    i64 red_strides[MAXD];
    i64 offset;
    i64 chunk;
};

template <class R, class IN, class I>
INLINE i64 red_offset(const Red& p, I k) {
    if (p.red_ndim == 1) return (i64)k * p.red_strides[0];
    return offset_of<I>(k, (int)p.red_ndim, p.red_shape, p.red_strides);
}

// Combines the block's accumulators; thread 0 gets the total.
template <class R>
INLINE typename R::A block_combine(typename R::A acc) {
    __shared__ typename R::A sh[256];
    sh[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = R::combine(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    return sh[0];
}

template <class T> struct alignas(4 * sizeof(T)) RPack { T v[4]; };

template <class R, class IN, class OUT, class I, bool PARTIAL>
INLINE void red_block(const Red& p) {
    const I n_red = (I)p.n_red;
    const I k0 = (I)blockIdx.y * (I)p.chunk;
    const I k1 = k0 + (I)p.chunk < n_red ? k0 + (I)p.chunk : n_red;
    const IN* in = at<IN>(p.in, p.offset);
    for (I m = blockIdx.x; m < (I)p.n_out; m += gridDim.x) {
        const i64 base = offset_of<I>(m, (int)p.kept_ndim, p.kept_shape, p.kept_strides);
        typename R::A a0 = R::init(), a1 = R::init(), a2 = R::init(), a3 = R::init();
        I k = k0 + threadIdx.x;
        if (p.red_ndim == 1 && p.red_strides[0] == 1) {
            const IN* row = in + base;
            // 4-byte elements from a 16-byte aligned start: loads of 16 bytes, a quarter of the
            // load instructions, which is what keeps enough bytes in flight to reach the memory's
            // bandwidth. The accumulators take the elements in the same pattern.
            if (sizeof(IN) == 4 && (((u64)(row + k0)) & 15) == 0) {
                const I nv = (k1 - k0) / 4;
                const RPack<IN>* v = reinterpret_cast<const RPack<IN>*>(row + k0);
                for (I j = threadIdx.x; j < nv; j += blockDim.x) {
                    const RPack<IN> x = v[j];
                    a0 = R::combine(a0, R::load(x.v[0]));
                    a1 = R::combine(a1, R::load(x.v[1]));
                    a2 = R::combine(a2, R::load(x.v[2]));
                    a3 = R::combine(a3, R::load(x.v[3]));
                }
                k = k0 + nv * 4 + threadIdx.x;
            }
            for (; k + 3 * blockDim.x < k1; k += 4 * blockDim.x) {
                a0 = R::combine(a0, R::load(row[k]));
                a1 = R::combine(a1, R::load(row[k + blockDim.x]));
                a2 = R::combine(a2, R::load(row[k + 2 * blockDim.x]));
                a3 = R::combine(a3, R::load(row[k + 3 * blockDim.x]));
            }
            for (; k < k1; k += blockDim.x) a0 = R::combine(a0, R::load(row[k]));
        } else {
            for (; k < k1; k += blockDim.x) a0 = R::combine(a0, R::load(in[base + red_offset<R, IN, I>(p, k)]));
        }
        typename R::A acc = block_combine<R>(R::combine(R::combine(a0, a1), R::combine(a2, a3)));
        if (threadIdx.x == 0) {
            if constexpr (PARTIAL) at_mut<typename R::A>(p.out, 0)[(i64)m * gridDim.y + blockIdx.y] = acc;
            else at_mut<OUT>(p.out, 0)[m] = R::finish(acc);
        }
        __syncthreads();
    }
}

// `n_red` partial accumulators per output, contiguous: combined and finished.
template <class R, class OUT>
INLINE void red_partials(const Red& p) {
    const typename R::A* in = at<typename R::A>(p.in, 0);
    for (i64 m = blockIdx.x; m < p.n_out; m += gridDim.x) {
        typename R::A acc = R::init();
        for (i64 k = threadIdx.x; k < p.n_red; k += blockDim.x) acc = R::combine(acc, in[m * p.n_red + k]);
        acc = block_combine<R>(acc);
        if (threadIdx.x == 0) at_mut<OUT>(p.out, 0)[m] = R::finish(acc);
        __syncthreads();
    }
}

template <class R, class IN, class OUT, class I>
INLINE void red_thread(const Red& p) {
    const IN* in = at<IN>(p.in, p.offset);
    const I stride = (I)gridDim.x * blockDim.x;
    for (I m = (I)blockIdx.x * blockDim.x + threadIdx.x; m < (I)p.n_out; m += stride) {
        const i64 base = offset_of<I>(m, (int)p.kept_ndim, p.kept_shape, p.kept_strides);
        typename R::A acc = R::init();
        for (I k = 0; k < (I)p.n_red; ++k) acc = R::combine(acc, R::load(in[base + red_offset<R, IN, I>(p, k)]));
        at_mut<OUT>(p.out, 0)[m] = R::finish(acc);
    }
}

// Max and min with NaN winning, per kind (the CPU's `Extremum`).
template <class T> INLINE bool ext_nan(T x) {
    if constexpr (Info<T>::kind == KFloat) return isnan(Num<T>::to_f64(x));
    else if constexpr (Info<T>::kind == KComplex) return isnan(x.re) || isnan(x.im);
    else return false;
}
template <class T> INLINE bool ext_lt(T a, T b) {
    if constexpr (Info<T>::kind == KComplex) return a.re < b.re || (a.re == b.re && a.im < b.im);
    else if constexpr (Info<T>::kind == KFloat) return Num<T>::to_f64(a) < Num<T>::to_f64(b);
    else return a < b;
}
template <class T> INLINE T ext_max(T a, T b) { return (ext_nan(a) || (!ext_nan(b) && !ext_lt(a, b))) ? a : b; }
template <class T> INLINE T ext_min(T a, T b) { return (ext_nan(a) || (!ext_nan(b) && !ext_lt(b, a))) ? a : b; }
