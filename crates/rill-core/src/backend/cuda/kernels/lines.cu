// Ops along one axis, a line at a time: argmax/argmin, softmax, logsumexp and the scans. A line
// is the elements along the axis for one position of the other dims; one block handles a line
// (grid-stride over lines), its threads striding along it.

struct Lines {
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
    i64 flags;  // scans: 1 = reverse, 2 = inclusive
};

INLINE i64 line_in(const Lines& p, i64 m) { return p.offset + offset_of<u64>((u64)m, (int)p.ndim, p.shape, p.in_strides); }
INLINE i64 line_out(const Lines& p, i64 m) { return offset_of<u64>((u64)m, (int)p.ndim, p.shape, p.out_strides); }

// ---------------------------------------------------------------- argmax / argmin

// The better of two (value, index) candidates: NaN wins (the first NaN), then the larger (or
// smaller) value, then the smaller index: the CPU's "first occurrence" rule in any order.
template <class T, bool MAX> INLINE bool arg_better(T a, i64 ia, T b, i64 ib) {
    bool na = ext_nan(a), nb = ext_nan(b);
    if (na || nb) return na && (!nb || ia < ib);
    if (MAX ? ext_lt(b, a) : ext_lt(a, b)) return true;
    if (MAX ? ext_lt(a, b) : ext_lt(b, a)) return false;
    return ia < ib;
}

template <class T, bool MAX> INLINE void arg_lines(const Lines& p) {
    __shared__ T shv[256];
    __shared__ i64 shi[256];
    const T* in = at<T>(p.in, 0);
    for (i64 m = blockIdx.x; m < p.n_lines; m += gridDim.x) {
        const i64 base = line_in(p, m);
        T best = in[base];
        i64 bi = 0;
        for (i64 k = threadIdx.x; k < p.n; k += blockDim.x) {
            T v = in[base + k * p.in_axis];
            if (arg_better<T, MAX>(v, k, best, bi) || k == threadIdx.x) { best = v; bi = k; }
        }
        if ((i64)threadIdx.x >= p.n) bi = p.n;  // an empty slot: loses to everything
        shv[threadIdx.x] = best; shi[threadIdx.x] = bi;
        __syncthreads();
        for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) {
                T ov = shv[threadIdx.x + s]; i64 oi = shi[threadIdx.x + s];
                if (oi < p.n && (shi[threadIdx.x] >= p.n || arg_better<T, MAX>(ov, oi, shv[threadIdx.x], shi[threadIdx.x]))) {
                    shv[threadIdx.x] = ov; shi[threadIdx.x] = oi;
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) at_mut<u32>(p.out, 0)[line_out(p, m)] = (u32)shi[0];
        __syncthreads();
    }
}

// ---------------------------------------------------------------- softmax / logsumexp

template <class C> INLINE C block_max(C v) {
    __shared__ C sh[256];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = ext_max(sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    C r = sh[0];
    __syncthreads();
    return r;
}

template <class C> INLINE C block_sum(C v) {
    __shared__ C sh[256];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = sh[threadIdx.x] + sh[threadIdx.x + s];
        __syncthreads();
    }
    C r = sh[0];
    __syncthreads();
    return r;
}

template <class C> INLINE C cexp(C x);
template <> INLINE float cexp<float>(float x) { return expf(x); }
template <> INLINE double cexp<double>(double x) { return exp(x); }
template <class C> INLINE C clog(C x);
template <> INLINE float clog<float>(float x) { return logf(x); }
template <> INLINE double clog<double>(double x) { return log(x); }

// LSE = false: softmax of each line into `out` (same layout as the lines); true: logsumexp, one
// value per line.
template <class T, bool LSE> INLINE void soft_lines(const Lines& p) {
    typedef typename Real<T>::C C;
    const T* in = at<T>(p.in, 0);
    for (i64 m = blockIdx.x; m < p.n_lines; m += gridDim.x) {
        const i64 base = line_in(p, m);
        C mx = -(C)INFINITY;
        for (i64 k = threadIdx.x; k < p.n; k += blockDim.x) mx = ext_max(mx, load<T>(in[base + k * p.in_axis]));
        mx = block_max<C>(mx);
        C sum = 0;
        for (i64 k = threadIdx.x; k < p.n; k += blockDim.x) sum += cexp<C>(load<T>(in[base + k * p.in_axis]) - mx);
        sum = block_sum<C>(sum);
        if constexpr (LSE) {
            if (threadIdx.x == 0) {
                C r = (isinf(mx) || isnan(mx)) ? mx : mx + clog<C>(sum);
                at_mut<T>(p.out, 0)[line_out(p, m)] = store<T>(r);
            }
        } else {
            const i64 ob = line_out(p, m);
            C inv = (C)1 / sum;
            for (i64 k = threadIdx.x; k < p.n; k += blockDim.x)
                at_mut<T>(p.out, 0)[ob + k * p.out_axis] = store<T>(cexp<C>(load<T>(in[base + k * p.in_axis]) - mx) * inv);
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------- scans

template <class R, class IN, class OUT> INLINE void scan_lines(const Lines& p) {
    typedef typename R::A A;
    __shared__ A sh[256];
    const bool reverse = p.flags & 1, inclusive = p.flags & 2;
    const IN* in = at<IN>(p.in, 0);
    OUT* out = at_mut<OUT>(p.out, 0);
    const unsigned t = threadIdx.x;
    for (i64 m = blockIdx.x; m < p.n_lines; m += gridDim.x) {
        const i64 ib = line_in(p, m), ob = line_out(p, m);
        A carry = R::init();
        for (i64 tile = 0; tile < p.n; tile += blockDim.x) {
            const i64 k = tile + t;
            const i64 pos = reverse ? p.n - 1 - k : k;
            sh[t] = k < p.n ? R::load(in[ib + pos * p.in_axis]) : R::init();
            __syncthreads();
            for (unsigned off = 1; off < blockDim.x; off <<= 1) {
                A prev = t >= off ? sh[t - off] : R::init();
                __syncthreads();
                if (t >= off) sh[t] = R::combine(prev, sh[t]);
                __syncthreads();
            }
            if (k < p.n) {
                A v = inclusive ? R::combine(carry, sh[t]) : (t == 0 ? carry : R::combine(carry, sh[t - 1]));
                out[ob + pos * p.out_axis] = R::finish(v);
            }
            A total = sh[blockDim.x - 1];
            __syncthreads();
            carry = R::combine(carry, total);
        }
    }
}
