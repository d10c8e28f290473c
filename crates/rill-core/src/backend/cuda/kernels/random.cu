// Random bits: threefry2x32 with 20 rounds in counter mode, laid out as the CPU's
// (backend/cpu/random.rs) so a key gives the same bits on every device: for n words and
// h = ceil(n / 2), pair i encrypts the counters (i, h + i) and gives words i and h + i (when
// h + i < n; the last counter of an odd n is 0 instead).

struct Rand {
    u64 out;
    u64 key;
    i64 n;
    i64 key_offset;
    i64 key_stride;
};

INLINE u32 rotl(u32 x, u32 r) { return (x << r) | (x >> (32 - r)); }

INLINE void threefry(u32 k0, u32 k1, u32 c0, u32 c1, u32& o0, u32& o1) {
    const u32 ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
    const u32 rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
    u32 x0 = c0 + ks[0], x1 = c1 + ks[1];
#pragma unroll
    for (u32 g = 0; g < 5; ++g) {
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            x0 += x1;
            x1 = rotl(x1, rot[g % 2][r]) ^ x0;
        }
        x0 += ks[(g + 1) % 3];
        x1 += ks[(g + 2) % 3] + g + 1;
    }
    o0 = x0;
    o1 = x1;
}

extern "C" __global__ void k_bits(const Rand p) {
    const u32* key = at<u32>(p.key, p.key_offset);
    const u32 k0 = key[0], k1 = key[p.key_stride];
    u32* out = at_mut<u32>(p.out, 0);
    const i64 h = (p.n + 1) / 2;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < h; i += (i64)gridDim.x * blockDim.x) {
        const bool second = h + i < p.n;
        u32 a, b;
        threefry(k0, k1, (u32)i, second ? (u32)(h + i) : 0u, a, b);
        out[i] = a;
        if (second) out[h + i] = b;
    }
}
