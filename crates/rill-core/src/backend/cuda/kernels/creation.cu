// arange and eye (full is movement.cu's fill). Element i of arange is `start + i * step` in f64,
// converted as the CPU converts (`Num::from_f64`); the products and sums are explicitly rounded so
// no fused multiply-add changes a value.

struct Create {
    u64 out;
    i64 n;
    double start;
    double step;
    i64 cols;
    i64 k;
};

template <class T, class I> INLINE void arange(const Create& p) {
    T* o = at_mut<T>(p.out, 0);
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x)
        o[i] = Num<T>::from_f64(__dadd_rn(p.start, __dmul_rn((double)i, p.step)));
}

template <class T, class I> INLINE void eye(const Create& p) {
    T* o = at_mut<T>(p.out, 0);
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) {
        i64 r = (i64)(i / (I)p.cols), c = (i64)(i % (I)p.cols);
        o[i] = Num<T>::from_u64(c == r + p.k ? 1 : 0);
    }
}
