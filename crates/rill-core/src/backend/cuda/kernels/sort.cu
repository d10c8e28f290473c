// sort and argsort of lines of up to SORT_MAX elements: one block per line sorts (value, index)
// pairs in shared memory with a bitonic network. Pairs compare by NumPy's order (numbers
// ascending, NaN last) and then by index, which makes the result that of a stable sort.

#define SORT_MAX 2048

struct Sort {
    u64 out;
    u64 in;
    i64 n_lines;
    i64 n;
    i64 ndim;
    i64 shape[MAXD];
    i64 in_strides[MAXD];
    i64 out_strides[MAXD];
    i64 in_axis;
    i64 out_axis;
    i64 offset;
    i64 pow2;   // n rounded up to a power of two
};

template <class T> INLINE bool sort_nan(T x) {
    if constexpr (Info<T>::kind == KFloat) return isnan(Num<T>::to_f64(x));
    else return false;
}
template <class T> INLINE bool sort_less(T a, T b) {
    if constexpr (Info<T>::kind == KFloat) return Num<T>::to_f64(a) < Num<T>::to_f64(b);
    else return a < b;
}
// (a, ia) before (b, ib); an index of -1 is padding, after everything.
template <class T> INLINE bool before(T a, i32 ia, T b, i32 ib) {
    if (ia < 0) return false;
    if (ib < 0) return true;
    bool na = sort_nan(a), nb = sort_nan(b);
    if (na != nb) return nb;
    if (!na) {
        if (sort_less(a, b)) return true;
        if (sort_less(b, a)) return false;
    }
    return ia < ib;
}

template <class T, bool ARG> INLINE void sort_lines(const Sort& p) {
    __shared__ T v[SORT_MAX];
    __shared__ i32 ix[SORT_MAX];
    const T* in = at<T>(p.in, 0);
    const int n = (int)p.n, m = (int)p.pow2;
    for (i64 line = blockIdx.x; line < p.n_lines; line += gridDim.x) {
        const i64 ib = p.offset + offset_of<u64>((u64)line, (int)p.ndim, p.shape, p.in_strides);
        const i64 ob = offset_of<u64>((u64)line, (int)p.ndim, p.shape, p.out_strides);
        for (int k = threadIdx.x; k < m; k += blockDim.x) {
            if (k < n) { v[k] = in[ib + k * p.in_axis]; ix[k] = k; }
            else ix[k] = -1;
        }
        __syncthreads();
        for (int size = 2; size <= m; size <<= 1) {
            for (int stride = size >> 1; stride > 0; stride >>= 1) {
                for (int k = threadIdx.x; k < m; k += blockDim.x) {
                    int j = k ^ stride;
                    if (j > k) {
                        bool up = (k & size) == 0;
                        bool swap = up ? before(v[j], ix[j], v[k], ix[k]) : before(v[k], ix[k], v[j], ix[j]);
                        if (swap) {
                            T tv = v[k]; v[k] = v[j]; v[j] = tv;
                            i32 ti = ix[k]; ix[k] = ix[j]; ix[j] = ti;
                        }
                    }
                }
                __syncthreads();
            }
        }
        for (int k = threadIdx.x; k < n; k += blockDim.x) {
            if constexpr (ARG) at_mut<u32>(p.out, 0)[ob + k * p.out_axis] = (u32)ix[k];
            else at_mut<T>(p.out, 0)[ob + k * p.out_axis] = v[k];
        }
        __syncthreads();
    }
}
