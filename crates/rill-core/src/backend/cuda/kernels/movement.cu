// Data movement: fills, strided copies, and the indexing kernels (take, take_along_axis,
// put_along_axis). Elements are moved as opaque words of their size (`W`: u8, u16, u32, u64, or
// a 16-byte pair), so one module per size serves every dtype. Index arrays are read as `IX`.

struct Move {
    u64 dst;
    u64 src;
    u64 idx;
    u64 flag;        // u32 on the device: set to 1 when an index is out of range
    i64 n;           // elements to write
    i64 ndim;
    i64 shape[MAXD];        // the iteration space, row-major
    i64 src_strides[MAXD];
    i64 dst_strides[MAXD];
    i64 idx_strides[MAXD];
    i64 src_offset;
    i64 dst_offset;
    i64 idx_offset;
    i64 axis;        // the dim of the iteration space the index replaces
    i64 axis_len;    // the size of the indexed axis of the source (or destination)
    i64 axis_stride; // its stride
    u64 bits[2];     // a fill value
    // take: the iteration space is pre ++ idx ++ post; `idx_ndim` dims in the middle are the
    // index's own, starting at `axis`.
    i64 idx_ndim;
};

struct W16 { u64 a, b; };

template <class W, class I> INLINE void fill(const Move& p) {
    W v = *reinterpret_cast<const W*>(p.bits);
    W* d = at_mut<W>(p.dst, 0);
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) d[i] = v;
}

template <class W, class I> INLINE void copy_strided(const Move& p) {
    const W* s = at<W>(p.src, p.src_offset);
    W* d = at_mut<W>(p.dst, p.dst_offset);
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x)
        d[offset_of<I>(i, nd, p.shape, p.dst_strides)] = s[offset_of<I>(i, nd, p.shape, p.src_strides)];
}

// An index value checked against `len` (negative counts from the end); -1 when out of range.
template <class IX> INLINE i64 checked(IX v, i64 len) {
    i64 x;
    if constexpr (Info<IX>::kind == KUnsigned) {
        if ((u64)v >= (u64)len) return -1;
        x = (i64)v;
    } else {
        x = (i64)v;
        if (x < 0) x += len;
        if (x < 0 || x >= len) return -1;
    }
    return x;
}

// take: the iteration space is a's dims before `axis`, then the index's dims, then a's dims after
// `axis`. `shape`/`src_strides` hold the whole space (the index dims with src stride 0),
// `idx_strides` the index's strides at the index dims (0 elsewhere). Output contiguous.
template <class W, class IX, class I> INLINE void take(const Move& p) {
    const W* s = at<W>(p.src, p.src_offset);
    const IX* ix = at<IX>(p.idx, p.idx_offset);
    W* d = at_mut<W>(p.dst, 0);
    u32* flag = at_mut<u32>(p.flag, 0);
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) {
        i64 k = checked<IX>(ix[offset_of<I>(i, nd, p.shape, p.idx_strides)], p.axis_len);
        if (k < 0) { *flag = 1; continue; }
        d[i] = s[offset_of<I>(i, nd, p.shape, p.src_strides) + k * p.axis_stride];
    }
}

// take_along_axis: the iteration space is the output's; the source is read at the same position
// with dim `axis` replaced by the index (`src_strides[axis]` is 0).
template <class W, class IX, class I> INLINE void take_along(const Move& p) {
    const W* s = at<W>(p.src, p.src_offset);
    const IX* ix = at<IX>(p.idx, p.idx_offset);
    W* d = at_mut<W>(p.dst, 0);
    u32* flag = at_mut<u32>(p.flag, 0);
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) {
        i64 k = checked<IX>(ix[offset_of<I>(i, nd, p.shape, p.idx_strides)], p.axis_len);
        if (k < 0) { *flag = 1; continue; }
        d[i] = s[offset_of<I>(i, nd, p.shape, p.src_strides) + k * p.axis_stride];
    }
}

// put_along_axis, pass 1: for every update position (the index's space), the destination element
// it targets records the last (largest) update position that writes it, so repeated indices keep
// the last write, as the CPU's row-major loop does. `dst` here is the u64 winners array.
template <class IX, class I> INLINE void put_winners(const Move& p) {
    const IX* ix = at<IX>(p.idx, p.idx_offset);
    u64* win = at_mut<u64>(p.flag, 0) + 1;
    u32* flag = at_mut<u32>(p.flag, 0);
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) {
        i64 k = checked<IX>(ix[offset_of<I>(i, nd, p.shape, p.idx_strides)], p.axis_len);
        if (k < 0) { *flag = 1; continue; }
        i64 t = offset_of<I>(i, nd, p.shape, p.dst_strides) + k * p.axis_stride;
        atomicMax(reinterpret_cast<unsigned long long*>(win + t), (unsigned long long)i + 1);
    }
}

// Pass 2: the winning update of each destination writes its value.
template <class W, class IX, class I> INLINE void put_write(const Move& p) {
    const W* s = at<W>(p.src, p.src_offset);
    const IX* ix = at<IX>(p.idx, p.idx_offset);
    W* d = at_mut<W>(p.dst, 0);
    const u64* win = at<u64>(p.flag, 0) + 1;
    const int nd = (int)p.ndim;
    for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)p.n; i += (I)gridDim.x * blockDim.x) {
        i64 k = checked<IX>(ix[offset_of<I>(i, nd, p.shape, p.idx_strides)], p.axis_len);
        if (k < 0) continue;
        i64 t = offset_of<I>(i, nd, p.shape, p.dst_strides) + k * p.axis_stride;
        if (win[t] == (u64)i + 1) d[t] = s[offset_of<I>(i, nd, p.shape, p.src_strides)];
    }
}
